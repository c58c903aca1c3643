//! Receivers on 127.0.0.1 for the delivery fault tests: one that refuses
//! connections, one that accepts and never answers, and one that decodes
//! every request (remote-write, OTLP over HTTP or gRPC, InfluxDB line
//! protocol), counts its points, waits, then answers with a chosen status.

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message as _;
use stampede::output::prometheus_rw::proto::decode_request;
use tokio::runtime::Runtime;

/// The wire format a receiver decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    RemoteWrite,
    OtlpHttp,
    OtlpGrpc,
    LineProtocol,
}

/// How a receiver answers.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    /// Waits this long after decoding a request.
    pub after: Duration,
    /// Then answers: true with success, false with "unauthorized" (HTTP 401,
    /// gRPC UNAUTHENTICATED).
    pub authorized: bool,
}

/// What a decoding receiver saw.
#[derive(Default)]
pub struct Record {
    /// Points of each request decoded, in arrival order.
    pub received: Vec<u64>,
    /// Points of each request answered with success, in answer order.
    pub answered: Vec<u64>,
}

pub type Shared = Arc<Mutex<Record>>;

/// An address on 127.0.0.1 where nothing listens: connections are refused.
pub fn refusing() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
    // Dropped here: the port is closed again.
}

/// Accepts connections and never reads from or writes to them. Returns its
/// address and the number of connections accepted so far.
pub fn black_hole(rt: &Runtime) -> (SocketAddr, Arc<Mutex<u64>>) {
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"));
    let listener = listener.expect("bind");
    let addr = listener.local_addr().expect("address");
    let accepted = Arc::new(Mutex::new(0));
    let count = accepted.clone();
    rt.spawn(async move {
        let mut held = Vec::new();
        // A run opens a handful; past 64 the listener stops accepting, and
        // connections wait in its backlog, unanswered just the same. The
        // task ends with the test's runtime.
        while held.len() < 64
            && let Ok((socket, _)) = listener.accept().await
        {
            *count.lock().unwrap() += 1;
            held.push(socket);
        }
        std::future::pending::<()>().await;
        drop((listener, held));
    });
    (addr, accepted)
}

/// A receiver decoding `wire` and answering as `answer` says.
pub fn decoding(rt: &Runtime, wire: Wire, answer: Answer) -> (SocketAddr, Shared) {
    let record = Shared::default();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"));
    let listener = listener.expect("bind");
    let addr = listener.local_addr().expect("address");
    if wire == Wire::OtlpGrpc {
        let service = MetricsServiceServer::new(Grpc {
            record: record.clone(),
            answer,
        });
        rt.spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
    } else {
        let app = axum::Router::new()
            .fallback(axum::routing::post(http))
            .with_state(Http {
                record: record.clone(),
                wire,
                answer,
            });
        rt.spawn(async move { axum::serve(listener, app).await });
    }
    (addr, record)
}

#[derive(Clone)]
struct Http {
    record: Shared,
    wire: Wire,
    answer: Answer,
}

async fn http(State(state): State<Http>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let points = match state.wire {
        Wire::RemoteWrite => decode_request(&body)
            .expect("remote-write body")
            .timeseries
            .len() as u64,
        Wire::OtlpHttp => {
            otlp_points(&ExportMetricsServiceRequest::decode(body).expect("OTLP protobuf body"))
        }
        Wire::LineProtocol => line_points(&headers, &body),
        Wire::OtlpGrpc => unreachable!("served by tonic"),
    };
    state.record.lock().unwrap().received.push(points);
    tokio::time::sleep(state.answer.after).await;
    if !state.answer.authorized {
        return StatusCode::UNAUTHORIZED;
    }
    state.record.lock().unwrap().answered.push(points);
    if state.wire == Wire::OtlpHttp {
        StatusCode::OK
    } else {
        StatusCode::NO_CONTENT
    }
}

struct Grpc {
    record: Shared,
    answer: Answer,
}

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let points = otlp_points(request.get_ref());
        self.record.lock().unwrap().received.push(points);
        tokio::time::sleep(self.answer.after).await;
        if !self.answer.authorized {
            return Err(tonic::Status::unauthenticated("bad token"));
        }
        self.record.lock().unwrap().answered.push(points);
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// Data points in an OTLP request, as the output counts them.
pub fn otlp_points(request: &ExportMetricsServiceRequest) -> u64 {
    let mut points = 0;
    for rm in &request.resource_metrics {
        for sm in &rm.scope_metrics {
            for metric in &sm.metrics {
                points += match &metric.data {
                    Some(Data::Gauge(g)) => g.data_points.len(),
                    Some(Data::Sum(s)) => s.data_points.len(),
                    Some(Data::Histogram(h)) => h.data_points.len(),
                    Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                    Some(Data::Summary(s)) => s.data_points.len(),
                    None => panic!("metric {} without data", metric.name),
                } as u64;
            }
        }
    }
    points
}

/// Lines of a (possibly gzipped) line-protocol body.
fn line_points(headers: &HeaderMap, body: &[u8]) -> u64 {
    let text = if headers
        .get("content-encoding")
        .is_some_and(|v| v.as_bytes() == b"gzip")
    {
        let mut text = String::new();
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .expect("gzip line protocol");
        text
    } else {
        String::from_utf8(body.to_vec()).expect("UTF-8 line protocol")
    };
    text.lines().filter(|l| !l.trim().is_empty()).count() as u64
}
