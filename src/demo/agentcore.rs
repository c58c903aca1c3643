//! AgentCore's per-caller limits: a token bucket and a quota for each
//! caller of its `tools.*` JSON-RPC methods.
//!
//! A caller is the request's `params.identifier` (the suite's per-agent
//! quota test sets one), else its bearer token, else everyone without
//! either, together. Callers are kept for the server's lifetime, at most
//! [`MAX_CALLERS`] of them so a soak with ever-new identifiers stays
//! bounded; later ones share one overflow caller.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::config::RateLimit;
use super::rate_limit::TokenBucket;
use super::sharded::ShardedMap;
use super::tokens::user_id_for;

/// Distinct callers with limits of their own.
pub const MAX_CALLERS: u64 = 65_536;
/// The caller of requests with neither an identifier nor a token.
pub const ANONYMOUS: &str = "anonymous";

#[derive(Debug)]
pub struct Caller {
    /// `None` when AgentCore has no rate limit.
    pub bucket: Option<TokenBucket>,
    /// Executions charged against the quota.
    used: AtomicU64,
}

impl Caller {
    fn new(limit: Option<RateLimit>) -> Self {
        Caller {
            bucket: limit.map(TokenBucket::new),
            used: AtomicU64::new(0),
        }
    }

    /// Charges one execution against `quota` (`None`: unlimited); returns
    /// the executions charged so far, this one included, or `Err` when
    /// the quota is used up (nothing is charged then). Exact under
    /// concurrency: a quota of N admits exactly N.
    pub fn charge(&self, quota: Option<u64>) -> Result<u64, ()> {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                quota.is_none_or(|q| used < q).then_some(used + 1)
            })
            .map(|before| before + 1)
            .map_err(|_| ())
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

#[derive(Default)]
pub struct CallerLimits {
    callers: ShardedMap<Arc<Caller>>,
    /// Callers created so far (may overshoot the cap by racing creators).
    created: AtomicU64,
    overflow: std::sync::OnceLock<Arc<Caller>>,
}

impl CallerLimits {
    /// The limits of the caller named `name`; new callers start with a
    /// full bucket of `limit` and nothing used.
    pub fn get(&self, name: &str, limit: Option<RateLimit>) -> Arc<Caller> {
        let key = user_id_for(name);
        if let Some(caller) = self.callers.with(key, Arc::clone) {
            return caller;
        }
        if self.created.load(Ordering::Relaxed) >= MAX_CALLERS {
            return Arc::clone(self.overflow.get_or_init(|| Arc::new(Caller::new(limit))));
        }
        self.callers.get_or_insert_with(key, || {
            self.created.fetch_add(1, Ordering::Relaxed);
            Arc::new(Caller::new(limit))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_caller_has_its_own_quota() {
        let limits = CallerLimits::default();
        let a = limits.get("agent-1", None);
        assert_eq!(a.charge(Some(2)), Ok(1));
        assert_eq!(limits.get("agent-1", None).charge(Some(2)), Ok(2));
        assert_eq!(a.charge(Some(2)), Err(()));
        assert_eq!(a.used(), 2);
        assert_eq!(limits.get("agent-2", None).charge(Some(2)), Ok(1));
        assert_eq!(limits.get(ANONYMOUS, None).charge(None), Ok(1));
    }

    #[test]
    fn callers_beyond_the_cap_share_one() {
        let limits = CallerLimits::default();
        limits.created.store(MAX_CALLERS, Ordering::Relaxed);
        let late = limits.get("late-1", None);
        late.charge(None).unwrap();
        assert_eq!(limits.get("late-2", None).used(), 1);
    }
}
