//! Deciding when the load generator itself is the bottleneck.
//!
//! When the cores stampede may run on are nearly always busy, its threads
//! wait for a core: requests wait before they are sent and responses before
//! they are timed, so the latencies it reports include its own queueing.
//! Two figures show it: stampede's own CPU use per available core, and how
//! busy those cores are in all. The second is needed because the first can
//! stay well below 90 % on a saturated machine: other processes on the same
//! cores, and network interrupt work that the kernel does not charge to the
//! process, take the rest (measured here: a generator pinned to one busy core
//! read 46 % of its own while the core was 100 % busy).
//!
//! One busy second is not saturation: the start of a run (VUs allocated,
//! connections and TLS handshakes made) often fills a second or two and then
//! settles. [`SATURATION_HOLD`] of consecutive busy samples is: by then the
//! backlog is real, and three seconds still warn early in a 30 s run.

use std::fmt;
use std::time::Duration;

/// Share of the available cores above which a sample counts as saturated.
pub const SATURATION_THRESHOLD: f64 = 0.9;

/// How long a sample must stay above the threshold before it is an episode.
pub const SATURATION_HOLD: Duration = Duration::from_secs(3);

/// One interval's load, each figure a share 0..=1 of the available cores.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CoreLoad {
    /// stampede's own CPU time per available core (`generator_cpu`).
    pub own: f64,
    /// How busy the CPUs of the affinity mask were, whoever used them;
    /// `None` where `/proc/stat` cannot be read.
    pub cores_busy: Option<f64>,
}

impl CoreLoad {
    fn saturated(&self) -> bool {
        self.own > SATURATION_THRESHOLD || self.cores_busy.is_some_and(|b| b > SATURATION_THRESHOLD)
    }
}

/// An episode has just been confirmed: the figures for the warning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SaturationStart {
    /// Means over the samples that made the episode.
    pub load: CoreLoad,
    /// How long the load has been above the threshold so far.
    pub lasted: Duration,
    /// Cores available to the process.
    pub cores: usize,
}

impl fmt::Display for SaturationStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = |share: f64| format!("{:.0}%", share * 100.0);
        let cores = if self.cores == 1 {
            "the 1 core stampede may use was".to_string()
        } else {
            format!("the {} cores stampede may use were", self.cores)
        };
        let seconds = self.lasted.as_secs_f64().round();
        write!(f, "load generator saturated: for {seconds} s ")?;
        match self.load.cores_busy {
            Some(busy) => write!(
                f,
                "{cores} {} busy ({} by stampede itself)",
                percent(busy),
                percent(self.load.own)
            )?,
            None => write!(f, "stampede used {} of {}", percent(self.load.own), {
                if self.cores == 1 {
                    "its 1 available core".to_string()
                } else {
                    format!("its {} available cores", self.cores)
                }
            })?,
        }
        write!(
            f,
            "; the latencies it measures now include its own queueing, not only the target's \
             (give it more or less busy cores, or less load)"
        )
    }
}

