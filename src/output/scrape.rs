//! `--metrics-listen ADDR`: a live `/metrics` endpoint in Prometheus' text
//! format, for a Prometheus that scrapes the load generator instead of
//! receiving remote-write.
//!
//! Same names and labels as remote-write's `naming=stampede` layout
//! (without `job`, which the scraping Prometheus adds): counters
//! `stampede_<m>_total`, gauges `stampede_<m>`, rates as two counters and a
//! `_ratio` gauge. Trends are summaries (`stampede_<m>_seconds{quantile=..}`
//! with `_sum` and `_count`), cumulative since the start and computed from
//! the HDR histogram: exact percentiles for this instance, but summaries do
//! not aggregate across instances — use remote-write's native histograms
//! for that. Values are those of the latest snapshot (one per second).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus::proto::{
    Counter, Gauge, LabelPair, Metric, MetricFamily, MetricType, Quantile, Summary as SummaryValue,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::prometheus_rw::naming::{MetricNames, RatePart, label_name};
use super::prometheus_rw::options::Naming;
use crate::metrics::{
    MetricId, MetricRegistry, SeriesValue, Sink, SinkFuture, Snapshot, Summary, TagSet, ValueType,
};
use crate::output::OutputContext;

/// Quantiles every trend summary shows.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// How long the server may take to close its connections at the end.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// The latest cumulative value of every series, shared with the server.
#[derive(Debug)]
struct ScrapeState {
    registry: Arc<MetricRegistry>,
    testid: String,
    series: BTreeMap<(MetricId, TagSet), SeriesValue>,
}

/// Starts serving `/metrics` on `addr` and returns the sink that keeps it
/// up to date. The server stops when the sink finishes.
pub fn serve(
    addr: SocketAddr,
    ctx: &OutputContext,
) -> impl Future<Output = Result<Box<dyn Sink>, std::io::Error>> + use<> {
    let state = Arc::new(Mutex::new(ScrapeState {
        registry: ctx.registry.clone(),
        testid: ctx.testid.clone(),
        series: BTreeMap::new(),
    }));
    async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/metrics", axum::routing::get(metrics))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "metrics endpoint stopped with an error");
            }
        });
        tracing::info!(address = %local, "serving live metrics at /metrics");
        Ok(Box::new(ScrapeSink {
            name: format!("metrics-listen ({local})"),
            state,
            stop: Some(stop),
            server: Some(server),
        }) as Box<dyn Sink>)
    }
}

/// Feeds the endpoint from the snapshots.
struct ScrapeSink {
    name: String,
    state: Arc<Mutex<ScrapeState>>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Sink for ScrapeSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        let mut state = lock(&self.state);
        for point in &snapshot.series {
            // Histograms are shared (Arc), not copied.
            state
                .series
                .insert((point.metric, point.tags.clone()), point.total.clone());
        }
        Box::pin(async { Ok(()) })
    }

    fn finish(&mut self, _summary: Arc<Summary>) -> SinkFuture<'_> {
        Box::pin(async move {
            if let Some(stop) = self.stop.take() {
                let _ = stop.send(());
            }
            if let Some(mut server) = self.server.take()
                && tokio::time::timeout(SHUTDOWN_TIMEOUT, &mut server)
                    .await
                    .is_err()
            {
                // A scraper holding a connection open must not hold up the end.
                server.abort();
            }
            Ok(())
        })
    }
}

fn lock(state: &Mutex<ScrapeState>) -> std::sync::MutexGuard<'_, ScrapeState> {
    // The state is plain data: a panic elsewhere cannot leave it half-written
    // in a way that matters for the next scrape.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn metrics(State(state): State<Arc<Mutex<ScrapeState>>>) -> Response {
    let families = families(&lock(&state));
    match prometheus::TextEncoder::new().encode_to_string(&families) {
        Ok(text) => ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The metric families of the current state, sorted by name.
fn families(state: &ScrapeState) -> Vec<MetricFamily> {
    let mut out: BTreeMap<String, MetricFamily> = BTreeMap::new();
    let mut add = |name: String, kind: MetricType, metric: Metric| {
        let family = out.entry(name.clone()).or_insert_with(|| {
            let mut f = MetricFamily::default();
            f.set_name(name);
            f.set_field_type(kind);
            f
        });
        family.mut_metric().push(metric);
    };
    for ((id, tags), value) in &state.series {
        let def = state.registry.get(*id);
        let names = MetricNames::new(Naming::Stampede, def);
        let labels = labels(tags, &state.testid);
        match value {
            SeriesValue::Counter { sum } => {
                add(names.counter(), MetricType::COUNTER, counter(&labels, *sum))
            }
            SeriesValue::Gauge { last, .. } => {
                add(names.gauge(), MetricType::GAUGE, gauge(&labels, *last))
            }
            SeriesValue::Rate { trues, total } => {
                for (name, part) in names.rate() {
                    match part {
                        RatePart::Trues => {
                            add(name, MetricType::COUNTER, counter(&labels, *trues as f64))
                        }
                        RatePart::Samples => {
                            add(name, MetricType::COUNTER, counter(&labels, *total as f64))
                        }
                        RatePart::Ratio => {
                            let ratio = if *total == 0 {
                                0.0
                            } else {
                                *trues as f64 / *total as f64
                            };
                            add(name, MetricType::GAUGE, gauge(&labels, ratio));
                        }
                    }
                }
            }
            SeriesValue::Trend(trend) => {
                let to_unit = if def.contains == ValueType::Time {
                    1e-3
                } else {
                    1.0
                };
                let mut summary = SummaryValue::default();
                summary.set_sample_count(trend.count);
                summary.set_sample_sum(trend.sum * to_unit);
                summary.set_quantile(
                    QUANTILES
                        .iter()
                        .map(|q| {
                            let mut quantile = Quantile::default();
                            quantile.set_quantile(*q);
                            quantile.set_value(trend.percentile(q * 100.0) * to_unit);
                            quantile
                        })
                        .collect(),
                );
                let mut metric = Metric::from_label(labels.clone());
                metric.set_summary(summary);
                add(names.histogram(), MetricType::SUMMARY, metric);
            }
        }
    }
    out.into_values().collect()
}

fn labels(tags: &TagSet, testid: &str) -> Vec<LabelPair> {
    let mut pairs: Vec<(String, String)> = tags
        .iter()
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .map(|(k, v)| (label_name(k), v.to_string()))
        .collect();
    if !pairs.iter().any(|(k, _)| k == "testid") {
        pairs.push(("testid".into(), testid.to_string()));
    }
    pairs.sort();
    pairs
        .into_iter()
        .map(|(name, value)| {
            let mut pair = LabelPair::default();
            pair.set_name(name);
            pair.set_value(value);
            pair
        })
        .collect()
}

fn counter(labels: &[LabelPair], value: f64) -> Metric {
    let mut c = Counter::default();
    c.set_value(value);
    let mut m = Metric::from_label(labels.to_vec());
    m.set_counter(c);
    m
}

fn gauge(labels: &[LabelPair], value: f64) -> Metric {
    let mut g = Gauge::default();
    g.set_value(value);
    let mut m = Metric::from_label(labels.to_vec());
    m.set_gauge(g);
    m
}
