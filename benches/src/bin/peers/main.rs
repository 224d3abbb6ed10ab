//! `peers`: the Rust side of the peer comparison driven by `benches/peers/run.sh`.
//!
//! Each measuring subcommand writes one JSON [`Report`] (to `--out`); `table` puts the reports
//! side by side. See `benches/peers/run.sh` for the whole procedure and `benches/RESULTS.md`
//! for what differs between the engines.

mod http;
mod postgres;
mod prep;
mod tantivy;

use benches::peers::Report;
use clap::{Args, Parser, Subcommand};
use http::Indexed;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(about = "chansearch against its peers: prepare inputs, measure an engine, tabulate")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write posts.tsv (id, language, text) and queries.txt from a contract NDJSON corpus.
    Prep {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Queries to draw.
        #[arg(long, default_value_t = 400)]
        queries: usize,
    },
    /// Index the corpus with bare Tantivy into DIR (replaced), then measure it in-process.
    Tantivy {
        #[arg(long)]
        corpus: PathBuf,
        #[arg(long)]
        dir: PathBuf,
        #[command(flatten)]
        m: Measure,
    },
    /// Measure chansearch through its HTTP API.
    Http {
        /// Base URL of a running `search-api serve`.
        #[arg(long)]
        url: String,
        /// Bearer token (user role).
        #[arg(long)]
        token: String,
        #[command(flatten)]
        indexed: IndexedArgs,
        #[command(flatten)]
        m: Measure,
    },
    /// Measure PostgreSQL (loaded by benches/peers/postgres.sql).
    Postgres {
        /// Connection string, e.g. "host=127.0.0.1 port=5432 user=postgres".
        #[arg(long)]
        conn: String,
        #[command(flatten)]
        indexed: IndexedArgs,
        #[command(flatten)]
        m: Measure,
    },
    /// Print the side-by-side Markdown table of the reports in DIR (ratios to chansearch).
    Table { dir: PathBuf },
    /// Print a free local TCP port.
    FreePort,
    /// Wait until URL answers 2xx (a server's readiness), at most TIMEOUT seconds.
    Wait {
        url: String,
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
}

#[derive(Args)]
struct Measure {
    /// Query file, one query a line.
    #[arg(long)]
    queries: PathBuf,
    /// Client counts of the closed-loop runs.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    clients: Vec<usize>,
    /// Seconds per closed-loop run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Where to write the JSON report.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args)]
struct IndexedArgs {
    /// Posts indexed.
    #[arg(long)]
    docs: u64,
    /// Indexing wall time, seconds.
    #[arg(long)]
    index_s: f64,
    /// Index size on disk, bytes.
    #[arg(long)]
    size_bytes: u64,
}

impl From<IndexedArgs> for Indexed {
    fn from(a: IndexedArgs) -> Indexed {
        Indexed {
            docs: a.docs,
            index_s: a.index_s,
            size_bytes: a.size_bytes,
        }
    }
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Prep {
            corpus,
            out,
            queries,
        } => prep::run(&corpus, &out, queries),
        Command::Tantivy { corpus, dir, m } => {
            let queries = read_queries(&m.queries)?;
            let report = tantivy::run(&corpus, &dir, &queries, &m.clients, m.seconds)?;
            write_report(&report, &m.out)
        }
        Command::Http {
            url,
            token,
            indexed,
            m,
        } => {
            let queries = read_queries(&m.queries)?;
            let report = http::run(
                &url,
                &token,
                &queries,
                &m.clients,
                m.seconds,
                indexed.into(),
            )?;
            write_report(&report, &m.out)
        }
        Command::Postgres { conn, indexed, m } => {
            let queries = read_queries(&m.queries)?;
            let report = postgres::run(&conn, &queries, &m.clients, m.seconds, indexed.into())?;
            write_report(&report, &m.out)
        }
        Command::Table { dir } => {
            let mut reports = Vec::new();
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path)?;
                    let report: Report = serde_json::from_str(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    reports.push(report);
                }
            }
            reports.sort_by_key(|r| order(&r.engine));
            print!("{}", benches::peers::table(&reports, "chansearch"));
            Ok(())
        }
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", listener.local_addr()?.port());
            Ok(())
        }
        Command::Wait { url, timeout } => {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(timeout);
            let client = reqwest::blocking::Client::new();
            loop {
                if client
                    .get(&url)
                    .send()
                    .is_ok_and(|r| r.status().is_success())
                {
                    return Ok(());
                }
                anyhow::ensure!(
                    std::time::Instant::now() < deadline,
                    "{url} not ready after {timeout}s"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

/// Table order: ours first, then the ceiling, then the peers.
fn order(engine: &str) -> (usize, String) {
    let rank = ["chansearch", "bare tantivy", "lucene", "postgres fts"]
        .iter()
        .position(|e| *e == engine)
        .unwrap_or(9);
    (rank, engine.to_string())
}

fn read_queries(path: &Path) -> anyhow::Result<Vec<String>> {
    let queries: Vec<String> = std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    anyhow::ensure!(!queries.is_empty(), "no queries in {}", path.display());
    Ok(queries)
}

/// Writes the report and refuses one that found nothing: a broken engine setup must fail the
/// smoke run, not print a fast row of zeros.
fn write_report(report: &Report, out: &Path) -> anyhow::Result<()> {
    std::fs::write(out, serde_json::to_string_pretty(report)? + "\n")?;
    anyhow::ensure!(
        report.mean_matches > 0.0,
        "{}: no query matched anything",
        report.engine
    );
    Ok(())
}
