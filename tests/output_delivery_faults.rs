//! Delivery that never delays the end of a run, for every network output
//! (prometheus-rw, otlp over HTTP and gRPC, influxdb): a real `stampede run
//! --demo` against receivers written here that refuse connections, accept
//! and never answer, answer slowly, or answer 401. Each run must end within
//! `flush_timeout` of its planned duration (plus the slack below), and the
//! summary JSON must count every point: sent is what the receiver
//! answered, and sent + dropped is what a healthy receiver gets from the
//! same run.

#[path = "delivery_faults/receivers.rs"]
mod receivers;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use receivers::{Answer, Shared, Wire, black_hole, decoding, refusing};
use tokio::runtime::Runtime;

/// 10 requests/s for 1.5 s: 15 requests, and two snapshots (at 1 s and at
/// the end), so every run of it yields the same points.
const SCENARIO: &str = r#"
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 10
    duration: 1500ms
    preallocated_vus: 2
    max_vus: 4
    flow:
      - request: { name: health, url: "{{ BASE_URL }}/health" }
"#;
const PLANNED: Duration = Duration::from_millis(1500);
const REQUESTS: u64 = 15;
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);
/// Starting the process and the demo target, the last requests, the summary:
/// what a run with a healthy output takes beyond its plan (about 0.2 s here).
const SLACK: Duration = Duration::from_millis(1200);
/// A push interval longer than the run: one push at the end, so the points
/// of a run do not depend on when the snapshots fell.
const OPTIONS: &str = "push_interval=30s;flush_timeout=2s;timeout=10s";

#[derive(Clone, Copy, Debug)]
enum Kind {
    PrometheusRw,
    OtlpHttp,
    OtlpGrpc,
    InfluxDb,
}

impl Kind {
    fn wire(self) -> Wire {
        match self {
            Kind::PrometheusRw => Wire::RemoteWrite,
            Kind::OtlpHttp => Wire::OtlpHttp,
            Kind::OtlpGrpc => Wire::OtlpGrpc,
            Kind::InfluxDb => Wire::LineProtocol,
        }
    }

    /// The `--out` value for a receiver at `addr`.
    fn out(self, addr: std::net::SocketAddr, options: &str) -> String {
        match self {
            Kind::PrometheusRw => format!("prometheus-rw=http://{addr}/api/v1/write;{options}"),
            Kind::OtlpHttp => format!("otlp=http://{addr};{options}"),
            Kind::OtlpGrpc => format!("otlp=otlp+grpc://{addr};{options}"),
            Kind::InfluxDb => format!("influxdb=http://{addr}?org=o&bucket=b;{options}"),
        }
    }

