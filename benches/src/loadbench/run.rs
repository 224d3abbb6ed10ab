//! The load itself: the HTTP client, deep-cursor preparation, open loop, closed loop, ramp,
//! and the progress line.

use super::mix::{Kind, Query};
use super::record::{Outcome, Recorder};
use super::schedule;
use anyhow::{Context, bail};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// A request ready to send: its kind and full URL.
#[derive(Debug, Clone)]
pub struct Request {
    /// Query kind.
    pub kind: Kind,
    /// `.../v1/search?...`.
    pub url: String,
}

/// What every request needs: the client, the requests and the tokens to rotate through.
#[derive(Debug)]
pub struct Target {
    client: reqwest::Client,
    requests: Vec<Request>,
    tokens: Vec<String>,
    timeout: Duration,
    max_in_flight: usize,
}

/// The search endpoint under a base URL (`http://host:port` or the endpoint itself).
pub fn search_url(base: &str) -> anyhow::Result<url::Url> {
    let mut url = url::Url::parse(base).with_context(|| format!("--url {base:?}"))?;
    if !url.path().ends_with("/v1/search") {
        let path = format!("{}/v1/search", url.path().trim_end_matches('/'));
        url.set_path(&path);
    }
    Ok(url)
}

fn request_url(endpoint: &url::Url, params: &[(String, String)], cursor: Option<&str>) -> String {
    let mut url = endpoint.clone();
    {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in params {
            pairs.append_pair(k, v);
        }
        if let Some(c) = cursor {
            pairs.append_pair("cursor", c);
        }
    }
    url.into()
}

/// An HTTP client with a connection pool large enough for `max_in_flight`.
pub fn client(max_in_flight: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(max_in_flight)
        .tcp_nodelay(true)
        .build()?)
}

/// Sends one GET and reads the whole body (returned when `keep`).
async fn send(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    timeout: Duration,
    keep: bool,
) -> (Outcome, Option<Vec<u8>>) {
    let result = client
        .get(url)
        .bearer_auth(token)
        .timeout(timeout)
        .send()
        .await;
    let resp = match result {
        Ok(r) => r,
        Err(e) => return (failure(&e), None),
    };
    let status = resp.status().as_u16();
    match resp.bytes().await {
        Ok(body) => (Outcome::Status(status), keep.then(|| body.to_vec())),
        Err(e) => (failure(&e), None),
    }
}

fn failure(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        Outcome::Timeout
    } else if e.is_connect() {
        Outcome::Connect
    } else {
        Outcome::Io
    }
}

