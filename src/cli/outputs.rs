//! The output flags: `--out KIND=TARGET[;key=value...]`, `--testid`, `--tag`.
//! Parsing is done here rather than in clap's value parsers so every
//! problem is one line naming the flag (`--out #2: ...`) and credentials can
//! be read from the environment in the same pass.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::args::RunArgs;
use crate::exit_code;
use crate::metrics::Sink;
use crate::output::{
    HEALTH_CHECK_TIMEOUT, OutputConfigError, OutputContext, OutputKind, OutputSpec, SpecBuilder,
    build_sink, check_health, check_testid, generate_testid, scrape,
};
use crate::scenario::{RESERVED_TAGS, TestPlan};

/// Parses the `index`th (1-based) `--out` value. `env` looks up environment
/// variables (credentials); secrets are never part of `text`.
///
/// `text` is `KIND=TARGET`, optionally followed by `;key=value` options.
/// `otlp` alone (no target) is allowed: the OTLP output then reads
/// `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub fn parse_out(
    text: &str,
    index: usize,
    env: impl Fn(&str) -> Option<String>,
) -> Result<OutputSpec, OutputConfigError> {
    let origin = format!("--out #{index}");
    let mut parts = text.split(';');
    let head = parts.next().unwrap_or_default().trim();
    let (kind_text, target) = match head.split_once('=') {
        Some((kind, target)) => (kind.trim(), Some(target.trim())),
        None => (head, None),
    };
    let kind = OutputKind::parse(kind_text).ok_or_else(|| OutputConfigError::UnknownKind {
        origin: origin.clone(),
        kind: kind_text.to_string(),
    })?;
    let missing_target = || {
        let example = match kind {
            OutputKind::PrometheusRw => "URL (or K6_PROMETHEUS_RW_SERVER_URL)",
            OutputKind::InfluxDb => "URL (or K6_INFLUXDB_BUCKET)",
            _ if kind.is_network() => "URL",
            _ => "FILE",
        };
        OutputConfigError::BadTarget {
            origin: origin.clone(),
            message: format!("expected {kind}={example}, got {text:?}"),
        }
    };
    // Without a target, the OTLP output reads OTEL_EXPORTER_OTLP_ENDPOINT and
    // prometheus-rw / influxdb k6's variables (`SpecBuilder::finish`).
    let target = match target {
        Some("") | None if !kind.is_network() => return Err(missing_target()),
        Some(t) => t,
        None => "",
    };
    let mut builder = SpecBuilder::new(kind, target, origin.clone());
    for option in parts {
        let option = option.trim();
        if option.is_empty() {
            continue;
        }
        let Some((key, value)) = option.split_once('=') else {
            return Err(OutputConfigError::BadOption {
                origin,
                key: option.to_string(),
                message: "expected key=value".into(),
            });
        };
        builder.set(key.trim(), value)?;
    }
    let spec = builder.finish(env).map_err(|p| p.error)?;
    if spec.target.is_empty() && kind != OutputKind::Otlp {
        return Err(missing_target());
    }
    Ok(spec)
}

/// Checks a `--tag K=V`: the key becomes a label name in every output, so
/// it must be one (`[A-Za-z_][A-Za-z0-9_]*`), and stampede's own tag names
/// are refused.
pub fn check_tag(key: &str, value: &str) -> Result<(), String> {
    let valid_name = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_name {
        return Err(format!(
            "--tag {key}={value}: tag names are letters, digits and '_', not starting with a digit"
        ));
    }
    if key.starts_with("__") {
        return Err(format!(
            "--tag {key}={value}: names starting with '__' are reserved by Prometheus"
        ));
    }
    if RESERVED_TAGS.contains(&key) {
        return Err(format!(
            "--tag {key}={value}: tag {key:?} is set by stampede (reserved: {})",
            RESERVED_TAGS.join(", ")
        ));
    }
    Ok(())
}

