//! Live ingest: the server owns the index writer; `POST /v1/ingest` goes through the same
//! preparation and store as the CLI, and answers once its posts are committed and visible.
//!
//! Group commit: each request applies its posts under the store lock and takes a sequence
//! number; a committer task commits at most every `commit_interval_ms`, reloads the reader and
//! publishes the last sequence it covered. A request waits until its sequence is published, so
//! when it is answered its posts are already searchable (the contract asks for within 1 s),
//! while many concurrent requests share one commit.

use crate::error::ApiError;
use indexer::checkpoint::Checkpoints;
use indexer::lang::ChannelPriors;
use indexer::prepare::{Prepared, Preparer};
use indexer::store::{Applied, Store};
use parking_lot::Mutex;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tantivy::IndexReader;
use tokio::sync::{Notify, watch};

/// The answer to one ingest request: the CLI's summary plus per-line errors.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct IngestSummary {
    /// Lines read (blank lines excluded).
    pub read: u64,
    /// Posts written.
    pub indexed: u64,
    /// Posts dropped by the filters.
    pub dropped: u64,
    /// Lines rejected.
    pub rejected: u64,
    /// Seconds spent.
    pub elapsed_s: f64,
    /// Upserts older than the indexed version, ignored.
    pub stale: u64,
    /// Deletions applied (posts and channels).
    pub deleted: u64,
    /// One entry per rejected line.
    pub errors: Vec<LineError>,
}

/// A rejected line.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line number in the request body.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// Writer-side state of the server.
pub struct Live {
    store: Mutex<Store>,
    preparer: Preparer,
    priors: Mutex<ChannelPriors>,
    checkpoints: Mutex<Checkpoints>,
    applied: AtomicU64,
    committed_tx: watch::Sender<u64>,
    committed_rx: watch::Receiver<u64>,
    dirty: Notify,
    reader: IndexReader,
    /// Posts indexed since start (for metrics).
    pub indexed_total: AtomicU64,
    /// Commits since start (for metrics).
    pub commits_total: AtomicU64,
    /// The search engine, whose takedown sets are warmed for new segments after each reload.
    engine: std::sync::OnceLock<Arc<crate::search::Engine>>,
}

impl Live {
    /// Takes over `store`; `reader` is reloaded after each commit.
    pub fn new(
        store: Store,
        reader: IndexReader,
        policy: Arc<dyn filters::Policy>,
    ) -> anyhow::Result<Live> {
        let checkpoints = Checkpoints::from_payload(store.last_payload()?.as_deref())?;
        let preparer = Preparer::new(store.fields().clone(), policy);
        let (committed_tx, committed_rx) = watch::channel(0);
        Ok(Live {
            store: Mutex::new(store),
            preparer,
            priors: Mutex::new(ChannelPriors::default()),
            checkpoints: Mutex::new(checkpoints),
            applied: AtomicU64::new(0),
            committed_tx,
            committed_rx,
            dirty: Notify::new(),
            reader,
            indexed_total: AtomicU64::new(0),
            commits_total: AtomicU64::new(0),
            engine: std::sync::OnceLock::new(),
        })
    }

    /// Connects the search engine (once): after each commit, the takedown sets of the new
    /// segments are computed before the commit is announced, so the first search after it
    /// does not pay for them and a post taken down by a rule never shows, even briefly.
    pub fn attach(&self, engine: Arc<crate::search::Engine>) {
        let _ = self.engine.set(engine);
    }

    /// Deletes the posts each query matches, then commits once (drop rules reaching indexed
    /// posts). Blocking.
    pub fn delete_matching(
        &self,
        queries: Vec<Box<dyn tantivy::query::Query>>,
    ) -> anyhow::Result<()> {
        if queries.is_empty() {
            return Ok(());
        }
        {
            let mut store = self.store.lock();
            for query in queries {
                store.delete_matching(query)?;
            }
        }
        self.applied.fetch_add(1, Ordering::SeqCst);
        self.commit_now()?;
        Ok(())
    }

