//! The `GET /api/blocks` catalogue: a large JSON array of block definitions
//! with input/output schemas, built once at startup and shared as `Bytes`.

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

const CATEGORIES: [&str; 8] = [
    "AI",
    "TEXT",
    "DATA",
    "LOGIC",
    "INPUT",
    "OUTPUT",
    "SOCIAL",
    "DEVELOPER",
];
const VERBS: [&str; 12] = [
    "Summarize",
    "Classify",
    "Extract",
    "Translate",
    "Search",
    "Fetch",
    "Transform",
    "Validate",
    "Generate",
    "Route",
    "Score",
    "Post",
];
const OBJECTS: [&str; 10] = [
    "Text", "Document", "Email", "Image", "Webpage", "Table", "Ticket", "Message", "Record",
    "Calendar",
];
const FIELD_TYPES: [(&str, &str); 5] = [
    ("string", "text"),
    ("integer", "count"),
    ("number", "threshold"),
    ("boolean", "enabled"),
    ("array", "items"),
];

/// Generates blocks until the JSON array is at least `target_bytes` long
/// (an empty array when `target_bytes` is 2 or less). Deterministic.
pub fn generate_blocks(target_bytes: usize) -> Bytes {
    let mut rng = SmallRng::seed_from_u64(0x424c_4f43_4b53);
    let mut out = Vec::with_capacity(target_bytes + 4096);
    out.push(b'[');
    let mut index = 0usize;
    // +1 for the closing bracket.
    while out.len() + 1 < target_bytes {
        if index > 0 {
            out.push(b',');
        }
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, &block(index, &mut rng));
        index += 1;
    }
    out.push(b']');
    Bytes::from(out)
}

fn block(index: usize, rng: &mut SmallRng) -> Value {
    let verb = VERBS[index % VERBS.len()];
    let object = OBJECTS[(index / VERBS.len()) % OBJECTS.len()];
    let name = format!(
        "{verb}{object}Block{}",
        index / (VERBS.len() * OBJECTS.len())
    );
    let id = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
    let categories = [
        CATEGORIES[index % CATEGORIES.len()],
        CATEGORIES[(index / 3 + 1) % CATEGORIES.len()],
    ];
    json!({
        "id": id.to_string(),
        "name": name,
        "description": format!(
            "{verb}s a {} using the configured provider and returns the result with metadata.",
            object.to_lowercase()
        ),
        "categories": categories.iter().map(|c| json!({
            "category": c,
            "description": format!("Blocks in the {} category", c.to_lowercase()),
        })).collect::<Vec<_>>(),
        "input_schema": schema(&format!("{name}Input"), 4 + index % 4, rng),
        "output_schema": schema(&format!("{name}Output"), 2 + index % 3, rng),
        "static_output": index.is_multiple_of(5),
        "block_type": if index.is_multiple_of(9) { "AGENT" } else { "STANDARD" },
        "costs": [{
            "cost_amount": 1 + index % 10,
            "cost_type": "run",
            "cost_filter": {},
        }],
    })
}

fn schema(title: &str, fields: usize, rng: &mut SmallRng) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in 0..fields {
        let (kind, stem) = FIELD_TYPES[(f + title.len()) % FIELD_TYPES.len()];
        let field = format!("{stem}_{f}");
        let mut property = json!({
            "type": kind,
            "title": format!("{} {}", stem[..1].to_uppercase() + &stem[1..], f),
            "description": format!("The {stem} this block reads as its field number {f}."),
            "advanced": rng.random_bool(0.3),
            "secret": false,
        });
        if kind == "array" {
            property["items"] = json!({ "type": "string" });
        }
        if f % 2 == 0 {
            required.push(Value::String(field.clone()));
        }
        properties.insert(field, property);
    }
    json!({
        "title": title,
        "type": "object",
        "properties": properties,
        "required": required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaches_the_target_size_and_parses() {
        let body = generate_blocks(200_000);
        assert!(body.len() >= 200_000, "{}", body.len());
        // One block is ~1.5 KB; the overshoot is at most one block.
        assert!(body.len() < 205_000, "{}", body.len());
        let blocks: Vec<Value> = serde_json::from_slice(&body).unwrap();
        assert!(blocks.len() > 50);
        assert!(blocks[0]["input_schema"]["properties"].is_object());
        assert_eq!(generate_blocks(200_000), body);
    }

    #[test]
    fn tiny_targets_give_an_empty_array() {
        assert_eq!(&generate_blocks(0)[..], b"[]");
        assert_eq!(&generate_blocks(2)[..], b"[]");
    }
}
