//! One recording thread's accumulators: what it measured since the last
//! flush, per series. Only the owning thread and (once per flush) the
//! aggregator touch a shard, so its lock is almost never contended.
//!
//! Series live in *slots*: a slot number is given to a series the first time
//! this thread records it and stays valid for the shard's life, so the hot
//! path is one hash lookup on small integer keys plus a `Vec` index. The
//! aggregator swaps the whole [`Accumulators`] out for a drained one of the
//! same shape, so after a series' first sample recording allocates nothing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use super::histogram::{duration_parts, new_histogram};
use super::metric::{MetricId, MetricKind, MetricRegistry, builtin};
use super::recorder::HttpSample;
use super::snapshot::{RawSample, RawValue};
use super::tags::{TagInterner, TagSetId};

/// rustc's FxHash. The keys here are a few small integers: SipHash's
/// resistance to hash flooding buys nothing and would cost most of the
/// hot path.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The trend metrics of one HTTP exchange, in [`HttpAcc::trends`] order.
pub(crate) const HTTP_TRENDS: [MetricId; 7] = [
    builtin::HTTP_REQ_DURATION,
    builtin::HTTP_REQ_BLOCKED,
    builtin::HTTP_REQ_CONNECTING,
    builtin::HTTP_REQ_TLS_HANDSHAKING,
    builtin::HTTP_REQ_SENDING,
    builtin::HTTP_REQ_WAITING,
    builtin::HTTP_REQ_RECEIVING,
];

/// Identifies an HTTP series on the hot path without building its tag set.
/// The `&'static str` tags are keyed by address: equal text at two
/// addresses only makes two slots that resolve to the same interned tag set,
/// which the aggregator merges.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct HttpKey {
    tags: TagSetId,
    status: u16,
    expected: bool,
    error_code: Option<(usize, usize)>,
    proto: Option<(usize, usize)>,
}

fn str_addr(s: Option<&'static str>) -> Option<(usize, usize)> {
    s.map(|s| (s.as_ptr() as usize, s.len()))
}

impl HttpKey {
    fn of(sample: &HttpSample) -> Self {
        HttpKey {
            tags: sample.tags,
            status: sample.status,
            expected: sample.expected,
            error_code: str_addr(sample.error_code),
            proto: str_addr(sample.proto),
        }
    }
}

/// A distribution gathered between two flushes. Zero values (a reused
/// connection's `connecting`, for instance) are only counted, so a trend
/// that never sees anything else never allocates a histogram.
#[derive(Default)]
pub(crate) struct TrendAcc {
    pub hist: Option<Box<Histogram<u64>>>,
    pub zeros: u64,
    pub count: u64,
    /// Exact sum, min and max in display units.
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl TrendAcc {
    #[inline]
    pub fn record(&mut self, display: f64, micros: u64) {
        if micros == 0 {
            self.zeros += 1;
        } else {
            let h = self.hist.get_or_insert_with(|| Box::new(new_histogram()));
            // Auto-resizing and `micros <= MAX_MICROS`: recording cannot fail.
            let _ = h.record(micros);
        }
        if self.count == 0 {
            self.min = display;
            self.max = display;
        } else {
            self.min = self.min.min(display);
            self.max = self.max.max(display);
        }
        self.count += 1;
        self.sum += display;
    }

    /// Empties the accumulator after the aggregator has read it. The
    /// histogram's memory is kept for a series that is active and released
    /// for one that was idle for a whole interval.
    pub fn reset(&mut self) {
        if self.count == 0 {
            self.hist = None;
        } else if let Some(h) = self.hist.as_mut() {
            h.reset();
        }
        self.zeros = 0;
        self.count = 0;
        self.sum = 0.0;
        self.min = 0.0;
        self.max = 0.0;
    }
}

/// Everything one HTTP series (request tags + status, expected_response,
/// error_code, proto) gathered: one exchange feeds eleven metrics.
pub(crate) struct HttpAcc {
    /// The expanded, interned tag set of every metric of this series.
    pub tags: TagSetId,
    pub reqs: u64,
    pub failed: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub trends: [TrendAcc; 7],
}

impl HttpAcc {
    fn new(tags: TagSetId) -> Self {
        HttpAcc {
            tags,
            reqs: 0,
            failed: 0,
            bytes_sent: 0,
            bytes_received: 0,
            trends: Default::default(),
        }
    }

