//! The InfluxDB sink: encodes (per sample or per interval), compresses,
//! and hands payloads to the shared [`Delivery`] when the [`PushSchedule`]
//! says so; for a v1 target the database is created before the first write.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::HeaderMap;
use tokio::time::Instant;

use super::aggregate::IntervalSeries;
use super::config::{Api, InfluxConfig, Mode};
use super::markers::{run_event_line, threshold_line};
use super::points::PointEncoder;
use crate::metrics::{
    DeliveryStats, MetricRegistry, Sink, SinkError, SinkFuture, Snapshot, Summary,
};
use crate::output::markers::{RunMarkers, end_time, threshold_marks, unix_nanos};
use crate::output::push_schedule::PushSchedule;
use crate::output::{Delivery, OutputConfigError, OutputContext, OutputSpec, Payload};

const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Sends line protocol to InfluxDB (or anything that speaks its write API,
/// such as VictoriaMetrics).
pub struct InfluxSink {
    name: String,
    mode: Mode,
    gzip: bool,
    required: bool,
    schedule: PushSchedule,
    timeout: Duration,
    flush_timeout: Duration,
    batch_size: usize,
    registry: Arc<MetricRegistry>,
    testid: String,
    delivery: Delivery,
    stats: Arc<DeliveryStats>,
    database: Option<DatabaseCreation>,
    /// Per-sample encoder; `None` only while lent to a blocking thread.
    encoder: Option<Box<PointEncoder>>,
    interval: IntervalSeries,
    /// Per-request payloads encoded since the last push.
    held: Vec<Payload>,
    held_points: u64,
    markers: RunMarkers,
}

/// `CREATE DATABASE` for a v1 target: queued before the first write, and
/// the writes' delivery waits until it is settled (created, or refused: a
/// user without admin rights may still write to an existing database).
struct DatabaseCreation {
    name: String,
    delivery: Delivery,
    queued: bool,
}

impl DatabaseCreation {
    /// Queues the request once.
    fn queue(&mut self) {
        if !std::mem::replace(&mut self.queued, true) {
            self.delivery.enqueue(Payload {
                body: Bytes::new(),
                points: 1,
            });
        }
    }

    /// Logs what went wrong creating the database; writes then go ahead
    /// once it is refused, or wait while the server is unreachable.
    fn log_errors(&self, output: &str) {
        while let Some(error) = self.delivery.take_error() {
            tracing::warn!(output, database = %self.name, %error, "could not create the database");
        }
    }
}

impl InfluxSink {
    pub fn new(spec: &OutputSpec, ctx: &OutputContext) -> Result<Self, OutputConfigError> {
        let config = InfluxConfig::from_spec(spec)?;
        Self::with_config(spec, ctx, config)
    }

    pub fn with_config(
        spec: &OutputSpec,
        ctx: &OutputContext,
        config: InfluxConfig,
    ) -> Result<Self, OutputConfigError> {
        let encoding = config.gzip.then_some("gzip");
        let mut delivery = Delivery::new(
            spec,
            &config.write_url,
            CONTENT_TYPE,
            encoding,
            config.headers.clone(),
        )?;
        let database = match &config.api {
            Api::V1 {
                database,
                query_url,
            } => {
                let creation = DatabaseCreation {
                    name: database.clone(),
                    delivery: Delivery::new(
                        spec,
                        query_url,
                        "application/x-www-form-urlencoded",
                        None,
                        HeaderMap::new(),
                    )?,
                    queued: false,
                };
                delivery.after(&creation.delivery);
                Some(creation)
            }
            Api::V2 { .. } => None,
        };
        let common = &spec.common;
        Ok(InfluxSink {
            name: spec.display_name(),
            mode: config.mode,
            gzip: config.gzip,
            required: common.required,
            schedule: PushSchedule::new(common.push_interval),
            timeout: common.timeout,
            flush_timeout: common.flush_timeout,
            batch_size: common.batch_size.max(1),
            registry: ctx.registry.clone(),
            testid: ctx.testid.clone(),
            stats: delivery.stats(),
            delivery,
            database,
            encoder: Some(Box::new(PointEncoder::new(
                ctx.registry.clone(),
                &ctx.testid,
                common.batch_size,
            ))),
            interval: IntervalSeries::default(),
            held: Vec::new(),
            held_points: 0,
            markers: RunMarkers::default(),
        })
    }

    async fn write_snapshot(&mut self, snapshot: Arc<Snapshot>) -> Result<(), SinkError> {
        if let Some(db) = &mut self.database {
            db.queue();
            db.log_errors(&self.name);
        }
        let first = self.markers.start().is_none();
        self.markers.observe(&snapshot);
        if first && let Some(start) = self.markers.start() {
            let mut text = String::new();
            run_event_line(
                &mut text,
                "start",
                self.markers.instance(),
                &self.testid,
                unix_nanos(start),
            );
            self.enqueue_text(&text, 1);
        }
        match self.mode {
            Mode::Points => self.encode_samples(&snapshot).await?,
            Mode::Aggregate => self.interval.merge(&snapshot),
        }
        // A full batch goes at once rather than waiting for the push.
        let due = self.schedule.due(&snapshot);
        if due || self.held_points >= self.batch_size as u64 {
            self.release_held();
            self.enqueue_interval();
        }
        if due {
            self.enqueue_threshold_states(&snapshot);
        }
        // Sending happens on the delivery's task; this reports what it met.
        self.delivery.take_error().map_or(Ok(()), Err)
    }

    /// Encodes the snapshot's raw samples on a blocking thread (the VUs'
    /// runtime workers stay free) and holds the payloads for the push.
    async fn encode_samples(&mut self, snapshot: &Snapshot) -> Result<(), SinkError> {
        let Some(samples) = snapshot.samples.clone() else {
            return Ok(());
        };
        if samples.dropped > 0 {
            self.stats.add_dropped(samples.dropped);
        }
        if samples.samples.is_empty() {
            return Ok(());
        }
        let Some(mut encoder) = self.encoder.take() else {
            return Err(SinkError::Fatal("encoder lost after a failure".into()));
        };
        let gzip = self.gzip;
        let joined = tokio::task::spawn_blocking(move || {
            let (batches, skipped) = encoder.encode(&samples);
            let payloads: Vec<Payload> = batches
                .into_iter()
                .map(|b| Payload {
                    body: body(b.text.as_bytes(), gzip),
                    points: b.points,
                })
                .collect();
            (encoder, payloads, skipped)
        })
        .await;
        let (encoder, payloads, skipped) =
            joined.map_err(|e| SinkError::Fatal(format!("encoding failed: {e}")))?;
        self.encoder = Some(encoder);
        self.stats.add_dropped(skipped);
        for payload in payloads {
            self.held_points += payload.points;
            self.held.push(payload);
        }
        self.stats.set_staged(self.held_points);
        Ok(())
    }

    /// Hands the held per-request payloads to the delivery.
    fn release_held(&mut self) {
        for payload in self.held.drain(..) {
            self.delivery.enqueue(payload);
        }
        self.held_points = 0;
        self.stats.set_staged(0);
    }

    fn enqueue_text(&mut self, text: &str, points: u64) {
        self.delivery.enqueue(Payload {
            body: body(text.as_bytes(), self.gzip),
            points,
        });
    }

    /// The thresholds' states so far, stamped with the snapshot's time:
    /// thresholds over time.
    fn enqueue_threshold_states(&mut self, snapshot: &Snapshot) {
        if snapshot.thresholds.is_empty() {
            return;
        }
        let ns = unix_nanos(snapshot.time);
        let instance = self.markers.instance();
        let mut text = String::new();
        for mark in &snapshot.thresholds {
            threshold_line(&mut text, mark, instance, &self.testid, ns);
        }
        self.enqueue_text(&text, snapshot.thresholds.len() as u64);
    }

    /// The end event and every threshold's outcome, stamped with the end.
    fn enqueue_final_markers(&mut self, summary: &Summary) {
        let ns = unix_nanos(end_time(summary));
        let instance = self.markers.instance();
        let mut text = String::new();
        run_event_line(&mut text, "end", instance, &self.testid, ns);
        let marks = threshold_marks(summary);
        for mark in &marks {
            threshold_line(&mut text, mark, instance, &self.testid, ns);
        }
        self.enqueue_text(&text, 1 + marks.len() as u64);
    }

    /// Aggregate mode: the merged interval becomes payloads.
    fn enqueue_interval(&mut self) {
        if self.interval.is_empty() {
            return;
        }
        let batches = self
            .interval
            .drain_lines(&self.registry, &self.testid, self.batch_size);
        for (text, points) in batches {
            self.delivery.enqueue(Payload {
                body: body(text.as_bytes(), self.gzip),
                points,
            });
        }
    }
}

/// The request body: the text, gzip-compressed when asked (fast level: at
/// these sizes it shrinks line protocol about tenfold for little CPU).
fn body(text: &[u8], gzip: bool) -> Bytes {
    if !gzip {
        return Bytes::copy_from_slice(text);
    }
    let mut encoder = GzEncoder::new(Vec::with_capacity(text.len() / 8), Compression::fast());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(text);
    Bytes::from(encoder.finish().unwrap_or_default())
}

impl Sink for InfluxSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        Box::pin(self.write_snapshot(snapshot))
    }

    fn finish(&mut self, summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async move {
            let deadline = Instant::now() + self.flush_timeout;
            self.release_held();
            self.enqueue_interval();
            self.enqueue_final_markers(&summary);
            if let Some(db) = &mut self.database {
                db.queue();
                // The writes wait for it; both end by the same deadline.
                let created = db.delivery.finish(deadline, self.flush_timeout).await;
                db.log_errors(&self.name);
                if let Err(error) = created {
                    tracing::warn!(output = %self.name, database = %db.name, %error, "could not create the database");
                }
            }
            self.delivery.finish(deadline, self.flush_timeout).await
        })
    }

    fn health_check(&mut self) -> SinkFuture<'_> {
        Box::pin(async move {
            self.delivery
                .health_check(self.timeout)
                .await
                .map_err(SinkError::Retryable)?;
            if let Some(db) = &mut self.database {
                // Created before the test starts when the server allows it.
                db.queue();
                if db.delivery.settled_within(self.timeout).await {
                    tracing::debug!(output = %self.name, database = %db.name, "database ready");
                }
                db.log_errors(&self.name);
            }
            Ok(())
        })
    }

    fn required(&self) -> bool {
        self.required
    }

    fn wants_samples(&self) -> bool {
        self.mode == Mode::Points
    }

    fn delivery_stats(&self) -> Option<Arc<DeliveryStats>> {
        Some(self.stats.clone())
    }
}
