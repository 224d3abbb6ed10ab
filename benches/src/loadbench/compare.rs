//! `--compare old.json new.json`: the change between two runs, and whether it is more than
//! run-to-run noise.
//!
//! Method. A run's overall p99 is one number; two runs of the same build on this shared
//! machine differ by 10-30% at p99, so comparing two numbers says little. Each run also has a
//! per-second series, and each second's p50 and p99 is a sample of "what this build does
//! under this load". For p50 and for p99 separately, the two runs' per-second samples (seconds
//! with at least [`MIN_REQUESTS`] requests) are compared with a two-sided Mann-Whitney U test
//! (rank based, so a few wild seconds do not dominate, and no normality is assumed). A metric
//! changed when the test gives p < [`ALPHA`] *and* the medians of the per-second values differ
//! by at least [`MIN_EFFECT`] (so long runs do not flag differences too small to matter).
//! With fewer than [`MIN_SECONDS`] samples in either run the test has no power; the overall
//! figures are then compared against a wide [`FEW_SAMPLES_THRESHOLD`] instead.
//! The error rate regressed when it grew by more than one percentage point.
//!
//! Caveat: consecutive seconds of one run are not independent (a background build slows
//! several in a row), so the p-value is optimistic; the effect-size floor is the guard.

use super::record::Second;
use super::report::Report;
use serde::Serialize;

/// Significance level of the rank test.
pub const ALPHA: f64 = 0.01;
/// Smallest relative change of the per-second medians that counts.
pub const MIN_EFFECT: f64 = 0.05;
/// Seconds with fewer requests are not samples.
pub const MIN_REQUESTS: u64 = 5;
/// Fewest per-second samples per run for the rank test.
pub const MIN_SECONDS: usize = 5;
/// Relative change of the overall figure that counts when samples are too few.
pub const FEW_SAMPLES_THRESHOLD: f64 = 0.20;

/// The outcome for one metric or for the whole comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Faster (or fewer errors), beyond noise.
    Improved,
    /// Slower (or more errors), beyond noise.
    Regressed,
    /// Within noise.
    NoSignificantChange,
}

impl Verdict {
    /// Human wording.
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Regressed => "regressed",
            Verdict::NoSignificantChange => "no significant change",
        }
    }
}

/// One compared metric.
#[derive(Debug, Clone, Serialize)]
pub struct MetricChange {
    /// Metric name.
    pub metric: String,
    /// Old and new overall values.
    pub old: f64,
    /// New value.
    pub new: f64,
    /// `new / old - 1`.
    pub change: f64,
    /// Rank-test p-value, when the test ran.
    pub p_value: Option<f64>,
    /// Verdict for this metric (only tested metrics have one).
    pub verdict: Option<Verdict>,
}

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Overall verdict: regressed if any tested metric regressed, improved if any improved
    /// and none regressed.
    pub verdict: Verdict,
    /// Per-metric changes.
    pub metrics: Vec<MetricChange>,
    /// How the verdict was reached.
    pub method: String,
}

fn rel(old: f64, new: f64) -> f64 {
    if old == 0.0 {
        if new == 0.0 { 0.0 } else { f64::INFINITY }
    } else {
        new / old - 1.0
    }
}

