//! chansearch as users get it: `GET /v1/search` on a running `search-api serve`, top 10.

use benches::peers::{Report, closed_loop, sequential};
use std::time::Duration;

/// What the script measured before the queries: indexing and size.
#[derive(Debug, Clone, Copy)]
pub struct Indexed {
    /// Posts indexed.
    pub docs: u64,
    /// Seconds.
    pub index_s: f64,
    /// Bytes on disk.
    pub size_bytes: u64,
}

/// Measures the query set against the server at `base` (e.g. `http://127.0.0.1:7700`).
pub fn run(
    base: &str,
    token: &str,
    queries: &[String],
    clients: &[usize],
    seconds: f64,
    indexed: Indexed,
) -> anyhow::Result<Report> {
    let url = format!("{}/v1/search", base.trim_end_matches('/'));
    let connect = |_| -> anyhow::Result<_> {
        let client = reqwest::blocking::Client::new();
        let (url, token) = (url.clone(), token.to_string());
        Ok(move |q: &str| -> anyhow::Result<u64> {
            let resp = client
                .get(&url)
                .bearer_auth(&token)
                .query(&[("q", q), ("limit", "10")])
                .send()?;
            let status = resp.status();
            let body = resp.bytes()?;
            anyhow::ensure!(
                status.is_success(),
                "{status}: {}",
                String::from_utf8_lossy(&body)
            );
            let v: serde_json::Value = serde_json::from_slice(&body)?;
            Ok(v["estimated_total"].as_u64().unwrap_or(0))
        })
    };
    let seq = sequential(queries, connect(0)?)?;
    let mut runs = Vec::new();
    for &c in clients {
        let run = closed_loop(queries, c, Duration::from_secs_f64(seconds), connect)?;
        eprintln!(
            "chansearch: {c} clients {:.0} qps, p99 {:.2} ms",
            run.qps, run.p99_ms
        );
        runs.push(run);
    }
    Ok(Report {
        engine: "chansearch".into(),
        docs: indexed.docs,
        index_s: indexed.index_s,
        size_bytes: indexed.size_bytes,
        p50_ms: seq.p50_ms,
        p99_ms: seq.p99_ms,
        mean_matches: seq.mean_matches,
        zero_hit_queries: seq.zero_hit_queries,
        runs,
    })
}
