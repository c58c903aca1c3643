//! Live progress on stderr, one line per scenario: elapsed / planned time,
//! active / max VUs, iterations so far, and the request rate, error share and
//! p95 latency of the last interval. On a terminal the lines are redrawn in
//! place every flush; otherwise (CI logs) a block of plain lines is printed
//! every `plain_every`, its figures covering the time since the last block.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::context::RunContext;
use crate::metrics::{SeriesValue, Snapshot, TrendValue, builtin};
use crate::scenario::{ExecutorPlan, ScenarioPlan};

pub struct Progress {
    out: Box<dyn Write + Send>,
    terminal: bool,
    /// Time between two blocks of plain lines when not on a terminal.
    plain_every: Duration,
    last_plain: Duration,
    /// Lines drawn last time on a terminal (to move back over them).
    drawn: usize,
    scenarios: Vec<Window>,
}

/// One scenario's figures: iterations since the start, the rest since the
/// last printed line.
#[derive(Default)]
struct Window {
    iterations: f64,
    requests: f64,
    failed: (u64, u64),
    durations: Option<TrendValue>,
    length: Duration,
}

impl Progress {
    /// Progress on stderr; plain lines every `plain_every` when it is not a terminal.
    pub fn stderr(plain_every: Duration) -> Self {
        Self::to_writer(
            Box::new(std::io::stderr()),
            std::io::stderr().is_terminal(),
            plain_every,
        )
    }

    /// Progress into any writer (tests), as a terminal or as a log.
    pub fn to_writer(out: Box<dyn Write + Send>, terminal: bool, plain_every: Duration) -> Self {
        Progress {
            out,
            terminal,
            plain_every,
            last_plain: Duration::ZERO,
            drawn: 0,
            scenarios: Vec::new(),
        }
    }

    pub fn update(&mut self, snapshot: &Snapshot, ctx: &RunContext) {
        self.count(snapshot, ctx);
        // Half an interval of slack: flushes land a little before or after the mark.
        if !self.terminal
            && snapshot.elapsed + snapshot.interval / 2 < self.last_plain + self.plain_every
        {
            return;
        }
        self.last_plain = snapshot.elapsed;
        self.draw(ctx);
    }

    pub fn finish(&mut self, snapshot: &Snapshot, ctx: &RunContext) {
        self.count(snapshot, ctx);
        self.draw(ctx);
    }

    fn count(&mut self, snapshot: &Snapshot, ctx: &RunContext) {
        let plans = &ctx.plan.scenarios;
        self.scenarios.resize_with(plans.len(), Window::default);
        for window in &mut self.scenarios {
            window.length += snapshot.interval;
        }
        for point in &snapshot.series {
            let tracked = [
                builtin::ITERATIONS,
                builtin::HTTP_REQS,
                builtin::HTTP_REQ_FAILED,
                builtin::HTTP_REQ_DURATION,
            ];
            if !tracked.contains(&point.metric) {
                continue;
            }
            let Some(name) = point.tags.get("scenario") else {
                continue;
            };
            let Some(index) = plans.iter().position(|p| p.name == name) else {
                continue;
            };
            let window = &mut self.scenarios[index];
            match (&point.interval, point.metric) {
                (SeriesValue::Counter { sum }, builtin::ITERATIONS) => window.iterations += sum,
                (SeriesValue::Counter { sum }, _) => window.requests += sum,
                (SeriesValue::Rate { trues, total }, _) => {
                    window.failed.0 += trues;
                    window.failed.1 += total;
                }
                (SeriesValue::Trend(trend), _) => match &mut window.durations {
                    Some(all) => all.merge(trend),
                    None => window.durations = Some(trend.clone()),
                },
                _ => {}
            }
        }
    }

    fn draw(&mut self, ctx: &RunContext) {
        let lines: Vec<String> = ctx
            .plan
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, plan)| self.line(i, plan, ctx))
            .collect();
        let mut text = String::new();
        if self.terminal && self.drawn > 0 {
            text.push_str(&format!("\x1b[{}A", self.drawn));
        }
        for line in &lines {
            if self.terminal {
                text.push_str("\r\x1b[2K");
            }
            text.push_str(line);
            text.push('\n');
        }
        self.drawn = lines.len();
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
        for window in &mut self.scenarios {
            *window = Window {
                iterations: window.iterations,
                ..Window::default()
            };
        }
    }

    fn line(&self, index: usize, plan: &ScenarioPlan, ctx: &RunContext) -> String {
        let counters = &ctx.scenarios[index];
        let total = plan.executor.planned_duration();
        let (state, elapsed) = match (counters.started.get(), counters.ended.get()) {
            (Some(start), Some(end)) => ("done", end.duration_since(*start)),
            (Some(start), None) => ("running", start.elapsed()),
            _ => ("waiting", Duration::ZERO),
        };
        let empty = Window::default();
        let window = self.scenarios.get(index).unwrap_or(&empty);
        let seconds = window.length.as_secs_f64().max(1e-9);
        let errors = if window.failed.1 == 0 {
            0.0
        } else {
            window.failed.0 as f64 * 100.0 / window.failed.1 as f64
        };
        let p95 = window
            .durations
            .as_ref()
            .filter(|t| t.count > 0)
            .map_or("-".to_string(), |t| format!("{:.1}ms", t.percentile(95.0)));
        format!(
            "{name} [{state}] {elapsed:.1}s/{total:.1}s, {active}/{max} VUs, {iterations} iterations, {rps:.0} req/s, {errors:.1}% errors, p95 {p95}",
            name = plan.name,
            elapsed = elapsed.as_secs_f64(),
            total = total.as_secs_f64(),
            active = counters.active.load(Ordering::Relaxed),
            max = instance_max_vus(plan),
            iterations = window.iterations as u64,
            rps = window.requests / seconds,
        )
    }
}

/// The most VUs this instance runs for `plan`.
fn instance_max_vus(plan: &ScenarioPlan) -> u64 {
    let max = plan.share.of(plan.executor.max_vus());
    match plan.executor {
        ExecutorPlan::ConstantArrivalRate { .. } | ExecutorPlan::RampingArrivalRate { .. } => {
            max.max(1)
        }
        _ => max,
    }
}
