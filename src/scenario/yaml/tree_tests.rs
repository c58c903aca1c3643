use super::*;

fn parse(text: &str) -> Document {
    parse_document(text, 0).unwrap_or_else(|e| panic!("{e:?}"))
}

fn keys(node: &Node) -> Vec<(String, String)> {
    match &node.value {
        NodeValue::Map(entries) => entries
            .iter()
            .map(|e| {
                let value = e.value.scalar_text().unwrap_or("<collection>");
                (e.key_text().to_string(), value.to_string())
            })
            .collect(),
        other => panic!("not a map: {other:?}"),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn merge_keys_put_their_entries_where_written_and_own_keys_win() {
    let doc =
        parse("a: &a { x: 1, y: 2 }\nb: &b { y: 3, z: 4 }\nc:\n  y: own\n  <<: [*a, *b]\n  w: 5\n");
    assert!(doc.problems.is_empty(), "{:?}", doc.problems);
    let c = &doc.root.get("c").unwrap().value;
    // `y` is the mapping's own; `a` comes before `b`, so its keys win.
    assert_eq!(
        keys(c),
        pairs(&[("y", "own"), ("x", "1"), ("z", "4"), ("w", "5")])
    );
    // A merged entry keeps the position it was written at (in `a`).
    let x = c.get("x").unwrap();
    assert_eq!((x.key.mark.line, x.key.mark.column), (1, 9));
}

#[test]
fn a_quoted_merge_key_is_an_ordinary_key() {
    let doc = parse("a: &a { x: 1 }\nc: { \"<<\": *a }\n");
    assert_eq!(
        keys(&doc.root.get("c").unwrap().value),
        pairs(&[("<<", "<collection>")])
    );
}

#[test]
fn merging_a_scalar_and_duplicate_keys_are_reported_with_their_paths() {
    let doc = parse("c:\n  <<: 1\n  d: 1\n  d: 2\n");
    let found: Vec<(u32, u32, String, String)> = doc
        .problems
        .iter()
        .map(|(m, p, msg)| (m.line, m.column, p.to_string(), msg.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                4,
                3,
                "c.d".to_string(),
                "duplicate key \"d\" (first at line 3 column 3)".to_string()
            ),
            (
                2,
                7,
                "c.<<".to_string(),
                "`<<` merges a mapping or a list of mappings, e.g. `<<: *defaults`".to_string()
            ),
        ]
    );
    assert_eq!(
        keys(&doc.root.get("c").unwrap().value),
        pairs(&[("d", "1")])
    );
}

#[test]
fn a_billion_laughs_is_refused_at_the_alias_that_passes_the_budget() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let started = std::time::Instant::now();
    let err = parse_document(&text, 0).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(
        err.message,
        "invalid YAML: the document expands to more than 1000000 nodes with its aliases"
    );
    // a5 (line 6) is the first to expand past the budget: 1,111,111 nodes.
    assert_eq!(err.mark.line, 6);
}

#[test]
fn aliases_cannot_nest_deeper_than_the_limit() {
    // Each alias adds ten levels of lists to the one before.
    let mut text = format!("a0: &a0 {}1{}\n", "[".repeat(10), "]".repeat(10));
    for i in 1..20 {
        text.push_str(&format!("a{i}: &a{i} [[[[[[[[[[*a{}]]]]]]]]]]\n", i - 1));
    }
    let err = parse_document(&text, 0).unwrap_err();
    assert_eq!(
        err.message,
        "invalid YAML: nested more than 128 levels deep"
    );
    // a12 (line 13): the root map, 10 lists, then a11's 120 levels.
    assert_eq!((err.mark.line, err.mark.column), (13, 21));
}

#[test]
fn a_second_document_is_refused() {
    let err = parse_document("vus: 1\n---\nvus: 2\n", 0).unwrap_err();
    assert_eq!(
        (err.mark.line, err.message.as_str()),
        (
            2,
            "invalid YAML: a scenario file holds one document; this is a second"
        )
    );
}

#[test]
fn saphyr_messages_read_problem_first() {
    assert_eq!(
        libyaml_order("while parsing a block mapping, did not find expected key"),
        "did not find expected key, while parsing a block mapping"
    );
    assert_eq!(
        libyaml_order("recursion limit exceeded"),
        "recursion limit exceeded"
    );
}
