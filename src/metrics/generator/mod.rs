//! Load-generator health: stampede's own CPU use and memory, sampled once
//! per snapshot interval into the built-in gauges `generator_cpu` and
//! `generator_memory`, a warning when the generator is saturated, and the
//! run's figures for the summary.

mod process;
mod saturation;

use std::time::{Duration, Instant};

pub use process::{
    CoreTicks, ProcStatError, ProcessUsage, StatmError, available_cores, parse_proc_stat_cores,
    parse_statm_resident, read_process_usage,
};
pub use saturation::{
    CoreLoad, SATURATION_HOLD, SATURATION_THRESHOLD, SaturationDetector, SaturationStart,
};

/// The run's generator figures, for the summary.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorHealth {
    /// Cores available to the process (affinity and cgroup quota).
    pub cores: usize,
    /// Highest `generator_cpu` of any interval (0..=1 of `cores`).
    pub cpu_peak: f64,
    /// CPU time over the whole sampled time, per available core (0..=1).
    pub cpu_mean: f64,
    /// Highest `generator_memory` of any interval, in bytes.
    pub memory_peak_bytes: u64,
    /// Time in saturation episodes ([`SaturationDetector::saturated`]).
    pub saturated: Duration,
    pub saturation_episodes: u32,
}

/// One interval's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeneratorReading {
    /// CPU time over the interval per available core, 0..=1.
    pub cpu: f64,
    /// Resident set size in bytes.
    pub memory_bytes: u64,
    /// How busy the process's CPUs were over the interval, whoever used
    /// them (0..=1); `None` where `/proc/stat` cannot be read.
    pub cores_busy: Option<f64>,
    /// Set when this interval confirmed a saturation episode.
    pub saturation: Option<SaturationStart>,
}

/// Samples the process every interval and keeps the run's figures.
#[derive(Clone, Debug)]
pub struct GeneratorMonitor {
    cores: usize,
    last: Option<(ProcessUsage, Instant)>,
    detector: SaturationDetector,
    cpu_peak: f64,
    cpu_seconds: f64,
    sampled: Duration,
    memory_peak_bytes: u64,
}

impl GeneratorMonitor {
    /// Starts measuring now; `interval` is how often [`GeneratorMonitor::sample`]
    /// will be called (the saturation hold is counted in such samples).
    pub fn start(interval: Duration) -> Self {
        let mut monitor = Self::new(available_cores(), interval);
        if let Some(usage) = read_process_usage() {
            monitor.observe(usage, Instant::now());
        }
        monitor
    }

    /// A monitor that has not read anything yet (tests feed it readings).
    pub fn new(cores: usize, interval: Duration) -> Self {
        let cores = cores.max(1);
        GeneratorMonitor {
            cores,
            last: None,
            detector: SaturationDetector::new(cores, interval),
            cpu_peak: 0.0,
            cpu_seconds: 0.0,
            sampled: Duration::ZERO,
            memory_peak_bytes: 0,
        }
    }

    /// Reads the process now; `None` where it cannot be read (not Linux).
    pub fn sample(&mut self) -> Option<GeneratorReading> {
        let usage = read_process_usage()?;
        self.observe(usage, Instant::now())
    }

    /// Takes a reading made at `at`. The first one only starts the clock
    /// (CPU use is a difference); later ones give the interval's figures.
    pub fn observe(&mut self, usage: ProcessUsage, at: Instant) -> Option<GeneratorReading> {
        let (previous, before) = self.last.replace((usage, at))?;
        let wall = at.checked_duration_since(before)?;
        if wall.is_zero() {
            return None;
        }
        let used = usage
            .cpu_time
            .saturating_sub(previous.cpu_time)
            .as_secs_f64();
        // getrusage and Instant are read a few microseconds apart, so a fully
        // busy interval can come out a hair above 1; the process cannot use
        // more than its cores.
        let cpu = (used / wall.as_secs_f64() / self.cores as f64).clamp(0.0, 1.0);
        let cores_busy = match (previous.cores, usage.cores) {
            (Some(a), Some(b)) if b.total > a.total => {
                Some(b.busy.saturating_sub(a.busy) as f64 / (b.total - a.total) as f64)
            }
            _ => None,
        };
        // Peaks over the readings only, so they equal the gauges' maxima.
        self.cpu_peak = self.cpu_peak.max(cpu);
        self.memory_peak_bytes = self.memory_peak_bytes.max(usage.resident_bytes);
        self.cpu_seconds += cpu * wall.as_secs_f64();
        self.sampled += wall;
        let load = CoreLoad {
            own: cpu,
            cores_busy,
        };
        Some(GeneratorReading {
            cpu,
            memory_bytes: usage.resident_bytes,
            cores_busy,
            saturation: self.detector.observe(load, wall),
        })
    }

