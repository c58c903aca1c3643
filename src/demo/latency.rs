//! Modelled response times: a log-normal distribution per route, given as
//! the median and the 95th percentile a user would read off a dashboard.
//!
//! Service latencies are skewed (most requests fast, a long right tail);
//! a log-normal has that shape and is fixed by two percentiles:
//! `median = e^mu`, `p95 = e^(mu + 1.6449 sigma)`.

use std::collections::BTreeMap;
use std::time::Duration;

use super::draws::{Draws, Purpose};
use super::query::query_param;
use super::stats::Endpoint;

/// The standard normal's 95th percentile.
const Z95: f64 = 1.644_853_626_951_472_2;
/// No modelled latency is longer than this, however far the tail reaches.
pub const MAX_LATENCY: Duration = Duration::from_secs(60);

/// Log-normal response time with this median and 95th percentile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogNormal {
    pub median: Duration,
    /// At least the median (equal: every request takes the median).
    pub p95: Duration,
}

impl LogNormal {
    pub const fn new(median_ms: u64, p95_ms: u64) -> Self {
        LogNormal {
            median: Duration::from_millis(median_ms),
            p95: Duration::from_millis(p95_ms),
        }
    }

    /// Whether the two percentiles describe a distribution.
    pub fn is_valid(&self) -> bool {
        !self.median.is_zero() && self.p95 >= self.median
    }

    /// The latency for 64 random bits (two 32-bit uniforms, Box-Muller).
    pub fn sample(&self, bits: u64) -> Duration {
        let median = self.median.as_secs_f64();
        let sigma = (self.p95.as_secs_f64() / median).ln() / Z95;
        // u1 in (0, 1): never 0, whose logarithm is infinite.
        let u1 = ((bits >> 32) as f64 + 0.5) / 4_294_967_296.0;
        let u2 = (bits & 0xffff_ffff) as f64 / 4_294_967_296.0;
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let secs = median * (sigma * z).exp();
        Duration::from_secs_f64(secs.min(MAX_LATENCY.as_secs_f64()))
    }
}

/// `DemoConfig::latency` as an array indexed by route: no string lookup per request.
pub struct LatencyTable {
    by_endpoint: Box<[Option<LogNormal>]>,
}

impl LatencyTable {
    /// Keys that name no route are ignored here; `DemoConfig::validate` refuses them.
    pub fn new(config: &BTreeMap<String, LogNormal>) -> Self {
        LatencyTable {
            by_endpoint: Endpoint::ALL
                .iter()
                .map(|endpoint| config.get(endpoint.key()).copied())
                .collect(),
        }
    }

    /// Serves the route's modelled latency, unless the request chose its
    /// own with `?delay=` (already served by the admission, which replaces
    /// the model so that `?delay=0` makes any route instant).
    pub async fn pause(&self, draws: &Draws, endpoint: Endpoint, query: Option<&str>) {
        let Some(model) = self.by_endpoint[endpoint as usize] else {
            return;
        };
        if query_param(query, "delay").is_some() {
            return;
        }
        let latency = model.sample(draws.bits(endpoint, Purpose::Latency));
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::draws::{Draws, Purpose};
    use crate::demo::stats::Endpoint;

    #[test]
    fn percentiles_come_out_as_configured() {
        let model = LogNormal::new(40, 200);
        let draws = Draws::new(Some(11));
        let mut samples: Vec<Duration> = (0..100_000)
            .map(|_| model.sample(draws.bits(Endpoint::Bots, Purpose::Latency)))
            .collect();
        samples.sort();
        let ms = |q: f64| samples[(q * samples.len() as f64) as usize].as_secs_f64() * 1e3;
        assert!((ms(0.50) - 40.0).abs() < 1.0, "median {}", ms(0.50));
        assert!((ms(0.95) - 200.0).abs() < 6.0, "p95 {}", ms(0.95));
    }

    #[test]
    fn equal_percentiles_mean_a_constant() {
        let model = LogNormal::new(25, 25);
        for bits in [0, 1, u64::MAX, 0x8000_0000_0000_0000] {
            assert_eq!(model.sample(bits), Duration::from_millis(25));
        }
    }

    #[test]
    fn the_tail_is_capped_and_validity_is_checked() {
        let wild = LogNormal::new(1_000, 50_000);
        // bits 0: u1 is as small as it gets, u2 = 0: the farthest right tail.
        assert_eq!(wild.sample(0), MAX_LATENCY);
        assert!(wild.is_valid());
        assert!(!LogNormal::new(0, 10).is_valid());
        assert!(!LogNormal::new(10, 5).is_valid());
    }
}
