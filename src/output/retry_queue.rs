//! The delivery machinery every network output shares, whatever carries the
//! bytes (HTTP or gRPC): a bounded FIFO of pending requests, attempts in
//! order, exponential backoff with jitter (or the server's `Retry-After`),
//! and the counts of points sent, retried and dropped.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::retry::Backoff;
use crate::metrics::{DeliveryStats, SinkError};

/// A queued request that knows how many points it carries.
pub trait Weighted {
    fn points(&self) -> u64;
}

/// What one attempt to send a request came to.
#[derive(Debug)]
pub enum Attempt {
    /// Delivered; the receiver may still have refused `refused` of its
    /// points (OTLP partial success), for the reason in `message`.
    Sent { refused: u64, message: String },
    /// Keep it and try again, after the server's `Retry-After` when given.
    Retry {
        message: String,
        after: Option<Duration>,
    },
    /// The backend refused this request: sending it again would fail again,
    /// later ones may succeed.
    Rejected(String),
    /// Nothing sent to this endpoint can succeed (bad credentials).
    Fatal(String),
}

impl Attempt {
    /// Delivered in full.
    pub fn sent() -> Self {
        Attempt::Sent {
            refused: 0,
            message: String::new(),
        }
    }
}

/// Pending requests of one output and the state of their retries. Owned by
/// its sink's task.
pub struct RetryQueue<T> {
    name: String,
    buffer_points: u64,
    pending: VecDeque<T>,
    pending_points: u64,
    backoff: Backoff,
    /// No attempt before this instant (backoff or `Retry-After`).
    not_before: Option<Instant>,
    /// Set once a fatal answer came; nothing more is sent.
    fatal: bool,
    /// Whether the last attempt failed, so a failure streak is reported once.
    failing: bool,
    stats: Arc<DeliveryStats>,
}

impl<T> std::fmt::Debug for RetryQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryQueue")
            .field("name", &self.name)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<T: Weighted + Clone> RetryQueue<T> {
    /// A queue for the output called `name` holding at most `buffer_points`.
    pub fn new(name: String, buffer_points: u64) -> Self {
        RetryQueue {
            name,
            buffer_points: buffer_points.max(1),
            pending: VecDeque::new(),
            pending_points: 0,
            backoff: Backoff::default(),
            not_before: None,
            fatal: false,
            failing: false,
            stats: Arc::new(DeliveryStats::default()),
        }
    }

    /// The counts this queue keeps (shared with the summary).
    pub fn stats(&self) -> Arc<DeliveryStats> {
        self.stats.clone()
    }

    /// Points waiting to be sent.
    pub fn pending_points(&self) -> u64 {
        self.pending_points
    }

    /// Queues a request behind those waiting. When the buffer would exceed
    /// its limit, the oldest requests are dropped (and counted).
    pub fn enqueue(&mut self, item: T) {
        if self.fatal {
            self.stats.add_dropped(item.points());
            return;
        }
        while !self.pending.is_empty() && self.pending_points + item.points() > self.buffer_points {
            if let Some(old) = self.pop_front() {
                self.stats.add_dropped(old.points());
                tracing::warn!(output = %self.name, points = old.points(), "output buffer full; dropped the oldest data");
            }
        }
        self.pending_points += item.points();
        self.pending.push_back(item);
        self.stats.set_pending(self.pending_points);
    }

    /// Sends what is queued, oldest first, with `attempt`, for at most
    /// `budget`. What cannot be sent in time stays queued for the next call.
    /// Returns an error the first time a failure streak starts (later
    /// failures of the same streak are counted, not repeated), for refused
    /// data, and for a fatal answer (after which everything is dropped).
    pub async fn flush<F, Fut>(&mut self, budget: Duration, mut attempt: F) -> Result<(), SinkError>
    where
        F: FnMut(T) -> Fut,
        Fut: Future<Output = Attempt>,
    {
        let deadline = Instant::now() + budget;
        let mut result = Ok(());
        while let Some(item) = self.pending.front().cloned() {
            if let Some(at) = self.not_before {
                if at > deadline {
                    break;
                }
                tokio::time::sleep_until(at).await;
            }
            let points = item.points();
            match attempt(item).await {
                Attempt::Sent { refused, message } => {
                    self.pop_front();
                    let refused = refused.min(points);
                    self.stats.add_sent(points - refused);
                    self.backoff.reset();
                    self.not_before = None;
                    if std::mem::take(&mut self.failing) {
                        tracing::info!(output = %self.name, "output delivers again");
                    }
                    if refused > 0 {
                        self.stats.add_dropped(refused);
                        tracing::warn!(output = %self.name, refused, error = %message, "receiver refused some data points");
                        result = Err(SinkError::Rejected(format!(
                            "{refused} data points refused: {message}"
                        )));
                    }
                }
                Attempt::Retry { message, after } => {
                    self.stats.add_retried(points);
                    let wait = after.unwrap_or_else(|| self.backoff.next_delay());
                    self.not_before = Some(Instant::now() + wait);
                    if !std::mem::replace(&mut self.failing, true) {
                        tracing::warn!(output = %self.name, error = %message, "output cannot deliver; keeping data and retrying");
                        result = Err(SinkError::Retryable(message));
                    }
                }
                Attempt::Rejected(message) => {
                    self.pop_front();
                    self.stats.add_dropped(points);
                    tracing::warn!(output = %self.name, error = %message, "output refused data; dropped it");
                    result = Err(SinkError::Rejected(message));
                }
                Attempt::Fatal(message) => {
                    self.drop_pending();
                    self.fatal = true;
                    return Err(SinkError::Fatal(message));
                }
            }
        }
        result
    }

    /// The final delivery: like [`flush`](Self::flush) within `budget`, then
    /// whatever could not be sent is dropped and counted.
    pub async fn finish<F, Fut>(&mut self, budget: Duration, attempt: F) -> Result<(), SinkError>
    where
        F: FnMut(T) -> Fut,
        Fut: Future<Output = Attempt>,
    {
        // A backoff set during the run must not eat the final budget: try at once.
        self.not_before = None;
        let result = self.flush(budget, attempt).await;
        let left = self.pending_points;
        self.drop_pending();
        match result {
            Err(e) => Err(e),
            Ok(()) if left > 0 => Err(SinkError::Retryable(format!(
                "{left} points could not be delivered within {:.1}s at the end",
                budget.as_secs_f64()
            ))),
            Ok(()) => Ok(()),
        }
    }

    fn pop_front(&mut self) -> Option<T> {
        let item = self.pending.pop_front()?;
        self.pending_points -= item.points();
        self.stats.set_pending(self.pending_points);
        Some(item)
    }

    fn drop_pending(&mut self) {
        for item in self.pending.drain(..) {
            self.stats.add_dropped(item.points());
        }
        self.pending_points = 0;
        self.stats.set_pending(0);
    }
}
