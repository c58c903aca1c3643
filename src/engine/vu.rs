//! A virtual user: its HTTP client (keep-alive connections, cookies), its
//! variables and data rows, and the last response (for `repeat ... until`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use rand::SeedableRng;
use rand::rngs::SmallRng;

use super::context::RunContext;
use super::scope::VuScope;
use crate::metrics::{TagSetId, builtin};
use crate::protocol::http::{ClientShared, HttpClient};
use crate::scenario::{ResponseView, Step};

/// Why an iteration ended early. The message names the step and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IterationError(pub String);

/// The response a `repeat`'s `until` and a step's `if:` look at.
pub struct LastResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub duration: Duration,
    pub error_code: Option<&'static str>,
}

impl LastResponse {
    pub fn view(&self) -> ResponseView<'_> {
        ResponseView::new(self.status, &self.headers, &self.body, self.duration)
            .with_error_code(self.error_code)
    }
}

pub struct Vu {
    pub ctx: Arc<RunContext>,
    pub scope: VuScope,
    pub client: HttpClient,
    pub rng: SmallRng,
    /// The last HTTP response of this iteration (of the setup steps, for
    /// setup); `None` before the first.
    pub last: Option<LastResponse>,
    /// Requests sent during the current iteration (an iteration that fails
    /// before sending anything backs off instead of spinning).
    pub requests_in_iteration: u64,
    /// `repeat` steps being run: their `until` may read any response's
    /// headers, so requests inside keep them all.
    pub repeat_depth: u32,
}

impl Vu {
    /// A VU of `scenario` whose requests use the client settings `http`
    /// (its scenario's, or the run's for the test-level setup and teardown).
    pub fn new(
        ctx: Arc<RunContext>,
        vu_id: u64,
        scenario: Arc<str>,
        http: Arc<ClientShared>,
    ) -> Self {
        let client = HttpClient::new(http);
        let scope = VuScope::new(vu_id, scenario, &ctx.globals, &ctx.plan.feeds);
        Vu {
            scope,
            client,
            rng: SmallRng::from_rng(&mut rand::rng()),
            last: None,
            requests_in_iteration: 0,
            repeat_depth: 0,
            ctx,
        }
    }

    /// Runs steps outside the iteration accounting (per-VU and test-level setup/teardown).
    pub async fn run_unmetered(&mut self, steps: &[Step]) -> Result<(), IterationError> {
        self.scope.advance_rows(&mut self.rng);
        self.run_steps(steps).await
    }

    /// One iteration of the flow, recorded in `iterations` and `iteration_duration`.
    pub async fn iteration(
        &mut self,
        flow: &[Step],
        scenario_tags: TagSetId,
    ) -> Result<(), IterationError> {
        self.scope.advance_rows(&mut self.rng);
        self.requests_in_iteration = 0;
        // An `if:` on the response looks at this iteration's, never the last one's.
        self.last = None;
        let started = Instant::now();
        let mut cut = CutIteration {
            ctx: Arc::clone(&self.ctx),
            scenario_tags,
            armed: true,
        };
        let result = self.run_steps(flow).await;
        cut.armed = false;
        let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
        self.ctx.recorder.batch(|batch| {
            batch.add(builtin::ITERATIONS, scenario_tags, 1.0);
            batch.trend(builtin::ITERATION_DURATION, scenario_tags, duration_ms);
        });
        self.scope.iteration += 1;
        result
    }
}

/// Counts an iteration whose future was dropped mid-flow (the hard stop):
/// it began, so it is one of `iterations` — the executors count every start
/// as an iteration or a dropped one — and it is `interrupted_iterations`.
/// No `iteration_duration`: the iteration never ended. Disarmed when the
/// flow ends on its own.
struct CutIteration {
    ctx: Arc<RunContext>,
    scenario_tags: TagSetId,
    armed: bool,
}

impl Drop for CutIteration {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let recorder = &self.ctx.recorder;
        recorder.add(builtin::ITERATIONS, self.scenario_tags, 1.0);
        recorder.add(builtin::INTERRUPTED_ITERATIONS, self.scenario_tags, 1.0);
    }
}
