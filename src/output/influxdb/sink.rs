//! The InfluxDB sink: encodes (per sample or per interval), compresses,
//! and hands payloads to the shared [`Delivery`]; for a v1 target it first
//! makes sure the database exists.

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
use crate::output::{Delivery, OutputConfigError, OutputContext, OutputSpec, Payload};

const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// Sends line protocol to InfluxDB (or anything that speaks its write API,
/// such as VictoriaMetrics).
pub struct InfluxSink {
    name: String,
    mode: Mode,
    gzip: bool,
    required: bool,
    push_interval: Duration,
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
    last_push: Instant,
    markers: RunMarkers,
}

/// `CREATE DATABASE` for a v1 target, sent before the first write.
struct DatabaseCreation {
    name: String,
    delivery: Delivery,
    done: bool,
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
        let delivery = Delivery::new(
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
            } => Some(DatabaseCreation {
                name: database.clone(),
                delivery: Delivery::new(
                    spec,
                    query_url,
                    "application/x-www-form-urlencoded",
                    None,
                    HeaderMap::new(),
                )?,
                done: false,
            }),
            Api::V2 { .. } => None,
        };
        let common = &spec.common;
        Ok(InfluxSink {
            name: spec.display_name(),
            mode: config.mode,
            gzip: config.gzip,
            required: common.required,
            push_interval: common.push_interval,
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
            last_push: Instant::now(),
            markers: RunMarkers::default(),
        })
    }

    async fn write_snapshot(&mut self, snapshot: Arc<Snapshot>) -> Result<(), SinkError> {
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
        let due = self.last_push.elapsed() >= self.push_interval
            || self.delivery.pending_points() >= self.batch_size as u64;
        if due {
            self.last_push = Instant::now();
            self.enqueue_interval();
            if self.ensure_database(self.timeout).await {
                self.delivery.flush(self.push_interval).await?;
            }
        }
        Ok(())
    }

    /// Encodes the snapshot's raw samples on a blocking thread (the VUs'
    /// runtime workers stay free) and queues the payloads.
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
            self.delivery.enqueue(payload);
        }
        Ok(())
    }

    fn enqueue_text(&mut self, text: &str, points: u64) {
        self.delivery.enqueue(Payload {
            body: body(text.as_bytes(), self.gzip),
            points,
        });
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

    /// For a v1 target, creates the database once (InfluxDB answers 200
    /// when it exists already). True when writes may go ahead: created, or
    /// refused (a user without admin rights may still write to an existing
    /// database; a missing one then shows in the write errors). False while
    /// the server is unreachable: the data stays queued.
    async fn ensure_database(&mut self, budget: Duration) -> bool {
        let Some(db) = &mut self.database else {
            return true;
        };
        if db.done {
            return true;
        }
        if db.delivery.pending_points() == 0 {
            db.delivery.enqueue(Payload {
                body: Bytes::new(),
                points: 1,
            });
        }
        let result = db.delivery.flush(budget).await;
        let stats = db.delivery.stats();
        if stats.sent() > 0 {
            db.done = true;
            tracing::debug!(output = %self.name, database = %db.name, "database ready");
        } else if stats.dropped() > 0 {
            db.done = true;
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            tracing::warn!(output = %self.name, database = %db.name, %error,
                "could not create the database; writing anyway");
        }
        db.done
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
            self.enqueue_interval();
            self.enqueue_final_markers(&summary);
            let started = Instant::now();
            if !self.ensure_database(self.flush_timeout).await {
                self.delivery.finish(Duration::ZERO).await?;
                return Err(SinkError::Retryable(format!(
                    "the database could not be created within {:.1}s; data dropped",
                    self.flush_timeout.as_secs_f64()
                )));
            }
            let left = self.flush_timeout.saturating_sub(started.elapsed());
            self.delivery.finish(left).await
        })
    }

    fn health_check(&mut self) -> SinkFuture<'_> {
        Box::pin(async move {
            self.delivery
                .health_check(self.timeout)
                .await
                .map_err(SinkError::Retryable)?;
            self.ensure_database(self.timeout).await;
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
