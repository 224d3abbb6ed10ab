//! `loadbench`: load against a running chansearch server, and the comparison of two runs.
//!
//! Modes:
//! - open loop (`--rate R`, the default at 50/s): requests are sent on schedule whether or
//!   not earlier ones returned, and latency runs from the scheduled time, so a stalling server
//!   cannot hide its stalls by slowing the sender (coordinated omission);
//! - closed loop (`--connections N`): N workers each sending back to back; what a fixed pool
//!   of clients sees, and the most a server gives at that concurrency;
//! - ramp (`--ramp`): open-loop steps of rising rate until p99 passes `--slo-p99-ms` or errors
//!   pass `--max-error-rate`; reports the highest rate that held;
//! - `--compare old.json new.json`: the change per percentile and a verdict that accounts for
//!   run-to-run noise ([`compare`]).
//!
//! Queries come from a file ([`mix`] documents the format), are generated from a corpus
//! (`--corpus`, weighted by `--mix`), or are a small built-in list. Tokens are given
//! (`--token`, repeatable) or minted with the server's secret (`--secret` or
//! `CHANSEARCH_SECRET`: `--users` users, a `--free-share` of them on the free tier).
//!
//! The last stdout line is the contract's summary (CONTRACT.md section 2); `--out` writes
//! the full [`report::Report`], `--chart` an SVG ([`chart`]).

pub mod chart;
pub mod compare;
pub mod mix;
pub mod record;
pub mod report;
pub mod run;
pub mod schedule;

use anyhow::{Context, bail};
use clap::Parser;
use record::Recorder;
use report::{Ramp, Report, Step};
use run::{Progress, Target};
use search_api::auth::{Keys, Role, Tier, claims};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Command line.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "loadbench",
    about = "Load against a running chansearch server: open loop, closed loop or ramp; HDR percentiles; JSON results; SVG chart; comparison of two runs"
)]
pub struct Args {
    /// Server base URL (`http://127.0.0.1:7700`) or its `/v1/search` URL.
    #[arg(long, required_unless_present = "compare")]
    pub url: Option<String>,
    /// Bearer token; repeat to rotate through several.
    #[arg(long)]
    pub token: Vec<String>,
    /// Mint tokens with this signing secret instead of giving them.
    #[arg(long, env = "CHANSEARCH_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Users to mint tokens for (each has its own rate limit on the server).
    #[arg(long, default_value_t = 200)]
    pub users: usize,
    /// Share of minted users on the free tier (their daily quota runs out: 429s).
    #[arg(long, default_value_t = 0.0)]
    pub free_share: f64,
    /// Open loop: requests per second [default: 50].
    #[arg(long, conflicts_with = "connections")]
    pub rate: Option<f64>,
    /// Closed loop: workers sending back to back.
    #[arg(long)]
    pub connections: Option<usize>,
    /// Seconds of load (per step in a ramp: --step-duration).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds of unrecorded load before the run.
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Query file: one raw query or URL query string per line.
    #[arg(long, conflicts_with = "corpus")]
    pub queries: Option<PathBuf>,
    /// Contract NDJSON corpus to draw a query mix from.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Weights of a generated mix, `kind=weight,...`.
    #[arg(long, default_value = mix::DEFAULT_WEIGHTS)]
    pub mix: String,
    /// Queries in a generated mix.
    #[arg(long, default_value_t = 2000)]
    pub mix_size: usize,
    /// Seed of the generated mix.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write the JSON results here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write an SVG chart here.
    #[arg(long)]
    pub chart: Option<PathBuf>,
    /// Ramp mode: raise the open-loop rate step by step.
    #[arg(long, conflicts_with_all = ["rate", "connections"])]
    pub ramp: bool,
    /// First ramp rate.
    #[arg(long, default_value_t = 50.0)]
    pub ramp_start: f64,
    /// Ramp increment.
    #[arg(long, default_value_t = 50.0)]
    pub ramp_step: f64,
    /// Highest ramp rate tried.
    #[arg(long, default_value_t = 100_000.0)]
    pub ramp_max: f64,
    /// Seconds per ramp step.
    #[arg(long, default_value_t = 10.0)]
    pub step_duration: f64,
    /// The p99 objective a ramp step must meet, ms.
    #[arg(long, default_value_t = 100.0)]
    pub slo_p99_ms: f64,
    /// Highest share of errors a ramp step may have.
    #[arg(long, default_value_t = 0.01)]
    pub max_error_rate: f64,
    /// Per-request timeout, ms (a timed-out request is an error, recorded at its latency).
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Open loop: most requests in flight; arrivals beyond it are counted as `not_sent`.
    #[arg(long, default_value_t = 4096)]
    pub max_in_flight: usize,
    /// No progress line.
    #[arg(long)]
    pub quiet: bool,
    /// Compare two results files instead of running.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
    pub compare: Option<Vec<PathBuf>>,
}

