//! stampede: a load-testing engine.
//!
//! Data flows one way: a YAML [`scenario::ScenarioFile`] is validated into a
//! [`scenario::TestPlan`]; the [`engine`] runs its executors and VUs, which
//! record every request into per-thread [`metrics::Recorder`] shards; the
//! aggregator turns those into interval [`metrics::Snapshot`]s for sinks and, at
//! the end, a [`metrics::Summary`] that thresholds judge and [`report`] prints.

pub mod cli;
pub mod demo;
pub mod engine;
pub mod exit_code;
pub mod metrics;
pub mod output;
pub mod protocol;
pub mod report;
pub mod scenario;
pub mod timeline;
pub mod util;
