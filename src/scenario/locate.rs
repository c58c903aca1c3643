//! Finds the line and column of a field path (`scenarios.main.flow[2].request.url`)
//! in the YAML text. serde_norway exposes no positions after a successful
//! parse, so this is a small structural scanner: block mappings and
//! sequences by indentation, flow collections (`{ }`, `[ ]`) by brackets,
//! block scalars and multi-line scalars skipped. It only needs to be good
//! enough to point at the right line; it never decides validity.

use std::fmt;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// 1-based line and column.
type Pos = (usize, usize);

#[derive(Debug)]
enum Node {
    Map(Vec<(String, Pos, Node)>),
    Seq(Vec<(Pos, Node)>),
    Leaf,
}

/// Positions of every key and sequence item of one YAML text.
#[derive(Debug)]
pub struct Locator {
    root: Node,
}

impl Locator {
    pub fn new(text: &str) -> Self {
        let mut scanner = Scanner {
            lines: text.lines().map(|l| l.chars().collect()).collect(),
            cur: 0,
        };
        let root = scanner.node(0, None);
        Locator { root }
    }

    /// Position of the deepest part of `path` found in the text (the key or
    /// item itself when the whole path exists).
    pub fn locate(&self, path: &FieldPath) -> Option<Pos> {
        let mut node = &self.root;
        let mut found = None;
        for seg in &path.0 {
            let next = match (seg, node) {
                (Seg::Key(k), Node::Map(entries)) => entries
                    .iter()
                    .find(|(key, _, _)| key == k)
                    .map(|(_, pos, child)| (*pos, child)),
                (Seg::Index(i), Node::Seq(items)) => {
                    items.get(*i).map(|(pos, child)| (*pos, child))
                }
                _ => None,
            };
            match next {
                Some((pos, child)) => {
                    found = Some(pos);
                    node = child;
                }
                None => break,
            }
        }
        found
    }
}

struct Scanner {
    lines: Vec<Vec<char>>,
    cur: usize,
}

fn indent(line: &[char]) -> usize {
    line.iter().take_while(|c| **c == ' ').count()
}

/// Index where the content of `line` ends (before a comment or trailing spaces).
fn content_end(line: &[char], start: usize) -> usize {
    let mut quote: Option<char> = None;
    let mut end = line.len();
    let mut i = start;
    while i < line.len() {
        let c = line[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => i += 1,
            Some(_) => {}
            None if (c == '"' || c == '\'')
                && (i == start || matches!(line[i - 1], ' ' | '{' | '[' | ',' | ':')) =>
            {
                quote = Some(c);
            }
            None if c == '#' && (i == start || line[i - 1] == ' ' || line[i - 1] == '\t') => {
                end = i;
                break;
            }
            None => {}
        }
        i += 1;
    }
    while end > start && (line[end - 1] == ' ' || line[end - 1] == '\t') {
        end -= 1;
    }
    end
}

fn is_seq_item(line: &[char], at: usize) -> bool {
    line.get(at) == Some(&'-') && matches!(line.get(at + 1), None | Some(' ') | Some('\t'))
}

/// `key: value` at `start`: (key, value start column).
fn split_key(line: &[char], start: usize) -> Option<(String, usize)> {
    let end = content_end(line, start);
    let first = *line.get(start)?;
    if first == '"' || first == '\'' {
        let mut i = start + 1;
        let mut key = String::new();
        while i < end {
            let c = line[i];
            if c == first {
                if first == '\'' && line.get(i + 1) == Some(&'\'') {
                    key.push('\'');
                    i += 2;
                    continue;
                }
                break;
            }
            if first == '"' && c == '\\' && i + 1 < end {
                i += 1;
                key.push(line[i]);
            } else {
                key.push(c);
            }
            i += 1;
        }
        let mut j = i + 1;
        while j < end && line[j] == ' ' {
            j += 1;
        }
        return (j < end && line[j] == ':').then_some((key, j + 1));
    }
    if matches!(first, '{' | '[' | '-' | '|' | '>') {
        return None;
    }
    (start..end)
        .find(|&i| line[i] == ':' && (i + 1 == end || line[i + 1] == ' ' || line[i + 1] == '\t'))
        .map(|i| {
            (
                line[start..i]
                    .iter()
                    .collect::<String>()
                    .trim_end()
                    .to_string(),
                i + 1,
            )
        })
}