/// What a run or a comparison printed last: the stdout summary line.
pub fn main_with(args: Args) -> anyhow::Result<String> {
    if let Some(files) = &args.compare {
        let old = Report::read(&files[0])?;
        let new = Report::read(&files[1])?;
        let c = compare::compare(&old, &new);
        print!("{}", compare::render(&c));
        return Ok(serde_json::to_string(&c)?);
    }
    let rt = tokio::runtime::Runtime::new()?;
    let report = rt.block_on(run_load(&args))?;
    if let Some(out) = &args.out {
        report.write(out)?;
    }
    Ok(report.summary_line())
}

fn tokens(args: &Args) -> anyhow::Result<Vec<String>> {
    if !args.token.is_empty() {
        return Ok(args.token.clone());
    }
    let Some(secret) = &args.secret else {
        bail!("give --token T (repeatable) or --secret S (or CHANSEARCH_SECRET) to mint tokens");
    };
    if !(0.0..=1.0).contains(&args.free_share) {
        bail!("--free-share must be between 0 and 1");
    }
    let keys = Keys::new(secret);
    let users = args.users.max(1);
    let free = (users as f64 * args.free_share).round() as usize;
    // Free users spread through the rotation rather than bunched at its start.
    (0..users)
        .map(|i| {
            let tier = if free > 0 && (i * free) % users < free {
                Tier::Free
            } else {
                Tier::Premium
            };
            let sub = format!("loadbench-{i}");
            keys.mint(&claims(&sub, tier, Role::User, None, 86_400))
        })
        .collect()
}

fn queries(args: &Args) -> anyhow::Result<Vec<mix::Query>> {
    if let Some(path) = &args.queries {
        return mix::read_queries(path);
    }
    if let Some(path) = &args.corpus {
        let weights = mix::parse_weights(&args.mix)?;
        let vocab = mix::Vocabulary::from_corpus(path, 20_000, 400_000)?;
        eprintln!("vocabulary: {} posts sampled", vocab.len());
        return Ok(vocab.generate(&weights, args.mix_size.max(1), args.seed));
    }
    Ok(mix::builtin())
}

async fn run_load(args: &Args) -> anyhow::Result<Report> {
    let started_at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let endpoint = run::search_url(args.url.as_deref().context("--url is required")?)?;
    let tokens = tokens(args)?;
    let n_tokens = tokens.len();
    let queries = queries(args)?;
    let client = run::client(args.max_in_flight)?;
    let timeout = Duration::from_millis(args.timeout_ms);
    let target = Target::prepare(
        client,
        &endpoint,
        &queries,
        tokens,
        timeout,
        args.max_in_flight,
    )
    .await?;
    let target = Arc::new(target);
    let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in target.requests() {
        *kinds.entry(r.kind.name()).or_default() += 1;
    }
    eprintln!(
        "{} queries {kinds:?}, {n_tokens} tokens, {endpoint}",
        target.requests().len()
    );
    let first = match (args.ramp, args.connections) {
        (true, _) => Load::Open(args.ramp_start),
        (false, Some(n)) => Load::Closed(n.max(1)),
        (false, None) => Load::Open(args.rate.unwrap_or(50.0)),
    };
    if let Load::Open(r) = first
        && !(r > 0.0 && r.is_finite())
    {
        bail!("the rate must be above 0");
    }
    let mode = if args.ramp { "ramp" } else { first.name() };
    let config = serde_json::json!({
        "url": endpoint.as_str(), "mode": mode,
        "rate": if args.ramp { None } else { first.rate() },
        "connections": first.connections(), "duration_s": args.duration,
        "warmup_s": args.warmup, "queries": args.queries, "corpus": args.corpus,
        "mix": args.corpus.as_ref().map(|_| &args.mix), "requests_in_mix": target.requests().len(),
        "seed": args.seed, "tokens": n_tokens, "minted": args.token.is_empty(),
        "free_share": args.free_share, "timeout_ms": args.timeout_ms,
        "max_in_flight": args.max_in_flight, "chart": args.chart,
    });
    if args.warmup > 0.0 {
        load(args, &target, first, secs(args.warmup), "warmup").await;
    }
    let (report, rec) = if args.ramp {
        ramp(args, &target, config, started_at).await?
    } else {
        let (rec, elapsed) = load(args, &target, first, secs(args.duration), mode).await;
        (finish(config, started_at, &rec, elapsed, None), rec)
    };
    if let Some(path) = &args.chart {
        let title = format!("loadbench {mode}, {}", report.started_at);
        chart::draw(path, &title, &report.series, &rec.all)?;
    }
    Ok(report)
}

