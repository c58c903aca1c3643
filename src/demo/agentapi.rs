//! AgentAPI's agent: one terminal agent behind an HTTP API, shared by
//! every client (as the real one is). It keeps the latest messages of its
//! conversation and is `running` for `DemoConfig::agent_reply_time` after
//! each user message.
//!
//! The history is a ring of slots, each behind its own small lock: a
//! writer locks only the slot its message id picks, so concurrent senders
//! rarely meet and there is no lock over the whole conversation. Messages
//! are shared (`Arc`) and carry their rendered time, so a reader copies
//! nothing but pointers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::timefmt::rfc3339;

/// Messages `GET /messages` and `GET /events` return at most (the latest).
pub const HISTORY: u64 = 64;
/// A stored message is cut to this many bytes: memory stays bounded.
pub const MAX_CONTENT_BYTES: usize = 4096;
/// What the demo says it is.
pub const AGENT_TYPE: &str = "claude";
const GREETING: &str = "Hello! I am the stampede demo agent. What should I work on?";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Agent,
}

/// One message, as `GET /messages` and `GET /events` write it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: u64,
    pub role: Role,
    pub content: String,
    /// RFC 3339, UTC.
    pub time: String,
}

pub struct AgentState {
    /// Messages ever written; the next message's id.
    written: AtomicU64,
    slots: Box<[Mutex<Option<Arc<Message>>>]>,
    /// Server-clock nanoseconds until which the agent is `running`.
    busy_until_nanos: AtomicU64,
}

impl AgentState {
    /// A conversation that starts with the agent's greeting (id 0) at `unix_secs`.
    pub fn new(unix_secs: u64) -> Self {
        let state = AgentState {
            written: AtomicU64::new(1),
            slots: (0..HISTORY).map(|_| Mutex::new(None)).collect(),
            busy_until_nanos: AtomicU64::new(0),
        };
        state.store(0, Role::Agent, GREETING.to_string(), unix_secs);
        state
    }

    /// Records a user message and the agent's answer to it; the agent is
    /// busy until `busy_until_nanos`. Returns the user message's id.
    pub fn converse(&self, content: &str, unix_secs: u64, busy_until_nanos: u64) -> u64 {
        self.busy_until_nanos
            .fetch_max(busy_until_nanos, Ordering::Relaxed);
        let stored = truncate(content, MAX_CONTENT_BYTES);
        let reply = format!(
            "Done: {}",
            truncate(stored, 120).trim_end_matches(['.', '!', '?'])
        );
        let first = self.written.fetch_add(2, Ordering::Relaxed);
        self.store(first, Role::User, stored.to_string(), unix_secs);
        self.store(first + 1, Role::Agent, reply, unix_secs);
        first
    }

    /// `"running"` while a reply is due, else `"stable"`.
    pub fn status(&self, now_nanos: u64) -> &'static str {
        if now_nanos < self.busy_until_nanos.load(Ordering::Relaxed) {
            "running"
        } else {
            "stable"
        }
    }

    /// The latest messages, oldest first. A message whose write has not
    /// finished yet is left out rather than waited for.
    pub fn recent(&self) -> Vec<Arc<Message>> {
        let end = self.written.load(Ordering::Relaxed);
        let start = end.saturating_sub(HISTORY);
        (start..end)
            .filter_map(|id| {
                let slot = self.slot(id).lock().unwrap_or_else(|e| e.into_inner());
                slot.as_ref().filter(|m| m.id == id).map(Arc::clone)
            })
            .collect()
    }

    fn store(&self, id: u64, role: Role, content: String, unix_secs: u64) {
        let message = Arc::new(Message {
            id,
            role,
            content,
            time: rfc3339(unix_secs),
        });
        // A poisoned slot only means a writer panicked; overwrite it.
        *self.slot(id).lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
    }

    fn slot(&self, id: u64) -> &Mutex<Option<Arc<Message>>> {
        &self.slots[(id % HISTORY) as usize]
    }
}

impl Default for AgentState {
    fn default() -> Self {
        AgentState::new(super::timefmt::unix_now())
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_keeps_the_latest_messages_in_order() {
        let agent = AgentState::new(100);
        assert_eq!(
            agent.recent(),
            vec![Arc::new(Message {
                id: 0,
                role: Role::Agent,
                content: GREETING.into(),
                time: "1970-01-01T00:01:40Z".into(),
            })]
        );
        assert_eq!(agent.converse("Show git status.", 101, 0), 1);
        let recent = agent.recent();
        assert_eq!(recent.len(), 3);
        assert_eq!(recent[1].content, "Show git status.");
        assert_eq!(recent[2].role, Role::Agent);
        assert_eq!(recent[2].content, "Done: Show git status");
        for i in 0..40 {
            agent.converse(&format!("task {i}"), 102, 0);
        }
        let recent = agent.recent();
        assert_eq!(recent.len(), 64);
        assert_eq!(recent.first().unwrap().id, 83 - 64);
        assert_eq!(recent.last().unwrap().id, 82);
        assert_eq!(recent.last().unwrap().content, "Done: task 39");
    }

    #[test]
    fn busy_after_a_message_then_stable() {
        let agent = AgentState::new(0);
        assert_eq!(agent.status(5), "stable");
        agent.converse("hi", 0, 1_000);
        assert_eq!(agent.status(999), "running");
        assert_eq!(agent.status(1_000), "stable");
        // An earlier deadline never shortens a later one.
        agent.converse("hi", 0, 10);
        assert_eq!(agent.status(999), "running");
    }

    #[test]
    fn long_content_is_cut_at_a_character_boundary() {
        let agent = AgentState::new(0);
        let long = "é".repeat(3000);
        agent.converse(&long, 0, 0);
        let stored = &agent.recent()[1].content;
        assert_eq!(stored.len(), 4096);
        assert_eq!(truncate("aé", 2), "a");
    }
}
