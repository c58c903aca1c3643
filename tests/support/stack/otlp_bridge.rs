#![allow(dead_code)] // each test file uses a different part of these helpers
//! OTLP into a real Prometheus, translated the way Prometheus 3's own OTLP
//! receiver does it, so the dashboards can be run against data that came by
//! OTLP. Prometheus 3 cannot be installed here (Debian has 2.42, which has
//! no OTLP receiver); its receiver is a translation to remote-write samples
//! in front of the same storage, so this bridge decodes each OTLP/HTTP
//! request stampede sends, applies the documented rules
//! (`otlp.translation_strategy: UnderscoreEscapingWithSuffixes`, the
//! default) and remote-writes the result into Debian's Prometheus 2.42:
//!
//! - names: [`super::otlp_names::prometheus3_name`] (unit suffix, `_total`
//!   on monotonic sums, `_ratio` on unit-1 gauges);
//! - labels: every data-point attribute, characters outside
//!   `[a-zA-Z0-9_]` as `_`; `job` from `service.name` (with
//!   `service.namespace/` before it) and `instance` from
//!   `service.instance.id`, set after the attributes as Prometheus does;
//! - sums and gauges: one float sample per data point at its `time_unix_nano`;
//! - exponential histograms: one native histogram per data point, schema =
//!   scale (Prometheus refuses scales below -4 and reduces those above 8),
//!   OTLP bucket index i becomes Prometheus index i + 1 (OTLP buckets are
//!   (base^i, base^(i+1)], Prometheus ones (base^(i-1), base^i]), counts
//!   delta-encoded, zero bucket and sum as sent;
//! - explicit-bucket histograms: what Prometheus 3 stores without
//!   `convert_histograms_to_nhcb` (`_bucket{le}`, `_sum`, `_count`), since
//!   Prometheus 2.42 cannot hold custom-bucket native histograms.
//!
//! Only cumulative temporality is accepted, as Prometheus 3.5 does without
//! its delta feature flags; anything else is answered 400 and recorded.

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint,
    metric, number_data_point,
};
use prost::Message as _;
use stampede::output::otlp::layout::Shape;
use stampede::output::prometheus_rw::proto::{
    BucketSpan, Histogram, Label, Sample, TimeSeries, WriteRequest, encode_request, histogram,
};
use tokio::sync::oneshot;

use super::http;
use super::otlp_names::prometheus3_name;

/// Prometheus 3's zero threshold for OTLP exponential histograms without
/// one of their own (`defaultZeroThreshold` in its translator).
const DEFAULT_ZERO_THRESHOLD: f64 = 1e-128;

#[derive(Default)]
struct Shared {
    remote_write_port: u16,
    /// What went wrong, per request (a test asserts it stays empty).
    errors: Mutex<Vec<String>>,
    requests: Mutex<u64>,
    series_written: Mutex<u64>,
}

