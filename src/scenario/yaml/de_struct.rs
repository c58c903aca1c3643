//! Struct-typed mappings: the known fields are handed to the derived
//! visitor, unknown ones are reported with a "did you mean" hint and
//! skipped, `x-` keys are skipped silently (a place for anchors, as in
//! compose files), and required fields that are missing are reported and
//! handed over as placeholders so the derived visitor never fails.

use serde::de::{self, DeserializeSeed, IntoDeserializer};

use super::de::{DeError, NodeDe, ParseProblem};
use super::tree::{Entry, Node};
use crate::scenario::suggest;

/// Keys starting with this are ignored in struct-typed mappings.
pub const EXTENSION_PREFIX: &str = "x-";

enum Item<'a> {
    Written(&'a Entry),
    Missing(&'a str),
}

pub(super) struct StructDe<'a, 'p> {
    items: std::vec::IntoIter<Item<'a>>,
    value: Option<Item<'a>>,
    parent: &'p NodeDe<'a>,
    /// The node a missing field's placeholder is read from.
    null: Node,
}

impl<'a, 'p> StructDe<'a, 'p> {
    pub(super) fn new(
        name: &'static str,
        fields: &'static [&'static str],
        entries: &'a [Entry],
        parent: &'p NodeDe<'a>,
    ) -> Self {
        let mut items = Vec::with_capacity(entries.len());
        for entry in entries {
            let key = entry.key_text();
            if fields.contains(&key) {
                items.push(Item::Written(entry));
            } else if !key.starts_with(EXTENSION_PREFIX) {
                unknown_field(parent, entry, fields);
            }
        }
        if let Some(required) = parent.ctx.required.get(name) {
            for field in required {
                if !entries.iter().any(|e| e.key_text() == field) {
                    if !parent.quiet {
                        let at = parent.path.to_path();
                        parent.ctx.report(ParseProblem {
                            mark: parent.node.mark,
                            field: at.clone(),
                            blocks: at.key(field),
                            message: format!("missing field `{field}`"),
                            hint: None,
                        });
                    }
                    items.push(Item::Missing(field));
                }
            }
        }
        StructDe {
            items: items.into_iter(),
            value: None,
            parent,
            null: Node::null(parent.node.mark),
        }
    }
}

fn unknown_field(parent: &NodeDe<'_>, entry: &Entry, fields: &[&str]) {
    if parent.quiet {
        return;
    }
    let key = entry.key_text();
    let close = suggest::similar(key, fields.iter().copied());
    let hint = match close.first() {
        Some(name) => format!("did you mean `{name}`?"),
        None if fields.is_empty() => "this mapping takes no keys".to_string(),
        None => format!(
            "expected one of {}",
            fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let at = parent.path.to_path();
    parent.ctx.report(ParseProblem {
        mark: entry.key.mark,
        field: at.clone(),
        blocks: at.key(key),
        message: format!("unknown field `{key}`"),
        hint: Some(hint),
    });
}

impl<'de> de::MapAccess<'de> for StructDe<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let key: &str = match &item {
            Item::Written(entry) => entry.key_text(),
            Item::Missing(field) => field,
        };
        let key: serde::de::value::StrDeserializer<'_, DeError> = key.into_deserializer();
        let key = seed.deserialize(key)?;
        self.value = Some(item);
        Ok(Some(key))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let parent = self.parent;
        match self.value.take().expect("next_value after next_key") {
            Item::Written(entry) => seed.deserialize(NodeDe {
                node: &entry.value,
                path: parent.path.key(entry.key_text()),
                ctx: parent.ctx,
                quiet: parent.quiet,
            }),
            Item::Missing(field) => seed.deserialize(NodeDe {
                node: &self.null,
                path: parent.path.key(field),
                ctx: parent.ctx,
                quiet: true,
            }),
        }
    }
}
