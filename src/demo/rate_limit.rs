//! A lock-free token bucket per bearer token.
//!
//! It is kept in the "virtual scheduling" form (GCRA): instead of a token count
//! and a refill timestamp, which would need a lock to update together, one
//! atomic holds the theoretical arrival time (TAT) of the next request. Admitting
//! a request pushes TAT one emission interval further; a request is refused when
//! TAT would run more than `burst` intervals ahead of now. This admits exactly
//! what a bucket of `burst` tokens refilled at `per_second` admits.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::config::RateLimit;

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// One token's bucket. Time is passed in as nanoseconds since a fixed origin
/// (the server's start), so tests drive it with a fake clock.
#[derive(Debug)]
pub struct TokenBucket {
    /// Nanoseconds between two tokens; at least 1.
    interval_nanos: u64,
    /// How far TAT may run ahead of now: `burst * interval`.
    tolerance_nanos: u64,
    /// Theoretical arrival time of the next request, nanoseconds since origin.
    tat_nanos: AtomicU64,
}

impl TokenBucket {
    /// A full bucket. `limit` must have passed [`super::DemoConfig::validate`].
    pub fn new(limit: RateLimit) -> Self {
        let interval = (NANOS_PER_SEC as f64 / limit.per_second).round();
        // Rates above 1e9/s round to 0 ns; clamp so the bucket still refills.
        let interval_nanos = (interval as u64).max(1);
        TokenBucket {
            interval_nanos,
            tolerance_nanos: interval_nanos.saturating_mul(u64::from(limit.burst.max(1))),
            tat_nanos: AtomicU64::new(0),
        }
    }

    /// Takes one token at `now_nanos`, or says how long until one is available.
    pub fn try_acquire(&self, now_nanos: u64) -> Result<(), Duration> {
        let mut current = self.tat_nanos.load(Ordering::Relaxed);
        loop {
            let next = current.max(now_nanos).saturating_add(self.interval_nanos);
            let ahead = next - now_nanos;
            if ahead > self.tolerance_nanos {
                return Err(Duration::from_nanos(ahead - self.tolerance_nanos));
            }
            match self.tat_nanos.compare_exchange_weak(
                current,
                next,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }
}

impl TokenBucket {
    /// Requests that would be admitted back to back at `now_nanos`.
    pub fn remaining(&self, now_nanos: u64) -> u64 {
        let ahead = self
            .tat_nanos
            .load(Ordering::Relaxed)
            .saturating_sub(now_nanos);
        self.tolerance_nanos.saturating_sub(ahead) / self.interval_nanos
    }
}

/// `Retry-After` in whole seconds: rounded up, never 0 (0 would invite a
/// client to retry at once and be refused again).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn bucket(per_second: f64, burst: u32) -> TokenBucket {
        TokenBucket::new(RateLimit { per_second, burst })
    }

    #[test]
    fn admits_exactly_the_burst_then_refuses() {
        let b = bucket(10.0, 3);
        let now = 5_000 * MS;
        for _ in 0..3 {
            assert_eq!(b.try_acquire(now), Ok(()));
        }
        // The 4th must wait one interval (100 ms) for a token.
        assert_eq!(b.try_acquire(now), Err(Duration::from_millis(100)));
        // A refusal does not consume anything.
        assert_eq!(b.try_acquire(now), Err(Duration::from_millis(100)));
        assert_eq!(b.remaining(now), 0);
        assert_eq!(b.remaining(now + 250 * MS), 2);
        assert_eq!(bucket(10.0, 3).remaining(now), 3);
    }

    #[test]
    fn refills_at_the_configured_rate() {
        let b = bucket(10.0, 2);
        let t0 = 1_000 * MS;
        assert_eq!(b.try_acquire(t0), Ok(()));
        assert_eq!(b.try_acquire(t0), Ok(()));
        assert_eq!(b.try_acquire(t0 + 40 * MS), Err(Duration::from_millis(60)));
        assert_eq!(b.try_acquire(t0 + 100 * MS), Ok(()));
        assert!(b.try_acquire(t0 + 100 * MS).is_err());
        // After a long idle the bucket is full again, but never fuller than the burst.
        let later = t0 + 60_000 * MS;
        assert_eq!(b.try_acquire(later), Ok(()));
        assert_eq!(b.try_acquire(later), Ok(()));
        assert_eq!(b.try_acquire(later), Err(Duration::from_millis(100)));
    }

    #[test]
    fn sustained_rate_matches_per_second() {
        let b = bucket(50.0, 1);
        let admitted = (0..1_000u64)
            .filter(|i| b.try_acquire(i * MS).is_ok())
            .count();
        // One second at 1 request per ms against 50/s with burst 1: exactly 50.
        assert_eq!(admitted, 50);
    }

    #[test]
    fn slow_rates_give_long_waits() {
        let b = bucket(0.5, 1);
        assert_eq!(b.try_acquire(0), Ok(()));
        assert_eq!(b.try_acquire(0), Err(Duration::from_secs(2)));
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
    }

    #[test]
    fn retry_after_rounds_up_to_at_least_one_second() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1000)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
    }
}
