//! When each iteration of an arrival-rate executor is due.
//!
//! The rate is piecewise linear over time; N(t), its integral, counts the
//! iterations due by `t`. Iteration `k` (0-based) starts where N(t) reaches
//! `k`, so a constant rate r starts iteration k at k/r, and a segment that
//! takes every n-th iteration gets exactly its part of the same timeline.

use std::time::Duration;

/// A linear piece of the rate: `from` to `to` iterations per second over `length` seconds.
#[derive(Clone, Copy, Debug)]
struct Piece {
    start: f64,
    length: f64,
    from: f64,
    to: f64,
    /// N at the start of this piece.
    before: f64,
}

impl Piece {
    fn after(&self) -> f64 {
        self.before + (self.from + self.to) / 2.0 * self.length
    }
}

/// Iterations due in `[0, end)`; floating error below this does not add one.
const EPSILON: f64 = 1e-9;

#[derive(Clone, Debug)]
pub struct Schedule {
    pieces: Vec<Piece>,
    /// Piece the last lookup ended in; lookups only move forward.
    current: usize,
    end: f64,
}

impl Schedule {
    /// `per_second` iterations every second for `duration`.
    pub fn constant(per_second: f64, duration: Duration) -> Self {
        Self::ramping(per_second, &[(duration, per_second)])
    }

    /// From `start` per second, linearly to each stage's target (per second)
    /// over the stage's duration; a 0s stage jumps.
    pub fn ramping(start: f64, stages: &[(Duration, f64)]) -> Self {
        let mut pieces = Vec::with_capacity(stages.len());
        let (mut at, mut before, mut from) = (0.0, 0.0, start);
        for (duration, target) in stages {
            let length = duration.as_secs_f64();
            if length > 0.0 {
                let piece = Piece {
                    start: at,
                    length,
                    from,
                    to: *target,
                    before,
                };
                before = piece.after();
                at += length;
                pieces.push(piece);
            }
            from = *target;
        }
        Schedule {
            pieces,
            current: 0,
            end: at,
        }
    }

    /// How long the schedule lasts.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.end)
    }

    /// Iterations due over the whole schedule (unsegmented): as many as
    /// `start_of` gives.
    pub fn total(&self) -> u64 {
        let n = self.pieces.last().map_or(0.0, Piece::after);
        (n - EPSILON).ceil().max(0.0) as u64
    }

    /// Offset from the start at which iteration `k` is due; `None` past the
    /// end. Calls must not decrease `k` (the lookup walks forward).
    pub fn start_of(&mut self, k: u64) -> Option<Duration> {
        let k = k as f64;
        while let Some(piece) = self.pieces.get(self.current) {
            if k < piece.after() - EPSILON {
                let offset = piece.start + offset_in(piece, k - piece.before).min(piece.length);
                return Some(Duration::from_secs_f64(offset.max(0.0)));
            }
            self.current += 1;
        }
        None
    }
}

/// Solves before + from*x + (to-from)/(2*length)*x^2 = before + m for x >= 0,
/// in the form that stays exact when the rate is (nearly) constant.
fn offset_in(piece: &Piece, m: f64) -> f64 {
    if m <= 0.0 {
        return 0.0;
    }
    let a = (piece.to - piece.from) / (2.0 * piece.length);
    let discriminant = (piece.from * piece.from + 4.0 * a * m).max(0.0);
    let denominator = piece.from + discriminant.sqrt();
    if denominator <= 0.0 {
        return piece.length;
    }
    2.0 * m / denominator
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn starts(schedule: &mut Schedule) -> Vec<f64> {
        (0..)
            .map_while(|k| schedule.start_of(k))
            .map(|d| (d.as_secs_f64() * 1e6).round() / 1e6)
            .collect()
    }

    #[test]
    fn constant_rate_starts_evenly_from_zero() {
        let mut s = Schedule::constant(4.0, secs(1.0));
        assert_eq!(s.total(), 4);
        assert_eq!(starts(&mut s), [0.0, 0.25, 0.5, 0.75]);
        let s = Schedule::constant(500.0, secs(5.0));
        assert_eq!(s.total(), 2500);
        let mut s = Schedule::constant(0.5, secs(3.0));
        assert_eq!(starts(&mut s), [0.0, 2.0]);
    }

    #[test]
    fn ramp_follows_the_integral_of_the_rate() {
        // 0 -> 4/s over 2 s: N(t) = t^2, so iteration k starts at sqrt(k).
        let mut s = Schedule::ramping(0.0, &[(secs(2.0), 4.0)]);
        assert_eq!(s.total(), 4);
        let root = |x: f64| (x.sqrt() * 1e6).round() / 1e6;
        assert_eq!(starts(&mut s), [0.0, 1.0, root(2.0), root(3.0)]);
        // Then 4/s for 1 s: four more, evenly.
        let mut s = Schedule::ramping(0.0, &[(secs(2.0), 4.0), (secs(1.0), 4.0)]);
        assert_eq!(s.total(), 8);
        assert_eq!(&starts(&mut s)[4..], [2.0, 2.25, 2.5, 2.75]);
    }

    #[test]
    fn zero_stages_jump_and_idle_pieces_start_nothing() {
        let mut s = Schedule::ramping(0.0, &[(secs(1.0), 0.0), (secs(0.0), 2.0), (secs(1.0), 2.0)]);
        assert_eq!(s.duration(), secs(2.0));
        assert_eq!(starts(&mut s), [1.0, 1.5]);
    }

    #[test]
    fn every_nth_start_is_the_same_timeline() {
        let mut whole = Schedule::ramping(10.0, &[(secs(3.0), 50.0), (secs(2.0), 0.0)]);
        let all = starts(&mut whole);
        let mut parts = Vec::new();
        for index in 0..4u64 {
            let mut s = Schedule::ramping(10.0, &[(secs(3.0), 50.0), (secs(2.0), 0.0)]);
            let mine: Vec<f64> = (0..)
                .map(|k| k * 4 + index)
                .map_while(|k| s.start_of(k))
                .map(|d| (d.as_secs_f64() * 1e6).round() / 1e6)
                .collect();
            parts.extend(mine);
        }
        parts.sort_by(f64::total_cmp);
        assert_eq!(parts, all);
        assert_eq!(all.len() as u64, whole.total());
    }
}
