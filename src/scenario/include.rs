//! `include:` at the top of a scenario file: a list of fragment files
//! (paths relative to the including file) with the same top-level keys,
//! merged into the including file's tree before it is deserialized.
//!
//! The rules (docs/scenario-format.md, "Includes"):
//! - A section that is a mapping in both places (`env`, `profiles`, `data`,
//!   `metrics`, `thresholds`, `scenarios`, `http`, ...) is merged key by
//!   key; any other key (`flow`, `vus`, `setup`, ...) is taken whole.
//! - The including file wins: its own keys replace what fragments bring.
//! - Two fragments of one file may not define the same key (a section key
//!   or a key inside a mapping section): that is an error naming both
//!   places, since neither order would be obviously right.
//! - Fragments may include fragments; a cycle is an error naming the chain.
//! - A file included twice (say by two fragments) is merged once.
//! - A data feed's `file:` in a fragment is relative to the fragment.
//!
//! Every node keeps the mark of the file it came from, so errors inside a
//! fragment name that file and line.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::error::ScenarioErrors;
use super::locate::FieldPath;
use super::parse::parse_tree;
use super::yaml::{Entry, Mark, Node, NodeValue, ParseProblem};

/// The top-level key that lists fragments.
pub const INCLUDE_KEY: &str = "include";

/// What resolving one file's includes needs: the files read so far (a
/// mark's `file` indexes it) and the chain of files being included, for
/// cycle detection.
pub(crate) struct Includes<'a> {
    pub files: &'a mut Vec<PathBuf>,
    pub problems: &'a mut Vec<ParseProblem>,
    /// (canonical path, path as shown) of each file being included.
    chain: Vec<(PathBuf, PathBuf)>,
    /// Every file included so far (canonical): each is included once.
    included: HashSet<PathBuf>,
}

impl<'a> Includes<'a> {
    pub fn new(
        source: &Path,
        files: &'a mut Vec<PathBuf>,
        problems: &'a mut Vec<ParseProblem>,
    ) -> Self {
        Includes {
            files,
            problems,
            chain: vec![(canonical(source), source.to_path_buf())],
            included: HashSet::new(),
        }
    }

    fn problem(&mut self, mark: Mark, field: FieldPath, message: String) {
        self.problems.push(ParseProblem {
            mark,
            field: field.clone(),
            blocks: field,
            message,
            hint: None,
        });
    }

    fn shown(&self, mark: Mark) -> String {
        format!(
            "{}:{}:{}",
            self.files[mark.file as usize].display(),
            mark.line,
            mark.column
        )
    }

    /// `root` (the tree of `path`) with its includes merged in.
    pub fn resolve(&mut self, root: Rc<Node>, path: &Path) -> Result<Rc<Node>, ScenarioErrors> {
        let NodeValue::Map(entries) = &root.value else {
            return Ok(root);
        };
        let Some(include) = root.get(INCLUDE_KEY) else {
            return Ok(root);
        };
        let list_path = FieldPath::root().key(INCLUDE_KEY);
        let items: &[Rc<Node>] = match &include.value.value {
            NodeValue::Seq(items) => items,
            _ => {
                self.problem(
                    include.value.mark,
                    list_path.clone(),
                    "expected a list of file paths".into(),
                );
                &[]
            }
        };
        let mut layer = Layer::default();
        for (i, item) in items.iter().enumerate() {
            let at = list_path.index(i);
            let Some(written) = item.scalar_text() else {
                self.problem(item.mark, at, "expected a file path".into());
                continue;
            };
            if let Some(fragment) = self.fragment(item, written, path, &at)? {
                self.combine(&mut layer, &fragment);
            }
        }
        let own: Vec<Entry> = entries
            .iter()
            .filter(|e| e.key_text() != INCLUDE_KEY)
            .cloned()
            .collect();
        Ok(Rc::new(Node::map(root.mark, layer.under(own))))
    }

    /// Reads, parses and resolves one fragment; `None` after a problem.
    fn fragment(
        &mut self,
        item: &Node,
        written: &str,
        includer: &Path,
        at: &FieldPath,
    ) -> Result<Option<Rc<Node>>, ScenarioErrors> {
        let path = includer.parent().unwrap_or(Path::new("")).join(written);
        let real = canonical(&path);
        if let Some(start) = self.chain.iter().position(|(p, _)| *p == real) {
            let mut names: Vec<String> = self.chain[start..]
                .iter()
                .map(|(_, shown)| shown.display().to_string())
                .collect();
            names.push(path.display().to_string());
            self.problem(
                item.mark,
                at.clone(),
                format!("include cycle: {}", names.join(" → ")),
            );
            return Ok(None);
        }
        // A file included twice (two fragments sharing one, a diamond) is
        // merged once: its keys would otherwise conflict with themselves.
        if !self.included.insert(real.clone()) {
            return Ok(None);
        }
        // Only regular files: `/dev/zero` or a FIFO would never end.
        let read = match std::fs::metadata(&path) {
            Ok(meta) if !meta.is_file() => Err(std::io::Error::other("not a regular file")),
            Ok(_) => std::fs::read_to_string(&path),
            Err(e) => Err(e),
        };
        let text = match read {
            Ok(text) => text,
            Err(e) => {
                let message = format!("cannot read included file {}: {e}", path.display());
                self.problem(item.mark, at.clone(), message);
                return Ok(None);
            }
        };
        let file = self.files.len() as u32;
        self.files.push(path.clone());
        let (root, problems) = parse_tree(&text, &path, file)?;
        self.problems.extend(problems);
        if !matches!(root.value, NodeValue::Map(_)) {
            self.problem(
                root.mark,
                FieldPath::root(),
                "an included file holds the same top-level keys as a scenario file".into(),
            );
            return Ok(None);
        }
        self.chain.push((real, path.clone()));
        let root = self.resolve(root, &path);
        self.chain.pop();
        let base = Path::new(written).parent().unwrap_or(Path::new(""));
        Ok(Some(rebase_data_files(root?, base)))
    }