    /// The run's figures; `None` until two readings were taken.
    pub fn health(&self) -> Option<GeneratorHealth> {
        if self.sampled.is_zero() {
            return None;
        }
        Some(GeneratorHealth {
            cores: self.cores,
            cpu_peak: self.cpu_peak,
            cpu_mean: self.cpu_seconds / self.sampled.as_secs_f64(),
            memory_peak_bytes: self.memory_peak_bytes,
            saturated: self.detector.saturated(),
            saturation_episodes: self.detector.episodes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(cpu_ms: u64, resident_bytes: u64) -> ProcessUsage {
        ProcessUsage {
            cpu_time: Duration::from_millis(cpu_ms),
            resident_bytes,
            cores: None,
        }
    }

    #[test]
    fn cpu_is_per_available_core_and_the_run_figures_add_up() {
        let second = Duration::from_secs(1);
        let mut m = GeneratorMonitor::new(2, second);
        let t0 = Instant::now();
        // The first reading only starts the clock; its memory is no interval's.
        assert_eq!(m.observe(usage(100, 90_000_000), t0), None);
        assert_eq!(m.health(), None);
        // 1 s of CPU over 1 s on 2 cores: half the cores.
        let r = m.observe(usage(1_100, 30_000_000), t0 + second).unwrap();
        assert_eq!(r.cpu, 0.5);
        assert_eq!(r.memory_bytes, 30_000_000);
        assert_eq!(r.cores_busy, None);
        // 1.5 s over 2 s: 0.375.
        let r = m
            .observe(usage(2_600, 20_000_000), t0 + 3 * second)
            .unwrap();
        assert_eq!(r.cpu, 0.375);
        // 2.2 s over 1 s on 2 cores reads 1.1: capped at 1.
        let r = m
            .observe(usage(4_800, 20_000_000), t0 + 4 * second)
            .unwrap();
        assert_eq!(r.cpu, 1.0);
        let health = m.health().unwrap();
        assert_eq!(health.cores, 2);
        assert_eq!(health.cpu_peak, 1.0);
        // (0.5·1 + 0.375·2 + 1·1) / 4 s
        assert_eq!(health.cpu_mean, 0.5625);
        assert_eq!(health.memory_peak_bytes, 30_000_000);
        assert_eq!(health.saturated, Duration::ZERO);
        assert_eq!(health.saturation_episodes, 0);
    }

    #[test]
    fn saturation_flows_from_the_readings() {
        let second = Duration::from_secs(1);
        let mut m = GeneratorMonitor::new(1, second);
        let t0 = Instant::now();
        m.observe(usage(0, 5_000_000), t0);
        let warned: Vec<u32> = (1..=5u32)
            .filter(|i| {
                m.observe(usage(u64::from(*i) * 950, 5_000_000), t0 + *i * second)
                    .unwrap()
                    .saturation
                    .is_some()
            })
            .collect();
        assert_eq!(warned, [3]);
        let health = m.health().unwrap();
        assert_eq!(health.saturated, 5 * second);
        assert_eq!(health.saturation_episodes, 1);
    }

    #[test]
    fn busy_cores_come_from_tick_differences() {
        let second = Duration::from_secs(1);
        let mut m = GeneratorMonitor::new(1, second);
        let t0 = Instant::now();
        let at = |cpu_ms, busy, total| ProcessUsage {
            cores: Some(CoreTicks { busy, total }),
            ..usage(cpu_ms, 1)
        };
        m.observe(at(0, 1_000, 5_000), t0);
        let busy: Vec<Option<f64>> = [
            at(400, 1_099, 5_100),   // 99 of 100 ticks busy
            at(800, 1_149, 5_200),   // 50 of 100
            at(1_200, 1_149, 5_200), // no tick passed: unknown
        ]
        .into_iter()
        .zip(1u32..)
        .map(|(u, i)| m.observe(u, t0 + i * second).unwrap().cores_busy)
        .collect();
        assert_eq!(busy, [Some(0.99), Some(0.5), None]);
    }
}
