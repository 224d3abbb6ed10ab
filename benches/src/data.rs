//! Bench data kept between runs: generated corpora and their indexes under
//! `target/bench-data/index-v2-POSTS/` (`corpus.ndjson`, the service's data directory, and a
//! `ready` marker written last, so an interrupted build is redone rather than reused).

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `target/bench-data/index-v2-{posts}` of this workspace (`v2`: the schema with the
/// `norm` field; older indexes are not reused).
pub fn search_dir(posts: u64) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches lives in the workspace")
        .join(format!("target/bench-data/index-v2-{posts}"))
}

/// Whether the index of `posts` posts is complete.
pub fn is_ready(posts: u64) -> bool {
    search_dir(posts).join("ready").exists()
}

/// The directory of a `posts`-post index built with the full ingest pipeline from
/// `fixtures gen --seed 1`, building it first when missing.
pub fn ensure_search_index(posts: u64) -> anyhow::Result<PathBuf> {
    let data = search_dir(posts);
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
