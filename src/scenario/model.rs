//! The raw serde model of a scenario file, exactly as written. Nothing here is
//! checked beyond YAML types; `validate` turns it into a `TestPlan`. Durations,
//! regexes, templates and names stay text here so that validation can report
//! every problem at once, each with its line. Numbers and booleans are
//! `Templated`: a literal, or a `"{{ NAME }}"` string typed after rendering.

use schemars::JsonSchema;
use serde::Deserialize;

use super::model_types::{OrderedMap, Scalar, StatusSpec, Templated, Text, TextOr};
use super::net_model::{DnsDef, ProxyDef, TlsDef};

/// A whole scenario file.
///
/// Either `scenarios:` or the top-level shorthand (`flow` with `vus`,
/// `duration`, `iterations` or `stages`) describes the load, never both.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Default environment values, `{{ NAME }}` in templates. Values are text
    /// (numbers and booleans are converted). Overridden by the process
    /// environment, then the selected profile, then `--env K=V`.
    #[serde(default)]
    pub env: OrderedMap<Scalar>,
    /// Named sets of environment values chosen with `--profile NAME`.
    #[serde(default)]
    pub profiles: OrderedMap<ProfileDef>,
    /// HTTP client settings shared by every request.
    #[serde(default)]
    pub http: HttpDef,
    /// Data feeds (CSV or JSON files), referenced as `{{ feed.column }}`.
    #[serde(default)]
    pub data: OrderedMap<FeedDef>,
    /// Custom metrics: `name: counter | gauge | rate | trend`, or
    /// `{ type: trend, time: false }` for a trend of plain numbers.
    #[serde(default)]
    pub metrics: OrderedMap<MetricDecl>,
    /// Steps run once before any scenario starts; variables they extract are
    /// copied into every VU.
    #[serde(default)]
    pub setup: Vec<StepDef>,
    /// Steps run once after every scenario has ended.
    #[serde(default)]
    pub teardown: Vec<StepDef>,
    /// Pass/fail criteria: `metric` or `metric{tag:value}` to a list of k6
    /// expressions (`p(95)<500`) or `{ threshold, abort_on_fail, delay_abort_eval }`.
    #[serde(default)]
    pub thresholds: OrderedMap<Vec<ThresholdDef>>,
    /// Named scenarios, run in parallel (each from its `start_time`).
    pub scenarios: Option<OrderedMap<ScenarioDef>>,

    /// Shorthand: number of VUs for the single `default` scenario.
    pub vus: Option<Templated<u64>>,
    /// Shorthand: run `default` as constant-vus for this long.
    pub duration: Option<Text>,
    /// Shorthand: run `default` as shared-iterations with this many iterations
    /// (`duration`, when also given, becomes its `max_duration`).
    pub iterations: Option<Templated<u64>>,
    /// Shorthand: run `default` as ramping-vus through these stages (starting
    /// from `vus`, default 1).
    pub stages: Option<Vec<StageDef>>,
    /// Shorthand: steps of one iteration of `default`.
    pub flow: Option<Vec<StepDef>>,
    /// Shorthand: per-VU setup of `default` (runs before a VU's first iteration).
    pub vu_setup: Option<Vec<StepDef>>,
    /// Live outputs: `{ type: prometheus-rw, url: ..., push_interval: 5s, ... }`
    /// per entry (see docs/outputs). Kept as raw maps: which keys are valid
    /// depends on the type, and the kind's constructor judges its own options.
    #[serde(default)]
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub outputs: Vec<OrderedMap<serde_norway::Value>>,
}

/// A profile: environment values applied with `--profile NAME`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileDef {
    /// Values that override the file's `env:` and the process environment.
    #[serde(default)]
    pub env: OrderedMap<Scalar>,
}

