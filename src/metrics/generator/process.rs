//! What the operating system says about the stampede process itself: CPU
//! time used so far, resident memory, how many cores it may run on, and how
//! busy those cores are.
//!
//! Linux only. CPU time comes from `getrusage(RUSAGE_SELF)` (microseconds,
//! all threads, where `/proc/self/stat` counts 10 ms ticks and would make a
//! one-second figure jump by whole percents); the resident set size from
//! `/proc/self/statm`, which `getrusage` cannot give (its `ru_maxrss` is the
//! peak, not the current size); how busy the process's cores are from the
//! per-CPU lines of `/proc/stat`, for the CPUs of its affinity mask.

use std::time::Duration;

/// One reading of the process's own counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessUsage {
    /// User plus system CPU time of every thread since the process started.
    pub cpu_time: Duration,
    /// Resident set size in bytes.
    pub resident_bytes: u64,
    /// The CPUs of the affinity mask, busy or not, whoever used them;
    /// `None` when `/proc/stat` or the mask cannot be read.
    pub cores: Option<CoreTicks>,
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

/// Time a set of CPUs spent busy and in all, in clock ticks, summed over
/// the CPUs (only differences between two readings mean anything).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreTicks {
    /// user + nice + system + irq + softirq + steal: time the CPUs could not
    /// run anything else (steal is time the hypervisor took the CPU away).
    pub busy: u64,
    /// busy + idle + iowait.
    pub total: u64,
}

/// `/proc/stat` could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProcStatError {
    #[error("/proc/stat line {line}: expected at least 8 numbers after {cpu:?}")]
    ShortLine { line: usize, cpu: String },
    #[error("/proc/stat line {line}: {field:?} is not a number")]
    NotANumber { line: usize, field: String },
    #[error("/proc/stat has no line for cpu{0}")]
    MissingCpu(usize),
}

/// The busy and total ticks of `cpus` from the text of `/proc/stat`
/// (`cpuN user nice system idle iowait irq softirq steal guest guest_nice`;
/// guest time is already inside user, so it is not added; proc(5)).
pub fn parse_proc_stat_cores(text: &str, cpus: &[usize]) -> Result<CoreTicks, ProcStatError> {
    let mut ticks = CoreTicks::default();
    let mut found = vec![false; cpus.len()];
    for (index, line) in text.lines().enumerate() {
        let mut fields = line.split_ascii_whitespace();
        let Some(name) = fields.next() else { continue };
        let Some(cpu) = name
            .strip_prefix("cpu")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let Some(slot) = cpus.iter().position(|c| *c == cpu) else {
            continue;
        };
        let numbers = fields
            .take(8)
            .map(|f| {
                f.parse::<u64>().map_err(|_| ProcStatError::NotANumber {
                    line: index + 1,
                    field: f.to_string(),
                })
            })
            .collect::<Result<Vec<u64>, _>>()?;
        let [user, nice, system, idle, iowait, irq, softirq, steal] = numbers[..] else {
            return Err(ProcStatError::ShortLine {
                line: index + 1,
                cpu: name.to_string(),
            });
        };
        let busy = user + nice + system + irq + softirq + steal;
        ticks.busy += busy;
        ticks.total += busy + idle + iowait;
        found[slot] = true;
    }
    match found.iter().position(|f| !f) {
        Some(missing) => Err(ProcStatError::MissingCpu(cpus[missing])),
        None => Ok(ticks),
    }
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
    let cores = affinity_cpus().and_then(|cpus| {
        let text = std::fs::read_to_string("/proc/stat").ok()?;
        parse_proc_stat_cores(&text, &cpus).ok()
    });
    Some(ProcessUsage {
        cpu_time: Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime)),
        resident_bytes,
        cores,
    })
}

/// The CPU numbers of this process's affinity mask (`taskset -c 0` gives `[0]`).
#[cfg(target_os = "linux")]
fn affinity_cpus() -> Option<Vec<usize>> {
    // SAFETY: sched_getaffinity writes at most `size_of::<cpu_set_t>()`
    // bytes into the zeroed set; CPU_ISSET reads it within bounds.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|cpu| libc::CPU_ISSET(*cpu, &set))
            .collect();
        (!cpus.is_empty()).then_some(cpus)
    }
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

    /// The start of a real /proc/stat of a two-CPU machine.
    const PROC_STAT: &str = "\
cpu  130180 0 19523 34093 2294 0 425 100 0 0
cpu0 65197 0 9523 17117 1217 0 221 49 0 0
cpu1 64982 3 9999 16975 1077 7 203 50 12 0
intr 1234 0 0
ctxt 99
";

    #[test]
    fn proc_stat_sums_the_affinity_cpus_only() {
        let cpu0 = CoreTicks {
            busy: 65197 + 9523 + 221 + 49,
            total: 65197 + 9523 + 221 + 49 + 17117 + 1217,
        };
        assert_eq!(parse_proc_stat_cores(PROC_STAT, &[0]), Ok(cpu0));
        // Guest time (12) is inside user already and is not added again.
        let cpu1 = CoreTicks {
            busy: 64982 + 3 + 9999 + 7 + 203 + 50,
            total: 64982 + 3 + 9999 + 7 + 203 + 50 + 16975 + 1077,
        };
        assert_eq!(parse_proc_stat_cores(PROC_STAT, &[1]), Ok(cpu1));
        assert_eq!(
            parse_proc_stat_cores(PROC_STAT, &[0, 1]),
            Ok(CoreTicks {
                busy: cpu0.busy + cpu1.busy,
                total: cpu0.total + cpu1.total
            })
        );
    }

    #[test]
    fn proc_stat_errors_name_the_line() {
        assert_eq!(
            parse_proc_stat_cores(PROC_STAT, &[2]),
            Err(ProcStatError::MissingCpu(2))
        );
        let short = "cpu0 1 2 3 4 5\n";
        assert_eq!(
            parse_proc_stat_cores(short, &[0]).unwrap_err().to_string(),
            "/proc/stat line 1: expected at least 8 numbers after \"cpu0\""
        );
        let bad = "cpu  1 1 1 1 1 1 1 1\ncpu0 1 2 x 4 5 6 7 8\n";
        assert_eq!(
            parse_proc_stat_cores(bad, &[0]).unwrap_err().to_string(),
            "/proc/stat line 2: \"x\" is not a number"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_reads_plausible_usage() {
        let before = read_process_usage().expect("Linux has /proc/self/statm and getrusage");
        // Burn a little CPU so the second reading must be later.
        let spin = std::time::Instant::now();
        let mut x = 0u64;
        while spin.elapsed() < Duration::from_millis(50) {
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
        let cores = after.cores.expect("/proc/stat has the affinity CPUs");
        let before_cores = before.cores.unwrap();
        // Spinning 50 ms on one of these CPUs made them busier.
        assert!(cores.busy > before_cores.busy, "{before_cores:?} {cores:?}");
        assert!(cores.busy <= cores.total, "{cores:?}");
    }
}
