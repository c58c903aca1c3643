//! `include:` — fragments merged into the including file, and errors that
//! name the file and line they are in (golden texts, files made in-test).

use std::path::Path;

use stampede::scenario::{LoadOptions, load};

/// Writes `files` (relative path, text) under a new directory.
fn files(list: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in list {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn errors(main: &Path) -> String {
    match load(main, &LoadOptions::default()) {
        Ok(_) => panic!("expected errors for {}", main.display()),
        Err(e) => e.to_string(),
    }
}

/// The error text with the temporary directory written `DIR`.
fn relative(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "DIR")
}

const FLOW: &str =
    "vus: 1\niterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/{{ users.id }}\" }\n";

#[test]
fn fragments_merge_section_by_section_and_the_including_file_wins() {
    let dir = files(&[
        (
            "main.yaml",
            &format!("include: [common/env.yaml, common/data.yaml]\nenv:\n  A: main\n{FLOW}"),
        ),
        (
            "common/env.yaml",
            "env:\n  A: fragment\n  B: fragment\nhttp:\n  timeout: 5s\n",
        ),
        (
            "common/data.yaml",
            "data:\n  users: { file: rows/users.csv }\nthresholds:\n  http_reqs: [\"count>0\"]\n",
        ),
        ("common/rows/users.csv", "id\n1\n2\n"),
    ]);
    let plan = load(&dir.path().join("main.yaml"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.env.get("A").map(String::as_str), Some("main"));
    assert_eq!(plan.env.get("B").map(String::as_str), Some("fragment"));
    assert_eq!(plan.http.default_timeout, std::time::Duration::from_secs(5));
    // The feed's path was relative to the fragment's directory.
    assert_eq!(plan.feeds[0].rows, vec![vec!["1"], vec!["2"]]);
    assert_eq!(plan.thresholds.len(), 1);
}

#[test]
fn two_fragments_defining_one_key_is_an_error_naming_both() {
    let dir = files(&[
        ("main.yaml", &format!("include: [a.yaml, b.yaml]\n{FLOW}")),
        ("a.yaml", "env:\n  A: 1\ndata: {}\n"),
        ("b.yaml", "# b\nenv:\n  B: 2\n  A: 3\n"),
    ]);
    assert_eq!(
        relative(&errors(&dir.path().join("main.yaml")), dir.path()),
        // File order: the including file first, then its fragments.
        "DIR/main.yaml:5:16: flow[0].request.url: unknown data feed \"users\" in {{ users.id }} (hint: declare data feeds under `data:`)\n\
         DIR/b.yaml:4:3: env.A: `env.A` is also defined in DIR/a.yaml:2:3; one fragment must define it, or the including file"
    );
}

#[test]
fn a_cycle_names_the_chain() {
    let dir = files(&[
        ("main.yaml", &format!("include:\n  - a.yaml\n{FLOW}")),
        ("a.yaml", "include: [sub/b.yaml]\n"),
        ("sub/b.yaml", "include:\n  - ../a.yaml\n"),
    ]);
    let main = dir.path().join("main.yaml");
    let text = relative(&errors(&main), dir.path());
    assert_eq!(
        text.lines().last().unwrap(),
        "DIR/sub/b.yaml:2:5: include[0]: include cycle: DIR/a.yaml → DIR/sub/b.yaml → DIR/sub/../a.yaml"
    );
}

#[test]
fn a_missing_fragment_is_reported_at_the_include_and_the_rest_still_checked() {
    let dir = files(&[(
        "main.yaml",
        "include:\n  - nowhere.yaml\nvus: ten\niterations: 1\nflow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n",
    )]);
    assert_eq!(
        relative(&errors(&dir.path().join("main.yaml")), dir.path()),
        "DIR/main.yaml:2:5: include[0]: cannot read included file DIR/nowhere.yaml: No such file or directory (os error 2)\n\
         DIR/main.yaml:3:6: vus: invalid type: string \"ten\", expected a whole number or a \"{{ NAME }}\" template"
    );
}

#[test]
fn problems_inside_a_fragment_name_the_fragment_and_its_line() {
    let dir = files(&[
        ("main.yaml", &format!("include: [parts/http.yaml]\n{FLOW}")),
        (
            "parts/http.yaml",
            "http:\n  timeout: soon\n  max_redirects: lots\n  cookie: true\ndata:\n  users: { file: users.csv }\n",
        ),
        ("parts/users.csv", "id\n1\n"),
    ]);
    assert_eq!(
        relative(&errors(&dir.path().join("main.yaml")), dir.path()),
        "DIR/parts/http.yaml:2:3: http.timeout: invalid duration \"soon\" (hint: use e.g. 30s, 5m, 500ms)\n\
         DIR/parts/http.yaml:3:18: http.max_redirects: invalid type: string \"lots\", expected a whole number or a \"{{ NAME }}\" template\n\
         DIR/parts/http.yaml:4:3: http: unknown field `cookie` (hint: did you mean `cookies`?)"
    );
}

#[test]
fn an_invalid_fragment_stops_with_its_own_position() {
    let dir = files(&[
        ("main.yaml", &format!("include: [bad.yaml]\n{FLOW}")),
        ("bad.yaml", "env:\n  A: [1\n"),
    ]);
    let text = relative(&errors(&dir.path().join("main.yaml")), dir.path());
    assert!(
        text.starts_with("DIR/bad.yaml:3:1: invalid YAML: "),
        "{text}"
    );
}

#[test]
fn only_regular_files_are_included() {
    let dir = files(&[("main.yaml", &format!("include: [sub, /dev/zero]\n{FLOW}"))]);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let text = relative(&errors(&dir.path().join("main.yaml")), dir.path());
    assert_eq!(
        text.lines().take(2).collect::<Vec<_>>(),
        vec![
            "DIR/main.yaml:1:11: include[0]: cannot read included file DIR/sub: not a regular file",
            "DIR/main.yaml:1:16: include[1]: cannot read included file /dev/zero: not a regular file",
        ]
    );
}

#[test]
fn a_fragment_two_fragments_include_is_merged_once() {
    let dir = files(&[
        (
            "main.yaml",
            &format!("include: [b.yaml, c.yaml, b.yaml]\n{FLOW}"),
        ),
        ("b.yaml", "include: [common.yaml]\nenv: { B: b }\n"),
        ("c.yaml", "include: [common.yaml]\nenv: { C: c }\n"),
        ("common.yaml", "data:\n  users: { file: users.csv }\n"),
        ("users.csv", "id\n7\n"),
    ]);
    let plan = load(&dir.path().join("main.yaml"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.env.keys().collect::<Vec<_>>(), vec!["B", "C"]);
    assert_eq!(plan.feeds[0].rows, vec![vec!["7"]]);
}
