//! Sends a [`RetryQueue`]'s requests on a task of its own, one at a time,
//! so an endpoint that refuses, never answers or answers slowly holds up
//! only this task: the sink's task keeps taking snapshots every second and
//! queueing what it encodes (bounded by `buffer_points`), and no snapshot
//! is lost to a request in flight.
//!
//! During the run an attempt is bounded by the request `timeout`. Once the
//! final delivery starts ([`QueueSender::finish`]) every wait and every
//! attempt, including one already in flight, is cut at the flush deadline;
//! what is still held then is dropped and counted, so sent + dropped is
//! every point the sink produced.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::retry_queue::{Attempt, Next, RetryQueue, Weighted};
use crate::metrics::{DeliveryStats, SinkError};

/// One attempt at sending a request.
pub type AttemptFuture = Pin<Box<dyn Future<Output = Attempt> + Send>>;
/// Makes the attempt for a request (the transport: HTTP or gRPC).
pub type AttemptFn<T> = Arc<dyn Fn(T) -> AttemptFuture + Send + Sync>;

/// What the sink and the sending task share.
struct Shared<T> {
    queue: Mutex<RetryQueue<T>>,
    /// Wakes the task when a request is queued.
    work: Notify,
    /// Failures the task met and the sink has not reported yet.
    errors: Mutex<Vec<SinkError>>,
}

fn lock<V>(m: &Mutex<V>) -> MutexGuard<'_, V> {
    // The guarded state stays consistent across a panic in a holder (every
    // update is a few assignments), so a poisoned lock is used as it is.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The sink's handle on its sending task.
pub struct QueueSender<T> {
    shared: Arc<Shared<T>>,
    attempt: AttemptFn<T>,
    /// `None` during the run; the flush deadline once the final delivery began.
    deadline: watch::Sender<Option<Instant>>,
    /// True whenever nothing is pending or in flight (another sender may
    /// wait for it: InfluxDB's `CREATE DATABASE` before the first write).
    settled: watch::Sender<bool>,
    /// Sends nothing until this turns true (or its sender is gone).
    gate: Option<watch::Receiver<bool>>,
    task: Option<JoinHandle<()>>,
    started: bool,
}

