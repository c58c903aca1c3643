//! The validated, resolved test plan. Nothing downstream of `scenario` sees
//! raw YAML: the engine runs exactly this.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, Method};

use super::condition::{Condition, Extractor};
use super::feed::DataFeed;
use super::template::Template;
use crate::metrics::{MetricId, MetricRegistry, TagSetId, Threshold};
use crate::protocol::http::tls::{TlsConfig, TlsProfile};
use crate::protocol::http::{NetworkConfig, ProtoChoice};

#[derive(Debug)]
pub struct TestPlan {
    /// The scenario file, for messages.
    pub source: PathBuf,
    /// Resolved environment (file defaults < process env < profile < --env).
    pub env: BTreeMap<String, String>,
    /// Built-in metrics plus those the file declares.
    pub registry: MetricRegistry,
    /// Data feeds, indexed by `FeedId`.
    pub feeds: Vec<Arc<DataFeed>>,
    /// Names of VU variables, indexed by `VarSlot` (extract targets and setup outputs).
    pub variables: Vec<String>,
    /// Test-level setup: runs once before any scenario; the variables it
    /// extracts seed every VU.
    pub setup: Vec<Step>,
    /// Test-level teardown: runs once after every scenario has ended.
    pub teardown: Vec<Step>,
    /// Selected scenarios, in file order.
    pub scenarios: Vec<ScenarioPlan>,
    pub thresholds: Vec<Threshold>,
    pub http: HttpSettings,
    /// The `instance` tag every tag set carries (`--instance`, or host and
    /// segment); `None` leaves it out.
    pub instance: Option<String>,
    /// Tags every tag set carries (`--tag K=V`), after `instance`.
    pub tags: Vec<(String, String)>,
    /// The file's `outputs:` section, credentials resolved; each `origin`
    /// is `FILE:LINE:COL` of its entry.
    pub outputs: Vec<crate::output::OutputSpec>,
}

/// Client behaviour shared by every request of the run.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub max_redirects: u32,
    pub insecure_skip_tls_verify: bool,
    pub user_agent: String,
    /// Headers added to every request unless it sets the same header.
    pub default_headers: Vec<(HeaderName, Template)>,
    pub default_timeout: Duration,
    /// Keep cookies per VU (a fresh jar per VU).
    pub cookies: bool,
    /// `http.max_decompression_ratio`.
    pub max_decompression_ratio: u64,
    /// `http.tls`, `http.proxy` (and the proxy variables), `http.hosts`,
    /// `http.dns`; `--resolve` is added by the command line.
    pub network: NetworkConfig,
}

#[derive(Debug)]
pub struct ScenarioPlan {
    pub name: String,
    pub executor: ExecutorPlan,
    /// Delay from test start before this scenario begins.
    pub start_time: Duration,
    /// How long running iterations may continue after the executor's time is up.
    pub graceful_stop: Duration,
    /// User tags for every sample of this scenario (`scenario` is added automatically).
    pub tags: Vec<(String, String)>,
    /// The scenario's tag set (`scenario` plus user tags), for iteration metrics.
    pub tag_set: TagSetId,
    /// This instance's share of the scenario (`--segment i/n`); the whole of
    /// it when unsegmented. Executors take their slice at run time.
    pub share: Share,
    /// VU ids of this scenario start after this many (the VU slots of the
    /// scenarios before it, unsegmented), so ids are the same whichever
    /// segment runs a VU.
    pub vu_id_base: u64,
    /// The scenario's own `tls` merged over `http.tls`; `None`: the run's.
    pub tls: Option<TlsConfig>,
    /// Per-VU setup: runs once before that VU's first iteration.
    pub vu_setup: Vec<Step>,
    /// One iteration.
    pub flow: Vec<Step>,
}

/// When iterations start. VU counts, iterations and rates are the whole
/// scenario's (after `--scale-*`); a segment takes its part through [`Share`].
#[derive(Clone, Debug, PartialEq)]
pub enum ExecutorPlan {
    ConstantVus {
        vus: u64,
        duration: Duration,
    },
    RampingVus {
        start_vus: u64,
        stages: Vec<Stage>,
        /// Time VUs removed by a ramp-down get to finish their iteration.
        graceful_ramp_down: Duration,
    },
    PerVuIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
    SharedIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
    /// Open model: `rate` iterations per `time_unit`, started on schedule
    /// whatever the response times.
    ConstantArrivalRate {
        rate: f64,
        time_unit: Duration,
        duration: Duration,
        preallocated_vus: u64,
        max_vus: u64,
    },
    /// Open model: the rate (per `time_unit`) moves linearly from
    /// `start_rate` through the stages' targets.
    RampingArrivalRate {
        start_rate: f64,
        time_unit: Duration,
        stages: Vec<RateStage>,
        preallocated_vus: u64,
        max_vus: u64,
    },
}

