//! Starting and stopping the demo server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::config::DemoConfig;
use super::routes::router;
use super::state::AppState;
use super::stats::DemoStats;

/// How long [`DemoServer::shutdown`] waits for open connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A demo server running in a background task. Dropping it also stops the
/// server (gracefully, without waiting); [`DemoServer::shutdown`] waits.
pub struct DemoServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl DemoServer {
    /// Binds (use "127.0.0.1:0" for a free port) and serves in a background tokio task.
    pub async fn start(addr: SocketAddr, config: DemoConfig) -> std::io::Result<DemoServer> {
        let (listener, state) = bind(addr, config).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router(Arc::clone(&state));
        let counted = Arc::clone(&state);
        let task = tokio::spawn(async move {
            axum::serve(listener.tap_io(move |tcp| accepted(&counted, tcp)), app)
                .with_graceful_shutdown(async {
                    // Resolves on an explicit stop and when the handle is dropped.
                    let _ = stopped.await;
                })
                .await
        });
        Ok(DemoServer {
            addr,
            state,
            stop,
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT`, no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Counts of requests per endpoint, logins, 401s, 429s, quota refusals
    /// and connections so far.
    pub fn stats(&self) -> DemoStats {
        self.state.stats.snapshot()
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then returns.
    pub async fn shutdown(self) {
        let DemoServer { stop, mut task, .. } = self;
        let _ = stop.send(());
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => tracing::warn!(error = %err, "demo server stopped with an error"),
            Ok(Err(err)) => tracing::warn!(error = %err, "demo server task failed"),
            Err(_) => {
                tracing::warn!(
                    grace_secs = SHUTDOWN_GRACE.as_secs(),
                    "demo server connections still open after the grace period; closing them"
                );
                task.abort();
            }
        }
    }
}

/// Runs until ctrl-c; for `stampede demo --listen ADDR`. Logs the URL with tracing::info.
pub async fn serve_forever(addr: SocketAddr, config: DemoConfig) -> std::io::Result<()> {
    let (listener, state) = bind(addr, config).await?;
    let local = listener.local_addr()?;
    tracing::info!(url = %format!("http://{local}"), "demo server listening");
    let counted = Arc::clone(&state);
    axum::serve(
        listener.tap_io(move |tcp| accepted(&counted, tcp)),
        router(state),
    )
    .with_graceful_shutdown(async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            // Without a signal handler we cannot be stopped politely; keep serving.
            tracing::warn!(error = %err, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
        tracing::info!("demo server shutting down");
    })
    .await
}

async fn bind(
    addr: SocketAddr,
    config: DemoConfig,
) -> std::io::Result<(TcpListener, Arc<AppState>)> {
    config.validate()?;
    let listener = listen(addr)?;
    // Generating the ~1 MiB catalogue is CPU work; keep it off the async workers.
    let state = tokio::task::spawn_blocking(move || AppState::new(config))
        .await
        .map_err(std::io::Error::other)?;
    Ok((listener, Arc::new(state)))
}

/// Connections the kernel may hold for the server before it accepts them.
/// Every VU of a constant-vus scenario connects at its start, thousands at
/// once, and tokio's default of 1,024 overflowed: connects then waited for
/// SYN retransmits, and some timed out (seen with 50,000 WebSocket sessions
/// in bench/connections.sh). The kernel caps it at `net.core.somaxconn`.
const ACCEPT_BACKLOG: u32 = 65_535;

/// Binds as `TcpListener::bind` does (SO_REUSEADDR on Unix), with a larger
/// accept backlog.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

/// Counts the connection (tests tell HTTP/2 multiplexing from one
/// connection per request by it) and disables Nagle's algorithm: responses
/// are written whole, it would only add latency.
fn accepted(state: &AppState, stream: &mut tokio::net::TcpStream) {
    state.stats.count_connection();
    if let Err(err) = stream.set_nodelay(true) {
        tracing::trace!(error = %err, "cannot set TCP_NODELAY");
    }
}
