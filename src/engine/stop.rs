//! Stop levels, shared by a scenario's controller and its VUs through a watch channel.

use std::future::Future;
use std::task::Poll;

use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StopLevel {
    /// Start iterations as the executor allows.
    Run,
    /// Start no new iteration; let running ones finish.
    Graceful,
    /// Abandon running iterations now.
    Hard,
}

/// Resolves once the level is at least `level`; never resolves if the sender is gone
/// without reaching it (the scenario controller always outlives its VUs).
pub async fn reached(rx: &mut watch::Receiver<StopLevel>, level: StopLevel) {
    if rx.wait_for(|l| *l >= level).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// [`reached`] for a future polled on every wake-up of its task (the VU
/// loop's hard stop): after its first poll it looks at the channel's version
/// (one atomic load) and polls the wait itself only once the level changed.
/// Polling the registered wait takes the channel's waiter-list lock, about
/// 2% of a request's user CPU when done on every poll. The task's waker is
/// the one the wait registered: a task's waker does not change.
pub async fn reached_cheaply(mut rx: watch::Receiver<StopLevel>, level: StopLevel) {
    let peek = rx.clone();
    let mut wait = std::pin::pin!(reached(&mut rx, level));
    let mut registered = false;
    std::future::poll_fn(|cx| {
        if registered && !peek.has_changed().unwrap_or(true) {
            return Poll::Pending;
        }
        registered = true;
        wait.as_mut().poll(cx)
    })
    .await
}

pub fn raise(tx: &watch::Sender<StopLevel>, level: StopLevel) {
    tx.send_if_modified(|current| {
        if *current < level {
            *current = level;
            true
        } else {
            false
        }
    });
}
