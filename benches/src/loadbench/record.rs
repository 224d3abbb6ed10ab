//! Recording outcomes into HDR histograms, and the summaries made from them.
//!
//! Latencies are recorded in microseconds (1 us to 60 s, 3 significant digits). A request's
//! latency runs from its *scheduled* send time in open-loop mode (so a server that stalls
//! cannot hide its stall by slowing the sender: coordinated omission) and from its actual
//! send time in closed-loop mode, to the end of the response body.
//!
//! What counts: every request that got an HTTP answer is in the histograms, whatever its
//! status (as wrk2 and vegeta do); a request that timed out is recorded at its elapsed time,
//! so slowness is never dropped. Non-2xx answers and failures are also counted in `errors`
//! by status code (`"429"`, `"503"`) or by failure (`"timeout"`, `"connect"`, `"io"`, and
//! `"not_sent"` for arrivals dropped because the in-flight cap was reached).

use super::mix::Kind;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Highest latency a histogram holds; longer ones are clamped to it.
const MAX_US: u64 = 60_000_000;

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// No answer within the timeout.
    Timeout,
    /// Could not connect.
    Connect,
    /// Another transport failure.
    Io,
    /// Never sent: too many requests in flight.
    NotSent,
}

impl Outcome {
    /// The key in `errors`, or `None` for a success (2xx).
    pub fn error_key(self) -> Option<String> {
        match self {
            Outcome::Status(s) if (200..300).contains(&s) => None,
            Outcome::Status(s) => Some(s.to_string()),
            Outcome::Timeout => Some("timeout".into()),
            Outcome::Connect => Some("connect".into()),
            Outcome::Io => Some("io".into()),
            Outcome::NotSent => Some("not_sent".into()),
        }
    }

    /// Whether the latency of this outcome is recorded.
    fn has_latency(self) -> bool {
        matches!(self, Outcome::Status(_) | Outcome::Timeout)
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds")
}

/// One histogram with its error counts.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Latencies in microseconds.
    pub hist: Histogram<u64>,
    /// Requests counted (with or without latency).
    pub requests: u64,
    /// Errors by key.
    pub errors: BTreeMap<String, u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally {
            hist: histogram(),
            requests: 0,
            errors: BTreeMap::new(),
        }
    }
}

impl Tally {
    /// Counts one request.
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
        self.requests += 1;
        if outcome.has_latency() {
            let us = (latency.as_micros() as u64).clamp(1, MAX_US);
            self.hist.record(us).expect("clamped into range");
        }
        if let Some(key) = outcome.error_key() {
            *self.errors.entry(key).or_default() += 1;
        }
    }

    /// Errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Latency at quantile `q`, in ms (0 when nothing was recorded).
    pub fn ms_at(&self, q: f64) -> f64 {
        if self.hist.is_empty() {
            return 0.0;
        }
        round3(self.hist.value_at_quantile(q) as f64 / 1000.0)
    }

    /// The summary over `elapsed` seconds.
    pub fn summary(&self, elapsed_s: f64) -> Summary {
        let answered = self.hist.len();
        Summary {
            requests: self.requests,
            achieved_rps: if elapsed_s > 0.0 {
                round3(answered as f64 / elapsed_s)
            } else {
                0.0
            },
            p50_ms: self.ms_at(0.5),
            p90_ms: self.ms_at(0.9),
            p99_ms: self.ms_at(0.99),
            p999_ms: self.ms_at(0.999),
            max_ms: if self.hist.is_empty() {
                0.0
            } else {
                round3(self.hist.max() as f64 / 1000.0)
            },
            errors: self.errors.clone(),
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The contract's summary (section 2): the last stdout line of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Requests counted: every arrival, sent or not, answered or not.
    pub requests: u64,
    /// Requests answered (any status, or timed out) per second of run time.
    pub achieved_rps: f64,
    /// Latency percentiles and maximum, in ms.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest request.
    pub max_ms: f64,
    /// Errors by status code or failure.
    pub errors: BTreeMap<String, u64>,
}

impl Summary {
    /// Errors over requests (0 when there were none).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.errors.values().sum::<u64>() as f64 / self.requests as f64
    }
}

/// One second of a run (by scheduled time in open loop, send time in closed loop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Second {
    /// Seconds since the start.
    pub t: u64,
    /// Requests due in this second.
    pub requests: u64,
    /// Errors among them.
    pub errors: u64,
    /// Latency percentiles, ms.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// Everything a run records: overall, per kind and per second.
#[derive(Debug, Default)]
pub struct Recorder {
    /// All requests.
    pub all: Tally,
    /// Per query kind.
    pub kinds: BTreeMap<Kind, Tally>,
    /// Per second since the start.
    pub seconds: Vec<Tally>,
}

