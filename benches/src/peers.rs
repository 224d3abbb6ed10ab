//! Peer comparison: the measurement every engine gets, its report, and the side-by-side table.
//!
//! Each engine (chansearch over HTTP, bare Tantivy in-process, PostgreSQL over its protocol,
//! Lucene in its own Java harness) answers the same query file top 10 plus a match count, and
//! is measured the same way:
//! - latency: every query once, one at a time, after a warm-up pass over the whole set (caches,
//!   and the JVM's JIT for Lucene): p50, p99;
//! - throughput: a closed loop of N clients (each sends its next query when the last answer
//!   arrives) for a fixed time per N; the figure kept is the best throughput whose p99 is within
//!   [`P99_BUDGET_MS`], and the peak throughput at any p99 is shown beside it.
//!
//! The clients run on the same two cores as the engine, so every engine pays for its clients;
//! the HTTP client's share (request, JSON parsing) is the largest. A report is one JSON object
//! (`Report`); the Java harness writes the same shape.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The p99 a throughput run may have to count as "max QPS".
pub const P99_BUDGET_MS: f64 = 50.0;

/// One closed-loop run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// Concurrent clients.
    pub clients: usize,
    /// Requests answered in the run.
    pub requests: usize,
    /// Requests per second.
    pub qps: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
}

/// What one engine measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Engine name as shown in the table.
    pub engine: String,
    /// Posts indexed.
    pub docs: u64,
    /// Wall time of indexing (load plus index build), seconds.
    pub index_s: f64,
    /// Size on disk of the index (with stored text), bytes.
    pub size_bytes: u64,
    /// Sequential latency, one client.
    pub p50_ms: f64,
    /// Sequential latency, one client.
    pub p99_ms: f64,
    /// Mean of the match counts over the query set (a check that the engines match alike).
    pub mean_matches: f64,
    /// Queries that matched nothing.
    pub zero_hit_queries: usize,
    /// Closed-loop runs, by number of clients.
    pub runs: Vec<Run>,
}

impl Report {
    /// The best run whose p99 is within budget.
    pub fn max_qps(&self) -> Option<&Run> {
        self.runs
            .iter()
            .filter(|r| r.p99_ms <= P99_BUDGET_MS)
            .max_by(|a, b| a.qps.total_cmp(&b.qps))
    }

    /// The best run at any p99.
    pub fn peak_qps(&self) -> Option<&Run> {
        self.runs.iter().max_by(|a, b| a.qps.total_cmp(&b.qps))
    }
}

/// Latency of a sequential pass and the match counts it saw.
#[derive(Debug, Clone)]
pub struct Sequential {
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Mean match count.
    pub mean_matches: f64,
    /// Queries with no match.
    pub zero_hit_queries: usize,
}

/// Runs every query once, one at a time, after one warm-up pass over them all. `search` returns
/// the query's match count.
pub fn sequential(
    queries: &[String],
    mut search: impl FnMut(&str) -> anyhow::Result<u64>,
) -> anyhow::Result<Sequential> {
    for q in queries {
        search(q)?;
    }
    let mut times = Vec::with_capacity(queries.len());
    let mut total = 0u64;
    let mut zero = 0;
    for q in queries {
        let t = Instant::now();
        let n = search(q)?;
        times.push(t.elapsed());
        total += n;
        zero += usize::from(n == 0);
    }
    Ok(Sequential {
        p50_ms: percentile_ms(&mut times, 0.50),
        p99_ms: percentile_ms(&mut times, 0.99),
        mean_matches: total as f64 / queries.len().max(1) as f64,
        zero_hit_queries: zero,
    })
}

