//! The argument structs (clap derive), with the examples `--help` shows.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use super::demo_knobs::{DemoSuiteArgs, RunDemoArgs};
use crate::demo::Stall;
use crate::engine::HttpDebug;
use crate::protocol::http::HostOverride;
use crate::scenario::{
    MAX_RATE_PER_SECOND, MAX_SCALE, MAX_TEST_DURATION, MAX_TEST_DURATION_TEXT, MAX_VUS, Share,
};
use crate::util::duration::parse_duration;

#[derive(Debug, Parser)]
#[command(
    name = "stampede",
    version,
    about = "A load-testing engine: YAML scenarios, exact HDR percentiles, live metrics outputs.",
    after_help = "Examples:\n  stampede run --demo scenarios/quickstart.yaml\n  stampede run --url http://127.0.0.1:8080/health --vus 50 --duration 30s\n  stampede validate scenarios/quickstart.yaml\n  stampede run --demo scenarios/quickstart.yaml --summary-export run.json --report report.html\n  stampede compare baseline.json run.json\n  stampede demo --listen 127.0.0.1:8080\n\nExit codes: 0 pass, 2 bad arguments, 99 thresholds crossed, 103 runtime error,\n104 invalid scenario, 105 interrupted, 107 setup failed, 108 aborted by threshold,\n111 a required output is unreachable, 113 not a summary export, 114 summaries not one test."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Plain text: no colour in the summary or the log lines (also: the NO_COLOR environment variable; CLICOLOR_FORCE=1 colours output that is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
}

