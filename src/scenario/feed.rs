//! Data feeds: rows from a CSV (header row required) or JSON (array of
//! objects) file, handed to VUs per VU, in sequence or at random.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a VU picks its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedMode {
    /// VU n always uses row (n-1) % rows.
    PerVu,
    /// Each use takes the next row, shared by all VUs, wrapping at the end.
    Sequential,
    /// Each use takes a uniformly random row.
    Random,
}

impl FeedMode {
    pub fn parse(text: &str) -> Option<FeedMode> {
        match text {
            "per-vu" => Some(FeedMode::PerVu),
            "sequential" => Some(FeedMode::Sequential),
            "random" => Some(FeedMode::Random),
            _ => None,
        }
    }
}

/// A loaded feed. Rows all have `columns.len()` cells and there is at least one row.
#[derive(Debug)]
pub struct DataFeed {
    pub name: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub mode: FeedMode,
    cursor: AtomicU64,
}

impl DataFeed {
    /// Builds a feed; fails when there are no rows or a row has the wrong width.
    pub fn new(
        name: impl Into<String>,
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
        mode: FeedMode,
    ) -> Result<Self, String> {
        if rows.is_empty() {
            return Err("has no data rows".into());
        }
        if let Some((i, row)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != columns.len())
        {
            return Err(format!(
                "row {} has {} fields, the header has {}",
                i + 1,
                row.len(),
                columns.len()
            ));
        }
        Ok(DataFeed {
            name: name.into(),
            columns,
            rows,
            mode,
            cursor: AtomicU64::new(0),
        })
    }

    /// Loads a `.csv` or `.json` file; the message names the path as resolved.
    pub fn load(name: &str, path: &Path, mode: FeedMode) -> Result<Self, String> {
        let shown = path.display();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read data file {shown}: {e}"))?;
        let (columns, rows) = match ext.as_deref() {
            Some("csv") => parse_csv(&text),
            Some("json") => parse_json(&text),
            _ => Err("unsupported file type; use a .csv or .json file".to_string()),
        }
        .map_err(|e| format!("data file {shown}: {e}"))?;
        DataFeed::new(name, columns, rows, mode).map_err(|e| format!("data file {shown} {e}"))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Row of VU `vu_id` (1-based) in per-VU mode.
    pub fn row_for_vu(&self, vu_id: u64) -> usize {
        (vu_id.saturating_sub(1) % self.rows.len() as u64) as usize
    }

    /// The next row of the shared sequence (wraps).
    pub fn next_sequential(&self) -> usize {
        (self.cursor.fetch_add(1, Ordering::Relaxed) % self.rows.len() as u64) as usize
    }

    pub fn random_row(&self, rng: &mut impl rand::Rng) -> usize {
        rng.random_range(0..self.rows.len())
    }
}

fn parse_csv(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if columns.is_empty() || columns.iter().all(String::is_empty) {
        return Err("is empty (a header row naming the columns is required)".into());
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        rows.push(record.iter().map(str::to_string).collect());
    }
    Ok((columns, rows))
}

fn parse_json(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let items = value.as_array().ok_or("must be a JSON array of objects")?;
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        let object = item.as_object().ok_or("must be a JSON array of objects")?;
        for key in object.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    // Objects lacking a key get an empty cell: JSON rows are naturally sparse.
    let rows = items
        .iter()
        .filter_map(|item| item.as_object())
        .map(|object| {
            columns
                .iter()
                .map(|c| match object.get(c) {
                    None | Some(serde_json::Value::Null) => String::new(),
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect()
        })
        .collect();
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn loads_csv_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(
            &dir,
            "u.csv",
            "email,password\na@x.io,p1\n\"b,c@x.io\",p2\n",
        );
        let feed = DataFeed::load("users", &csv, FeedMode::PerVu).unwrap();
        assert_eq!(feed.columns, ["email", "password"]);
        assert_eq!(feed.rows, [["a@x.io", "p1"], ["b,c@x.io", "p2"]]);
        let json = write(
            &dir,
            "u.json",
            r#"[{"id": 1, "name": "a"}, {"id": 2, "tag": true}]"#,
        );
        let feed = DataFeed::load("u", &json, FeedMode::Random).unwrap();
        assert_eq!(feed.columns, ["id", "name", "tag"]);
        assert_eq!(feed.rows, [["1", "a", ""], ["2", "", "true"]]);
    }

    #[test]
    fn picks_rows_by_mode() {
        let rows = (0..3).map(|i| vec![i.to_string()]).collect();
        let feed = DataFeed::new("f", vec!["n".into()], rows, FeedMode::Sequential).unwrap();
        assert_eq!(
            (1..=5).map(|vu| feed.row_for_vu(vu)).collect::<Vec<_>>(),
            [0, 1, 2, 0, 1]
        );
        assert_eq!(
            (0..4).map(|_| feed.next_sequential()).collect::<Vec<_>>(),
            [0, 1, 2, 0]
        );
        let mut rng = rand::rngs::SmallRng::seed_from_u64(1);
        let mut seen = [0; 3];
        for _ in 0..300 {
            seen[feed.random_row(&mut rng)] += 1;
        }
        assert!(seen.iter().all(|n| *n > 50), "{seen:?}");
    }

    #[test]
    fn rejects_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.csv");
        let err = DataFeed::load("f", &missing, FeedMode::PerVu).unwrap_err();
        assert_eq!(
            err,
            format!(
                "cannot read data file {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
        let empty = write(&dir, "e.csv", "");
        assert!(
            DataFeed::load("f", &empty, FeedMode::PerVu)
                .unwrap_err()
                .ends_with("is empty (a header row naming the columns is required)")
        );
        let header_only = write(&dir, "h.csv", "a,b\n");
        assert!(
            DataFeed::load("f", &header_only, FeedMode::PerVu)
                .unwrap_err()
                .ends_with("has no data rows")
        );
        let ragged = write(&dir, "r.csv", "a,b\n1,2\n3\n");
        assert!(
            DataFeed::load("f", &ragged, FeedMode::PerVu)
                .unwrap_err()
                .ends_with("row 2 has 1 fields, the header has 2")
        );
        let obj = write(&dir, "o.json", r#"{"a": 1}"#);
        assert!(
            DataFeed::load("f", &obj, FeedMode::PerVu)
                .unwrap_err()
                .ends_with("must be a JSON array of objects")
        );
        let nums = write(&dir, "n.json", "[1, 2]");
        assert!(
            DataFeed::load("f", &nums, FeedMode::PerVu)
                .unwrap_err()
                .ends_with("must be a JSON array of objects")
        );
        let empty_json = write(&dir, "e.json", "[]");
        assert!(
            DataFeed::load("f", &empty_json, FeedMode::PerVu)
                .unwrap_err()
                .ends_with("has no data rows")
        );
        let txt = write(&dir, "t.txt", "x");
        assert!(
            DataFeed::load("f", &txt, FeedMode::PerVu)
                .unwrap_err()
                .contains("use a .csv or .json file")
        );
    }
}
