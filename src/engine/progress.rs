//! Live progress on stderr: updated in place on a terminal, a plain line
//! every few seconds otherwise (CI logs).

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::context::RunContext;
use crate::metrics::{MetricId, SeriesValue, Snapshot, builtin};

pub struct Progress {
    terminal: bool,
    /// Minimum time between two plain lines when not on a terminal.
    plain_every: Duration,
    last_plain: Duration,
    /// Running totals, summed from interval values (a snapshot only carries
    /// the series that changed).
    requests: f64,
    iterations: f64,
}

impl Progress {
    pub fn stderr(plain_every: Duration) -> Self {
        Progress {
            terminal: std::io::stderr().is_terminal(),
            plain_every,
            last_plain: Duration::ZERO,
            requests: 0.0,
            iterations: 0.0,
        }
    }

    pub fn update(&mut self, snapshot: &Snapshot, ctx: &RunContext) {
        self.count(snapshot);
        if !self.terminal {
            if snapshot.elapsed < self.last_plain + self.plain_every {
                return;
            }
            self.last_plain = snapshot.elapsed;
        }
        let line = self.line(snapshot, ctx);
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            write!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }

    pub fn finish(&mut self, snapshot: &Snapshot, ctx: &RunContext) {
        self.count(snapshot);
        let line = self.line(snapshot, ctx);
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal {
            writeln!(err, "\r\x1b[2K{line}")
        } else {
            writeln!(err, "{line}")
        };
    }

    fn count(&mut self, snapshot: &Snapshot) {
        self.requests += interval_sum(snapshot, builtin::HTTP_REQS);
        self.iterations += interval_sum(snapshot, builtin::ITERATIONS);
    }

    fn line(&self, snapshot: &Snapshot, ctx: &RunContext) -> String {
        let per_second =
            interval_sum(snapshot, builtin::HTTP_REQS) / snapshot.interval.as_secs_f64().max(1e-9);
        format!(
            "running ({:.1}s), {}/{} VUs, {} complete iterations, {} requests, {:.0} req/s",
            snapshot.elapsed.as_secs_f64(),
            ctx.active_vus.load(Ordering::Relaxed),
            ctx.allocated_vus.load(Ordering::Relaxed),
            self.iterations as u64,
            self.requests as u64,
            per_second,
        )
    }
}

fn interval_sum(snapshot: &Snapshot, metric: MetricId) -> f64 {
    snapshot
        .series
        .iter()
        .filter(|s| s.metric == metric)
        .map(|s| match &s.interval {
            SeriesValue::Counter { sum } => *sum,
            _ => 0.0,
        })
        .fold(0.0, |total, v| total + v) // not `sum()`: an empty f64 sum is -0.0
}
