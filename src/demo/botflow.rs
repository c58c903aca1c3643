//! BotFlow's data: a chatbot builder's bots, conversations and templates.
//! Built once (they never change) and served as shared `Bytes`; only the
//! real-time analytics are made per request, from the clock.

use std::sync::LazyLock;

use bytes::Bytes;
use serde_json::{Value, json};

/// Most conversations `GET /api/conversations?limit=` returns at once.
pub const MAX_CONVERSATIONS: usize = 100;
/// `limit` when the query has none.
pub const DEFAULT_CONVERSATIONS: usize = 20;

const BOTS: [(&str, &str); 6] = [
    ("Support Assistant", "whatsapp"),
    ("Booking Bot", "whatsapp"),
    ("Order Tracker", "web"),
    ("FAQ Helper", "web"),
    ("Lead Qualifier", "messenger"),
    ("Feedback Collector", "sms"),
];

const TEMPLATES: [(&str, &str, u32); 8] = [
    ("Restaurant bookings", "hospitality", 12),
    ("Salon appointments", "beauty", 9),
    ("Order status", "retail", 7),
    ("Product FAQ", "retail", 15),
    ("Lead capture", "sales", 6),
    ("Customer feedback", "support", 5),
    ("Ticket triage", "support", 11),
    ("Event registration", "events", 8),
];

const LAST_MESSAGES: [&str; 4] = [
    "Thanks, that solved it!",
    "Can I change my booking to Friday?",
    "Where is my order?",
    "I'd like to speak to a person.",
];

/// The prebuilt bodies.
pub struct BotflowData {
    /// `GET /api/bots`: a JSON array.
    pub bots: Bytes,
    /// `GET /api/templates`: a JSON array.
    pub templates: Bytes,
    /// `conversations[n - 1]`: the array of the first `n` conversations.
    conversations: Vec<Bytes>,
}

impl BotflowData {
    /// The first `limit` conversations (`1..=MAX_CONVERSATIONS`).
    pub fn conversations(&self, limit: usize) -> Bytes {
        self.conversations[limit.clamp(1, MAX_CONVERSATIONS) - 1].clone()
    }
}

pub static BOTFLOW: LazyLock<BotflowData> = LazyLock::new(build);

fn build() -> BotflowData {
    let bots: Vec<Value> = BOTS
        .iter()
        .enumerate()
        .map(|(i, (name, channel))| {
            json!({
                "id": format!("bot_{:02}", i + 1),
                "name": name,
                "channel": channel,
                "status": if i == 5 { "paused" } else { "active" },
                "conversations_today": 40 + 37 * i,
                "created_at": format!("2026-01-{:02}T08:00:00Z", 2 + i),
            })
        })
        .collect();
    let templates: Vec<Value> = TEMPLATES
        .iter()
        .enumerate()
        .map(|(i, (name, category, nodes))| {
            json!({
                "id": format!("tpl_{:02}", i + 1),
                "name": name,
                "category": category,
                "nodes": nodes,
            })
        })
        .collect();
    let conversations: Vec<Value> = (0..MAX_CONVERSATIONS)
        .map(|i| {
            json!({
                "id": format!("conv_{:04}", i + 1),
                "bot_id": format!("bot_{:02}", i % BOTS.len() + 1),
                "customer": format!("Customer {}", i + 1),
                "status": if i % 3 == 0 { "open" } else { "closed" },
                "message_count": 3 + (i * 7) % 20,
                "last_message": LAST_MESSAGES[i % LAST_MESSAGES.len()],
                "updated_at": format!("2026-01-17T{:02}:{:02}:00Z", 23 - i / 60 % 24, 59 - i % 60),
            })
        })
        .collect();
    let to_bytes = |items: &[Value]| Bytes::from(Value::from(items.to_vec()).to_string());
    BotflowData {
        bots: to_bytes(&bots),
        templates: to_bytes(&templates),
        conversations: (1..=MAX_CONVERSATIONS)
            .map(|n| to_bytes(&conversations[..n]))
            .collect(),
    }
}

/// `GET /api/analytics/realtime` at `unix_secs`: figures that move with
/// the clock (a daily cycle), the same for every caller in one second.
pub fn realtime_analytics(unix_secs: u64) -> Value {
    let minute_of_day = (unix_secs / 60 % 1440) as f64;
    // Busiest at 14:00 UTC, quietest at 02:00.
    let load = 0.5 + 0.5 * ((minute_of_day - 840.0) / 1440.0 * std::f64::consts::TAU).cos();
    let active = 20 + (180.0 * load) as u64;
    json!({
        "active_conversations": active,
        "messages_last_minute": active * 3 + unix_secs % 7,
        "avg_response_ms": 850 + (unix_secs % 13) * 10,
        "bots_online": BOTS.len() - 1,
        "timestamp": unix_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_arrays_of_the_documented_items() {
        let bots: Vec<Value> = serde_json::from_slice(&BOTFLOW.bots).unwrap();
        assert_eq!(bots.len(), 6);
        assert_eq!(
            bots[0].to_string(),
            r#"{"id":"bot_01","name":"Support Assistant","channel":"whatsapp","status":"active","conversations_today":40,"created_at":"2026-01-02T08:00:00Z"}"#
        );
        let templates: Vec<Value> = serde_json::from_slice(&BOTFLOW.templates).unwrap();
        assert_eq!(templates.len(), 8);
        assert_eq!(
            templates[7].to_string(),
            r#"{"id":"tpl_08","name":"Event registration","category":"events","nodes":8}"#
        );
        for limit in [1, 20, 50, 100] {
            let page: Vec<Value> = serde_json::from_slice(&BOTFLOW.conversations(limit)).unwrap();
            assert_eq!(page.len(), limit);
        }
        let page: Vec<Value> = serde_json::from_slice(&BOTFLOW.conversations(2)).unwrap();
        assert_eq!(
            page[1].to_string(),
            r#"{"id":"conv_0002","bot_id":"bot_02","customer":"Customer 2","status":"closed","message_count":10,"last_message":"Can I change my booking to Friday?","updated_at":"2026-01-17T23:58:00Z"}"#
        );
    }

    #[test]
    fn analytics_follow_the_clock() {
        // 2024-05-01T14:00:00Z, the daily peak.
        assert_eq!(
            realtime_analytics(1_714_572_000).to_string(),
            r#"{"active_conversations":200,"messages_last_minute":601,"avg_response_ms":960,"bots_online":5,"timestamp":1714572000}"#
        );
        // 02:00 UTC the same day, the trough.
        let night = realtime_analytics(1_714_528_800);
        assert_eq!(night["active_conversations"], 20);
    }
}
