//! Open-loop schedule and ramp steps: the arithmetic, kept apart so it can be tested.
//!
//! Open loop means arrival `i` is due at `start + i / rate` whatever happened to earlier
//! ones: a slow server gets the same offered load as a fast one, and its slowness shows in
//! the latencies (measured from the due time) instead of in a quietly lower request rate.

use std::time::Duration;

/// When arrival `i` is due, relative to the start, at `rate` requests per second.
pub fn due(i: u64, rate: f64) -> Duration {
    Duration::from_secs_f64(i as f64 / rate)
}

/// Arrivals due in `[0, duration)` at `rate`.
pub fn arrivals(rate: f64, duration: Duration) -> u64 {
    (rate * duration.as_secs_f64()).ceil() as u64
}

/// Ramp rates: `start`, `start + step`, ... up to and including `max`.
pub fn ramp_rates(start: f64, step: f64, max: f64) -> Vec<f64> {
    let mut out = Vec::new();
    let mut i = 0u32;
    loop {
        let r = start + step * f64::from(i);
        if r > max + 1e-9 || (i > 0 && step <= 0.0) {
            break;
        }
        out.push(r);
        i += 1;
    }
    out
}

/// Whether a ramp step held: p99 within the SLO and errors within their share.
pub fn step_held(p99_ms: f64, error_rate: f64, slo_p99_ms: f64, max_error_rate: f64) -> bool {
    p99_ms <= slo_p99_ms && error_rate <= max_error_rate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_are_evenly_spaced_and_independent_of_completions() {
        assert_eq!(due(0, 100.0), Duration::ZERO);
        assert_eq!(due(1, 100.0), Duration::from_millis(10));
        assert_eq!(due(250, 100.0), Duration::from_millis(2500));
        assert_eq!(due(3, 0.5), Duration::from_secs(6));
        // The gap between consecutive arrivals is constant: 1/rate.
        let gaps: Vec<Duration> = (1..100)
            .map(|i| due(i, 1000.0) - due(i - 1, 1000.0))
            .collect();
        assert!(
            gaps.iter()
                .all(|g| g.abs_diff(Duration::from_millis(1)) < Duration::from_micros(1))
        );
    }

    #[test]
    fn arrivals_in_a_window() {
        assert_eq!(arrivals(100.0, Duration::from_secs(2)), 200);
        assert_eq!(arrivals(0.5, Duration::from_secs(3)), 2, "at 0 s and 2 s");
        assert_eq!(arrivals(10.0, Duration::ZERO), 0);
        // Every arrival counted is due inside the window.
        let n = arrivals(333.0, Duration::from_secs(1));
        assert!(due(n - 1, 333.0) < Duration::from_secs(1));
        assert!(due(n, 333.0) >= Duration::from_secs(1));
    }

    #[test]
    fn ramp_steps() {
        assert_eq!(ramp_rates(50.0, 50.0, 200.0), [50.0, 100.0, 150.0, 200.0]);
        assert_eq!(ramp_rates(100.0, 0.0, 500.0), [100.0]);
        assert!(ramp_rates(300.0, 10.0, 200.0).is_empty());
        assert!(step_held(9.9, 0.0, 10.0, 0.01));
        assert!(!step_held(10.1, 0.0, 10.0, 0.01));
        assert!(!step_held(1.0, 0.02, 10.0, 0.01));
    }
}