/// A running bridge; stops when dropped.
pub struct OtlpBridge {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for OtlpBridge {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl OtlpBridge {
    /// Listens on a free loopback port and writes into the Prometheus whose
    /// remote-write receiver is on `remote_write_port`.
    pub fn start(remote_write_port: u16) -> OtlpBridge {
        let shared = Arc::new(Shared {
            remote_write_port,
            ..Shared::default()
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind bridge");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("bridge address");
        let (stop, stopped) = oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("bridge runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new()
                    .route("/v1/metrics", post(receive))
                    .with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("bridge serves");
            });
        });
        OtlpBridge {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The target for `--out otlp=...` (OTLP/HTTP, protobuf).
    pub fn url(&self) -> String {
        format!("http://{}/v1/metrics", self.addr)
    }

    pub fn errors(&self) -> Vec<String> {
        self.shared.errors.lock().unwrap().clone()
    }

    /// OTLP requests translated and written.
    pub fn requests(&self) -> u64 {
        *self.shared.requests.lock().unwrap()
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let result = tokio::task::spawn_blocking({
        let shared = shared.clone();
        move || translate_and_write(&shared, &headers, &body)
    })
    .await
    .unwrap_or_else(|e| Err(format!("bridge task: {e}")));
    match result {
        Ok(series) => {
            *shared.requests.lock().unwrap() += 1;
            *shared.series_written.lock().unwrap() += series;
            (StatusCode::OK, String::new())
        }
        Err(e) => {
            shared.errors.lock().unwrap().push(e.clone());
            (StatusCode::BAD_REQUEST, e)
        }
    }
}

fn translate_and_write(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<u64, String> {
    let gzip = headers
        .get("content-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
    let raw = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .map_err(|e| format!("gzip: {e}"))?;
        out
    } else {
        body.to_vec()
    };
    let request =
        ExportMetricsServiceRequest::decode(raw.as_slice()).map_err(|e| format!("decode: {e}"))?;
    let series = translate(&request)?;
    let count = series.len() as u64;
    let compressed =
        encode_request(&WriteRequest { timeseries: series }).map_err(|e| format!("snappy: {e}"))?;
    let resp = http::post_bytes(
        shared.remote_write_port,
        "/api/v1/write",
        &[
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ],
        &compressed,
    )?;
    if resp.status / 100 != 2 {
        return Err(format!(
            "Prometheus answered {}: {}",
            resp.status, resp.body
        ));
    }
    Ok(count)
}

/// The remote-write series Prometheus 3 makes of one OTLP request.
pub fn translate(request: &ExportMetricsServiceRequest) -> Result<Vec<TimeSeries>, String> {
    let mut out = Vec::new();
    for rm in &request.resource_metrics {
        let resource = rm
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let data = m.data.as_ref().ok_or(format!("{}: no data", m.name))?;
                match data {
                    metric::Data::Sum(sum) => {
                        check_cumulative(&m.name, sum.aggregation_temporality)?;
                        let shape = if sum.is_monotonic {
                            Shape::MonotonicSum
                        } else {
                            Shape::Gauge
                        };
                        let name = prometheus3_name(&m.name, &m.unit, shape);
                        for p in &sum.data_points {
                            out.push(float_series(&name, resource, p));
                        }
                    }
                    metric::Data::Gauge(g) => {
                        let name = prometheus3_name(&m.name, &m.unit, Shape::Gauge);
                        for p in &g.data_points {
                            out.push(float_series(&name, resource, p));
                        }
                    }
                    metric::Data::ExponentialHistogram(h) => {
                        check_cumulative(&m.name, h.aggregation_temporality)?;
                        let name = prometheus3_name(&m.name, &m.unit, Shape::Histogram);
                        for p in &h.data_points {
                            out.push(native_series(&name, resource, p)?);
                        }
                    }
                    metric::Data::Histogram(h) => {
                        check_cumulative(&m.name, h.aggregation_temporality)?;
                        let name = prometheus3_name(&m.name, &m.unit, Shape::Histogram);
                        for p in &h.data_points {
                            out.extend(classic_series(&name, resource, p));
                        }
                    }
                    metric::Data::Summary(_) => {
                        return Err(format!("{}: summaries are not sent by stampede", m.name));
                    }
                }
            }
        }
    }
    Ok(out)
}

fn check_cumulative(name: &str, temporality: i32) -> Result<(), String> {
    if temporality == AggregationTemporality::Cumulative as i32 {
        Ok(())
    } else {
        Err(format!(
            "{name}: temporality {temporality} refused (Prometheus 3.5 takes cumulative data without its delta feature flags)"
        ))
    }
}

fn string_value(kv: &KeyValue) -> String {
    match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Prometheus' label-name sanitising: `[^a-zA-Z0-9_]` becomes `_`, and a
/// name starting with a digit gets `key_` in front.
fn label_name(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    }
    out
}

fn labels(name: &str, resource: &[KeyValue], attributes: &[KeyValue]) -> Vec<Label> {
    let mut map = std::collections::BTreeMap::new();
    for kv in attributes {
        map.insert(label_name(&kv.key), string_value(kv));
    }
    let get = |key: &str| resource.iter().find(|kv| kv.key == key).map(string_value);
    if let Some(service) = get("service.name") {
        let job = match get("service.namespace") {
            Some(ns) => format!("{ns}/{service}"),
            None => service,
        };
        map.insert("job".into(), job);
    }
    if let Some(instance) = get("service.instance.id") {
        map.insert("instance".into(), instance);
    }
    map.insert("__name__".into(), name.to_string());
    map.into_iter()
        .map(|(name, value)| Label { name, value })
        .collect()
}

fn millis(nanos: u64) -> i64 {
    (nanos / 1_000_000) as i64
}

fn float_series(name: &str, resource: &[KeyValue], p: &NumberDataPoint) -> TimeSeries {
    let value = match p.value {
        Some(number_data_point::Value::AsDouble(d)) => d,
        Some(number_data_point::Value::AsInt(i)) => i as f64,
        None => f64::NAN,
    };
    TimeSeries {
        labels: labels(name, resource, &p.attributes),
        samples: vec![Sample {
            value,
            timestamp: millis(p.time_unix_nano),
        }],
        histograms: Vec::new(),
    }
}

/// Spans and delta-encoded counts of one side's buckets, shifted by one
/// index (OTLP → Prometheus bucket numbering). Runs of zero buckets split
/// spans, as Prometheus' own conversion does.
fn spans_and_deltas(offset: i32, counts: &[u64]) -> (Vec<BucketSpan>, Vec<i64>) {
    let mut spans: Vec<BucketSpan> = Vec::new();
    let mut deltas = Vec::new();
    let mut previous = 0i64;
    let mut next_index: Option<i32> = None;
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let index = offset + i as i32 + 1;
        match (next_index, spans.last_mut()) {
            (Some(n), Some(span)) if n == index => span.length += 1,
            _ => spans.push(BucketSpan {
                offset: match next_index {
                    None => index,
                    Some(n) => index - n,
                },
                length: 1,
            }),
        }
        next_index = Some(index + 1);
        deltas.push(count as i64 - previous);
        previous = count as i64;
    }
    (spans, deltas)
}

fn native_series(
    name: &str,
    resource: &[KeyValue],
    p: &ExponentialHistogramDataPoint,
) -> Result<TimeSeries, String> {
    if p.scale < -4 {
        return Err(format!("{name}: scale {} below -4 is refused", p.scale));
    }
    if p.scale > 8 {
        return Err(format!(
            "{name}: scale {} above 8 (Prometheus would reduce it; stampede never sends it)",
            p.scale
        ));
    }
    let (positive_spans, positive_deltas) = p
        .positive
        .as_ref()
        .map(|b| spans_and_deltas(b.offset, &b.bucket_counts))
        .unwrap_or_default();
    let (negative_spans, negative_deltas) = p
        .negative
        .as_ref()
        .map(|b| spans_and_deltas(b.offset, &b.bucket_counts))
        .unwrap_or_default();
    let zero_threshold = if p.zero_threshold > 0.0 {
        p.zero_threshold
    } else {
        DEFAULT_ZERO_THRESHOLD
    };
    Ok(TimeSeries {
        labels: labels(name, resource, &p.attributes),
        samples: Vec::new(),
        histograms: vec![Histogram {
            count: Some(histogram::Count::CountInt(p.count)),
            sum: p.sum.unwrap_or(0.0),
            schema: p.scale,
            zero_threshold,
            zero_count: Some(histogram::ZeroCount::ZeroCountInt(p.zero_count)),
            negative_spans,
            negative_deltas,
            negative_counts: Vec::new(),
            positive_spans,
            positive_deltas,
            positive_counts: Vec::new(),
            reset_hint: 0,
            timestamp: millis(p.time_unix_nano),
        }],
    })
}

fn classic_series(name: &str, resource: &[KeyValue], p: &HistogramDataPoint) -> Vec<TimeSeries> {
    let at = millis(p.time_unix_nano);
    let sample = |suffix: &str, extra: Option<(&str, String)>, value: f64| {
        let mut l = labels(&format!("{name}{suffix}"), resource, &p.attributes);
        if let Some((k, v)) = extra {
            l.push(Label {
                name: k.into(),
                value: v,
            });
            l.sort();
        }
        TimeSeries {
            labels: l,
            samples: vec![Sample {
                value,
                timestamp: at,
            }],
            histograms: Vec::new(),
        }
    };
    let mut out = Vec::new();
    let mut cumulative = 0u64;
    for (i, count) in p.bucket_counts.iter().enumerate() {
        cumulative += count;
        let le = p
            .explicit_bounds
            .get(i)
            .map_or("+Inf".to_string(), |b| b.to_string());
        out.push(sample("_bucket", Some(("le", le)), cumulative as f64));
    }
    out.push(sample("_sum", None, p.sum.unwrap_or(0.0)));
    out.push(sample("_count", None, p.count as f64));
    out
}
