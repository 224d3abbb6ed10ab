#!/usr/bin/env bash
# Overload: does the server stay quick and bounded at twice the rate it can sustain?
#
#   benches/overload/run.sh [POSTS]      (default 100000; OVERLOAD_SECONDS, default 60)
#
# 1. Builds (release) and indexes POSTS generated posts into target/overload-POSTS/ (reused).
# 2. Starts `search-api serve` there on a free port, with per-user rate limits out of the way
#    (the point is the server's own admission control: `max_concurrent`, load shedding, 503).
# 3. Ramps an open-loop load until p99 passes the SLO (50 ms): R = highest rate that held.
# 4. Runs 2R for OVERLOAD_SECONDS while sampling the server's RSS every second.
# 5. Waits 2 s, then runs R/2 for 10 s: back to normal?
# Prints a summary; JSON results, SVG charts and the RSS series stay in the work directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
posts=${1:-100000}
seconds=${OVERLOAD_SECONDS:-60}
slo=50
work=$root/target/overload-$posts
bin=$root/target/release
secret=overload-secret-0123456789abcdef
log() { echo "== overload: $*" >&2; }

log "building"
cargo build --release --locked -q -p fixtures -p indexer -p search-api -p benches --bins
mkdir -p "$work"
if [[ ! -s $work/corpus.ndjson ]]; then
    log "generating $posts posts"
    "$bin/fixtures" gen --posts "$posts" --seed 3 --out "$work/corpus.tmp" 2>/dev/null
    mv "$work/corpus.tmp" "$work/corpus.ndjson"
fi
if [[ ! -e $work/data/index/meta.json ]]; then
    log "indexing"
    "$bin/indexer" ingest --quiet --data "$work/data" "$work/corpus.ndjson" >/dev/null
fi
cat >"$work/config.toml" <<EOF
[limits]
rate_per_second = 1000000
rate_burst = 1000000
EOF

port=$("$bin/peers" free-port)
url=http://127.0.0.1:$port
CHANSEARCH_SECRET=$secret "$bin/search-api" --config "$work/config.toml" serve \
    --data "$work/data" --listen "127.0.0.1:$port" 2>"$work/server.log" &
server=$!
sampler=
cleanup() {
    [[ -n $sampler ]] && kill "$sampler" 2>/dev/null || true
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 600); do
    curl -sf "$url/readyz" >/dev/null && break
    sleep 0.1
done
curl -sf "$url/readyz" >/dev/null || { log "the server did not start: $work/server.log"; exit 1; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$server/status"; }

load=("$bin/loadbench" --url "$url" --secret "$secret" --users 500 --corpus "$work/corpus.ndjson"
    --timeout-ms 5000 --quiet)
log "warm-up and ramp to the SLO (p99 <= $slo ms)"
"${load[@]}" --rate 100 --duration 5 >/dev/null
"${load[@]}" --ramp --ramp-start 100 --ramp-step 100 --step-duration 5 --slo-p99-ms "$slo" \
    --out "$work/ramp.json" >/dev/null
sustained=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['ramp']['max_held_rps']; print(int(r or 0))" "$work/ramp.json")
[[ $sustained -gt 0 ]] || { log "no ramp step held the SLO"; exit 1; }
over=$((sustained * 2))

rss_before=$(rss)
: >"$work/rss.txt"
( while kill -0 "$server" 2>/dev/null; do echo "$(date +%s) $(rss)" >>"$work/rss.txt"; sleep 1; done ) &
sampler=$!
log "overload: $over/s (2 x $sustained) for $seconds s"
"${load[@]}" --rate "$over" --duration "$seconds" --out "$work/overload.json" \
    --chart "$work/overload.svg" >/dev/null
rss_after=$(rss)
sleep 2
log "recovery: $((sustained / 2))/s for 10 s"
"${load[@]}" --rate "$((sustained / 2))" --duration 10 --out "$work/after.json" >/dev/null
kill "$sampler" 2>/dev/null || true
sampler=

python3 - "$work" "$sustained" "$over" "$rss_before" "$rss_after" "$slo" <<'PY'
import json, sys
work, sustained, over, before, after, slo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
o = json.load(open(f"{work}/overload.json"))["summary"]
a = json.load(open(f"{work}/after.json"))["summary"]
rss = [int(l.split()[1]) for l in open(f"{work}/rss.txt") if len(l.split()) == 2 and l.split()[1].isdigit()]
print(f"sustained (p99 <= {slo:.0f} ms): {sustained}/s; overload offered {over}/s")
print(f"overload: requests {o['requests']}, answered {o['achieved_rps']:.0f}/s, p50 {o['p50_ms']:.1f} ms, "
      f"p99 {o['p99_ms']:.1f} ms, max {o['max_ms']:.0f} ms, errors {o['errors']}")
print(f"server RSS: {before/1024:.0f} MiB before, max {max(rss)/1024:.0f} MiB during, {after/1024:.0f} MiB after")
print(f"recovery at {sustained//2}/s: p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms, errors {a['errors']}")
PY
