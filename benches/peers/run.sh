#!/usr/bin/env bash
# chansearch side by side with its peers on the same corpus and the same queries.
#
#   benches/peers/run.sh POSTS            full run: chansearch, bare Tantivy, PostgreSQL, Lucene;
#                                         the table is recorded in benches/RESULTS.md
#   benches/peers/run.sh POSTS --smoke    CI: chansearch, bare Tantivy, PostgreSQL (skipped with
#                                         a message when it cannot start), 2 s per load step;
#                                         prints the table, records nothing
#
# Work files live in target/peers-POSTS/ (the corpus and prepared inputs are reused by later
# runs). Per engine: index (wall time), size on disk, every query once one at a time (p50,
# p99), then closed loops of PEERS_CLIENTS clients (default 1,2,4) for PEERS_SECONDS each
# (default 10; 2 with --smoke). PEERS_PROFILE=dev builds and runs the debug binaries instead
# of release (for CI, to share the test build; the figures are then meaningless). What each
# engine does and where their analysis differs: benches/RESULTS.md, section "Peers".
# Needs: cargo, awk; for PostgreSQL its server and psql (and runuser when run as root); for
# Lucene liblucene8-java and a JDK.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

posts=${1:?usage: benches/peers/run.sh POSTS [--smoke]}
smoke=0
[[ ${2:-} == --smoke ]] && smoke=1
seconds=${PEERS_SECONDS:-$([[ $smoke == 1 ]] && echo 2 || echo 10)}
clients=${PEERS_CLIENTS:-1,2,4}
work=$root/target/peers-$posts
results=$work/results
logs=$work/logs
profile=${PEERS_PROFILE:-release}
bin=$root/target/$([[ $profile == dev ]] && echo debug || echo "$profile")
command="benches/peers/run.sh $*"