/// HTTP client settings.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpDef {
    /// Default request timeout (whole exchange). Default 60s.
    pub timeout: Option<Text>,
    /// Headers added to every request that does not set the same header; templated.
    #[serde(default)]
    pub headers: OrderedMap<Scalar>,
    /// Redirects followed before giving up; 0 disables following. Default 10.
    pub max_redirects: Option<Templated<u32>>,
    /// Accept any TLS certificate. Default false.
    pub insecure_skip_tls_verify: Option<Templated<bool>>,
    /// `User-Agent` header. Default `stampede/<version>`.
    pub user_agent: Option<String>,
    /// Keep a cookie jar per VU. Default true.
    pub cookies: Option<Templated<bool>>,
    /// Default HTTP version of every request: `true` HTTP/2 only (h2c with
    /// prior knowledge for http://), `false` HTTP/1.1 only. Unset: ALPN
    /// decides for https://, HTTP/1.1 for http://. Scenarios and requests
    /// override it.
    pub http2: Option<Templated<bool>>,
    /// Largest response body kept when a check, extraction or record reads
    /// it (bytes, or `512KiB`, `10MiB`, `1GB`); a larger one fails with
    /// `body_too_large`. Scenarios and requests override it. Default 10MiB.
    pub max_body_size: Option<Scalar>,
    /// A kept gzip/deflate body may inflate to at most this many times its
    /// compressed size (past 1 MiB), else `decompression_limit`. Default 100.
    pub max_decompression_ratio: Option<Templated<u64>>,
    /// Trusted CAs, client certificates (mTLS), TLS versions, SNI.
    pub tls: Option<TlsDef>,
    /// A forward proxy; by default `HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`.
    pub proxy: Option<ProxyDef>,
    /// `host` or `host:port` to an IP address (optionally with a port):
    /// connections go there, the URL, `Host` and SNI keep the name.
    #[serde(default)]
    pub hosts: OrderedMap<Text>,
    /// DNS caching: shared (default), per VU or per connection; TTL.
    pub dns: Option<DnsDef>,
}

/// One data feed.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedDef {
    /// Path relative to the scenario file; `.csv` (header row required) or
    /// `.json` (an array of objects).
    pub file: String,
    /// `per-vu` (VU n uses row n-1, wrapping), `sequential` (each use takes the
    /// next row, shared by all VUs, wrapping) or `random`. Default `sequential`.
    pub mode: Option<String>,
}

/// A custom metric declaration: a kind name (`counter`, `gauge`, `rate`,
/// `trend` = a trend of milliseconds), or the map form.
pub type MetricDecl = TextOr<MetricDeclMap>;

/// The map form of a metric declaration.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricDeclMap {
    /// `counter`, `gauge`, `rate` or `trend`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Trends only: values are milliseconds (true, default) or plain numbers.
    pub time: Option<bool>,
}

/// One threshold: an expression (`p(95)<500`, `rate<0.01`, `count>10`,
/// `avg<200`, ...), or the map form with abort settings.
pub type ThresholdDef = TextOr<ThresholdDetail>;

/// The map form of a threshold.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdDetail {
    /// The expression, as in the short form.
    pub threshold: String,
    /// Stop the test as soon as this threshold fails. Default false.
    pub abort_on_fail: Option<Templated<bool>>,
    /// With `abort_on_fail`: do not judge before this much test time. Default 0s.
    pub delay_abort_eval: Option<Text>,
}

