//! Search latency through HTTP against Tantivy called directly, same index, same queries.
//!
//! `cargo bench -p benches --bench search_latency [-- POSTS [QUERIES]]` (defaults 1000000
//! posts, 400 queries). Builds the index with the full ingest pipeline (kept under
//! `target/bench-data/index-v2-POSTS` by `benches::corpus_index` and reused by later runs), then runs each query set one
//! request at a time, warm, these ways:
//! - bare: a Tantivy `BooleanQuery` of the words' terms (each word's main-language form), top
//!   20 by BM25 (block-max WAND) plus a count, stored documents loaded;
//! - tantivy, engine's queries: the queries `Engine::search` builds (every word form, the
//!   phrase boost, visibility), run the bare way: what the harder query costs by itself;
//! - engine: chansearch's `Engine::search` in-process (query building, tiers, blended ranking,
//!   visibility, snippets);
//! - http: `GET /v1/search` on a real server over loopback, one keep-alive connection;
//! - http, client polling: the same requests from a client that polls a non-blocking socket
//!   instead of sleeping in `read` (the difference is the client thread's wake-up);
//! - http floor: `GET /healthz` the same way, an answer that does no work: what one round
//!   trip through loopback and the middleware costs on this machine, whatever the search.
//!
//! The paths run interleaved, query by query, so that background load falls on all alike.
//! Prints p50/p90/p99 of each and the ratios to bare. `SEARCH_LATENCY_ONLY=engine` (or `bare`,
//! `http`) runs one path, for profiling; `SEARCH_LATENCY_REQWEST=1` adds the same requests
//! through reqwest's blocking client, for comparison with the bench's own minimal client;
//! `SEARCH_LATENCY_SLOWEST=N` prints each path's N slowest queries.

use indexer::analysis::query_variants;
use search_api::auth::{Keys, Role, Tier, claims};
use search_api::config::Config;
use search_api::state::AppState;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, TantivyDocument, Term};