impl ExecutorPlan {
    /// How long the executor starts iterations (iteration executors: at most).
    pub fn planned_duration(&self) -> Duration {
        match self {
            ExecutorPlan::ConstantVus { duration, .. }
            | ExecutorPlan::ConstantArrivalRate { duration, .. } => *duration,
            ExecutorPlan::PerVuIterations { max_duration, .. }
            | ExecutorPlan::SharedIterations { max_duration, .. } => *max_duration,
            ExecutorPlan::RampingVus { stages, .. } => stages.iter().map(|s| s.duration).sum(),
            ExecutorPlan::RampingArrivalRate { stages, .. } => {
                stages.iter().map(|s| s.duration).sum()
            }
        }
    }

    /// The most VUs the executor runs at once (its VU slots), unsegmented.
    pub fn max_vus(&self) -> u64 {
        match self {
            ExecutorPlan::ConstantVus { vus, .. } | ExecutorPlan::PerVuIterations { vus, .. } => {
                *vus
            }
            ExecutorPlan::SharedIterations {
                vus, iterations, ..
            } => (*vus).min(*iterations),
            ExecutorPlan::RampingVus {
                start_vus, stages, ..
            } => stages
                .iter()
                .map(|s| s.target)
                .max()
                .unwrap_or(0)
                .max(*start_vus),
            ExecutorPlan::ConstantArrivalRate { max_vus, .. }
            | ExecutorPlan::RampingArrivalRate { max_vus, .. } => *max_vus,
        }
    }
}

/// A ramping-arrival-rate stage: reach `target` iterations per time unit at its end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateStage {
    pub duration: Duration,
    pub target: f64,
}

/// Which part of a scenario this instance runs: segment `index` (0-based) of
/// `count`. Work is dealt round-robin: of `x` VU slots, iterations or
/// scheduled starts, this instance takes those numbered `index`,
/// `index + count`, ... so the parts sum exactly to `x`, VU ids match the
/// unsegmented run, and arrival schedules interleave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    pub index: u64,
    pub count: u64,
}

impl Share {
    /// The whole scenario.
    pub const WHOLE: Share = Share { index: 0, count: 1 };

    /// This instance's part of `x` items dealt round-robin.
    pub fn of(&self, x: u64) -> u64 {
        (x + self.count - 1 - self.index) / self.count
    }

