//! Bulk ingest: files (or stdin) to the index, with checkpoints, rejects and a summary.
//!
//! Three stages overlap:
//! 1. a reader thread streams lines into batches (bounded channel: reading never runs more
//!    than a few batches ahead, so memory stays flat whatever the input size);
//! 2. the calling thread prepares each batch in parallel on rayon ([`Preparer`]);
//! 3. it then applies the batch in input order to the single writer ([`Store::apply`]), whose
//!    own threads index in the background while the next batch is prepared.
//!
//! Commits happen every `commit_interval` and at the end, each carrying the checkpoints of
//! every source read so far. A rerun after a crash resumes each file at its checkpoint; a file
//! already indexed to its end is skipped unless `from_start` is set.

use crate::checkpoint::{self, Checkpoints};
use crate::error::{Error, Result};
use crate::lang::ChannelPriors;
use crate::post::Reject;
use crate::prepare::{Prepared, Preparer};
use crate::source::{Line, LineReader};
use crate::store::{Applied, Store, StoreOptions};
use filters::Policy;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where posts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (no checkpoint: it cannot be re-read).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// `-` is stdin; anything else a file path.
    pub fn parse(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::File(PathBuf::from(arg))
        }
    }
}

/// Ingest settings.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Data directory (index under `index/`, rejects in `rejected.ndjson`).
    pub data_dir: PathBuf,
    /// Writer settings.
    pub store: StoreOptions,
    /// Longest time between commits.
    pub commit_interval: Duration,
    /// Lines per batch.
    pub batch_lines: usize,
    /// Ignore checkpoints and read every source from its start.
    pub from_start: bool,
    /// Draw a progress bar on stderr (when it is a terminal).
    pub progress: bool,
}

impl IngestOptions {
    /// Defaults for `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> IngestOptions {
        IngestOptions {
            data_dir: data_dir.into(),
            store: StoreOptions::default(),
            commit_interval: Duration::from_secs(10),
            batch_lines: 2000,
            from_start: false,
            progress: false,
        }
    }
}

/// The contract's summary, plus details.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Lines read (blank lines excluded).
    pub read: u64,
    /// Posts written to the index.
    pub indexed: u64,
    /// Posts dropped by the filters.
    pub dropped: u64,
    /// Lines rejected (see `rejected.ndjson`).
    pub rejected: u64,
    /// Wall time in seconds.
    pub elapsed_s: f64,
    /// Upserts older than the indexed version, ignored.
    pub stale: u64,
    /// Post deletions applied.
    pub deleted: u64,
    /// Channel deletions applied.
    pub channels_deleted: u64,
    /// Sources skipped because their checkpoint says they are fully indexed.
    pub skipped_sources: u64,
    /// Lines skipped by resuming from a checkpoint.
    pub resumed_lines: u64,
    /// Commits made.
    pub commits: u64,
}

/// The line record written to `rejected.ndjson`.
#[derive(Serialize)]
struct RejectedLine<'a> {
    source: &'a str,
    line: u64,
    reason: &'a str,
    raw: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    raw_truncated: bool,
}

struct Batch {
    lines: Vec<Line>,
    /// Byte offset and line number after the batch's last line.
    end_offset: u64,
    end_line: u64,
}

/// Runs a bulk ingest of `sources` into `options.data_dir`.
pub fn ingest(
    options: &IngestOptions,
    sources: &[Source],
    policy: Arc<dyn Policy>,
) -> Result<Summary> {
    let store = Store::open(&options.data_dir, &options.store)?;
    ingest_into(store, options, sources, policy)
}

/// [`ingest`] into a store the caller already opened (holding its writer lock, e.g. while it
/// prepares the policy).
pub fn ingest_into(
    mut store: Store,
    options: &IngestOptions,
    sources: &[Source],
    policy: Arc<dyn Policy>,
) -> Result<Summary> {
    let started = Instant::now();
    let mut checkpoints = Checkpoints::from_payload(store.last_payload()?.as_deref())?;
    let mut rejects = RejectLog::open(
        &options.data_dir.join("rejected.ndjson"),
        checkpoints.rejected_len,
    )?;
    let preparer = Preparer::new(store.fields().clone(), policy);
    let mut run = Run {
        summary: Summary::default(),
        priors: ChannelPriors::default(),
        last_commit: Instant::now(),
        progress: progress_bar(options.progress, sources),
    };
    for source in sources {
        let opened = open_source(source, &checkpoints, options.from_start)?;
        let Some(opened) = opened else {
            run.summary.skipped_sources += 1;
            tracing::info!(source = %source_name(source), "already indexed to its end, skipped (use --from-start to index it again)");
            continue;
        };
        run.summary.resumed_lines += opened.first_line - 1;
        run.progress.inc(opened.start_offset);
        ingest_source(
            options,
            &mut store,
            &preparer,
            &mut checkpoints,
            &mut rejects,
            &mut run,
            opened,
        )?;
    }
    commit(&mut store, &mut checkpoints, &mut rejects, &mut run)?;
    store.close()?;
    run.progress.finish_and_clear();
    run.summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok(run.summary)
}

