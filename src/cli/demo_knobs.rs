//! The demo target's suite settings on the command line: `stampede demo
//! --seed 7 ...` and `stampede run --demo --demo-seed 7 ...` set the same
//! [`DemoConfig`] fields (seed, modelled latency, cache hits, AgentCore
//! limits, the flaky tool, the agent's reply time). The two subcommands
//! name them differently (`run` prefixes `demo-`, so they read as settings
//! of the target, not of the test), so each has its own clap struct; both
//! become one [`DemoKnobs`], applied in one place.

use std::time::Duration;

use clap::Args;

use super::args::{OrOff, parse_count_or_off, parse_rate_or_off};
use crate::demo::{DemoConfig, LogNormal, RateLimit};
use crate::util::duration::parse_duration;

/// Suite settings given on the command line; `None`: keep the default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DemoKnobs {
    pub seed: Option<u64>,
    pub latency: Vec<LatencySetting>,
    pub cache_hit_rate: Option<f64>,
    pub agentcore_rate_limit: Option<OrOff<f64>>,
    pub agentcore_burst: Option<u32>,
    pub agentcore_quota: Option<OrOff<u64>>,
    pub flaky_tool_fail_rate: Option<f64>,
    pub agent_reply_time: Option<Duration>,
}

/// One `--latency` value.
#[derive(Clone, Debug, PartialEq)]
pub enum LatencySetting {
    /// `off`: no route models a latency.
    AllOff,
    /// `ROUTE=off`: this route answers at once.
    RouteOff(String),
    /// `ROUTE=MEDIAN/P95`.
    Route(String, LogNormal),
}

impl DemoKnobs {
    /// The defaults with these settings on top. Route names are checked by
    /// [`DemoConfig::validate`], which the caller runs.
    pub fn apply(&self, mut config: DemoConfig) -> DemoConfig {
        if self.seed.is_some() {
            config.seed = self.seed;
        }
        for setting in &self.latency {
            match setting {
                LatencySetting::AllOff => config.latency.clear(),
                LatencySetting::RouteOff(route) => {
                    config.latency.remove(route);
                }
                LatencySetting::Route(route, model) => {
                    config.latency.insert(route.clone(), *model);
                }
            }
        }
        if let Some(rate) = self.cache_hit_rate {
            config.cache_hit_rate = rate;
        }
        let burst = self
            .agentcore_burst
            .or(config.agentcore_rate_limit.map(|l| l.burst));
        match self.agentcore_rate_limit {
            Some(OrOff(None)) => config.agentcore_rate_limit = None,
            Some(OrOff(Some(per_second))) => {
                config.agentcore_rate_limit = Some(RateLimit {
                    per_second,
                    burst: burst.unwrap_or(per_second.ceil().max(1.0) as u32),
                })
            }
            None => {
                if let (Some(limit), Some(burst)) = (&mut config.agentcore_rate_limit, burst) {
                    limit.burst = burst;
                }
            }
        }
        if let Some(OrOff(quota)) = self.agentcore_quota {
            config.agentcore_quota = quota;
        }
        if let Some(rate) = self.flaky_tool_fail_rate {
            config.flaky_tool_fail_rate = rate;
        }
        if let Some(time) = self.agent_reply_time {
            config.agent_reply_time = time;
        }
        config
    }
}

