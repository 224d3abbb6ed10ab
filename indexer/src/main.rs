//! `indexer`: bulk ingest, index stats and the language-identification evaluation.

use anyhow::Context;
use clap::{Parser, Subcommand};
use indexer::ingest::{IngestOptions, Source, ingest_into};
use indexer::store::{Store, StoreOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "indexer",
    version,
    about = "Index channel posts (contract NDJSON) into chansearch's Tantivy index"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest NDJSON files (or `-` for stdin); prints a JSON summary as the last stdout line.
    Ingest {
        /// Data directory (created if missing).
        #[arg(long)]
        data: PathBuf,
        /// A rules file (JSON array of rule objects) imported into the data directory's rule
        /// store before ingesting; a rule whose id exists is replaced. The stored rules and
        /// classifier settings apply whether or not this is given.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Input files; `-` reads stdin.
        #[arg(required = true)]
        files: Vec<String>,
        /// Seconds between commits (a crash loses at most this much work, which a rerun redoes).
        #[arg(long, default_value_t = 10.0)]
        commit_interval: f64,
        /// Tantivy indexing threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Writer memory budget in MiB.
        #[arg(long, default_value_t = 400)]
        memory_mb: usize,
        /// Ignore checkpoints: read every file from its start (upserts are idempotent).
        #[arg(long)]
        from_start: bool,
        /// Never draw the progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Create an empty rules database in a data directory whose database was lost (the
    /// service refuses to start without one rather than silently dropping every takedown).
    InitRules {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Print one JSON line: {"docs","segments","size_bytes","last_commit"}.
    Stats {
        /// Data directory.
        #[arg(long)]
        data: PathBuf,
    },
    /// Language-identification accuracy on the lingua test data, whatlang beside ours.
    LangidEval {
        /// The lingua-langid-testdata directory.
        #[arg(long, default_value = "../shared/data/lingua-langid-testdata")]
        data: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match cli.command {
        Command::Ingest {
            data,
            rules,
            files,
            commit_interval,
            threads,
            memory_mb,
            from_start,
            quiet,
        } => {
            let options = IngestOptions {
                store: StoreOptions {
                    threads,
                    memory_bytes: memory_mb << 20,
                },
                commit_interval: Duration::from_secs_f64(commit_interval.max(0.0)),
                from_start,
                progress: !quiet && std::io::stderr().is_terminal(),
                ..IngestOptions::new(&data)
            };
            let sources: Vec<Source> = files.iter().map(|f| Source::parse(f)).collect();
            // The rules database before the index (which would otherwise look orphaned), and
            // the index writer lock before importing: rules must not change under a server
            // that owns the index.
            let moderation = moderation::Store::open(&data)?;
            let store = Store::open(&options.data_dir, &options.store)
                .with_context(|| format!("open the index in {}", data.display()))?;
            let policy = policy(&moderation, rules.as_deref())?;
            let summary = ingest_into(store, &options, &sources, Arc::new(policy))
                .with_context(|| format!("ingest into {}", data.display()))?;
            if summary.rejected > 0 {
                tracing::warn!(
                    rejected = summary.rejected,
                    file = %data.join("rejected.ndjson").display(),
                    "some lines were rejected; reasons and line numbers are in the file"
                );
            }
            writeln!(stdout, "{}", serde_json::to_string(&summary)?)?;
        }
        Command::InitRules { data } => {
            let store = moderation::Store::open_or_create(&data)?;
            tracing::info!(path = %store.path().display(), rules = store.rules()?.len(), "rules database ready");
        }
        Command::Stats { data } => {
            let stats = indexer::stats::stats(&data)
                .with_context(|| format!("stats of {}", data.display()))?;
            writeln!(stdout, "{}", serde_json::to_string(&stats)?)?;
        }
        Command::LangidEval { data } => {
            indexer::langid_eval::run(&data, &mut stdout)?;
        }
    }
    Ok(())
}

/// The filters engine of a data directory: its stored rules (after importing `rules_file`)
/// and classifier settings.
fn policy(store: &moderation::Store, rules_file: Option<&Path>) -> anyhow::Result<filters::Engine> {
    if let Some(file) = rules_file {
        let summary = store.import_file(file, "cli")?;
        tracing::info!(
            created = summary.created,
            replaced = summary.replaced,
            unchanged = summary.unchanged,
            "rules imported from {}",
            file.display()
        );
    }
    Ok(store.engine()?)
}
