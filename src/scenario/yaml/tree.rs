//! The marked YAML tree: every node knows the file, line and column it was
//! written at, so errors found long after parsing still point at the text.
//!
//! Built from saphyr-parser's events with an explicit stack (no recursion on
//! the input's depth). Aliases share the anchored node (`Rc`), and every
//! alias adds the anchored node's expanded size to a budget, so a "billion
//! laughs" file is refused after [`MAX_EXPANDED_NODES`] instead of being
//! walked. Merge keys (`<<: *a`, `<<: [*a, *b]`) are resolved here, as YAML
//! 1.1 defines them: the mapping's own keys win, then earlier merged
//! mappings over later ones.

use std::collections::HashMap;
use std::rc::Rc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::super::locate::FieldPath;
use super::super::nesting::MAX_NESTING;

/// Nodes a document may expand to, aliases counted at their full size:
/// far above any real scenario, far below what would take seconds to walk.
pub const MAX_EXPANDED_NODES: usize = 1_000_000;

/// Where a node was written: which file of the load (0 = the scenario
/// file, then its includes in the order they were read), 1-based line and
/// column (in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mark {
    pub file: u32,
    pub line: u32,
    pub column: u32,
}

/// One node and where it starts.
#[derive(Debug)]
pub struct Node {
    pub mark: Mark,
    pub value: NodeValue,
    /// Nodes in this subtree with aliases expanded (itself included).
    size: usize,
    /// Levels of collections in this subtree (a scalar is 0).
    height: usize,
}

#[derive(Debug)]
pub enum NodeValue {
    Scalar {
        text: String,
        /// Unquoted, so its type is resolved from the text.
        plain: bool,
        /// An explicit core tag's suffix (`!!str` → `str`).
        tag: Option<String>,
    },
    Seq(Vec<Rc<Node>>),
    Map(Vec<Entry>),
}

/// A mapping entry; the key node's mark is where errors about it point.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: Rc<Node>,
    pub value: Rc<Node>,
}

impl Entry {
    /// The key as text (keys are scalars; see [`parse_document`]).
    pub fn key_text(&self) -> &str {
        self.key.scalar_text().unwrap_or("")
    }
}

