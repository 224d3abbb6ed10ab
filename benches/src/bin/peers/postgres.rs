//! PostgreSQL full-text search over its own protocol (the `postgres` crate, one connection per
//! client, a prepared statement). The schema, load and `peer_q` function are made by
//! `benches/peers/postgres.sql`, run by `run.sh`.

use crate::http::Indexed;
use benches::peers::{Report, closed_loop, sequential};
use std::time::Duration;

/// Top 10 by `ts_rank_cd` plus the exact match count, as teams commonly write it.
const QUERY: &str = "SELECT id, ts_rank_cd(tsv, q) AS rank, count(*) OVER () AS total \
     FROM posts, peer_q($1) AS q WHERE tsv @@ q ORDER BY rank DESC LIMIT 10";

/// Measures the query set against the database at `conn` (a libpq-style connection string).
pub fn run(
    conn: &str,
    queries: &[String],
    clients: &[usize],
    seconds: f64,
    indexed: Indexed,
) -> anyhow::Result<Report> {
    let connect = |_| -> anyhow::Result<_> {
        let mut client = postgres::Client::connect(conn, postgres::NoTls)?;
        let statement = client.prepare(QUERY)?;
        Ok(move |q: &str| -> anyhow::Result<u64> {
            let rows = client.query(&statement, &[&q])?;
            Ok(rows.first().map_or(0, |r| r.get::<_, i64>("total") as u64))
        })
    };
    let seq = sequential(queries, connect(0)?)?;
    let mut runs = Vec::new();
    for &c in clients {
        let run = closed_loop(queries, c, Duration::from_secs_f64(seconds), connect)?;
        eprintln!(
            "postgres: {c} clients {:.0} qps, p99 {:.2} ms",
            run.qps, run.p99_ms
        );
        runs.push(run);
    }
    Ok(Report {
        engine: "postgres fts".into(),
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
