//! The planned shape of the load, as marks for the report's charts: one per
//! stage of a ramping executor, one per other scenario.

use std::time::Duration;

use super::StageMark;
use crate::scenario::{ExecutorPlan, TestPlan};

/// Every scenario's stages, in plan order, times from the test's start.
pub fn stage_marks(plan: &TestPlan) -> Vec<StageMark> {
    let mut marks = Vec::new();
    for scenario in &plan.scenarios {
        let mut at = scenario.start_time;
        let mut push = |length: Duration, label: String| {
            marks.push(StageMark {
                scenario: scenario.name.clone(),
                start_ms: at.as_millis() as u64,
                end_ms: (at + length).as_millis() as u64,
                label,
            });
            at += length;
        };
        match &scenario.executor {
            ExecutorPlan::ConstantVus { vus, duration } => push(*duration, format!("{vus} VUs")),
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
                    push(stage.duration, label);
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
            ),
            ExecutorPlan::SharedIterations {
                vus,
                iterations,
                max_duration,
            } => push(
                *max_duration,
                format!("{iterations} iterations over {vus} VUs (at most)"),
            ),
            ExecutorPlan::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                ..
            } => push(
                *duration,
                format!("{} iterations", per_unit(*rate, *time_unit)),
            ),
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
                    );
                    from = stage.target;
                }
            }
        }
    }
    marks
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