log() { echo "== peers: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# A number field of a one-line JSON object (the indexer's summary and stats are flat).
field() { grep -o "\"$1\":[0-9.]*" | head -n1 | cut -d: -f2; }

server_pid=
pg_dir=
pg_ctl=
as_pg=()
cleanup() {
    if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    if [[ -n $pg_dir ]]; then
        "${as_pg[@]}" "$pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
    fi
}
trap cleanup EXIT

log "building"
# One invocation: building these packages apart would resolve features apart and build the
# shared crates twice.
cargo build --profile "$profile" --locked -q -p fixtures -p indexer -p search-api -p benches --bins
mkdir -p "$work" "$logs"
rm -rf "$results"
mkdir -p "$results"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# 1. Inputs shared by every engine.
if [[ ! -s $work/corpus.ndjson ]]; then
    log "generating $posts posts"
    "$bin/fixtures" gen --posts "$posts" --seed 1 --out "$work/corpus.tmp" 2>"$logs/gen.log"
    mv "$work/corpus.tmp" "$work/corpus.ndjson"
fi
if [[ ! -s $work/queries.txt || $work/queries.txt -ot $work/corpus.ndjson ]]; then
    "$bin/peers" prep --corpus "$work/corpus.ndjson" --out "$work"
fi
measure=(--queries "$work/queries.txt" --clients "$clients" --seconds "$seconds")

# 2. chansearch: the indexer CLI, then the real HTTP service.
log "chansearch: indexing"
rm -rf "$work/chansearch"
t=$(now)
"$bin/indexer" ingest --data "$work/chansearch" "$work/corpus.ndjson" >"$logs/ingest.out" 2>"$logs/ingest.log"
index_s=$(since "$t")
docs=$(tail -n1 "$logs/ingest.out" | field indexed)
size=$("$bin/indexer" stats --data "$work/chansearch" | field size_bytes)
export CHANSEARCH_SECRET=peers-bench-secret-0123456789
# The per-user rate limit would otherwise answer most of the load with 429.
printf '[limits]\nrate_per_second = 1000000\nrate_burst = 1000000\nmax_concurrent = 4096\n' >"$work/search-api.toml"
port=$("$bin/peers" free-port)
"$bin/search-api" --config "$work/search-api.toml" serve --data "$work/chansearch" \
    --listen "127.0.0.1:$port" 2>"$logs/search-api.log" &
server_pid=$!
"$bin/peers" wait "http://127.0.0.1:$port/readyz"
token=$("$bin/search-api" token --sub peers --tier premium)
log "chansearch: querying over HTTP"
"$bin/peers" http --url "http://127.0.0.1:$port" --token "$token" --docs "$docs" \
    --index-s "$index_s" --size-bytes "$size" "${measure[@]}" --out "$results/chansearch.json"
kill "$server_pid"
wait "$server_pid" || true
server_pid=

# 3. Bare Tantivy, in-process.
log "bare tantivy"
"$bin/peers" tantivy --corpus "$work/corpus.ndjson" --dir "$work/tantivy" "${measure[@]}" \
    --out "$results/tantivy.json"

# 4. PostgreSQL: a throwaway cluster on a free local port.
start_postgres() {
    local initdb
    initdb=$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1)
    [[ -x $initdb ]] || { log "postgres: no initdb (apt-get install postgresql)"; return 1; }
    pg_ctl=$(dirname "$(readlink -f "$initdb")")/pg_ctl
    pg_dir=$(mktemp -d /tmp/chansearch-peers-pg.XXXXXX)
    if [[ $(id -u) == 0 ]]; then
        # initdb refuses to run as root: the cluster belongs to the postgres user.
        id postgres >/dev/null 2>&1 || { log "postgres: running as root and no postgres user"; return 1; }
        chown postgres "$pg_dir"
        as_pg=(runuser -u postgres --)
    fi
    pg_port=$("$bin/peers" free-port)
    "${as_pg[@]}" "$initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$logs/initdb.log" 2>&1 || { log "postgres: initdb failed, see $logs/initdb.log"; return 1; }
    # Tuned as for a dedicated search box on this machine; jit off (it only adds compile time
    # to these queries), work_mem large enough that big bitmaps stay exact.
    "${as_pg[@]}" "$pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 -o "-p $pg_port \
        -k $pg_dir -c listen_addresses=127.0.0.1 -c shared_buffers=2GB -c work_mem=64MB \
        -c maintenance_work_mem=1GB -c effective_cache_size=8GB -c random_page_cost=1.1 \
        -c jit=off -c wal_level=minimal -c max_wal_senders=0" start >"$logs/pg_ctl.log" 2>&1 \
        || { cp "$pg_dir/server.log" "$logs/postgres.log" 2>/dev/null; log "postgres: did not start, see $logs/postgres.log"; return 1; }
}
if start_postgres; then
    psql=(psql -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    log "postgres: loading and indexing"
    t=$(now)
    sed "s|@TSV@|$work/posts.tsv|" benches/peers/postgres.sql | "${psql[@]}" >"$logs/postgres-load.log"
    index_s=$(since "$t")
    size=$("${psql[@]}" -Atc "SELECT pg_total_relation_size('posts')")
    docs=$("${psql[@]}" -Atc "SELECT count(*) FROM posts")
    pg_version=$("${psql[@]}" -Atc "SHOW server_version")
    log "postgres: querying"
    "$bin/peers" postgres --conn "host=127.0.0.1 port=$pg_port user=postgres dbname=postgres" \
        --docs "$docs" --index-s "$index_s" --size-bytes "$size" "${measure[@]}" \
        --out "$results/postgres.json"
    "${as_pg[@]}" "$pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null
    rm -rf "$pg_dir"
    pg_dir=
else
    log "postgres: SKIPPED (see the message above)"
    pg_version="not run"
fi

# 5. Lucene, through the Java harness (full runs only).
lucene_version="not run"
if [[ $smoke == 0 ]]; then
    jars=$(ls /usr/share/java/lucene-core-[0-9]*.jar /usr/share/java/lucene-analyzers-common-[0-9]*.jar 2>/dev/null | tr '\n' ':')
    if [[ -n $jars ]] && command -v javac >/dev/null; then
        lucene_version=$(basename "$(ls /usr/share/java/lucene-core-[0-9]*.jar | head -n1)" .jar)
        log "lucene ($lucene_version)"
        rm -rf "$work/lucene-classes"
        javac -d "$work/lucene-classes" -cp "$jars" benches/peers/lucene/LuceneBench.java
        java -Xms2g -Xmx2g -cp "$work/lucene-classes:$jars" LuceneBench "$work/posts.tsv" \
            "$work/lucene" "$work/queries.txt" "$clients" "$seconds" "$results/lucene.json"
    else
        log "lucene: SKIPPED (apt-get install liblucene8-java and a JDK)"
    fi
fi

# 6. The table.
"$bin/peers" table "$results" >"$work/table.md"
{
    echo
    echo "$posts posts, $(wc -l <"$work/queries.txt") queries, closed loops of $clients clients x ${seconds} s;"
    echo "PostgreSQL $pg_version, Lucene $lucene_version; load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)."
} >>"$work/table.md"
cat "$work/table.md"

if [[ $smoke == 0 ]]; then
    # Newest run first, right under the marker line of the "Peers" section.
    block=$work/record.md
    { echo "#### $(date +%F): \`$command\`"; echo; cat "$work/table.md"; echo; } >"$block"
    marker='<!-- peers runs: newest first, inserted by benches/peers/run.sh -->'
    grep -qF "$marker" benches/RESULTS.md || { log "no marker in benches/RESULTS.md, not recorded"; exit 0; }
    awk -v marker="$marker" -v block="$block" '
        { print }
        $0 == marker { print ""; while ((getline line < block) > 0) print line }
    ' benches/RESULTS.md >"$work/RESULTS.md.new"
    mv "$work/RESULTS.md.new" benches/RESULTS.md
    log "recorded in benches/RESULTS.md"
fi
