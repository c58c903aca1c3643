//! The remote-write encoder with arbitrary tags and histograms: the bodies
//! decode to exactly the series that were encoded, labels sorted and
//! unique, every value one of the input's, no NaN but the stale marker,
//! and each native histogram's buckets add up to its count.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use stampede::metrics::{
    MetricRegistry, SeriesPoint, SeriesValue, Snapshot, TagSet, TrendValue, builtin, new_histogram,
};
use stampede::output::prometheus_rw::RemoteWriteOptions;
use stampede::output::prometheus_rw::encoder::{RemoteWriteEncoder, into_payloads};
use stampede::output::prometheus_rw::naming::label_name;
use stampede::output::prometheus_rw::proto::{
    Histogram, STALE_NAN_BITS, TimeSeries, decode_request, histogram,
};

use super::config;

const TS: i64 = 1_700_000_000_000;

fn trend(values_us: &[u64]) -> TrendValue {
    let mut h = new_histogram();
    let mut sum = 0.0;
    for &us in values_us {
        h.saturating_record(us);
        sum += us as f64 / 1000.0;
    }
    let ms = |v: Option<&u64>| v.map_or(0.0, |&us| us as f64 / 1000.0);
    TrendValue {
        histogram: Arc::new(h),
        count: values_us.len() as u64,
        sum,
        min: ms(values_us.iter().min()),
        max: ms(values_us.iter().max()),
    }
}

fn snapshot(tags: &TagSet, reqs: f64, durations: &[u64], failed: (u64, u64)) -> Snapshot {
    let (trues, total) = (failed.0.min(failed.1), failed.1);
    let point = |metric, value: SeriesValue| SeriesPoint {
        metric,
        tags: tags.clone(),
        interval: value.clone(),
        total: value,
    };
    Snapshot {
        time: SystemTime::UNIX_EPOCH + Duration::from_millis(TS as u64),
        elapsed: Duration::from_secs(1),
        interval: Duration::from_secs(1),
        series: vec![
            point(builtin::HTTP_REQS, SeriesValue::Counter { sum: reqs }),
            point(
                builtin::HTTP_REQ_DURATION,
                SeriesValue::Trend(trend(durations)),
            ),
            point(builtin::HTTP_REQ_FAILED, SeriesValue::Rate { trues, total }),
        ],
        samples: None,
        thresholds: Vec::new(),
    }
}

/// Encodes, decodes every payload and returns (encoded, decoded).
fn round_trip(series: Vec<TimeSeries>, batch: usize) -> (Vec<TimeSeries>, Vec<TimeSeries>) {
    let encoded = series.clone();
    let (payloads, unencodable) = into_payloads(series, batch);
    assert_eq!(unencodable, 0);
    let decoded = payloads
        .iter()
        .flat_map(|p| decode_request(&p.body).expect("a body decodes").timeseries)
        .collect();
    (encoded, decoded)
}

fn check_histogram(h: &Histogram) -> Result<(), TestCaseError> {
    prop_assert!((-4..=8).contains(&h.schema));
    // A stale histogram carries the stale NaN as its sum.
    prop_assert!(h.sum.to_bits() == STALE_NAN_BITS || (h.sum.is_finite() && h.sum >= 0.0));
    let Some(histogram::Count::CountInt(count)) = h.count else {
        return Err(TestCaseError::fail("no integer count"));
    };
    let zero = match h.zero_count {
        Some(histogram::ZeroCount::ZeroCountInt(z)) => z,
        _ => 0,
    };
    let buckets: u32 = h.positive_spans.iter().map(|s| s.length).sum();
    prop_assert_eq!(buckets as usize, h.positive_deltas.len());
    let (mut bucket, mut total) = (0i64, zero);
    for delta in &h.positive_deltas {
        bucket += delta;
        prop_assert!(bucket >= 0, "a negative bucket count");
        total += bucket as u64;
    }
    prop_assert_eq!(total, count);
    Ok(())
}

proptest! {
    #![proptest_config(config("remote_write"))]

    #[test]
    fn bodies_decode_to_the_encoded_series_with_sorted_labels(
        tags in proptest::collection::vec(("[a-zA-Z_.:-]{0,6}", "\\PC{0,8}|[\0-\u{7f}]{0,4}"), 0..6),
        // The recorder refuses non-finite values; a sum can still overflow.
        reqs in prop_oneof![0.0f64..1.0e12, Just(f64::MAX), Just(f64::INFINITY)],
        durations in proptest::collection::vec(
            prop_oneof![0u64..2_000, 0u64..60_000_000, Just(u64::MAX / 4)], 0..40),
        failed in (0u64..1000, 0u64..1000),
        batch in 1usize..8,
    ) {
        let input = TagSet::new(tags);
        let registry = Arc::new(MetricRegistry::with_builtins());
        let mut encoder =
            RemoteWriteEncoder::new(RemoteWriteOptions::default(), registry, "t-1".into());
        encoder.observe(&snapshot(&input, reqs, &durations, failed));
        let mut series = encoder.series_at(TS);
        series.extend(encoder.stale_markers(TS + 1000));
        let (encoded, decoded) = round_trip(series, batch);
        // NaN is not equal to itself; Debug text compares the stale marker too.
        prop_assert_eq!(format!("{decoded:?}"), format!("{encoded:?}"));
        prop_assert!(!decoded.is_empty());
        for s in &decoded {
            for pair in s.labels.windows(2) {
                prop_assert!(pair[0].name < pair[1].name, "labels unsorted or repeated: {:?}", s.labels);
            }
            for label in &s.labels {
                prop_assert!(!label.value.is_empty(), "empty label {}", label.name);
                let from_tags = input
                    .iter()
                    .any(|(k, v)| label_name(k) == label.name && v == label.value);
                let own = matches!(label.name.as_str(), "__name__" | "job" | "testid");
                prop_assert!(from_tags || own, "label {:?} from nowhere", label);
            }
            for sample in &s.samples {
                prop_assert!(
                    !sample.value.is_nan() || sample.value.to_bits() == STALE_NAN_BITS,
                    "a NaN that is not the stale marker in {:?}", s.labels
                );
            }
            for h in &s.histograms {
                check_histogram(h)?;
            }
        }
    }
}
