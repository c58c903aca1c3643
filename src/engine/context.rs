//! State shared by every VU of a run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::header_tags::HeaderTagValues;
use super::http_debug::HttpDebug;
use crate::metrics::{Recorder, TagInterner, TagSet, TagSetId};
use crate::protocol::http::ClientShared;
use crate::scenario::TestPlan;

pub struct RunContext {
    pub plan: Arc<TestPlan>,
    pub recorder: Recorder,
    /// Client settings and TLS configuration shared by every VU's client.
    pub http: Arc<ClientShared>,
    /// Per scenario (plan order), a client of its own when the scenario
    /// sets its own `tls`; empty, or `None` for a scenario that uses `http`.
    pub scenario_http: Vec<Option<Arc<ClientShared>>>,
    /// Variables produced by the test-level setup; every VU starts with them.
    pub globals: Vec<Option<String>>,
    pub http_debug: HttpDebug,
    /// VUs currently able to run iterations (k6's `vus`).
    pub active_vus: AtomicU64,
    /// Highest `active_vus` since the last flush, so short peaks show in `vus`.
    pub peak_active_vus: AtomicU64,
    /// VUs allocated so far (k6's `vus_max`).
    pub allocated_vus: AtomicU64,
    /// Per scenario (plan order), for live progress.
    pub scenarios: Vec<ScenarioCounters>,
    /// The run-wide tag set (just `instance`, when set), for `vus` and `vus_max`.
    pub untagged: TagSetId,
    /// Values of `tags_from_headers` tags seen so far (capped per key).
    pub header_tags: HeaderTagValues,
    errors: Mutex<HashMap<String, u64>>,
}

/// Live counters of one scenario.
#[derive(Default)]
pub struct ScenarioCounters {
    pub active: AtomicU64,
    pub allocated: AtomicU64,
    /// When the scenario began (after its `start_time`).
    pub started: std::sync::OnceLock<std::time::Instant>,
    /// When the scenario ended (every VU stopped).
    pub ended: std::sync::OnceLock<std::time::Instant>,
}

impl RunContext {
    /// The client settings the VUs of scenario `index` (plan order) use:
    /// its own when it sets `tls`, else the run's. By index, not by name:
    /// a scenario may be named `setup` or `teardown`, and the test-level
    /// setup and teardown use the run's settings ([`RunContext::http`]).
    pub fn scenario_client(&self, index: usize) -> &Arc<ClientShared> {
        self.scenario_http
            .get(index)
            .and_then(Option::as_ref)
            .unwrap_or(&self.http)
    }

    pub fn new(
        plan: Arc<TestPlan>,
        recorder: Recorder,
        http: Arc<ClientShared>,
        http_debug: HttpDebug,
    ) -> Self {
        let slots = plan.variables.len();
        RunContext {
            scenarios: (0..plan.scenarios.len())
                .map(|_| ScenarioCounters::default())
                .collect(),
            untagged: TagInterner::global().intern(TagSet::new(
                plan.tags
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .chain(plan.instance.iter().map(|i| ("instance", i.as_str()))),
            )),
            plan,
            recorder,
            http,
            scenario_http: Vec::new(),
            globals: vec![None; slots],
            http_debug,
            active_vus: AtomicU64::new(0),
            peak_active_vus: AtomicU64::new(0),
            allocated_vus: AtomicU64::new(0),
            header_tags: HeaderTagValues::default(),
            errors: Mutex::new(HashMap::new()),
        }
    }

    /// One more VU of scenario `index` is active; keeps the peak for the next `vus` sample.
    pub fn vu_activated(&self, index: usize) {
        let now = self.active_vus.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_active_vus.fetch_max(now, Ordering::Relaxed);
        self.scenarios[index].active.fetch_add(1, Ordering::Relaxed);
    }

    pub fn vu_deactivated(&self, index: usize) {
        self.active_vus.fetch_sub(1, Ordering::Relaxed);
        self.scenarios[index].active.fetch_sub(1, Ordering::Relaxed);
    }

    /// Allocates the `slot`th VU (0-based) this instance runs for scenario
    /// `index` and returns its id (k6's `__VU`): 1-based, unique across
    /// scenarios and segments, and the id the unsegmented run gives that VU,
    /// so per-VU data rows stay with it.
    pub fn allocate_vu(&self, index: usize, slot: u64) -> u64 {
        self.allocated_vus.fetch_add(1, Ordering::Relaxed);
        self.scenarios[index]
            .allocated
            .fetch_add(1, Ordering::Relaxed);
        let scenario = &self.plan.scenarios[index];
        scenario.vu_id_base + scenario.share.global(slot) + 1
    }

    /// Counts an iteration error; the first occurrence of each message is logged.
    pub fn report_error(&self, message: &str) {
        let mut errors = self.errors.lock().expect("error table lock");
        let count = errors.entry(message.to_string()).or_insert(0);
        *count += 1;
        if *count == 1 {
            tracing::warn!("iteration failed: {message}");
        }
    }

    /// Iteration errors seen during the run, most frequent first.
    pub fn error_counts(&self) -> Vec<(String, u64)> {
        let errors = self.errors.lock().expect("error table lock");
        let mut list: Vec<(String, u64)> = errors.iter().map(|(m, c)| (m.clone(), *c)).collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        list
    }
}
