//! The aggregator's view of one series: what arrived in the current
//! interval and everything since the start.

use std::sync::Arc;

use super::histogram::new_histogram;
use super::metric::{MetricId, MetricKind};
use super::shard::TrendAcc;
use super::snapshot::{SeriesValue, TrendValue};
use super::tags::TagSet;

pub(crate) struct SeriesState {
    pub metric: MetricId,
    pub tags: TagSet,
    pub interval: SeriesValue,
    pub total: SeriesValue,
    /// Received samples in the interval being collected.
    pub in_interval: bool,
    /// `total` holds at least one sample.
    pub has_total: bool,
    /// Gauges: sequence number of `interval`'s and `total`'s `last`.
    pub interval_seq: u64,
    pub total_seq: u64,
}

impl SeriesState {
    pub fn new(metric: MetricId, kind: MetricKind, tags: TagSet) -> Self {
        SeriesState {
            metric,
            tags,
            interval: SeriesValue::empty(kind),
            total: SeriesValue::empty(kind),
            in_interval: false,
            has_total: false,
            interval_seq: 0,
            total_seq: 0,
        }
    }

    /// Starts collecting a new interval if this is the series' first sample
    /// in it; returns true then. The interval histogram is reused when no
    /// snapshot holds it any more, otherwise replaced.
    pub fn begin(&mut self) -> bool {
        if self.in_interval {
            return false;
        }
        self.in_interval = true;
        match &mut self.interval {
            SeriesValue::Counter { sum } => *sum = 0.0,
            SeriesValue::Rate { trues, total } => (*trues, *total) = (0, 0),
            SeriesValue::Gauge { .. } => self.interval_seq = 0,
            SeriesValue::Trend(t) => {
                match Arc::get_mut(&mut t.histogram) {
                    Some(h) => h.reset(),
                    None => t.histogram = Arc::new(new_histogram()),
                }
                t.count = 0;
                t.sum = 0.0;
                t.min = 0.0;
                t.max = 0.0;
            }
        }
        true
    }

    pub fn absorb_counter(&mut self, add: f64) {
        if let SeriesValue::Counter { sum } = &mut self.interval {
            *sum += add;
        }
    }

    pub fn absorb_rate(&mut self, add_trues: u64, add_total: u64) {
        if let SeriesValue::Rate { trues, total } = &mut self.interval {
            *trues += add_trues;
            *total += add_total;
        }
    }

    pub fn absorb_gauge(&mut self, value: (f64, f64, f64), seq: u64) {
        let (v_last, v_min, v_max) = value;
        if let SeriesValue::Gauge { last, min, max } = &mut self.interval {
            if self.interval_seq == 0 {
                (*last, *min, *max) = (v_last, v_min, v_max);
                self.interval_seq = seq;
            } else {
                *min = min.min(v_min);
                *max = max.max(v_max);
                if seq > self.interval_seq {
                    *last = v_last;
                    self.interval_seq = seq;
                }
            }
        }
    }

    pub fn absorb_trend(&mut self, src: &TrendAcc) {
        let SeriesValue::Trend(dst) = &mut self.interval else {
            return;
        };
        if src.count == 0 {
            return;
        }
        // Unique after `begin`, so this does not copy.
        let h = Arc::make_mut(&mut dst.histogram);
        if let Some(shard_hist) = &src.hist {
            // Auto-resizing on both sides: adding cannot run out of range.
            let _ = h.add(&**shard_hist);
        }
        if src.zeros > 0 {
            let _ = h.record_n(0, src.zeros);
        }
        merge_exact(dst, src.count, src.sum, src.min, src.max);
    }

    /// Adds the finished interval into the cumulative value.
    pub fn close_interval(&mut self) {
        self.in_interval = false;
        if self.has_total {
            self.total.merge(&self.interval);
        } else {
            // Merge rather than clone for trends: the total must own its
            // histogram, not share the interval's.
            match (&mut self.total, &self.interval) {
                (SeriesValue::Trend(t), SeriesValue::Trend(i)) => t.merge(i),
                (total, interval) => *total = interval.clone(),
            }
            self.has_total = true;
        }
        self.total_seq = self.total_seq.max(self.interval_seq);
    }

    /// A gauge that got nothing this interval still reports its current
    /// value: last = min = max = the cumulative last.
    pub fn idle_gauge_interval(&self) -> SeriesValue {
        match &self.total {
            SeriesValue::Gauge { last, .. } => SeriesValue::Gauge {
                last: *last,
                min: *last,
                max: *last,
            },
            other => other.clone(),
        }
    }
}

fn merge_exact(dst: &mut TrendValue, count: u64, sum: f64, min: f64, max: f64) {
    if dst.count == 0 {
        dst.min = min;
        dst.max = max;
    } else {
        dst.min = dst.min.min(min);
        dst.max = dst.max.max(max);
    }
    dst.count += count;
    dst.sum += sum;
}

/// Merges the cumulative values of several series of one metric. For
/// gauges, `last` comes from the series set most recently.
pub(crate) fn merge_totals<'a>(
    states: impl IntoIterator<Item = &'a SeriesState>,
) -> Option<SeriesValue> {
    let mut out: Option<(SeriesValue, u64)> = None;
    for st in states.into_iter().filter(|s| s.has_total) {
        match &mut out {
            None => out = Some((st.total.clone(), st.total_seq)),
            Some((value, seq)) => {
                let previous_last = match value {
                    SeriesValue::Gauge { last, .. } => *last,
                    _ => 0.0,
                };
                value.merge(&st.total);
                if st.total_seq >= *seq {
                    *seq = st.total_seq;
                } else if let SeriesValue::Gauge { last, .. } = value {
                    *last = previous_last;
                }
            }
        }
    }
    out.map(|(value, _)| value)
}