impl Scanner {
    fn skip_blank(&mut self) {
        while let Some(line) = self.lines.get(self.cur) {
            let ind = indent(line);
            let blank = content_end(line, ind) == ind;
            let marker = line.starts_with(&['-', '-', '-']) || line.starts_with(&['.', '.', '.']);
            if blank || (marker && line.len() == 3) {
                self.cur += 1;
            } else {
                break;
            }
        }
    }

    /// The node starting at the next non-blank line, if indented more than `parent`.
    fn node(&mut self, min_indent: usize, parent: Option<usize>) -> Node {
        self.skip_blank();
        let Some(line) = self.lines.get(self.cur) else {
            return Node::Leaf;
        };
        let ind = indent(line);
        if ind < min_indent {
            return Node::Leaf;
        }
        self.node_at(ind, parent)
    }

    /// The node whose content starts at column `at` of the current line.
    fn node_at(&mut self, at: usize, parent: Option<usize>) -> Node {
        let line = &self.lines[self.cur];
        if is_seq_item(line, at) {
            self.seq(at)
        } else if split_key(line, at).is_some() {
            self.map(at)
        } else {
            self.value(at, parent)
        }
    }

    /// A value written on the current line from column `at`: flow, block
    /// scalar or plain scalar. Consumes its continuation lines.
    fn value(&mut self, at: usize, parent: Option<usize>) -> Node {
        let first = self.lines[self.cur].get(at).copied();
        let node = if matches!(first, Some('{') | Some('[')) {
            let mut cursor = (self.cur, at);
            let node = self.flow(&mut cursor);
            self.cur = cursor.0 + 1;
            node
        } else {
            self.cur += 1;
            Node::Leaf
        };
        // Continuation lines (multi-line scalars, block scalar bodies) are
        // indented deeper than the owner.
        while let Some(line) = self.lines.get(self.cur) {
            let ind = indent(line);
            let blank = content_end(line, ind) == ind;
            if blank || parent.is_some_and(|p| ind > p) {
                self.cur += 1;
            } else {
                break;
            }
        }
        node
    }