    /// How the output words a refused credential, before its name.
    fn unauthorized(self) -> &'static str {
        match self {
            Kind::OtlpGrpc => "gRPC Unauthenticated: check the credentials for output",
            _ => "HTTP 401: check the credentials for output",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One finished run of the binary.
struct Run {
    took: Duration,
    stdout: String,
    /// The summary JSON's only `outputs` entry.
    output: serde_json::Value,
}

impl Run {
    /// Points sent, retried and dropped.
    fn points(&self) -> (u64, u64, u64) {
        let p = &self.output["points"];
        let n = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("points.{k} in {p}"));
        (n("sent"), n("retried"), n("dropped"))
    }

    fn errors(&self) -> Vec<String> {
        self.output["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| e.as_str().expect("error text").to_string())
            .collect()
    }

    fn name(&self) -> &str {
        self.output["name"].as_str().expect("output name")
    }

    /// The console's points line for this output.
    fn assert_console_points(&self) {
        let (sent, retried, dropped) = self.points();
        let line = format!("points     {sent} sent, {retried} retried, {dropped} dropped");
        assert!(self.stdout.contains("█ OUTPUTS"), "{}", self.stdout);
        assert!(self.stdout.contains(&line), "{line:?} in\n{}", self.stdout);
    }

    fn assert_ends_within(&self, bound: Duration) {
        assert!(
            self.took < bound,
            "took {:?}, bound {bound:?} (planned {PLANNED:?})",
            self.took
        );
    }
}

/// Runs the scenario with one output of `kind` at `addr`.
fn run(kind: Kind, addr: std::net::SocketAddr) -> Run {
    run_with(kind, addr, OPTIONS)
}

/// [`run`] with the output's options given.
fn run_with(kind: Kind, addr: std::net::SocketAddr, options: &str) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("steady.yaml");
    std::fs::write(&file, SCENARIO).expect("scenario written");
    let export = dir.path().join("summary.json");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .env_remove("BASE_URL")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .env("STAMPEDE_LOG", "error")
        .env("STAMPEDE_INFLUXDB_TOKEN", "test-token")
        .args(["run", "--demo", "--quiet", "--no-color", "--out"])
        .arg(kind.out(addr, options))
        .arg("--summary-export")
        .arg(&export)
        .arg(&file)
        .output()
        .expect("the stampede binary runs");
    let took = started.elapsed();
    // The figure `--nocapture` shows, for the docs' bound.
    eprintln!("{kind:?} at {addr}: the run took {took:?}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Delivery problems never change the verdict.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary = read_json(&export);
    assert_eq!(
        summary["metrics"]["http_reqs"]["count"], REQUESTS,
        "{summary}"
    );
    let outputs = summary["outputs"]
        .as_array()
        .expect("outputs in the summary");
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    Run {
        took,
        stdout,
        output: outputs[0].clone(),
    }
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read(path).expect("summary JSON written");
    serde_json::from_slice(&text).expect("summary JSON parses")
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn sum(points: &[u64]) -> u64 {
    points.iter().sum()
}

/// The points a run of the scenario produces for `kind`: what a healthy
/// receiver gets, checked against the summary. Measured once per kind.
fn produced(kind: Kind) -> u64 {
    static PRODUCED: [OnceLock<u64>; 4] = [const { OnceLock::new() }; 4];
    *PRODUCED[kind.index()].get_or_init(|| {
        let rt = runtime();
        let answer = Answer {
            after: Duration::ZERO,
            authorized: true,
        };
        let (addr, record) = decoding(&rt, kind.wire(), answer);
        let run = run(kind, addr);
        let record = record.lock().unwrap();
        let (sent, retried, dropped) = run.points();
        assert!(sent > REQUESTS, "{kind:?}: only {sent} points");
        assert_eq!(sum(&record.answered), sent, "{kind:?}");
        assert_eq!(record.received, record.answered, "{kind:?}");
        assert_eq!((retried, dropped), (0, 0), "{kind:?}");
        assert!(run.errors().is_empty(), "{:?}", run.errors());
        assert_eq!(run.output["snapshots_dropped"], 0);
        run.assert_console_points();
        run.assert_ends_within(PLANNED + SLACK);
        sent
    })
}

fn healthy(kind: Kind) {
    produced(kind);
}

fn refused(kind: Kind) {
    let produced = produced(kind);
    let run = run(kind, refusing());
    let (sent, retried, dropped) = run.points();
    assert_eq!((sent, dropped), (0, produced), "{kind:?}");
    assert!(
        retried >= 1,
        "{kind:?}: the final push is tried at least once"
    );
    let left = format!("{produced} points could not be delivered within 2.0s at the end");
    assert!(
        run.errors()
            .iter()
            .any(|e| e.starts_with("finish: ") && e.ends_with(&left)),
        "{:?}",
        run.errors()
    );
    run.assert_console_points();
    run.assert_ends_within(PLANNED + FLUSH_TIMEOUT + SLACK);
}

fn never_answering(kind: Kind) {
    let produced = produced(kind);
    let rt = runtime();
    let (addr, accepted) = black_hole(&rt);
    let run = run(kind, addr);
    assert!(*accepted.lock().unwrap() >= 1, "{kind:?}: never connected");
    assert_eq!(run.points(), (0, 0, produced), "{kind:?}");
    assert_eq!(
        run.errors(),
        [format!(
            "finish: {produced} points could not be delivered within 2.0s at the end"
        )]
    );
    run.assert_console_points();
    // It waited for the whole budget, and not a moment past it.
    assert!(run.took >= PLANNED + FLUSH_TIMEOUT, "took {:?}", run.took);
    run.assert_ends_within(PLANNED + FLUSH_TIMEOUT + SLACK);
}

fn never_answering_with_pushes_every_second(kind: Kind) {
    let rt = runtime();
    let (addr, accepted) = black_hole(&rt);
    let run = run_with(kind, addr, "push_interval=1s;flush_timeout=2s;timeout=10s");
    assert!(*accepted.lock().unwrap() >= 1, "{kind:?}: never connected");
    // The push at 1 s hangs for the rest of the run: the sink still takes
    // every snapshot, and everything it made is counted at the end.
    assert_eq!(run.output["snapshots_dropped"], 0, "{}", run.output);
    assert_eq!(run.output["snapshots_written"], 2, "{}", run.output);
    let (sent, retried, dropped) = run.points();
    assert_eq!((sent, retried), (0, 0), "{kind:?}");
    assert!(dropped > REQUESTS, "{kind:?}: {dropped}");
    assert_eq!(
        run.errors(),
        [format!(
            "finish: {dropped} points could not be delivered within 2.0s at the end"
        )]
    );
    run.assert_console_points();
    assert!(run.took >= PLANNED + FLUSH_TIMEOUT, "took {:?}", run.took);
    run.assert_ends_within(PLANNED + FLUSH_TIMEOUT + SLACK);
}

fn slow_within_the_budget(kind: Kind) {
    let produced = produced(kind);
    let rt = runtime();
    let after = Duration::from_millis(400);
    let (addr, record) = decoding(
        &rt,
        kind.wire(),
        Answer {
            after,
            authorized: true,
        },
    );
    let run = run(kind, addr);
    let record: &Shared = &record;
    let answered = sum(&record.lock().unwrap().answered);
    assert_eq!(run.points(), (produced, 0, 0), "{kind:?}");
    assert_eq!(answered, produced, "{kind:?}");
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    run.assert_console_points();
    assert!(run.took >= PLANNED + after, "took {:?}", run.took);
    run.assert_ends_within(PLANNED + FLUSH_TIMEOUT + SLACK);
}

fn slower_than_the_budget(kind: Kind) {
    let produced = produced(kind);
    let rt = runtime();
    let (addr, record) = decoding(
        &rt,
        kind.wire(),
        Answer {
            after: Duration::from_secs(6),
            authorized: true,
        },
    );
    let run = run(kind, addr);
    let record = record.lock().unwrap();
    assert!(!record.received.is_empty(), "{kind:?}: nothing arrived");
    assert!(record.answered.is_empty(), "{kind:?}: answered in time?");
    assert_eq!(run.points(), (0, 0, produced), "{kind:?}");
    assert_eq!(
        run.errors(),
        [format!(
            "finish: {produced} points could not be delivered within 2.0s at the end"
        )]
    );
    run.assert_console_points();
    assert!(run.took >= PLANNED + FLUSH_TIMEOUT, "took {:?}", run.took);
    run.assert_ends_within(PLANNED + FLUSH_TIMEOUT + SLACK);
}

fn unauthorized(kind: Kind) {
    let produced = produced(kind);
    let rt = runtime();
    let (addr, record) = decoding(
        &rt,
        kind.wire(),
        Answer {
            after: Duration::ZERO,
            authorized: false,
        },
    );
    let run = run(kind, addr);
    let record = record.lock().unwrap();
    assert_eq!(record.received.len(), 1, "{kind:?}: nothing after the 401");
    assert!(record.answered.is_empty());
    // Every point is lost, not only those of the refused request.
    assert_eq!(run.points(), (0, 0, produced), "{kind:?}");
    let expected = format!("{} {}", kind.unauthorized(), run.name());
    assert!(
        run.errors().iter().any(|e| e.contains(&expected)),
        "{expected:?} in {:?}",
        run.errors()
    );
    run.assert_console_points();
    // Nothing to wait for once the credentials are refused.
    run.assert_ends_within(PLANNED + SLACK);
}

macro_rules! fault_tests {
    ($module:ident, $kind:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn a_healthy_receiver_gets_every_point() {
                healthy($kind);
            }

            #[test]
            fn refused_connections_end_the_run_within_the_flush_timeout() {
                refused($kind);
            }

            #[test]
            fn a_receiver_that_never_answers_is_cut_at_the_flush_timeout() {
                never_answering($kind);
            }

            #[test]
            fn a_receiver_that_never_answers_holds_up_no_snapshot_during_the_run() {
                never_answering_with_pushes_every_second($kind);
            }

            #[test]
            fn a_slow_receiver_within_the_flush_timeout_gets_every_point() {
                slow_within_the_budget($kind);
            }

            #[test]
            fn a_receiver_slower_than_the_flush_timeout_is_cut_and_counted() {
                slower_than_the_budget($kind);
            }

            #[test]
            fn a_401_counts_every_point_as_dropped() {
                unauthorized($kind);
            }
        }
    };
}

fault_tests!(prometheus_rw, Kind::PrometheusRw);
fault_tests!(otlp_http, Kind::OtlpHttp);
fault_tests!(otlp_grpc, Kind::OtlpGrpc);
fault_tests!(influxdb, Kind::InfluxDb);
