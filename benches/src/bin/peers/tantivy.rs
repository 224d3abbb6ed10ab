//! Bare Tantivy: chansearch's schema and Tantivy, nothing else (no HTTP, no filters, no
//! language detection, no ranking signals, no snippets): the ceiling chansearch pays
//! overhead on.

use benches::peers::{Report, Sequential, closed_loop, dir_size, sequential};
use std::path::Path;
use std::time::{Duration, Instant};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, Searcher, TantivyDocument, Term};

/// Indexes `corpus` into a new index in `dir` with [`benches::bare`] (body analyzed by
/// Tantivy's own chain: simple tokenizer, lowercase, Russian Snowball stemmer, for every post),
/// then measures the query set.
pub fn run(
    corpus: &Path,
    dir: &Path,
    queries: &[String],
    clients: &[usize],
    seconds: f64,
) -> anyhow::Result<Report> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    let t = Instant::now();
    let docs = benches::bare::index_file(corpus, dir)?;
    let index_s = t.elapsed().as_secs_f64();
    let size_bytes = dir_size(dir)?;
    eprintln!("tantivy: {docs} posts indexed in {index_s:.1}s");

    let index = Index::open_in_dir(dir)?;
    benches::bare::register_tokenizer(&index);
    let body = index.schema().get_field("body")?;
    let analyzer = index.tokenizer_for_field(body)?;
    let searcher = index.reader()?.searcher();
    let one = || {
        let mut analyzer = analyzer.clone();
        let searcher = searcher.clone();
        move |q: &str| search(&searcher, &mut analyzer, body, q)
    };
    let seq: Sequential = sequential(queries, one())?;
    let mut runs = Vec::new();
    for &c in clients {
        let run = closed_loop(queries, c, Duration::from_secs_f64(seconds), |_| Ok(one()))?;
        eprintln!(
            "tantivy: {c} clients {:.0} qps, p99 {:.2} ms",
            run.qps, run.p99_ms
        );
        runs.push(run);
    }
    Ok(Report {
        engine: "bare tantivy".into(),
        docs,
        index_s,
        size_bytes,
        p50_ms: seq.p50_ms,
        p99_ms: seq.p99_ms,
        mean_matches: seq.mean_matches,
        zero_hit_queries: seq.zero_hit_queries,
        runs,
    })
}

/// Every word's tokens required (AND), top 10 by BM25 plus the exact count, the 10 stored
/// documents loaded.
fn search(
    searcher: &Searcher,
    analyzer: &mut TextAnalyzer,
    body: Field,
    q: &str,
) -> anyhow::Result<u64> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut stream = analyzer.token_stream(q);
    stream.process(&mut |t| {
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(body, &t.text),
                IndexRecordOption::WithFreqs,
            )),
        ))
    });
    let (top, count) = searcher.search(
        &BooleanQuery::new(clauses),
        &(TopDocs::with_limit(10).order_by_score(), Count),
    )?;
    for (_, addr) in &top {
        let _doc: TantivyDocument = searcher.doc(*addr)?;
    }
    Ok(count as u64)
}
