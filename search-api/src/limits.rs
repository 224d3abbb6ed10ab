//! Free-tier daily quota and per-user rate limits.
//!
//! Both are in memory: they protect the service and shape usage, they are not billing. A
//! restart forgets today's counts (documented in the README); a shared store is for when the
//! service runs on several machines.

use crate::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota as GovQuota, RateLimiter};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::num::NonZeroU32;

/// Searches used per user on the current UTC day.
pub struct DailyQuota {
    daily: u32,
    used: Mutex<(i64, HashMap<String, u32>)>,
}

impl DailyQuota {
    /// `daily` searches per user per UTC day.
    pub fn new(daily: u32) -> DailyQuota {
        DailyQuota {
            daily,
            used: Mutex::new((0, HashMap::new())),
        }
    }

    /// The daily allowance.
    pub fn daily(&self) -> u32 {
        self.daily
    }

    /// Counts one search for `user` at Unix time `now`; returns the remaining searches, or
    /// `QuotaExhausted` (with the seconds until midnight UTC) when none are left.
    pub fn take(&self, user: &str, now: i64) -> Result<u32, ApiError> {
        let day = now.div_euclid(86_400);
        let mut guard = self.used.lock();
        let (current_day, counts) = &mut *guard;
        if *current_day != day {
            *current_day = day;
            counts.clear();
        }
        let used = counts.entry(user.to_string()).or_insert(0);
        if *used >= self.daily {
            return Err(ApiError::QuotaExhausted {
                retry_after_s: ((day + 1) * 86_400 - now) as u64,
            });
        }
        *used += 1;
        Ok(self.daily - *used)
    }

    /// Remaining searches for `user` today, without counting one.
    pub fn remaining(&self, user: &str, now: i64) -> u32 {
        let day = now.div_euclid(86_400);
        let guard = self.used.lock();
        if guard.0 != day {
            return self.daily;
        }
        self.daily - guard.1.get(user).copied().unwrap_or(0).min(self.daily)
    }
}

/// Per-user token bucket (GCRA, via governor).
pub struct UserRateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl UserRateLimit {
    /// `per_second` sustained, `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> UserRateLimit {
        let rate = NonZeroU32::new(per_second.max(1)).expect("non-zero");
        let burst = NonZeroU32::new(burst.max(1)).expect("non-zero");
        UserRateLimit {
            limiter: RateLimiter::keyed(GovQuota::per_second(rate).allow_burst(burst)),
        }
    }

    /// Admits one request of `user`, or says how long to wait.
    pub fn check(&self, user: &str) -> Result<(), ApiError> {
        match self.limiter.check_key(&user.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Err(ApiError::RateLimited {
                    retry_after_s: wait.as_secs_f64().ceil() as u64,
                })
            }
        }
    }

    /// Forgets users whose buckets are full again (bounded memory).
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_counts_per_user_and_renews_at_midnight() {
        let q = DailyQuota::new(2);
        let noon = 20_000 * 86_400 + 43_200;
        assert_eq!(q.take("a", noon).unwrap(), 1);
        assert_eq!(q.take("a", noon).unwrap(), 0);
        assert_eq!(q.take("b", noon).unwrap(), 1);
        match q.take("a", noon) {
            Err(ApiError::QuotaExhausted { retry_after_s }) => assert_eq!(retry_after_s, 43_200),
            other => panic!("{other:?}"),
        }
        assert_eq!(q.remaining("a", noon), 0);
        assert_eq!(q.take("a", noon + 43_200).unwrap(), 1);
    }

    #[test]
    fn rate_limit_refuses_past_the_burst() {
        let r = UserRateLimit::new(1, 3);
        for _ in 0..3 {
            r.check("u").unwrap();
        }
        assert!(matches!(
            r.check("u"),
            Err(ApiError::RateLimited { retry_after_s: 1 })
        ));
        r.check("other").unwrap();
    }
}
