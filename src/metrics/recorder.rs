//! The hot path: VUs record every measurement here.
//!
//! Each OS thread that records gets its own [`Shard`] (found through a
//! thread-local, registered once with the recorder), so recording is a
//! thread-local lookup, an uncontended lock and a hash lookup — no channel
//! message and no allocation per request. The aggregator collects the
//! shards' contents once per flush interval.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::histogram::display_to_micros;
use super::metric::{MetricId, MetricKind, MetricRegistry};
use super::shard::{AccValue, Shard};
use super::snapshot::RawValue;
use super::tags::{TagInterner, TagSetId};
use crate::protocol::http::Timings;

/// One HTTP exchange as the recorder needs it.
#[derive(Clone, Copy, Debug)]
pub struct HttpSample {
    /// The request's static tag set (scenario, name, method, group, user tags),
    /// interned in [`TagInterner::global`].
    pub tags: TagSetId,
    /// 0 when no response arrived.
    pub status: u16,
    /// Whether the response was expected; `http_req_failed` counts the others.
    pub expected: bool,
    /// Becomes the `error_code` tag when set.
    pub error_code: Option<&'static str>,
    /// Becomes the `proto` tag when set.
    pub proto: Option<&'static str>,
    pub timings: Timings,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// Where VUs record. Cheap to clone (one `Arc`); `Send + Sync`.
#[derive(Clone)]
pub struct Recorder {
    pub(crate) inner: Arc<RecorderInner>,
}

pub(crate) struct RecorderInner {
    /// Tells this recorder's shards apart from other recorders' in the same
    /// thread-local (tests run several recorders in one process).
    id: u64,
    pub(crate) registry: Arc<MetricRegistry>,
    /// Every shard ever created for this recorder, in creation order. A
    /// shard outlives its thread so nothing recorded is lost when a thread exits.
    pub(crate) shards: Mutex<Vec<Arc<Mutex<Shard>>>>,
    /// Used when the thread-local is unavailable (a thread being torn down).
    fallback: Arc<Mutex<Shard>>,
    /// Orders gauge sets across threads: the highest sequence is the last value.
    gauge_seq: AtomicU64,
    /// Keeps every sample too, for outputs that write them one by one.
    pub(crate) tap: Option<SampleTap>,
}

/// Most raw samples kept per interval, over all threads, when an output
/// wants them: 144 bytes each, so about 290 MB at worst (twice that while
/// an interval is handed over); beyond it samples are only counted.
pub const DEFAULT_RAW_SAMPLE_LIMIT: u64 = 2_000_000;

/// The budget of raw samples of the interval being recorded. One atomic
/// counter for all shards keeps the limit exact.
pub(crate) struct SampleTap {
    limit: u64,
    used: AtomicU64,
    dropped: AtomicU64,
}

impl SampleTap {
    /// Whether one more sample fits in this interval; counts it as dropped if not.
    #[inline]
    fn admit(&self) -> bool {
        if self.used.fetch_add(1, Ordering::Relaxed) < self.limit {
            true
        } else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            false
        }
    }

    /// Starts the next interval's budget; returns the samples dropped in this one.
    pub(crate) fn next_interval(&self) -> u64 {
        self.used.store(0, Ordering::Relaxed);
        self.dropped.swap(0, Ordering::Relaxed)
    }
}

struct LocalShard {
    recorder_id: u64,
    owner: Weak<RecorderInner>,
    shard: Arc<Mutex<Shard>>,
}

thread_local! {
    static LOCAL_SHARDS: RefCell<Vec<LocalShard>> = const { RefCell::new(Vec::new()) };
}

static NEXT_RECORDER_ID: AtomicU64 = AtomicU64::new(1);

/// Locks a shard. A panic while holding the lock cannot leave a shard
/// half-updated in a way that matters for counting, so poisoning is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("id", &self.inner.id)
            .field("shards", &lock(&self.inner.shards).len())
            .finish()
    }
}

impl Recorder {
    pub fn new(registry: Arc<MetricRegistry>) -> Self {
        Self::build(registry, None)
    }