    #[inline]
    fn record(&mut self, sample: &HttpSample) {
        self.reqs += 1;
        self.failed += u64::from(!sample.expected);
        self.bytes_sent += sample.bytes_sent;
        self.bytes_received += sample.bytes_received;
        let t = &sample.timings;
        let phases = [
            t.duration,
            t.blocked,
            t.connecting,
            t.tls_handshaking,
            t.sending,
            t.waiting,
            t.receiving,
        ];
        for (acc, phase) in self.trends.iter_mut().zip(phases) {
            let (ms, micros) = duration_parts(phase);
            acc.record(ms, micros);
        }
    }

    pub fn reset(&mut self) {
        self.reqs = 0;
        self.failed = 0;
        self.bytes_sent = 0;
        self.bytes_received = 0;
        for t in &mut self.trends {
            t.reset();
        }
    }
}

/// A non-HTTP series' value between two flushes.
pub(crate) enum AccValue {
    Counter {
        sum: f64,
        samples: u64,
    },
    /// `seq` orders gauge sets across threads so the aggregator knows which is last.
    Gauge {
        last: f64,
        min: f64,
        max: f64,
        seq: u64,
        samples: u64,
    },
    Rate {
        trues: u64,
        total: u64,
    },
    Trend(TrendAcc),
}

impl AccValue {
    fn new(kind: MetricKind) -> Self {
        match kind {
            MetricKind::Counter => AccValue::Counter {
                sum: 0.0,
                samples: 0,
            },
            MetricKind::Gauge => AccValue::Gauge {
                last: 0.0,
                min: 0.0,
                max: 0.0,
                seq: 0,
                samples: 0,
            },
            MetricKind::Rate => AccValue::Rate { trues: 0, total: 0 },
            MetricKind::Trend => AccValue::Trend(TrendAcc::default()),
        }
    }

    pub fn has_samples(&self) -> bool {
        match self {
            AccValue::Counter { samples, .. } | AccValue::Gauge { samples, .. } => *samples > 0,
            AccValue::Rate { total, .. } => *total > 0,
            AccValue::Trend(t) => t.count > 0,
        }
    }

    pub fn reset(&mut self) {
        match self {
            AccValue::Trend(t) => t.reset(),
            AccValue::Counter { sum, samples } => {
                *sum = 0.0;
                *samples = 0;
            }
            AccValue::Gauge { samples, .. } => *samples = 0,
            AccValue::Rate { trues, total } => {
                *trues = 0;
                *total = 0;
            }
        }
    }
}

pub(crate) struct SeriesAcc {
    pub metric: MetricId,
    pub tags: TagSetId,
    pub value: AccValue,
}

/// The part of a shard the aggregator swaps out on each flush. Index `i` of
/// each vector is the shard's slot `i` (shorter vectors grow on demand).
#[derive(Default)]
pub(crate) struct Accumulators {
    pub http: Vec<HttpAcc>,
    pub series: Vec<SeriesAcc>,
    /// Every sample, when the recorder keeps raw samples.
    pub raw: Vec<RawSample>,
}

/// A slot that refuses samples: the metric is unknown or recorded with the
/// wrong operation (e.g. `add` on a trend). Warned about once per shard.
const REJECTED: u32 = u32::MAX;

#[derive(Default)]
pub(crate) struct Shard {
    http_slots: FastMap<HttpKey, u32>,
    http_tags: Vec<TagSetId>,
    series_slots: FastMap<(MetricId, TagSetId), u32>,
    series_keys: Vec<(MetricId, TagSetId, MetricKind)>,
    pub acc: Accumulators,
    /// Wall clock of raw samples: the shard's first raw sample reads the
    /// system clock once; later ones add the monotonic time since, so
    /// timestamps never go backwards within a thread.
    clock: Option<(Instant, u64)>,
}

impl Shard {
    /// Keeps one raw sample, stamped with the wall-clock time in ns since the epoch.
    #[inline]
    pub fn keep_raw(&mut self, value: RawValue) {
        let (base, base_ns) = *self.clock.get_or_insert_with(|| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            (Instant::now(), now)
        });
        let time_ns = base_ns + base.elapsed().as_nanos() as u64;
        self.acc.raw.push(RawSample { time_ns, value });
    }

