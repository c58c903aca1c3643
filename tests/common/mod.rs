//! Helpers shared by the engine and CLI integration tests.
#![allow(dead_code)]

pub mod browser;
pub mod examples;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use stampede::demo::{DemoConfig, DemoServer};
use stampede::engine::{self, RunOptions, RunResult};
use stampede::metrics::{SeriesValue, Summary};
use stampede::scenario::{self, LoadOptions};

pub async fn demo(config: DemoConfig) -> DemoServer {
    DemoServer::start("127.0.0.1:0".parse().unwrap(), config)
        .await
        .expect("demo target starts")
}

pub fn options(base_url: &str) -> LoadOptions {
    LoadOptions {
        env_overrides: vec![("BASE_URL".into(), base_url.into())],
        process_env: HashMap::new(),
        profile: None,
        scenarios: Vec::new(),
        vus: None,
        duration: None,
        iterations: None,
        ..LoadOptions::default()
    }
}

/// Compiles `yaml` with BASE_URL pointing at `base_url` and runs it to the end.
pub async fn run_yaml(yaml: &str, base_url: &str) -> RunResult {
    let plan = scenario::load_str(yaml, Path::new("test.yaml"), &options(base_url))
        .unwrap_or_else(|e| panic!("scenario compiles: {e}"));
    engine::run(
        Arc::new(plan),
        RunOptions::default(),
        std::future::pending(),
    )
    .await
    .expect("run completes")
}

/// Sum of a counter over all its series (0 when absent).
pub fn counter(summary: &Summary, name: &str) -> f64 {
    match summary.metric(name).map(|m| &m.total) {
        Some(SeriesValue::Counter { sum }) => *sum,
        None => 0.0,
        other => panic!("{name} is not a counter: {other:?}"),
    }
}

/// Counter sum over the series whose tags include every `key=value` given.
pub fn counter_where(summary: &Summary, name: &str, filter: &[(&str, &str)]) -> f64 {
    let Some(metric) = summary.metric(name) else {
        return 0.0;
    };
    metric
        .series
        .iter()
        .filter(|(tags, _)| filter.iter().all(|(k, v)| tags.get(k) == Some(*v)))
        .map(|(_, value)| match value {
            SeriesValue::Counter { sum } => *sum,
            other => panic!("{name} is not a counter: {other:?}"),
        })
        .sum()
}

/// (trues, total) of a rate over the series matching `filter`.
pub fn rate_where(summary: &Summary, name: &str, filter: &[(&str, &str)]) -> (u64, u64) {
    let Some(metric) = summary.metric(name) else {
        return (0, 0);
    };
    metric
        .series
        .iter()
        .filter(|(tags, _)| filter.iter().all(|(k, v)| tags.get(k) == Some(*v)))
        .fold((0, 0), |(t, n), (_, value)| match value {
            SeriesValue::Rate { trues, total } => (t + trues, n + total),
            other => panic!("{name} is not a rate: {other:?}"),
        })
}

pub fn gauge_max(summary: &Summary, name: &str) -> f64 {
    match summary.metric(name).map(|m| &m.total) {
        Some(SeriesValue::Gauge { max, .. }) => *max,
        other => panic!("{name} is not a gauge: {other:?}"),
    }
}

/// (count, mean, min, max) of a trend over the series matching `filter`.
pub fn trend_where(summary: &Summary, name: &str, filter: &[(&str, &str)]) -> (u64, f64, f64, f64) {
    let Some(metric) = summary.metric(name) else {
        return (0, 0.0, 0.0, 0.0);
    };
    let mut out = (0, 0.0, f64::INFINITY, f64::NEG_INFINITY);
    for (tags, value) in &metric.series {
        if !filter.iter().all(|(k, v)| tags.get(k) == Some(*v)) {
            continue;
        }
        let SeriesValue::Trend(t) = value else {
            panic!("{name} is not a trend")
        };
        out = (
            out.0 + t.count,
            out.1 + t.sum,
            out.2.min(t.min),
            out.3.max(t.max),
        );
    }
    if out.0 > 0 {
        out.1 /= out.0 as f64;
    }
    out
}

/// Whether `value` is within `tolerance` of `target`.
pub fn within(value: f64, target: f64, tolerance: f64) -> bool {
    (value - target).abs() <= tolerance
}

/// One per-vu-iterations scenario `s` against the demo target: each VU logs
/// in once as `<user>-<VU>@example.com` and sends the token on every
/// request (`http.headers`), then runs `flow` (YAML list items indented six
/// spaces).
pub fn logged_in_scenario(user: &str, vus: u64, iterations: u64, flow: &str) -> String {
    format!(
        r#"http:
  headers: {{ Authorization: "Bearer {{{{ token }}}}" }}
scenarios:
  s:
    executor: per-vu-iterations
    vus: {vus}
    iterations: {iterations}
    setup:
      - request:
          name: login
          method: POST
          url: "{{{{ BASE_URL }}}}/auth/login"
          json: {{ email: "{user}-{{{{ __VU }}}}@example.com", password: pw }}
          extract:
            token: {{ json: access_token }}
    flow:
{flow}"#
    )
}
