//! Is a difference between two runs more than their own variability
//! explains? Two tests, both two-sided, both with the normal approximation
//! (documented in docs/reports.md):
//!
//! - latency: Mann-Whitney U on the per-interval percentiles of the two
//!   timelines. Each interval's p95 is one observation of how the system
//!   behaved; a run whose intervals all sit above the other's is a shift,
//!   one slow interval is not. Rank-based, so a single outlier interval
//!   weighs no more than any other.
//! - error rate: the two-proportion z-test on failed / total requests.

/// Fewest intervals per run for a rank test to say anything.
pub const MIN_INTERVALS: usize = 4;

/// Two-sided p-value of Mann-Whitney U for samples `a` and `b` (average
/// ranks for ties, tie-corrected variance, continuity correction); `None`
/// when either has fewer than `MIN_INTERVALS` values.
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> Option<f64> {
    let (n1, n2) = (a.len(), b.len());
    if n1 < MIN_INTERVALS || n2 < MIN_INTERVALS {
        return None;
    }
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|v| (*v, true))
        .chain(b.iter().map(|v| (*v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let mut rank_sum_a = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1..=j+1 share their average.
        let rank = (i + j + 2) as f64 / 2.0;
        let ties = (j - i + 1) as f64;
        tie_term += ties * ties * ties - ties;
        rank_sum_a += rank * all[i..=j].iter().filter(|(_, from_a)| *from_a).count() as f64;
        i = j + 1;
    }
    let (n1f, n2f, nf) = (n1 as f64, n2 as f64, n as f64);
    let u = rank_sum_a - n1f * (n1f + 1.0) / 2.0;
    let mean = n1f * n2f / 2.0;
    let variance = n1f * n2f / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if variance <= 0.0 {
        return Some(1.0);
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / variance.sqrt();
    Some(two_sided_p(z))
}

/// Two-sided p-value that failure shares `x1/n1` and `x2/n2` differ;
/// `None` when either run made no request.
pub fn two_proportion_p(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1 + n2) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 as f64 + 1.0 / n2 as f64)).sqrt();
    if se == 0.0 {
        return Some(if p1 == p2 { 1.0 } else { 0.0 });
    }
    Some(two_sided_p((p2 - p1).abs() / se))
}

/// P(|Z| >= z) for a standard normal Z.
fn two_sided_p(z: f64) -> f64 {
    erfc(z / std::f64::consts::SQRT_2).clamp(0.0, 1.0)
}

/// The complementary error function for x >= 0 (Abramowitz and Stegun
/// 7.1.26, absolute error below 1.5e-7: ample for a 0.05 cut).
fn erfc(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    poly * (-x * x).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(p: f64) -> f64 {
        (p * 10_000.0).round() / 10_000.0
    }

    #[test]
    fn separated_samples_differ_and_interleaved_ones_do_not() {
        // Every value of b above every value of a: U = 0, z = (18 - 0.5) / sqrt(39).
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
        assert_eq!(round(mann_whitney_p(&a, &b).unwrap()), 0.0051);
        let c = [1.5, 2.5, 3.5, 4.5, 5.5, 6.5];
        assert_eq!(round(mann_whitney_p(&a, &c).unwrap()), 0.6889);
        assert_eq!(mann_whitney_p(&a[..3], &b), None);
        // All tied: no evidence of a difference.
        assert_eq!(mann_whitney_p(&[2.0; 5], &[2.0; 5]), Some(1.0));
    }

    #[test]
    fn failure_shares_differ_only_beyond_binomial_noise() {
        // 50 % vs 55 % of 120: z = 0.775.
        assert_eq!(round(two_proportion_p(60, 120, 66, 120).unwrap()), 0.438);
        // 1 % vs 5 % of 10,000: far beyond noise.
        assert!(two_proportion_p(100, 10_000, 500, 10_000).unwrap() < 1e-6);
        assert_eq!(two_proportion_p(0, 100, 0, 100), Some(1.0));
        assert_eq!(two_proportion_p(0, 0, 1, 10), None);
    }
}
