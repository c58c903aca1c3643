//! The OTLP sink: merges snapshots between pushes, encodes a push when the
//! [`PushSchedule`] says so and hands the requests to the HTTP or gRPC
//! delivery, which sends them on its own task.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use prost::Message as _;
use tokio::time::Instant;

use super::encode::{Batch, Encoder, MarkerGauge, PushTimes, SeriesEntry};
use super::grpc::GrpcDelivery;
use crate::metrics::{
    DeliveryStats, MetricId, Sink, SinkError, SinkFuture, Snapshot, Summary, TagSet,
};
use crate::output::delivery::health_check_url;
use crate::output::markers::{ThresholdMark, end_time, threshold_marks, unix_seconds};
use crate::output::push_schedule::PushSchedule;
use crate::output::{Delivery, Payload};

/// Where pushes go.
#[derive(Debug)]
pub enum Transport {
    /// OTLP/HTTP with protobuf bodies, POSTed to `.../v1/metrics`.
    Http {
        delivery: Box<Delivery>,
    },
    Grpc(Box<GrpcDelivery>),
}

impl Transport {
    fn enqueue(&mut self, batch: Batch) {
        match self {
            Transport::Http { delivery } => delivery.enqueue(Payload {
                body: Bytes::from(batch.request.encode_to_vec()),
                points: batch.points,
            }),
            Transport::Grpc(grpc) => grpc.enqueue(batch),
        }
    }

    fn take_error(&self) -> Option<SinkError> {
        match self {
            Transport::Http { delivery } => delivery.take_error(),
            Transport::Grpc(grpc) => grpc.take_error(),
        }
    }

    async fn finish(&mut self, deadline: Instant, budget: Duration) -> Result<(), SinkError> {
        match self {
            Transport::Http { delivery } => delivery.finish(deadline, budget).await,
            Transport::Grpc(grpc) => grpc.finish(deadline, budget).await,
        }
    }

    async fn health_check(&self, timeout: Duration) -> Result<(), String> {
        match self {
            Transport::Http { delivery } => delivery.health_check(timeout).await,
            Transport::Grpc(grpc) => health_check_url(grpc.url(), grpc.proxy(), timeout).await,
        }
    }

    fn stats(&self) -> Arc<DeliveryStats> {
        match self {
            Transport::Http { delivery } => delivery.stats(),
            Transport::Grpc(grpc) => grpc.stats(),
        }
    }
}

/// Sends stampede's metrics to an OTLP receiver.
#[derive(Debug)]
pub struct OtlpSink {
    name: String,
    encoder: Encoder,
    transport: Transport,
    schedule: PushSchedule,
    timeout: Duration,
    flush_timeout: Duration,
    required: bool,
    series: Vec<SeriesEntry>,
    index: HashMap<(MetricId, TagSet), usize>,
    test_start: Option<SystemTime>,
    window_start: SystemTime,
    last_time: SystemTime,
    /// Snapshots merged since the last push.
    unsent: bool,
    /// The run's `instance` tag (the resource of the run markers).
    instance: Option<String>,
}

/// The sink's settings besides its encoder and transport.
#[derive(Clone, Copy, Debug)]
pub struct SinkTiming {
    pub push_interval: Duration,
    pub timeout: Duration,
    pub flush_timeout: Duration,
    pub required: bool,
}

impl OtlpSink {
    pub fn new(name: String, encoder: Encoder, transport: Transport, timing: SinkTiming) -> Self {
        OtlpSink {
            name,
            encoder,
            transport,
            schedule: PushSchedule::new(timing.push_interval),
            timeout: timing.timeout,
            flush_timeout: timing.flush_timeout,
            required: timing.required,
            series: Vec::new(),
            index: HashMap::new(),
            test_start: None,
            window_start: UNIX_EPOCH,
            last_time: UNIX_EPOCH,
            unsent: false,
            instance: None,
        }
    }

