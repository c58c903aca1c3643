//! Running flow steps: request, group, sleep, batch, choose, repeat, sse,
//! websocket, and any of them behind an `if:`.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use http::HeaderMap;
use rand::Rng;

use super::in_flight::InFlight;
use super::vu::{IterationError, Vu};
use crate::metrics::builtin;
use crate::scenario::{
    BatchStep, ChooseStep, Condition, RepeatStep, ResponseView, SleepSpec, Step,
};

type StepsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), IterationError>> + Send + 'a>>;

impl Vu {
    pub async fn run_steps(&mut self, steps: &[Step]) -> Result<(), IterationError> {
        for step in steps {
            match step {
                Step::Request(request) => self.request(request).await?,
                Step::Group(group) => {
                    let started = Instant::now();
                    let result = self.nested(&group.steps).await;
                    self.ctx.recorder.trend(
                        builtin::GROUP_DURATION,
                        group.tag_set,
                        started.elapsed().as_secs_f64() * 1000.0,
                    );
                    result?
                }
                Step::Sleep(spec) => tokio::time::sleep(self.sleep_time(spec)).await,
                Step::Batch(batch) => self.batch(batch).await?,
                Step::Choose(choose) => {
                    let branch = self.pick_branch(choose);
                    self.nested(&choose.branches[branch].steps).await?
                }
                Step::Repeat(repeat) => self.repeat(repeat).await?,
                // Boxed like a request's exchange: only in flight while streaming.
                Step::Sse(sse) => Box::pin(self.sse(sse)).await?,
                // Boxed too: the session's future lives only while it is open.
                Step::WebSocket(ws) => Box::pin(self.websocket(ws)).await?,
                Step::If(guarded) => {
                    if self.holds(&guarded.condition) {
                        self.nested(std::slice::from_ref(&guarded.step)).await?
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether a step's `if:` holds: on the iteration's last response, or,
    /// for a condition on VU values alone, on an empty one. A condition on
    /// the response with no response yet does not hold.
    fn holds(&self, condition: &Condition) -> bool {
        match &self.last {
            Some(last) => condition.evaluate(&last.view(), &self.scope),
            None if condition.needs_response() => false,
            None => {
                let no_headers = HeaderMap::new();
                let nothing = ResponseView::new(0, &no_headers, b"", Duration::ZERO);
                condition.evaluate(&nothing, &self.scope)
            }
        }
    }

    /// Boxed so that steps can nest (groups in groups, repeats in choices).
    fn nested<'a>(&'a mut self, steps: &'a [Step]) -> StepsFuture<'a> {
        Box::pin(self.run_steps(steps))
    }

    fn sleep_time(&mut self, spec: &SleepSpec) -> Duration {
        match *spec {
            SleepSpec::Fixed(d) => d,
            SleepSpec::Between(min, max) => {
                let (lo, hi) = (min.as_nanos() as u64, max.as_nanos() as u64);
                Duration::from_nanos(if hi > lo {
                    self.rng.random_range(lo..=hi)
                } else {
                    lo
                })
            }
        }
    }

    fn pick_branch(&mut self, choose: &ChooseStep) -> usize {
        let mut point = self.rng.random::<f64>() * choose.total_weight;
        for (i, branch) in choose.branches.iter().enumerate() {
            if point < branch.weight {
                return i;
            }
            point -= branch.weight;
        }
        choose.branches.len() - 1
    }

    async fn batch(&mut self, batch: &BatchStep) -> Result<(), IterationError> {
        use futures_util::StreamExt;
        let mut requests = Vec::with_capacity(batch.requests.len());
        for step in &batch.requests {
            requests.push((self.render(step)?, step.max_body_size));
        }
        self.requests_in_iteration += requests.len() as u64;
        let in_flight: Vec<_> = batch
            .requests
            .iter()
            .map(|step| InFlight::new(&self.ctx.recorder, step.tag_set))
            .collect();
        let client = &self.client;
        let outcomes: Vec<_> = futures_util::stream::iter(
            requests
                .into_iter()
                .map(|(r, max_body)| client.send_limited(r, max_body)),
        )
        .buffered(batch.concurrency.max(1))
        .collect()
        .await;
        in_flight.into_iter().for_each(InFlight::done);
        for (step, mut outcome) in batch.requests.iter().zip(outcomes) {
            self.after_response(step, &mut outcome);
        }
        Ok(())
    }

    async fn repeat(&mut self, repeat: &RepeatStep) -> Result<(), IterationError> {
        self.repeat_depth += 1;
        let result = self.repeat_attempts(repeat).await;
        self.repeat_depth -= 1;
        result
    }

    async fn repeat_attempts(&mut self, repeat: &RepeatStep) -> Result<(), IterationError> {
        for attempt in 1..=repeat.max_attempts {
            self.nested(&repeat.steps).await?;
            let satisfied = self
                .last
                .as_ref()
                .is_some_and(|last| repeat.until.evaluate(&last.view(), &self.scope));
            if satisfied {
                self.ctx
                    .recorder
                    .rate(builtin::CHECKS, repeat.check_tag_set, true);
                return Ok(());
            }
            if attempt < repeat.max_attempts {
                tokio::time::sleep(repeat.interval).await;
            }
        }
        self.ctx
            .recorder
            .rate(builtin::CHECKS, repeat.check_tag_set, false);
        Err(IterationError(format!(
            "{}: not satisfied after {} attempts",
            repeat.check_name, repeat.max_attempts
        )))
    }
}