fn samples(series: &[Second], pick: fn(&Second) -> f64) -> Vec<f64> {
    series
        .iter()
        .filter(|s| s.requests >= MIN_REQUESTS)
        .map(pick)
        .collect()
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Compares two runs.
pub fn compare(old: &Report, new: &Report) -> Comparison {
    let (o, n) = (&old.summary, &new.summary);
    let mut metrics = Vec::new();
    let mut few = false;
    type Pick = fn(&Second) -> f64;
    let tested: [(&str, f64, f64, Pick); 2] = [
        ("p50_ms", o.p50_ms, n.p50_ms, |s| s.p50_ms),
        ("p99_ms", o.p99_ms, n.p99_ms, |s| s.p99_ms),
    ];
    for (name, ov, nv, pick) in tested {
        let (a, b) = (samples(&old.series, pick), samples(&new.series, pick));
        let (p_value, verdict) = if a.len() >= MIN_SECONDS && b.len() >= MIN_SECONDS {
            let p = mann_whitney_p(&a, &b);
            let effect = rel(median(&a), median(&b));
            let v = if p < ALPHA && effect.abs() >= MIN_EFFECT {
                if effect > 0.0 {
                    Verdict::Regressed
                } else {
                    Verdict::Improved
                }
            } else {
                Verdict::NoSignificantChange
            };
            (Some(p), v)
        } else {
            few = true;
            let c = rel(ov, nv);
            let v = if c >= FEW_SAMPLES_THRESHOLD {
                Verdict::Regressed
            } else if c <= -FEW_SAMPLES_THRESHOLD {
                Verdict::Improved
            } else {
                Verdict::NoSignificantChange
            };
            (None, v)
        };
        metrics.push(MetricChange {
            metric: name.into(),
            old: ov,
            new: nv,
            change: rel(ov, nv),
            p_value,
            verdict: Some(verdict),
        });
    }
    let (oe, ne) = (o.error_rate(), n.error_rate());
    let error_verdict = if ne > oe + 0.01 {
        Verdict::Regressed
    } else if ne + 0.01 < oe {
        Verdict::Improved
    } else {
        Verdict::NoSignificantChange
    };
    metrics.push(MetricChange {
        metric: "error_rate".into(),
        old: oe,
        new: ne,
        change: ne - oe,
        p_value: None,
        verdict: Some(error_verdict),
    });
    for (name, ov, nv) in [
        ("p90_ms", o.p90_ms, n.p90_ms),
        ("p999_ms", o.p999_ms, n.p999_ms),
        ("max_ms", o.max_ms, n.max_ms),
        ("achieved_rps", o.achieved_rps, n.achieved_rps),
    ] {
        metrics.push(MetricChange {
            metric: name.into(),
            old: ov,
            new: nv,
            change: rel(ov, nv),
            p_value: None,
            verdict: None,
        });
    }
    let verdicts: Vec<Verdict> = metrics.iter().filter_map(|m| m.verdict).collect();
    let verdict = if verdicts.contains(&Verdict::Regressed) {
        Verdict::Regressed
    } else if verdicts.contains(&Verdict::Improved) {
        Verdict::Improved
    } else {
        Verdict::NoSignificantChange
    };
    let method = if few {
        format!(
            "too few per-second samples (< {MIN_SECONDS} seconds with >= {MIN_REQUESTS} requests): \
             overall p50/p99 compared against a {:.0}% threshold",
            FEW_SAMPLES_THRESHOLD * 100.0
        )
    } else {
        format!(
            "Mann-Whitney U on per-second p50 and p99 (p < {ALPHA}) and a change of the \
             per-second medians of at least {:.0}%; error rate: +/- 1 point",
            MIN_EFFECT * 100.0
        )
    };
    Comparison {
        verdict,
        metrics,
        method,
    }
}

/// Two-sided p-value of the Mann-Whitney U test (normal approximation with tie correction
/// and continuity correction; fine from about 5 samples per side).
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let n = n1 + n2;
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    // Average ranks over ties; sum of t^3 - t for the variance correction.
    let mut rank_sum_a = 0.0;
    let mut ties = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_sum_a += all[i..=j].iter().filter(|x| x.1).count() as f64 * avg_rank;
        i = j + 1;
    }
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if var <= 0.0 {
        return 1.0; // every value equal
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    (2.0 * (1.0 - normal_cdf(z))).clamp(0.0, 1.0)
}

