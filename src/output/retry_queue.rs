//! The delivery machinery every network output shares, whatever carries the
//! bytes (HTTP or gRPC): a bounded FIFO of pending requests, attempts in
//! order, exponential backoff with jitter (or the server's `Retry-After`),
//! and the counts of points sent, retried and dropped.
//!
//! The queue is plain state: [`QueueSender`](super::sender::QueueSender)
//! takes the next request out, attempts it on a task of its own and settles
//! the outcome here, so the sink that fills the queue never waits on the
//! network.

use std::collections::VecDeque;
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

/// What the sender should do next.
#[derive(Debug)]
pub enum Next<T> {
    /// Attempt this request (it is in flight until [`RetryQueue::settle`]).
    Send(T),
    /// A backoff or `Retry-After` holds the next attempt until then.
    WaitUntil(Instant),
    /// Nothing is pending.
    Idle,
    /// A fatal answer came: nothing more is sent.
    Stopped,
}

/// Pending requests of one output and the state of their retries.
pub struct RetryQueue<T> {
    name: String,
    buffer_points: u64,
    pending: VecDeque<T>,
    /// The request being attempted, taken from the front of `pending`; it
    /// goes back there on a retry.
    in_flight: Option<T>,
    /// Points in `pending` and `in_flight`.
    held_points: u64,
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
            .field("in_flight", &self.in_flight.is_some())
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
            in_flight: None,
            held_points: 0,
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

    /// Points waiting to be sent or being sent.
    pub fn pending_points(&self) -> u64 {
        self.held_points
    }

    /// Whether nothing is pending and nothing is in flight.
    pub fn is_settled(&self) -> bool {
        self.pending.is_empty() && self.in_flight.is_none()
    }

    /// Queues a request behind those waiting. When the buffer would exceed
    /// its limit, the oldest waiting requests are dropped (and counted); the
    /// one in flight is not, its outcome is still to come.
    pub fn enqueue(&mut self, item: T) {
        if self.fatal {
            self.stats.add_dropped(item.points());
            return;
        }
        while !self.pending.is_empty() && self.held_points + item.points() > self.buffer_points {
            if let Some(old) = self.pending.pop_front() {
                self.held_points -= old.points();
                self.stats.add_dropped(old.points());
                tracing::warn!(output = %self.name, points = old.points(), "output buffer full; dropped the oldest data");
            }
        }
        self.held_points += item.points();
        self.pending.push_back(item);
        self.stats.set_pending(self.held_points);
    }

    /// The next step at `now`: the oldest request (now in flight), a time
    /// to wait for, nothing, or stop.
    pub fn next(&mut self, now: Instant) -> Next<T> {
        if self.fatal {
            return Next::Stopped;
        }
        if self.in_flight.is_some() || self.pending.is_empty() {
            return Next::Idle;
        }
        if let Some(at) = self.not_before
            && at > now
        {
            return Next::WaitUntil(at);
        }
        let item = self.pending.pop_front().expect("checked not empty");
        self.in_flight = Some(item.clone());
        Next::Send(item)
    }

    /// Applies the outcome of the attempt at the request in flight. Returns
    /// an error the first time a failure streak starts (later failures of
    /// the same streak are counted, not repeated), for refused data, and for
    /// a fatal answer (after which everything is dropped).
    pub fn settle(&mut self, outcome: Attempt) -> Option<SinkError> {
        let item = self.in_flight.take()?;
        let points = item.points();
        let error = match outcome {
            Attempt::Sent { refused, message } => {
                self.held_points -= points;
                let refused = refused.min(points);
                self.stats.add_sent(points - refused);
                self.backoff.reset();
                self.not_before = None;
                if std::mem::take(&mut self.failing) {
                    tracing::info!(output = %self.name, "output delivers again");
                }
                (refused > 0).then(|| {
                    self.stats.add_dropped(refused);
                    tracing::warn!(output = %self.name, refused, error = %message, "receiver refused some data points");
                    SinkError::Rejected(format!("{refused} data points refused: {message}"))
                })
            }
            Attempt::Retry { message, after } => {
                self.pending.push_front(item);
                self.stats.add_retried(points);
                let wait = after.unwrap_or_else(|| self.backoff.next_delay());
                self.not_before = Some(Instant::now() + wait);
                (!std::mem::replace(&mut self.failing, true)).then(|| {
                    tracing::warn!(output = %self.name, error = %message, "output cannot deliver; keeping data and retrying");
                    SinkError::Retryable(message)
                })
            }
            Attempt::Rejected(message) => {
                self.held_points -= points;
                self.stats.add_dropped(points);
                tracing::warn!(output = %self.name, error = %message, "output refused data; dropped it");
                Some(SinkError::Rejected(message))
            }
            Attempt::Fatal(message) => {
                self.stats.add_dropped(points);
                self.held_points -= points;
                self.abandon();
                self.fatal = true;
                Some(SinkError::Fatal(message))
            }
        };
        self.stats.set_pending(self.held_points);
        error
    }