/// A named scenario.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDef {
    /// `constant-vus`, `ramping-vus`, `per-vu-iterations`, `shared-iterations`,
    /// `constant-arrival-rate` or `ramping-arrival-rate`.
    /// When omitted: constant-arrival-rate if `rate` is set,
    /// ramping-arrival-rate if `start_rate` is set, ramping-vus if `stages`
    /// is set, shared-iterations if `iterations` is set, else constant-vus.
    pub executor: Option<String>,
    /// VUs (constant-vus, per-vu-iterations, shared-iterations). Default 1.
    pub vus: Option<Templated<u64>>,
    /// constant-vus: how long to run. Required.
    pub duration: Option<Text>,
    /// per-vu-iterations: iterations per VU; shared-iterations: total. Default 1.
    pub iterations: Option<Templated<u64>>,
    /// Iteration executors: give up after this long. Default 10m.
    pub max_duration: Option<Text>,
    /// ramping-vus: VUs at the start. Default 1.
    pub start_vus: Option<Templated<u64>>,
    /// ramping-vus: ramp linearly to `target` VUs over `duration`, stage by
    /// stage; ramping-arrival-rate: to `target` iterations per `time_unit`.
    pub stages: Option<Vec<StageDef>>,
    /// constant-arrival-rate: iterations started per `time_unit`. Required.
    pub rate: Option<Templated<f64>>,
    /// ramping-arrival-rate: iterations per `time_unit` at the start. Default 0.
    pub start_rate: Option<Templated<f64>>,
    /// Arrival-rate executors: the period `rate` counts over. Default 1s.
    pub time_unit: Option<Text>,
    /// Arrival-rate executors: VUs created before the start. Required.
    pub preallocated_vus: Option<Templated<u64>>,
    /// Arrival-rate executors: VUs may be added up to this many when every
    /// VU is busy. Default `preallocated_vus`.
    pub max_vus: Option<Templated<u64>>,
    /// ramping-vus: time a VU removed by a ramp-down gets to finish. Default 30s.
    pub graceful_ramp_down: Option<Text>,
    /// Time running iterations get after the executor's time is up. Default 30s.
    pub graceful_stop: Option<Text>,
    /// Delay from test start before this scenario begins. Default 0s.
    pub start_time: Option<Text>,
    /// Tags added to every sample of this scenario.
    #[serde(default)]
    pub tags: OrderedMap<Scalar>,
    /// HTTP version of this scenario's requests (see `http.http2`); a
    /// request's own `http2` overrides it.
    pub http2: Option<Templated<bool>>,
    /// Largest kept response body of this scenario's requests (see
    /// `http.max_body_size`); a request's own overrides it.
    pub max_body_size: Option<Scalar>,
    /// TLS of this scenario's requests and sessions: the fields set here
    /// replace `http.tls`'s, `hosts` entries are tried before its own.
    pub tls: Option<TlsDef>,
    /// Steps each VU runs once, before its first iteration.
    #[serde(default)]
    pub setup: Vec<StepDef>,
    /// The steps of one iteration.
    #[serde(default)]
    pub flow: Vec<StepDef>,
}

/// A ramping stage.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    /// How long the ramp to `target` takes (0s jumps at once).
    pub duration: Text,
    /// VUs (ramping-vus) or iterations per time unit (ramping-arrival-rate)
    /// at the end of the stage.
    pub target: Templated<u64>,
}

/// One step: exactly one of its kind keys, plus an optional `if`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    /// Run the step only when this condition holds: on a variable
    /// (`{ var: mode, equals: fast }`), on the last response of the
    /// iteration (`{ status: 200 }`, `{ error_code: timeout }`), or its
    /// negation (`{ not: { status: 200 } }`). A skipped step records nothing.
    #[serde(rename = "if")]
    pub if_: Option<ConditionDef>,
    /// Send an HTTP request.
    pub request: Option<RequestDef>,
    /// Run steps as a named group (tag `group`, metric `group_duration`).
    pub group: Option<GroupDef>,
    /// Pause: `1s`, or `{ min: 1s, max: 3s }` for a uniform random pause.
    pub sleep: Option<SleepDef>,
    /// Send several requests concurrently.
    pub batch: Option<BatchDef>,
    /// Run one of several branches, picked at random by weight.
    pub choose: Option<Vec<ChooseBranchDef>>,
    /// Run steps until a condition holds on the last response (polling).
    pub repeat: Option<RepeatDef>,
    /// Open a Server-Sent Events stream and read it event by event.
    pub sse: Option<SseDef>,
    /// Open a WebSocket session and run its steps (send, expect, hold).
    pub websocket: Option<super::ws_model::WebSocketDef>,
}

