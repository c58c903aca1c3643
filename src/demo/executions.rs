//! Graph executions. Nothing runs: an execution's state is a pure function of
//! the time since it was queued, so there are no background tasks to manage.

use std::time::Duration;

use super::sharded::ShardedMap;

/// Share of the execution time spent `queued` before it starts `running`.
const QUEUED_SHARE: f64 = 0.2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Queued,
    Running,
    Completed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
        }
    }
}

/// One execution as stored.
#[derive(Clone, Copy, Debug)]
pub struct Execution {
    pub graph_id: u128,
    pub queued_at_nanos: u64,
    pub duration: Duration,
}

/// Where an execution is at a given moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub status: Status,
    /// 0 while queued, rising linearly to 1 while running, 1 when completed;
    /// rounded to 3 decimals.
    pub progress: f64,
}

impl Execution {
    pub fn progress_at(&self, now_nanos: u64) -> Progress {
        let elapsed = now_nanos.saturating_sub(self.queued_at_nanos) as f64;
        let total = self.duration.as_nanos() as f64;
        let queued_for = total * QUEUED_SHARE;
        if elapsed >= total {
            Progress {
                status: Status::Completed,
                progress: 1.0,
            }
        } else if elapsed < queued_for {
            Progress {
                status: Status::Queued,
                progress: 0.0,
            }
        } else {
            let fraction = (elapsed - queued_for) / (total - queued_for);
            Progress {
                status: Status::Running,
                progress: (fraction * 1000.0).floor() / 1000.0,
            }
        }
    }
}

/// All executions started since the server came up.
#[derive(Default)]
pub struct ExecutionStore {
    executions: ShardedMap<Execution>,
}

impl ExecutionStore {
    /// Stores a new execution and returns its id (a random v4 UUID).
    pub fn start(&self, execution: Execution) -> u128 {
        let id = uuid::Builder::from_random_bytes(rand::random())
            .into_uuid()
            .as_u128();
        self.executions.insert(id, execution);
        id
    }

    pub fn get(&self, id: u128) -> Option<Execution> {
        self.executions.with(id, |e| *e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn execution(duration_ms: u64) -> Execution {
        Execution {
            graph_id: 1,
            queued_at_nanos: 1_000 * MS,
            duration: Duration::from_millis(duration_ms),
        }
    }

    #[test]
    fn queued_then_running_then_completed() {
        let e = execution(1_000);
        let at = |ms: u64| e.progress_at(1_000 * MS + ms * MS);
        assert_eq!(
            at(0),
            Progress {
                status: Status::Queued,
                progress: 0.0
            }
        );
        assert_eq!(at(199).status, Status::Queued);
        assert_eq!(
            at(200),
            Progress {
                status: Status::Running,
                progress: 0.0
            }
        );
        assert_eq!(
            at(600),
            Progress {
                status: Status::Running,
                progress: 0.5
            }
        );
        assert_eq!(at(999).status, Status::Running);
        assert_eq!(
            at(1_000),
            Progress {
                status: Status::Completed,
                progress: 1.0
            }
        );
        // A clock reading before the start (cannot happen, but) stays queued.
        assert_eq!(e.progress_at(0).status, Status::Queued);
    }

    #[test]
    fn zero_duration_completes_at_once() {
        let e = execution(0);
        assert_eq!(e.progress_at(1_000 * MS).status, Status::Completed);
    }

    #[test]
    fn store_round_trip() {
        let store = ExecutionStore::default();
        let id = store.start(execution(10));
        assert_eq!(store.get(id).map(|e| e.graph_id), Some(1));
        assert_eq!(uuid::Uuid::from_u128(id).get_version_num(), 4);
        assert!(store.get(id ^ 1).is_none());
    }
}
