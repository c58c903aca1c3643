//! An in-test OTLP metrics receiver built from `opentelemetry-proto`: a
//! tonic gRPC server and an axum HTTP handler that decode every
//! `ExportMetricsServiceRequest`, keep it, and can refuse the first N
//! requests (gRPC UNAVAILABLE / HTTP 503) to exercise retries.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Metric, NumberDataPoint, number_data_point};
use prost::Message as _;
use tokio::sync::oneshot;

#[derive(Default)]
struct State {
    requests: Mutex<Vec<ExportMetricsServiceRequest>>,
    /// Requests still to refuse before accepting.
    refuse: AtomicU64,
    attempts: AtomicU64,
    /// Content types of HTTP requests, in order.
    content_types: Mutex<Vec<String>>,
    /// `authorization` header (HTTP) or metadata (gRPC) of each request.
    authorizations: Mutex<Vec<String>>,
}

impl State {
    /// Whether to refuse this attempt.
    fn refuse_now(&self) -> bool {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        self.refuse
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// A running receiver; stops when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Receiver {
    /// The URL the otlp output is given: `otlp+grpc://` or `http://`.
    pub fn grpc_target(&self) -> String {
        format!("otlp+grpc://{}", self.addr)
    }

    pub fn http_target(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Requests received, refused ones included.
    pub fn attempts(&self) -> u64 {
        self.state.attempts.load(Ordering::SeqCst)
    }

    pub fn authorizations(&self) -> Vec<String> {
        self.state.authorizations.lock().unwrap().clone()
    }

    pub fn content_types(&self) -> Vec<String> {
        self.state.content_types.lock().unwrap().clone()
    }

    /// Every metric of every accepted request, with its resource's
    /// attributes, in arrival order.
    pub fn metrics(&self) -> Vec<(Vec<(String, String)>, Metric)> {
        let mut out = Vec::new();
        for request in self.requests() {
            for rm in request.resource_metrics {
                let resource = rm
                    .resource
                    .map(|r| attributes(&r.attributes))
                    .unwrap_or_default();
                for sm in rm.scope_metrics {
                    assert_eq!(sm.scope.as_ref().map(|s| s.name.as_str()), Some("stampede"));
                    for m in sm.metrics {
                        out.push((resource.clone(), m));
                    }
                }
            }
        }
        out
    }
}

pub fn attributes(kv: &[KeyValue]) -> Vec<(String, String)> {
    kv.iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

pub fn number(p: &NumberDataPoint) -> f64 {
    match p.value {
        Some(number_data_point::Value::AsDouble(v)) => v,
        Some(number_data_point::Value::AsInt(v)) => v as f64,
        None => panic!("data point without value"),
    }
}

struct Grpc(Arc<State>);

#[tonic::async_trait]
impl MetricsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let auth = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        self.0.authorizations.lock().unwrap().push(auth);
        if self.0.refuse_now() {
            return Err(tonic::Status::unavailable("receiver warming up"));
        }
        self.0.requests.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// A gRPC receiver on a free loopback port refusing its first `refuse` requests.
pub async fn start_grpc(refuse: u64) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(State {
        refuse: AtomicU64::new(refuse),
        ..State::default()
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let service = MetricsServiceServer::new(Grpc(state.clone()));
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                async {
                    let _ = stopped.await;
                },
            )
            .await;
    });
    Receiver {
        addr,
        state,
        stop: Some(stop),
    }
}

/// An OTLP/HTTP receiver (`POST /v1/metrics`, protobuf) on a free loopback
/// port refusing its first `refuse` requests with 503.
pub async fn start_http(refuse: u64) -> Receiver {
    use axum::body::Bytes;
    use axum::extract::State as AxState;
    use axum::http::{HeaderMap, StatusCode};

    async fn handle(
        AxState(state): AxState<Arc<State>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (StatusCode, Vec<u8>) {
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        state.content_types.lock().unwrap().push(content_type);
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        state.authorizations.lock().unwrap().push(auth);
        if state.refuse_now() {
            return (StatusCode::SERVICE_UNAVAILABLE, Vec::new());
        }
        match ExportMetricsServiceRequest::decode(body) {
            Ok(request) => {
                state.requests.lock().unwrap().push(request);
                (
                    StatusCode::OK,
                    ExportMetricsServiceResponse::default().encode_to_vec(),
                )
            }
            Err(e) => (StatusCode::BAD_REQUEST, e.to_string().into_bytes()),
        }
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = Arc::new(State {
        refuse: AtomicU64::new(refuse),
        ..State::default()
    });
    let app = axum::Router::new()
        .route("/v1/metrics", axum::routing::post(handle))
        .with_state(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Receiver {
        addr,
        state,
        stop: Some(stop),
    }
}