    /// Records one HTTP exchange on its series, creating the series (and
    /// interning its expanded tag set) the first time. Returns the expanded
    /// tag set (request tags plus status, expected_response, ...).
    #[inline]
    pub fn record_http(&mut self, sample: &HttpSample, interner: &TagInterner) -> TagSetId {
        let key = HttpKey::of(sample);
        let slot = match self.http_slots.get(&key) {
            Some(slot) => *slot as usize,
            None => self.new_http_slot(key, sample, interner),
        };
        while self.acc.http.len() <= slot {
            let tags = self.http_tags[self.acc.http.len()];
            self.acc.http.push(HttpAcc::new(tags));
        }
        let acc = &mut self.acc.http[slot];
        acc.record(sample);
        acc.tags
    }

    #[cold]
    fn new_http_slot(
        &mut self,
        key: HttpKey,
        sample: &HttpSample,
        interner: &TagInterner,
    ) -> usize {
        let base = interner.resolve(sample.tags);
        let mut extra = vec![
            ("status", sample.status.to_string()),
            ("expected_response", sample.expected.to_string()),
        ];
        if let Some(code) = sample.error_code {
            extra.push(("error_code", code.to_string()));
        }
        if let Some(proto) = sample.proto {
            extra.push(("proto", proto.to_string()));
        }
        let tags = interner.intern(base.with(extra));
        let slot = self.http_tags.len();
        self.http_tags.push(tags);
        self.http_slots.insert(key, slot as u32);
        slot
    }

    /// The accumulator of a non-HTTP series, or `None` when samples for it
    /// must be ignored (unknown metric, or `op` is not the metric's kind).
    #[inline]
    pub fn series(
        &mut self,
        metric: MetricId,
        tags: TagSetId,
        op: MetricKind,
        registry: &MetricRegistry,
    ) -> Option<&mut AccValue> {
        let slot = match self.series_slots.get(&(metric, tags)) {
            Some(&REJECTED) => return None,
            Some(slot) => *slot as usize,
            None => self.new_series_slot(metric, tags, op, registry)?,
        };
        if self.series_keys[slot].2 != op {
            return None;
        }
        while self.acc.series.len() <= slot {
            let (metric, tags, kind) = self.series_keys[self.acc.series.len()];
            self.acc.series.push(SeriesAcc {
                metric,
                tags,
                value: AccValue::new(kind),
            });
        }
        Some(&mut self.acc.series[slot].value)
    }

    #[cold]
    fn new_series_slot(
        &mut self,
        metric: MetricId,
        tags: TagSetId,
        op: MetricKind,
        registry: &MetricRegistry,
    ) -> Option<usize> {
        let kind = if (metric.0 as usize) < registry.len() {
            Some(registry.get(metric).kind)
        } else {
            None
        };
        if kind != Some(op) {
            tracing::warn!(
                metric = metric.0,
                kind = ?kind,
                recorded_as = ?op,
                "samples ignored: metric unknown or recorded as another kind"
            );
            self.series_slots.insert((metric, tags), REJECTED);
            return None;
        }
        let slot = self.series_keys.len();
        self.series_keys.push((metric, tags, op));
        self.series_slots.insert((metric, tags), slot as u32);
        Some(slot)
    }
}