/// Seconds, never negative.
fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// One stretch of load.
#[derive(Debug, Clone, Copy)]
enum Load {
    /// Open loop at a rate.
    Open(f64),
    /// Closed loop with workers.
    Closed(usize),
}

impl Load {
    fn name(self) -> &'static str {
        match self {
            Load::Open(_) => "open",
            Load::Closed(_) => "closed",
        }
    }
    fn rate(self) -> Option<f64> {
        match self {
            Load::Open(r) => Some(r),
            Load::Closed(_) => None,
        }
    }
    fn connections(self) -> Option<usize> {
        match self {
            Load::Closed(n) => Some(n),
            Load::Open(_) => None,
        }
    }
}

/// Runs one stretch of load with a progress line; returns what was recorded and the run time.
async fn load(
    args: &Args,
    target: &Arc<Target>,
    what: Load,
    duration: Duration,
    label: &str,
) -> (Recorder, Duration) {
    let rec = Arc::new(Mutex::new(Recorder::default()));
    let progress = Arc::new(Progress::default());
    let stop = Arc::new(AtomicBool::new(false));
    let shown = (!args.quiet).then(|| {
        tokio::spawn(run::show_progress(
            label.to_string(),
            rec.clone(),
            progress.clone(),
            stop.clone(),
        ))
    });
    let elapsed = match what {
        Load::Open(rate) => {
            run::open_loop(target.clone(), rate, duration, rec.clone(), progress).await
        }
        Load::Closed(n) => {
            run::closed_loop(target.clone(), n, duration, rec.clone(), progress).await
        }
    };
    stop.store(true, Ordering::Relaxed);
    if let Some(h) = shown {
        let _ = h.await;
    }
    // Every task holding `rec` has finished; take the recorder out.
    let rec = std::mem::take(&mut *rec.lock().unwrap_or_else(|e| e.into_inner()));
    (rec, elapsed)
}

fn finish(
    config: serde_json::Value,
    started_at: String,
    rec: &Recorder,
    elapsed: Duration,
    ramp: Option<Ramp>,
) -> Report {
    let s = elapsed.as_secs_f64();
    Report {
        format: 1,
        started_at,
        config,
        summary: rec.all.summary(s),
        kinds: rec.kind_summaries(s),
        series: rec.series(),
        ramp,
    }
}

/// Open-loop steps of rising rate until one does not hold. The report's summary, kinds and
/// series are those of the highest step that held (or of the first step when none did).
async fn ramp(
    args: &Args,
    target: &Arc<Target>,
    mut config: serde_json::Value,
    started_at: String,
) -> anyhow::Result<(Report, Recorder)> {
    let rates = schedule::ramp_rates(args.ramp_start, args.ramp_step, args.ramp_max);
    if rates.is_empty() {
        bail!("--ramp-start must not be above --ramp-max");
    }
    let mut steps = Vec::new();
    let mut kept: Option<(Recorder, Duration)> = None;
    for rate in rates {
        let label = format!("ramp {rate}/s");
        let (rec, elapsed) = load(
            args,
            target,
            Load::Open(rate),
            secs(args.step_duration),
            &label,
        )
        .await;
        let summary = rec.all.summary(elapsed.as_secs_f64());
        let held = schedule::step_held(
            summary.p99_ms,
            summary.error_rate(),
            args.slo_p99_ms,
            args.max_error_rate,
        );
        eprintln!(
            "ramp {rate}/s: achieved {:.1}/s, p50 {} ms, p99 {} ms, errors {:?}: {}",
            summary.achieved_rps,
            summary.p50_ms,
            summary.p99_ms,
            summary.errors,
            if held { "held" } else { "did not hold" }
        );
        steps.push(Step {
            rate,
            held,
            summary,
        });
        if held || kept.is_none() {
            kept = Some((rec, elapsed));
        }
        if !held {
            break;
        }
    }
    let max_held_rps = steps.iter().filter(|s| s.held).map(|s| s.rate).next_back();
    let (rec, elapsed) = kept.expect("at least one step ran");
    config["ramp"] = serde_json::json!({
        "start": args.ramp_start, "step": args.ramp_step, "max": args.ramp_max,
        "step_duration_s": args.step_duration, "slo_p99_ms": args.slo_p99_ms,
        "max_error_rate": args.max_error_rate,
    });
    let ramp = Ramp {
        slo_p99_ms: args.slo_p99_ms,
        max_error_rate: args.max_error_rate,
        max_held_rps,
        steps,
    };
    let report = finish(config, started_at, &rec, elapsed, Some(ramp));
    Ok((report, rec))
}