/// A closed loop of `clients` threads for `duration`; client `i` starts at its own offset in
/// the query list and cycles through it. `connect(i)` makes client `i`'s search function (its
/// own connection). Any error ends the run with that error.
pub fn closed_loop<F>(
    queries: &[String],
    clients: usize,
    duration: Duration,
    connect: impl Fn(usize) -> anyhow::Result<F> + Sync,
) -> anyhow::Result<Run>
where
    F: FnMut(&str) -> anyhow::Result<u64>,
{
    let stop = AtomicBool::new(false);
    let started = AtomicUsize::new(0);
    let mut elapsed = duration;
    let results: Vec<anyhow::Result<Vec<Duration>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|i| {
                let (stop, started, connect) = (&stop, &started, &connect);
                s.spawn(move || -> anyhow::Result<Vec<Duration>> {
                    let mut search = connect(i);
                    started.fetch_add(1, Ordering::SeqCst);
                    let search = search.as_mut().map_err(|e| anyhow::anyhow!("{e:#}"))?;
                    let mut times = Vec::new();
                    let mut k = i * queries.len() / clients;
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        search(&queries[k % queries.len()])?;
                        times.push(t.elapsed());
                        k += 1;
                    }
                    Ok(times)
                })
            })
            .collect();
        while started.load(Ordering::SeqCst) < clients {
            std::thread::sleep(Duration::from_millis(1));
        }
        let start = Instant::now();
        std::thread::sleep(duration);
        stop.store(true, Ordering::Relaxed);
        let joined = handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect();
        // Until the last request in flight at the stop is answered: it is counted.
        elapsed = start.elapsed();
        joined
    });
    let mut times = Vec::new();
    for r in results {
        times.extend(r?);
    }
    let requests = times.len();
    Ok(Run {
        clients,
        requests,
        qps: requests as f64 / elapsed.as_secs_f64(),
        p50_ms: percentile_ms(&mut times, 0.50),
        p99_ms: percentile_ms(&mut times, 0.99),
    })
}

fn percentile_ms(times: &mut [Duration], p: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    times.sort_unstable();
    let i = ((times.len() as f64 * p) as usize).min(times.len() - 1);
    times[i].as_secs_f64() * 1000.0
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The side-by-side Markdown table, ratios to the report named `base`, then every run.
pub fn table(reports: &[Report], base: &str) -> String {
    use std::fmt::Write;
    let base = reports.iter().find(|r| r.engine == base);
    let ratio = |x: f64, f: fn(&Report) -> f64| match base {
        Some(b) if f(b) > 0.0 => format!("{:.2}", x / f(b)),
        _ => "-".into(),
    };
    let qps = |r: &Report| r.max_qps().map_or(0.0, |m| m.qps);
    let mut s = String::new();
    s.push_str(
        "| engine | index s | x | size MB | x | p50 ms | x | p99 ms | x \
         | max QPS (p99 <= 50 ms) | x | peak QPS (its p99 ms) | mean matches | 0-hit queries |\n",
    );
    s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in reports {
        let max = match r.max_qps() {
            Some(m) => format!("{:.0} ({} cl.)", m.qps, m.clients),
            None => "none".into(),
        };
        let peak = match r.peak_qps() {
            Some(m) => format!("{:.0} ({:.0})", m.qps, m.p99_ms),
            None => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {:.1} | {} | {:.0} | {} | {:.2} | {} | {:.2} | {} | {} | {} | {} | {:.0} | {} |",
            r.engine,
            r.index_s,
            ratio(r.index_s, |b| b.index_s),
            r.size_bytes as f64 / 1e6,
            ratio(r.size_bytes as f64, |b| b.size_bytes as f64),
            r.p50_ms,
            ratio(r.p50_ms, |b| b.p50_ms),
            r.p99_ms,
            ratio(r.p99_ms, |b| b.p99_ms),
            max,
            ratio(qps(r), qps),
            peak,
            r.mean_matches,
            r.zero_hit_queries,
        );
    }
    s.push_str("\nClosed-loop runs (clients: QPS, p50 ms, p99 ms):\n\n");
    for r in reports {
        let runs: Vec<String> = r
            .runs
            .iter()
            .map(|x| {
                format!(
                    "{}: {:.0}, {:.2}, {:.2}",
                    x.clients, x.qps, x.p50_ms, x.p99_ms
                )
            })
            .collect();
        let _ = writeln!(s, "- {}: {}", r.engine, runs.join("; "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(clients: usize, qps: f64, p99_ms: f64) -> Run {
        Run {
            clients,
            requests: 100,
            qps,
            p50_ms: 1.0,
            p99_ms,
        }
    }

    #[test]
    fn max_qps_keeps_only_runs_within_the_p99_budget() {
        let r = Report {
            engine: "x".into(),
            docs: 1,
            index_s: 1.0,
            size_bytes: 1,
            p50_ms: 1.0,
            p99_ms: 1.0,
            mean_matches: 1.0,
            zero_hit_queries: 0,
            runs: vec![
                run(1, 100.0, 10.0),
                run(2, 180.0, 40.0),
                run(4, 200.0, 80.0),
            ],
        };
        assert_eq!(r.max_qps().unwrap().clients, 2);
        assert_eq!(r.peak_qps().unwrap().clients, 4);
    }
}