impl Target {
    /// Prepares the requests of `queries` against `endpoint`: deep-cursor queries are walked
    /// now (following `next_cursor` for `pages - 1` pages) so that the run asks their deep
    /// page directly, one request per arrival. Queries whose results end before their page
    /// are asked at the deepest page reached; those with a single page are dropped.
    pub async fn prepare(
        client: reqwest::Client,
        endpoint: &url::Url,
        queries: &[Query],
        tokens: Vec<String>,
        timeout: Duration,
        max_in_flight: usize,
    ) -> anyhow::Result<Target> {
        if tokens.is_empty() {
            bail!("no tokens: give --token or --secret");
        }
        let mut requests = Vec::with_capacity(queries.len());
        let mut dropped = 0;
        for (i, q) in queries.iter().enumerate() {
            if q.pages <= 1 {
                requests.push(Request {
                    kind: q.kind,
                    url: request_url(endpoint, &q.params, None),
                });
                continue;
            }
            let mut cursor: Option<String> = None;
            for _ in 1..q.pages {
                let token = &tokens[i % tokens.len()];
                let url = request_url(endpoint, &q.params, cursor.as_deref());
                match next_cursor(&client, &url, token, timeout).await? {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            match cursor {
                Some(c) => requests.push(Request {
                    kind: Kind::DeepCursor,
                    url: request_url(endpoint, &q.params, Some(&c)),
                }),
                None => dropped += 1,
            }
        }
        if dropped > 0 {
            eprintln!("deep cursor: {dropped} queries had a single page of results, dropped");
        }
        if requests.is_empty() {
            bail!("no queries left to send");
        }
        Ok(Target {
            client,
            requests,
            tokens,
            timeout,
            max_in_flight,
        })
    }

    /// The requests, in mix order.
    pub fn requests(&self) -> &[Request] {
        &self.requests
    }

    async fn one(&self, i: u64) -> (Kind, Outcome) {
        let req = &self.requests[(i % self.requests.len() as u64) as usize];
        let token = &self.tokens[(i % self.tokens.len() as u64) as usize];
        let (outcome, _) = send(&self.client, &req.url, token, self.timeout, false).await;
        (req.kind, outcome)
    }
}

/// One page's `next_cursor`, retrying rate-limited answers (the walk runs before the load).
async fn next_cursor(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    timeout: Duration,
) -> anyhow::Result<Option<String>> {
    for _ in 0..50 {
        match send(client, url, token, timeout, true).await {
            (Outcome::Status(200), Some(body)) => {
                let v: serde_json::Value =
                    serde_json::from_slice(&body).context("search answer is not JSON")?;
                return Ok(v["next_cursor"].as_str().map(str::to_string));
            }
            (Outcome::Status(429 | 503), _) => tokio::time::sleep(Duration::from_millis(200)).await,
            (outcome, body) => {
                let body = body.map(|b| String::from_utf8_lossy(&b).into_owned());
                bail!("walking a cursor: {outcome:?} for {url}: {body:?}");
            }
        }
    }
    bail!("walking a cursor: still rate limited after 50 tries ({url})")
}

/// Counters the progress line reads.
#[derive(Debug, Default)]
pub struct Progress {
    sent: AtomicU64,
    done: AtomicU64,
    in_flight: AtomicUsize,
}

/// Runs open-loop load: arrival `i` at `start + i / rate` for `duration`, each in its own
/// task; latency from the due time. Returns the run time (start to last answer).
pub async fn open_loop(
    target: Arc<Target>,
    rate: f64,
    duration: Duration,
    rec: Arc<Mutex<Recorder>>,
    progress: Arc<Progress>,
) -> Duration {
    let n = schedule::arrivals(rate, duration);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let offset = schedule::due(i, rate);
        let due = start + offset;
        tokio::time::sleep_until(due).await;
        while tasks.try_join_next().is_some() {}
        if progress.in_flight.load(Ordering::Relaxed) >= target.max_in_flight {
            // Not delayed until a slot frees (that would hide the overload): counted.
            let kind = target.requests[(i % target.requests.len() as u64) as usize].kind;
            lock(&rec).record(kind, offset, Outcome::NotSent, Duration::ZERO);
            continue;
        }
        progress.in_flight.fetch_add(1, Ordering::Relaxed);
        progress.sent.fetch_add(1, Ordering::Relaxed);
        let (target, rec, progress) = (target.clone(), rec.clone(), progress.clone());
        tasks.spawn(async move {
            let (kind, outcome) = target.one(i).await;
            let latency = due.elapsed();
            lock(&rec).record(kind, offset, outcome, latency);
            progress.in_flight.fetch_sub(1, Ordering::Relaxed);
            progress.done.fetch_add(1, Ordering::Relaxed);
        });
    }
    while tasks.join_next().await.is_some() {}
    start.elapsed()
}

/// Runs closed-loop load: `connections` workers each sending back to back for `duration`;
/// latency from the actual send. Returns the run time.
pub async fn closed_loop(
    target: Arc<Target>,
    connections: usize,
    duration: Duration,
    rec: Arc<Mutex<Recorder>>,
    progress: Arc<Progress>,
) -> Duration {
    let start = Instant::now();
    let deadline = start + duration;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..connections {
        let (target, rec, progress, next) =
            (target.clone(), rec.clone(), progress.clone(), next.clone());
        tasks.spawn(async move {
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                progress.sent.fetch_add(1, Ordering::Relaxed);
                progress.in_flight.fetch_add(1, Ordering::Relaxed);
                let (kind, outcome) = target.one(i).await;
                let latency = sent.elapsed();
                lock(&rec).record(kind, sent - start, outcome, latency);
                progress.in_flight.fetch_sub(1, Ordering::Relaxed);
                progress.done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    start.elapsed()
}

fn lock(rec: &Mutex<Recorder>) -> std::sync::MutexGuard<'_, Recorder> {
    // A panic while recording leaves counts that are still usable.
    rec.lock().unwrap_or_else(|e| e.into_inner())
}

/// Prints a progress line on stderr every second until `stop` is set: in place (`\r`) on a
/// terminal, one line every 5 s otherwise (logs stay readable).
pub async fn show_progress(
    label: String,
    rec: Arc<Mutex<Recorder>>,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
) {
    let tty = std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        n += 1;
        let secs = start.elapsed().as_secs();
        let last = {
            let r = lock(&rec);
            let i = (secs as usize).saturating_sub(1);
            r.seconds
                .get(i)
                .map(|t| (t.requests, t.ms_at(0.5), t.ms_at(0.99), r.all.error_count()))
        };
        let (rps, p50, p99, errors) = last.unwrap_or_default();
        let line = format!(
            "{label} {secs:>4}s  sent {}  done {}  in flight {}  | last second: {rps} req  p50 {p50:.2} ms  p99 {p99:.2} ms | errors {errors}",
            progress.sent.load(Ordering::Relaxed),
            progress.done.load(Ordering::Relaxed),
            progress.in_flight.load(Ordering::Relaxed),
        );
        let mut err = std::io::stderr().lock();
        if tty {
            let _ = write!(err, "\r{line}\x1b[K");
        } else if n.is_multiple_of(5) {
            let _ = writeln!(err, "{line}");
        }
    }
    if tty {
        let _ = writeln!(std::io::stderr());
    }
}