impl Recorder {
    /// Records a request of `kind` due at `offset` since the start.
    pub fn record(&mut self, kind: Kind, offset: Duration, outcome: Outcome, latency: Duration) {
        self.all.record(outcome, latency);
        self.kinds.entry(kind).or_default().record(outcome, latency);
        let second = offset.as_secs() as usize;
        if self.seconds.len() <= second {
            self.seconds.resize_with(second + 1, Tally::default);
        }
        self.seconds[second].record(outcome, latency);
    }

    /// The per-second series.
    pub fn series(&self) -> Vec<Second> {
        self.seconds
            .iter()
            .enumerate()
            .map(|(t, s)| Second {
                t: t as u64,
                requests: s.requests,
                errors: s.error_count(),
                p50_ms: s.ms_at(0.5),
                p90_ms: s.ms_at(0.9),
                p99_ms: s.ms_at(0.99),
                max_ms: s.ms_at(1.0),
            })
            .collect()
    }

    /// Per-kind summaries by kind name.
    pub fn kind_summaries(&self, elapsed_s: f64) -> BTreeMap<String, Summary> {
        self.kinds
            .iter()
            .map(|(k, t)| (k.name().to_string(), t.summary(elapsed_s)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn summary_json_has_the_contract_keys_in_order() {
        let mut t = Tally::default();
        for i in 1..=1000 {
            t.record(Outcome::Status(200), ms(i));
        }
        t.record(Outcome::Status(429), ms(1));
        t.record(Outcome::NotSent, Duration::ZERO);
        let s = t.summary(10.0);
        let json = serde_json::to_string(&s).unwrap();
        let keys = [
            "requests",
            "achieved_rps",
            "p50_ms",
            "p90_ms",
            "p99_ms",
            "p999_ms",
            "max_ms",
            "errors",
        ];
        let mut at = 0;
        for k in keys {
            let pos = json.find(&format!("\"{k}\"")).unwrap();
            assert!(pos >= at, "{k} out of order in {json}");
            at = pos;
        }
        assert_eq!(s.requests, 1002);
        assert_eq!(s.achieved_rps, 100.1, "answered (1001) over 10 s");
        assert_eq!(s.errors["429"], 1);
        assert_eq!(s.errors["not_sent"], 1);
        // HDR at 3 significant digits: within 0.1%.
        assert!((s.p50_ms - 500.0).abs() <= 0.5, "{}", s.p50_ms);
        assert!((s.p99_ms - 990.0).abs() <= 1.0, "{}", s.p99_ms);
        assert!(s.p50_ms <= s.p90_ms && s.p90_ms <= s.p99_ms && s.p99_ms <= s.p999_ms);
        assert!(s.p999_ms <= s.max_ms && (s.max_ms - 1000.0).abs() <= 1.0);
        let back: Summary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn timeouts_keep_their_latency_and_failures_do_not() {
        let mut t = Tally::default();
        t.record(Outcome::Timeout, Duration::from_secs(10));
        t.record(Outcome::Connect, ms(1));
        assert_eq!(t.hist.len(), 1);
        assert!(t.ms_at(1.0) >= 9_990.0);
        assert_eq!(t.error_count(), 2);
        let huge = Duration::from_secs(3600);
        t.record(Outcome::Status(200), huge);
        assert_eq!(t.hist.max(), t.hist.highest_equivalent(MAX_US), "clamped");
    }

    #[test]
    fn an_empty_tally_summarises_to_zeros() {
        let s = Tally::default().summary(0.0);
        assert_eq!(
            (s.requests, s.achieved_rps, s.p99_ms, s.max_ms),
            (0, 0.0, 0.0, 0.0)
        );
        assert_eq!(s.error_rate(), 0.0);
    }

    #[test]
    fn recorder_buckets_by_second_and_kind() {
        let mut r = Recorder::default();
        r.record(Kind::Word, ms(100), Outcome::Status(200), ms(2));
        r.record(Kind::Word, ms(2500), Outcome::Status(503), ms(4));
        r.record(Kind::Phrase, ms(2600), Outcome::Status(200), ms(6));
        let series = r.series();
        assert_eq!(series.len(), 3);
        assert_eq!((series[0].requests, series[1].requests), (1, 0));
        assert_eq!((series[2].requests, series[2].errors), (2, 1));
        let kinds = r.kind_summaries(3.0);
        assert_eq!(kinds["word"].requests, 2);
        assert_eq!(kinds["phrase"].errors.len(), 0);
    }
}