impl Node {
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value of `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            NodeValue::Map(entries) => entries.iter().find(|e| e.key_text() == key),
            _ => None,
        }
    }

    /// A null scalar node at `mark`, for values that are absent.
    pub fn null(mark: Mark) -> Node {
        scalar(mark, String::new(), true, None)
    }

    /// A text scalar at this node's position (a rewritten value).
    pub fn text_at(&self, text: String) -> Node {
        scalar(self.mark, text, false, None)
    }

    /// A mapping assembled from entries of other mappings (includes).
    pub fn map(mark: Mark, entries: Vec<Entry>) -> Node {
        let size = 1 + entries
            .iter()
            .map(|e| e.key.size + e.value.size)
            .sum::<usize>();
        let height = 1 + entries.iter().map(|e| e.value.height).max().unwrap_or(0);
        Node {
            mark,
            value: NodeValue::Map(entries),
            size,
            height,
        }
    }
}

fn scalar(mark: Mark, text: String, plain: bool, tag: Option<String>) -> Node {
    Node {
        mark,
        value: NodeValue::Scalar { text, plain, tag },
        size: 1,
        height: 0,
    }
}

/// A parsed file: its root and the problems that did not stop the parse
/// (duplicate keys, bad merges), each with its path.
#[derive(Debug)]
pub struct Document {
    pub root: Rc<Node>,
    pub problems: Vec<(Mark, FieldPath, String)>,
}

/// An error that stops the parse: invalid YAML, too deep, too many nodes.
#[derive(Debug, PartialEq, Eq)]
pub struct FatalError {
    pub mark: Mark,
    pub message: String,
}

enum Frame {
    Seq {
        mark: Mark,
        anchor: usize,
        items: Vec<Rc<Node>>,
    },
    Map {
        mark: Mark,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<Rc<Node>>,
    },
}

struct Builder {
    file: u32,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Rc<Node>>,
    expanded: usize,
    root: Option<Rc<Node>>,
    problems: Vec<(Mark, FieldPath, String)>,
}

/// Parses one YAML document into a marked tree. `file` goes into every mark.
pub fn parse_document(text: &str, file: u32) -> Result<Document, FatalError> {
    let mut b = Builder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        expanded: 0,
        root: None,
        problems: Vec::new(),
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| FatalError {
            mark: Mark {
                file,
                line: e.marker().line() as u32,
                column: e.marker().col() as u32 + 1,
            },
            message: format!("invalid YAML: {}", libyaml_order(e.info())),
        })?;
        b.event(event, span)?;
    }
    let root = b.root.take().unwrap_or_else(|| {
        Rc::new(Node::null(Mark {
            file,
            line: 1,
            column: 1,
        }))
    });
    Ok(Document {
        root,
        problems: b.problems,
    })
}

/// saphyr writes "while parsing a block mapping, did not find expected
/// key"; libyaml (and so the messages users have seen) puts the problem
/// first: "did not find expected key, while parsing a block mapping".
fn libyaml_order(info: &str) -> String {
    match info
        .strip_prefix("while ")
        .and_then(|rest| rest.split_once(", "))
    {
        Some((context, problem)) => format!("{problem}, while {context}"),
        None => info.to_string(),
    }
}

impl Builder {
    fn mark(&self, span: Span) -> Mark {
        Mark {
            file: self.file,
            line: span.start.line() as u32,
            column: span.start.col() as u32 + 1,
        }
    }

    fn fatal(&self, mark: Mark, message: impl Into<String>) -> FatalError {
        FatalError {
            mark,
            message: message.into(),
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), FatalError> {
        let mark = self.mark(span);
        match event {
            Event::DocumentStart(_) if self.root.is_some() => Err(self.fatal(
                mark,
                "invalid YAML: a scenario file holds one document; this is a second",
            )),
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.and_then(|t| t.is_yaml_core_schema().then(|| t.suffix.clone()));
                let node = scalar(mark, text.into_owned(), style == ScalarStyle::Plain, tag);
                self.complete(Rc::new(node), anchor)
            }
            Event::SequenceStart(anchor, _) => {
                self.open(mark)?;
                self.stack.push(Frame::Seq {
                    mark,
                    anchor,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(anchor, _) => {
                self.open(mark)?;
                self.stack.push(Frame::Map {
                    mark,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq {
                        mark,
                        anchor,
                        items,
                    }) => {
                        let size = 1 + items.iter().map(|n| n.size).sum::<usize>();
                        let height = 1 + items.iter().map(|n| n.height).max().unwrap_or(0);
                        (
                            Node {
                                mark,
                                value: NodeValue::Seq(items),
                                size,
                                height,
                            },
                            anchor,
                        )
                    }
                    Some(Frame::Map {
                        mark,
                        anchor,
                        entries,
                        ..
                    }) => (self.map_node(mark, entries), anchor),
                    None => return Ok(()),
                };
                self.complete(Rc::new(node.0), node.1)
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    return Err(self.fatal(
                        mark,
                        "invalid YAML: an alias inside the node its anchor names (a recursive alias)",
                    ));
                };
                if self.stack.len() + node.height > MAX_NESTING {
                    return Err(self.too_deep(mark));
                }
                self.expanded += node.size;
                if self.expanded > MAX_EXPANDED_NODES {
                    return Err(self.fatal(
                        mark,
                        format!(
                            "invalid YAML: the document expands to more than {MAX_EXPANDED_NODES} nodes with its aliases"
                        ),
                    ));
                }
                self.attach(node);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn too_deep(&self, mark: Mark) -> FatalError {
        self.fatal(
            mark,
            format!("invalid YAML: nested more than {MAX_NESTING} levels deep"),
        )
    }

    /// Checks the depth before a collection opens.
    fn open(&mut self, mark: Mark) -> Result<(), FatalError> {
        if self.stack.len() >= MAX_NESTING {
            return Err(self.too_deep(mark));
        }
        Ok(())
    }

    /// A node is complete: count it, name it if anchored, attach it.
    fn complete(&mut self, node: Rc<Node>, anchor: usize) -> Result<(), FatalError> {
        self.expanded += 1;
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.attach(node);
        Ok(())
    }

    fn attach(&mut self, node: Rc<Node>) {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push(Entry {
                    key: k,
                    value: node,
                }),
            },
        }
    }

    /// The path of the node being built, for problems found while building.
    fn path(&self) -> FieldPath {
        let mut path = FieldPath::root();
        for frame in &self.stack {
            match frame {
                Frame::Seq { items, .. } => path = path.index(items.len()),
                Frame::Map { key: Some(k), .. } => {
                    path = path.key(k.scalar_text().unwrap_or(""));
                }
                Frame::Map { .. } => {}
            }
        }
        path
    }

    /// A finished mapping: merge keys resolved, duplicate keys reported
    /// (the first one is kept), non-scalar keys reported and dropped.
    fn map_node(&mut self, mark: Mark, written: Vec<Entry>) -> Node {
        let path = self.path();
        let mut own: Vec<Entry> = Vec::with_capacity(written.len());
        let mut merges: Vec<(usize, Entry)> = Vec::new();
        let mut seen: HashMap<&str, Mark> = HashMap::new();
        for entry in &written {
            let NodeValue::Scalar { text, plain, .. } = &entry.key.value else {
                self.problems.push((
                    entry.key.mark,
                    path.clone(),
                    "a mapping key must be a plain value, not a list or mapping".into(),
                ));
                continue;
            };
            if *plain && text == "<<" {
                merges.push((own.len(), entry.clone()));
                continue;
            }
            if let Some(first) = seen.get(text.as_str()) {
                self.problems.push((
                    entry.key.mark,
                    path.key(text),
                    format!(
                        "duplicate key {text:?} (first at line {} column {})",
                        first.line, first.column
                    ),
                ));
                continue;
            }
            seen.insert(text, entry.key.mark);
            own.push(entry.clone());
        }
        let entries = if merges.is_empty() {
            own
        } else {
            self.merge(&path, own, merges)
        };
        Node::map(mark, entries)
    }

    /// Inserts each merged mapping's entries where its `<<` was written,
    /// skipping keys the mapping sets itself or an earlier merge brought.
    fn merge(
        &mut self,
        path: &FieldPath,
        own: Vec<Entry>,
        merges: Vec<(usize, Entry)>,
    ) -> Vec<Entry> {
        let mut taken: std::collections::HashSet<String> =
            own.iter().map(|e| e.key_text().to_string()).collect();
        let mut at_position: Vec<Vec<Entry>> = vec![Vec::new(); own.len() + 1];
        for (position, merge) in merges {
            let sources: Vec<Rc<Node>> = match &merge.value.value {
                NodeValue::Map(_) => vec![merge.value.clone()],
                NodeValue::Seq(items)
                    if items.iter().all(|i| matches!(i.value, NodeValue::Map(_))) =>
                {
                    items.clone()
                }
                _ => {
                    self.problems.push((
                        merge.value.mark,
                        path.key("<<"),
                        "`<<` merges a mapping or a list of mappings, e.g. `<<: *defaults`".into(),
                    ));
                    continue;
                }
            };
            for source in sources {
                if let NodeValue::Map(entries) = &source.value {
                    for entry in entries {
                        if taken.insert(entry.key_text().to_string()) {
                            at_position[position].push(entry.clone());
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (i, entry) in own.into_iter().enumerate() {
            out.append(&mut at_position[i]);
            out.push(entry);
        }
        if let Some(last) = at_position.last_mut() {
            out.append(last);
        }
        out
    }
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
