#!/bin/sh
# Rebuilds the default models, deterministically (same data, same bytes). Run from the
# repository root with shared/ beside it (or CHANSEARCH_DATA set). `--eval` also prints the
# figures of benches/RESULTS.md ("Classifiers").
#
# The generated corpora are fixed: seed 1 trains, seed 2 is held out for false positives and
# recall; neither is the seed of fixtures/data/sample.ndjson (42).
set -eu
DATA=${CHANSEARCH_DATA:-../shared/data}
GEN=target/classify-data
mkdir -p "$GEN"
cargo run -q --release -p fixtures -- gen --posts 40000 --seed 1 --with-lang --out "$GEN/train.ndjson"
cargo run -q --release -p fixtures -- gen --posts 40000 --seed 2 --with-lang --out "$GEN/heldout.ndjson"
cargo run -q --release -p filters -- train --data "$DATA" --generated "$GEN/train.ndjson" --out filters/models
if [ "${1:-}" = "--eval" ]; then
    cargo run -q --release -p filters -- eval --data "$DATA" --generated "$GEN/train.ndjson" \
        --held-out "$GEN/heldout.ndjson"
fi