/// An HTTP request.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestDef {
    /// The `name` tag. Default: the URL as written (placeholders kept, query removed).
    pub name: Option<String>,
    /// HTTP method. Default GET.
    pub method: Option<String>,
    /// Absolute URL (templated); must start with http:// or https://.
    pub url: String,
    /// Query parameters appended to the URL (keys and values templated).
    #[serde(default)]
    pub query: OrderedMap<Scalar>,
    /// Request headers (values templated).
    #[serde(default)]
    pub headers: OrderedMap<Scalar>,
    /// A JSON body built from this YAML value; strings are templated.
    #[schemars(with = "Option<serde_json::Value>")]
    pub json: Option<serde_norway::Value>,
    /// A raw text body (templated).
    pub body: Option<String>,
    /// A form body, `application/x-www-form-urlencoded` (templated).
    pub form: Option<OrderedMap<Scalar>>,
    /// Request timeout. Default `http.timeout`.
    pub timeout: Option<Text>,
    /// Statuses that count as success for `http_req_failed`: numbers and
    /// `"200-299"` ranges. Default 200-399.
    pub expect_status: Option<StatusSpec>,
    /// Checks on the response, recorded in the `checks` metric.
    #[serde(default)]
    pub checks: Vec<ConditionDef>,
    /// Values taken from the response into VU variables, by variable name.
    #[serde(default)]
    pub extract: OrderedMap<ExtractDef>,
    /// Samples for custom metrics.
    #[serde(default)]
    pub record: Vec<RecordDef>,
    /// Copies of this request in a batch. Default 1. Only inside `batch`.
    pub copies: Option<Templated<u64>>,
    /// `true`: HTTP/2 only (h2c with prior knowledge for http://; https://
    /// fails unless ALPN picks h2). `false`: HTTP/1.1 only. Default: the
    /// scenario's `http2`, then `http.http2`.
    pub http2: Option<Templated<bool>>,
    /// Largest kept response body (see `http.max_body_size`). Default: the
    /// scenario's, then `http.max_body_size`.
    pub max_body_size: Option<Scalar>,
    /// Tags taken from response headers, tag key to header name
    /// (`{ pod: X-Served-By }`), added to this request's `http_req_*`
    /// samples. At most 100 distinct values per tag key in a run; later
    /// values become `other`.
    #[serde(default)]
    pub tags_from_headers: OrderedMap<String>,
    /// TLS of this request only, over its scenario's `tls` and `http.tls`:
    /// the fields set here replace theirs, `hosts` entries are tried before
    /// theirs. Its connections are never shared with requests of other TLS
    /// settings.
    pub tls: Option<TlsDef>,
}

