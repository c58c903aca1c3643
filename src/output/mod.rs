//! Live outputs: where measurements go while the test runs.
//!
//! Every output is a [`Sink`](crate::metrics::Sink) built from an
//! [`OutputSpec`] (from `--out` or the scenario's `outputs:` section).
//! Network outputs share one push schedule ([`push_schedule::PushSchedule`])
//! and one delivery layer ([`delivery::Delivery`]): the project's own HTTP
//! client (one HTTP stack, one TLS setup for load and outputs), a bounded
//! buffer, batching, retry with exponential backoff and jitter, sending on
//! a task of its own and a flush deadline at the end
//! ([`sender::QueueSender`]). Encoders are pure functions from a snapshot (or a batch of
//! raw samples) to bytes, tested against exact expected output.

pub mod build;
pub mod context;
pub mod csv_file;
pub mod delivery;
pub mod env_fallbacks;
pub mod health;
pub mod influxdb;
pub mod json_file;
pub mod markers;
pub mod options;
pub mod otlp;
pub mod prometheus_rw;
pub mod push_schedule;
pub mod retry;
pub mod retry_queue;
pub mod sample_file;
pub mod scrape;
pub mod sender;
pub mod spec;
pub mod testid;

pub use build::{build_sink, build_sinks};
pub use context::OutputContext;
pub use delivery::{Delivery, Payload};
pub use health::{HEALTH_CHECK_TIMEOUT, HealthProblem, check_health};
pub use options::{COMMON_KEYS, OptionProblem, SpecBuilder, env_prefix, message_without_origin};
pub use spec::{BasicAuth, CommonOptions, OutputConfigError, OutputKind, OutputSpec, Secret};
pub use testid::{check_testid, generate_testid};