    /// A recorder that also keeps every sample as a [`RawSample`](super::RawSample)
    /// (at most `limit` per interval over all threads; the rest are counted
    /// as dropped), delivered in [`Snapshot::samples`](super::Snapshot).
    pub fn with_raw_samples(registry: Arc<MetricRegistry>, limit: u64) -> Self {
        Self::build(
            registry,
            Some(SampleTap {
                limit,
                used: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            }),
        )
    }

    fn build(registry: Arc<MetricRegistry>, tap: Option<SampleTap>) -> Self {
        let fallback = Arc::new(Mutex::new(Shard::default()));
        Recorder {
            inner: Arc::new(RecorderInner {
                id: NEXT_RECORDER_ID.fetch_add(1, Ordering::Relaxed),
                registry,
                shards: Mutex::new(vec![fallback.clone()]),
                fallback,
                gauge_seq: AtomicU64::new(0),
                tap,
            }),
        }
    }

    pub fn registry(&self) -> &Arc<MetricRegistry> {
        &self.inner.registry
    }

    /// Whether raw samples are kept ([`Recorder::with_raw_samples`]).
    pub fn keeps_raw_samples(&self) -> bool {
        self.inner.tap.is_some()
    }

    /// Records one HTTP exchange: `http_reqs` +1; the seven `http_req_*`
    /// timing trends; `http_req_failed` (true when not expected);
    /// `data_sent` and `data_received` — all on the request's tags plus
    /// `status`, `expected_response`, and `error_code` / `proto` when set.
    pub fn record_http(&self, sample: &HttpSample) {
        self.batch(|batch| batch.record_http(sample));
    }

    /// Adds to a counter. Non-finite values are ignored.
    pub fn add(&self, metric: MetricId, tags: TagSetId, value: f64) {
        self.batch(|batch| batch.add(metric, tags, value));
    }

    /// Sets a gauge. Non-finite values are ignored.
    pub fn gauge(&self, metric: MetricId, tags: TagSetId, value: f64) {
        self.batch(|batch| batch.gauge(metric, tags, value));
    }

    /// Adds one sample to a rate (a raw sample of 1 or 0).
    pub fn rate(&self, metric: MetricId, tags: TagSetId, hit: bool) {
        self.batch(|batch| batch.rate(metric, tags, hit));
    }

    /// Adds one sample to a trend, in display units (ms for time trends).
    /// Negative values count as 0; non-finite values are ignored.
    pub fn trend(&self, metric: MetricId, tags: TagSetId, value: f64) {
        self.batch(|batch| batch.trend(metric, tags, value));
    }

    /// Records several samples in one visit of this thread's shard: one
    /// thread-local lookup and one lock for all of them instead of one per
    /// sample (what one request with its checks, or one iteration, records).
    /// `f` should only record: the shard stays locked while it runs, and
    /// samples it records through the `Recorder` itself go to the shared
    /// fallback shard.
    #[inline]
    pub fn batch<R>(&self, f: impl FnOnce(&mut Batch<'_>) -> R) -> R {
        self.with_shard(|shard| {
            f(&mut Batch {
                inner: &self.inner,
                shard,
            })
        })
    }

    /// Runs `f` on this thread's shard, registering one on first use.
    #[inline]
    fn with_shard<R>(&self, f: impl FnOnce(&mut Shard) -> R) -> R {
        let mut f = Some(f);
        // `try_with` fails only while the thread is being torn down, and
        // the borrow only while a batch records through the recorder; the
        // shared fallback shard then takes the samples.
        let done = LOCAL_SHARDS
            .try_with(|cell| {
                let mut list = cell.try_borrow_mut().ok()?;
                let shard = local_shard(&mut list, &self.inner);
                let f = f.take()?;
                Some(f(&mut lock(shard)))
            })
            .ok()
            .flatten();
        match (done, f) {
            (Some(result), _) => result,
            (None, Some(f)) => f(&mut lock(&self.inner.fallback)),
            (None, None) => unreachable!("`f` runs at most once and returns"),
        }
    }
}

/// This thread's shard, locked, for a [`Recorder::batch`]: records like the
/// recorder's own methods, which are each a batch of one.
pub struct Batch<'a> {
    inner: &'a RecorderInner,
    shard: &'a mut Shard,
}

