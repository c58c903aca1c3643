//! Sequences and free mappings for the deserializer of `de.rs`: each item
//! and value is read with its place in the field path, and with the
//! placeholder mode of its parent.

use serde::de::{self, DeserializeSeed};

use super::de::{DeError, NodeDe};
use super::tree::{Entry, Node};

/// Sequence items, each with its index in the path.
pub(super) struct SeqDe<'a, 'p> {
    items: std::slice::Iter<'a, std::rc::Rc<Node>>,
    index: usize,
    parent: &'p NodeDe<'a>,
}

impl<'a, 'p> SeqDe<'a, 'p> {
    pub(super) fn new(items: &'a [std::rc::Rc<Node>], parent: &'p NodeDe<'a>) -> Self {
        SeqDe {
            items: items.iter(),
            index: 0,
            parent,
        }
    }
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let path = self.parent.path.index(self.index);
        self.index += 1;
        seed.deserialize(NodeDe {
            node: item,
            path,
            ctx: self.parent.ctx,
            quiet: self.parent.quiet,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// Entries of a free mapping (headers, env, JSON bodies): every key is data.
pub(super) struct MapDe<'a, 'p> {
    entries: std::slice::Iter<'a, Entry>,
    value: Option<&'a Entry>,
    parent: &'p NodeDe<'a>,
}

impl<'a, 'p> MapDe<'a, 'p> {
    pub(super) fn new(entries: &'a [Entry], parent: &'p NodeDe<'a>) -> Self {
        MapDe {
            entries: entries.iter(),
            value: None,
            parent,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapDe<'_, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(entry);
        seed.deserialize(NodeDe {
            node: &entry.key,
            path: self.parent.path,
            ctx: self.parent.ctx,
            quiet: self.parent.quiet,
        })
        .map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let entry = self.value.take().expect("next_value after next_key");
        let path = self.parent.path.key(entry.key_text());
        seed.deserialize(NodeDe {
            node: &entry.value,
            path,
            ctx: self.parent.ctx,
            quiet: self.parent.quiet,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
