//! What a summary export says about the run that wrote it (its `run`
//! section): which test, which segment of it, and how its start went. This
//! is what lets `stampede merge` refuse summaries that do not add up to one
//! test, rather than silently add unrelated numbers.

use serde::{Deserialize, Serialize};

/// The `run` section of a summary export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunIdentity {
    /// The stampede version that ran the test; instances of one test run
    /// the same version, or their plans may differ in ways no digest sees.
    pub stampede_version: String,
    /// A digest of what shapes the plan (the scenario file's bytes and the
    /// plan options, `--segment` excepted), see [`plan_digest`]: equal for
    /// every instance of one test, different for another test.
    pub plan: String,
    /// `--testid` when given: instances of one run share it.
    pub testid: Option<String>,
    /// The `instance` tag of this run (for a merged summary: `merged`).
    pub instance: String,
    /// `i/n` with `--segment`; `None` is the whole test.
    pub segment: Option<String>,
    /// `--start-at` as given (RFC 3339), when the start was synchronised.
    pub start_at: Option<String>,
    /// How long after `--start-at` the schedule really started, in ms.
    pub start_lag_ms: Option<f64>,
    /// The start lagged more than `util::start_at::LATE_START_TOLERANCE`: this
    /// instance's share of the profile ran shifted by that much.
    #[serde(default)]
    pub late: bool,
    /// In a merged summary: the instances it was made from, in segment order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<RunIdentity>,
}

/// `i/n` (1-based) to (index, count) with 1 <= index <= count.
pub fn parse_segment(text: &str) -> Option<(u64, u64)> {
    let (i, n) = text.split_once('/')?;
    let (i, n) = (i.parse::<u64>().ok()?, n.parse::<u64>().ok()?);
    (i >= 1 && i <= n).then_some((i, n))
}

/// FNV-1a (64 bit) of `parts`, each length-prefixed so that moving bytes
/// from one part to the next changes the digest. Not a security measure:
/// it tells apart summaries of different tests, which needs a stable hash
/// (std's `DefaultHasher` may change between Rust releases), not a secret one.
pub fn plan_digest(parts: &[&[u8]]) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for part in parts {
        feed(&(part.len() as u64).to_le_bytes());
        feed(part);
    }
    format!("fnv1a64:{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_stable_and_separate_parts() {
        assert_eq!(plan_digest(&[]), "fnv1a64:cbf29ce484222325");
        assert_eq!(plan_digest(&[b"ab", b"c"]), plan_digest(&[b"ab", b"c"]));
        assert_ne!(plan_digest(&[b"ab", b"c"]), plan_digest(&[b"a", b"bc"]));
    }

    #[test]
    fn segments_are_one_based() {
        assert_eq!(parse_segment("1/4"), Some((1, 4)));
        assert_eq!(parse_segment("4/4"), Some((4, 4)));
        assert_eq!(parse_segment("0/4"), None);
        assert_eq!(parse_segment("5/4"), None);
        assert_eq!(parse_segment("2"), None);
    }
}
