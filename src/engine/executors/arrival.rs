//! constant-arrival-rate and ramping-arrival-rate (the open model): a
//! scheduler starts iterations on a timetable whatever the response times.
//!
//! The scheduler wakes when the next start is due (tokio's timer has 1 ms
//! resolution, so at high rates every wake releases a batch) and hands each
//! due start to an idle VU: idle VUs wait on a stack, each on its own slot,
//! so a hand-over is one lock, one store and one wake-up, with no
//! allocation; the stack is LIFO, so the fewest VUs (and connections) stay
//! busy. With no idle VU the scheduler creates one (up to `max_vus`) and
//! gives it the start, without waiting for it; with `max_vus` busy it drops
//! the start and counts it in `dropped_iterations`. VUs record how late each
//! start was in `iteration_scheduling_lag`, which makes coordinated omission
//! visible.
//!
//! The contract: no start is released after the scheduled duration (a
//! backlog the scheduler could not release in time is dropped), and every
//! scheduled start ends as an iteration or in `dropped_iterations`, also a
//! start a VU was handed but never began because the test stopped.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::schedule::Schedule;
use super::vu_loop::{Claim, Gate, Waiting, vu_loop};
use crate::engine::context::RunContext;
use crate::engine::stop::{StopLevel, reached};
use crate::metrics::builtin;

/// Where one VU waits for its next start.
#[derive(Default)]
pub struct Slot {
    ticket: Mutex<Option<Instant>>,
    wake: Notify,
}

/// The hand-over point between the scheduler and the scenario's VUs.
pub struct Tickets {
    idle: Mutex<Idle>,
}

struct Idle {
    /// Set when the schedule is over: VUs stop waiting.
    closed: bool,
    /// VUs waiting for a start, most recently idle last.
    stack: Vec<Arc<Slot>>,
}

impl Tickets {
    fn new(capacity: usize) -> Self {
        Tickets {
            idle: Mutex::new(Idle {
                closed: false,
                stack: Vec::with_capacity(capacity),
            }),
        }
    }

    /// Waits for this VU's next scheduled start; `None` once the schedule is
    /// over. `queued` says the scheduler already put `slot` on the stack.
    pub async fn next(&self, slot: &Arc<Slot>, queued: bool) -> Option<Instant> {
        if !queued {
            let mut idle = self.idle.lock().expect("idle VU stack lock");
            if idle.closed {
                return None;
            }
            idle.stack.push(slot.clone());
        }
        slot.wake.notified().await;
        slot.ticket.lock().expect("slot lock").take()
    }

    /// Gives `due` to the most recently idle VU; false when none is idle.
    fn hand_over(&self, due: Instant) -> bool {
        let Some(slot) = self.idle.lock().expect("idle VU stack lock").stack.pop() else {
            return false;
        };
        *slot.ticket.lock().expect("slot lock") = Some(due);
        // Stores a permit if the VU is not waiting yet, so the wake is not lost.
        slot.wake.notify_one();
        true
    }

    /// Ends the schedule: every idle VU wakes up with no ticket.
    fn close(&self) {
        let mut idle = self.idle.lock().expect("idle VU stack lock");
        idle.closed = true;
        for slot in idle.stack.drain(..) {
            slot.wake.notify_one();
        }
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
        let tickets = Arc::new(Tickets::new(self.max_vus as usize));
        let total = schedule.duration();
        let mut pool = Pool {
            arrivals: self,
            vus,
            stop,
            tickets,
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
        let end = started + total;
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
            if now >= end {
                // Behind schedule at the end of the duration: the backlog is
                // dropped, not started late, so the load stops on time.
                pool.dropped += share.of(schedule.total()).saturating_sub(k);
                next = None;
                break 'run;
            }
            pool.dispatch(due.into_std());
            k += 1;
            next = schedule.start_of(share.global(k));
            // A backlog is released without sleeping; the clock is read
            // after every start so none is released after the end.
            now = tokio::time::Instant::now();
            if k.is_multiple_of(STOP_CHECK_EVERY) {
                if *global.borrow() >= StopLevel::Graceful {
                    break 'run;
                }
                // Lets the VUs just handed a start run on this worker too.
                tokio::task::yield_now().await;
            }
        }
        pool.record_dropped();
        if next.is_none() {
            tokio::select! {
                _ = tokio::time::sleep_until(end) => {}
                _ = reached(global, StopLevel::Graceful) => {}
            }
        }
        pool.tickets.close();
    }
}

/// Counts the scheduled starts a VU was given but never began (the test
/// stopped first) in `dropped_iterations`, so that every scheduled start is
/// an iteration or a dropped one.
pub fn drop_unstarted(ctx: &RunContext, index: usize, waiting: &mut Waiting) {
    let unstarted = u64::from(waiting.first.take().is_some())
        + u64::from(
            waiting
                .slot
                .ticket
                .lock()
                .expect("slot lock")
                .take()
                .is_some(),
        );
    if unstarted > 0 {
        ctx.recorder.add(
            builtin::DROPPED_ITERATIONS,
            ctx.plan.scenarios[index].tag_set,
            unstarted as f64,
        );
    }
}

impl Pool<'_> {
    fn dispatch(&mut self, due: Instant) {
        if self.tickets.hand_over(due) {
            return;
        }
        if self.allocated < self.arrivals.max_vus {
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
        let slot = Arc::new(Slot::default());
        let queued = first.is_none();
        if queued {
            // Preallocated: idle from the start, before its task first runs.
            let mut idle = self.tickets.idle.lock().expect("idle VU stack lock");
            idle.stack.push(slot.clone());
        }
        let claim = Claim::Scheduled(Waiting {
            tickets: self.tickets.clone(),
            slot,
            queued,
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
