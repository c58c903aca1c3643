//! The open-model executors: `constant-arrival-rate` and `ramping-arrival-rate`.

use std::time::Duration;

use super::Validator;
use crate::scenario::locate::FieldPath;
use crate::scenario::model::{ScenarioDef, StageDef};
use crate::scenario::plan::{ExecutorPlan, RateStage};

const DEFAULT_TIME_UNIT: Duration = Duration::from_secs(1);

impl Validator<'_> {
    pub(super) fn arrival_executor(
        &mut self,
        kind: &str,
        def: &ScenarioDef,
        path: &FieldPath,
    ) -> Option<ExecutorPlan> {
        let time_unit = match &def.time_unit {
            Some(t) => self.positive_duration(t, &path.key("time_unit")),
            None => Some(DEFAULT_TIME_UNIT),
        };
        let vus = self.arrival_vus(def, path);
        if kind == "constant-arrival-rate" {
            let rate = match &def.rate {
                Some(r) => self
                    .value(r, &path.key("rate"))
                    .and_then(|r| self.rate(r, &path.key("rate"), false)),
                None => {
                    self.problem(
                        path,
                        "constant-arrival-rate needs `rate`",
                        Some("e.g. rate: 100 (iterations per time_unit, default 1s)".into()),
                    );
                    None
                }
            };
            let duration = match &def.duration {
                Some(t) => self.positive_duration(t, &path.key("duration")),
                None => {
                    self.problem(
                        path,
                        "constant-arrival-rate needs `duration`",
                        Some("add e.g. `duration: 30s`".into()),
                    );
                    None
                }
            };
            let (preallocated_vus, max_vus) = vus?;
            return Some(ExecutorPlan::ConstantArrivalRate {
                rate: rate?,
                time_unit: time_unit?,
                duration: duration?,
                preallocated_vus,
                max_vus,
            });
        }
        let start_rate = self
            .value_or(def.start_rate.as_ref(), &path.key("start_rate"), 0.0)
            .and_then(|r| self.rate(r, &path.key("start_rate"), true));
        let stages = self.rate_stages(
            def.stages.as_deref().unwrap_or_default(),
            &path.key("stages"),
            start_rate.unwrap_or(0.0),
        );
        let (preallocated_vus, max_vus) = vus?;
        Some(ExecutorPlan::RampingArrivalRate {
            start_rate: start_rate?,
            time_unit: time_unit?,
            stages: stages?,
            preallocated_vus,
            max_vus,
        })
    }

    /// A rate: finite, positive (or zero when `zero_ok`).
    fn rate(&mut self, rate: f64, path: &FieldPath, zero_ok: bool) -> Option<f64> {
        let ok = rate.is_finite() && (rate > 0.0 || (zero_ok && rate == 0.0));
        if !ok {
            let bound = if zero_ok {
                "0 or more"
            } else {
                "greater than 0"
            };
            self.problem(
                path,
                format!("must be {bound}, got {rate}"),
                Some("iterations started per time_unit".into()),
            );
            return None;
        }
        Some(rate)
    }

    /// `preallocated_vus` (required) and `max_vus` (default: preallocated).
    fn arrival_vus(&mut self, def: &ScenarioDef, path: &FieldPath) -> Option<(u64, u64)> {
        let Some(preallocated) = &def.preallocated_vus else {
            self.problem(
                path,
                "arrival-rate executors need `preallocated_vus`",
                Some("e.g. preallocated_vus: 10 (VUs ready at the start), max_vus: 50".into()),
            );
            return None;
        };
        let preallocated = self.value(preallocated, &path.key("preallocated_vus"))?;
        let max = self.value_or(def.max_vus.as_ref(), &path.key("max_vus"), preallocated)?;
        if max == 0 {
            self.problem(
                &path.key(if def.max_vus.is_some() {
                    "max_vus"
                } else {
                    "preallocated_vus"
                }),
                "must be at least 1",
                None,
            );
            return None;
        }
        if max < preallocated {
            self.problem(
                &path.key("max_vus"),
                format!("max_vus ({max}) is less than preallocated_vus ({preallocated})"),
                Some("max_vus counts the preallocated VUs too".into()),
            );
            return None;
        }
        Some((preallocated, max))
    }

    fn rate_stages(
        &mut self,
        defs: &[StageDef],
        path: &FieldPath,
        start_rate: f64,
    ) -> Option<Vec<RateStage>> {
        let stages: Vec<RateStage> = self
            .timed_stages(
                defs,
                path,
                "ramping-arrival-rate",
                "e.g. stages: [ { duration: 30s, target: 100 } ]",
            )?
            .into_iter()
            .map(|(duration, target)| RateStage {
                duration,
                target: target as f64,
            })
            .collect();
        if start_rate == 0.0 && stages.iter().all(|s| s.target == 0.0) {
            self.problem(
                path,
                "every stage targets a rate of 0 and start_rate is 0: nothing would run",
                None,
            );
            return None;
        }
        Some(stages)
    }
}
