//! `--metrics-listen ADDR`: a live `/metrics` endpoint for a Prometheus
//! that scrapes the load generator instead of receiving remote-write.
//!
//! It serves the series remote-write sends under `naming=stampede`
//! (without `job`, which the scraping Prometheus adds), so the same
//! dashboards read a scraped run: counters `stampede_<m>_total`, gauges
//! `stampede_<m>`, rates as two counters and a `_ratio` gauge, the run
//! markers (`stampede_test_start_timestamp_seconds`, and once the run
//! ended `stampede_test_end_timestamp_seconds` and
//! `stampede_threshold_passed`). Trends are native histograms for scrapers
//! that ask for protobuf, summaries under another name for text scrapers
//! ([`families`]). Values are those of the latest snapshot (one per
//! second).
//!
//! - [`proto`]: the `io.prometheus.client` messages, derived by hand.
//! - [`families`]: the state → metric families (pure).
//! - [`text`]: the text format and the `Accept` negotiation.
//!
//! After the run the endpoint lingers: it serves the final values until a
//! scrape has read them, or until the linger limit, so a scraper does not
//! miss the last seconds of the run.

pub mod families;
pub mod proto;
pub mod text;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

pub use families::{Exposition, QUANTILES, RunOutcome, ScrapeState};

use crate::metrics::{Sink, SinkFuture, Snapshot, Summary};
use crate::output::OutputContext;
use crate::output::markers::{end_time, threshold_marks, unix_seconds};

/// How long the server may take to close its connections at the end.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the endpoint keeps serving the final values after the run when
/// no scrape reads them: three 5 s scrape intervals, so a scraper at 5 s
/// gets them even when one scrape fails.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(15);

/// Prints a line for the user (the CLI passes one writing to stderr).
pub type Notice = fn(&str);

/// Where and how long to serve.
#[derive(Clone, Copy, Debug)]
pub struct ScrapeOptions {
    /// Address to bind; port 0 picks a free one.
    pub addr: SocketAddr,
    /// How long to keep serving the final values when no scrape reads
    /// them; zero stops the endpoint with the run.
    pub linger: Duration,
}

impl ScrapeOptions {
    /// The time the sink may take to finish: the linger and the shutdown.
    /// The engine's `sink_finish_timeout` must be at least this, or the
    /// linger is cut short (the CLI adds it to the finish budget).
    pub fn finish_budget(&self) -> Duration {
        self.linger + SHUTDOWN_TIMEOUT
    }
}

/// A bound endpoint and the sink that feeds it.
pub struct ScrapeEndpoint {
    /// The address actually bound (the real port when asked for port 0).
    pub local_addr: SocketAddr,
    pub sink: Box<dyn Sink>,
}

/// What the server and the sink share.
struct Shared {
    state: Mutex<ScrapeState>,
    /// Signalled by a scrape that read the final values.
    final_scraped: Notify,
}

/// Binds `options.addr` and starts serving `/metrics`; the returned sink
/// keeps it up to date and stops the server when it finishes.
pub fn serve(
    options: ScrapeOptions,
    ctx: &OutputContext,
    notice: Notice,
) -> impl Future<Output = Result<ScrapeEndpoint, std::io::Error>> + use<> {
    let shared = Arc::new(Shared {
        state: Mutex::new(ScrapeState::new(ctx.registry.clone(), ctx.testid.clone())),
        final_scraped: Notify::new(),
    });
    async move {
        let listener = tokio::net::TcpListener::bind(options.addr).await?;
        let local_addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = axum::Router::new()
            .route("/metrics", axum::routing::get(metrics))
            .with_state(shared.clone());
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
        tracing::info!(address = %local_addr, "serving live metrics at /metrics");
        let sink = ScrapeSink {
            name: format!("metrics-listen ({local_addr})"),
            local_addr,
            linger: options.linger,
            notice,
            shared,
            stop: Some(stop),
            server: Some(server),
        };
        Ok(ScrapeEndpoint {
            local_addr,
            sink: Box::new(sink),
        })
    }
}

/// Feeds the endpoint from the snapshots.
struct ScrapeSink {
    name: String,
    local_addr: SocketAddr,
    linger: Duration,
    notice: Notice,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl ScrapeSink {
    /// Waits (at most the linger) for a scrape of the final values.
    async fn linger(&self) {
        if self.linger.is_zero() {
            return;
        }
        let url = format!("http://{}/metrics", self.local_addr);
        let limit = self.linger.as_secs_f64();
        (self.notice)(&format!(
            "  metrics endpoint: serving the final values at {url} until the next scrape (at most {limit}s, --metrics-linger)"
        ));
        let scraped = self.shared.final_scraped.notified();
        if tokio::time::timeout(self.linger, scraped).await.is_err() {
            (self.notice)(&format!(
                "warning: metrics endpoint: no scrape read the final values within {limit}s; stopping (--metrics-linger)"
            ));
        }
    }
}

impl Sink for ScrapeSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn write(&mut self, snapshot: Arc<Snapshot>) -> SinkFuture<'_> {
        let mut state = lock(&self.shared.state);
        state.markers.observe(&snapshot);
        state.thresholds.clone_from(&snapshot.thresholds);
        for point in &snapshot.series {
            state.set(point.metric, &point.tags, &point.total);
        }
        Box::pin(async { Ok(()) })
    }

    fn finish(&mut self, summary: Arc<Summary>) -> SinkFuture<'_> {
        // Every snapshot, the last one included, was written before this.
        lock(&self.shared.state).outcome = Some(RunOutcome {
            end_seconds: unix_seconds(end_time(&summary)),
            thresholds: threshold_marks(&summary),
        });
        Box::pin(async move {
            self.linger().await;
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

async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = text::negotiate(accept);
    let (families, is_final) = {
        let state = lock(&shared.state);
        (state.families(format), state.outcome.is_some())
    };
    let response = match format {
        Exposition::Protobuf => (
            [(header::CONTENT_TYPE, proto::CONTENT_TYPE)],
            proto::encode_delimited(&families),
        )
            .into_response(),
        Exposition::Text => (
            [(header::CONTENT_TYPE, text::CONTENT_TYPE)],
            text::encode_text(&families),
        )
            .into_response(),
    };
    if is_final {
        // The graceful shutdown that follows still sends this response.
        shared.final_scraped.notify_one();
    }
    response
}