/// A condition on a response: exactly one subject, with operators.
///
/// Subjects: `status`, `error_code`, `json`, `header`, `cookie`, `var`,
/// `body_contains`, `body_not_contains`, `body_matches`, `max_duration`,
/// `not`. `json`, `header`, `cookie` and `var` take
/// operators (all must hold): `exists`, `equals`, `not_equals`, `contains`,
/// `not_contains`, `matches`, `lt`, `lte`, `gt`, `gte`, `in`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionDef {
    /// Check name (checks and `repeat.until` only). Default: a description of the condition.
    pub name: Option<String>,
    /// Status is one of these: a number, a `"200-299"` range, or a list of
    /// them; `0` is "no response" (the request failed before one arrived).
    pub status: Option<StatusSpec>,
    /// The request failed with this error code (`timeout`, `refused`, ...).
    pub error_code: Option<String>,
    /// JSON path into the body: `a.b[0].c`, `a.b.0.c`, `$.a`, `items.#` (length).
    pub json: Option<String>,
    /// A response header (case-insensitive).
    pub header: Option<String>,
    /// A cookie set by this response (`Set-Cookie`).
    pub cookie: Option<String>,
    /// A value a template can name: a VU variable, an environment value,
    /// `feed.column`, `__VU`, `__ITER` or `__SCENARIO`.
    pub var: Option<String>,
    /// Holds when this condition does not.
    pub not: Option<Box<ConditionDef>>,
    /// The body contains this text (templated).
    pub body_contains: Option<String>,
    /// The body does not contain this text (templated).
    pub body_not_contains: Option<String>,
    /// The body matches this regex.
    pub body_matches: Option<String>,
    /// The response took less than this.
    pub max_duration: Option<Text>,
    /// The subject is present (true) or absent (false).
    pub exists: Option<bool>,
    /// Equal as text, or numerically when both are numbers.
    pub equals: Option<Scalar>,
    pub not_equals: Option<Scalar>,
    /// Text contains this (templated).
    pub contains: Option<Scalar>,
    pub not_contains: Option<Scalar>,
    /// Text matches this regex.
    pub matches: Option<String>,
    /// Numeric comparisons.
    pub lt: Option<Scalar>,
    pub lte: Option<Scalar>,
    pub gt: Option<Scalar>,
    pub gte: Option<Scalar>,
    /// Equal to one of these.
    #[serde(rename = "in")]
    pub one_of: Option<Vec<Scalar>>,
}

/// Where an extracted value comes from: exactly one key.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractDef {
    /// A JSON path into the body.
    pub json: Option<String>,
    /// A response header.
    pub header: Option<String>,
    /// A regex on the body: capture group 1, else the whole match.
    pub regex: Option<String>,
    /// A cookie set by this response.
    pub cookie: Option<String>,
}

/// Feeds a custom metric from a response.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDef {
    /// A metric declared under `metrics:`.
    pub metric: String,
    /// Counters: amount to add. Default 1.
    pub add: Option<Templated<f64>>,
    /// Counters, gauges, trends: only when this holds. Rates: the sample's value.
    pub when: Option<ConditionDef>,
    /// Gauges and trends: where the number comes from.
    pub value: Option<ExtractDef>,
}

/// A group of steps.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    /// Group name (tag `group`, nested as `::outer::inner`).
    pub name: String,
    /// The grouped steps.
    pub steps: Vec<StepDef>,
}

/// A pause: a fixed duration (`1s`), or `{ min, max }` for a uniform random one.
pub type SleepDef = TextOr<SleepRange>;

/// `{ min, max }` of a random pause.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SleepRange {
    pub min: Text,
    pub max: Text,
}

/// Concurrent requests.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchDef {
    /// Requests in flight at once. Default: all of them.
    pub concurrency: Option<Templated<u64>>,
    /// The requests (each may have `copies: N`).
    pub requests: Vec<RequestDef>,
}

/// One branch of `choose`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChooseBranchDef {
    /// Relative weight, > 0, any scale.
    pub weight: Templated<f64>,
    /// Optional label.
    pub name: Option<String>,
    /// The branch's steps.
    pub steps: Vec<StepDef>,
}

/// A polling loop.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepeatDef {
    /// Stop when this holds for the last response of `steps`; its `name`
    /// names the check recorded when attempts run out.
    pub until: ConditionDef,
    /// Pause between attempts. Default 1s.
    pub interval: Option<Text>,
    /// Attempts before the iteration fails. Default 10.
    pub max_attempts: Option<Templated<u32>>,
    /// The repeated steps.
    pub steps: Vec<StepDef>,
}

