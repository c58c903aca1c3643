//! Executors: when each VU starts iterations and when it stops.
//!
//! Every executor shares one VU loop ([`vu_loop`]); they differ only in how
//! many VUs run, how iterations are claimed ([`Claim`]) and whether a VU can
//! be paused by a ramp ([`Gate`]). Open-model (arrival-rate) executors use
//! a claim that waits for the next scheduled start ([`arrival`]).
//!
//! With `--segment i/n` each executor runs its [`Share`](crate::scenario::Share)
//! of the scenario: VU slots, shared iterations and scheduled starts are
//! dealt round-robin, so the instances together do what one run would.

mod arrival;
mod ramping;
mod schedule;
mod vu_loop;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::context::RunContext;
use super::stop::{StopLevel, raise, reached};
use crate::scenario::ExecutorPlan;
use vu_loop::{Claim, Gate, vu_loop};

/// Runs one scenario to its end: waits for `start_time`, runs the executor,
/// then stops its VUs (gracefully, then hard after `graceful_stop`).
pub async fn run_scenario(
    ctx: Arc<RunContext>,
    index: usize,
    mut global: watch::Receiver<StopLevel>,
) {
    let plan = ctx.plan.clone();
    let scenario = &plan.scenarios[index];
    if !scenario.start_time.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(scenario.start_time) => {}
            _ = reached(&mut global, StopLevel::Graceful) => return,
        }
    }
    let _ = ctx.scenarios[index].started.set(std::time::Instant::now());
    let share = scenario.share;
    let (stop_tx, stop_rx) = watch::channel(StopLevel::Run);
    let mut vus = JoinSet::new();
    let spawn_vus = |vus: &mut JoinSet<()>, count: u64, claim: &dyn Fn() -> Claim| {
        for slot in 0..count {
            let vu_id = ctx.allocate_vu(index, slot);
            vus.spawn(vu_loop(
                ctx.clone(),
                index,
                vu_id,
                stop_rx.clone(),
                Gate::Always,
                claim(),
            ));
        }
    };
    let executor_time = match &scenario.executor {
        ExecutorPlan::ConstantVus {
            vus: count,
            duration,
        } => {
            spawn_vus(&mut vus, share.of(*count), &|| Claim::Unlimited);
            *duration
        }
        ExecutorPlan::PerVuIterations {
            vus: count,
            iterations,
            max_duration,
        } => {
            spawn_vus(&mut vus, share.of(*count), &|| Claim::Count(*iterations));
            *max_duration
        }
        ExecutorPlan::SharedIterations {
            vus: count,
            iterations,
            max_duration,
        } => {
            let iterations = share.of(*iterations);
            let remaining = Arc::new(AtomicU64::new(iterations));
            spawn_vus(&mut vus, share.of(*count).min(iterations), &|| {
                Claim::Shared(remaining.clone())
            });
            *max_duration
        }
        ExecutorPlan::RampingVus {
            start_vus,
            stages,
            graceful_ramp_down,
        } => {
            let ramp = ramping::Ramp {
                ctx: ctx.clone(),
                index,
                start_vus: *start_vus,
                stages,
                graceful_ramp_down: *graceful_ramp_down,
            };
            ramp.run(&mut vus, &stop_rx, &mut global).await;
            Duration::ZERO
        }
        ExecutorPlan::ConstantArrivalRate {
            rate,
            time_unit,
            duration,
            preallocated_vus,
            max_vus,
        } => {
            let per_second = rate / time_unit.as_secs_f64();
            let arrivals = arrival_pool(&ctx, index, *preallocated_vus, *max_vus);
            let schedule = schedule::Schedule::constant(per_second, *duration);
            arrivals
                .run(schedule, &mut vus, &stop_rx, &mut global)
                .await;
            Duration::ZERO
        }
        ExecutorPlan::RampingArrivalRate {
            start_rate,
            time_unit,
            stages,
            preallocated_vus,
            max_vus,
        } => {
            let unit = time_unit.as_secs_f64();
            let stages: Vec<_> = stages
                .iter()
                .map(|s| (s.duration, s.target / unit))
                .collect();
            let arrivals = arrival_pool(&ctx, index, *preallocated_vus, *max_vus);
            let schedule = schedule::Schedule::ramping(start_rate / unit, &stages);
            arrivals
                .run(schedule, &mut vus, &stop_rx, &mut global)
                .await;
            Duration::ZERO
        }
    };
    wind_down(
        &mut vus,
        executor_time,
        scenario.graceful_stop,
        &stop_tx,
        &mut global,
    )
    .await;
    let _ = ctx.scenarios[index].ended.set(std::time::Instant::now());
}

/// This instance's VU pool for an arrival-rate scenario: its share of the
/// VUs, and at least one VU so a segment never drops every start.
fn arrival_pool(
    ctx: &Arc<RunContext>,
    index: usize,
    preallocated_vus: u64,
    max_vus: u64,
) -> arrival::Arrivals {
    let share = ctx.plan.scenarios[index].share;
    arrival::Arrivals {
        ctx: ctx.clone(),
        index,
        preallocated_vus: share.of(preallocated_vus),
        max_vus: share.of(max_vus).max(1),
    }
}

/// Lets the executor's time run out (or every VU finish), then stops VUs
/// gracefully, then hard once `graceful_stop` has passed.
async fn wind_down(
    vus: &mut JoinSet<()>,
    executor_time: Duration,
    graceful_stop: Duration,
    stop: &watch::Sender<StopLevel>,
    global: &mut watch::Receiver<StopLevel>,
) {
    tokio::select! {
        _ = join_all(vus) => return,
        _ = tokio::time::sleep(executor_time) => raise(stop, StopLevel::Graceful),
        _ = reached(global, StopLevel::Graceful) => raise(stop, *global.borrow()),
    }
    tokio::select! {
        _ = join_all(vus) => return,
        _ = tokio::time::sleep(graceful_stop) => {}
        _ = reached(global, StopLevel::Hard) => {}
    }
    raise(stop, StopLevel::Hard);
    join_all(vus).await;
}

async fn join_all(vus: &mut JoinSet<()>) {
    while let Some(result) = vus.join_next().await {
        if let Err(e) = result
            && e.is_panic()
        {
            tracing::error!("a VU task panicked: {e}");
        }
    }
}
