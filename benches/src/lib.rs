//! chansearch's benchmarks. Each bench is a `harness = false` program under `benches/` that
//! prints its figures and a ratio measured side by side in the same run (this machine is shared
//! and noisy: only same-run ratios are comparable). Figures are recorded in `RESULTS.md`.
//!
//! - `index_pipeline`: the full ingest pipeline against bare Tantivy on the same posts
//!   (`cargo bench -p benches --bench index_pipeline`).
//!
//! This library holds what several benches share.

pub mod bare;
