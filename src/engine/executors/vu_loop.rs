//! The loop every VU runs, whatever its executor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::arrival::{Slot, Tickets, drop_unstarted};
use crate::engine::context::RunContext;
use crate::engine::stop::{StopLevel, reached, reached_cheaply};
use crate::engine::vu::{IterationError, Vu};
use crate::metrics::builtin;
use crate::scenario::ScenarioPlan;

/// How a VU gets permission for its next iteration.
pub enum Claim {
    /// As many as time allows (constant-vus, ramping-vus).
    Unlimited,
    /// This VU's own budget (per-vu-iterations).
    Count(u64),
    /// A budget shared by every VU of the scenario (shared-iterations).
    Shared(Arc<AtomicU64>),
    /// Arrival-rate: wait for a start ticket from the scheduler.
    Scheduled(Waiting),
}

/// A VU's place in an arrival-rate scenario's pool.
pub struct Waiting {
    pub tickets: Arc<Tickets>,
    /// Where this VU waits.
    pub slot: Arc<Slot>,
    /// A ticket handed over when the VU was created for it.
    pub first: Option<Instant>,
    /// The scheduler already put this VU on the idle stack (preallocated VUs).
    pub queued: bool,
}

/// Permission to start an iteration; `scheduled` for arrival-rate starts.
struct Permit {
    scheduled: Option<Instant>,
}

impl Claim {
    async fn take(&mut self) -> Option<Permit> {
        let unscheduled = Some(Permit { scheduled: None });
        match self {
            Claim::Unlimited => unscheduled,
            Claim::Count(left) => {
                let ok = *left > 0;
                *left = left.saturating_sub(1);
                ok.then_some(Permit { scheduled: None })
            }
            Claim::Shared(left) => left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .ok()
                .map(|_| Permit { scheduled: None }),
            Claim::Scheduled(waiting) => {
                if let Some(at) = waiting.first.take() {
                    return Some(Permit {
                        scheduled: Some(at),
                    });
                }
                let queued = std::mem::replace(&mut waiting.queued, false);
                let at = waiting.tickets.next(&waiting.slot, queued).await?;
                Some(Permit {
                    scheduled: Some(at),
                })
            }
        }
    }

    /// Arrival-rate VUs count as active only while they run an iteration.
    fn active_while_alive(&self) -> bool {
        !matches!(self, Claim::Scheduled(_))
    }
}

/// Whether a ramp can pause this VU.
pub enum Gate {
    Always,
    /// Active while the flag is true; a running iteration may continue for
    /// `grace` after the VU is ramped down.
    Ramping {
        active: watch::Receiver<bool>,
        grace: Duration,
    },
}

enum Pass {
    Done(Result<(), IterationError>),
    /// Hard stop: the iteration was abandoned.
    Stopped,
    /// Ramped down and out of grace: the iteration was abandoned; wait for reactivation.
    Paused,
}

/// An iteration that fails before sending anything waits this long before
/// the next, so a broken template cannot spin a core.
const FAILED_ITERATION_BACKOFF: Duration = Duration::from_secs(1);