/// The settings as `stampede demo` takes them.
#[derive(Debug, Args)]
pub struct DemoSuiteArgs {
    /// Make every random outcome reproducible (injected failures, modelled latencies, cache hits, flaky tools): the same requests give the same counts.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Modelled latency of a route, e.g. 'GET /api/bots=30ms/120ms' (median/p95), 'GET /status=off', or off for every route; repeatable.
    #[arg(long, value_name = "ROUTE=MEDIAN/P95|ROUTE=off|off", value_parser = parse_latency_setting)]
    pub latency: Vec<LatencySetting>,
    /// Share of BotFlow's cacheable answers that are X-Cache: HIT (0–1; default 0.9).
    #[arg(long, value_name = "F", value_parser = parse_probability)]
    pub cache_hit_rate: Option<f64>,
    /// AgentCore tools.* calls per second allowed per caller (-32001 and 429 beyond), or off (default 20).
    #[arg(long, value_name = "PER_SECOND|off", value_parser = parse_rate_or_off)]
    pub agentcore_rate_limit: Option<OrOff<f64>>,
    /// Burst size of the AgentCore rate limit (default 20).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub agentcore_burst: Option<u32>,
    /// AgentCore tool executions allowed per caller in all (-32005 and 403 beyond), or off (default 1000).
    #[arg(long, value_name = "COUNT|off", value_parser = parse_count_or_off)]
    pub agentcore_quota: Option<OrOff<u64>>,
    /// Share of AgentCore flaky_search executions that fail (0–1; default 0.5).
    #[arg(long, value_name = "F", value_parser = parse_probability)]
    pub flaky_tool_fail_rate: Option<f64>,
    /// How long AgentAPI's agent stays "running" after each user message (default 0s).
    #[arg(long, value_name = "DURATION", value_parser = parse_reply_time)]
    pub agent_reply_time: Option<Duration>,
}

/// The same settings as `stampede run --demo` takes them.
#[derive(Debug, Args)]
pub struct RunDemoArgs {
    /// With --demo: make the demo's random outcomes reproducible (see `stampede demo --seed`).
    #[arg(long, value_name = "N", requires = "demo")]
    pub demo_seed: Option<u64>,
    /// With --demo: a route's modelled latency, 'ROUTE=MEDIAN/P95', 'ROUTE=off' or off; repeatable.
    #[arg(long, value_name = "ROUTE=MEDIAN/P95|ROUTE=off|off", value_parser = parse_latency_setting, requires = "demo")]
    pub demo_latency: Vec<LatencySetting>,
    /// With --demo: BotFlow's X-Cache hit rate (0–1).
    #[arg(long, value_name = "F", value_parser = parse_probability, requires = "demo")]
    pub demo_cache_hit_rate: Option<f64>,
    /// With --demo: AgentCore calls per second per caller, or off.
    #[arg(long, value_name = "PER_SECOND|off", value_parser = parse_rate_or_off, requires = "demo")]
    pub demo_agentcore_rate_limit: Option<OrOff<f64>>,
    /// With --demo: burst size of the AgentCore rate limit.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), requires = "demo")]
    pub demo_agentcore_burst: Option<u32>,
    /// With --demo: AgentCore executions per caller in all, or off.
    #[arg(long, value_name = "COUNT|off", value_parser = parse_count_or_off, requires = "demo")]
    pub demo_agentcore_quota: Option<OrOff<u64>>,
    /// With --demo: share of failing flaky_search executions (0–1).
    #[arg(long, value_name = "F", value_parser = parse_probability, requires = "demo")]
    pub demo_flaky_tool_fail_rate: Option<f64>,
    /// With --demo: how long AgentAPI's agent stays "running" after a message.
    #[arg(long, value_name = "DURATION", value_parser = parse_reply_time, requires = "demo")]
    pub demo_agent_reply_time: Option<Duration>,
}

impl DemoSuiteArgs {
    pub fn knobs(&self) -> DemoKnobs {
        DemoKnobs {
            seed: self.seed,
            latency: self.latency.clone(),
            cache_hit_rate: self.cache_hit_rate,
            agentcore_rate_limit: self.agentcore_rate_limit,
            agentcore_burst: self.agentcore_burst,
            agentcore_quota: self.agentcore_quota,
            flaky_tool_fail_rate: self.flaky_tool_fail_rate,
            agent_reply_time: self.agent_reply_time,
        }
    }
}

impl RunDemoArgs {
    pub fn knobs(&self) -> DemoKnobs {
        DemoKnobs {
            seed: self.demo_seed,
            latency: self.demo_latency.clone(),
            cache_hit_rate: self.demo_cache_hit_rate,
            agentcore_rate_limit: self.demo_agentcore_rate_limit,
            agentcore_burst: self.demo_agentcore_burst,
            agentcore_quota: self.demo_agentcore_quota,
            flaky_tool_fail_rate: self.demo_flaky_tool_fail_rate,
            agent_reply_time: self.demo_agent_reply_time,
        }
    }
}

