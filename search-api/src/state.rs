//! The state every handler shares.

use crate::auth::Keys;
use crate::config::Config;
use crate::limits::{DailyQuota, UserRateLimit};
use crate::live::Live;
use crate::metrics::Metrics;
use crate::search::Engine;
use indexer::store::{Store, StoreOptions};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tantivy::ReloadPolicy;

/// Shared state of one server.
pub struct AppState {
    /// Effective configuration.
    pub config: Config,
    /// Token keys.
    pub keys: Keys,
    /// Search.
    pub engine: Arc<Engine>,
    /// Live ingest (owns the index writer).
    pub live: Arc<Live>,
    /// Rules, classifier settings and the audit log.
    pub moderation: Arc<moderation::Store>,
    /// The filters deciding new posts; replaced whole when rules or settings change.
    pub policy: Arc<filters::SwappablePolicy>,
    /// Free-tier quota.
    pub quota: DailyQuota,
    /// Per-user rate limit.
    pub rate: UserRateLimit,
    /// Metrics.
    pub metrics: Metrics,
    /// Serializes rule changes and review decisions with the takedown rebuilds they cause,
    /// so that a slower rebuild of an older state never replaces a newer one.
    pub reload: parking_lot::Mutex<()>,
    /// Admission of searches (see `Limits::max_searches`).
    pub searches: tokio::sync::Semaphore,
    /// Regex scans under way, as (rule id, pattern) (see `rules_api::start_regex_scans`).
    pub regex_scans_running: parking_lot::Mutex<std::collections::HashSet<(String, String)>>,
}

impl AppState {
    /// Opens the rules database and the index under `config.data` (creating both when the
    /// directory is new), imports `rules_file` into the rules database, and takes the index
    /// writer.
    pub fn open(config: Config, rules_file: Option<&Path>) -> anyhow::Result<AppState> {
        let secret = config.require_secret()?.to_string();
        let moderation = moderation::Store::open(&config.data)?;
        if let Some(file) = rules_file {
            let summary = moderation.import_file(file, "cli")?;
            tracing::info!(
                created = summary.created,
                replaced = summary.replaced,
                unchanged = summary.unchanged,
                "rules imported from {}",
                file.display()
            );
        }
        let policy = Arc::new(filters::SwappablePolicy::new(moderation.engine()?));
        let store = Store::open(
            &config.data,
            &StoreOptions {
                threads: config.ingest.writer_threads.max(1),
                memory_bytes: config.ingest.writer_memory_mb.max(15) << 20,
            },
        )?;
        let reader = store
            .index()
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let fields = store.fields().clone();
        let engine = Arc::new(Engine::new(reader.clone(), fields, config.ranking.clone()));
        let live = Arc::new(Live::new(store, reader, policy.clone())?);
        live.attach(engine.clone());
        let approvals = crate::review_api::approvals(&moderation)?;
        let took = engine.takedown().update(
            &engine.searcher(),
            &moderation.rules()?,
            Arc::new(approvals),
        )?;
        tracing::info!(took_ms = took.as_secs_f64() * 1e3, "takedown sets built");
        Ok(AppState {
            keys: Keys::new(&secret),
            engine,
            live,
            moderation: Arc::new(moderation),
            policy,
            quota: DailyQuota::new(config.limits.daily_free),
            rate: UserRateLimit::new(config.limits.rate_per_second, config.limits.rate_burst),
            metrics: Metrics::new(),
            reload: parking_lot::Mutex::new(()),
            searches: tokio::sync::Semaphore::new(match config.limits.max_searches {
                0 => 2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
                n => n,
            }),
            regex_scans_running: parking_lot::Mutex::new(Default::default()),
            config,
        })
    }

    /// Waits up to `search_queue_ms` for a search's turn; `Overloaded` (503) when none comes.
    pub async fn admit_search(
        &self,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, crate::error::ApiError> {
        let wait = std::time::Duration::from_millis(self.config.limits.search_queue_ms);
        match tokio::time::timeout(wait, self.searches.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                self.metrics.refused("overloaded");
                Err(crate::error::ApiError::Overloaded)
            }
        }
    }

    /// Brings gauges and mirrored counters up to date (called before rendering metrics).
    pub fn refresh_gauges(&self) {
        let searcher = self.engine.searcher();
        self.metrics.docs.set(searcher.num_docs() as i64);
        let dir = self.config.data.join("index");
        let size: u64 = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        self.metrics.index_bytes.set(size as i64);
        let indexed = self.live.indexed_total.load(Ordering::Relaxed);
        let seen = self.metrics.docs_indexed.get();
        self.metrics
            .docs_indexed
            .inc_by(indexed.saturating_sub(seen));
        let commits = self.live.commits_total.load(Ordering::Relaxed);
        let seen = self.metrics.commits.get();
        self.metrics.commits.inc_by(commits.saturating_sub(seen));
    }
}