pub async fn vu_loop(
    ctx: Arc<RunContext>,
    index: usize,
    vu_id: u64,
    mut stop: watch::Receiver<StopLevel>,
    mut gate: Gate,
    mut claim: Claim,
) {
    let plan = ctx.plan.clone();
    let scenario = &plan.scenarios[index];
    let http = ctx.scenario_client(index).clone();
    let mut vu = Vu::new(ctx.clone(), vu_id, Arc::from(scenario.name.as_str()), http);
    let mut setup_done = scenario.vu_setup.is_empty();
    let _active = (matches!(gate, Gate::Always) && claim.active_while_alive())
        .then(|| ActiveVu::new(&ctx, index));
    // One wait for the hard stop for the VU's whole life: made afresh for
    // every iteration, registering it cost about 600 instructions per
    // request (5% of a request); polled only once the stop level changed.
    let hard_stop = reached_cheaply(stop.clone(), StopLevel::Hard);
    tokio::pin!(hard_stop);
    loop {
        if *stop.borrow() >= StopLevel::Graceful {
            break;
        }
        if let Gate::Ramping { active, .. } = &mut gate
            && !*active.borrow()
        {
            tokio::select! {
                changed = active.wait_for(|a| *a) => if changed.is_err() { break },
                _ = reached(&mut stop, StopLevel::Graceful) => break,
            }
            continue;
        }
        let permit = if claim.active_while_alive() {
            claim.take().await
        } else {
            tokio::select! {
                permit = claim.take() => permit,
                _ = reached(&mut stop, StopLevel::Graceful) => None,
            }
        };
        let Some(permit) = permit else {
            break;
        };
        let _busy = permit.scheduled.map(|_| ActiveVu::new(&ctx, index));
        let pass = tokio::select! {
            biased;
            _ = &mut hard_stop => Pass::Stopped,
            _ = ramp_down_expired(&mut gate) => Pass::Paused,
            result = one_pass(&mut vu, scenario, &mut setup_done, permit.scheduled) => Pass::Done(result),
        };
        // An iteration can end without ever waiting: a connect that fails
        // at once (EMFILE when the open-file limit is reached) never
        // returns Pending. Without a yield such VUs would loop on their
        // worker threads forever, and the timers, the flush, the end of the
        // test and Ctrl-C would never run. One unit of the task's budget
        // per iteration: a yield every 128 iterations that never waited.
        tokio::task::coop::consume_budget().await;
        match pass {
            Pass::Stopped => break,
            Pass::Paused => continue,
            Pass::Done(Ok(())) => {}
            Pass::Done(Err(error)) => {
                ctx.report_error(&error.0);
                if vu.requests_in_iteration == 0 {
                    tokio::select! {
                        _ = tokio::time::sleep(FAILED_ITERATION_BACKOFF) => {}
                        _ = reached(&mut stop, StopLevel::Graceful) => break,
                    }
                }
            }
        }
    }
    if let Claim::Scheduled(waiting) = &mut claim {
        drop_unstarted(&ctx, index, waiting);
    }
}

async fn one_pass(
    vu: &mut Vu,
    scenario: &ScenarioPlan,
    setup_done: &mut bool,
    scheduled: Option<Instant>,
) -> Result<(), IterationError> {
    if !*setup_done {
        vu.requests_in_iteration = 0;
        if let Err(e) = vu.run_unmetered(&scenario.vu_setup).await {
            if scheduled.is_some() {
                // The scheduled start never became an iteration.
                vu.ctx
                    .recorder
                    .add(builtin::DROPPED_ITERATIONS, scenario.tag_set, 1.0);
            }
            return Err(IterationError(format!("VU setup: {}", e.0)));
        }
        *setup_done = true;
    }
    if let Some(at) = scheduled {
        // Measured after a new VU's setup: that wait is lag too.
        let lag = Instant::now().saturating_duration_since(at);
        vu.ctx.recorder.trend(
            builtin::ITERATION_SCHEDULING_LAG,
            scenario.tag_set,
            lag.as_secs_f64() * 1000.0,
        );
    }
    vu.iteration(&scenario.flow, scenario.tag_set).await
}

async fn ramp_down_expired(gate: &mut Gate) {
    match gate {
        Gate::Always => std::future::pending().await,
        Gate::Ramping { active, grace } => {
            if active.wait_for(|a| !*a).await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(*grace).await
        }
    }
}

/// Counts a VU in `vus` while it lives (executors without ramps) or while
/// it runs an iteration (arrival-rate).
struct ActiveVu<'a>(&'a RunContext, usize);

impl<'a> ActiveVu<'a> {
    fn new(ctx: &'a RunContext, index: usize) -> Self {
        ctx.vu_activated(index);
        ActiveVu(ctx, index)
    }
}

impl Drop for ActiveVu<'_> {
    fn drop(&mut self) {
        self.0.vu_deactivated(self.1);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::metrics::Recorder;
    use crate::protocol::http::ClientShared;
    use crate::scenario::load_str;

    fn future_size<F: std::future::Future>(_: &F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every VU's task holds this future for the whole test, asleep or not:
    /// the exchange future (~10 KB) must stay boxed out of it.
    #[test]
    fn an_idle_vu_task_stays_small() {
        let yaml = "vus: 1\niterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n";
        let plan = load_str(yaml, Path::new("x.yaml"), &Default::default()).unwrap();
        let recorder = Recorder::new(Arc::new(plan.registry.clone()));
        let http = ClientShared::new(Default::default()).unwrap();
        let ctx = Arc::new(RunContext::new(
            Arc::new(plan),
            recorder,
            http,
            Default::default(),
        ));
        let (_tx, rx) = watch::channel(StopLevel::Run);
        let vu = vu_loop(ctx, 0, 1, rx, Gate::Always, Claim::Unlimited);
        let size = future_size(&vu);
        assert!(size <= 2048, "vu_loop future is {size} bytes");
    }
}
