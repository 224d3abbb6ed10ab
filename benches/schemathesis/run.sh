#!/usr/bin/env bash
# API fuzzing: schemathesis against the OpenAPI document of a running `search-api serve`.
#
#   benches/schemathesis/run.sh                  debug build
#   FUZZ_RELEASE=1 benches/schemathesis/run.sh   release build
#   FUZZ_EXAMPLES=N (default 50: test cases per operation and phase), FUZZ_SEED=S (default 1),
#   FUZZ_POSTS=N (default 2000)
#
# What it does: installs a pinned schemathesis into a venv under target/ (once), builds the
# server, starts it on a free local port with a throwaway data directory, a random secret and
# the example rules (fixtures/data/rules.json), waits for /readyz, ingests FUZZ_POSTS
# generated posts through POST /v1/ingest, then runs schemathesis three times against
# GET /openapi.json:
#   1. every operation with a moderator token (the moderator role may call every route but
#      ingest, which then must answer 403 as documented);
#   2. GET /v1/search with a premium user token (the user role: the real search path);
#   3. POST /v1/ingest with an ingest token (random NDJSON bodies; hooks.py sends them).
# Checks: all of them (server errors, status codes, content types, response headers and
# schemas, negative data rejected, positive data accepted, auth not ignored, ...);
# schemathesis.toml (beside this script) adjusts two of them on a few operations and says
# why. The run fails (exit non-zero) on any failure or error, or a panic in the server log;
# the server is always stopped. Work files: target/schemathesis/ (server log,
# schemathesis reports in JUnit XML and a per-run log).
#
# Needs: cargo, python3.11 (or FUZZ_PYTHON) with venv and pip, curl; PyPI reachable the first
# time. On 2 cores: about 50 s of schemathesis (FUZZ_EXAMPLES=100: 95 s), 1.5 minutes for
# the script with a warm build, plus about 30 s for the first install.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/benches/schemathesis

st_version=4.32.5
examples=${FUZZ_EXAMPLES:-50}
posts=${FUZZ_POSTS:-2000}
seed=${FUZZ_SEED:-1}
python=${FUZZ_PYTHON:-python3.11}
work=$root/target/schemathesis
venv=$root/target/schemathesis-venv
target_dir=${CARGO_TARGET_DIR:-$root/target}
if [[ ${FUZZ_RELEASE:-0} == 1 ]]; then
    profile=(--release)
    bin=$target_dir/release
else
    profile=()
    bin=$target_dir/debug
fi

log() { echo "== schemathesis: $*" >&2; }

server_pid=
data=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n $data ]]; then rm -rf "$data"; fi
}
trap cleanup EXIT

# 1. schemathesis, pinned, in its own venv.
if [[ ! -x $venv/bin/st ]] || [[ $("$venv/bin/st" --version 2>/dev/null) != *" $st_version" ]]; then
    log "installing schemathesis $st_version into $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$st_version"
fi
"$venv/bin/st" --version >&2

