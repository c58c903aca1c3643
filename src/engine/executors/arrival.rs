//! constant-arrival-rate and ramping-arrival-rate (the open model): a
//! scheduler starts iterations on a timetable whatever the response times.
//!
//! The scheduler wakes when the next start is due (tokio's timer has 1 ms
//! resolution, so at high rates every wake releases a batch), and hands each
//! due start to an idle VU as a ticket through a bounded channel. With no
//! idle VU it creates one (up to `max_vus`) and gives it the ticket, without
//! waiting for it; with `max_vus` busy it drops the start and counts it in
//! `dropped_iterations`. VUs record how late each start was in
//! `iteration_scheduling_lag`, which makes coordinated omission visible.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::{Mutex, mpsc, watch};
use tokio::task::JoinSet;

use super::schedule::Schedule;
use super::vu_loop::{Claim, Gate, Waiting, vu_loop};
use crate::engine::context::RunContext;
use crate::engine::stop::{StopLevel, reached};
use crate::metrics::builtin;

/// The hand-over point between the scheduler and the scenario's VUs.
pub struct Tickets {
    /// Scheduled start instants; VUs take turns at the receiver.
    queue: Mutex<mpsc::Receiver<Instant>>,
    /// VUs waiting (or about to wait) for a ticket and not yet promised one.
    idle: AtomicU64,
}

impl Tickets {
    /// Waits for this VU's next scheduled start; `None` once the schedule is
    /// over. `counted` says the scheduler already counts this VU as idle.
    pub async fn next(&self, counted: bool) -> Option<Instant> {
        if !counted {
            self.idle.fetch_add(1, Ordering::AcqRel);
        }
        self.queue.lock().await.recv().await
    }

    /// Promises the next ticket to one idle VU, if there is one.
    fn claim_idle(&self) -> bool {
        self.idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Checks for a global stop at least this often while releasing a long
/// backlog without sleeping.
const STOP_CHECK_EVERY: u64 = 1024;

pub struct Arrivals {
    pub ctx: Arc<RunContext>,
    pub index: usize,
    /// This instance's VUs created up front, and at most.
    pub preallocated_vus: u64,
    pub max_vus: u64,
}

struct Pool<'a> {
    arrivals: &'a Arrivals,
    vus: &'a mut JoinSet<()>,
    stop: &'a watch::Receiver<StopLevel>,
    tickets: Arc<Tickets>,
    sender: mpsc::Sender<Instant>,
    allocated: u64,
    dropped: u64,
}

impl Arrivals {
    /// Releases every start of this instance's share of the schedule, then
    /// waits out the schedule's duration (or a global stop).
    pub async fn run(
        &self,
        mut schedule: Schedule,
        vus: &mut JoinSet<()>,
        stop: &watch::Receiver<StopLevel>,
        global: &mut watch::Receiver<StopLevel>,
    ) {
        let share = self.ctx.plan.scenarios[self.index].share;
        let capacity = self.max_vus.max(1) as usize;
        let (sender, receiver) = mpsc::channel(capacity);
        let tickets = Arc::new(Tickets {
            queue: Mutex::new(receiver),
            idle: AtomicU64::new(self.preallocated_vus),
        });
        let total = schedule.duration();
        let mut pool = Pool {
            arrivals: self,
            vus,
            stop,
            tickets,
            sender,
            allocated: 0,
            dropped: 0,
        };
        // A zero sample makes the series exist, so `dropped_iterations: 0`
        // shows and `count<N` thresholds have something to judge.
        self.ctx.recorder.add(
            builtin::DROPPED_ITERATIONS,
            self.ctx.plan.scenarios[self.index].tag_set,
            0.0,
        );
        for _ in 0..self.preallocated_vus {
            pool.spawn(None);
        }
        let started = tokio::time::Instant::now();
        let mut k = 0u64;
        let mut next = schedule.start_of(share.global(k));
        let mut now = started;
        'run: while let Some(offset) = next {
            let due = started + offset;
            if due > now {
                pool.record_dropped();
                tokio::select! {
                    _ = tokio::time::sleep_until(due) => {}
                    _ = reached(global, StopLevel::Graceful) => break 'run,
                }
                now = tokio::time::Instant::now();
                continue;
            }
            pool.dispatch(due.into_std());
            k += 1;
            next = schedule.start_of(share.global(k));
            if k.is_multiple_of(STOP_CHECK_EVERY) {
                if *global.borrow() >= StopLevel::Graceful {
                    break 'run;
                }
                now = tokio::time::Instant::now();
            }
        }
        pool.record_dropped();
        if next.is_none() {
            tokio::select! {
                _ = tokio::time::sleep_until(started + total) => {}
                _ = reached(global, StopLevel::Graceful) => {}
            }
        }
        // Dropping the sender (with the pool) ends VUs waiting for a ticket.
    }
}

impl Pool<'_> {
    fn dispatch(&mut self, due: Instant) {
        if self.tickets.claim_idle() {
            // The channel holds at most one ticket per idle VU, and there are
            // at most `max_vus` of those: it cannot be full.
            if self.sender.try_send(due).is_err() {
                self.dropped += 1;
            }
        } else if self.allocated < self.arrivals.max_vus {
            self.spawn(Some(due));
        } else {
            self.dropped += 1;
        }
    }

    /// A new VU; with `first`, it starts that iteration as soon as it is up.
    fn spawn(&mut self, first: Option<Instant>) {
        let a = self.arrivals;
        let vu_id = a.ctx.allocate_vu(a.index, self.allocated);
        self.allocated += 1;
        let claim = Claim::Scheduled(Waiting {
            tickets: self.tickets.clone(),
            counted_idle: first.is_none(),
            first,
        });
        self.vus.spawn(vu_loop(
            a.ctx.clone(),
            a.index,
            vu_id,
            self.stop.clone(),
            Gate::Always,
            claim,
        ));
    }

    fn record_dropped(&mut self) {
        if self.dropped > 0 {
            let a = self.arrivals;
            a.ctx.recorder.add(
                builtin::DROPPED_ITERATIONS,
                a.ctx.plan.scenarios[a.index].tag_set,
                self.dropped as f64,
            );
            self.dropped = 0;
        }
    }
}