/// Counts consecutive saturated samples; an episode begins when they span
/// `hold_samples` samples and ends at the first sample that is not.
#[derive(Clone, Debug)]
pub struct SaturationDetector {
    cores: usize,
    hold_samples: u32,
    streak: u32,
    streak_time: Duration,
    /// Share × seconds over the streak, for its means.
    streak_own: f64,
    streak_busy: Option<f64>,
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
        SaturationDetector {
            cores,
            hold_samples,
            streak: 0,
            streak_time: Duration::ZERO,
            streak_own: 0.0,
            streak_busy: None,
            in_episode: false,
            episodes: 0,
            saturated: Duration::ZERO,
        }
    }

    /// Takes one sample (the load over the last `interval`); returns the
    /// figures for a warning when this sample confirms a new episode, once
    /// per episode.
    pub fn observe(&mut self, load: CoreLoad, interval: Duration) -> Option<SaturationStart> {
        if !load.saturated() {
            self.streak = 0;
            self.streak_time = Duration::ZERO;
            self.streak_own = 0.0;
            self.streak_busy = None;
            self.in_episode = false;
            return None;
        }
        let seconds = interval.as_secs_f64();
        self.streak += 1;
        self.streak_time += interval;
        self.streak_own += load.own * seconds;
        self.streak_busy = match (self.streak_busy, load.cores_busy) {
            (Some(sum), Some(busy)) => Some(sum + busy * seconds),
            (None, Some(busy)) if self.streak == 1 => Some(busy * seconds),
            _ => None,
        };
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
        let span = self.streak_time.as_secs_f64();
        let mean = |sum: f64| if span > 0.0 { sum / span } else { sum };
        Some(SaturationStart {
            load: CoreLoad {
                own: mean(self.streak_own),
                cores_busy: self.streak_busy.map(mean),
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

    fn own(share: f64) -> CoreLoad {
        CoreLoad {
            own: share,
            cores_busy: None,
        }
    }

    /// Feeds one-second samples; returns the indices that warned.
    fn feed(
        detector: &mut SaturationDetector,
        loads: &[CoreLoad],
    ) -> Vec<(usize, SaturationStart)> {
        loads
            .iter()
            .enumerate()
            .filter_map(|(i, load)| detector.observe(*load, SECOND).map(|s| (i, s)))
            .collect()
    }

    #[test]
    fn warns_once_per_episode_after_three_busy_seconds() {
        let mut d = SaturationDetector::new(2, SECOND);
        let loads: Vec<CoreLoad> = [
            0.5, 0.95, 0.95, 0.5, // two busy seconds: no episode
            0.95, 0.95, 0.92, 0.99, 0.97, // an episode of 5 s, warned at its 3rd second
            0.9,  // exactly 90 % is not above the threshold: the episode ends
            0.91, 0.93, 0.98, // a second episode of 3 s
        ]
        .into_iter()
        .map(own)
        .collect();
        let warned = feed(&mut d, &loads);
        let at: Vec<usize> = warned.iter().map(|(i, _)| *i).collect();
        assert_eq!(at, [6, 12]);
        let first = warned[0].1;
        assert_eq!(first.lasted, 3 * SECOND);
        assert_eq!(first.cores, 2);
        assert!((first.load.own - (0.95 + 0.95 + 0.92) / 3.0).abs() < 1e-12);
        assert_eq!(first.load.cores_busy, None);
        assert_eq!(d.episodes(), 2);
        assert_eq!(d.saturated(), 8 * SECOND);
        assert_eq!(
            first.to_string(),
            "load generator saturated: for 3 s stampede used 94% of its 2 available cores; \
             the latencies it measures now include its own queueing, not only the target's \
             (give it more or less busy cores, or less load)"
        );
    }

    #[test]
    fn busy_cores_saturate_even_when_stampede_gets_less_of_them() {
        let mut d = SaturationDetector::new(1, SECOND);
        let load = |own, busy| CoreLoad {
            own,
            cores_busy: Some(busy),
        };
        let loads = [
            load(0.5, 0.99),
            load(0.4, 0.97),
            load(0.45, 0.98), // warned: the core was busy, stampede got half of it
            load(0.95, 0.5),  // own CPU alone keeps the episode going
            load(0.3, 0.9),   // neither above: the episode ends
            load(0.2, 0.4),
        ];
        let warned = feed(&mut d, &loads);
        assert_eq!(warned.len(), 1);
        let (at, start) = warned[0];
        assert_eq!(at, 2);
        assert_eq!(start.lasted, 3 * SECOND);
        assert!((start.load.own - 0.45).abs() < 1e-12);
        assert!((start.load.cores_busy.unwrap() - 0.98).abs() < 1e-12);
        assert_eq!(d.saturated(), 4 * SECOND);
        assert_eq!(d.episodes(), 1);
        assert_eq!(
            start.to_string(),
            "load generator saturated: for 3 s the 1 core stampede may use was 98% busy \
             (45% by stampede itself); the latencies it measures now include its own queueing, \
             not only the target's (give it more or less busy cores, or less load)"
        );
    }

    #[test]
    fn never_saturated_counts_nothing() {
        let mut d = SaturationDetector::new(1, SECOND);
        let loads: Vec<CoreLoad> = [0.0, 0.3, 0.9, 0.95, 0.95, 0.1, 0.9]
            .into_iter()
            .map(own)
            .collect();
        assert!(feed(&mut d, &loads).is_empty());
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
            .observe(own(1.0), 5 * SECOND)
            .expect("one 5 s sample spans the hold");
        assert_eq!(start.lasted, 5 * SECOND);
        assert_eq!(
            start.to_string(),
            "load generator saturated: for 5 s stampede used 100% of its 1 available core; \
             the latencies it measures now include its own queueing, not only the target's \
             (give it more or less busy cores, or less load)"
        );
    }
}
