//! The fixed catalogue behind `GET /api/graphs`: 250 graphs, serialised once
//! so a page is a single copy of a slice of bytes.

use std::collections::HashSet;
use std::hash::BuildHasherDefault;
use std::io::Write;
use std::ops::Range;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use super::sharded::IdHasher;
use super::timefmt::rfc3339;

/// Number of graphs in the catalogue (`total` in every page).
pub const CATALOGUE_GRAPHS: usize = 250;

const PURPOSES: [&str; 10] = [
    "Research",
    "Customer Support",
    "Lead Qualification",
    "Code Review",
    "Data Cleanup",
    "Meeting Notes",
    "Invoice Extraction",
    "Social Media",
    "Translation",
    "Incident Triage",
];
const KINDS: [&str; 5] = ["Assistant", "Pipeline", "Agent", "Workflow", "Summariser"];
/// 2024-01-01T00:00:00Z; catalogue graphs were "created" a day apart from here.
const CATALOGUE_EPOCH: u64 = 1_704_067_200;

#[derive(Serialize)]
struct GraphJson<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    version: u32,
    is_active: bool,
    node_count: u32,
    created_at: &'a str,
    updated_at: &'a str,
}

/// The graphs, their ids, and their JSON laid end to end, comma-separated.
pub struct GraphCatalogue {
    json: Vec<u8>,
    spans: Vec<Range<usize>>,
    id_set: HashSet<u128, BuildHasherDefault<IdHasher>>,
}

impl GraphCatalogue {
    /// The same catalogue on every start (seeded), so scenarios may pin ids.
    pub fn generate() -> Self {
        let mut rng = SmallRng::seed_from_u64(0x5747_4d50_4544_4531);
        let mut json = Vec::with_capacity(CATALOGUE_GRAPHS * 300);
        let mut spans = Vec::with_capacity(CATALOGUE_GRAPHS);
        let mut id_set = HashSet::with_capacity_and_hasher(CATALOGUE_GRAPHS, Default::default());
        for i in 0..CATALOGUE_GRAPHS {
            let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
            let purpose = PURPOSES[i % PURPOSES.len()];
            let kind = KINDS[(i / PURPOSES.len()) % KINDS.len()];
            let name = format!("{purpose} {kind} {:03}", i + 1);
            let description = format!(
                "{kind} that automates {} tasks with {} connected blocks.",
                purpose.to_lowercase(),
                3 + i % 17
            );
            let created = CATALOGUE_EPOCH + i as u64 * 86_400;
            let version = 1 + (i % 7) as u32;
            let graph = GraphJson {
                id: &id.hyphenated().to_string(),
                name: &name,
                description: &description,
                version,
                is_active: i % 11 != 10,
                node_count: 3 + (i % 17) as u32,
                created_at: &rfc3339(created),
                updated_at: &rfc3339(created + u64::from(version) * 3_600),
            };
            if i > 0 {
                json.push(b',');
            }
            let start = json.len();
            // Writing plain strings and numbers into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut json, &graph);
            spans.push(start..json.len());
            id_set.insert(id.as_u128());
        }
        GraphCatalogue {
            json,
            spans,
            id_set,
        }
    }

    pub fn contains(&self, id: u128) -> bool {
        self.id_set.contains(&id)
    }

    /// The whole `GET /api/graphs` body for one page; offsets past the end
    /// give an empty page.
    pub fn page_body(&self, limit: usize, offset: usize) -> Vec<u8> {
        let start = offset.min(self.spans.len());
        let end = offset.saturating_add(limit).min(self.spans.len());
        let items: &[u8] = if start < end {
            &self.json[self.spans[start].start..self.spans[end - 1].end]
        } else {
            b""
        };
        let mut body = Vec::with_capacity(items.len() + 64);
        body.extend_from_slice(b"{\"graphs\":[");
        body.extend_from_slice(items);
        // Writing into a Vec cannot fail.
        let _ = write!(
            body,
            "],\"total\":{},\"limit\":{limit},\"offset\":{offset}}}",
            self.spans.len()
        );
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_valid_json_with_the_right_slice() {
        let catalogue = GraphCatalogue::generate();
        let page: serde_json::Value = serde_json::from_slice(&catalogue.page_body(3, 248)).unwrap();
        assert_eq!(page["total"], 250);
        assert_eq!(page["limit"], 3);
        assert_eq!(page["offset"], 248);
        let graphs = page["graphs"].as_array().unwrap();
        assert_eq!(graphs.len(), 2);
        let id = uuid::Uuid::parse_str(graphs[0]["id"].as_str().unwrap()).unwrap();
        assert!(catalogue.contains(id.as_u128()));
        assert_eq!(graphs[0]["name"], "Translation Summariser 249");
        assert_eq!(graphs[1]["name"], "Incident Triage Summariser 250");
        let empty: serde_json::Value =
            serde_json::from_slice(&catalogue.page_body(20, 1000)).unwrap();
        assert_eq!(empty["graphs"], serde_json::json!([]));
    }

    #[test]
    fn is_the_same_on_every_start() {
        let a = GraphCatalogue::generate();
        let b = GraphCatalogue::generate();
        assert_eq!(a.json, b.json);
        assert_eq!(a.id_set, b.id_set);
        assert_eq!(a.id_set.len(), CATALOGUE_GRAPHS);
        assert!(!a.contains(0));
    }
}
