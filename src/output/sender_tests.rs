//! The sending task under paused time: endpoints that never answer, answer
//! slowly, refuse, or reject the credentials, and the flush deadline that
//! bounds them all.

use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

#[derive(Clone, Debug)]
struct Request(u64);

impl Weighted for Request {
    fn points(&self) -> u64 {
        self.0
    }
}

/// A sender whose every attempt waits `answer_after` (for ever with
/// `None`), then comes to `outcome()`. Also returns the attempt count.
fn sender(
    answer_after: Option<Duration>,
    outcome: fn() -> Attempt,
) -> (QueueSender<Request>, Arc<AtomicU64>) {
    let calls = Arc::new(AtomicU64::new(0));
    let counted = calls.clone();
    let attempt: AttemptFn<Request> = Arc::new(move |_| {
        counted.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            match answer_after {
                Some(wait) => tokio::time::sleep(wait).await,
                None => std::future::pending().await,
            }
            outcome()
        })
    });
    (
        QueueSender::new(RetryQueue::new("t".into(), 1_000), attempt),
        calls,
    )
}

fn counts(s: &QueueSender<Request>) -> (u64, u64, u64) {
    let stats = s.stats();
    (stats.sent(), stats.retried(), stats.dropped())
}

fn message(result: Result<(), SinkError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn a_black_hole_never_holds_the_sink_and_is_cut_at_the_flush_deadline() {
    let (mut s, calls) = sender(None, Attempt::sent);
    let started = Instant::now();
    s.enqueue(Request(5));
    tokio::time::sleep(30 * SECOND).await;
    // Queueing returns at once while the first request hangs.
    s.enqueue(Request(7));
    assert_eq!(started.elapsed(), 30 * SECOND);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let result = s.finish(Instant::now() + 2 * SECOND, 2 * SECOND).await;
    assert_eq!(
        started.elapsed(),
        32 * SECOND,
        "ends at the deadline exactly"
    );
    assert_eq!(
        message(result),
        "12 points could not be delivered within 2.0s at the end"
    );
    assert_eq!(counts(&s), (0, 0, 12), "sent, retried, dropped");
    assert_eq!(s.pending_points(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_slow_endpoint_within_the_budget_gets_everything() {
    let (mut s, calls) = sender(Some(3 * SECOND), Attempt::sent);
    let started = Instant::now();
    for points in [2, 3, 4] {
        s.enqueue(Request(points));
    }
    let result = s.finish(Instant::now() + 10 * SECOND, 10 * SECOND).await;
    assert_eq!(message(result), "ok");
    assert_eq!(
        started.elapsed(),
        9 * SECOND,
        "three answers, one at a time"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(counts(&s), (9, 0, 0));
}

#[tokio::test(start_paused = true)]
async fn an_attempt_in_flight_when_the_run_ends_is_cut_at_the_deadline() {
    let (mut s, _) = sender(Some(3 * SECOND), Attempt::sent);
    let started = Instant::now();
    s.enqueue(Request(4));
    tokio::time::sleep(SECOND).await;
    let result = s.finish(Instant::now() + SECOND, SECOND).await;
    assert_eq!(
        started.elapsed(),
        2 * SECOND,
        "not the 3 s the answer takes"
    );
    assert_eq!(
        message(result),
        "4 points could not be delivered within 1.0s at the end"
    );
    assert_eq!(counts(&s), (0, 0, 4));
}

#[tokio::test(start_paused = true)]
async fn a_refusing_endpoint_is_retried_with_backoff_and_reported_once() {
    let (mut s, calls) = sender(Some(Duration::ZERO), || Attempt::Retry {
        message: "connection refused".into(),
        after: None,
    });
    s.enqueue(Request(10));
    tokio::time::sleep(5 * SECOND).await;
    let attempts = calls.load(Ordering::SeqCst);
    // Backoff ceilings 250 ms, 500 ms, 1 s, 2 s, ... with full jitter: at
    // least 4 attempts fit in 5 s (0 + 0.25 + 0.5 + 1 + 2 s at worst).
    assert!((4..=100).contains(&attempts), "{attempts} attempts in 5 s");
    assert_eq!(
        message(s.take_error().map_or(Ok(()), Err)),
        "connection refused"
    );
    assert!(s.take_error().is_none(), "one report per failure streak");

    let started = Instant::now();
    let result = s.finish(Instant::now() + SECOND, SECOND).await;
    assert!(started.elapsed() <= SECOND, "{:?}", started.elapsed());
    assert_eq!(
        message(result),
        "10 points could not be delivered within 1.0s at the end"
    );
    let (sent, retried, dropped) = counts(&s);
    assert_eq!((sent, dropped), (0, 10));
    assert_eq!(retried, 10 * calls.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn a_fatal_answer_counts_every_later_point_as_dropped() {
    let (mut s, calls) = sender(Some(Duration::ZERO), || {
        Attempt::Fatal("HTTP 401: check the credentials for output t".into())
    });
    s.enqueue(Request(5));
    tokio::time::sleep(SECOND).await;
    s.enqueue(Request(6));
    s.enqueue(Request(7));
    assert!(matches!(s.take_error(), Some(SinkError::Fatal(_))));
    let result = s.finish(Instant::now() + SECOND, SECOND).await;
    assert_eq!(
        message(result),
        "ok",
        "the fatal error was reported already"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "nothing sent after the 401"
    );
    assert_eq!(counts(&s), (0, 0, 18));
}

#[tokio::test(start_paused = true)]
async fn unreported_failures_come_back_from_finish_as_one_error() {
    let (mut s, _) = sender(Some(Duration::ZERO), || {
        Attempt::Rejected("HTTP 400: bad line".into())
    });
    s.enqueue(Request(1));
    s.enqueue(Request(2));
    let result = s.finish(Instant::now() + SECOND, SECOND).await;
    assert_eq!(message(result), "HTTP 400: bad line; HTTP 400: bad line");
    assert_eq!(counts(&s), (0, 0, 3));
}

#[tokio::test(start_paused = true)]
async fn a_gated_sender_waits_until_the_other_has_settled() {
    let (mut first, _) = sender(Some(2 * SECOND), Attempt::sent);
    let (mut second, calls) = sender(Some(Duration::ZERO), Attempt::sent);
    second.after(&first);
    first.enqueue(Request(1));
    second.enqueue(Request(3));
    tokio::time::sleep(SECOND).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "held while the first is in flight"
    );
    assert!(first.settled_within(5 * SECOND).await);
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(counts(&second), (3, 0, 0));
}
