//! Tag sets and their interning. A series is (metric, tag set); tag sets are
//! interned once (at plan time or on first use) so the hot path carries a
//! 4-byte [`TagSetId`] instead of strings.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde::{Serialize, Serializer};

/// An immutable, sorted list of `key=value` pairs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TagSet(Arc<[(Arc<str>, Arc<str>)]>);

impl TagSet {
    /// Builds a tag set; later duplicates of a key replace earlier ones.
    pub fn new<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut v: Vec<(Arc<str>, Arc<str>)> = Vec::new();
        for (k, val) in pairs {
            let (k, val) = (k.as_ref(), val.as_ref());
            if let Some(existing) = v.iter_mut().find(|(ek, _)| ek.as_ref() == k) {
                existing.1 = Arc::from(val);
            } else {
                v.push((Arc::from(k), Arc::from(val)));
            }
        }
        v.sort_by(|a, b| a.0.cmp(&b.0));
        TagSet(v.into())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v.as_ref())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A copy with more pairs (replacing keys that exist).
    pub fn with<K: AsRef<str>, V: AsRef<str>>(
        &self,
        extra: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let base = self.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let extra = extra
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string()));
        TagSet::new(base.chain(extra))
    }

    /// True when every `key:value` of `filter` is present (k6's `metric{k:v}` selector).
    pub fn matches(&self, filter: &[(String, String)]) -> bool {
        filter.iter().all(|(k, v)| self.get(k) == Some(v.as_str()))
    }
}

impl std::fmt::Display for TagSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("{")?;
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}:{v}")?;
        }
        f.write_str("}")
    }
}

impl Serialize for TagSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

/// Handle to an interned [`TagSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagSetId(pub u32);

/// Process-wide table of tag sets. Interning takes a lock; resolving an id
/// takes a read lock, done once per series per flush, never per request.
#[derive(Default)]
pub struct TagInterner {
    inner: RwLock<InternerTable>,
}

#[derive(Default)]
struct InternerTable {
    sets: Vec<TagSet>,
    ids: HashMap<TagSet, TagSetId>,
}

impl TagInterner {
    /// The process-wide interner.
    pub fn global() -> &'static TagInterner {
        static GLOBAL: OnceLock<TagInterner> = OnceLock::new();
        GLOBAL.get_or_init(TagInterner::default)
    }

    pub fn intern(&self, set: TagSet) -> TagSetId {
        if let Some(id) = self.inner.read().expect("interner lock").ids.get(&set) {
            return *id;
        }
        let mut table = self.inner.write().expect("interner lock");
        if let Some(id) = table.ids.get(&set) {
            return *id;
        }
        let id = TagSetId(table.sets.len() as u32);
        table.sets.push(set.clone());
        table.ids.insert(set, id);
        id
    }

    pub fn resolve(&self, id: TagSetId) -> TagSet {
        self.inner.read().expect("interner lock").sets[id.0 as usize].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_sets_are_sorted_and_interned_once() {
        let a = TagSet::new([("name", "credits"), ("method", "GET")]);
        let b = TagSet::new([("method", "GET"), ("name", "credits")]);
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "{method:GET, name:credits}");
        let interner = TagInterner::default();
        assert_eq!(interner.intern(a.clone()), interner.intern(b));
        assert_eq!(interner.resolve(interner.intern(a.clone())), a);
    }

    #[test]
    fn filter_matches_subsets() {
        let t = TagSet::new([("name", "credits"), ("status", "200")]);
        assert!(t.matches(&[("name".into(), "credits".into())]));
        assert!(!t.matches(&[("name".into(), "graphs".into())]));
    }
}
