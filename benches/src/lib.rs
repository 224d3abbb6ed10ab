//! chansearch's benchmarks. Each bench is a `harness = false` program under `benches/` that
//! prints its figures and a ratio measured side by side in the same run (this machine is shared
//! and noisy: only same-run ratios are comparable). Figures are recorded in `RESULTS.md`.
//!
//! - `index_pipeline`: the full ingest pipeline against bare Tantivy on the same posts
//!   (`cargo bench -p benches --bench index_pipeline`).
//! - `search_latency`: HTTP vs engine vs bare Tantivy, one query at a time.
//! - the `peers` binary with `peers/run.sh`: chansearch against bare Tantivy, PostgreSQL
//!   full-text search and Lucene on one corpus and one query set ([`peers`]).
//!
//! This library holds what several benches share: the bare Tantivy indexer ([`bare`]), query
//! sets drawn from a corpus ([`queries`]) and the peer measurement and table ([`peers`]).

pub mod bare;
pub mod peers;
pub mod queries;
