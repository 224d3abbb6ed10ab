//! Full ingest pipeline vs bare Tantivy on the same generated posts, in one run.
//!
//! `cargo bench -p benches --bench index_pipeline [-- POSTS [ROUNDS]]` (default 200000 posts,
//! 2 rounds, alternating bare and full so that machine noise hits both). Prints posts/s of
//! each round, the best of each, and the ratio full/bare.

use std::sync::Arc;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let posts: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
    let work = tempfile::tempdir()?;
    let corpus = work.path().join("corpus.ndjson");
    let t = Instant::now();
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&corpus)?);
        let config = fixtures::GenConfig {
            posts,
            seed: 1,
            ..fixtures::GenConfig::default()
        };
        fixtures::generate(&config, &mut out, None)?;
    }
    let bytes = std::fs::metadata(&corpus)?.len();
    eprintln!(
        "corpus: {posts} posts, {:.1} MB, generated in {:.1}s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let (mut best_bare, mut best_full) = (0f64, 0f64);
    println!("| round | engine | posts | seconds | posts/s |");
    println!("| --- | --- | --- | --- | --- |");
    for round in 1..=rounds {
        let dir = tempfile::tempdir_in(work.path())?;
        let t = Instant::now();
        let n = benches::bare::index_file(&corpus, dir.path())?;
        let secs = t.elapsed().as_secs_f64();
        best_bare = best_bare.max(n as f64 / secs);
        println!(
            "| {round} | bare tantivy | {n} | {secs:.2} | {:.0} |",
            n as f64 / secs
        );

        let dir = tempfile::tempdir_in(work.path())?;
        let options = indexer::ingest::IngestOptions::new(dir.path());
        let t = Instant::now();
        let summary = indexer::ingest::ingest(
            &options,
            &[indexer::ingest::Source::File(corpus.clone())],
            Arc::new(filters::NoRules),
        )?;
        let secs = t.elapsed().as_secs_f64();
        let n = summary.indexed;
        best_full = best_full.max(n as f64 / secs);
        println!(
            "| {round} | full pipeline | {n} | {secs:.2} | {:.0} |",
            n as f64 / secs
        );
    }
    println!();
    println!(
        "best: bare {best_bare:.0} posts/s, full {best_full:.0} posts/s, ratio full/bare {:.2}",
        best_full / best_bare
    );
    println!(
        "{}",
        serde_json::json!({"posts": posts, "bare_posts_per_s": best_bare.round(),
            "full_posts_per_s": best_full.round(), "ratio": (best_full / best_bare * 100.0).round() / 100.0})
    );
    Ok(())
}