/// A measured path: its name and what runs one query.
type QueryPath<'a> = (&'a str, Box<dyn FnMut(&str) -> usize + 'a>);

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
    let data = benches::data::ensure_search_index(posts)?;
    let corpus = data.join("corpus.ndjson");
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
    let state = Arc::new(AppState::open(config, None)?);
    let engine = state.engine.clone();
    let searcher = engine.searcher();
    let body = engine.fields().body;

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
    let mut client = HttpClient::connect(addr, &token, false)?;
    let rq = reqwest::blocking::Client::new();
    let url = format!("http://{addr}/v1/search");

    let only = std::env::var("SEARCH_LATENCY_ONLY").ok();
    let mut paths: Vec<QueryPath<'_>> = vec![
        (
            "bare tantivy",
            Box::new(|q: &str| bare_search(&searcher, body, q)),
        ),
        (
            "tantivy, engine's queries",
            Box::new(|q: &str| planned_search(&searcher, &engine.tier_queries(&request(q)))),
        ),
        (
            "engine in-process",
            Box::new(|q: &str| {
                engine
                    .search(&request(q))
                    .map(|r| r.hits.len())
                    .unwrap_or(0)
            }),
        ),
        (
            "http",
            Box::new(|q: &str| client.search(q).expect("http search")),
        ),
    ];
    // The same requests from a client that polls its socket instead of sleeping in `read`:
    // on this VM a thread that slept through a search (0.5 ms) takes about 0.15 ms to wake,
    // which the in-process path never pays. The difference between the two http rows is
    // that wake-up, the client's, not the server's.
    let mut polling = HttpClient::connect(addr, &token, true)?;
    paths.push((
        "http, client polling",
        Box::new(move |q: &str| polling.search(q).expect("http search")),
    ));
    // The floor of any answer through HTTP on this machine: one round trip over loopback
    // through the same middleware, for an answer that does no work.
    let mut floor_client = HttpClient::connect(addr, &token, false)?;
    paths.push((
        "http floor (/healthz)",
        Box::new(move |_: &str| floor_client.get("/healthz").expect("healthz")),
    ));
    if std::env::var("SEARCH_LATENCY_REQWEST").is_ok() {
        paths.push((
            "http reqwest",
            Box::new(|q: &str| {
                let resp = rq
                    .get(&url)
                    .bearer_auth(&token)
                    .query(&[("q", q)])
                    .send()
                    .expect("request");
                assert!(resp.status().is_success());
                resp.bytes().map(|b| b.len()).unwrap_or(0)
            }),
        ));
    }
    if let Some(only) = &only {
        paths.retain(|(name, _)| name.starts_with(only.as_str()));
    }
    let stats = measure(&queries, &mut paths);
    let _ = stop_tx.send(());
    let _ = server.join();
    let names: Vec<&str> = paths.iter().map(|(name, _)| *name).collect();
    let by_name = |name: &str| names.iter().position(|n| *n == name).map(|i| &stats[i]);
    let (bare, http) = (
        &stats[0],
        by_name("http").unwrap_or(&stats[stats.len() - 1]),
    );

    println!(
        "\n{posts} posts, {} queries, one at a time, warm\n",
        queries.len()
    );
    println!("| path | p50 ms | p90 ms | p99 ms | p50 / bare | p99 / bare |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, s) in names.iter().zip(&stats) {
        println!(
            "| {name} | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} |",
            ms(s.p50),
            ms(s.p90),
            ms(s.p99),
            ms(s.p50) / ms(bare.p50),
            ms(s.p99) / ms(bare.p99)
        );
    }
    if let (Some(planned), Some(engine)) = (
        by_name("tantivy, engine's queries"),
        by_name("engine in-process"),
    ) {
        println!(
            "\nengine over Tantivy running the engine's queries: p50 {:.2}x, p99 {:.2}x; \
             http over it: p50 {:.2}x, p99 {:.2}x",
            ms(engine.p50) / ms(planned.p50),
            ms(engine.p99) / ms(planned.p99),
            ms(http.p50) / ms(planned.p50),
            ms(http.p99) / ms(planned.p99)
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

/// Runs every query through every path, interleaved (query by query, the paths' order rotated
/// from one query to the next) so that the machine's background load falls on all paths alike.
fn measure(queries: &[String], paths: &mut [QueryPath<'_>]) -> Vec<Stats> {
    for q in queries.iter().take(50) {
        for (_, run) in paths.iter_mut() {
            run(q); // warm up
        }
    }
    let n = paths.len();
    let mut times: Vec<Vec<(Duration, usize)>> = vec![Vec::with_capacity(queries.len()); n];
    for (i, q) in queries.iter().enumerate() {
        for k in 0..n {
            let p = (i + k) % n;
            let t = Instant::now();
            std::hint::black_box((paths[p].1)(q));
            times[p].push((t.elapsed(), i));
        }
    }
    // `SEARCH_LATENCY_SLOWEST=N`: each path's N slowest queries, to see what the tail is.
    let slowest: usize = std::env::var("SEARCH_LATENCY_SLOWEST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    times
        .into_iter()
        .zip(paths.iter())
        .map(|(mut times, (name, _))| {
            times.sort();
            for (took, i) in times.iter().rev().take(slowest) {
                eprintln!("  {name} slowest: {:.3} ms {:?}", ms(*took), queries[*i]);
            }
            let times: Vec<Duration> = times.into_iter().map(|(took, _)| took).collect();
            let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
            let s = Stats {
                p50: at(0.5),
                p90: at(0.9),
                p99: at(0.99),
            };
            eprintln!("{name}: p50 {:.3} ms, p99 {:.3} ms", ms(s.p50), ms(s.p99));
            s
        })
        .collect()
}

/// A minimal HTTP/1.1 client on one keep-alive connection with `TCP_NODELAY`, so that the
/// figure is the server's rather than a client library's (reqwest's blocking client hands
/// every request to its own runtime thread: one more thread wake-up per request).
///
/// `polling`: the socket is non-blocking and polled in a loop, so that the answer is read as
/// soon as it arrives, without the reading thread being put to sleep and woken; otherwise
/// `read` blocks as any client's does.
struct HttpClient {
    stream: std::net::TcpStream,
    host: String,
    token: String,
    buf: Vec<u8>,
}

impl HttpClient {
    fn connect(
        addr: std::net::SocketAddr,
        token: &str,
        polling: bool,
    ) -> anyhow::Result<HttpClient> {
        let stream = std::net::TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        stream.set_nonblocking(polling)?;
        Ok(HttpClient {
            stream,
            host: addr.to_string(),
            token: token.to_string(),
            buf: Vec::with_capacity(1 << 16),
        })
    }

    /// `GET /v1/search?q=...`; the body's length.
    fn search(&mut self, q: &str) -> anyhow::Result<usize> {
        self.get(&format!("/v1/search?q={}", percent_encode(q)))
    }

    /// `GET target`; the body's length. (`WouldBlock` only happens when polling.)
    fn get(&mut self, target: &str) -> anyhow::Result<usize> {
        use std::io::{ErrorKind, Read, Write};
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
            self.host, self.token
        );
        let mut sent = 0;
        while sent < request.len() {
            match self.stream.write(&request.as_bytes()[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::hint::spin_loop(),
                Err(e) => return Err(e.into()),
            }
        }
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        let mut wanted = None;
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => anyhow::bail!("connection closed"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::hint::spin_loop();
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            if wanted.is_none()
                && let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n")
            {
                let head = std::str::from_utf8(&self.buf[..end])?;
                anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "status line {head:?}");
                let length = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
                    .ok_or_else(|| anyhow::anyhow!("no content-length"))?
                    .1
                    .trim()
                    .parse::<usize>()?;
                wanted = Some((end + 4, length));
            }
            if let Some((body, length)) = wanted
                && self.buf.len() >= body + length
            {
                return Ok(length);
            }
        }
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request every engine path sends for `q`: first page of 20, by relevance.
fn request(q: &str) -> search_api::search::SearchRequest {
    search_api::search::SearchRequest::first_page(
        search_api::query::parse(q, 512).expect("query parses"),
        20,
    )
}

/// The engine's own tier queries (every word form, phrase boost, visibility) through
/// Tantivy's collector the way `bare_search` runs its one: top 20 by BM25, the count, the
/// stored documents; the next tier only while the page is not full (tier 2 is not made to
/// leave out tier 1's posts, as the engine does). What the engine adds over this is its
/// blended ranking, the page assembly and the snippets.
fn planned_search(searcher: &Searcher, tiers: &[Box<dyn Query>]) -> usize {
    let mut hits = Vec::new();
    let mut total = 0;
    for query in tiers {
        if hits.len() >= 20 {
            break;
        }
        let top = searcher
            .search(
                query.as_ref(),
                &TopDocs::with_limit(20 - hits.len()).order_by_score(),
            )
            .expect("search");
        total += query.count(searcher).expect("count");
        hits.extend(top.into_iter().map(|(_, addr)| addr));
    }
    for addr in &hits {
        let _doc: TantivyDocument = searcher.doc(*addr).expect("doc");
    }
    total + hits.len()
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
    // Top 20 alone, then the count: together in one `(TopDocs, Count)` pass Tantivy scores
    // every match, apart it prunes the top 20 with block-max WAND and counts without scoring,
    // which is faster (p50 0.033 against 0.051 ms on this index, measured side by side).
    let top = searcher
        .search(&query, &TopDocs::with_limit(20).order_by_score())
        .expect("search");
    let count = query.count(searcher).expect("count");
    for (_, addr) in &top {
        let _doc: TantivyDocument = searcher.doc(*addr).expect("doc");
    }
    count + top.len()
}