/// A share from 0 to 1.
fn parse_probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("expected a number from 0 to 1, got {text:?}")),
    }
}

/// The agent's reply time: at most a minute, as the demo's other delays.
fn parse_reply_time(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d > Duration::from_secs(60) => Err("at most 60s".into()),
        d => Ok(d),
    }
}

/// `off`, `ROUTE=off` or `ROUTE=MEDIAN/P95` (the route as `METHOD /path`).
fn parse_latency_setting(text: &str) -> Result<LatencySetting, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(LatencySetting::AllOff);
    }
    let (route, model) = text.rsplit_once('=').ok_or_else(|| {
        format!("expected 'ROUTE=MEDIAN/P95' (e.g. 'GET /api/bots=30ms/120ms'), 'ROUTE=off' or off, got {text:?}")
    })?;
    let route = route.trim().to_string();
    if model.trim().eq_ignore_ascii_case("off") {
        return Ok(LatencySetting::RouteOff(route));
    }
    let (median, p95) = model
        .split_once('/')
        .ok_or_else(|| format!("expected MEDIAN/P95 after '=', e.g. 30ms/120ms, got {model:?}"))?;
    let model = LogNormal {
        median: parse_duration(median.trim())?,
        p95: parse_duration(p95.trim())?,
    };
    if !model.is_valid() {
        return Err(format!(
            "the median must be above 0 and the p95 at least the median, got {median}/{p95}"
        ));
    }
    if model.p95 > Duration::from_secs(60) {
        return Err("a modelled latency is at most 60s".into());
    }
    Ok(LatencySetting::Route(route, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_settings_parse_or_say_what_is_expected() {
        assert_eq!(
            parse_latency_setting("GET /api/bots=30ms/120ms"),
            Ok(LatencySetting::Route(
                "GET /api/bots".into(),
                LogNormal::new(30, 120)
            ))
        );
        assert_eq!(
            parse_latency_setting("GET /status=off"),
            Ok(LatencySetting::RouteOff("GET /status".into()))
        );
        assert_eq!(parse_latency_setting("OFF"), Ok(LatencySetting::AllOff));
        assert_eq!(
            parse_latency_setting("GET /status=50ms/10ms"),
            Err("the median must be above 0 and the p95 at least the median, got 50ms/10ms".into())
        );
        assert!(
            parse_latency_setting("GET /status")
                .unwrap_err()
                .starts_with("expected 'ROUTE=MEDIAN/P95'")
        );
        assert_eq!(
            parse_probability("1.5"),
            Err("expected a number from 0 to 1, got \"1.5\"".into())
        );
        assert_eq!(parse_reply_time("2m"), Err("at most 60s".into()));
    }

    #[test]
    fn knobs_change_only_what_they_name() {
        assert_eq!(
            DemoKnobs::default().apply(DemoConfig::default()),
            DemoConfig::default()
        );
        let config = DemoKnobs {
            seed: Some(7),
            latency: vec![
                LatencySetting::AllOff,
                LatencySetting::Route("GET /status".into(), LogNormal::new(1, 2)),
            ],
            cache_hit_rate: Some(0.3),
            agentcore_burst: Some(5),
            agentcore_quota: Some(OrOff(None)),
            flaky_tool_fail_rate: Some(1.0),
            agent_reply_time: Some(Duration::from_millis(200)),
            ..DemoKnobs::default()
        }
        .apply(DemoConfig::default());
        assert_eq!(config.seed, Some(7));
        assert_eq!(config.latency.len(), 1);
        assert_eq!(config.cache_hit_rate, 0.3);
        assert_eq!(
            config.agentcore_rate_limit,
            Some(RateLimit {
                per_second: 20.0,
                burst: 5
            })
        );
        assert_eq!(config.agentcore_quota, None);
        assert_eq!(config.flaky_tool_fail_rate, 1.0);
        assert_eq!(config.agent_reply_time, Duration::from_millis(200));
        let off = DemoKnobs {
            agentcore_rate_limit: Some(OrOff(None)),
            ..DemoKnobs::default()
        }
        .apply(DemoConfig::default());
        assert_eq!(off.agentcore_rate_limit, None);
    }
}
