//! The hot path must not allocate once a series is warm. This binary counts
//! the allocations made by the current thread with a wrapping allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use stampede::metrics::{
    Aggregator, HttpSample, MetricKind, MetricRegistry, Recorder, TagInterner, TagSet, ValueType,
};
use stampede::protocol::http::Timings;

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> u64 {
    ALLOCATIONS.with(|c| c.get())
}

#[test]
fn recording_a_warm_series_does_not_allocate() {
    let mut registry = MetricRegistry::with_builtins();
    let custom = registry
        .register("queue_wait", MetricKind::Trend, ValueType::Time)
        .unwrap();
    let rec = Recorder::new(Arc::new(registry));
    let mut agg = Aggregator::new(&rec);
    let tags = TagInterner::global().intern(TagSet::new([("name", "alloc"), ("method", "GET")]));
    let sample = |i: u64| HttpSample {
        tags,
        status: if i.is_multiple_of(2) { 200 } else { 404 },
        expected: i.is_multiple_of(2),
        error_code: None,
        proto: Some("HTTP/1.1"),
        timings: Timings {
            blocked: Duration::from_micros(i % 3),
            waiting: Duration::from_micros(1 + i % 5000),
            duration: Duration::from_micros(1 + i % 5000),
            ..Timings::default()
        },
        bytes_sent: 50,
        bytes_received: 500,
    };
    let record = |from: u64, to: u64| {
        for i in from..to {
            rec.record_http(&sample(i));
            rec.trend(custom, tags, (i % 5000) as f64 / 1000.0);
        }
    };
    // Warm-up: the first two intervals fill both of the shard's buffers
    // (and show that the counter sees the hot path's allocations).
    let start = allocations();
    record(0, 10_000);
    assert!(allocations() > start);
    agg.flush();
    record(0, 10_000);
    agg.flush();

    let before = allocations();
    record(0, 10_000);
    assert_eq!(
        allocations() - before,
        0,
        "allocations while recording warm series"
    );
    let snap = agg.flush();
    assert_eq!(snap.series.len(), 2 * 11 + 1);
}
