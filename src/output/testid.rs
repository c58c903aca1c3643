//! The run's `testid` label: given with `--testid`, or generated from the
//! UTC start time plus a short random suffix (`20261123-141502-a3f9`), so
//! runs sort by time in Grafana's label picker and two runs started in the
//! same second still differ.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::util::civil_date::civil_from_days;

/// A new test id for a run starting at `now`.
pub fn generate_testid(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rest = secs % 86_400;
    let suffix: u16 = rand::random();
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}-{suffix:04x}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Why a `--testid` is refused: it becomes a label value everywhere, and a
/// file-name-like token is what users copy between tools.
pub fn check_testid(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 128 {
        return Err("must be 1 to 128 characters".into());
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
    {
        return Err(format!(
            "{id:?} may contain only letters, digits, '-', '_', '.' and ':'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn generated_id_is_utc_time_and_four_hex_digits() {
        // 2026-11-23 14:15:02 UTC
        let t = UNIX_EPOCH + Duration::from_secs(1_795_443_302);
        let id = generate_testid(t);
        assert_eq!(&id[..16], "20261123-141502-", "{id}");
        assert_eq!(id.len(), 20);
        assert!(id[16..].chars().all(|c| c.is_ascii_hexdigit()));
        assert!(check_testid(&id).is_ok());
    }

    #[test]
    fn calendar_edges() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn bad_ids_are_refused() {
        assert!(check_testid("").is_err());
        assert!(check_testid("a b").is_err());
        assert!(check_testid("nightly-42.v2").is_ok());
    }
}