    /// Adds a fragment's sections to what earlier fragments brought; a key
    /// both define is an error naming both places.
    fn combine(&mut self, layer: &mut Layer, fragment: &Node) {
        let NodeValue::Map(entries) = &fragment.value else {
            return;
        };
        for entry in entries {
            let key = entry.key_text();
            let Some(section) = layer.sections.iter_mut().find(|s| s.key.key_text() == key) else {
                layer.sections.push(Section::from(entry));
                continue;
            };
            match (&mut section.map, &entry.value.value) {
                (Some(existing), NodeValue::Map(new)) => {
                    let index: HashMap<String, usize> = existing
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (e.key_text().to_string(), i))
                        .collect();
                    for sub in new {
                        let sub_key = sub.key_text();
                        match index.get(sub_key).map(|&i| &existing[i]) {
                            Some(first) => {
                                let message = format!(
                                    "`{key}.{sub_key}` is also defined in {}; one fragment must define it, or the including file",
                                    self.shown(first.key.mark)
                                );
                                self.problem(
                                    sub.key.mark,
                                    FieldPath::root().key(key).key(sub_key),
                                    message,
                                );
                            }
                            None => existing.push(sub.clone()),
                        }
                    }
                }
                _ => {
                    let message = format!(
                        "`{key}` is also defined in {}; one fragment must define it, or the including file",
                        self.shown(section.key.key.mark)
                    );
                    self.problem(entry.key.mark, FieldPath::root().key(key), message);
                }
            }
        }
    }
}

/// The sections fragments brought, in the order they came.
#[derive(Default)]
struct Layer {
    sections: Vec<Section>,
}

struct Section {
    key: Entry,
    /// The entries of a mapping section, open for merging.
    map: Option<Vec<Entry>>,
}

impl From<&Entry> for Section {
    fn from(entry: &Entry) -> Self {
        let map = match &entry.value.value {
            NodeValue::Map(entries) => Some(entries.clone()),
            _ => None,
        };
        Section {
            key: entry.clone(),
            map,
        }
    }
}

impl Layer {
    /// The including file's entries over the fragments': its keys win, its
    /// mapping sections are completed with the fragments' other keys.
    fn under(self, own: Vec<Entry>) -> Vec<Entry> {
        let mut out = Vec::with_capacity(own.len() + self.sections.len());
        let mut sections = self.sections;
        for entry in own {
            let found = sections
                .iter()
                .position(|s| s.key.key_text() == entry.key_text());
            let Some(index) = found else {
                out.push(entry);
                continue;
            };
            let section = sections.remove(index);
            match (&entry.value.value, section.map) {
                (NodeValue::Map(mine), Some(theirs)) => {
                    let own_keys: HashSet<&str> = mine.iter().map(Entry::key_text).collect();
                    let mut merged = mine.clone();
                    merged.extend(
                        theirs
                            .into_iter()
                            .filter(|e| !own_keys.contains(e.key_text())),
                    );
                    out.push(Entry {
                        key: entry.key.clone(),
                        value: Rc::new(Node::map(entry.value.mark, merged)),
                    });
                }
                _ => out.push(entry),
            }
        }
        out.extend(sections.into_iter().map(Section::into_entry));
        out
    }
}

impl Section {
    fn into_entry(self) -> Entry {
        match self.map {
            Some(entries) => Entry {
                value: Rc::new(Node::map(self.key.value.mark, entries)),
                key: self.key.key,
            },
            None => self.key,
        }
    }
}

/// The fragment with each `data.NAME.file` made relative to the including
/// file's directory (`base` is the fragment's directory relative to it).
fn rebase_data_files(root: Rc<Node>, base: &Path) -> Rc<Node> {
    if base.as_os_str().is_empty() {
        return root;
    }
    let NodeValue::Map(entries) = &root.value else {
        return root;
    };
    let rebased = entries
        .iter()
        .map(|entry| {
            if entry.key_text() != "data" {
                return entry.clone();
            }
            let NodeValue::Map(feeds) = &entry.value.value else {
                return entry.clone();
            };
            let feeds = feeds
                .iter()
                .map(|feed| Entry {
                    key: feed.key.clone(),
                    value: rebase_feed(&feed.value, base),
                })
                .collect();
            Entry {
                key: entry.key.clone(),
                value: Rc::new(Node::map(entry.value.mark, feeds)),
            }
        })
        .collect();
    Rc::new(Node::map(root.mark, rebased))
}

fn rebase_feed(feed: &Rc<Node>, base: &Path) -> Rc<Node> {
    let NodeValue::Map(fields) = &feed.value else {
        return feed.clone();
    };
    let fields = fields
        .iter()
        .map(|field| match field.value.scalar_text() {
            Some(file) if field.key_text() == "file" && Path::new(file).is_relative() => {
                let joined = base.join(file).display().to_string();
                Entry {
                    key: field.key.clone(),
                    value: Rc::new(field.value.text_at(joined)),
                }
            }
            _ => field.clone(),
        })
        .collect();
    Rc::new(Node::map(feed.mark, fields))
}

/// The path with `.` and symlinks resolved when it exists, as given
/// otherwise: two spellings of one file are one link of a cycle.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
