//! Prometheus' protobuf exposition format: `io.prometheus.client`
//! `MetricFamily` messages (prometheus/client_model
//! `io/prometheus/client/metrics.proto`), derived by hand with prost so no
//! `protoc` runs at build time. Field numbers are the upstream ones; only
//! what the endpoint fills is declared (exemplars, classic buckets and
//! created timestamps are not sent, and a decoder skips unknown fields).
//!
//! Upstream is proto2 (fields with presence); prost writes proto3-style
//! fields and leaves out zero values. A reader sees the same message, since
//! an absent proto2 scalar reads as its zero value.

use bytes::Buf;

use crate::output::prometheus_rw::proto as rw;

/// The media type of a response body of length-delimited `MetricFamily`
/// messages (what a Prometheus with native histograms enabled asks for).
pub const CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

#[derive(Clone, PartialEq, prost::Message)]
pub struct MetricFamily {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub help: String,
    #[prost(enumeration = "MetricType", tag = "3")]
    pub r#type: i32,
    #[prost(message, repeated, tag = "4")]
    pub metric: Vec<Metric>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    Counter = 0,
    Gauge = 1,
    Summary = 2,
    Untyped = 3,
    Histogram = 4,
    GaugeHistogram = 5,
}

/// One series: its labels (sorted by name) and exactly one value field,
/// the one its family's type names. No timestamp: the scrape's time is the
/// sample's.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    #[prost(message, repeated, tag = "1")]
    pub label: Vec<LabelPair>,
    #[prost(message, optional, tag = "2")]
    pub gauge: Option<Gauge>,
    #[prost(message, optional, tag = "3")]
    pub counter: Option<Counter>,
    #[prost(message, optional, tag = "4")]
    pub summary: Option<Summary>,
    #[prost(message, optional, tag = "7")]
    pub histogram: Option<Histogram>,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, prost::Message)]
pub struct LabelPair {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Gauge {
    #[prost(double, tag = "1")]
    pub value: f64,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Counter {
    #[prost(double, tag = "1")]
    pub value: f64,
}

#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Quantile {
    #[prost(double, tag = "1")]
    pub quantile: f64,
    #[prost(double, tag = "2")]
    pub value: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    #[prost(message, repeated, tag = "3")]
    pub quantile: Vec<Quantile>,
}

/// A native histogram (integer counts, delta-encoded buckets). Negative
/// buckets are never filled: trends hold no negative values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    #[prost(uint64, tag = "1")]
    pub sample_count: u64,
    #[prost(double, tag = "2")]
    pub sample_sum: f64,
    #[prost(sint32, tag = "5")]
    pub schema: i32,
    #[prost(double, tag = "6")]
    pub zero_threshold: f64,
    #[prost(uint64, tag = "7")]
    pub zero_count: u64,
    #[prost(message, repeated, tag = "12")]
    pub positive_span: Vec<BucketSpan>,
    #[prost(sint64, repeated, tag = "13")]
    pub positive_delta: Vec<i64>,
}

#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct BucketSpan {
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

impl Histogram {
    /// The exposition form of a remote-write native histogram (the
    /// messages differ in field numbers, not in meaning). A histogram
    /// without observations gets the no-op span (offset 0, length 0) the
    /// format requires, so a parser cannot take it for a classic histogram
    /// without buckets.
    pub fn from_remote_write(h: &rw::Histogram) -> Self {
        let sample_count = match h.count {
            Some(rw::histogram::Count::CountInt(n)) => n,
            Some(rw::histogram::Count::CountFloat(n)) => n as u64,
            None => 0,
        };
        let zero_count = match h.zero_count {
            Some(rw::histogram::ZeroCount::ZeroCountInt(n)) => n,
            Some(rw::histogram::ZeroCount::ZeroCountFloat(n)) => n as u64,
            None => 0,
        };
        let mut positive_span: Vec<BucketSpan> = h
            .positive_spans
            .iter()
            .map(|s| BucketSpan {
                offset: s.offset,
                length: s.length,
            })
            .collect();
        if positive_span.is_empty() {
            positive_span.push(BucketSpan {
                offset: 0,
                length: 0,
            });
        }
        Histogram {
            sample_count,
            sample_sum: h.sum,
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count,
            positive_span,
            positive_delta: h.positive_deltas.clone(),
        }
    }
}

/// The response body: each family as a varint length, then the message.
pub fn encode_delimited(families: &[MetricFamily]) -> Vec<u8> {
    let mut out = Vec::new();
    for family in families {
        // Writing into a Vec cannot run out of room.
        let _ = prost::Message::encode_length_delimited(family, &mut out);
    }
    out
}

/// Reads a body written by [`encode_delimited`] (tests and debugging).
pub fn decode_delimited(mut body: &[u8]) -> Result<Vec<MetricFamily>, prost::DecodeError> {
    let mut families = Vec::new();
    while body.has_remaining() {
        families.push(<MetricFamily as prost::Message>::decode_length_delimited(
            &mut body,
        )?);
    }
    Ok(families)
}