struct Run {
    summary: Summary,
    priors: ChannelPriors,
    last_commit: Instant,
    progress: ProgressBar,
}

struct Opened {
    name: String,
    fingerprint: Option<String>,
    reader: Box<dyn BufRead + Send>,
    first_line: u64,
    start_offset: u64,
}

fn source_name(source: &Source) -> String {
    match source {
        Source::Stdin => "-".to_string(),
        Source::File(p) => p.display().to_string(),
    }
}

/// Opens a source positioned at its checkpoint; `None` when it is already fully indexed.
fn open_source(
    source: &Source,
    checkpoints: &Checkpoints,
    from_start: bool,
) -> Result<Option<Opened>> {
    let path = match source {
        Source::Stdin => {
            return Ok(Some(Opened {
                name: "-".into(),
                fingerprint: None,
                reader: Box::new(BufReader::with_capacity(1 << 20, io::stdin())),
                first_line: 1,
                start_offset: 0,
            }));
        }
        Source::File(path) => path,
    };
    let name = std::fs::canonicalize(path)
        .map_err(|e| Error::io(format!("open {}", path.display()), e))?
        .display()
        .to_string();
    let fingerprint = checkpoint::fingerprint(path)?;
    let mut file =
        File::open(path).map_err(|e| Error::io(format!("open {}", path.display()), e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io(format!("stat {}", path.display()), e))?
        .len();
    let (mut first_line, mut start_offset) = (1, 0);
    if let Some(cp) = checkpoints.sources.get(&name)
        && cp.fingerprint == fingerprint
        && !from_start
        && cp.offset <= len
    {
        if cp.offset == len {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(cp.offset))
            .map_err(|e| Error::io(format!("seek {}", path.display()), e))?;
        first_line = cp.line + 1;
        start_offset = cp.offset;
        tracing::info!(source = %name, line = first_line, "resuming from checkpoint");
    }
    Ok(Some(Opened {
        name,
        fingerprint: Some(fingerprint),
        reader: Box::new(BufReader::with_capacity(1 << 20, file)),
        first_line,
        start_offset,
    }))
}

fn ingest_source(
    options: &IngestOptions,
    store: &mut Store,
    preparer: &Preparer,
    checkpoints: &mut Checkpoints,
    rejects: &mut RejectLog,
    run: &mut Run,
    opened: Opened,
) -> Result<()> {
    let (tx, rx) = crossbeam_channel::bounded::<io::Result<Batch>>(4);
    let batch_lines = options.batch_lines.max(1);
    let reader = opened.reader;
    let (first_line, start_offset) = (opened.first_line, opened.start_offset);
    let reader_thread = std::thread::Builder::new()
        .name("ingest-reader".into())
        .spawn(move || read_batches(reader, first_line, start_offset, batch_lines, tx))
        .map_err(|e| Error::io("spawn reader thread", e))?;
    let mut last_offset = start_offset;
    for batch in rx {
        let batch = batch.map_err(|e| Error::io(format!("read {}", opened.name), e))?;
        let prepared: Vec<Option<Prepared>> = batch
            .lines
            .par_iter()
            .map(|line| match line {
                Line::Data { bytes, .. } if bytes.iter().all(u8::is_ascii_whitespace) => None,
                Line::Data { bytes, .. } => Some(preparer.prepare(bytes, &run.priors)),
                Line::Oversized { len, .. } => Some(Prepared::Rejected(Reject(format!(
                    "line is {len} bytes, over the {}-byte limit",
                    crate::post::MAX_LINE_BYTES
                )))),
            })
            .collect();
        for (line, item) in batch.lines.iter().zip(prepared) {
            let Some(item) = item else { continue };
            run.summary.read += 1;
            if let Prepared::Rejected(reason) = &item {
                rejects.write(&opened.name, line_number(line), &reason.0, line)?;
            }
            if let Prepared::Upsert(post) = &item
                && let Some(d) = post.detected
            {
                run.priors.observe(post.key.channel_id, d);
            }
            match store.apply(item)? {
                Applied::Indexed => run.summary.indexed += 1,
                Applied::Dropped => run.summary.dropped += 1,
                Applied::Stale => run.summary.stale += 1,
                Applied::Deleted => run.summary.deleted += 1,
                Applied::ChannelDeleted(_) => run.summary.channels_deleted += 1,
                Applied::Rejected => run.summary.rejected += 1,
            }
        }
        if let Some(fp) = &opened.fingerprint {
            checkpoints.advance(&opened.name, fp, batch.end_offset, batch.end_line);
        }
        run.progress.inc(batch.end_offset - last_offset);
        last_offset = batch.end_offset;
        let secs = run.progress.elapsed().as_secs_f64().max(1e-3);
        run.progress.set_message(format!(
            "{} posts, {:.0} posts/s, {} rejected",
            run.summary.indexed,
            run.summary.read as f64 / secs,
            run.summary.rejected
        ));
        if run.last_commit.elapsed() >= options.commit_interval {
            commit(store, checkpoints, rejects, run)?;
        }
    }
    reader_thread
        .join()
        .map_err(|_| Error::io("reader thread", io::Error::other("panicked")))?;
    Ok(())
}

fn line_number(line: &Line) -> u64 {
    match line {
        Line::Data { number, .. } | Line::Oversized { number, .. } => *number,
    }
}

fn read_batches(
    reader: Box<dyn BufRead + Send>,
    first_line: u64,
    start_offset: u64,
    batch_lines: usize,
    tx: crossbeam_channel::Sender<io::Result<Batch>>,
) {
    let mut lines = LineReader::new(reader, first_line, start_offset);
    loop {
        let mut batch = Vec::with_capacity(batch_lines);
        let mut failed = None;
        while batch.len() < batch_lines {
            match lines.next_line() {
                Ok(Some(line)) => batch.push(line),
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let done = batch.len() < batch_lines;
        if !batch.is_empty() {
            let b = Batch {
                lines: batch,
                end_offset: lines.offset(),
                end_line: lines.line_number(),
            };
            if tx.send(Ok(b)).is_err() {
                return;
            }
        }
        if let Some(e) = failed {
            let _ = tx.send(Err(e));
            return;
        }
        if done {
            return;
        }
    }
}

fn commit(
    store: &mut Store,
    checkpoints: &mut Checkpoints,
    rejects: &mut RejectLog,
    run: &mut Run,
) -> Result<()> {
    checkpoints.rejected_len = rejects.sync()?;
    store.commit(&checkpoints.to_payload())?;
    run.summary.commits += 1;
    run.last_commit = Instant::now();
    Ok(())
}

fn progress_bar(enabled: bool, sources: &[Source]) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let total: Option<u64> = sources
        .iter()
        .map(|s| match s {
            Source::Stdin => None,
            Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
        })
        .sum();
    let bar = match total {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let template = if total.is_some() {
        "{elapsed_precise} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta}) {msg}"
    } else {
        "{elapsed_precise} {spinner} {bytes} ({bytes_per_sec}) {msg}"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// `rejected.ndjson`, cut back at open to the length recorded at the last commit.
struct RejectLog {
    path: PathBuf,
    out: BufWriter<File>,
    len: u64,
}

impl RejectLog {
    fn open(path: &Path, committed_len: u64) -> Result<RejectLog> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(format!("open {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io(format!("stat {}", path.display()), e))?
            .len();
        if len > committed_len {
            // Lines written after the last commit belong to work the crash undid: they will be
            // rejected again when the input is re-read.
            file.set_len(committed_len)
                .map_err(|e| Error::io(format!("truncate {}", path.display()), e))?;
        }
        Ok(RejectLog {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            len: len.min(committed_len),
        })
    }

    fn write(&mut self, source: &str, line: u64, reason: &str, raw: &Line) -> Result<()> {
        let (bytes, truncated) = match raw {
            Line::Data { bytes, .. } => (bytes.as_slice(), false),
            Line::Oversized { head, .. } => (head.as_slice(), true),
        };
        let record = RejectedLine {
            source,
            line,
            reason,
            raw: String::from_utf8_lossy(bytes).into_owned(),
            raw_truncated: truncated,
        };
        let mut json = serde_json::to_vec(&record).expect("rejected line serializes");
        json.push(b'\n');
        self.out
            .write_all(&json)
            .map_err(|e| Error::io(format!("write {}", self.path.display()), e))?;
        self.len += json.len() as u64;
        Ok(())
    }

    /// Flushes and fsyncs; returns the durable length.
    fn sync(&mut self) -> Result<u64> {
        self.out
            .flush()
            .and_then(|_| self.out.get_ref().sync_data())
            .map_err(|e| Error::io(format!("sync {}", self.path.display()), e))?;
        Ok(self.len)
    }
}
