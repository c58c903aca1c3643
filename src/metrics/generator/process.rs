//! What the operating system says about the stampede process itself: CPU
//! time used so far, resident memory, and how many cores it may run on.
//!
//! Linux only. CPU time comes from `getrusage(RUSAGE_SELF)` (microseconds,
//! all threads, where `/proc/self/stat` counts 10 ms ticks and would make a
//! one-second figure jump by whole percents); the resident set size from
//! `/proc/self/statm`, which `getrusage` cannot give (its `ru_maxrss` is the
//! peak, not the current size).

use std::time::Duration;

/// One reading of the process's own counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessUsage {
    /// User plus system CPU time of every thread since the process started.
    pub cpu_time: Duration,
    /// Resident set size in bytes.
    pub resident_bytes: u64,
}

/// `/proc/self/statm` could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatmError {
    #[error("/proc/self/statm: expected at least 2 fields, found {0}")]
    TooFewFields(usize),
    #[error("/proc/self/statm: field 2 (resident pages) is not a number: {0:?}")]
    NotANumber(String),
}

/// The resident set size in bytes from the text of `/proc/<pid>/statm`
/// (`size resident shared text lib data dt`, in pages; proc(5)).
pub fn parse_statm_resident(text: &str, page_size: u64) -> Result<u64, StatmError> {
    let fields: Vec<&str> = text.split_ascii_whitespace().collect();
    let resident = fields
        .get(1)
        .ok_or(StatmError::TooFewFields(fields.len()))?;
    let pages: u64 = resident
        .parse()
        .map_err(|_| StatmError::NotANumber((*resident).to_string()))?;
    Ok(pages.saturating_mul(page_size))
}

/// The cores this process may run on: its CPU affinity mask and cgroup
/// quota (`taskset -c 0` gives 1), as the standard library computes them.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Reads the process's counters now; `None` where they cannot be read
/// (not Linux, or `/proc` not mounted).
#[cfg(target_os = "linux")]
pub fn read_process_usage() -> Option<ProcessUsage> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    // SAFETY: sysconf has no preconditions; it returns -1 for an unknown name.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let resident_bytes = parse_statm_resident(&statm, u64::try_from(page_size).ok()?).ok()?;
    // SAFETY: getrusage fills the zeroed struct it is given and only reads `who`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return None;
        }
        usage
    };
    let micros = |t: libc::timeval| {
        u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000 + u64::try_from(t.tv_usec).unwrap_or(0)
    };
    Some(ProcessUsage {
        cpu_time: Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime)),
        resident_bytes,
    })
}

/// Elsewhere the generator gauges are left out (docs/metrics.md).
#[cfg(not(target_os = "linux"))]
pub fn read_process_usage() -> Option<ProcessUsage> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statm_resident_pages_times_page_size() {
        // A real line of /proc/self/statm (Linux 6.x, 4 KiB pages).
        let text = "5853 1210 957 202 0 637 0\n";
        assert_eq!(parse_statm_resident(text, 4096), Ok(1210 * 4096));
        assert_eq!(parse_statm_resident("10 3", 65536), Ok(196_608));
    }

    #[test]
    fn statm_errors_name_the_field() {
        assert_eq!(
            parse_statm_resident("5853\n", 4096),
            Err(StatmError::TooFewFields(1))
        );
        assert_eq!(
            parse_statm_resident("", 4096),
            Err(StatmError::TooFewFields(0))
        );
        let err = parse_statm_resident("5853 12x0 957", 4096).unwrap_err();
        assert_eq!(
            err.to_string(),
            "/proc/self/statm: field 2 (resident pages) is not a number: \"12x0\""
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_reads_plausible_usage() {
        let before = read_process_usage().expect("Linux has /proc/self/statm and getrusage");
        // Burn a little CPU so the second reading must be later.
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(30) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let after = read_process_usage().unwrap();
        assert!(after.cpu_time > before.cpu_time, "{before:?} {after:?}");
        // A test binary is more than 1 MB resident and far below 1 GB.
        assert!(
            (1_000_000..1_000_000_000).contains(&after.resident_bytes),
            "{after:?}"
        );
        assert!(available_cores() >= 1);
    }
}