    /// The global (unsegmented) number of this instance's `k`th item.
    pub fn global(&self, k: u64) -> u64 {
        k * self.count + self.index
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub target: u64,
}

/// Index into `TestPlan::variables`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VarSlot(pub u32);

/// Index into `TestPlan::feeds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FeedId(pub u32);

#[derive(Debug)]
pub enum Step {
    Request(Arc<RequestStep>),
    Group(GroupStep),
    Sleep(SleepSpec),
    Batch(BatchStep),
    Choose(ChooseStep),
    Repeat(RepeatStep),
    /// A Server-Sent Events stream (see `sse_plan`).
    Sse(Arc<super::sse_plan::SseStep>),
    /// A WebSocket session (see `ws_plan`).
    WebSocket(Arc<super::ws_plan::WebSocketStep>),
    /// A step run only when its `if:` condition holds.
    If(Box<IfStep>),
}

/// A step with an `if:`. The condition reads VU values (`var`) or the
/// iteration's last HTTP response; on a response condition with no response
/// yet in the iteration, the step is skipped.
#[derive(Debug)]
pub struct IfStep {
    pub condition: Condition,
    pub step: Step,
}

#[derive(Debug)]
pub struct GroupStep {
    pub name: String,
    /// Tag set for `group_duration` (scenario, group path).
    pub tag_set: TagSetId,
    pub steps: Vec<Step>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SleepSpec {
    Fixed(Duration),
    /// Uniformly random in `[min, max]`.
    Between(Duration, Duration),
}

#[derive(Debug)]
pub struct BatchStep {
    /// Requests in flight at once, at most.
    pub concurrency: usize,
    /// Each request appears once per copy it asks for (already expanded).
    pub requests: Vec<Arc<RequestStep>>,
}

#[derive(Debug)]
pub struct ChooseStep {
    /// Branches with weights; weights are positive, any scale.
    pub branches: Vec<ChooseBranch>,
    pub total_weight: f64,
}

#[derive(Debug)]
pub struct ChooseBranch {
    pub weight: f64,
    pub name: Option<String>,
    pub steps: Vec<Step>,
}

/// Run `steps` until `until` holds for the last response, waiting `interval`
/// between attempts; after `max_attempts` without success the iteration
/// fails with a failed check named `check_name`.
#[derive(Debug)]
pub struct RepeatStep {
    pub steps: Vec<Step>,
    pub until: Condition,
    pub interval: Duration,
    pub max_attempts: u32,
    /// e.g. `until json status equals "completed"`; recorded as a check.
    pub check_name: String,
    /// Tag set for that check's `checks` samples.
    pub check_tag_set: TagSetId,
}

#[derive(Debug)]
pub struct RequestStep {
    pub method: Method,
    pub url: Template,
    pub query: Vec<(Template, Template)>,
    pub headers: Vec<(HeaderName, Template)>,
    pub body: RequestBody,
    pub timeout: Duration,
    /// The `name` tag: explicit, or the URL template with placeholders.
    pub name: String,
    /// Static tags for this request's samples: scenario, group, name, method and user tags.
    pub tag_set: TagSetId,
    /// Statuses that count as success for `http_req_failed` (k6: 200–399).
    pub expected_statuses: StatusSet,
    pub checks: Vec<CheckSpec>,
    pub extract: Vec<(VarSlot, Extractor)>,
    pub record: Vec<RecordSpec>,
    /// True when checks, extract, record, `until` or a later `if:` read the
    /// body, so it is kept.
    pub needs_body: bool,
    /// True when a later `if:` or `tags_from_headers` read the response
    /// headers (checks, extract and record say so themselves).
    pub needs_headers: bool,
    /// Tags taken from response headers (`tags_from_headers`).
    pub header_tags: Vec<HeaderTag>,
    /// HTTP version: the request's `http2`, else its scenario's, else `http.http2`.
    pub proto: ProtoChoice,
    /// Largest kept body: the request's `max_body_size`, else its
    /// scenario's, else `http.max_body_size`.
    pub max_body_size: u64,
    /// The request's own `tls` merged over its scenario's and `http.tls`,
    /// built once; `None` when the request sets none (the VU client's).
    pub tls: Option<Arc<TlsProfile>>,
}

/// One `tags_from_headers` entry: tag `key` gets the value of `header`.
#[derive(Clone, Debug)]
pub struct HeaderTag {
    pub key: Arc<str>,
    pub header: HeaderName,
}

#[derive(Debug)]
pub enum RequestBody {
    Empty,
    /// Sent as `application/json` (templates inside string values rendered).
    Json(Template),
    /// Sent as-is; content type from headers.
    Raw(Template),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(Template, Template)>),
}

/// Status ranges, inclusive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSet(pub Vec<(u16, u16)>);

impl StatusSet {
    pub fn k6_default() -> Self {
        StatusSet(vec![(200, 399)])
    }

    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }
}

#[derive(Debug)]
pub struct CheckSpec {
    pub name: String,
    /// Tags for this check's `checks` samples: scenario, group, check.
    pub tag_set: TagSetId,
    pub condition: Condition,
}

/// Feeds a user-declared metric from a response.
#[derive(Debug)]
pub struct RecordSpec {
    pub metric: MetricId,
    /// Tag set for the samples (scenario, group, name, plus user tags).
    pub tag_set: TagSetId,
    pub action: RecordAction,
}

#[derive(Debug)]
pub enum RecordAction {
    /// Counter: add `amount` when `when` holds (always when `None`).
    Add {
        amount: f64,
        when: Option<Condition>,
    },
    /// Rate: one sample, true when the condition holds.
    Rate { condition: Condition },
    /// Gauge or trend: the extracted value, parsed as a number; skipped (and
    /// warned once) when missing or not numeric.
    Value {
        source: Extractor,
        when: Option<Condition>,
    },
}

/// A named check of a stream step (SSE stream, WebSocket session) on a
/// condition of its own kind.
#[derive(Debug)]
pub struct NamedCheck<C> {
    pub name: String,
    /// Tags for this check's `checks` samples: scenario, group, check.
    pub tag_set: TagSetId,
    pub condition: C,
}
