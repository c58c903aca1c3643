//! Collects the recorder's shards once per interval into a [`Snapshot`],
//! keeps the cumulative state, and builds the end-of-test [`Summary`].

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::metric::{MetricDef, MetricId, MetricRegistry, builtin};
use super::recorder::{Recorder, lock};
use super::series_state::{SeriesState, merge_totals};
use super::shard::{AccValue, Accumulators, FastMap, HTTP_TRENDS};
use super::snapshot::{SampleBatch, SeriesPoint, Snapshot, ThresholdMark};
use super::summary::{MetricSummary, RunEnd, Summary};
use super::tags::{TagInterner, TagSetId};
use super::threshold::Threshold;
use super::threshold_eval::{evaluate_threshold, observe};

/// Turns what VUs recorded into interval snapshots and the final summary.
/// Owned by one task (the engine's flush loop); not shared.
pub struct Aggregator {
    recorder: Recorder,
    started_at: SystemTime,
    started: Instant,
    last_flush: Instant,
    duration: Option<Duration>,
    /// One drained [`Accumulators`] per shard, swapped in on the next flush
    /// so shards keep recording without allocating.
    spares: Vec<Accumulators>,
    index: FastMap<(MetricId, TagSetId), usize>,
    states: Vec<SeriesState>,
    /// State indices per metric id, in creation order.
    by_metric: Vec<Vec<usize>>,
    /// States that received samples in the interval being collected.
    touched: Vec<usize>,
    gauges: Vec<usize>,
    /// Thresholds judged at every flush for the snapshots (thresholds over
    /// time); empty unless [`Aggregator::judge_thresholds`] was called.
    thresholds: Vec<Threshold>,
}

impl std::fmt::Debug for Aggregator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aggregator")
            .field("recorder", &self.recorder)
            .field("series", &self.states.len())
            .finish()
    }
}

impl Aggregator {
    /// Starts the clock: `started_at` and the summary's duration count from now.
    pub fn new(recorder: &Recorder) -> Self {
        let now = Instant::now();
        Aggregator {
            recorder: recorder.clone(),
            started_at: SystemTime::now(),
            started: now,
            last_flush: now,
            duration: None,
            spares: Vec::new(),
            index: FastMap::default(),
            states: Vec::new(),
            by_metric: vec![Vec::new(); recorder.registry().len()],
            touched: Vec::new(),
            gauges: Vec::new(),
            thresholds: Vec::new(),
        }
    }

    /// Starts the clock again from now: a run that waited for `--start-at`
    /// counts its duration (and counter rates) from the synchronised start.
    pub fn restart_clock(&mut self) {
        let now = Instant::now();
        self.started_at = SystemTime::now();
        self.started = now;
        self.last_flush = now;
    }

    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    /// Time since [`Aggregator::new`].
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Fixes the summary's duration (the engine knows when the last VU
    /// stopped); without it the summary uses the time since `new`.
    pub fn set_duration(&mut self, duration: Duration) {
        self.duration = Some(duration);
    }

    fn registry(&self) -> &MetricRegistry {
        self.recorder.registry()
    }

    /// Collects everything recorded since the last call. The snapshot holds
    /// the series that received samples (gauges: every series, every time),
    /// sorted by metric id then tags.
    pub fn flush(&mut self) -> Arc<Snapshot> {
        let shards = lock(&self.recorder.inner.shards).clone();
        let mut spares = std::mem::take(&mut self.spares);
        spares.resize_with(shards.len(), Accumulators::default);
        let mut raw = Vec::new();
        for (shard, spare) in shards.iter().zip(spares.iter_mut()) {
            // The lock is held only for the swap.
            std::mem::swap(&mut lock(shard).acc, spare);
            self.absorb(spare);
            // Drained, not taken: the shard gets the allocation back with
            // the next swap and records the next interval without growing.
            raw.append(&mut spare.raw);
        }
        self.spares = spares;
        let samples = self.recorder.inner.tap.as_ref().map(|tap| {
            Arc::new(SampleBatch {
                samples: raw,
                dropped: tap.next_interval(),
            })
        });

        let now = Instant::now();
        let mut series = Vec::with_capacity(self.touched.len() + self.gauges.len());
        for &i in &self.touched {
            let st = &mut self.states[i];
            st.close_interval();
            series.push(SeriesPoint {
                metric: st.metric,
                tags: st.tags.clone(),
                interval: st.interval.clone(),
                total: st.total.clone(),
            });
        }
        for &i in &self.gauges {
            let st = &self.states[i];
            if !self.touched.contains(&i) && st.has_total {
                series.push(SeriesPoint {
                    metric: st.metric,
                    tags: st.tags.clone(),
                    interval: st.idle_gauge_interval(),
                    total: st.total.clone(),
                });
            }
        }
        self.touched.clear();
        series.sort_by(|a, b| (a.metric, &a.tags).cmp(&(b.metric, &b.tags)));
        let elapsed = now.duration_since(self.started);
        let snapshot = Snapshot {
            time: SystemTime::now(),
            elapsed,
            interval: now.duration_since(self.last_flush),
            series,
            samples,
            thresholds: self.threshold_marks(&self.thresholds, elapsed),
        };
        self.last_flush = now;
        Arc::new(snapshot)
    }

