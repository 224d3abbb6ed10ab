//! Pipeline benches (criterion): indexing posts/s through the full ingest pipeline, and
//! query latency per query kind through the search engine in-process.
//!
//! - `index`: 20,000 generated posts (`fixtures gen --seed 2`) into a fresh temp index with
//!   `indexer::ingest` (parse, detect, analyze, filters with no rules, write, commit).
//! - `query/<kind>`: `Engine::search` on the largest prebuilt index under `target/bench-data`
//!   (`search-1000000` when the `search_latency` bench has built it, else `search-200000`,
//!   else a 50,000-post one built here; the size is printed), with 40 queries of each kind of
//!   loadbench's generated mix drawn from that index's corpus, one query per iteration.
//!
//! Run: `cargo bench -p benches --bench pipeline` (about 3 minutes once the index exists).

use benches::loadbench::mix::{self, Kind, Query};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use search_api::search::{Engine, SearchRequest, Sort};
use std::sync::Arc;
use std::time::Duration;

const INDEX_POSTS: u64 = 20_000;
const QUERIES_PER_KIND: usize = 40;

fn bench_index(c: &mut Criterion) {
    let work = tempfile::tempdir().expect("temp dir");
    let corpus = work.path().join("corpus.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&corpus).expect("create"));
    let config = fixtures::GenConfig {
        posts: INDEX_POSTS,
        seed: 2,
        ..Default::default()
    };
    fixtures::generate(&config, &mut out, None).expect("generate");
    drop(out);
    let mut g = c.benchmark_group("index");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Elements(INDEX_POSTS));
    g.bench_function("ingest_20k_posts", |b| {
        b.iter_batched(
            || tempfile::tempdir_in(work.path()).expect("temp dir"),
            |dir| {
                let summary = indexer::ingest::ingest(
                    &indexer::ingest::IngestOptions::new(dir.path()),
                    &[indexer::ingest::Source::File(corpus.clone())],
                    Arc::new(filters::NoRules),
                )
                .expect("ingest");
                assert_eq!(summary.indexed, INDEX_POSTS);
                dir // dropped (deleted) outside the timing
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// The engine over the largest prebuilt index, and its post count.
fn engine() -> (Engine, std::path::PathBuf, u64) {
    let posts = [1_000_000, 200_000]
        .into_iter()
        .find(|&n| benches::data::is_ready(n))
        .unwrap_or(50_000);
    let data = benches::data::ensure_search_index(posts).expect("bench index");
    let index = indexer::store::open_or_create(&data.join("index")).expect("open index");
    let fields = indexer::schema::fields_of(&index.schema()).expect("fields");
    let reader = index.reader().expect("reader");
    let engine = Engine::new(reader, fields, search_api::config::Ranking::default());
    (engine, data, posts)
}

/// The engine's request for a mix query's parameters (the API's parsing, for the parameters
/// loadbench generates).
fn request(q: &Query, cursor: Option<String>) -> SearchRequest {
    let day = |v: &str, end: bool| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let d = time::Date::parse(v, &format).expect("generated dates parse");
        d.midnight().assume_utc().unix_timestamp() + if end { 86_399 } else { 0 }
    };
    SearchRequest {
        query: search_api::query::parse(q.get("q").unwrap_or(""), 512).expect("query parses"),
        lang: q.get("lang").map(str::to_string),
        channel: q.get("channel").map(str::to_ascii_lowercase),
        from: q.get("from").map(|v| day(v, false)),
        to: q.get("to").map(|v| day(v, true)),
        media: q.get("media").map(str::to_string),
        sort: if q.get("sort") == Some("date") {
            Sort::Date
        } else {
            Sort::Relevance
        },
        limit: 20,
        cursor,
        country: None,
    }
}

fn bench_query(c: &mut Criterion) {
    let (engine, data, posts) = engine();
    eprintln!("query benches on {posts} posts ({})", data.display());
    let vocab = mix::Vocabulary::from_corpus(&data.join("corpus.ndjson"), 5_000, 200_000)
        .expect("vocabulary");
    let mut g = c.benchmark_group(format!("query_{posts}"));
    g.sample_size(30).measurement_time(Duration::from_secs(5));
    for kind in Kind::ALL {
        let weights = [(kind, 1)].into_iter().collect();
        let queries = vocab.generate(&weights, QUERIES_PER_KIND, 11);
        if queries.is_empty() || queries[0].kind != kind {
            continue; // `words` of 3+ words is only made when asked; hashtags when present
        }
        // Deep cursors: walk to the query's page once, then time that page.
        let requests: Vec<SearchRequest> = queries
            .iter()
            .filter_map(|q| {
                let mut cursor = None;
                for _ in 1..q.pages {
                    let page = engine.search(&request(q, cursor)).expect("search");
                    cursor = Some(page.next_cursor?);
                }
                Some(request(q, cursor))
            })
            .collect();
        if requests.is_empty() {
            continue;
        }
        let mut i = 0;
        g.bench_function(kind.name(), |b| {
            b.iter(|| {
                i = (i + 1) % requests.len();
                engine.search(&requests[i]).map(|r| r.hits.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_index, bench_query);
criterion_main!(benches);
