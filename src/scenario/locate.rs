//! Field paths (`scenarios.main.flow[2].request.url`) and where they are
//! in the file: the marked YAML tree (`scenario::yaml`) knows the position
//! of every key and item, so a problem found by validation points at the
//! text it concerns.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use super::yaml::{Entry, Mark, Node, NodeValue};
/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the file's structure, displayed as `a.b[2].c`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        FieldPath(segs)
    }

    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        FieldPath(segs)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Mappings with more entries than this get a key index when looked into.
const INDEXED_MAP_SIZE: usize = 16;

/// Positions of the keys and items of a parsed file.
#[derive(Debug)]
pub struct Locator {
    root: Rc<Node>,
    /// Key → entry position of each large mapping looked into, by the
    /// node's address (the tree outlives the locator): thousands of
    /// problems in one big mapping stay linear to locate.
    index: RefCell<HashMap<*const Node, HashMap<String, usize>>>,
}

impl Locator {
    pub fn new(root: Rc<Node>) -> Self {
        Locator {
            root,
            index: RefCell::new(HashMap::new()),
        }
    }

    /// Position of the deepest part of `path` found in the tree (the key or
    /// item itself when the whole path exists).
    pub fn locate(&self, path: &FieldPath) -> Option<Mark> {
        let mut node: &Node = &self.root;
        let mut found = None;
        for seg in &path.0 {
            let next = match (seg, &node.value) {
                (Seg::Key(k), NodeValue::Map(entries)) => self
                    .entry(node, entries, k)
                    .map(|e| (e.key.mark, &*e.value)),
                (Seg::Index(i), NodeValue::Seq(items)) => items.get(*i).map(|n| (n.mark, &**n)),
                _ => None,
            };
            match next {
                Some((mark, child)) => {
                    found = Some(mark);
                    node = child;
                }
                None => break,
            }
        }
        found
    }

    fn entry<'n>(&self, node: &Node, entries: &'n [Entry], key: &str) -> Option<&'n Entry> {
        if entries.len() <= INDEXED_MAP_SIZE {
            return entries.iter().find(|e| e.key_text() == key);
        }
        let mut index = self.index.borrow_mut();
        let keys = index.entry(node as *const Node).or_insert_with(|| {
            let mut keys = HashMap::with_capacity(entries.len());
            for (i, e) in entries.iter().enumerate() {
                keys.entry(e.key_text().to_string()).or_insert(i);
            }
            keys
        });
        keys.get(key).map(|&i| &entries[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(text: &str) -> FieldPath {
        let mut p = FieldPath::root();
        for part in text.split('.') {
            match part.split_once('[') {
                Some((k, rest)) => {
                    if !k.is_empty() {
                        p = p.key(k);
                    }
                    for idx in rest.split('[') {
                        p = p.index(idx.trim_end_matches(']').parse().unwrap());
                    }
                }
                None => p = p.key(part),
            }
        }
        p
    }

    const TEXT: &str = r#"# comment
env:
  BASE_URL: http://x:1   # trailing
thresholds:
  "http_req_duration{name:a}": ["p(95)<500", "p(99)<1"]
  checks:
    - { threshold: "rate>0.9", abort_on_fail: true }
scenarios:
  main:
    executor: constant-vus
    flow:
      - request:
          url: "{{ BASE_URL }}/a"
          json: |
            not: [parsed
          checks:
            - status: 200
            - { json: a.b, equals: 1 }
      - sleep: 1s
      -
        group:
          name: g
          steps:
          - request: { url: "http://x", headers: { A: b } }
"#;

    #[test]
    fn finds_block_and_flow_positions() {
        let at = |line: u32, column: u32| {
            Some(Mark {
                file: 0,
                line,
                column,
            })
        };
        let doc = crate::scenario::yaml::parse_document(TEXT, 0).unwrap();
        let loc = Locator::new(doc.root);
        assert_eq!(loc.locate(&path("env.BASE_URL")), at(3, 3));
        assert_eq!(
            loc.locate(&path("thresholds.http_req_duration{name:a}[1]")),
            at(5, 46)
        );
        assert_eq!(
            loc.locate(&path("thresholds.checks[0].abort_on_fail")),
            at(7, 32)
        );
        assert_eq!(
            loc.locate(&path("scenarios.main.flow[0].request.url")),
            at(13, 11)
        );
        assert_eq!(
            loc.locate(&path("scenarios.main.flow[0].request.checks[1].equals")),
            at(18, 28)
        );
        assert_eq!(loc.locate(&path("scenarios.main.flow[1].sleep")), at(19, 9));
        assert_eq!(
            loc.locate(&path(
                "scenarios.main.flow[2].group.steps[0].request.headers.A"
            )),
            at(24, 52)
        );
        // A missing tail resolves to the deepest part that exists.
        assert_eq!(loc.locate(&path("scenarios.main.nope")), at(9, 3));
    }

    #[test]
    fn displays_paths() {
        assert_eq!(path("a.b[2].c").to_string(), "a.b[2].c");
    }
}