    /// Merges one shard's drained accumulators into the interval state and
    /// empties them for reuse.
    fn absorb(&mut self, acc: &mut Accumulators) {
        for http in &mut acc.http {
            if http.reqs == 0 {
                http.reset();
                continue;
            }
            let tags = http.tags;
            let reqs = http.reqs;
            self.state(builtin::HTTP_REQS, tags)
                .absorb_counter(reqs as f64);
            self.state(builtin::HTTP_REQ_FAILED, tags)
                .absorb_rate(http.failed, reqs);
            self.state(builtin::DATA_SENT, tags)
                .absorb_counter(http.bytes_sent as f64);
            self.state(builtin::DATA_RECEIVED, tags)
                .absorb_counter(http.bytes_received as f64);
            for (metric, trend) in HTTP_TRENDS.iter().zip(&http.trends) {
                self.state(*metric, tags).absorb_trend(trend);
            }
            http.reset();
        }
        for series in &mut acc.series {
            if series.value.has_samples() {
                let st = self.state(series.metric, series.tags);
                match &series.value {
                    AccValue::Counter { sum, .. } => st.absorb_counter(*sum),
                    AccValue::Rate { trues, total } => st.absorb_rate(*trues, *total),
                    AccValue::Gauge {
                        last,
                        min,
                        max,
                        seq,
                        ..
                    } => st.absorb_gauge((*last, *min, *max), *seq),
                    AccValue::Trend(t) => st.absorb_trend(t),
                }
            }
            series.value.reset();
        }
    }

    /// The state of a series, created on its first sample, with its interval begun.
    fn state(&mut self, metric: MetricId, tags: TagSetId) -> &mut SeriesState {
        let i = match self.index.get(&(metric, tags)) {
            Some(i) => *i,
            None => self.new_state(metric, tags),
        };
        if self.states[i].begin() {
            self.touched.push(i);
        }
        &mut self.states[i]
    }

    #[cold]
    fn new_state(&mut self, metric: MetricId, tags: TagSetId) -> usize {
        let kind = self.registry().get(metric).kind;
        let i = self.states.len();
        let tag_set = TagInterner::global().resolve(tags);
        self.states.push(SeriesState::new(metric, kind, tag_set));
        self.index.insert((metric, tags), i);
        self.by_metric[metric.0 as usize].push(i);
        if kind == super::metric::MetricKind::Gauge {
            self.gauges.push(i);
        }
        i
    }

    /// The cumulative state as a summary, thresholds evaluated. Call after
    /// a final [`Aggregator::flush`]; callable more than once.
    pub fn summary(&self, thresholds: &[Threshold], end: RunEnd) -> Summary {
        let duration = self.duration.unwrap_or_else(|| self.started.elapsed());
        let metrics: Vec<MetricSummary> = self
            .registry()
            .iter()
            .filter_map(|(id, def)| self.metric_summary(id, def))
            .collect();
        let thresholds = thresholds
            .iter()
            .map(|t| evaluate_threshold(t, &metrics, duration))
            .collect();
        Summary {
            started_at: self.started_at,
            duration,
            metrics,
            thresholds,
            end,
            generator: None,
            breaking_points: Vec::new(),
        }
    }

    fn metric_summary(&self, id: MetricId, def: &MetricDef) -> Option<MetricSummary> {
        let states = self.by_metric.get(id.0 as usize)?;
        let total = merge_totals(states.iter().map(|&i| &self.states[i]))?;
        let mut series: Vec<_> = states
            .iter()
            .map(|&i| &self.states[i])
            .filter(|st| st.has_total)
            .map(|st| (st.tags.clone(), st.total.clone()))
            .collect();
        series.sort_by(|a, b| a.0.cmp(&b.0));
        Some(MetricSummary {
            id,
            name: def.name.to_string(),
            kind: def.kind,
            contains: def.contains,
            total,
            series,
        })
    }

    /// Judges `thresholds` in every snapshot from now on.
    pub fn judge_thresholds(&mut self, thresholds: &[Threshold]) {
        self.thresholds = thresholds.to_vec();
    }

    /// Every threshold's state on the cumulative data after `elapsed` of
    /// test time. Left out: thresholds without a value yet (a trend, rate or
    /// gauge with no matching sample; counters count 0 from the start) and
    /// skipped thresholds, which are never judged.
    pub fn threshold_marks(
        &self,
        thresholds: &[Threshold],
        elapsed: Duration,
    ) -> Vec<ThresholdMark> {
        thresholds
            .iter()
            .filter_map(|t| {
                let passed = self.passes_so_far(t, elapsed)?;
                Some(ThresholdMark {
                    metric: t.selector.source.clone(),
                    threshold: t.expr.source.clone(),
                    passed,
                })
            })
            .collect()
    }

    /// Whether `t` holds on the cumulative state, by the rule of
    /// [`observe`] that the end-of-test verdict uses too; `None` while there
    /// is nothing to judge and for skipped thresholds. `elapsed` is the test
    /// time so far (counter rates are per second of it).
    fn passes_so_far(&self, t: &Threshold, elapsed: Duration) -> Option<bool> {
        // Time criteria are judged on the timeline when the test ends.
        if t.unselected_scenario.is_some() || t.expr.time.is_some() {
            return None;
        }
        let id = self.registry().lookup(&t.selector.metric)?;
        let filter = &t.selector.filter;
        let matching = self.by_metric[id.0 as usize]
            .iter()
            .map(|&i| &self.states[i])
            .filter(|st| st.tags.matches(filter));
        let observed = observe(t, merge_totals(matching).as_ref(), elapsed)?;
        Some(t.expr.comparison.holds(observed, t.expr.value))
    }

    /// For `abort_on_fail`: the first threshold with `abort_on_fail` whose
    /// `delay_abort_eval` has passed and that fails on the cumulative state.
    pub fn failing_abort_threshold<'t>(
        &self,
        thresholds: &'t [Threshold],
        elapsed: Duration,
    ) -> Option<&'t Threshold> {
        thresholds
            .iter()
            .filter(|t| t.abort_on_fail && elapsed >= t.delay_abort_eval)
            .find(|t| self.passes_so_far(t, elapsed) == Some(false))
    }
}