impl Batch<'_> {
    /// See [`Recorder::record_http`].
    pub fn record_http(&mut self, sample: &HttpSample) {
        let tags = self.shard.record_http(sample, TagInterner::global());
        if let Some(tap) = &self.inner.tap
            && tap.admit()
        {
            self.shard.keep_raw(RawValue::Http {
                tags,
                timings: sample.timings,
                failed: !sample.expected,
                bytes_sent: sample.bytes_sent,
                bytes_received: sample.bytes_received,
            });
        }
    }

    /// See [`Recorder::add`].
    pub fn add(&mut self, metric: MetricId, tags: TagSetId, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.series(metric, tags, MetricKind::Counter, value, |acc| {
            if let AccValue::Counter { sum, samples } = acc {
                *sum += value;
                *samples += 1;
            }
        });
    }

    /// See [`Recorder::gauge`].
    pub fn gauge(&mut self, metric: MetricId, tags: TagSetId, value: f64) {
        if !value.is_finite() {
            return;
        }
        let order = self.inner.gauge_seq.fetch_add(1, Ordering::Relaxed) + 1;
        self.series(metric, tags, MetricKind::Gauge, value, |acc| {
            if let AccValue::Gauge {
                last,
                min,
                max,
                seq,
                samples,
            } = acc
            {
                if *samples == 0 {
                    (*min, *max) = (value, value);
                } else {
                    *min = min.min(value);
                    *max = max.max(value);
                }
                if order > *seq {
                    (*last, *seq) = (value, order);
                }
                *samples += 1;
            }
        });
    }

    /// See [`Recorder::rate`].
    pub fn rate(&mut self, metric: MetricId, tags: TagSetId, hit: bool) {
        let value = f64::from(u8::from(hit));
        self.series(metric, tags, MetricKind::Rate, value, |acc| {
            if let AccValue::Rate { trues, total } = acc {
                *trues += u64::from(hit);
                *total += 1;
            }
        });
    }

    /// See [`Recorder::trend`].
    pub fn trend(&mut self, metric: MetricId, tags: TagSetId, value: f64) {
        if !value.is_finite() {
            return;
        }
        let value = value.max(0.0);
        self.series(metric, tags, MetricKind::Trend, value, |acc| {
            if let AccValue::Trend(t) = acc {
                t.record(value, display_to_micros(value));
            }
        });
    }

    #[inline]
    fn series(
        &mut self,
        metric: MetricId,
        tags: TagSetId,
        op: MetricKind,
        value: f64,
        f: impl FnOnce(&mut AccValue),
    ) {
        let Some(acc) = self.shard.series(metric, tags, op, &self.inner.registry) else {
            return;
        };
        f(acc);
        if let Some(tap) = &self.inner.tap
            && tap.admit()
        {
            self.shard.keep_raw(RawValue::Value {
                metric,
                tags,
                value,
            });
        }
    }
}

fn local_shard<'a>(list: &'a mut Vec<LocalShard>, inner: &Arc<RecorderInner>) -> &'a Mutex<Shard> {
    if let Some(i) = list.iter().position(|l| l.recorder_id == inner.id) {
        return &list[i].shard;
    }
    register_shard(list, inner)
}

#[cold]
fn register_shard<'a>(
    list: &'a mut Vec<LocalShard>,
    inner: &Arc<RecorderInner>,
) -> &'a Mutex<Shard> {
    // Forget shards of recorders that are gone; their aggregator is gone too.
    list.retain(|l| l.owner.strong_count() > 0);
    let shard = Arc::new(Mutex::new(Shard::default()));
    lock(&inner.shards).push(shard.clone());
    list.push(LocalShard {
        recorder_id: inner.id,
        owner: Arc::downgrade(inner),
        shard,
    });
    &list[list.len() - 1].shard
}
