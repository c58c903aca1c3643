//! The data behind the report's charts, computed here from the timeline so
//! the page's script only plots numbers: throughput, error rate, VUs,
//! latency percentiles, and stream metrics when the run had streams.

use serde::Serialize;

use crate::timeline::{BreakingPoint, Bucket, Timeline};

#[derive(Debug, Serialize)]
pub struct ChartData {
    /// Each bucket's start, seconds since the test started.
    pub x: Vec<f64>,
    pub charts: Vec<Chart>,
    pub stages: Vec<StageLine>,
    /// Where a ramp's breaking point was found: solid lines.
    pub breaks: Vec<StageLine>,
}

#[derive(Debug, Serialize)]
pub struct Chart {
    pub id: String,
    pub title: String,
    pub unit: String,
    pub series: Vec<Line>,
}

/// One plotted line; `None` where a bucket has no value (a gap, not a 0).
#[derive(Debug, Serialize)]
pub struct Line {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
pub struct StageLine {
    /// Seconds since the test started.
    pub at: f64,
    pub label: String,
}

/// Trends of SSE and WebSocket steps charted as percentiles when present.
const STREAM_TRENDS: &[&str] = &[
    "sse_time_to_first_event",
    "sse_event_gap",
    "ws_connecting",
    "ws_reply_time",
];

pub fn chart_data(timeline: &Timeline, breaking: &[BreakingPoint]) -> ChartData {
    let buckets = &timeline.buckets;
    let line = |label: &str, f: &dyn Fn(&Bucket) -> Option<f64>| Line {
        label: label.to_string(),
        values: buckets.iter().map(f).collect(),
    };
    let percentile =
        |metric: &'static str, p: f64| move |b: &Bucket| b.trend(metric).map(|t| t.percentile(p));
    let mut charts = vec![
        Chart {
            id: "throughput".into(),
            title: "Throughput".into(),
            unit: "req/s".into(),
            series: vec![line("requests/s", &|b| Some(b.request_rate()))],
        },
        Chart {
            id: "errors".into(),
            title: "Error rate (http_req_failed)".into(),
            unit: "%".into(),
            series: vec![line("failed %", &|b| b.error_rate().map(|r| r * 100.0))],
        },
        Chart {
            id: "vus".into(),
            title: "Virtual users".into(),
            unit: "VUs".into(),
            series: vec![line("VUs", &|b| b.gauge("vus"))],
        },
        Chart {
            id: "latency".into(),
            title: "Latency (http_req_duration)".into(),
            unit: "ms".into(),
            series: vec![
                line("p50", &percentile("http_req_duration", 50.0)),
                line("p95", &percentile("http_req_duration", 95.0)),
                line("p99", &percentile("http_req_duration", 99.0)),
            ],
        },
    ];
    for metric in STREAM_TRENDS {
        if buckets.iter().any(|b| b.trend(metric).is_some()) {
            charts.push(Chart {
                id: (*metric).to_string(),
                title: (*metric).to_string(),
                unit: "ms".into(),
                series: vec![
                    line("p50", &percentile(metric, 50.0)),
                    line("p95", &percentile(metric, 95.0)),
                ],
            });
        }
    }
    ChartData {
        x: buckets.iter().map(|b| b.start_ms as f64 / 1000.0).collect(),
        charts,
        stages: timeline
            .stages
            .iter()
            .map(|s| StageLine {
                at: s.start_ms as f64 / 1000.0,
                label: format!("{}: {}", s.scenario, s.label),
            })
            .collect(),
        breaks: breaking
            .iter()
            .filter_map(|b| {
                Some(StageLine {
                    at: b.start_ms? as f64 / 1000.0,
                    label: format!(
                        "{} broke {} at {} {}",
                        b.scenario,
                        b.condition,
                        crate::report::format_number(b.load?),
                        b.unit
                    ),
                })
            })
            .collect(),
    }
}
