//! One test run from setup to summary.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::context::RunContext;
use super::executors::run_scenario;
use super::http_debug::HttpDebug;
use super::progress::Progress;
use super::stop::{StopLevel, raise};
use super::vu::Vu;
use crate::metrics::{
    Aggregator, DEFAULT_RAW_SAMPLE_LIMIT, GeneratorMonitor, Recorder, RunEnd, Sink, SinkReport,
    SinkSet, Summary, builtin,
};
use crate::protocol::http::{ClientConfig, ClientShared};
use crate::scenario::TestPlan;
use crate::timeline::{
    Timeline, TimelineCollector, breaking_point_criteria, find_breaking_points,
    judge_time_criteria, stage_marks,
};

pub struct RunOptions {
    /// Outputs that receive every interval snapshot.
    pub sinks: Vec<Box<dyn Sink>>,
    /// Print every exchange to stderr, secrets redacted.
    pub http_debug: HttpDebug,
    /// How often recorders are flushed into a snapshot.
    pub flush_interval: Duration,
    /// Live progress on stderr (`None` with `--quiet`).
    pub progress: Option<Progress>,
    /// Most raw samples kept per interval when a sink wants every sample
    /// ([`Sink::wants_samples`]); the rest are counted as dropped.
    pub raw_sample_limit: u64,
    /// How long sinks get, after the test, to deliver what they hold.
    pub sink_finish_timeout: Duration,
    /// `--start-at`: the scenarios' schedule starts at this instant (after
    /// setup), so instances of a distributed test run in step.
    pub start_at: Option<SystemTime>,
    /// Keep the per-interval timeline for the summary export and reports
    /// (off only to measure what it costs).
    pub timeline: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            sinks: Vec::new(),
            http_debug: HttpDebug::Off,
            flush_interval: Duration::from_secs(1),
            progress: None,
            raw_sample_limit: DEFAULT_RAW_SAMPLE_LIMIT,
            sink_finish_timeout: SINK_FINISH_TIMEOUT,
            start_at: None,
            timeline: true,
        }
    }
}

pub struct RunResult {
    pub summary: Summary,
    pub sink_reports: Vec<SinkReport>,
    /// Iteration errors (message, count), most frequent first.
    pub errors: Vec<(String, u64)>,
    /// With `start_at`: how long after it the schedule really started
    /// (zero when on time).
    pub start_lag: Option<Duration>,
    /// Every interval of the run, for the summary export and the reports;
    /// `None` when [`RunOptions::timeline`] was off.
    pub timeline: Option<Timeline>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("setup failed: {0}")]
    SetupFailed(String),
    #[error("cannot configure TLS: {0}")]
    Tls(String),
}

