//! Scenario errors: one line each, `FILE:LINE:COL: FIELD: MESSAGE (hint: HINT)`,
//! so editors and CI logs can jump to the spot.

use std::fmt;
use std::path::PathBuf;

/// One problem in a scenario file (or in the options that select from it).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioError {
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Where in the file's structure, e.g. `scenarios.main.flow[2].request.url`;
    /// empty when the problem concerns the whole file.
    pub field: String,
    pub message: String,
    pub hint: Option<String>,
}

impl ScenarioError {
    pub fn new(
        file: impl Into<PathBuf>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ScenarioError {
            file: file.into(),
            line: None,
            column: None,
            field: field.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Every problem found, in file order where known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl ScenarioErrors {
    pub fn single(error: ScenarioError) -> Self {
        ScenarioErrors(vec![error])
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ScenarioError> {
        self.0.iter()
    }
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_omits_missing_parts() {
        let e = ScenarioError::new("a.yaml", "scenarios.main.vus", "must be at least 1")
            .at(3, 5)
            .with_hint("set vus: 1");
        assert_eq!(
            e.to_string(),
            "a.yaml:3:5: scenarios.main.vus: must be at least 1 (hint: set vus: 1)"
        );
        let e = ScenarioError::new("a.yaml", "", "cannot read scenario file: gone");
        assert_eq!(e.to_string(), "a.yaml: cannot read scenario file: gone");
        let two = ScenarioErrors(vec![e.clone(), e]);
        assert_eq!(two.to_string().lines().count(), 2);
    }
}
