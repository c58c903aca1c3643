//! The built-in demo target: an imitation agent-platform API.
//!
//! `stampede demo` serves it so every scenario runs out of the box, and the
//! tests and benchmarks use it in-process. It is the thing under load, so the
//! hot path stays cheap: counters are atomics, shared maps are sharded
//! `RwLock`s keyed by random ids, the large catalogues are serialised once.
//!
//! Routes (all JSON; `/api/*` needs `Authorization: Bearer <token>`):
//! `GET /health`, `POST /auth/login`, `GET /api/credits`, `GET /api/blocks`,
//! `GET|POST /api/graphs`, `POST /api/graphs/{id}/execute`,
//! `GET /api/executions/{id}`, `POST /api/tools/{name}/execute` (with its own
//! per-token rate limit and quota). HTTP/1.1 and h2c (prior knowledge) are
//! both served on the one port. Any route takes `?delay=50ms` and `?fail=0.05`;
//! `DemoConfig::stall` holds every response for a while, periodically.
//!
//! It also imitates the APIs of three suites other teams run (BotFlow,
//! AgentAPI, AgentCore; `docs/demo-target.md`), at their own paths and under
//! `/botflow`, `/agentapi`, `/agentcore`, with a modelled latency per route
//! and one seed (`DemoConfig::seed`) for every random outcome.

mod admission;
mod agentapi;
mod agentcore;
mod agentcore_tools;
mod blocks;
mod botflow;
mod config;
mod draws;
mod executions;
mod graph_catalogue;
mod injection;
mod latency;
mod query;
mod rate_limit;
mod response;
mod routes;
mod server;
mod sharded;
mod stall;
mod state;
mod stats;
mod timefmt;
mod tokens;
mod tools;

pub use config::{ConfigError, DemoConfig, RateLimit, default_latency};
pub use graph_catalogue::CATALOGUE_GRAPHS;
pub use latency::LogNormal;
pub use server::{DemoServer, serve_forever};
pub use stall::Stall;
pub use stats::DemoStats;