    /// Folds a snapshot into the series held until the next push: interval
    /// values merge into the window, totals replace the previous ones.
    fn absorb(&mut self, snapshot: &Snapshot) {
        if self.test_start.is_none() {
            let start = snapshot
                .time
                .checked_sub(snapshot.elapsed)
                .unwrap_or(snapshot.time);
            self.test_start = Some(start);
            self.window_start = start;
        }
        if self.instance.is_none() {
            self.instance = snapshot
                .series
                .iter()
                .find_map(|p| p.tags.get("instance").map(str::to_string));
        }
        for point in &snapshot.series {
            let key = (point.metric, point.tags.clone());
            match self.index.get(&key) {
                Some(&i) => {
                    let entry = &mut self.series[i];
                    match &mut entry.window {
                        Some(window) => {
                            window.merge(&point.interval);
                        }
                        None => entry.window = Some(point.interval.clone()),
                    }
                    entry.total = point.total.clone();
                }
                None => {
                    self.index.insert(key, self.series.len());
                    self.series.push(SeriesEntry {
                        metric: point.metric,
                        tags: point.tags.clone(),
                        window: Some(point.interval.clone()),
                        total: point.total.clone(),
                    });
                }
            }
        }
        self.last_time = snapshot.time;
        self.unsent = true;
    }

    /// Encodes what was merged since the last push and queues it.
    fn push(&mut self, extra: Vec<MarkerGauge>) {
        let mut markers = extra;
        if let Some(start) = self.test_start {
            // The start marker rides along with every push, like a gauge
            // scraped each time, so any time range of the run shows it.
            markers.insert(
                0,
                MarkerGauge {
                    name: "stampede_test_start_timestamp",
                    unit: "s",
                    attributes: Vec::new(),
                    value: unix_seconds(start),
                },
            );
        }
        let times = PushTimes {
            test_start: unix_nanos(self.test_start.unwrap_or(self.window_start)),
            window_start: unix_nanos(self.window_start),
            time: unix_nanos(self.last_time),
        };
        let mut batches = self.encoder.encode(&self.series, times);
        if !markers.is_empty() {
            let marker_batch = self
                .encoder
                .markers(self.instance.as_deref(), &markers, times.time);
            // In the push's last request when it has room, so a push rarely
            // needs a request of its own for them; never beyond `batch_size`.
            let room = self.encoder.batch_size() as u64;
            match batches.last_mut() {
                Some(last) if last.points + marker_batch.points <= room => {
                    last.request
                        .resource_metrics
                        .extend(marker_batch.request.resource_metrics);
                    last.points += marker_batch.points;
                }
                _ => batches.push(marker_batch),
            }
        }
        for batch in batches {
            self.transport.enqueue(batch);
        }
        for entry in &mut self.series {
            entry.window = None;
        }
        self.window_start = self.last_time;
        self.unsent = false;
    }
}

/// One `stampede_threshold_passed` gauge per threshold (1 passed, 0 failed).
fn threshold_gauges(marks: &[ThresholdMark]) -> Vec<MarkerGauge> {
    marks
        .iter()
        .map(|mark| MarkerGauge {
            name: "stampede_threshold_passed",
            unit: "",
            attributes: vec![
                ("metric".to_string(), mark.metric.clone()),
                ("threshold".to_string(), mark.threshold.clone()),
            ],
            value: f64::from(u8::from(mark.passed)),
        })
        .collect()
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Sink for OtlpSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(async move {
            self.absorb(&snapshot);
            if self.schedule.due(&snapshot) {
                // The thresholds' states so far: thresholds over time.
                self.push(threshold_gauges(&snapshot.thresholds));
            }
            // Sending happens on the delivery's task; this reports what it met.
            self.transport.take_error().map_or(Ok(()), Err)
        })
    }

    fn finish(&mut self, summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async move {
            let deadline = Instant::now() + self.flush_timeout;
            let end = end_time(&summary);
            let mut gauges = vec![MarkerGauge {
                name: "stampede_test_end_timestamp",
                unit: "s",
                attributes: Vec::new(),
                value: unix_seconds(end),
            }];
            gauges.extend(threshold_gauges(&threshold_marks(&summary)));
            if self.unsent {
                self.push(gauges);
            } else {
                // After the last push, whose running threshold states
                // must not get a second value at the same time.
                let after_push = self.last_time + std::time::Duration::from_millis(1);
                let time = unix_nanos(after_push.max(end));
                let batch = self
                    .encoder
                    .markers(self.instance.as_deref(), &gauges, time);
                self.transport.enqueue(batch);
            }
            self.transport.finish(deadline, self.flush_timeout).await
        })
    }

    fn health_check(&mut self) -> SinkFuture<'_> {
        Box::pin(async move {
            self.transport
                .health_check(self.timeout)
                .await
                .map_err(SinkError::Retryable)
        })
    }

    fn required(&self) -> bool {
        self.required
    }

    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.transport.stats())
    }
}