/// `stampede run --help` examples. Long ones continue with `\` within 90
/// columns: clap wraps help at 100 (or the terminal's width), and a wrapped
/// example pastes into a shell as two broken commands.
const RUN_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  stampede run --demo scenarios/quickstart.yaml\n",
    "  stampede run scenarios/quickstart.yaml --env BASE_URL=https://staging.example.com \\\n",
    "      --summary-export summary.json\n",
    "  stampede run --demo scenarios/agent-api.yaml --scenario list --vus 5 --duration 1m\n",
    "  stampede run --demo docs/examples/env-and-profiles.yaml --profile big-pages\n",
    "  stampede run --url http://127.0.0.1:8080/api/credits \\\n",
    "      --header 'Authorization: Bearer T' --vus 50 --duration 30s\n",
    "  stampede run --url http://127.0.0.1:8080/api/graphs --method POST \\\n",
    "      --body '{\"name\":\"g\"}' --header 'Content-Type: application/json' \\\n",
    "      --vus 10 --iterations 1000\n",
    "  stampede run scenarios/quickstart.yaml --tag team=payments \\\n",
    "      --out 'prometheus-rw=http://127.0.0.1:9090/api/v1/write;push_interval=1s'\n",
    "  stampede run --demo scenarios/quickstart.yaml --summary-export run.json --report report.html",
);

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load test from a scenario file, or an ad-hoc test of one URL.
    #[command(after_help = RUN_EXAMPLES)]
    Run(Box<RunArgs>),
    /// Parse and check a scenario file; report every problem found.
    #[command(
        after_help = "Examples:\n  stampede validate scenarios/quickstart.yaml\n  stampede validate docs/examples/env-and-profiles.yaml --profile big-pages --env PAGE_SIZE=20"
    )]
    Validate(ValidateArgs),
    /// Merge the summary exports of a distributed test's instances (--segment i/n) into one summary and verdict.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// Serve the built-in demo API (an imitation agent platform) for trying scenarios.
    #[command(
        after_help = "Examples:\n  stampede demo\n  stampede demo --listen 127.0.0.1:9000 --execution-time 5s --delay 20ms --fail-rate 0.01\n  stampede demo --rate-limit 100 --burst 20\n  stampede demo --tools-rate-limit 5 --tools-burst 5 --tools-quota off\n  stampede demo --seed 7 --cache-hit-rate 0.5 --agentcore-quota 50\n  stampede demo --latency 'GET /api/bots=30ms/120ms'"
    )]
    Demo(DemoArgs),
    /// Print the JSON Schema of scenario files (for editor completion).
    #[command(
        after_help = "Examples:\n  stampede schema > schemas/scenario.schema.json\n  stampede schema --write"
    )]
    Schema(SchemaArgs),
    /// Render a run's summary export as one self-contained HTML report (opens offline).
    #[command(
        after_help = "Examples:\n  stampede run --demo scenarios/quickstart.yaml --summary-export summary.json\n  stampede report summary.json -o report.html"
    )]
    Report(ReportArgs),
    /// Compare two runs' summary exports: request rate, error rate and p50/p95/p99 per endpoint and metric, with verdicts; exit code 99 when anything regressed.
    #[command(
        after_help = "Verdicts: a change past its tolerance is 'regressed' or 'improved' only when it is also beyond the runs' own noise: \
per-interval percentiles of the two timelines (Mann-Whitney U) for latency, a two-proportion test for error rates. See docs/reports.md.\n\n\
Examples:\n  stampede compare baseline.json current.json\n  stampede compare baseline.json current.json --format markdown -o compare.md\n  stampede compare baseline.json current.json --latency-tolerance 20% --latency-min-change 5ms\n\n\
Exit codes: 0 nothing regressed, 99 something regressed, 2 bad arguments, 103 a file cannot be read."
    )]
    Compare(CompareArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A summary export (stampede run --summary-export FILE).
    #[arg(value_name = "SUMMARY")]
    pub summary: PathBuf,
    /// The HTML file to write.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline run's summary export.
    #[arg(value_name = "BASELINE")]
    pub baseline: PathBuf,
    /// The run to judge against it.
    #[arg(value_name = "CURRENT")]
    pub current: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "console")]
    pub format: crate::report::CompareFormat,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Tolerated relative change of requests per second, e.g. 10% or 0.1.
    #[arg(long, value_name = "SHARE", default_value = "10%", value_parser = parse_share)]
    pub rate_tolerance: f64,
    /// Tolerated change of the error rate in percentage points, e.g. 1% (one point).
    #[arg(long, value_name = "SHARE", default_value = "1%", value_parser = parse_share)]
    pub error_rate_tolerance: f64,
    /// Tolerated relative change of a percentile (p50, p95, p99), e.g. 10%.
    #[arg(long, value_name = "SHARE", default_value = "10%", value_parser = parse_share)]
    pub latency_tolerance: f64,
    /// Smallest change of a time percentile that can count, e.g. 1ms (below it: unchanged).
    #[arg(long, value_name = "DURATION", default_value = "1ms", value_parser = parse_duration)]
    pub latency_min_change: Duration,
    /// Significance level of the noise tests (a difference with a larger p-value is noise).
    #[arg(long, value_name = "P", default_value = "0.05", value_parser = parse_share)]
    pub alpha: f64,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Write it to schemas/scenario.schema.json under the current directory
    /// instead of printing it.
    #[arg(long)]
    pub write: bool,
}

