//! chansearch's benchmarks. Each bench is a `harness = false` program under `benches/` that
//! prints its figures and a ratio measured side by side in the same run (this machine is shared
//! and noisy: only same-run ratios are comparable). Figures are recorded in `RESULTS.md`.
//!
//! - `index_pipeline`: the full ingest pipeline against bare Tantivy on the same posts
//!   (`cargo bench -p benches --bench index_pipeline`).
//! - `search_latency`: HTTP vs the engine vs bare Tantivy, one query at a time.
//! - `micro` and `pipeline`: criterion benches of the parts (normalization, rule matching,
//!   classifiers, language detection, document preparation, indexing, query latency per
//!   query kind).
//! - `takedown`: rule-to-effect latency of takedowns on indexed posts.
//! - the `peers` binary with `peers/run.sh`: chansearch against bare Tantivy, PostgreSQL
//!   full-text search and Lucene on one corpus and one query set ([`peers`]).
//!
//! The `loadbench` binary ([`loadbench`]) puts load on a running server
//! (`cargo run --release -p benches --bin loadbench -- --help`).
//!
//! This library holds what several benches share (the bare Tantivy indexer [`bare`], bench
//! data [`data`], query sets drawn from a corpus [`queries`], the peer measurement [`peers`]),
//! and loadbench's code (a library module behind a thin `main`, so its parts are unit tested).

pub mod bare;
pub mod data;
pub mod fuzz;
pub mod loadbench;
pub mod peers;
pub mod queries;
