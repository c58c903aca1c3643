//! `tags_from_headers`: a request's samples tagged with values read from its
//! response headers (`pod=<X-Served-By>`). Every distinct value becomes a new
//! interned tag set and new series in every sink, and interned tag sets live
//! for the whole process, so the values a tag key may take are capped per
//! run: past [`MAX_VALUES_PER_TAG`], a new value is recorded as
//! [`OVERFLOW_VALUE`] and a warning says so once per key.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use http::HeaderMap;

use crate::metrics::{TagInterner, TagSetId};
use crate::scenario::HeaderTag;

/// Distinct values one header-tag key may take in a run.
pub const MAX_VALUES_PER_TAG: usize = 100;

/// The value recorded once a key has [`MAX_VALUES_PER_TAG`] values.
pub const OVERFLOW_VALUE: &str = "other";

/// The values admitted so far per tag key, and the tag sets built from
/// them. Shared by every VU of a run. Known combinations, and new values of
/// a key that is full, take only the read lock: a header with unbounded
/// values must not serialise the VUs on the write lock.
#[derive(Default)]
pub struct HeaderTagValues {
    table: RwLock<Table>,
}

#[derive(Default)]
struct Table {
    admitted: HashMap<String, Admitted>,
    /// (request tag set, the tag values) → the expanded tag set.
    expanded: HashMap<(TagSetId, Vec<Option<String>>), TagSetId>,
}

impl HeaderTagValues {
    /// The tag set of a response: `base` plus one tag per entry of `tags`
    /// whose header is present (its values joined with ", "). `base` itself
    /// when none is.
    pub fn tag_set(&self, base: TagSetId, tags: &[HeaderTag], headers: &HeaderMap) -> TagSetId {
        let values: Vec<Option<String>> = tags
            .iter()
            .map(|tag| header_text(headers, &tag.header))
            .collect();
        if values.iter().all(Option::is_none) {
            return base;
        }
        let mut key = (base, values);
        {
            let table = self.table.read().expect("header tag lock");
            if table.settle(tags, &mut key.1)
                && let Some(id) = table.expanded.get(&key)
            {
                return *id;
            }
        }
        let mut table = self.table.write().expect("header tag lock");
        for (tag, value) in tags.iter().zip(key.1.iter_mut()) {
            if let Some(text) = value {
                *text = table.admit(&tag.key, std::mem::take(text));
            }
        }
        if let Some(id) = table.expanded.get(&key) {
            return *id;
        }
        let interner = TagInterner::global();
        let pairs = tags
            .iter()
            .zip(&key.1)
            .filter_map(|(tag, value)| Some((tag.key.as_ref(), value.as_deref()?)));
        let id = interner.intern(interner.resolve(base).with(pairs));
        table.expanded.insert(key, id);
        id
    }
}

/// The values of one tag key.
#[derive(Default)]
struct Admitted {
    /// At most `MAX_VALUES_PER_TAG`.
    values: HashSet<String>,
    /// A value was turned away (and the warning given).
    overflowed: bool,
}

impl Table {
    /// Settles `values` without admitting any: an admitted value stays, a
    /// new one of a full key becomes `other`. False when a value still
    /// needs admitting (the write lock's work).
    fn settle(&self, tags: &[HeaderTag], values: &mut [Option<String>]) -> bool {
        for (tag, value) in tags.iter().zip(values) {
            let Some(text) = value else { continue };
            match self.admitted.get(tag.key.as_ref()) {
                Some(known) if known.values.contains(text.as_str()) => {}
                Some(known) if known.overflowed => *text = OVERFLOW_VALUE.to_string(),
                _ => return false,
            }
        }
        true
    }

    /// `value` when it is known or there is room for it, else `other`.
    fn admit(&mut self, key: &str, value: String) -> String {
        let known = self.admitted.entry(key.to_string()).or_default();
        if known.values.contains(&value) {
            return value;
        }
        if known.values.len() < MAX_VALUES_PER_TAG {
            known.values.insert(value.clone());
            return value;
        }
        if !known.overflowed {
            known.overflowed = true;
            tracing::warn!(
                tag = key,
                limit = MAX_VALUES_PER_TAG,
                "tags_from_headers: tag {key:?} reached {MAX_VALUES_PER_TAG} distinct values; further values are tagged {OVERFLOW_VALUE:?}"
            );
        }
        OVERFLOW_VALUE.to_string()
    }
}

/// Every value of a header, joined with ", " as conditions see it.
fn header_text(headers: &HeaderMap, name: &http::HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    let mut text = String::from_utf8_lossy(first.as_bytes()).into_owned();
    for value in values {
        text.push_str(", ");
        text.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::TagSet;

    fn headers(served_by: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-served-by", served_by.parse().unwrap());
        h
    }

    #[test]
    fn values_past_the_cap_become_other_and_missing_headers_add_nothing() {
        let interner = TagInterner::global();
        let base = interner.intern(TagSet::new([("name", "header-tags-unit")]));
        let tags = [HeaderTag {
            key: "pod".into(),
            header: http::HeaderName::from_static("x-served-by"),
        }];
        let values = HeaderTagValues::default();
        for i in 0..MAX_VALUES_PER_TAG {
            let id = values.tag_set(base, &tags, &headers(&format!("pod-{i}")));
            assert_eq!(
                interner.resolve(id).get("pod"),
                Some(format!("pod-{i}").as_str())
            );
        }
        let late = values.tag_set(base, &tags, &headers("pod-late"));
        assert_eq!(interner.resolve(late).get("pod"), Some("other"));
        assert_eq!(interner.resolve(late).get("name"), Some("header-tags-unit"));
        let known = values.tag_set(base, &tags, &headers("pod-7"));
        assert_eq!(interner.resolve(known).get("pod"), Some("pod-7"));
        assert_eq!(values.tag_set(base, &tags, &HeaderMap::new()), base);
        let again = values.tag_set(base, &tags, &headers("pod-later"));
        assert_eq!(again, late, "a full key settles under the read lock");
        let table = values.table.read().unwrap();
        assert_eq!(table.admitted["pod"].values.len(), MAX_VALUES_PER_TAG);
        assert!(table.admitted["pod"].overflowed);
        assert_eq!(table.expanded.len(), MAX_VALUES_PER_TAG + 1);
    }
}