/// Options that choose and shape the plan; shared by `run` and `validate`.
#[derive(Debug, Args, Clone, Default)]
pub struct PlanArgs {
    /// Set an environment variable for templates (KEY=VALUE); repeatable; beats the file, the profile and the process environment.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub env: Vec<(String, String)>,
    /// Use the named profile's `env` from the scenario file.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Run only this scenario; repeatable. The earliest selected start_time becomes 0 (the others keep their offsets from it); thresholds on scenarios not selected are skipped.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Number of VUs (overrides the file, as in k6); at most 1000000.
    #[arg(short = 'u', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_VUS))]
    pub vus: Option<u64>,
    /// Test duration, e.g. 30s, 5m (overrides the file: constant VUs for this long); at most 168h.
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_test_duration)]
    pub duration: Option<Duration>,
    /// Total iterations shared by the VUs (overrides the file).
    #[arg(short = 'i', long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: Option<u64>,
    /// Open model: start R iterations per second whatever the response times (constant-arrival-rate, with --duration; --vus sets the preallocated VUs, up to 10x are added on demand); at most 1000000.
    #[arg(long, value_name = "R", value_parser = parse_rate, requires = "duration", conflicts_with = "iterations")]
    pub rate: Option<f64>,
    /// Multiply every VU count (at least 1 VU stays), e.g. 0.1 for a smoke run; at most 1000.
    #[arg(long, value_name = "F", value_parser = parse_scale)]
    pub scale_vus: Option<f64>,
    /// Multiply every arrival rate; at most 1000.
    #[arg(long, value_name = "F", value_parser = parse_scale)]
    pub scale_rate: Option<f64>,
    /// Multiply every duration: the executors' (duration, stages, max_duration), start_time, and the pauses inside iterations (sleep, SSE hold, WebSocket hold and ping_interval); not timeouts, repeat intervals, graceful periods or time_unit; at most 1000.
    #[arg(long, value_name = "F", value_parser = parse_scale)]
    pub scale_duration: Option<f64>,
    /// Run only this instance's share (i of n) of every scenario; n instances together run the whole test.
    #[arg(long, value_name = "i/n", value_parser = parse_segment)]
    pub segment: Option<Share>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (YAML). Omit it and give --url for an ad-hoc test.
    #[arg(
        value_name = "FILE",
        required_unless_present = "url",
        conflicts_with = "url"
    )]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Write the end-of-test summary as JSON (k6's shape plus per-series HDR histograms).
    #[arg(long, value_name = "FILE")]
    pub summary_export: Option<PathBuf>,
    /// Start the schedule at this instant (RFC 3339, e.g. 2026-12-06T07:30:00Z), after setup, so that instances of a distributed test (--segment) start together; a start more than 1s late is reported and marked in the summary.
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<crate::util::start_at::StartAt>,
    /// Write a self-contained HTML report of the run (charts over time, endpoints, errors, checks; opens offline); see docs/reports.md.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Leave the per-interval timeline out of the summary export (it costs little; this exists to measure how little).
    #[arg(long, hide = true, conflicts_with = "report")]
    pub no_timeline: bool,
    /// Hide live progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// When stderr is not a terminal, print a progress line per scenario this often.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration)]
    pub progress_interval: Duration,
    /// The `instance` tag on every sample (default: the host name, plus `-i/n` with --segment).
    #[arg(long, value_name = "NAME")]
    pub instance: Option<String>,
    /// Print every request and response to stderr: headers and sizes (body, and wire: headers and compressed body included); with =full also bodies, up to 2 KiB each. Secrets are redacted: URL credentials, credential headers, and secret-named JSON and form fields (password, token, api_key, ...).
    #[arg(
        long,
        value_name = "full",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "headers",
        value_parser = parse_http_debug
    )]
    pub http_debug: Option<HttpDebug>,
    /// Start the demo target in-process on a free loopback port and set BASE_URL to it.
    #[arg(long)]
    pub demo: bool,
    #[command(flatten)]
    pub demo_settings: RunDemoArgs,
    /// Ad-hoc mode: the URL to request in a loop.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Ad-hoc mode: HTTP method.
    #[arg(
        long,
        short = 'X',
        value_name = "METHOD",
        default_value = "GET",
        requires = "url"
    )]
    pub method: String,
    /// Ad-hoc mode: a request header 'Name: value'; repeatable.
    #[arg(
        long = "header",
        short = 'H',
        value_name = "'NAME: VALUE'",
        requires = "url"
    )]
    pub headers: Vec<String>,
    /// Ad-hoc mode: request body.
    #[arg(long, value_name = "BODY", requires = "url")]
    pub body: Option<String>,
    /// Stream metrics to an output while the test runs; repeatable. KIND is prometheus-rw, otlp, influxdb, json or csv; options follow as ;key=value (see docs/outputs). Credentials come from environment variables, e.g. STAMPEDE_PROMETHEUS_RW_PASSWORD.
    #[arg(short = 'o', long = "out", value_name = "KIND=TARGET[;KEY=VALUE...]")]
    pub outs: Vec<String>,
    /// Connect to ADDR for HOST:PORT, like curl's --resolve (the URL, Host header and TLS name stay HOST); repeatable, wins over the file's http.hosts. ADDR may be a bracketed IPv6 address.
    #[arg(long = "resolve", value_name = "HOST:PORT:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<HostOverride>,
    /// The `testid` label on every series sent to outputs (default: UTC start time plus a random suffix, e.g. 20261123-141502-a3f9).
    #[arg(long, value_name = "ID")]
    pub testid: Option<String>,
    /// A tag (label) added to every series; repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub tags: Vec<(String, String)>,
    /// Serve live Prometheus metrics at http://ADDR/metrics while the test runs (port 0: a free port, printed).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// After the run, keep serving the final values until a scrape reads them, at most this long (0s: stop with the run).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_linger, requires = "metrics_listen")]
    pub metrics_linger: Duration,
}

