//! The planned shape of the load, as marks for the report's charts: one per
//! stage of a ramping executor, one per other scenario.

use std::time::Duration;

use super::{StageLoad, StageMark};
use crate::scenario::{ExecutorPlan, TestPlan};

/// Every scenario's stages, in plan order, times from the test's start.
pub fn stage_marks(plan: &TestPlan) -> Vec<StageMark> {
    let mut marks = Vec::new();
    for scenario in &plan.scenarios {
        let mut at = scenario.start_time;
        let mut push = |length: Duration, label: String, load: (f64, f64, &str)| {
            marks.push(StageMark {
                scenario: scenario.name.clone(),
                start_ms: at.as_millis() as u64,
                end_ms: (at + length).as_millis() as u64,
                label,
                load: Some(StageLoad {
                    from: load.0,
                    to: load.1,
                    unit: load.2.to_string(),
                }),
            });
            at += length;
        };
        match &scenario.executor {
            ExecutorPlan::ConstantVus { vus, duration } => {
                let vus_f = *vus as f64;
                push(*duration, format!("{vus} VUs"), (vus_f, vus_f, VUS))
            }
            ExecutorPlan::RampingVus {
                start_vus, stages, ..
            } => {
                let mut from = *start_vus;
                for stage in stages {
                    let label = if stage.target == from {
                        format!("hold {} VUs", stage.target)
                    } else {
                        format!("ramp to {} VUs", stage.target)
                    };
                    push(
                        stage.duration,
                        label,
                        (from as f64, stage.target as f64, VUS),
                    );
                    from = stage.target;
                }
            }
            ExecutorPlan::PerVuIterations {
                vus,
                iterations,
                max_duration,
            } => push(
                *max_duration,
                format!("{vus} VUs × {iterations} iterations (at most)"),
                (*vus as f64, *vus as f64, VUS),
            ),
            ExecutorPlan::SharedIterations {
                vus,
                iterations,
                max_duration,
            } => push(
                *max_duration,
                format!("{iterations} iterations over {vus} VUs (at most)"),
                (*vus as f64, *vus as f64, VUS),
            ),
            ExecutorPlan::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                ..
            } => {
                let per_s = per_second(*rate, *time_unit);
                push(
                    *duration,
                    format!("{} iterations", per_unit(*rate, *time_unit)),
                    (per_s, per_s, ITERATIONS_PER_S),
                )
            }
            ExecutorPlan::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                ..
            } => {
                let mut from = *start_rate;
                for stage in stages {
                    let verb = if stage.target == from {
                        "hold"
                    } else {
                        "ramp to"
                    };
                    push(
                        stage.duration,
                        format!("{verb} {} iterations", per_unit(stage.target, *time_unit)),
                        (
                            per_second(from, *time_unit),
                            per_second(stage.target, *time_unit),
                            ITERATIONS_PER_S,
                        ),
                    );
                    from = stage.target;
                }
            }
        }
    }
    marks
}

/// The units of [`StageLoad`]: closed-model stages plan VUs, open-model
/// ones iterations started per second (whatever `time_unit` the file used).
const VUS: &str = "VUs";
const ITERATIONS_PER_S: &str = "iterations/s";

/// `rate` per `unit` as a rate per second.
fn per_second(rate: f64, unit: Duration) -> f64 {
    let secs = unit.as_secs_f64();
    if secs > 0.0 { rate / secs } else { rate }
}

/// `50/s`, `2/min`, or `3 per 10s`.
fn per_unit(rate: f64, unit: Duration) -> String {
    let rate = crate::report::format_number(rate);
    match (unit.as_secs(), unit.subsec_nanos()) {
        (1, 0) => format!("{rate}/s"),
        (60, 0) => format!("{rate}/min"),
        (3600, 0) => format!("{rate}/h"),
        _ => format!("{rate} per {unit:?}"),
    }
}
