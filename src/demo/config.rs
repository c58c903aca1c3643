//! Server-wide settings of the demo target, with the defaults `stampede demo` uses.

use std::collections::BTreeMap;
use std::time::Duration;

use thiserror::Error;

use super::latency::LogNormal;
use super::stall::Stall;
use super::stats::Endpoint;

/// How the demo server behaves. Every knob has a per-request override by query
/// parameter (see `injection`) except the rate limit and the catalogue size.
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
    /// Makes every random outcome (injected failures, modelled latencies,
    /// cache hits, flaky tools) reproducible; see `draws`.
    /// `None`: a different run every time.
    pub seed: Option<u64>,
    /// Modelled response time per route, keyed like `"GET /api/bots"`
    /// (the keys of `DemoStats::per_endpoint`); only the suite imitations
    /// (BotFlow, AgentAPI, AgentCore) model one. `?delay=` replaces it.
    pub latency: BTreeMap<String, LogNormal>,
    /// Share of BotFlow's cacheable answers (`/api/bots`, `/api/templates`)
    /// that are `X-Cache: HIT` and skip the modelled latency.
    pub cache_hit_rate: f64,
    /// Token bucket per caller of AgentCore's `tools.*` calls (JSON-RPC
    /// error -32001 and HTTP 429 beyond it); `None` means unlimited.
    pub agentcore_rate_limit: Option<RateLimit>,
    /// AgentCore tool executions allowed per caller over its lifetime
    /// (error -32005 and HTTP 403 beyond it); `None` means unlimited.
    pub agentcore_quota: Option<u64>,
    /// Share of AgentCore `flaky_search` executions that fail (the tool the
    /// fallback chain exists for).
    pub flaky_tool_fail_rate: f64,
    /// AgentAPI's agent reports `"running"` for this long after each
    /// `POST /message`, then `"stable"` again.
    pub agent_reply_time: Duration,
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
/// Default BotFlow cache hit rate: above the suite's 80 % target.
pub const DEFAULT_CACHE_HIT_RATE: f64 = 0.9;
/// Default AgentCore limit per caller: a burst user meets it at once.
pub const DEFAULT_AGENTCORE_RATE_LIMIT: RateLimit = RateLimit {
    per_second: 20.0,
    burst: 20,
};
/// Default AgentCore quota per caller.
pub const DEFAULT_AGENTCORE_QUOTA: u64 = 1_000;
/// Default share of failing `flaky_search` calls: fallbacks are used often.
pub const DEFAULT_FLAKY_TOOL_FAIL_RATE: f64 = 0.5;

/// Default modelled latencies: what the suites' own per-endpoint
/// thresholds expect of a healthy service, with room to spare, so that a
/// suite run against the demo passes while its percentiles still differ
/// per endpoint. Every other route answers as fast as it can.
pub fn default_latency() -> BTreeMap<String, LogNormal> {
    [
        (Endpoint::BotflowHealth, LogNormal::new(2, 10)),
        (Endpoint::Bots, LogNormal::new(30, 120)),
        (Endpoint::Conversations, LogNormal::new(50, 180)),
        (Endpoint::Analytics, LogNormal::new(90, 300)),
        (Endpoint::Templates, LogNormal::new(25, 80)),
        (Endpoint::AgentStatus, LogNormal::new(3, 15)),
        (Endpoint::AgentMessages, LogNormal::new(8, 40)),
        (Endpoint::AgentMessage, LogNormal::new(40, 150)),
        (Endpoint::OauthInit, LogNormal::new(20, 80)),
        (Endpoint::OauthRefresh, LogNormal::new(15, 60)),
        (Endpoint::OauthRevoke, LogNormal::new(10, 40)),
        (Endpoint::JsonRpc, LogNormal::new(3, 25)),
    ]
    .into_iter()
    .map(|(endpoint, model)| (endpoint.key().to_string(), model))
    .collect()
}

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
            seed: None,
            latency: default_latency(),
            cache_hit_rate: DEFAULT_CACHE_HIT_RATE,
            agentcore_rate_limit: Some(DEFAULT_AGENTCORE_RATE_LIMIT),
            agentcore_quota: Some(DEFAULT_AGENTCORE_QUOTA),
            flaky_tool_fail_rate: DEFAULT_FLAKY_TOOL_FAIL_RATE,
            agent_reply_time: Duration::ZERO,
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
    #[error("{name} must be between 0 and 1, got {value}")]
    Probability { name: &'static str, value: f64 },
    #[error("latency for {0:?}: no such route (use a key like \"GET /api/bots\")")]
    UnknownRoute(String),
    #[error("latency for {0:?}: the median must be above 0 and the p95 at least the median")]
    Latency(String),
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
        for (name, value) in [
            ("cache hit rate", self.cache_hit_rate),
            ("flaky tool fail rate", self.flaky_tool_fail_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(ConfigError::Probability { name, value });
            }
        }
        for (route, model) in &self.latency {
            if !Endpoint::ALL.iter().any(|e| e.key() == route) {
                return Err(ConfigError::UnknownRoute(route.clone()));
            }
            if !model.is_valid() {
                return Err(ConfigError::Latency(route.clone()));
            }
        }
        for limit in [
            &self.rate_limit,
            &self.tools_rate_limit,
            &self.agentcore_rate_limit,
        ]
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
        assert_eq!(config.seed, None);
        assert_eq!(config.cache_hit_rate, 0.9);
        assert_eq!(config.agentcore_quota, Some(1_000));
        assert_eq!(
            config.latency.get("GET /api/bots"),
            Some(&LogNormal::new(30, 120))
        );
        assert_eq!(config.latency.get("GET /api/credits"), None);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn rejects_bad_suite_settings() {
        let config = DemoConfig {
            cache_hit_rate: 1.2,
            ..DemoConfig::default()
        };
        assert_eq!(
            config.validate().unwrap_err().to_string(),
            "cache hit rate must be between 0 and 1, got 1.2"
        );
        let mut config = DemoConfig::default();
        config
            .latency
            .insert("GET /api/nothing".into(), LogNormal::new(1, 2));
        assert_eq!(
            config.validate(),
            Err(ConfigError::UnknownRoute("GET /api/nothing".into()))
        );
        let mut config = DemoConfig::default();
        config
            .latency
            .insert("GET /status".into(), LogNormal::new(50, 10));
        assert_eq!(
            config.validate(),
            Err(ConfigError::Latency("GET /status".into()))
        );
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
