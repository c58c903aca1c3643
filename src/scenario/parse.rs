//! Scenario text → model: the empty-file and nesting checks, the marked
//! YAML tree, includes merged in, then the collecting deserializer. Every
//! problem it finds keeps its file, line, column and field path.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::error::{ScenarioError, ScenarioErrors};
use super::include::Includes;
use super::model::ScenarioFile;
use super::schema::required_fields;
use super::yaml::{Mark, Node, ParseProblem, parse_document};

/// A parsed scenario file and the files it was made from.
pub(crate) struct Parsed {
    /// `None` only when deserialization could not finish (see `problems`).
    pub file: Option<ScenarioFile>,
    pub problems: Vec<ParseProblem>,
    pub root: Rc<Node>,
    /// `Mark::file` indexes this: the scenario file, then each include.
    pub files: Vec<PathBuf>,
}

impl Parsed {
    /// A problem at `mark` as an error naming the file it is in.
    pub fn error_at(
        &self,
        mark: Option<Mark>,
        field: String,
        message: String,
        hint: Option<String>,
    ) -> ScenarioError {
        let file = mark
            .and_then(|m| self.files.get(m.file as usize))
            .unwrap_or(&self.files[0]);
        let mut e = ScenarioError::new(file, field, message);
        e.hint = hint;
        if let Some(m) = mark {
            e = e.at(m.line as usize, m.column as usize);
        }
        e
    }
}

/// Parses scenario text; a fatal problem (not YAML, empty, nested too
/// deep, an include that cannot be read) ends it with that one error.
pub(crate) fn parse(text: &str, source: &Path) -> Result<Parsed, ScenarioErrors> {
    let (root, mut problems) = parse_tree(text, source, 0)?;
    let mut files = vec![source.to_path_buf()];
    let root = Includes::new(source, &mut files, &mut problems).resolve(root, source)?;
    let (file, found) = super::yaml::deserialize::<ScenarioFile>(&root, required_fields());
    problems.extend(found);
    Ok(Parsed {
        file,
        problems,
        root,
        files,
    })
}

/// One file's text as a marked tree; `file` is its index in `Parsed::files`.
pub(crate) fn parse_tree(
    text: &str,
    source: &Path,
    file: u32,
) -> Result<(Rc<Node>, Vec<ParseProblem>), ScenarioErrors> {
    if text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---")
    {
        return Err(ScenarioErrors::single(
            ScenarioError::new(source, "", "the scenario file is empty")
                .with_hint("start with e.g. `vus: 1`, `duration: 10s` and a `flow:` list"),
        ));
    }
    if let Some((line, column)) = super::nesting::too_deep(text) {
        return Err(ScenarioErrors::single(
            ScenarioError::new(
                source,
                "",
                format!(
                    "invalid YAML: nested more than {} levels deep",
                    super::nesting::MAX_NESTING
                ),
            )
            .at(line, column),
        ));
    }
    let document = parse_document(text, file).map_err(|e| {
        ScenarioErrors::single(
            ScenarioError::new(source, "", e.message)
                .at(e.mark.line as usize, e.mark.column as usize),
        )
    })?;
    let problems = document
        .problems
        .into_iter()
        .map(|(mark, path, message)| ParseProblem {
            mark,
            field: path.clone(),
            blocks: path,
            message,
            hint: None,
        })
        .collect();
    Ok((document.root, problems))
}