/// Standard normal CDF (Abramowitz and Stegun 7.1.26 for erf; error below 1.5e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The comparison as a table for people.
pub fn render(c: &Comparison) -> String {
    let mut out = String::from("| metric | old | new | change | p | verdict |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: | --- |\n");
    for m in &c.metrics {
        let change = if m.metric == "error_rate" {
            format!("{:+.2} pt", m.change * 100.0)
        } else {
            format!("{:+.1}%", m.change * 100.0)
        };
        out.push_str(&format!(
            "| {} | {:.3} | {:.3} | {change} | {} | {} |\n",
            m.metric,
            m.old,
            m.new,
            m.p_value.map(|p| format!("{p:.4}")).unwrap_or_default(),
            m.verdict.map(Verdict::text).unwrap_or(""),
        ));
    }
    out.push_str(&format!("\nverdict: {} ({})\n", c.verdict.text(), c.method));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadbench::record::Summary;
    use rand::{RngExt, SeedableRng};

    /// A run of `seconds` whose per-second p50/p99 are `base` times noise of +/- `noise`.
    fn run(seed: u64, seconds: u64, base: f64, noise: f64) -> Report {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let series: Vec<Second> = (0..seconds)
            .map(|t| {
                let f = 1.0 + rng.random_range(-noise..=noise);
                Second {
                    t,
                    requests: 100,
                    errors: 0,
                    p50_ms: base * f,
                    p90_ms: 2.0 * base * f,
                    p99_ms: 4.0 * base * f,
                    max_ms: 8.0 * base * f,
                }
            })
            .collect();
        let mid = |pick: fn(&Second) -> f64| median(&series.iter().map(pick).collect::<Vec<_>>());
        let summary = Summary {
            requests: 100 * seconds,
            achieved_rps: 100.0,
            p50_ms: mid(|s| s.p50_ms),
            p90_ms: mid(|s| s.p90_ms),
            p99_ms: mid(|s| s.p99_ms),
            p999_ms: mid(|s| s.max_ms),
            max_ms: mid(|s| s.max_ms),
            errors: Default::default(),
        };
        Report::for_test(summary, series)
    }

    #[test]
    fn identical_runs_show_no_significant_change() {
        let a = run(1, 30, 2.0, 0.2);
        assert_eq!(compare(&a, &a).verdict, Verdict::NoSignificantChange);
        // Two runs of the same build with different noise.
        let b = run(2, 30, 2.0, 0.2);
        let c = compare(&a, &b);
        assert_eq!(c.verdict, Verdict::NoSignificantChange, "{}", render(&c));
    }

    #[test]
    fn a_clearly_slower_run_regressed_and_a_faster_one_improved() {
        let old = run(1, 30, 2.0, 0.2);
        let slow = run(2, 30, 3.0, 0.2);
        let c = compare(&old, &slow);
        assert_eq!(c.verdict, Verdict::Regressed, "{}", render(&c));
        assert!(c.metrics[0].p_value.unwrap() < 0.001);
        assert_eq!(compare(&slow, &old).verdict, Verdict::Improved);
    }

    #[test]
    fn a_tiny_but_consistent_shift_is_below_the_effect_floor() {
        let old = run(1, 300, 2.0, 0.01);
        let new = run(2, 300, 2.04, 0.01);
        let c = compare(&old, &new);
        assert!(c.metrics[0].p_value.unwrap() < ALPHA, "the test sees it");
        assert_eq!(c.verdict, Verdict::NoSignificantChange, "2% is below 5%");
    }

    #[test]
    fn few_seconds_fall_back_to_a_wide_threshold() {
        let old = run(1, 3, 2.0, 0.0);
        assert_eq!(
            compare(&old, &run(2, 3, 2.2, 0.0)).verdict,
            Verdict::NoSignificantChange
        );
        let c = compare(&old, &run(2, 3, 3.0, 0.0));
        assert_eq!(c.verdict, Verdict::Regressed);
        assert!(c.method.contains("too few"));
    }

    #[test]
    fn more_errors_is_a_regression() {
        let old = run(1, 30, 2.0, 0.1);
        let mut new = old.clone();
        new.summary.errors.insert("503".into(), 300);
        assert_eq!(compare(&old, &new).verdict, Verdict::Regressed);
    }

    #[test]
    fn mann_whitney_reference_values() {
        // Fully separated samples of 5 and 5: exact two-sided p = 2/252 = 0.0079; the normal
        // approximation with continuity correction gives 0.0122.
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert!((p - 0.0122).abs() < 0.001, "{p}");
        let same = mann_whitney_p(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        assert!(same > 0.9, "{same}");
        assert_eq!(mann_whitney_p(&[2.0; 6], &[2.0; 6]), 1.0);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-3);
    }
}
