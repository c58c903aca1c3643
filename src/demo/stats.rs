//! Request counters, updated with relaxed atomics: they are read only for a
//! report, never to make a decision, so no ordering between them is needed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The routes of the demo API; each has its own counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Login,
    Health,
    Credits,
    ListGraphs,
    CreateGraph,
    Blocks,
    ExecuteGraph,
    GetExecution,
    ChatStream,
    Subscribe,
    WebSocket,
    ExecuteTool,
    // BotFlow (src/demo/botflow.rs)
    BotflowHealth,
    Bots,
    Conversations,
    Analytics,
    Templates,
    // AgentAPI (src/demo/agentapi/)
    AgentStatus,
    AgentMessages,
    AgentMessage,
    AgentEvents,
    OauthInit,
    OauthRefresh,
    OauthRevoke,
    // AgentCore (src/demo/agentcore/)
    AgentcoreHealth,
    JsonRpc,
}

impl Endpoint {
    pub const ALL: [Endpoint; 26] = [
        Endpoint::Login,
        Endpoint::Health,
        Endpoint::Credits,
        Endpoint::ListGraphs,
        Endpoint::CreateGraph,
        Endpoint::Blocks,
        Endpoint::ExecuteGraph,
        Endpoint::GetExecution,
        Endpoint::ChatStream,
        Endpoint::Subscribe,
        Endpoint::WebSocket,
        Endpoint::ExecuteTool,
        Endpoint::BotflowHealth,
        Endpoint::Bots,
        Endpoint::Conversations,
        Endpoint::Analytics,
        Endpoint::Templates,
        Endpoint::AgentStatus,
        Endpoint::AgentMessages,
        Endpoint::AgentMessage,
        Endpoint::AgentEvents,
        Endpoint::OauthInit,
        Endpoint::OauthRefresh,
        Endpoint::OauthRevoke,
        Endpoint::AgentcoreHealth,
        Endpoint::JsonRpc,
    ];

    /// Method and route template, the key in [`DemoStats::per_endpoint`].
    pub fn key(self) -> &'static str {
        match self {
            Endpoint::Login => "POST /auth/login",
            Endpoint::Health => "GET /health",
            Endpoint::Credits => "GET /api/credits",
            Endpoint::ListGraphs => "GET /api/graphs",
            Endpoint::CreateGraph => "POST /api/graphs",
            Endpoint::Blocks => "GET /api/blocks",
            Endpoint::ExecuteGraph => "POST /api/graphs/{id}/execute",
            Endpoint::GetExecution => "GET /api/executions/{id}",
            Endpoint::ChatStream => "POST /api/chat/stream",
            Endpoint::Subscribe => "GET /api/messages/subscribe",
            Endpoint::WebSocket => "GET /ws",
            Endpoint::ExecuteTool => "POST /api/tools/{name}/execute",
            Endpoint::BotflowHealth => "GET /botflow/health",
            Endpoint::Bots => "GET /api/bots",
            Endpoint::Conversations => "GET /api/conversations",
            Endpoint::Analytics => "GET /api/analytics/realtime",
            Endpoint::Templates => "GET /api/templates",
            Endpoint::AgentStatus => "GET /status",
            Endpoint::AgentMessages => "GET /messages",
            Endpoint::AgentMessage => "POST /message",
            Endpoint::AgentEvents => "GET /events",
            Endpoint::OauthInit => "POST /api/mcp/oauth/init",
            Endpoint::OauthRefresh => "POST /api/mcp/oauth/refresh",
            Endpoint::OauthRevoke => "POST /api/mcp/oauth/revoke",
            Endpoint::AgentcoreHealth => "GET /api/v1/health",
            Endpoint::JsonRpc => "POST /api/v1/jsonrpc",
        }
    }

    /// Whether the route needs a token from `/auth/login` (the platform's
    /// `/api` routes). The imitated suites' APIs check their own way.
    pub fn requires_token(self) -> bool {
        matches!(
            self,
            Endpoint::Credits
                | Endpoint::ListGraphs
                | Endpoint::CreateGraph
                | Endpoint::Blocks
                | Endpoint::ExecuteGraph
                | Endpoint::GetExecution
                | Endpoint::ChatStream
                | Endpoint::Subscribe
                | Endpoint::WebSocket
                | Endpoint::ExecuteTool
        )
    }
}

/// A point-in-time copy of the server's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoStats {
    /// Successful logins (tokens issued).
    pub logins: u64,
    /// Requests answered 401.
    pub unauthorized: u64,
    /// Requests answered 429 (the API-wide and the tools rate limits).
    pub rate_limited: u64,
    /// Tool executions refused for an exhausted quota (403).
    pub quota_exceeded: u64,
    /// TCP connections accepted (HTTP/1.1 and HTTP/2 alike).
    pub connections: u64,
    /// Requests per route, keyed like `"GET /api/credits"`; routes never hit are absent.
    pub per_endpoint: BTreeMap<String, u64>,
    /// Every request received, including those to unknown routes.
    pub total: u64,
}

/// The live counters behind [`DemoStats`].
#[derive(Debug, Default)]
pub struct Stats {
    total: AtomicU64,
    logins: AtomicU64,
    unauthorized: AtomicU64,
    rate_limited: AtomicU64,
    quota_exceeded: AtomicU64,
    connections: AtomicU64,
    per_endpoint: [AtomicU64; Endpoint::ALL.len()],
}

impl Stats {
    pub fn count_request(&self, endpoint: Endpoint) {
        self.total.fetch_add(1, Ordering::Relaxed);
        self.per_endpoint[endpoint as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A request that matched no route (404/405): counted in the total only.
    pub fn count_unrouted(&self) {
        self.total.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_login(&self) {
        self.logins.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_unauthorized(&self) {
        self.unauthorized.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_quota_exceeded(&self) {
        self.quota_exceeded.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> DemoStats {
        let per_endpoint = Endpoint::ALL
            .iter()
            .filter_map(|&endpoint| {
                let count = self.per_endpoint[endpoint as usize].load(Ordering::Relaxed);
                (count > 0).then(|| (endpoint.key().to_string(), count))
            })
            .collect();
        DemoStats {
            logins: self.logins.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            quota_exceeded: self.quota_exceeded.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            per_endpoint,
            total: self.total.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_indexes_match_all() {
        for (index, endpoint) in Endpoint::ALL.iter().enumerate() {
            assert_eq!(*endpoint as usize, index);
        }
    }

    #[test]
    fn snapshot_lists_only_hit_routes() {
        let stats = Stats::default();
        stats.count_request(Endpoint::Credits);
        stats.count_request(Endpoint::Credits);
        stats.count_request(Endpoint::Login);
        stats.count_login();
        stats.count_unrouted();
        stats.count_unauthorized();
        let snapshot = stats.snapshot();
        let expected: BTreeMap<String, u64> = [
            ("GET /api/credits".to_string(), 2),
            ("POST /auth/login".to_string(), 1),
        ]
        .into_iter()
        .collect();
        assert_eq!(snapshot.per_endpoint, expected);
        assert_eq!(snapshot.total, 4);
        assert_eq!(snapshot.logins, 1);
        assert_eq!(snapshot.unauthorized, 1);
        assert_eq!(snapshot.rate_limited, 0);
    }
}