    fn map(&mut self, ind: usize) -> Node {
        let mut entries = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.cur) else {
                break;
            };
            let line_ind = indent(line);
            if line_ind < ind {
                break;
            }
            if line_ind > ind {
                self.cur += 1;
                continue;
            }
            if is_seq_item(line, ind) {
                break;
            }
            let Some((key, value_col)) = split_key(line, ind) else {
                self.cur += 1;
                continue;
            };
            let pos = (self.cur + 1, ind + 1);
            let mut vstart = value_col;
            while line.get(vstart).is_some_and(|c| *c == ' ' || *c == '\t') {
                vstart += 1;
            }
            let has_value = content_end(line, vstart) > vstart;
            let child = if has_value {
                self.value(vstart, Some(ind))
            } else {
                self.cur += 1;
                self.skip_blank();
                match self.lines.get(self.cur) {
                    Some(next) if indent(next) > ind => self.node(ind + 1, Some(ind)),
                    Some(next) if indent(next) == ind && is_seq_item(next, ind) => self.seq(ind),
                    _ => Node::Leaf,
                }
            };
            entries.push((key, pos, child));
        }
        Node::Map(entries)
    }

    fn seq(&mut self, ind: usize) -> Node {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.cur) else {
                break;
            };
            if indent(line) != ind || !is_seq_item(line, ind) {
                break;
            }
            let mut start = ind + 1;
            while line.get(start).is_some_and(|c| *c == ' ' || *c == '\t') {
                start += 1;
            }
            if content_end(line, start) <= start {
                let pos = (self.cur + 1, ind + 1);
                self.cur += 1;
                items.push((pos, self.node(ind + 1, Some(ind))));
            } else {
                let pos = (self.cur + 1, start + 1);
                // Blank out the dash so the item's content reads as a block
                // indented at its own column; following lines at that column
                // continue it (`- a: 1` / `  b: 2`).
                let line = &mut self.lines[self.cur];
                for c in line.iter_mut().take(start) {
                    *c = ' ';
                }
                items.push((pos, self.node_at(start, Some(ind))));
            }
        }
        Node::Seq(items)
    }

    fn peek(&self, cursor: (usize, usize)) -> Option<char> {
        self.lines
            .get(cursor.0)
            .and_then(|l| l.get(cursor.1))
            .copied()
    }

    /// Skips spaces, line ends and comments inside a flow collection.
    fn flow_ws(&self, cursor: &mut (usize, usize)) {
        while cursor.0 < self.lines.len() {
            match self.peek(*cursor) {
                Some(' ') | Some('\t') => cursor.1 += 1,
                Some('#') | None => *cursor = (cursor.0 + 1, 0),
                Some(_) => return,
            }
        }
    }

    fn flow(&self, cursor: &mut (usize, usize)) -> Node {
        self.flow_ws(cursor);
        match self.peek(*cursor) {
            Some('{') => {
                cursor.1 += 1;
                let mut entries = Vec::new();
                while cursor.0 < self.lines.len() {
                    self.flow_ws(cursor);
                    match self.peek(*cursor) {
                        Some('}') => {
                            cursor.1 += 1;
                            break;
                        }
                        Some(',') => {
                            cursor.1 += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let pos = (cursor.0 + 1, cursor.1 + 1);
                    let key = self.flow_scalar(cursor);
                    self.flow_ws(cursor);
                    let child = if self.peek(*cursor) == Some(':') {
                        cursor.1 += 1;
                        self.flow(cursor)
                    } else {
                        Node::Leaf
                    };
                    entries.push((key, pos, child));
                }
                Node::Map(entries)
            }
            Some('[') => {
                cursor.1 += 1;
                let mut items = Vec::new();
                while cursor.0 < self.lines.len() {
                    self.flow_ws(cursor);
                    match self.peek(*cursor) {
                        Some(']') => {
                            cursor.1 += 1;
                            break;
                        }
                        Some(',') => {
                            cursor.1 += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let pos = (cursor.0 + 1, cursor.1 + 1);
                    items.push((pos, self.flow(cursor)));
                }
                Node::Seq(items)
            }
            _ => {
                self.flow_scalar(cursor);
                Node::Leaf
            }
        }
    }

    /// Reads a flow scalar (quoted or plain) and returns its text.
    fn flow_scalar(&self, cursor: &mut (usize, usize)) -> String {
        let mut text = String::new();
        match self.peek(*cursor) {
            Some(q @ ('"' | '\'')) => {
                cursor.1 += 1;
                while cursor.0 < self.lines.len() {
                    match self.peek(*cursor) {
                        None => {
                            *cursor = (cursor.0 + 1, 0);
                            text.push(' ');
                        }
                        Some(c) if c == q => {
                            if q == '\'' && self.peek((cursor.0, cursor.1 + 1)) == Some('\'') {
                                text.push('\'');
                                cursor.1 += 2;
                                continue;
                            }
                            cursor.1 += 1;
                            break;
                        }
                        Some('\\') if q == '"' => {
                            if let Some(c) = self.peek((cursor.0, cursor.1 + 1)) {
                                text.push(c);
                            }
                            cursor.1 += 2;
                        }
                        Some(c) => {
                            text.push(c);
                            cursor.1 += 1;
                        }
                    }
                }
            }
            _ => {
                while let Some(c) = self.peek(*cursor) {
                    let next = self.peek((cursor.0, cursor.1 + 1));
                    let colon_ends = c == ':' && matches!(next, None | Some(' ' | ',' | '}' | ']'));
                    if matches!(c, ',' | '}' | ']') || colon_ends {
                        break;
                    }
                    text.push(c);
                    cursor.1 += 1;
                }
                if self.peek(*cursor).is_none() {
                    *cursor = (cursor.0 + 1, 0);
                }
            }
        }
        text.trim().to_string()
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
        let loc = Locator::new(TEXT);
        assert_eq!(loc.locate(&path("env.BASE_URL")), Some((3, 3)));
        assert_eq!(
            loc.locate(&path("thresholds.http_req_duration{name:a}[1]")),
            Some((5, 46))
        );
        assert_eq!(
            loc.locate(&path("thresholds.checks[0].abort_on_fail")),
            Some((7, 32))
        );
        assert_eq!(
            loc.locate(&path("scenarios.main.flow[0].request.url")),
            Some((13, 11))
        );
        assert_eq!(
            loc.locate(&path("scenarios.main.flow[0].request.checks[1].equals")),
            Some((18, 28))
        );
        assert_eq!(
            loc.locate(&path("scenarios.main.flow[1].sleep")),
            Some((19, 9))
        );
        assert_eq!(
            loc.locate(&path(
                "scenarios.main.flow[2].group.steps[0].request.headers.A"
            )),
            Some((24, 52))
        );
        // A missing tail resolves to the deepest part that exists.
        assert_eq!(loc.locate(&path("scenarios.main.nope")), Some((9, 3)));
    }

    #[test]
    fn displays_paths() {
        assert_eq!(path("a.b[2].c").to_string(), "a.b[2].c");
    }
}