    /// Removes version `version` of a held post that a moderator rejected (see
    /// [`indexer::store::Store::reject`]) and commits. Returns false when the post is no
    /// longer at that version. Blocking.
    pub fn reject(&self, key: indexer::post::PostKey, version: i64) -> anyhow::Result<bool> {
        let rejected = self.store.lock().reject(key, version)?;
        if rejected {
            self.applied.fetch_add(1, Ordering::SeqCst);
            self.commit_now()?;
        }
        Ok(rejected)
    }

    /// Prepares and applies an NDJSON body; returns the summary and the sequence number to
    /// wait for. Blocking: run it off the async runtime.
    pub fn apply_body(&self, body: &[u8]) -> Result<(IngestSummary, u64), ApiError> {
        let started = Instant::now();
        let lines: Vec<(u64, &[u8])> = body
            .split(|&b| b == b'\n')
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l.strip_suffix(b"\r").unwrap_or(l)))
            .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
            .collect();
        let prepared: Vec<(u64, Prepared)> = {
            let priors = self.priors.lock();
            lines
                .par_iter()
                .map(|(n, l)| (*n, self.preparer.prepare(l, &priors)))
                .collect()
        };
        let mut summary = IngestSummary::default();
        let mut observed = Vec::new();
        let seq = {
            let mut store = self.store.lock();
            for (line, item) in prepared {
                summary.read += 1;
                if let Prepared::Rejected(reason) = &item {
                    summary.errors.push(LineError {
                        line,
                        reason: reason.0.clone(),
                    });
                }
                if let Prepared::Upsert(p) = &item
                    && let Some(d) = p.detected
                {
                    observed.push((p.key.channel_id, d));
                }
                match store.apply(item).map_err(ApiError::internal)? {
                    Applied::Indexed => summary.indexed += 1,
                    Applied::Dropped => summary.dropped += 1,
                    Applied::Stale => summary.stale += 1,
                    Applied::Deleted | Applied::ChannelDeleted(_) => summary.deleted += 1,
                    Applied::Rejected => summary.rejected += 1,
                }
            }
            self.applied.fetch_add(1, Ordering::SeqCst) + 1
        };
        {
            let mut priors = self.priors.lock();
            for (channel, d) in observed {
                priors.observe(channel, d);
            }
        }
        self.indexed_total
            .fetch_add(summary.indexed, Ordering::Relaxed);
        self.dirty.notify_one();
        summary.elapsed_s = started.elapsed().as_secs_f64();
        Ok((summary, seq))
    }

    /// Waits until sequence `seq` is committed and visible to searches.
    pub async fn wait_visible(&self, seq: u64, timeout: Duration) -> Result<(), ApiError> {
        let mut rx = self.committed_rx.clone();
        match tokio::time::timeout(timeout, rx.wait_for(|c| *c >= seq)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(ApiError::internal("committer stopped")),
            Err(_) => Err(ApiError::Timeout),
        }
    }

    /// Commits whatever was applied; returns whether there was anything. Blocking.
    pub fn commit_now(&self) -> anyhow::Result<bool> {
        let mut store = self.store.lock();
        let target = self.applied.load(Ordering::SeqCst);
        if target <= *self.committed_rx.borrow() {
            return Ok(false);
        }
        let payload = self.checkpoints.lock().to_payload();
        store.commit(&payload)?;
        drop(store);
        self.reader.reload()?;
        if let Some(engine) = self.engine.get() {
            engine.takedown().warm(&self.reader.searcher())?;
        }
        self.commits_total.fetch_add(1, Ordering::Relaxed);
        self.committed_tx.send_replace(target);
        Ok(true)
    }

    /// The committer loop: commits at most every `interval` while there is work; ends when
    /// `shutdown` resolves, after a last commit.
    pub async fn run_committer(
        self: Arc<Self>,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = self.dirty.notified() => {}
                _ = &mut shutdown => break,
            }
            tokio::time::sleep(interval).await;
            let live = self.clone();
            match tokio::task::spawn_blocking(move || live.commit_now()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "commit failed"),
                Err(e) => tracing::error!(error = %e, "commit task failed"),
            }
        }
        let live = self.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || live.commit_now()).await {
            tracing::error!(error = %e, "final commit failed");
        }
    }
}