const MERGE_EXAMPLES: &str = concat!(
    "Examples:\n",
    "  stampede merge summary-1.json summary-2.json summary-3.json summary-4.json\n",
    "  stampede merge results/*.json --summary-export merged.json\n\n",
    "Counts add up, percentiles come from the merged HDR histograms, rates are\n",
    "recomputed over the whole test's duration, and the thresholds are judged again\n",
    "on the merged result: exit code 99 when one fails. The instances' timelines\n",
    "combine interval by interval, gauges (vus) summed. Summaries of different\n",
    "tests or with overlapping or missing segments are refused (exit code 114).",
);

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The instances' summary exports (`stampede run --segment i/n --summary-export FILE`), one per segment.
    #[arg(value_name = "SUMMARY", required = true)]
    pub summaries: Vec<PathBuf>,
    /// Write the merged summary as JSON (the same shape, mergeable again,
    /// with the instances' timelines combined).
    #[arg(long, value_name = "FILE")]
    pub summary_export: Option<PathBuf>,
    /// Write the HTML report of the merged test, charts over time included
    /// (see docs/reports.md).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (YAML).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub plan: PlanArgs,
    /// A tag the run will add with `run --tag`, so thresholds filtering on its key validate; repeatable.
    #[arg(long = "tag", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: std::net::SocketAddr,
    /// Time an execution takes from queued to completed.
    #[arg(long, default_value = "2s", value_parser = parse_duration_arg)]
    pub execution_time: Duration,
    /// Delay added to every response.
    #[arg(long, default_value = "0", value_parser = parse_duration_arg)]
    pub delay: Duration,
    /// Share of requests answered with 500 (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    pub fail_rate: f64,
    /// Requests per second allowed per token (token bucket); off when absent.
    #[arg(long, value_name = "PER_SECOND")]
    pub rate_limit: Option<f64>,
    /// Burst size of the rate limit.
    #[arg(long, default_value_t = 10, requires = "rate_limit")]
    pub burst: u32,
    /// Hold every response for PAUSE once every PERIOD, e.g. 1s/5s (a server stall).
    #[arg(long, value_name = "PAUSE/PERIOD", value_parser = parse_stall)]
    pub stall: Option<Stall>,
    /// Tool executions per second allowed per token (429 beyond), or `off`.
    #[arg(long, default_value = "10", value_name = "PER_SECOND|off", value_parser = parse_rate_or_off)]
    pub tools_rate_limit: OrOff<f64>,
    /// Burst size of the tools rate limit.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub tools_burst: u32,
    /// Tool executions allowed per token in all (403 beyond), or `off`.
    #[arg(long, default_value = "100", value_name = "COUNT|off", value_parser = parse_count_or_off)]
    pub tools_quota: OrOff<u64>,
    #[command(flatten)]
    pub suites: DemoSuiteArgs,
}