/// How long sinks get to deliver what they hold after the test, by default.
pub const SINK_FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `plan`. `interrupt` resolves on the first SIGINT/SIGTERM: VUs are
/// stopped, teardown runs, and the summary is returned with `RunEnd::Interrupted`.
pub async fn run(
    plan: Arc<TestPlan>,
    options: RunOptions,
    interrupt: impl Future<Output = ()> + Send,
) -> Result<RunResult, EngineError> {
    let registry = Arc::new(plan.registry.clone());
    // Keeping every sample costs memory and a copy per sample: only when an
    // output writes samples one by one.
    let recorder = if options.sinks.iter().any(|s| s.wants_samples()) {
        Recorder::with_raw_samples(registry.clone(), options.raw_sample_limit)
    } else {
        Recorder::new(registry.clone())
    };
    let mut aggregator = Aggregator::new(&recorder);
    // Time-window thresholds are judged on the timeline: it is kept for
    // them even when the export leaves it out (`--no-timeline`).
    let time_selectors: Vec<_> = plan
        .thresholds
        .iter()
        .filter(|t| t.expr.time.is_some())
        .map(|t| t.selector.clone())
        .collect();
    let keep_timeline = options.timeline || !time_selectors.is_empty();
    // Breaking points come with the timeline: `--no-timeline` skips them.
    let breaking = if options.timeline {
        breaking_point_criteria(&plan)
    } else {
        Vec::new()
    };
    let mut timeline = keep_timeline.then(|| {
        TimelineCollector::new(registry.clone(), options.flush_interval, stage_marks(&plan))
            .with_criteria(&time_selectors, &breaking)
    });
    aggregator.judge_thresholds(&plan.thresholds);
    let sinks = SinkSet::start(options.sinks);
    let config = ClientConfig {
        max_redirects: plan.http.max_redirects,
        insecure_skip_tls_verify: plan.http.insecure_skip_tls_verify,
        user_agent: plan.http.user_agent.clone(),
        cookies: plan.http.cookies,
        max_decompression_ratio: plan.http.max_decompression_ratio,
        network: plan.http.network.clone(),
        ..ClientConfig::default()
    };
    // A scenario with its own `tls` gets its own rustls configurations
    // (and DNS cache); the others share the run's.
    let scenario_http = plan
        .scenarios
        .iter()
        .map(|scenario| {
            scenario
                .tls
                .as_ref()
                .map(|tls| {
                    let mut own = config.clone();
                    own.network.tls = tls.clone();
                    ClientShared::new(own)
                })
                .transpose()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EngineError::Tls(e.to_string()))?;
    let http = ClientShared::new(config).map_err(|e| EngineError::Tls(e.to_string()))?;
    let mut ctx = RunContext::new(plan.clone(), recorder, http, options.http_debug);
    ctx.scenario_http = scenario_http;
    let mut progress = options.progress;
    tokio::pin!(interrupt);

    if !plan.setup.is_empty() {
        let setup_ctx = Arc::new(ctx);
        // The run's client settings, whatever a scenario named `setup` sets.
        let http = setup_ctx.http.clone();
        let mut vu = Vu::new(setup_ctx.clone(), 0, Arc::from("setup"), http);
        let result = tokio::select! {
            r = vu.run_unmetered(&plan.setup) => r,
            _ = &mut interrupt => Err(super::vu::IterationError("interrupted".into())),
        };
        result.map_err(|e| EngineError::SetupFailed(e.0))?;
        let globals = std::mem::take(&mut vu.scope.vars);
        drop(vu);
        ctx = Arc::try_unwrap(setup_ctx)
            .unwrap_or_else(|_| unreachable!("the setup VU was the only other owner"));
        ctx.globals = globals;
    }
    let ctx = Arc::new(ctx);

    let mut start_lag = None;
    if let Some(at) = options.start_at {
        tokio::select! {
            lag = wait_until(at) => {
                if lag > crate::util::start_at::LATE_START_TOLERANCE {
                    tracing::warn!(
                        late_ms = lag.as_millis() as u64,
                        "started {:.1} s after --start-at: this instance's share of the load runs that much late",
                        lag.as_secs_f64()
                    );
                }
                start_lag = Some(lag);
                aggregator.restart_clock();
            }
            _ = &mut interrupt => {
                let summary = aggregator.summary(&plan.thresholds, RunEnd::Interrupted);
                let sink_reports = sinks
                    .finish(Arc::new(summary.clone()), options.sink_finish_timeout)
                    .await;
                return Ok(RunResult { summary, sink_reports, errors: Vec::new(), start_lag, timeline: None });
            }
        }
    }

    let (global_tx, global_rx) = watch::channel(StopLevel::Run);
    let mut scenarios = JoinSet::new();
    for index in 0..plan.scenarios.len() {
        scenarios.spawn(run_scenario(ctx.clone(), index, global_rx.clone()));
    }
    let started = Instant::now();
    let mut generator = GeneratorMonitor::start(options.flush_interval);
    let mut ticker = tokio::time::interval_at(
        tokio::time::Instant::now() + options.flush_interval,
        options.flush_interval,
    );
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut end = RunEnd::Completed;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let snapshot = flush(&ctx, &mut aggregator, &mut generator);
                if let Some(t) = timeline.as_mut() {
                    t.record(&snapshot);
                }
                if let Some(p) = progress.as_mut() {
                    p.update(&snapshot, &ctx);
                }
                sinks.publish(snapshot);
                if end == RunEnd::Completed
                    && let Some(t) = aggregator.failing_abort_threshold(&plan.thresholds, started.elapsed())
                {
                    end = RunEnd::AbortedByThreshold(format!("{}: {}", t.selector.source, t.expr.source));
                    raise(&global_tx, StopLevel::Hard);
                }
            }
            done = scenarios.join_next() => if done.is_none() { break },
            _ = &mut interrupt, if end == RunEnd::Completed => {
                end = RunEnd::Interrupted;
                raise(&global_tx, StopLevel::Hard);
            }
        }
    }

    if !plan.teardown.is_empty() {
        let mut vu = Vu::new(ctx.clone(), 0, Arc::from("teardown"), ctx.http.clone());
        if let Err(e) = vu.run_unmetered(&plan.teardown).await {
            ctx.report_error(&format!("teardown: {}", e.0));
        }
    }

    let last = flush(&ctx, &mut aggregator, &mut generator);
    if let Some(t) = timeline.as_mut() {
        t.record(&last);
    }
    if let Some(p) = progress.as_mut() {
        p.finish(&last, &ctx);
    }
    sinks.publish(last);
    let mut summary = aggregator.summary(&plan.thresholds, end);
    summary.generator = generator.health();
    let timeline = timeline.map(TimelineCollector::finish);
    judge_time_criteria(&mut summary.thresholds, timeline.as_ref(), &summary.metrics);
    if let Some(t) = &timeline {
        summary.breaking_points = find_breaking_points(t, &breaking);
    }
    let sink_reports = sinks
        .finish(Arc::new(summary.clone()), options.sink_finish_timeout)
        .await;
    Ok(RunResult {
        summary,
        sink_reports,
        errors: ctx.error_counts(),
        start_lag,
        timeline: timeline.filter(|_| options.timeline),
    })
}

