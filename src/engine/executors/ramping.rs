//! ramping-vus: the number of active VUs follows the stages, interpolated
//! linearly. VUs are allocated on first need and paused (not destroyed) on
//! ramp-down, so a VU keeps its connections, cookies and setup state, as in k6.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::vu_loop::{Claim, Gate, vu_loop};
use crate::engine::context::RunContext;
use crate::engine::stop::{StopLevel, reached};
use crate::scenario::Stage;

/// How often the target VU count is recomputed.
const TICK: Duration = Duration::from_millis(50);

pub struct Ramp<'a> {
    pub ctx: Arc<RunContext>,
    pub index: usize,
    pub start_vus: u64,
    pub stages: &'a [Stage],
    pub graceful_ramp_down: Duration,
}

impl Ramp<'_> {
    /// Drives the VU count until the last stage ends (or a global stop).
    pub async fn run(
        &self,
        vus: &mut JoinSet<()>,
        stop: &watch::Receiver<StopLevel>,
        global: &mut watch::Receiver<StopLevel>,
    ) {
        let total: Duration = self.stages.iter().map(|s| s.duration).sum();
        let started = Instant::now();
        let mut switches: Vec<watch::Sender<bool>> = Vec::new();
        let mut active = 0u64;
        let share = self.ctx.plan.scenarios[self.index].share;
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let elapsed = started.elapsed();
            // A segment runs the VU slots dealt to it of the whole ramp's target.
            let target = share.of(target_at(self.start_vus, self.stages, elapsed.min(total)));
            while active < target {
                let slot = active as usize;
                if slot == switches.len() {
                    let (tx, rx) = watch::channel(true);
                    let gate = Gate::Ramping {
                        active: rx,
                        grace: self.graceful_ramp_down,
                    };
                    let vu_id = self.ctx.allocate_vu(self.index, slot as u64);
                    vus.spawn(vu_loop(
                        self.ctx.clone(),
                        self.index,
                        vu_id,
                        stop.clone(),
                        gate,
                        Claim::Unlimited,
                    ));
                    switches.push(tx);
                } else {
                    switches[slot].send_replace(true);
                }
                active += 1;
                self.ctx.vu_activated(self.index);
            }
            while active > target {
                active -= 1;
                switches[active as usize].send_replace(false);
                self.ctx.vu_deactivated(self.index);
            }
            if elapsed >= total {
                break;
            }
            tokio::select! {
                _ = ticker.tick() => {}
                _ = reached(global, StopLevel::Graceful) => break,
            }
        }
        // Dropping the switches ends paused VUs; active ones run on until the
        // scenario's stop channel ends them.
        self.ctx.active_vus.fetch_sub(active, Ordering::Relaxed);
        self.ctx.scenarios[self.index]
            .active
            .fetch_sub(active, Ordering::Relaxed);
    }
}

/// Target VU count at `elapsed`: linear between stage boundaries, rounded to nearest.
pub fn target_at(start_vus: u64, stages: &[Stage], elapsed: Duration) -> u64 {
    let mut from = start_vus as f64;
    let mut stage_start = Duration::ZERO;
    for stage in stages {
        let stage_end = stage_start + stage.duration;
        let to = stage.target as f64;
        if elapsed < stage_end {
            let progress = if stage.duration.is_zero() {
                1.0
            } else {
                (elapsed - stage_start).as_secs_f64() / stage.duration.as_secs_f64()
            };
            return (from + (to - from) * progress).round() as u64;
        }
        from = to;
        stage_start = stage_end;
    }
    from as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(secs: u64, target: u64) -> Stage {
        Stage {
            duration: Duration::from_secs(secs),
            target,
        }
    }

    #[test]
    fn interpolates_between_stages() {
        let stages = [stage(10, 10), stage(10, 10), stage(10, 0)];
        assert_eq!(target_at(0, &stages, Duration::ZERO), 0);
        assert_eq!(target_at(0, &stages, Duration::from_secs(5)), 5);
        assert_eq!(target_at(0, &stages, Duration::from_secs(15)), 10);
        assert_eq!(target_at(0, &stages, Duration::from_secs(25)), 5);
        assert_eq!(target_at(0, &stages, Duration::from_secs(30)), 0);
        assert_eq!(target_at(4, &[stage(4, 0)], Duration::from_secs(1)), 3);
    }
}
