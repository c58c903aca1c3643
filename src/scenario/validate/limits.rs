//! The largest load one stampede process is asked to make. Past these a
//! value is a typo or an overflow (`--vus 4294967296`, `--scale-vus 1e308`),
//! not a test: it would exhaust memory or never end, so it is refused before
//! anything starts. The limits are per scenario and per process: a larger
//! test is split with `--segment`.

use std::time::Duration;

use super::Validator;
use crate::scenario::locate::FieldPath;
use crate::scenario::plan::{ExecutorPlan, ScenarioPlan};

/// VUs a scenario may run at once (`vus`, stage targets, `max_vus`).
pub const MAX_VUS: u64 = 1_000_000;

/// Iterations per second an arrival-rate scenario may schedule, at its peak.
pub const MAX_RATE_PER_SECOND: f64 = 1_000_000.0;

/// How long a scenario may last, from the start of the test to the end of
/// its executor (`start_time` plus `duration`, the stages or `max_duration`),
/// and how long each graceful period may be.
pub const MAX_TEST_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The largest `--scale-vus`, `--scale-rate` and `--scale-duration` factor.
pub const MAX_SCALE: f64 = 1000.0;

/// `MAX_TEST_DURATION` as the user writes it.
pub const MAX_TEST_DURATION_TEXT: &str = "168h";

impl Validator<'_> {
    /// Checks every scenario's final shape (file values, overrides and
    /// scales applied) against the limits. A problem names the option that
    /// took the value past the limit, or else the scenario's key.
    pub(super) fn check_limits(&mut self, plans: &[ScenarioPlan], in_scenarios_map: bool) {
        let o = self.options;
        for plan in plans {
            let at = if in_scenarios_map {
                FieldPath::root().key("scenarios").key(&plan.name)
            } else {
                FieldPath::root()
            };
            let name = &plan.name;
            let vus = plan.executor.max_vus();
            if vus > MAX_VUS {
                let message = format!(
                    "scenario {name:?} would run more than {MAX_VUS} VUs, the limit per scenario"
                );
                let hint = Some("split the test across instances with --segment i/n".to_string());
                if o.scale.vus != 1.0 {
                    self.option_problem("--scale-vus", message, hint);
                } else if o.vus.is_some() {
                    self.option_problem("--vus", message, hint);
                } else {
                    self.problem(&at.key(vus_key(&plan.executor)), message, hint);
                }
            }
            if let Some(rate) = peak_rate_per_second(&plan.executor)
                && (rate.is_nan() || rate > MAX_RATE_PER_SECOND)
            {
                let message = format!(
                    "scenario {name:?} would schedule more than {} iterations per second, the limit per scenario",
                    MAX_RATE_PER_SECOND as u64
                );
                let hint = Some("split the test across instances with --segment i/n".to_string());
                if o.scale.rate != 1.0 {
                    self.option_problem("--scale-rate", message, hint);
                } else if o.rate.is_some() {
                    self.option_problem("--rate", message, hint);
                } else {
                    self.problem(&at.key(rate_key(&plan.executor)), message, hint);
                }
            }
            let end = plan
                .start_time
                .saturating_add(plan.executor.planned_duration());
            if end > MAX_TEST_DURATION {
                let message = format!(
                    "scenario {name:?} would last past {MAX_TEST_DURATION_TEXT}, the limit"
                );
                if o.scale.duration != 1.0 {
                    self.option_problem("--scale-duration", message, None);
                } else if o.duration.is_some() {
                    self.option_problem("--duration", message, None);
                } else {
                    let key = if plan.start_time > MAX_TEST_DURATION / 2 {
                        "start_time"
                    } else {
                        duration_key(&plan.executor)
                    };
                    self.problem(&at.key(key), message, None);
                }
            }
            for (key, grace) in [
                ("graceful_stop", Some(plan.graceful_stop)),
                ("graceful_ramp_down", graceful_ramp_down(&plan.executor)),
            ] {
                if grace.is_some_and(|g| g > MAX_TEST_DURATION) {
                    self.problem(
                        &at.key(key),
                        format!("must be at most {MAX_TEST_DURATION_TEXT}"),
                        None,
                    );
                }
            }
        }
    }
}

/// The highest rate the executor schedules, per second; `None` for the
/// closed-model executors.
fn peak_rate_per_second(executor: &ExecutorPlan) -> Option<f64> {
    match executor {
        ExecutorPlan::ConstantArrivalRate {
            rate, time_unit, ..
        } => Some(rate / time_unit.as_secs_f64()),
        ExecutorPlan::RampingArrivalRate {
            start_rate,
            time_unit,
            stages,
            ..
        } => Some(
            stages.iter().map(|s| s.target).fold(*start_rate, f64::max) / time_unit.as_secs_f64(),
        ),
        _ => None,
    }
}

/// The key that holds the VU count past the limit.
fn vus_key(executor: &ExecutorPlan) -> &'static str {
    match executor {
        ExecutorPlan::RampingVus { start_vus, .. } if *start_vus > MAX_VUS => "start_vus",
        ExecutorPlan::RampingVus { .. } => "stages",
        ExecutorPlan::ConstantArrivalRate {
            preallocated_vus, ..
        }
        | ExecutorPlan::RampingArrivalRate {
            preallocated_vus, ..
        } if *preallocated_vus > MAX_VUS => "preallocated_vus",
        ExecutorPlan::ConstantArrivalRate { .. } | ExecutorPlan::RampingArrivalRate { .. } => {
            "max_vus"
        }
        _ => "vus",
    }
}

fn rate_key(executor: &ExecutorPlan) -> &'static str {
    match executor {
        ExecutorPlan::RampingArrivalRate { .. } => "stages",
        _ => "rate",
    }
}

fn duration_key(executor: &ExecutorPlan) -> &'static str {
    match executor {
        ExecutorPlan::RampingVus { .. } | ExecutorPlan::RampingArrivalRate { .. } => "stages",
        ExecutorPlan::PerVuIterations { .. } | ExecutorPlan::SharedIterations { .. } => {
            "max_duration"
        }
        _ => "duration",
    }
}

fn graceful_ramp_down(executor: &ExecutorPlan) -> Option<Duration> {
    match executor {
        ExecutorPlan::RampingVus {
            graceful_ramp_down, ..
        } => Some(*graceful_ramp_down),
        _ => None,
    }
}