/// Sleeps until the wall-clock instant `at` and returns how late the wake
/// was (zero when `at` had not passed). The wall clock, not a monotonic
/// one, is what instances on different machines share (through NTP).
async fn wait_until(at: SystemTime) -> Duration {
    if let Ok(ahead) = at.duration_since(SystemTime::now()) {
        tokio::time::sleep(ahead).await;
    }
    SystemTime::now()
        .duration_since(at)
        .unwrap_or(Duration::ZERO)
}

/// Samples the VU and generator gauges, then flushes every recorder shard
/// into a snapshot.
fn flush(
    ctx: &RunContext,
    aggregator: &mut Aggregator,
    generator: &mut GeneratorMonitor,
) -> Arc<crate::metrics::Snapshot> {
    let recorder = &ctx.recorder;
    // One reading per snapshot: the most VUs active since the last one, not
    // the count at the tick, so VUs that started and stopped between two
    // ticks (a run shorter than the flush interval, a short peak) show.
    let active = ctx.active_vus.load(Ordering::Relaxed);
    let peak = ctx.peak_active_vus.swap(active, Ordering::Relaxed);
    recorder.gauge(builtin::VUS, ctx.untagged, peak.max(active) as f64);
    recorder.gauge(
        builtin::VUS_MAX,
        ctx.untagged,
        ctx.allocated_vus.load(Ordering::Relaxed) as f64,
    );
    if let Some(reading) = generator.sample() {
        recorder.gauge(builtin::GENERATOR_CPU, ctx.untagged, reading.cpu);
        recorder.gauge(
            builtin::GENERATOR_MEMORY,
            ctx.untagged,
            reading.memory_bytes as f64,
        );
        if let Some(saturation) = reading.saturation {
            tracing::warn!("{saturation}");
        }
    }
    aggregator.flush()
}
