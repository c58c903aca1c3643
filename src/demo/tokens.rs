//! Bearer tokens issued by `POST /auth/login` and the session behind each.
//!
//! A token is `stp_` plus 32 lowercase hex digits of a random 128-bit number.
//! The number itself is the map key, so checking a header needs no allocation.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::config::RateLimit;
use super::rate_limit::TokenBucket;
use super::sharded::ShardedMap;

const PREFIX: &str = "stp_";
/// Lifetime of a token, reported as `expires_in`.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Credits every session starts with; each execution costs one.
pub const STARTING_CREDITS: u64 = 10_000;

/// What a token stands for.
#[derive(Debug)]
pub struct Session {
    pub user_id: u128,
    expires_at_nanos: u64,
    /// `None` when the server has no rate limit.
    pub bucket: Option<TokenBucket>,
    /// The tools endpoint's own limit; `None` when it has none.
    pub tools_bucket: Option<TokenBucket>,
    executions: AtomicU64,
    /// Tool executions charged against the quota.
    tool_calls: AtomicU64,
}

impl Session {
    pub fn record_execution(&self) {
        self.executions.fetch_add(1, Ordering::Relaxed);
    }

    pub fn credits(&self) -> u64 {
        STARTING_CREDITS.saturating_sub(self.executions.load(Ordering::Relaxed))
    }

    /// Charges one tool execution against `quota` (`None`: unlimited) and
    /// returns the executions charged so far, this one included; `Err` when
    /// the quota is used up (nothing is charged then). Exact under
    /// concurrency: a quota of N admits exactly N executions.
    pub fn charge_tool_call(&self, quota: Option<u64>) -> Result<u64, ()> {
        let charged = self
            .tool_calls
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                quota.is_none_or(|q| used < q).then_some(used + 1)
            });
        charged.map(|before| before + 1).map_err(|_| ())
    }
}

/// The limits a new session gets.
#[derive(Clone, Copy, Debug, Default)]
pub struct SessionLimits {
    /// Every `/api` route (`DemoConfig::rate_limit`).
    pub api: Option<RateLimit>,
    /// The tools endpoint (`DemoConfig::tools_rate_limit`).
    pub tools: Option<RateLimit>,
}

/// All live tokens.
#[derive(Default)]
pub struct TokenStore {
    sessions: ShardedMap<Arc<Session>>,
}

impl TokenStore {
    /// Issues a new token for `user_id`; returns its text.
    pub fn issue(&self, user_id: u128, now_nanos: u64, limits: SessionLimits) -> String {
        let key: u128 = rand::random();
        let session = Session {
            user_id,
            expires_at_nanos: now_nanos.saturating_add(TOKEN_LIFETIME.as_nanos() as u64),
            bucket: limits.api.map(TokenBucket::new),
            tools_bucket: limits.tools.map(TokenBucket::new),
            executions: AtomicU64::new(0),
            tool_calls: AtomicU64::new(0),
        };
        self.sessions.insert(key, Arc::new(session));
        format_token(key)
    }

    /// The session for an `Authorization` header value, if it carries a live
    /// token of ours. Expired tokens are dropped on sight.
    pub fn authenticate(&self, authorization: &[u8], now_nanos: u64) -> Option<Arc<Session>> {
        let key = parse_token(bearer_credentials(authorization)?)?;
        let session = self.sessions.with(key, Arc::clone)?;
        if session.expires_at_nanos <= now_nanos {
            self.sessions.remove(key);
            return None;
        }
        Some(session)
    }
}

/// The credentials of a `Bearer` authorization value (scheme is case-insensitive).
fn bearer_credentials(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    Some(rest.trim_ascii())
}

fn format_token(key: u128) -> String {
    format!("{PREFIX}{key:032x}")
}

fn parse_token(text: &[u8]) -> Option<u128> {
    let hex = text.strip_prefix(PREFIX.as_bytes())?;
    if hex.len() != 32 || !hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    // All bytes are ASCII hex digits, so this is valid UTF-8 and parses.
    u128::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// A stable user id for an email address (FNV-1a, twice with different
/// offsets), so the same login always maps to the same user.
pub fn user_id_for(email: &str) -> u128 {
    let fnv = |offset: u64| {
        email.bytes().fold(offset, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let id =
        (u128::from(fnv(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(fnv(0x8422_2325_cbf2_9ce4));
    // Mark it as a custom (version 8) RFC 4122 UUID.
    uuid::Builder::from_custom_bytes(id.to_be_bytes())
        .into_uuid()
        .as_u128()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3_600_000_000_000;

    #[test]
    fn issued_token_authenticates() {
        let store = TokenStore::default();
        let token = store.issue(42, 0, SessionLimits::default());
        assert!(token.starts_with("stp_") && token.len() == 36, "{token}");
        let header = format!("Bearer {token}");
        let session = store
            .authenticate(header.as_bytes(), 1)
            .expect("valid token");
        assert_eq!(session.user_id, 42);
        assert_eq!(session.credits(), STARTING_CREDITS);
        // Scheme is case-insensitive; surrounding blanks are tolerated.
        let header = format!("bearer  {token} ");
        assert!(store.authenticate(header.as_bytes(), 1).is_some());
    }

    #[test]
    fn rejects_foreign_malformed_and_expired_tokens() {
        let store = TokenStore::default();
        let token = store.issue(1, 0, SessionLimits::default());
        let upper = format!("Bearer stp_{}", token[4..].to_uppercase());
        assert!(store.authenticate(upper.as_bytes(), 1).is_none());
        assert!(store.authenticate(b"Bearer stp_0123", 1).is_none());
        let foreign = format!("Bearer {}", format_token(7));
        assert!(store.authenticate(foreign.as_bytes(), 1).is_none());
        let basic = format!("Basic {token}");
        assert!(store.authenticate(basic.as_bytes(), 1).is_none());
        assert!(store.authenticate(b"", 1).is_none());
        let header = format!("Bearer {token}");
        assert!(store.authenticate(header.as_bytes(), HOUR - 1).is_some());
        assert!(store.authenticate(header.as_bytes(), HOUR).is_none());
    }

    #[test]
    fn user_ids_are_stable_per_email() {
        assert_eq!(user_id_for("a@example.com"), user_id_for("a@example.com"));
        assert_ne!(user_id_for("a@example.com"), user_id_for("b@example.com"));
        let uuid = uuid::Uuid::from_u128(user_id_for("a@example.com"));
        assert_eq!(uuid.get_version_num(), 8);
    }

    #[test]
    fn credits_fall_with_executions() {
        let store = TokenStore::default();
        let token = store.issue(1, 0, SessionLimits::default());
        let session = store
            .authenticate(format!("Bearer {token}").as_bytes(), 0)
            .expect("valid token");
        session.record_execution();
        session.record_execution();
        assert_eq!(session.credits(), STARTING_CREDITS - 2);
    }

    #[test]
    fn tool_quota_admits_exactly_its_size() {
        let store = TokenStore::default();
        let token = store.issue(1, 0, SessionLimits::default());
        let session = store
            .authenticate(format!("Bearer {token}").as_bytes(), 0)
            .expect("valid token");
        assert_eq!(session.charge_tool_call(Some(2)), Ok(1));
        assert_eq!(session.charge_tool_call(Some(2)), Ok(2));
        assert_eq!(session.charge_tool_call(Some(2)), Err(()));
        assert_eq!(
            session.charge_tool_call(Some(2)),
            Err(()),
            "a refusal charges nothing"
        );
        assert_eq!(session.charge_tool_call(None), Ok(3));
    }
}
