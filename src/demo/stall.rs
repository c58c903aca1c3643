//! A server stall: every response is held during the last `pause` of each
//! `every` period, as when a garbage collector or a lock stops the world.
//! Closed-model load barely notices (VUs simply wait); open-model load shows
//! it in the latency tail, in `iteration_scheduling_lag` and, when `max_vus`
//! is too small, in `dropped_iterations`.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

use super::config::ConfigError;
use super::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    /// How long responses are held.
    pub pause: Duration,
    /// Period: one pause at the end of every period, counted from server start.
    pub every: Duration,
}

impl Stall {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.pause.is_zero() || self.pause >= self.every {
            return Err(ConfigError::Stall(self.pause, self.every));
        }
        Ok(())
    }

    /// How long a response ready `elapsed` after server start must wait: to
    /// the end of the pause window it falls in, else not at all.
    pub fn hold(&self, elapsed: Duration) -> Duration {
        let every = self.every.as_nanos();
        let phase = elapsed.as_nanos() % every;
        let window_start = every - self.pause.as_nanos();
        if phase >= window_start {
            Duration::from_nanos((every - phase) as u64)
        } else {
            Duration::ZERO
        }
    }
}

/// Middleware: holds the handler's response while the server is stalled.
pub async fn stall_layer(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if let Some(stall) = state.config.stall {
        let hold = stall.hold(Duration::from_nanos(state.now_nanos()));
        if !hold.is_zero() {
            tokio::time::sleep(hold).await;
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_to_the_end_of_the_window() {
        let s = Stall {
            pause: Duration::from_secs(1),
            every: Duration::from_secs(5),
        };
        assert_eq!(s.hold(Duration::from_millis(3999)), Duration::ZERO);
        assert_eq!(s.hold(Duration::from_millis(4000)), Duration::from_secs(1));
        assert_eq!(
            s.hold(Duration::from_millis(4750)),
            Duration::from_millis(250)
        );
        assert_eq!(s.hold(Duration::from_millis(5000)), Duration::ZERO);
        assert_eq!(
            s.hold(Duration::from_millis(9500)),
            Duration::from_millis(500)
        );
        assert!(s.validate().is_ok());
        let bad = Stall {
            pause: Duration::from_secs(5),
            every: Duration::from_secs(5),
        };
        assert!(bad.validate().is_err());
    }
}
