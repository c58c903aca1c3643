//! Deciding when the load generator itself is the bottleneck.
//!
//! When stampede's CPU use stays near all of its available cores, requests
//! wait in its own run queue before they are sent and responses wait before
//! they are timed, so the latencies it reports include its own queueing.
//! One busy second is not that: the start of a run (VUs allocated,
//! connections and TLS handshakes made) often fills a second or two and then
//! settles. [`SATURATION_HOLD`] of consecutive busy samples is: by then the
//! backlog is real, and three seconds still warn early in a 30 s run.

use std::fmt;
use std::time::Duration;

/// CPU use (share of the available cores) above which a sample counts as saturated.
pub const SATURATION_THRESHOLD: f64 = 0.9;

/// How long CPU use must stay above the threshold before it is an episode.
pub const SATURATION_HOLD: Duration = Duration::from_secs(3);

/// An episode has just been confirmed: the figures for the warning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SaturationStart {
    /// Mean CPU use over the samples that made the episode (0..=1 of `cores`).
    pub cpu: f64,
    /// How long CPU use has been above the threshold so far.
    pub lasted: Duration,
    /// Cores available to the process.
    pub cores: usize,
}

impl fmt::Display for SaturationStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = if self.cores == 1 { "" } else { "s" };
        write!(
            f,
            "load generator saturated: stampede used {:.0}% of its {} available core{plural} for {} s; \
             the latencies it measures now include its own queueing, not only the target's \
             (give it more cores or less load)",
            self.cpu * 100.0,
            self.cores,
            self.lasted.as_secs_f64().round()
        )
    }
}

/// Counts consecutive samples above [`SATURATION_THRESHOLD`]; an episode
/// begins when they cover `hold_samples` samples and ends at the first
/// sample at or below it.
#[derive(Clone, Debug)]
pub struct SaturationDetector {
    cores: usize,
    hold_samples: u32,
    streak: u32,
    streak_time: Duration,
    /// CPU × seconds over the streak, for its mean.
    streak_cpu_seconds: f64,
    in_episode: bool,
    episodes: u32,
    saturated: Duration,
}

impl SaturationDetector {
    /// For samples taken every `sample_interval`: the hold is that many
    /// samples which span [`SATURATION_HOLD`] (3 at the 1 s default).
    pub fn new(cores: usize, sample_interval: Duration) -> Self {
        let per_sample = sample_interval.as_secs_f64();
        let hold_samples = if per_sample > 0.0 {
            (SATURATION_HOLD.as_secs_f64() / per_sample).ceil().max(1.0) as u32
        } else {
            1
        };
        Self::with_hold_samples(cores, hold_samples)
    }

    pub fn with_hold_samples(cores: usize, hold_samples: u32) -> Self {
        SaturationDetector {
            cores,
            hold_samples: hold_samples.max(1),
            streak: 0,
            streak_time: Duration::ZERO,
            streak_cpu_seconds: 0.0,
            in_episode: false,
            episodes: 0,
            saturated: Duration::ZERO,
        }
    }

    /// Takes one sample (`cpu` over the last `interval`); returns the
    /// figures for a warning when this sample confirms a new episode, once
    /// per episode.
    pub fn observe(&mut self, cpu: f64, interval: Duration) -> Option<SaturationStart> {
        if cpu <= SATURATION_THRESHOLD {
            self.streak = 0;
            self.streak_time = Duration::ZERO;
            self.streak_cpu_seconds = 0.0;
            self.in_episode = false;
            return None;
        }
        self.streak += 1;
        self.streak_time += interval;
        self.streak_cpu_seconds += cpu * interval.as_secs_f64();
        if self.in_episode {
            self.saturated += interval;
            return None;
        }
        if self.streak < self.hold_samples {
            return None;
        }
        self.in_episode = true;
        self.episodes += 1;
        // The samples that led up to the confirmation were saturated too.
        self.saturated += self.streak_time;
        let seconds = self.streak_time.as_secs_f64();
        Some(SaturationStart {
            cpu: if seconds > 0.0 {
                self.streak_cpu_seconds / seconds
            } else {
                cpu
            },
            lasted: self.streak_time,
            cores: self.cores,
        })
    }

    /// Episodes confirmed so far.
    pub fn episodes(&self) -> u32 {
        self.episodes
    }

    /// Time spent in confirmed episodes, their lead-up samples included.
    pub fn saturated(&self) -> Duration {
        self.saturated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    /// Feeds one-second samples; returns the indices that warned.
    fn feed(detector: &mut SaturationDetector, cpus: &[f64]) -> Vec<(usize, SaturationStart)> {
        cpus.iter()
            .enumerate()
            .filter_map(|(i, cpu)| detector.observe(*cpu, SECOND).map(|s| (i, s)))
            .collect()
    }

    #[test]
    fn warns_once_per_episode_after_three_busy_seconds() {
        let mut d = SaturationDetector::new(2, SECOND);
        let cpus = [
            0.5, 0.95, 0.95, 0.5, // two busy seconds: no episode
            0.95, 0.95, 0.92, 0.99, 0.97, // an episode of 5 s, warned at its 3rd second
            0.9,  // exactly 90 % is not above the threshold: the episode ends
            0.91, 0.93, 0.98, // a second episode of 3 s
        ];
        let warned = feed(&mut d, &cpus);
        let at: Vec<usize> = warned.iter().map(|(i, _)| *i).collect();
        assert_eq!(at, [6, 12]);
        let first = warned[0].1;
        assert_eq!(first.lasted, 3 * SECOND);
        assert_eq!(first.cores, 2);
        assert!((first.cpu - (0.95 + 0.95 + 0.92) / 3.0).abs() < 1e-12);
        assert_eq!(d.episodes(), 2);
        assert_eq!(d.saturated(), 8 * SECOND);
        assert_eq!(
            first.to_string(),
            "load generator saturated: stampede used 94% of its 2 available cores for 3 s; \
             the latencies it measures now include its own queueing, not only the target's \
             (give it more cores or less load)"
        );
    }

    #[test]
    fn never_saturated_counts_nothing() {
        let mut d = SaturationDetector::new(1, SECOND);
        assert!(feed(&mut d, &[0.0, 0.3, 0.9, 0.95, 0.95, 0.1, 0.9]).is_empty());
        assert_eq!(d.episodes(), 0);
        assert_eq!(d.saturated(), Duration::ZERO);
    }

    #[test]
    fn the_hold_is_measured_in_time_not_samples() {
        assert_eq!(SaturationDetector::new(1, SECOND).hold_samples, 3);
        assert_eq!(SaturationDetector::new(1, 2 * SECOND).hold_samples, 2);
        assert_eq!(SaturationDetector::new(1, 5 * SECOND).hold_samples, 1);
        assert_eq!(
            SaturationDetector::new(1, Duration::from_millis(500)).hold_samples,
            6
        );
        let mut d = SaturationDetector::new(1, 5 * SECOND);
        let start = d
            .observe(1.0, 5 * SECOND)
            .expect("one 5 s sample spans the hold");
        assert_eq!(start.lasted, 5 * SECOND);
        assert_eq!(
            start.to_string(),
            "load generator saturated: stampede used 100% of its 1 available core for 5 s; \
             the latencies it measures now include its own queueing, not only the target's \
             (give it more cores or less load)"
        );
    }
}