# 2. The server and the corpus generator, copied out of the target dir at once.
# A target dir outside the repo (CARGO_TARGET_DIR) may be shared with other work trees of
# it, and cargo names a workspace crate's artifacts alike in every tree: after another
# tree's build, this tree's sources (older files) look built, and its "fresh" build would
# leave the other tree's crates and binaries in place. Touching this tree's sources makes
# cargo build them (a minute or two for the workspace's crates).
if [[ $(realpath -m "$target_dir") != "$root"/* ]]; then
    git ls-files -z '*.rs' | xargs -0 touch
fi
log "building"
cargo build "${profile[@]}" --locked -q -p search-api -p fixtures --bins
mkdir -p "$work/bin"
cp "$bin/search-api" "$bin/fixtures" "$work/bin/"
bin=$work/bin

# 3. A throwaway server on a free port.
rm -rf "$work/reports"
data=$(mktemp -d "$work/data.XXXXXX")
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export CHANSEARCH_SECRET
CHANSEARCH_SECRET=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
# The per-user rate limit (10/s by default) would answer most of the fuzzer's searches with a
# 429 before they reach the query parser; raised here so the examples exercise search itself.
# 429 stays documented and is still accepted where it happens.
cat >"$data/config.toml" <<EOF
[limits]
rate_per_second = 100000
rate_burst = 100000
EOF
"$bin/search-api" --config "$data/config.toml" serve --data "$data/index" \
    --listen "127.0.0.1:$port" --rules fixtures/data/rules.json >"$work/server.log" 2>&1 &
server_pid=$!
token() { "$bin/search-api" token --sub "$1" --tier "$2" --role "$3" --ttl 2h; }
moderator=$(token fuzz-moderator premium moderator)
ingest=$(token fuzz-ingest premium ingest)
premium=$(token fuzz-user premium user)

log "waiting for $base/readyz"
for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$base/readyz" 2>/dev/null; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        tail -n 20 "$work/server.log" >&2
        log "the server exited"
        exit 1
    fi
    sleep 0.2
done
curl -fsS -o /dev/null "$base/readyz"

log "ingesting $posts posts"
"$bin/fixtures" gen --posts "$posts" --seed "$seed" 2>/dev/null |
    curl -fsS -X POST -H "Authorization: Bearer $ingest" -H 'Content-Type: application/x-ndjson' \
        --data-binary @- "$base/v1/ingest" >"$work/ingest.json"
log "ingest: $(head -c 200 "$work/ingest.json")"

# A post held for review (by a review rule of rules.json), for the review decision's path.
held=$(curl -fsS -H "Authorization: Bearer $moderator" "$base/v1/review?limit=1" |
    "$python" -c 'import json, sys
items = json.load(sys.stdin)["items"]
if items:
    print(items[0]["post"]["channel_id"], items[0]["post"]["post_id"])')
if [[ -z $held ]]; then
    log "no post is held for review: the review decision is fuzzed on unknown posts (404)"
    held="1 1"
fi
read -r FUZZ_HELD_CHANNEL FUZZ_HELD_POST <<<"$held"
export FUZZ_HELD_CHANNEL FUZZ_HELD_POST
log "held for review: post $FUZZ_HELD_CHANNEL/$FUZZ_HELD_POST"

# 4. schemathesis. No --checks: every check is on by default (server errors, status codes,
# content types, response headers and schemas, negative data rejected, positive data
# accepted, missing required headers, unsupported methods, Allow headers, use after free,
# resource availability, ignored auth, object-level authorization), and schemathesis.toml
# adjusts two of them on a few operations, each with its reason; `--checks all` would
# override those adjustments. No check is turned off for the whole API.

status=0
summary=()
run() {
    local name=$1
    shift
    log "run $name"
    local started=$SECONDS rc=0
    # From the work directory: schemathesis keeps its cache (.schemathesis/) where it runs.
    (cd "$work" && SCHEMATHESIS_HOOKS=$here/hooks.py "$venv/bin/st" \
        --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
        --max-examples "$examples" --seed "$seed" --workers 2 \
        --request-timeout 30 --no-color \
        --report junit --report-dir "$work/reports" --report-junit-path "$work/reports/$name.xml" \
        "$@") 2>&1 | tee "$work/$name.log" || rc=$?
    # Its closing lines: operations tested, test cases, and the tally ("N passed in Ts",
    # "N failures, N errors in Ts").
    local tested cases tally
    tested=$(grep -E '^ +Tested: ' "$work/$name.log" | tail -n1 | sed 's/^ *Tested: *//')
    cases=$(grep -A1 '^Test cases:' "$work/$name.log" | tail -n1 | sed 's/^ *//')
    tally=$(tail -n1 "$work/$name.log" | tr -d '=' | sed 's/^ *//; s/ *$//')
    summary+=("$name: $tested operations; $cases; $tally (exit $rc, $((SECONDS - started)) s)")
    if [[ $rc != 0 ]]; then status=1; fi
}
run moderator -H "Authorization: Bearer $moderator"
run search-premium -H "Authorization: Bearer $premium" --include-path /v1/search
run ingest -H "Authorization: Bearer $ingest" --include-path /v1/ingest

if ! kill -0 "$server_pid" 2>/dev/null; then
    log "the server died during the run"
    status=1
fi
if grep -q 'handler panicked\|panicked at' "$work/server.log"; then
    log "the server log shows a panic"
    status=1
fi

echo
echo "schemathesis $st_version, $examples examples per operation, seed $seed, $posts posts:"
for line in "${summary[@]}"; do echo "  $line"; done
if [[ $status == 0 ]]; then
    echo "PASS: no failures (logs and JUnit reports in target/schemathesis/)"
else
    echo "FAIL: see target/schemathesis/*.log and the server log target/schemathesis/server.log"
fi
exit "$status"
