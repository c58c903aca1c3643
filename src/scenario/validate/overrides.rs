//! k6-style command-line overrides of every selected scenario: `--vus`,
//! `--duration`, `--iterations`, and the open-model `--rate`.

use std::time::Duration;

use super::Validator;
use super::executor::DEFAULT_MAX_DURATION;
use super::limits::MAX_VUS;
use crate::scenario::plan::{ExecutorPlan, ScenarioPlan};

impl Validator<'_> {
    /// k6's rules: `--iterations` makes shared-iterations, else `--duration`
    /// makes constant-vus, else `--vus` rescales (ramping-vus becomes
    /// constant-vus over the ramp's total duration; arrival-rate executors
    /// get that many preallocated VUs). `--rate` (with `--duration`) comes
    /// first: constant-arrival-rate.
    pub(super) fn apply_overrides(&mut self, plan: &mut ScenarioPlan) {
        let o = self.options;
        if o.vus == Some(0) {
            self.option_problem("--vus", "must be at least 1", None);
            return;
        }
        if o.iterations == Some(0) {
            self.option_problem("--iterations", "must be at least 1", None);
            return;
        }
        if o.duration.is_some_and(|d| d.is_zero()) {
            self.option_problem("--duration", "must be longer than 0s", None);
            return;
        }
        let max_vus = plan.executor.max_vus();
        if let Some(rate) = o.rate {
            if !(rate.is_finite() && rate > 0.0) {
                self.option_problem(
                    "--rate",
                    format!("must be greater than 0, got {rate}"),
                    None,
                );
                return;
            }
            let Some(duration) = o.duration else {
                self.option_problem(
                    "--rate",
                    "needs --duration",
                    Some("e.g. --rate 100 --duration 30s".into()),
                );
                return;
            };
            let preallocated_vus = o.vus.unwrap_or_else(|| default_preallocated(rate));
            plan.executor = ExecutorPlan::ConstantArrivalRate {
                rate,
                time_unit: Duration::from_secs(1),
                duration,
                preallocated_vus,
                // Never past the limit by the factor alone: `--vus` within
                // the limit is a valid request.
                max_vus: preallocated_vus
                    .saturating_mul(ADHOC_MAX_VUS_FACTOR)
                    .min(MAX_VUS.max(preallocated_vus)),
            };
        } else if let Some(iterations) = o.iterations {
            let vus = match o.vus {
                Some(v) if v > iterations => {
                    self.option_problem(
                        "--vus",
                        format!("{v} VUs exceed --iterations {iterations}"),
                        Some("use at most as many VUs as iterations".into()),
                    );
                    return;
                }
                Some(v) => v,
                None => max_vus.min(iterations),
            };
            plan.executor = ExecutorPlan::SharedIterations {
                vus,
                iterations,
                max_duration: o.duration.unwrap_or(DEFAULT_MAX_DURATION),
            };
        } else if let Some(duration) = o.duration {
            plan.executor = ExecutorPlan::ConstantVus {
                vus: o.vus.unwrap_or(max_vus),
                duration,
            };
        } else if let Some(v) = o.vus {
            plan.executor = match plan.executor.clone() {
                ExecutorPlan::ConstantVus { duration, .. } => {
                    ExecutorPlan::ConstantVus { vus: v, duration }
                }
                ExecutorPlan::PerVuIterations {
                    iterations,
                    max_duration,
                    ..
                } => ExecutorPlan::PerVuIterations {
                    vus: v,
                    iterations,
                    max_duration,
                },
                ExecutorPlan::SharedIterations {
                    iterations,
                    max_duration,
                    ..
                } => {
                    if v > iterations {
                        self.option_problem(
                            "--vus",
                            format!(
                                "{v} VUs exceed the {iterations} iterations of scenario {:?}",
                                plan.name
                            ),
                            Some("lower --vus or add --iterations".into()),
                        );
                        return;
                    }
                    ExecutorPlan::SharedIterations {
                        vus: v,
                        iterations,
                        max_duration,
                    }
                }
                ExecutorPlan::RampingVus { stages, .. } => ExecutorPlan::ConstantVus {
                    vus: v,
                    duration: stages.iter().map(|s| s.duration).sum(),
                },
                mut open @ (ExecutorPlan::ConstantArrivalRate { .. }
                | ExecutorPlan::RampingArrivalRate { .. }) => {
                    if let ExecutorPlan::ConstantArrivalRate {
                        preallocated_vus,
                        max_vus,
                        ..
                    }
                    | ExecutorPlan::RampingArrivalRate {
                        preallocated_vus,
                        max_vus,
                        ..
                    } = &mut open
                    {
                        *preallocated_vus = v;
                        *max_vus = (*max_vus).max(v);
                    }
                    open
                }
            };
        }
    }
}

/// `--rate` without `--vus`: VUs for iterations of up to 100 ms at that rate
/// (at least 1); the executor may grow to ten times as many.
fn default_preallocated(rate: f64) -> u64 {
    ((rate / 10.0).ceil() as u64).clamp(1, 10_000)
}

const ADHOC_MAX_VUS_FACTOR: u64 = 10;
