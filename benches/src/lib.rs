//! chansearch's benchmarks. Each bench is a `harness = false` program under `benches/` that
//! prints its figures and a ratio measured side by side in the same run (this machine is shared
//! and noisy: only same-run ratios are comparable). Figures are recorded in `RESULTS.md`.
//!
//! - `index_pipeline`: the full ingest pipeline against bare Tantivy on the same posts
//!   (`cargo bench -p benches --bench index_pipeline`).
//!
//! This library holds what several benches share.

pub mod bare;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A generated corpus of `posts` posts indexed by the full pipeline (no rules), built once
/// under `target/bench-data/index-v2-POSTS/` and reused by later runs and other benches.
/// `v2`: the schema with the `norm` field; an older index is not reused.
pub fn corpus_index(posts: u64) -> anyhow::Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let data = root.join(format!("target/bench-data/index-v2-{posts}"));
    if data.join("ready").exists() {
        return Ok(data);
    }
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    std::fs::create_dir_all(&data)?;
    eprintln!("building a {posts}-post index in {}", data.display());
    let corpus = data.join("corpus.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&corpus)?);
    fixtures::generate(
        &fixtures::GenConfig {
            posts,
            seed: 1,
            ..Default::default()
        },
        &mut out,
        None,
    )?;
    drop(out);
    // The rules database goes with the index, as the server expects.
    moderation::Store::open(&data)?;
    let summary = indexer::ingest::ingest(
        &indexer::ingest::IngestOptions::new(&data),
        &[indexer::ingest::Source::File(corpus)],
        Arc::new(filters::NoRules),
    )?;
    eprintln!(
        "indexed {} posts in {:.1}s",
        summary.indexed, summary.elapsed_s
    );
    std::fs::write(data.join("ready"), "ok")?;
    Ok(data)
}