/// A Server-Sent Events stream: a request whose response is read event by
/// event until a sentinel, the server's close, `max_events`, `hold` or `timeout`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SseDef {
    /// The `name` tag. Default: the URL as written (placeholders kept, query removed).
    pub name: Option<String>,
    /// HTTP method. Default GET (chat completions are POSTs).
    pub method: Option<String>,
    /// Absolute URL (templated).
    pub url: String,
    /// Query parameters appended to the URL (keys and values templated).
    #[serde(default)]
    pub query: OrderedMap<Scalar>,
    /// Request headers (values templated). `Accept: text/event-stream` unless set.
    #[serde(default)]
    pub headers: OrderedMap<Scalar>,
    /// A JSON body built from this YAML value; strings are templated.
    #[schemars(with = "Option<serde_json::Value>")]
    pub json: Option<serde_norway::Value>,
    /// A raw text body (templated).
    pub body: Option<String>,
    /// End when an event's data is exactly this text (e.g. `"[DONE]"`).
    /// That event ends the stream and is not counted as an event.
    pub until: Option<String>,
    /// End when an event of this type (`event:` field) arrives; not counted either.
    pub until_event: Option<String>,
    /// End after this many events.
    pub max_events: Option<Templated<u64>>,
    /// Listen this long, then close the stream: a normal end.
    pub hold: Option<Text>,
    /// The stream must end (by any of the above or the server's close)
    /// within this, else it fails with `sse_timeout`. Default `http.timeout`.
    pub timeout: Option<Text>,
    /// Statuses that count as success: numbers and `"200-299"` ranges. Default 200-399.
    pub expect_status: Option<StatusSpec>,
    /// HTTP version, as a request's `http2`.
    pub http2: Option<Templated<bool>>,
    /// Checks on the stream, recorded in the `checks` metric.
    #[serde(default)]
    pub checks: Vec<SseCheckDef>,
    /// Values taken from an event's data into VU variables, by variable name.
    #[serde(default)]
    pub extract: OrderedMap<SseExtractDef>,
    /// TLS of this stream only, as a request's `tls`: over its scenario's
    /// `tls` and `http.tls`, its connections never shared with requests of
    /// other TLS settings.
    pub tls: Option<TlsDef>,
}

/// A check on a stream: exactly one subject (`status`, `error_code`,
/// `events`, `data_contains` or `json`); `json` takes the operators of
/// request checks.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SseCheckDef {
    /// Check name. Default: a description of the condition.
    pub name: Option<String>,
    /// Status is one of these: a number, a `"200-299"` range, or a list of
    /// them; `0` is "no response".
    pub status: Option<StatusSpec>,
    /// The stream failed with this error code (`sse_timeout`, `timeout`, ...).
    pub error_code: Option<String>,
    /// The number of events: `10` (exactly), or a comparison such as
    /// `">= 10"`, `"< 100"`, `"== 3"`, `"!= 0"`.
    pub events: Option<Scalar>,
    /// The event's data contains this text (templated).
    pub data_contains: Option<String>,
    /// JSON path into the event's data.
    pub json: Option<String>,
    /// Which event the data subjects look at: `last` (default; the last
    /// counted event) or `any` (holds when one event satisfies it).
    pub on: Option<String>,
    pub exists: Option<bool>,
    pub equals: Option<Scalar>,
    pub not_equals: Option<Scalar>,
    pub contains: Option<Scalar>,
    pub not_contains: Option<Scalar>,
    pub matches: Option<String>,
    pub lt: Option<Scalar>,
    pub lte: Option<Scalar>,
    pub gt: Option<Scalar>,
    pub gte: Option<Scalar>,
    #[serde(rename = "in")]
    pub one_of: Option<Vec<Scalar>>,
}

/// Where an extracted value comes from: exactly one of `json` and `regex`,
/// applied to an event's data.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SseExtractDef {
    /// A JSON path into the event's data.
    pub json: Option<String>,
    /// A regex on the event's data: capture group 1, else the whole match.
    pub regex: Option<String>,
    /// `last` (default: the last counted event) or `any` (the first event
    /// the source finds a value in).
    pub on: Option<String>,
}
