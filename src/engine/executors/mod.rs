//! Executors: when each VU starts iterations and when it stops.
//!
//! Every executor shares one VU loop ([`vu_loop`]); they differ only in how
//! many VUs run, how iterations are claimed ([`Claim`]) and whether a VU can
//! be paused by a ramp ([`Gate`]). Open-model (arrival-rate) executors will
//! add a claim that waits for the next scheduled start.

mod ramping;
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
    let (stop_tx, stop_rx) = watch::channel(StopLevel::Run);
    let mut vus = JoinSet::new();
    let spawn_vus = |vus: &mut JoinSet<()>, count: u64, claim: &dyn Fn() -> Claim| {
        for _ in 0..count {
            let vu_id = ctx.allocate_vu_id();
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
            spawn_vus(&mut vus, *count, &|| Claim::Unlimited);
            *duration
        }
        ExecutorPlan::PerVuIterations {
            vus: count,
            iterations,
            max_duration,
        } => {
            spawn_vus(&mut vus, *count, &|| Claim::Count(*iterations));
            *max_duration
        }
        ExecutorPlan::SharedIterations {
            vus: count,
            iterations,
            max_duration,
        } => {
            let remaining = Arc::new(AtomicU64::new(*iterations));
            spawn_vus(&mut vus, (*count).min(*iterations), &|| {
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
    };
    wind_down(
        &mut vus,
        executor_time,
        scenario.graceful_stop,
        &stop_tx,
        &mut global,
    )
    .await;
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
