//! Whole-run reshaping after the overrides: `--scale-vus`, `--scale-rate`,
//! `--scale-duration`, then `--segment` and the VU id ranges that keep VU
//! ids the same in every segment.

use std::time::Duration;

use super::Validator;
use crate::scenario::plan::{ExecutorPlan, ScenarioPlan, Share};

impl Validator<'_> {
    pub(super) fn shape(&mut self, plans: &mut [ScenarioPlan]) {
        let scale = self.options.scale;
        let mut ok = true;
        for (option, factor) in [
            ("--scale-vus", scale.vus),
            ("--scale-rate", scale.rate),
            ("--scale-duration", scale.duration),
        ] {
            if !(factor.is_finite() && factor > 0.0) {
                self.option_problem(
                    option,
                    format!("must be a number greater than 0, got {factor}"),
                    Some("e.g. 0.1 for a 10% smoke run".into()),
                );
                ok = false;
            }
        }
        let share = self.options.segment.unwrap_or(Share::WHOLE);
        if share.count == 0 || share.index >= share.count {
            self.option_problem(
                "--segment",
                format!("segment {}/{} does not exist", share.index + 1, share.count),
                Some("use i/n with 1 <= i <= n, e.g. 2/4".into()),
            );
            ok = false;
        }
        if !ok {
            return;
        }
        let mut vu_id_base = 0;
        for plan in plans {
            plan.executor = scaled(&plan.executor, scale.vus, scale.rate, scale.duration);
            plan.start_time = scale_duration(plan.start_time, scale.duration);
            plan.share = share;
            plan.vu_id_base = vu_id_base;
            vu_id_base += plan.executor.max_vus();
        }
    }
}

impl Validator<'_> {
    /// A pause inside an iteration under `--scale-duration`: sleeps, SSE
    /// `hold`, WebSocket `hold` and its `ping_interval`. Scaling the
    /// executor's time but not these would let a shortened long-session
    /// test run over (or do fewer iterations than its shape). Timeouts are
    /// limits on the target, not pacing, and are never scaled; nor is the
    /// `repeat` interval: `interval × max_attempts` is the time the target
    /// gets to finish its work, which a shorter test does not speed up.
    pub(super) fn paced(&self, pause: Duration) -> Duration {
        scale_duration(pause, self.options.scale.duration)
    }
}

/// The executor with its VU counts, rates and durations multiplied. Graceful
/// periods (`graceful_stop`, `graceful_ramp_down`) and `time_unit` are kept:
/// they bound an iteration's length, which a shorter test does not change.
fn scaled(executor: &ExecutorPlan, vus: f64, rate: f64, time: f64) -> ExecutorPlan {
    let count = |n: u64| scale_count(n, vus);
    let dur = |d: Duration| scale_duration(d, time);
    match executor.clone() {
        ExecutorPlan::ConstantVus { vus, duration } => ExecutorPlan::ConstantVus {
            vus: count(vus),
            duration: dur(duration),
        },
        ExecutorPlan::RampingVus {
            start_vus,
            stages,
            graceful_ramp_down,
        } => ExecutorPlan::RampingVus {
            start_vus: count(start_vus),
            stages: stages
                .into_iter()
                .map(|mut s| {
                    s.duration = dur(s.duration);
                    s.target = count(s.target);
                    s
                })
                .collect(),
            graceful_ramp_down,
        },
        ExecutorPlan::PerVuIterations {
            vus,
            iterations,
            max_duration,
        } => ExecutorPlan::PerVuIterations {
            vus: count(vus),
            iterations,
            max_duration: dur(max_duration),
        },
        ExecutorPlan::SharedIterations {
            vus,
            iterations,
            max_duration,
        } => ExecutorPlan::SharedIterations {
            vus: count(vus).min(iterations),
            iterations,
            max_duration: dur(max_duration),
        },
        ExecutorPlan::ConstantArrivalRate {
            rate: r,
            time_unit,
            duration,
            preallocated_vus,
            max_vus,
        } => ExecutorPlan::ConstantArrivalRate {
            rate: r * rate,
            time_unit,
            duration: dur(duration),
            preallocated_vus: count(preallocated_vus),
            max_vus: count(max_vus),
        },
        ExecutorPlan::RampingArrivalRate {
            start_rate,
            time_unit,
            stages,
            preallocated_vus,
            max_vus,
        } => ExecutorPlan::RampingArrivalRate {
            start_rate: start_rate * rate,
            time_unit,
            stages: stages
                .into_iter()
                .map(|mut s| {
                    s.duration = dur(s.duration);
                    s.target *= rate;
                    s
                })
                .collect(),
            preallocated_vus: count(preallocated_vus),
            max_vus: count(max_vus),
        },
    }
}

/// Rounded to the nearest whole VU; a non-zero count stays at least 1.
fn scale_count(n: u64, factor: f64) -> u64 {
    if n == 0 || factor == 1.0 {
        return n;
    }
    ((n as f64 * factor).round() as u64).max(1)
}

/// Rounded to whole milliseconds; a non-zero duration stays at least 1ms.
fn scale_duration(d: Duration, factor: f64) -> Duration {
    if d.is_zero() || factor == 1.0 {
        return d;
    }
    let ms = (d.as_secs_f64() * factor * 1000.0).round().max(1.0);
    Duration::from_millis(ms as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keep_at_least_one_vu() {
        assert_eq!(scale_count(100, 0.1), 10);
        assert_eq!(scale_count(3, 0.1), 1);
        assert_eq!(scale_count(0, 0.1), 0);
        assert_eq!(scale_count(5, 2.5), 13);
    }

    #[test]
    fn durations_round_to_milliseconds() {
        assert_eq!(
            scale_duration(Duration::from_secs(30), 0.1),
            Duration::from_secs(3)
        );
        assert_eq!(
            scale_duration(Duration::from_micros(100), 0.5),
            Duration::from_millis(1)
        );
    }
}