impl<T> std::fmt::Debug for QueueSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueSender")
            .field("queue", &*lock(&self.shared.queue))
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl<T> Drop for QueueSender<T> {
    fn drop(&mut self) {
        // A sink stopped at the end (its task aborted) takes its sender along.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl<T: Weighted + Clone + Send + 'static> QueueSender<T> {
    /// A sender over `queue` using `attempt`. The task starts with the first
    /// request (building an output needs no runtime).
    pub fn new(queue: RetryQueue<T>, attempt: AttemptFn<T>) -> Self {
        QueueSender {
            shared: Arc::new(Shared {
                queue: Mutex::new(queue),
                work: Notify::new(),
                errors: Mutex::new(Vec::new()),
            }),
            attempt,
            deadline: watch::Sender::new(None),
            settled: watch::Sender::new(true),
            gate: None,
            task: None,
            started: false,
        }
    }

    /// Sends nothing before `other` has settled once (sent, refused or
    /// dropped what it held).
    pub fn after(&mut self, other: &QueueSender<T>) {
        self.gate = Some(other.settled.subscribe());
    }

    /// The counts the queue keeps (shared with the summary).
    pub fn stats(&self) -> Arc<DeliveryStats> {
        lock(&self.shared.queue).stats()
    }

    /// Points waiting to be sent or being sent.
    pub fn pending_points(&self) -> u64 {
        lock(&self.shared.queue).pending_points()
    }

    /// Queues a request; see [`RetryQueue::enqueue`]. Never waits.
    pub fn enqueue(&mut self, item: T) {
        lock(&self.shared.queue).enqueue(item);
        self.settled.send_replace(false);
        self.start();
        self.shared.work.notify_one();
    }

    /// The oldest failure not reported yet (at most one per failure streak,
    /// per refused request, and the fatal one).
    pub fn take_error(&self) -> Option<SinkError> {
        let mut errors = lock(&self.shared.errors);
        (!errors.is_empty()).then(|| errors.remove(0))
    }

    /// The final delivery: sends what is held until `deadline`, cutting an
    /// attempt still in flight then, and drops (and counts) what is left.
    /// Returns the failures not reported yet, with how many points were
    /// left, as one error. `budget` is the flush timeout, for the message.
    pub async fn finish(&mut self, deadline: Instant, budget: Duration) -> Result<(), SinkError> {
        lock(&self.shared.queue).retry_now();
        self.deadline.send_replace(Some(deadline));
        self.start();
        if let Some(task) = self.task.take() {
            // The task ends by the deadline on its own; a panic in it is a
            // bug, and what it held is dropped below either way.
            let _ = task.await;
        }
        let left = lock(&self.shared.queue).abandon();
        self.settled.send_replace(true);
        let mut errors = std::mem::take(&mut *lock(&self.shared.errors));
        if left > 0 {
            errors.push(SinkError::Retryable(format!(
                "{left} points could not be delivered within {:.1}s at the end",
                budget.as_secs_f64()
            )));
        }
        combine(errors)
    }

    /// Waits until nothing is pending or in flight, for at most `timeout`.
    pub async fn settled_within(&self, timeout: Duration) -> bool {
        let mut settled = self.settled.subscribe();
        tokio::time::timeout(timeout, settled.wait_for(|s| *s))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Spawns the task, once, when inside a runtime (an output built
    /// outside one starts sending on its first request inside one).
    fn start(&mut self) {
        if self.started || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.started = true;
        let task = SendTask {
            shared: self.shared.clone(),
            attempt: self.attempt.clone(),
            deadline: self.deadline.subscribe(),
            settled: self.settled.clone(),
            gate: self.gate.clone(),
        };
        self.task = Some(tokio::spawn(task.run()));
    }
}

/// Several failures as one error: the messages in order, the gravest kind.
fn combine(errors: Vec<SinkError>) -> Result<(), SinkError> {
    if errors.len() <= 1 {
        return errors.into_iter().next().map_or(Ok(()), Err);
    }
    let fatal = errors.iter().any(|e| matches!(e, SinkError::Fatal(_)));
    let retryable = errors.iter().any(|e| matches!(e, SinkError::Retryable(_)));
    let message = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    Err(if fatal {
        SinkError::Fatal(message)
    } else if retryable {
        SinkError::Retryable(message)
    } else {
        SinkError::Rejected(message)
    })
}

/// The sending task's side.
struct SendTask<T> {
    shared: Arc<Shared<T>>,
    attempt: AttemptFn<T>,
    deadline: watch::Receiver<Option<Instant>>,
    settled: watch::Sender<bool>,
    gate: Option<watch::Receiver<bool>>,
}

impl<T: Weighted + Clone + Send + 'static> SendTask<T> {
    /// Attempts requests in order until a fatal answer, or until the flush
    /// deadline (or nothing left once the final delivery began). Every wait
    /// ends when the deadline is set or moves, so none outlasts it.
    async fn run(mut self) {
        loop {
            let deadline = *self.deadline.borrow_and_update();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            if let Some(gate) = &mut self.gate
                && !*gate.borrow_and_update()
            {
                tokio::select! {
                    changed = gate.changed() => if changed.is_err() { self.gate = None },
                    changed = self.deadline.changed() => if changed.is_err() { return },
                    () = sleep_until(deadline) => return,
                }
                continue;
            }
            let next = lock(&self.shared.queue).next(Instant::now());
            match next {
                Next::Stopped => {
                    // Whoever waits for this queue must not wait for ever.
                    self.settled.send_replace(true);
                    return;
                }
                Next::Idle => {
                    self.settled.send_replace(true);
                    if deadline.is_some() {
                        return;
                    }
                    tokio::select! {
                        () = self.shared.work.notified() => {}
                        changed = self.deadline.changed() => if changed.is_err() { return },
                    }
                }
                Next::WaitUntil(at) => {
                    if deadline.is_some_and(|d| at >= d) {
                        return;
                    }
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        changed = self.deadline.changed() => if changed.is_err() { return },
                    }
                }
                Next::Send(item) => {
                    let attempt = (self.attempt)(item);
                    // Cut at the deadline: `finish` drops what is held.
                    let Some(outcome) = self.capped(attempt).await else {
                        return;
                    };
                    let error = lock(&self.shared.queue).settle(outcome);
                    if let Some(error) = error {
                        lock(&self.shared.errors).push(error);
                    }
                }
            }
        }
    }

    /// Runs an attempt, cut at the flush deadline once there is one (also
    /// when it is set while the attempt is in flight): `None` when cut.
    async fn capped(&mut self, attempt: AttemptFuture) -> Option<Attempt> {
        let mut attempt = attempt;
        loop {
            let deadline = *self.deadline.borrow_and_update();
            if let Some(d) = deadline {
                return tokio::time::timeout_at(d, &mut attempt).await.ok();
            }
            tokio::select! {
                outcome = &mut attempt => return Some(outcome),
                changed = self.deadline.changed() => if changed.is_err() {
                    // The sink is gone; its Drop aborts this task.
                    return Some(attempt.await);
                },
            }
        }
    }
}

/// Sleeps until `at`, or forever without one.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
#[path = "sender_tests.rs"]
mod tests;