/// Checks every output flag at once; the messages to print, one per problem.
pub fn check_output_flags(
    outs: &[String],
    tags: &[(String, String)],
    testid: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<OutputSpec>, Vec<String>> {
    let mut problems = Vec::new();
    let mut specs = Vec::new();
    for (i, text) in outs.iter().enumerate() {
        match parse_out(text, i + 1, &env) {
            Ok(spec) => specs.push(spec),
            Err(e) => problems.push(e.to_string()),
        }
    }
    for (key, value) in tags {
        if let Err(message) = check_tag(key, value) {
            problems.push(message);
        }
    }
    if let Some(id) = testid
        && let Err(message) = check_testid(id)
    {
        problems.push(format!("--testid: {message}"));
    }
    if problems.is_empty() {
        Ok(specs)
    } else {
        Err(problems)
    }
}

/// The outputs of a run, ready to be handed to the engine.
pub struct StartedOutputs {
    pub sinks: Vec<Box<dyn Sink>>,
    /// Time the sinks get after the test: the longest `flush_timeout`, plus
    /// a margin for encoding what is left.
    pub finish_timeout: Duration,
    /// The run's `testid`: what outputs label series with, and what the
    /// summary export and report name the run by.
    pub testid: String,
}

/// Builds the file's outputs, then the `--out` ones, then the scrape
/// endpoint; prints the run header (outputs and testid); runs the health
/// checks. `Err` is the exit code: 104 for a bad output in the file, 2 for a
/// bad `--out`, 103 when the scrape endpoint cannot listen, 111 when a
/// required output is unreachable.
pub async fn start_outputs(
    plan: &TestPlan,
    cli_outputs: Vec<OutputSpec>,
    args: &RunArgs,
) -> Result<StartedOutputs, i32> {
    let scrape_options = args.metrics_listen.map(|addr| scrape::ScrapeOptions {
        addr,
        linger: args.metrics_linger,
    });
    // The outputs' own budgets, not a floor above them: an output that
    // cannot deliver must not hold the end of the run past its
    // `flush_timeout`. The scrape endpoint's budget is its linger plus its
    // wait for open scrapes: the run waits for it.
    let scrape_budget = scrape_options.map_or(Duration::ZERO, |o| o.finish_budget());
    let finish_timeout = plan
        .outputs
        .iter()
        .chain(&cli_outputs)
        .map(|s| s.common.flush_timeout)
        .fold(scrape_budget, Duration::max)
        + FINISH_MARGIN;
    let testid = args
        .testid
        .clone()
        .unwrap_or_else(|| generate_testid(SystemTime::now()));
    if plan.outputs.is_empty() && cli_outputs.is_empty() && scrape_options.is_none() {
        return Ok(StartedOutputs {
            sinks: Vec::new(),
            finish_timeout,
            testid,
        });
    }
    let ctx = OutputContext {
        testid: testid.clone(),
        registry: Arc::new(plan.registry.clone()),
    };
    let mut sinks = Vec::new();
    let mut names = Vec::new();
    let mut failed = None;
    let groups = [
        (&plan.outputs, exit_code::INVALID_SCENARIO),
        (&cli_outputs, exit_code::BAD_ARGUMENTS),
    ];
    for (specs, code) in groups {
        for spec in specs {
            match build_sink(spec, &ctx) {
                Ok(sink) => {
                    names.push(spec.display_name());
                    sinks.push(sink);
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    failed.get_or_insert(code);
                }
            }
        }
    }
    if let Some(code) = failed {
        return Err(code);
    }
    if let Some(options) = scrape_options {
        let addr = options.addr;
        match scrape::serve(options, &ctx, |line| eprintln!("{line}")).await {
            Ok(endpoint) => {
                // The bound address: with port 0 the one the system picked.
                let url = format!("http://{}/metrics", endpoint.local_addr);
                names.push(format!("metrics endpoint ({url})"));
                sinks.push(endpoint.sink);
            }
            Err(e) => {
                eprintln!("error: --metrics-listen {addr}: {e}");
                return Err(exit_code::RUNTIME_ERROR);
            }
        }
    }
    eprintln!("  outputs: {}", names.join(", "));
    eprintln!("  testid:  {}", ctx.testid);
    let problems = check_health(&mut sinks, &names, HEALTH_CHECK_TIMEOUT).await;
    for problem in &problems {
        eprintln!("{}", problem.message());
    }
    if problems.iter().any(|p| p.required) {
        return Err(exit_code::OUTPUT_UNAVAILABLE);
    }
    Ok(StartedOutputs {
        sinks,
        finish_timeout,
        testid,
    })
}

/// Beyond an output's own `flush_timeout`: encoding what is left and the
/// sink task's own bookkeeping.
const FINISH_MARGIN: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn err(text: &str) -> String {
        parse_out(text, 1, no_env).unwrap_err().to_string()
    }

    #[test]
    fn kind_target_and_options() {
        let spec = parse_out(
            "prometheus-rw=http://127.0.0.1:9090/api/v1/write;trend_stats=p(95),p(99);push_interval=1s",
            2,
            no_env,
        )
        .unwrap();
        assert_eq!(spec.kind, OutputKind::PrometheusRw);
        assert_eq!(spec.target, "http://127.0.0.1:9090/api/v1/write");
        assert_eq!(spec.common.push_interval, Duration::from_secs(1));
        assert_eq!(spec.extra["trend_stats"], "p(95),p(99)");
        assert_eq!(spec.origin, "--out #2");
    }

    #[test]
    fn influx_query_and_otlp_without_target() {
        let spec = parse_out("influxdb=http://h:8086?org=o&bucket=b", 1, no_env).unwrap();
        assert_eq!(spec.target, "http://h:8086?org=o&bucket=b");
        let spec = parse_out("otlp", 1, no_env).unwrap();
        assert_eq!((spec.kind, spec.target.as_str()), (OutputKind::Otlp, ""));
        let spec = parse_out("otlp;push_interval=2s", 1, no_env).unwrap();
        assert_eq!(spec.common.push_interval, Duration::from_secs(2));
    }

    #[test]
    fn golden_errors() {
        assert_eq!(
            err("promethus-rw=http://x"),
            "--out #1: unknown output kind \"promethus-rw\"; expected one of prometheus-rw, otlp, influxdb, json, csv"
        );
        assert_eq!(
            err("prometheus-rw"),
            "--out #1: expected prometheus-rw=URL (or K6_PROMETHEUS_RW_SERVER_URL), got \"prometheus-rw\""
        );
        assert_eq!(err("json="), "--out #1: expected json=FILE, got \"json=\"");
        assert_eq!(
            err("json=a.json;gzip"),
            "--out #1: option gzip: expected key=value"
        );
    }

    #[test]
    fn tags_are_label_names_and_not_reserved() {
        assert!(check_tag("team", "payments").is_ok());
        assert_eq!(
            check_tag("1x", "y").unwrap_err(),
            "--tag 1x=y: tag names are letters, digits and '_', not starting with a digit"
        );
        assert!(check_tag("testid", "y").unwrap_err().starts_with(
            "--tag testid=y: tag \"testid\" is set by stampede (reserved: scenario, "
        ));
    }

    #[test]
    fn all_problems_are_reported() {
        let outs = vec!["bogus=x".to_string(), "csv=out.csv".to_string()];
        let tags = vec![("instance".to_string(), "x".to_string())];
        let problems = check_output_flags(&outs, &tags, Some("bad id"), no_env).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
