//! Server-wide settings of the demo target, with the defaults `stampede demo` uses.

use std::time::Duration;

use thiserror::Error;

use super::stall::Stall;

/// How the demo server behaves. Every knob has a per-request override by query
/// parameter (see [`super::injection`]) except the rate limit and the catalogue size.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoConfig {
    /// Time an execution takes to go queued -> running -> completed.
    /// Queued for the first 20% of it, running for the rest.
    pub execution_time: Duration,
    /// Delay added before every response; `?delay=` replaces it per request.
    pub default_delay: Duration,
    /// Share of requests (0.0..=1.0) answered with an injected 500;
    /// `?fail=` replaces it per request.
    pub fail_rate: f64,
    /// Token bucket per bearer token; `None` means unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Target size of the `GET /api/blocks` catalogue; the body is at least this big.
    pub blocks_size_bytes: usize,
    /// Hold every response periodically (`--stall 1s/5s`); `None`: never.
    pub stall: Option<Stall>,
    /// Token bucket per bearer token for `POST /api/tools/{name}/execute`,
    /// on top of `rate_limit`; refusals are 429 `{"error":"rate_limited"}`.
    /// `None` means unlimited.
    pub tools_rate_limit: Option<RateLimit>,
    /// Tool executions allowed per bearer token over its lifetime; beyond
    /// it, 403 `{"error":"quota_exceeded"}`. `None` means unlimited.
    pub tools_quota: Option<u64>,
}

/// A token bucket: `burst` requests at once, refilled at `per_second`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second allowed per bearer token.
    pub per_second: f64,
    /// Requests allowed back to back before the limit bites.
    pub burst: u32,
}

/// Default execution time: long enough that polling scenarios see every state.
pub const DEFAULT_EXECUTION_TIME: Duration = Duration::from_secs(2);
/// Default catalogue size: 1 MiB, a "large JSON payload" for the client to parse.
pub const DEFAULT_BLOCKS_SIZE_BYTES: usize = 1024 * 1024;
/// Default tools limit: on, so that a tool-execution scenario meets 429s
/// out of the box (`scenarios/tool-execution.yaml`).
pub const DEFAULT_TOOLS_RATE_LIMIT: RateLimit = RateLimit {
    per_second: 10.0,
    burst: 10,
};
/// Default tools quota per token: reached within seconds at the default limit.
pub const DEFAULT_TOOLS_QUOTA: u64 = 100;

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            execution_time: DEFAULT_EXECUTION_TIME,
            default_delay: Duration::ZERO,
            fail_rate: 0.0,
            rate_limit: None,
            blocks_size_bytes: DEFAULT_BLOCKS_SIZE_BYTES,
            stall: None,
            tools_rate_limit: Some(DEFAULT_TOOLS_RATE_LIMIT),
            tools_quota: Some(DEFAULT_TOOLS_QUOTA),
        }
    }
}

/// A setting the server cannot run with.
#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("fail rate must be between 0 and 1, got {0}")]
    FailRate(f64),
    #[error("rate limit must allow a positive, finite number of requests per second, got {0}")]
    RatePerSecond(f64),
    #[error("rate limit burst must be at least 1")]
    ZeroBurst,
    #[error(
        "a stall must pause for longer than 0s and less than its period, got {0:?} every {1:?}"
    )]
    Stall(Duration, Duration),
}

impl DemoConfig {
    /// Checks the values a user can get wrong on the command line.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.fail_rate) {
            return Err(ConfigError::FailRate(self.fail_rate));
        }
        if let Some(stall) = &self.stall {
            stall.validate()?;
        }
        for limit in [&self.rate_limit, &self.tools_rate_limit]
            .into_iter()
            .flatten()
        {
            if !(limit.per_second.is_finite() && limit.per_second > 0.0) {
                return Err(ConfigError::RatePerSecond(limit.per_second));
            }
            if limit.burst == 0 {
                return Err(ConfigError::ZeroBurst);
            }
        }
        Ok(())
    }
}

impl From<ConfigError> for std::io::Error {
    fn from(err: ConfigError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = DemoConfig::default();
        assert_eq!(config.execution_time, Duration::from_secs(2));
        assert_eq!(config.default_delay, Duration::ZERO);
        assert_eq!(config.fail_rate, 0.0);
        assert_eq!(config.rate_limit, None);
        assert_eq!(config.blocks_size_bytes, 1_048_576);
        assert_eq!(
            config.tools_rate_limit,
            Some(RateLimit {
                per_second: 10.0,
                burst: 10
            })
        );
        assert_eq!(config.tools_quota, Some(100));
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn rejects_out_of_range_values() {
        let mut config = DemoConfig {
            fail_rate: 1.5,
            ..DemoConfig::default()
        };
        assert_eq!(config.validate(), Err(ConfigError::FailRate(1.5)));
        config.fail_rate = f64::NAN;
        assert!(matches!(config.validate(), Err(ConfigError::FailRate(_))));
        config.fail_rate = 0.0;
        config.rate_limit = Some(RateLimit {
            per_second: 0.0,
            burst: 5,
        });
        assert_eq!(config.validate(), Err(ConfigError::RatePerSecond(0.0)));
        config.rate_limit = Some(RateLimit {
            per_second: 10.0,
            burst: 0,
        });
        assert_eq!(config.validate(), Err(ConfigError::ZeroBurst));
        config.rate_limit = None;
        config.tools_rate_limit = Some(RateLimit {
            per_second: f64::INFINITY,
            burst: 1,
        });
        assert!(matches!(
            config.validate(),
            Err(ConfigError::RatePerSecond(_))
        ));
    }
}
