//! Metric definitions: the built-in k6-named metrics and user-declared ones.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

/// How a metric's samples combine, with k6's four kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A sum that only grows (`http_reqs`, `data_sent`).
    Counter,
    /// The last value set, with min and max seen (`vus`).
    Gauge,
    /// The share of non-zero samples (`http_req_failed`, `checks`).
    Rate,
    /// A distribution kept in an HDR histogram (`http_req_duration`).
    Trend,
}

/// What a metric's values mean, which decides how they are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// Plain numbers.
    Default,
    /// Milliseconds (trends store microseconds internally).
    Time,
    /// Bytes.
    Data,
}

/// Index of a metric in the [`MetricRegistry`]. Built-ins have fixed ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MetricId(pub u16);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricDef {
    pub name: Arc<str>,
    pub kind: MetricKind,
    pub contains: ValueType,
}

/// Built-in metrics, in registry order. Names follow k6 so its dashboards carry over.
pub mod builtin {
    use super::{MetricId, MetricKind, ValueType};

    pub const HTTP_REQS: MetricId = MetricId(0);
    pub const HTTP_REQ_DURATION: MetricId = MetricId(1);
    pub const HTTP_REQ_BLOCKED: MetricId = MetricId(2);
    pub const HTTP_REQ_CONNECTING: MetricId = MetricId(3);
    pub const HTTP_REQ_TLS_HANDSHAKING: MetricId = MetricId(4);
    pub const HTTP_REQ_SENDING: MetricId = MetricId(5);
    pub const HTTP_REQ_WAITING: MetricId = MetricId(6);
    pub const HTTP_REQ_RECEIVING: MetricId = MetricId(7);
    pub const HTTP_REQ_FAILED: MetricId = MetricId(8);
    pub const DATA_SENT: MetricId = MetricId(9);
    pub const DATA_RECEIVED: MetricId = MetricId(10);
    pub const ITERATIONS: MetricId = MetricId(11);
    pub const ITERATION_DURATION: MetricId = MetricId(12);
    pub const DROPPED_ITERATIONS: MetricId = MetricId(13);
    pub const VUS: MetricId = MetricId(14);
    pub const VUS_MAX: MetricId = MetricId(15);
    pub const CHECKS: MetricId = MetricId(16);
    pub const GROUP_DURATION: MetricId = MetricId(17);
    /// Arrival-rate executors: scheduled start to actual start of an iteration.
    pub const ITERATION_SCHEDULING_LAG: MetricId = MetricId(18);
    /// SSE: request start to the first event of a stream (time to first token).
    pub const SSE_TIME_TO_FIRST_EVENT: MetricId = MetricId(19);
    /// SSE: time between consecutive events of a stream (inter-token latency).
    pub const SSE_EVENT_GAP: MetricId = MetricId(20);
    /// SSE: events received, over all streams.
    pub const SSE_EVENTS: MetricId = MetricId(21);
    /// SSE: events in one stream, one sample per stream.
    pub const SSE_EVENTS_PER_STREAM: MetricId = MetricId(22);
    /// SSE: request start to the end of the stream.
    pub const SSE_STREAM_DURATION: MetricId = MetricId(23);
    /// WebSocket: connect start (DNS, TCP, TLS) to the `101` of the upgrade.
    pub const WS_CONNECTING: MetricId = MetricId(24);
    /// WebSocket: sessions opened (the upgrade succeeded).
    pub const WS_SESSIONS: MetricId = MetricId(25);
    /// WebSocket: connect start to the end of the session (closed or failed).
    pub const WS_SESSION_DURATION: MetricId = MetricId(26);
    /// WebSocket: data messages sent (text and binary; not pings).
    pub const WS_MSGS_SENT: MetricId = MetricId(27);
    /// WebSocket: data messages received (text and binary; not pongs).
    pub const WS_MSGS_RECEIVED: MetricId = MetricId(28);
    /// WebSocket: ping sent to its pong received.
    pub const WS_PING: MetricId = MetricId(29);
    /// WebSocket: the last send before an `expect` to its matching reply,
    /// tagged with the expect's `name`.
    pub const WS_REPLY_TIME: MetricId = MetricId(30);
    /// stampede's own CPU use over the interval: CPU time (user + system)
    /// divided by the interval and by the cores available to the process,
    /// so 1 is every available core busy. Linux only.
    pub const GENERATOR_CPU: MetricId = MetricId(31);
    /// stampede's resident set size, in bytes. Linux only.
    pub const GENERATOR_MEMORY: MetricId = MetricId(32);
    /// Iterations cut at the hard stop (the end of `graceful_stop`, or a
    /// ramp-down's grace): also counted in `iterations`, so iterations plus
    /// dropped iterations is every scheduled start.
    pub const INTERRUPTED_ITERATIONS: MetricId = MetricId(33);

