//! Stop levels, shared by a scenario's controller and its VUs through a watch channel.

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
