//! The demo's random numbers: injected failures, modelled latencies, cache
//! hits and flaky tools all draw from here, so one seed makes them all
//! reproducible.
//!
//! With a seed, every (route, purpose) pair has its own numbered sequence:
//! the k-th request to a route gets the k-th number of that route's
//! sequence for that purpose. Which concurrent request gets which number
//! can vary between runs, but the same number of requests always draws the
//! same multiset, so counts (cache hits, failures, requests over a latency)
//! are exactly reproducible. One relaxed `fetch_add` per draw, no lock.
//! Without a seed, draws come from the thread-local generator.

use std::sync::atomic::{AtomicU64, Ordering};

use super::stats::Endpoint;

/// What a draw decides; each has its own sequence per route, so adding a
/// draw of one kind never shifts the numbers of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `?fail=` / `DemoConfig::fail_rate`.
    InjectedFailure = 0,
    /// The route's modelled latency (`DemoConfig::latency`).
    Latency = 1,
    /// `X-Cache: HIT` or `MISS` (`DemoConfig::cache_hit_rate`).
    CacheHit = 2,
    /// A flaky tool's failure (`DemoConfig::flaky_tool_fail_rate`).
    ToolFailure = 3,
}

const PURPOSES: usize = 4;
/// SplitMix64's increment: consecutive states are far apart.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

pub struct Draws {
    seed: Option<u64>,
    next: Box<[AtomicU64]>,
}

impl Draws {
    pub fn new(seed: Option<u64>) -> Self {
        Draws {
            seed,
            next: (0..Endpoint::ALL.len() * PURPOSES)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    /// 64 random bits for `purpose` on `endpoint`.
    pub fn bits(&self, endpoint: Endpoint, purpose: Purpose) -> u64 {
        let Some(seed) = self.seed else {
            return rand::random();
        };
        let stream = endpoint as usize * PURPOSES + purpose as usize;
        let index = self.next[stream].fetch_add(1, Ordering::Relaxed);
        // Each stream starts at its own point (the seed plus a mixed stream
        // number) and steps by GAMMA; the finaliser makes neighbours unrelated.
        let start = seed ^ mix(stream as u64 + 1);
        mix(start.wrapping_add(index.wrapping_mul(GAMMA)))
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&self, endpoint: Endpoint, purpose: Purpose) -> f64 {
        unit(self.bits(endpoint, purpose))
    }

    /// True with probability `p`; no draw (nothing consumed) when `p` is 0 or 1.
    pub fn chance(&self, endpoint: Endpoint, purpose: Purpose, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.uniform(endpoint, purpose) < p
    }
}

/// The top 53 bits as a fraction in `[0, 1)`.
pub fn unit(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// SplitMix64's output function (a bijection that spreads every input bit).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(draws: &Draws, endpoint: Endpoint, purpose: Purpose, n: usize) -> Vec<u64> {
        (0..n).map(|_| draws.bits(endpoint, purpose)).collect()
    }

    #[test]
    fn a_seed_repeats_every_sequence() {
        let a = Draws::new(Some(7));
        let b = Draws::new(Some(7));
        let first = sequence(&a, Endpoint::Bots, Purpose::CacheHit, 100);
        // Draws of another kind in between do not shift the sequence.
        let _ = sequence(&b, Endpoint::Bots, Purpose::Latency, 13);
        assert_eq!(sequence(&b, Endpoint::Bots, Purpose::CacheHit, 100), first);
        let other = Draws::new(Some(8));
        assert_ne!(
            sequence(&other, Endpoint::Bots, Purpose::CacheHit, 100),
            first
        );
    }

    #[test]
    fn streams_differ_and_chance_is_fair() {
        let draws = Draws::new(Some(1));
        assert_ne!(
            sequence(&draws, Endpoint::Bots, Purpose::CacheHit, 8),
            sequence(&draws, Endpoint::Templates, Purpose::CacheHit, 8)
        );
        let hits = (0..100_000)
            .filter(|_| draws.chance(Endpoint::Templates, Purpose::CacheHit, 0.8))
            .count();
        assert!((79_500..=80_500).contains(&hits), "{hits}");
        // The exact count is fixed by the seed.
        let again = Draws::new(Some(1));
        let _ = sequence(&again, Endpoint::Templates, Purpose::CacheHit, 8);
        let repeat = (0..100_000)
            .filter(|_| again.chance(Endpoint::Templates, Purpose::CacheHit, 0.8))
            .count();
        assert_eq!(repeat, hits);
    }

    #[test]
    fn certain_outcomes_consume_nothing() {
        let draws = Draws::new(Some(3));
        assert!(!draws.chance(Endpoint::Bots, Purpose::CacheHit, 0.0));
        assert!(draws.chance(Endpoint::Bots, Purpose::CacheHit, 1.0));
        let fresh = Draws::new(Some(3));
        assert_eq!(
            draws.bits(Endpoint::Bots, Purpose::CacheHit),
            fresh.bits(Endpoint::Bots, Purpose::CacheHit)
        );
    }

    #[test]
    fn unit_stays_below_one() {
        assert_eq!(unit(0), 0.0);
        assert!(unit(u64::MAX) < 1.0);
    }
}