    /// The final delivery starts: a backoff set during the run must not eat
    /// its budget, so the next attempt may go at once.
    pub fn retry_now(&mut self) {
        self.not_before = None;
    }

    /// Drops everything held, in flight or waiting, and counts it as
    /// dropped. Returns the points dropped.
    pub fn abandon(&mut self) -> u64 {
        let left = self.held_points;
        self.pending.clear();
        self.in_flight = None;
        self.held_points = 0;
        self.stats.add_dropped(left);
        self.stats.set_pending(0);
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Request(u64);

    impl Weighted for Request {
        fn points(&self) -> u64 {
            self.0
        }
    }

    fn counts(q: &RetryQueue<Request>) -> (u64, u64, u64, u64) {
        let s = q.stats();
        (s.sent(), s.retried(), s.dropped(), q.pending_points())
    }

    fn take(q: &mut RetryQueue<Request>) -> Request {
        match q.next(Instant::now()) {
            Next::Send(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_goes_back_to_the_front_after_its_backoff() {
        let mut q = RetryQueue::new("t".into(), 100);
        q.enqueue(Request(3));
        q.enqueue(Request(4));
        assert_eq!(take(&mut q), Request(3));
        let retry = Attempt::Retry {
            message: "down".into(),
            after: Some(Duration::from_secs(2)),
        };
        assert!(matches!(q.settle(retry), Some(SinkError::Retryable(m)) if m == "down"));
        let at = Instant::now() + Duration::from_secs(2);
        assert!(matches!(q.next(Instant::now()), Next::WaitUntil(t) if t == at));
        assert_eq!(counts(&q), (0, 3, 0, 7));
        // A second failure of the same streak is counted, not reported.
        assert_eq!(take_at(&mut q, at), Request(3));
        assert!(
            q.settle(Attempt::Retry {
                message: "down".into(),
                after: None
            })
            .is_none()
        );
        q.retry_now();
        assert_eq!(take(&mut q), Request(3));
        assert!(q.settle(Attempt::sent()).is_none());
        assert_eq!(take(&mut q), Request(4));
        assert!(q.settle(Attempt::sent()).is_none());
        assert!(q.is_settled());
        assert_eq!(counts(&q), (7, 6, 0, 0));
    }

    fn take_at(q: &mut RetryQueue<Request>, at: Instant) -> Request {
        match q.next(at) {
            Next::Send(r) => r,
            other => panic!("expected a request, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_buffer_drops_the_oldest_waiting_never_the_one_in_flight() {
        let mut q = RetryQueue::new("t".into(), 10);
        q.enqueue(Request(6));
        assert_eq!(take(&mut q), Request(6));
        q.enqueue(Request(3));
        q.enqueue(Request(3));
        // 6 in flight + 3 + 3 > 10: the oldest waiting one goes.
        assert_eq!(counts(&q), (0, 0, 3, 9));
        assert!(q.settle(Attempt::sent()).is_none());
        assert_eq!(counts(&q), (6, 0, 3, 3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_answer_drops_everything_held_and_everything_after() {
        let mut q = RetryQueue::new("t".into(), 100);
        q.enqueue(Request(5));
        q.enqueue(Request(7));
        let _ = take(&mut q);
        let error = q.settle(Attempt::Fatal("HTTP 401".into()));
        assert!(matches!(error, Some(SinkError::Fatal(m)) if m == "HTTP 401"));
        q.enqueue(Request(11));
        assert!(matches!(q.next(Instant::now()), Next::Stopped));
        assert_eq!(counts(&q), (0, 0, 23, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn refused_points_of_a_sent_request_are_dropped() {
        let mut q = RetryQueue::new("t".into(), 100);
        q.enqueue(Request(10));
        let _ = take(&mut q);
        let outcome = Attempt::Sent {
            refused: 4,
            message: "bad".into(),
        };
        assert!(
            matches!(q.settle(outcome), Some(SinkError::Rejected(m)) if m == "4 data points refused: bad")
        );
        assert_eq!(counts(&q), (6, 0, 4, 0));
        q.enqueue(Request(2));
        let _ = take(&mut q);
        assert_eq!(q.abandon(), 2);
        assert_eq!(counts(&q), (6, 0, 6, 0));
    }
}
