//! Everything the handlers share, behind one `Arc`.

use std::time::Instant;

use bytes::Bytes;

use super::agentapi::AgentState;
use super::agentcore::CallerLimits;
use super::blocks::generate_blocks;
use super::config::DemoConfig;
use super::draws::Draws;
use super::executions::ExecutionStore;
use super::graph_catalogue::GraphCatalogue;
use super::latency::LatencyTable;
use super::sharded::ShardedMap;
use super::stats::Stats;
use super::tokens::TokenStore;

pub struct AppState {
    pub config: DemoConfig,
    pub stats: Stats,
    pub tokens: TokenStore,
    pub executions: ExecutionStore,
    pub graphs: GraphCatalogue,
    /// Ids of graphs created with `POST /api/graphs`; they can be executed too.
    pub created_graphs: ShardedMap<()>,
    /// Every random outcome; seeded by `DemoConfig::seed`.
    pub draws: Draws,
    /// `DemoConfig::latency`, indexed by route.
    pub latency: LatencyTable,
    /// AgentAPI's one agent: its conversation and when it is busy.
    pub agent: AgentState,
    /// AgentCore's rate limits and quotas, per caller.
    pub callers: CallerLimits,
    /// The `GET /api/blocks` body, shared by every response.
    pub blocks: Bytes,
    /// Origin of the server's monotonic clock (token expiry, buckets, executions).
    origin: Instant,
    /// `/health` answers so far: picks the fake pod in `X-Served-By`.
    pub health_answers: std::sync::atomic::AtomicU64,
}

impl AppState {
    /// Builds the catalogues; the blocks body takes a few milliseconds per MiB.
    pub fn new(config: DemoConfig) -> Self {
        AppState {
            stats: Stats::default(),
            tokens: TokenStore::default(),
            executions: ExecutionStore::default(),
            graphs: GraphCatalogue::generate(),
            created_graphs: ShardedMap::default(),
            draws: Draws::new(config.seed),
            latency: LatencyTable::new(&config.latency),
            agent: AgentState::default(),
            callers: CallerLimits::default(),
            blocks: generate_blocks(config.blocks_size_bytes),
            origin: Instant::now(),
            health_answers: std::sync::atomic::AtomicU64::new(0),
            config,
        }
    }

    /// Monotonic nanoseconds since the server started (u64 lasts 584 years).
    pub fn now_nanos(&self) -> u64 {
        self.origin.elapsed().as_nanos() as u64
    }

    /// Whether `id` names a catalogue graph or one created since start.
    pub fn graph_exists(&self, id: u128) -> bool {
        self.graphs.contains(id) || self.created_graphs.contains(id)
    }
}