    /// (name, kind, contains) for every built-in, indexed by `MetricId.0`.
    pub const ALL: &[(&str, MetricKind, ValueType)] = &[
        ("http_reqs", MetricKind::Counter, ValueType::Default),
        ("http_req_duration", MetricKind::Trend, ValueType::Time),
        ("http_req_blocked", MetricKind::Trend, ValueType::Time),
        ("http_req_connecting", MetricKind::Trend, ValueType::Time),
        (
            "http_req_tls_handshaking",
            MetricKind::Trend,
            ValueType::Time,
        ),
        ("http_req_sending", MetricKind::Trend, ValueType::Time),
        ("http_req_waiting", MetricKind::Trend, ValueType::Time),
        ("http_req_receiving", MetricKind::Trend, ValueType::Time),
        ("http_req_failed", MetricKind::Rate, ValueType::Default),
        ("data_sent", MetricKind::Counter, ValueType::Data),
        ("data_received", MetricKind::Counter, ValueType::Data),
        ("iterations", MetricKind::Counter, ValueType::Default),
        ("iteration_duration", MetricKind::Trend, ValueType::Time),
        (
            "dropped_iterations",
            MetricKind::Counter,
            ValueType::Default,
        ),
        ("vus", MetricKind::Gauge, ValueType::Default),
        ("vus_max", MetricKind::Gauge, ValueType::Default),
        ("checks", MetricKind::Rate, ValueType::Default),
        ("group_duration", MetricKind::Trend, ValueType::Time),
        (
            "iteration_scheduling_lag",
            MetricKind::Trend,
            ValueType::Time,
        ),
        (
            "sse_time_to_first_event",
            MetricKind::Trend,
            ValueType::Time,
        ),
        ("sse_event_gap", MetricKind::Trend, ValueType::Time),
        ("sse_events", MetricKind::Counter, ValueType::Default),
        (
            "sse_events_per_stream",
            MetricKind::Trend,
            ValueType::Default,
        ),
        ("sse_stream_duration", MetricKind::Trend, ValueType::Time),
        ("ws_connecting", MetricKind::Trend, ValueType::Time),
        ("ws_sessions", MetricKind::Counter, ValueType::Default),
        ("ws_session_duration", MetricKind::Trend, ValueType::Time),
        ("ws_msgs_sent", MetricKind::Counter, ValueType::Default),
        ("ws_msgs_received", MetricKind::Counter, ValueType::Default),
        ("ws_ping", MetricKind::Trend, ValueType::Time),
        ("ws_reply_time", MetricKind::Trend, ValueType::Time),
        ("generator_cpu", MetricKind::Gauge, ValueType::Default),
        ("generator_memory", MetricKind::Gauge, ValueType::Data),
        (
            "interrupted_iterations",
            MetricKind::Counter,
            ValueType::Default,
        ),
    ];
}

/// Errors from declaring a metric.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetricError {
    #[error("metric {0:?} is already defined (built-in metrics cannot be redeclared)")]
    Duplicate(String),
    #[error(
        "metric name {0:?} is invalid: use letters, digits and underscores, starting with a letter"
    )]
    InvalidName(String),
}

/// Every metric known to a run: built-ins first, then those the scenario declares.
#[derive(Clone, Debug)]
pub struct MetricRegistry {
    defs: Vec<MetricDef>,
    by_name: HashMap<Arc<str>, MetricId>,
}

impl Default for MetricRegistry {
    fn default() -> Self {
        Self::with_builtins()
    }
}

impl MetricRegistry {
    pub fn with_builtins() -> Self {
        let mut registry = MetricRegistry {
            defs: Vec::new(),
            by_name: HashMap::new(),
        };
        for (name, kind, contains) in builtin::ALL {
            registry
                .register(name, *kind, *contains)
                .expect("built-in metric names are valid and unique");
        }
        registry
    }

    /// Declares a metric; names must be unique and Prometheus-safe.
    pub fn register(
        &mut self,
        name: &str,
        kind: MetricKind,
        contains: ValueType,
    ) -> Result<MetricId, MetricError> {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(MetricError::InvalidName(name.to_string()));
        }
        if self.by_name.contains_key(name) {
            return Err(MetricError::Duplicate(name.to_string()));
        }
        let id = MetricId(self.defs.len() as u16);
        let name: Arc<str> = Arc::from(name);
        self.defs.push(MetricDef {
            name: name.clone(),
            kind,
            contains,
        });
        self.by_name.insert(name, id);
        Ok(id)
    }

    pub fn get(&self, id: MetricId) -> &MetricDef {
        &self.defs[id.0 as usize]
    }

    pub fn lookup(&self, name: &str) -> Option<MetricId> {
        self.by_name.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (MetricId, &MetricDef)> {
        self.defs
            .iter()
            .enumerate()
            .map(|(i, d)| (MetricId(i as u16), d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_have_fixed_ids() {
        let r = MetricRegistry::with_builtins();
        assert_eq!(
            r.lookup("http_req_duration"),
            Some(builtin::HTTP_REQ_DURATION)
        );
        assert_eq!(r.lookup("checks"), Some(builtin::CHECKS));
        assert_eq!(r.get(builtin::VUS_MAX).name.as_ref(), "vus_max");
        assert_eq!(r.lookup("ws_connecting"), Some(builtin::WS_CONNECTING));
        assert_eq!(r.lookup("ws_reply_time"), Some(builtin::WS_REPLY_TIME));
        assert_eq!(r.len(), builtin::ALL.len());
    }

    #[test]
    fn custom_metrics_are_validated() {
        let mut r = MetricRegistry::with_builtins();
        let id = r
            .register("cache_hit", MetricKind::Rate, ValueType::Default)
            .unwrap();
        assert_eq!(r.lookup("cache_hit"), Some(id));
        assert_eq!(
            r.register("http_reqs", MetricKind::Counter, ValueType::Default),
            Err(MetricError::Duplicate("http_reqs".into()))
        );
        assert!(
            r.register("9lives", MetricKind::Counter, ValueType::Default)
                .is_err()
        );
    }
}
