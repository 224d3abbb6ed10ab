//! Search latency through HTTP against Tantivy called directly, same index, same queries.
//!
//! `cargo bench -p benches --bench search_latency [-- POSTS [QUERIES]]` (defaults 1000000
//! posts, 400 queries). Builds the index with the full ingest pipeline (kept under
//! `target/bench-data/search-POSTS` and reused by later runs), then runs each query set one
//! request at a time, warm, in three ways:
//! - bare: a Tantivy `BooleanQuery` of the words' terms, top 20 by BM25 plus count, stored
//!   documents loaded;
//! - engine: chansearch's `Engine::search` in-process (query building, tiers, blended ranking,
//!   visibility, snippets);
//! - http: `GET /v1/search` on a real server over loopback.
//!
//! Prints p50/p90/p99 of each and the ratios to bare.

use indexer::analysis::query_variants;
use search_api::auth::{Keys, Role, Tier, claims};
use search_api::config::Config;
use search_api::state::AppState;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, TantivyDocument, Term};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let posts: u64 = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let n_queries: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let data = root.join(format!("target/bench-data/search-{posts}"));
    let corpus = data.join("corpus.ndjson");
    if !data.join("ready").exists() {
        std::fs::create_dir_all(&data)?;
        eprintln!("building a {posts}-post index in {}", data.display());
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
        let summary = indexer::ingest::ingest(
            &indexer::ingest::IngestOptions::new(&data),
            &[indexer::ingest::Source::File(corpus.clone())],
            Arc::new(filters::NoRules),
        )?;
        eprintln!(
            "indexed {} posts in {:.1}s",
            summary.indexed, summary.elapsed_s
        );
        std::fs::write(data.join("ready"), "ok")?;
    }
    let queries = benches::queries::from_corpus(&corpus, n_queries, 200)?;
    eprintln!("{} queries, e.g. {:?}", queries.len(), &queries[..4]);

    let secret = "bench-secret-0123456789";
    let mut config = Config {
        data: data.clone(),
        secret: Some(secret.into()),
        ..Config::default()
    };
    config.limits.rate_per_second = 1_000_000;
    config.limits.rate_burst = 1_000_000;
    let state = Arc::new(AppState::open(config)?);
    let engine = state.engine.clone();
    let searcher = engine.searcher();
    let body = engine.fields().body;

    let bare = measure("bare tantivy", &queries, |q| {
        bare_search(&searcher, body, q)
    });
    let eng = measure("engine in-process", &queries, |q| {
        let req = search_api::search::SearchRequest {
            query: search_api::query::parse(q, 512).expect("query parses"),
            lang: None,
            channel: None,
            from: None,
            to: None,
            media: None,
            sort: search_api::search::Sort::Relevance,
            limit: 20,
            cursor: None,
            country: None,
        };
        engine.search(&req).map(|r| r.hits.len()).unwrap_or(0)
    });

    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            search_api::server::run(listener, state, async {
                let _ = stop_rx.await;
            })
            .await
            .unwrap();
        });
    });
    let addr = addr_rx.recv()?;
    let token = Keys::new(secret).mint(&claims("bench", Tier::Premium, Role::User, None, 3600))?;
    let client = reqwest::blocking::Client::new();
    let url = format!("http://{addr}/v1/search");
    let http = measure("http", &queries, |q| {
        let resp = client
            .get(&url)
            .bearer_auth(&token)
            .query(&[("q", q)])
            .send()
            .expect("request");
        assert!(resp.status().is_success(), "{}", resp.status());
        resp.bytes().map(|b| b.len()).unwrap_or(0)
    });
    let _ = stop_tx.send(());
    let _ = server.join();

    println!(
        "\n{posts} posts, {} queries, one at a time, warm\n",
        queries.len()
    );
    println!("| path | p50 ms | p90 ms | p99 ms | p50 / bare | p99 / bare |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, s) in [
        ("bare tantivy", &bare),
        ("engine in-process", &eng),
        ("http", &http),
    ] {
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} |",
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.p50) / ms(bare.p50),
            ms(s.p99) / ms(bare.p99)
        );
    }
    println!(
        "{}",
        serde_json::json!({"posts": posts, "queries": queries.len(),
            "bare_p50_ms": ms(bare.p50), "bare_p99_ms": ms(bare.p99),
            "http_p50_ms": ms(http.p50), "http_p99_ms": ms(http.p99),
            "http_over_bare_p50": ms(http.p50) / ms(bare.p50), "http_over_bare_p99": ms(http.p99) / ms(bare.p99)})
    );
    Ok(())
}

struct Stats {
    p50: Duration,
    p90: Duration,
    p99: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn measure(name: &str, queries: &[String], mut run: impl FnMut(&str) -> usize) -> Stats {
    for q in queries.iter().take(50) {
        run(q); // warm up
    }
    let mut times: Vec<Duration> = queries
        .iter()
        .map(|q| {
            let t = Instant::now();
            std::hint::black_box(run(q));
            t.elapsed()
        })
        .collect();
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    let s = Stats {
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
    };
    eprintln!("{name}: p50 {:.3} ms, p99 {:.3} ms", ms(s.p50), ms(s.p99));
    s
}

fn bare_search(searcher: &Searcher, body: tantivy::schema::Field, q: &str) -> usize {
    let clauses: Vec<(Occur, Box<dyn Query>)> = q
        .split_whitespace()
        .filter_map(|w| query_variants(w).into_iter().next())
        .filter_map(|v| v.into_iter().next())
        .map(|t| {
            let tq: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(body, &t),
                IndexRecordOption::WithFreqs,
            ));
            (Occur::Must, tq)
        })
        .collect();
    let query = BooleanQuery::new(clauses);
    let (top, count) = searcher
        .search(&query, &(TopDocs::with_limit(20).order_by_score(), Count))
        .expect("search");
    for (_, addr) in &top {
        let _doc: TantivyDocument = searcher.doc(*addr).expect("doc");
    }
    count + top.len()
}