/// A limit that `off` turns off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrOff<T>(pub Option<T>);

pub(super) fn parse_rate_or_off(text: &str) -> Result<OrOff<f64>, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(OrOff(None));
    }
    parse_factor(text).map(|rate| OrOff(Some(rate)))
}

pub(super) fn parse_count_or_off(text: &str) -> Result<OrOff<u64>, String> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(OrOff(None));
    }
    match text.trim().parse::<u64>() {
        Ok(n) => Ok(OrOff(Some(n))),
        Err(_) => Err(format!("expected a whole number or off, got {text:?}")),
    }
}

fn parse_duration_arg(text: &str) -> Result<Duration, String> {
    parse_duration(text)
}

fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err("must be longer than 0s".into()),
        d => Ok(d),
    }
}

/// `--metrics-linger`: a duration up to 10 minutes, so a run without a
/// scraper still ends in bounded time.
fn parse_linger(text: &str) -> Result<Duration, String> {
    const MAX: Duration = Duration::from_secs(600);
    match parse_duration(text)? {
        d if d > MAX => Err("at most 10m".into()),
        d => Ok(d),
    }
}

/// `--duration`: a duration within the limit on a scenario's length.
fn parse_test_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d > MAX_TEST_DURATION => Err(format!("at most {MAX_TEST_DURATION_TEXT}")),
        d => Ok(d),
    }
}

/// `--rate`: iterations per second, within the limit per scenario.
fn parse_rate(text: &str) -> Result<f64, String> {
    match parse_factor(text)? {
        r if r > MAX_RATE_PER_SECOND => Err(format!(
            "at most {} iterations per second",
            MAX_RATE_PER_SECOND as u64
        )),
        r => Ok(r),
    }
}

/// `--scale-*`: a factor up to [`MAX_SCALE`]; what it makes is checked
/// against the limits once the file is read.
fn parse_scale(text: &str) -> Result<f64, String> {
    match parse_factor(text)? {
        f if f > MAX_SCALE => Err(format!("at most {MAX_SCALE}")),
        f => Ok(f),
    }
}

/// A positive, finite number.
fn parse_factor(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!("expected a number greater than 0, got {text:?}")),
    }
}

/// `i/n` with 1 <= i <= n.
fn parse_segment(text: &str) -> Result<Share, String> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((i, n)) if i >= 1 && i <= n => Ok(Share {
            index: i - 1,
            count: n,
        }),
        Some((i, n)) => Err(format!(
            "segment {i}/{n} does not exist: use i/n with 1 <= i <= n, e.g. 2/4"
        )),
        None => Err(format!("expected i/n, e.g. 2/4, got {text:?}")),
    }
}

fn parse_stall(text: &str) -> Result<Stall, String> {
    let (pause, every) = text
        .split_once('/')
        .ok_or_else(|| format!("expected PAUSE/PERIOD, e.g. 1s/5s, got {text:?}"))?;
    let stall = Stall {
        pause: parse_duration(pause.trim())?,
        every: parse_duration(every.trim())?,
    };
    stall.validate().map_err(|e| e.to_string())?;
    Ok(stall)
}

/// `10%` or `0.1`: a share between 0 and 1.
fn parse_share(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    let (number, scale) = match trimmed.strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (trimmed, 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v / scale <= 1.0 => Ok(v / scale),
        _ => Err(format!("expected a share such as 10% or 0.1, got {text:?}")),
    }
}

/// `--http-debug` (headers) or `--http-debug=full` (bodies too), as in k6.
fn parse_http_debug(text: &str) -> Result<HttpDebug, String> {
    match text {
        "headers" => Ok(HttpDebug::Headers),
        "full" => Ok(HttpDebug::Full),
        _ => Err(format!(
            "expected --http-debug or --http-debug=full, got {text:?}"
        )),
    }
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{text:?} is not KEY=VALUE")),
    }
}

fn parse_resolve(text: &str) -> Result<HostOverride, String> {
    HostOverride::parse_resolve(text)
}
