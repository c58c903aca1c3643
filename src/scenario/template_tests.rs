use super::*;

struct Scope {
    vars: Vec<Option<String>>,
    row: Vec<String>,
}

impl TemplateScope for Scope {
    fn var(&self, slot: VarSlot) -> Option<&str> {
        self.vars.get(slot.0 as usize)?.as_deref()
    }
    fn data(&self, _feed: FeedId, column: usize) -> Option<&str> {
        self.row.get(column).map(String::as_str)
    }
    fn vu_id(&self) -> u64 {
        7
    }
    fn iteration(&self) -> u64 {
        3
    }
    fn scenario(&self) -> &str {
        "browse"
    }
}

fn env() -> BTreeMap<String, String> {
    [("BASE_URL", "http://127.0.0.1:8080"), ("TOKEN_TTL", "60")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn compile(text: &str) -> Result<Template, TemplateError> {
    let env = env();
    let variables = vec!["token".to_string(), "user_id".to_string()];
    let feeds = vec![(
        "users".to_string(),
        Some(vec!["email".to_string(), "password".to_string()]),
    )];
    Template::compile(
        text,
        &TemplateContext {
            env: &env,
            process_env: None,
            variables: &variables,
            feeds: &feeds,
        },
    )
}

fn scope() -> Scope {
    Scope {
        vars: vec![Some("abc\"1".into()), None],
        row: vec!["a@x.io".into(), "pw".into()],
    }
}

#[test]
fn env_is_inlined_and_static_text_takes_the_fast_path() {
    let t = compile("{{ BASE_URL }}/items?ttl={{TOKEN_TTL}}").unwrap();
    assert_eq!(t.as_static(), Some("http://127.0.0.1:8080/items?ttl=60"));
    assert_eq!(t.source(), "{{ BASE_URL }}/items?ttl={{TOKEN_TTL}}");
    assert_eq!(compile("plain").unwrap().as_static(), Some("plain"));
    assert_eq!(compile("").unwrap().as_static(), Some(""));
}

#[test]
fn renders_variables_data_and_builtins() {
    let t = compile(
        "Bearer {{ token }} {{ users.email }} vu={{__VU}} it={{ __ITER }} sc={{ __SCENARIO }}",
    )
    .unwrap();
    assert_eq!(t.as_static(), None);
    assert_eq!(
        t.render_to_string(&scope()).unwrap(),
        "Bearer abc\"1 a@x.io vu=7 it=3 sc=browse"
    );
}

#[test]
fn functions_produce_fresh_values() {
    let s = scope();
    let id = compile("{{ uuid() }}")
        .unwrap()
        .render_to_string(&s)
        .unwrap();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 4);
    let t = compile("{{ random_int(1, 3) }}").unwrap();
    for _ in 0..50 {
        let n: i64 = t.render_to_string(&s).unwrap().parse().unwrap();
        assert!((1..=3).contains(&n));
    }
    let secs: u64 = compile("{{ unix_time() }}")
        .unwrap()
        .render_to_string(&s)
        .unwrap()
        .parse()
        .unwrap();
    let ms: u64 = compile("{{unix_time_ms()}}")
        .unwrap()
        .render_to_string(&s)
        .unwrap()
        .parse()
        .unwrap();
    assert!(secs > 1_600_000_000 && ms / 1000 >= secs && ms / 1000 - secs <= 1);
}

#[test]
fn unset_variable_is_a_render_error() {
    let err = compile("{{ user_id }}")
        .unwrap()
        .render_to_string(&scope())
        .unwrap_err();
    assert_eq!(
        err.0,
        "variable \"user_id\" is not set (the extraction that sets it failed or has not run)"
    );
}

#[test]
fn compile_errors_say_what_is_wrong() {
    let e = compile("{{ tokn }}").unwrap_err();
    assert_eq!(e.message, "unknown variable \"tokn\"");
    assert_eq!(e.hint.as_deref(), Some("did you mean token?"));
    let e = compile("{{ base_url }}/x").unwrap_err();
    assert_eq!(e.hint.as_deref(), Some("did you mean BASE_URL?"));
    assert!(
        compile("a {{ token")
            .unwrap_err()
            .message
            .starts_with("unclosed template")
    );
    assert_eq!(
        compile("{{ users.phone }}").unwrap_err().message,
        "data feed \"users\" has no column \"phone\""
    );
    assert_eq!(
        compile("{{ people.email }}").unwrap_err().message,
        "unknown data feed \"people\" in {{ people.email }}"
    );
    assert_eq!(
        compile("{{ now() }}").unwrap_err().message,
        "unknown function \"now\""
    );
    assert!(
        compile("{{ random_int(5) }}")
            .unwrap_err()
            .message
            .starts_with("random_int takes two integers")
    );
    assert!(
        compile("{{ random_int(5, 1) }}")
            .unwrap_err()
            .message
            .contains("minimum is larger")
    );
    assert!(
        compile("{{ a b }}")
            .unwrap_err()
            .message
            .starts_with("invalid placeholder")
    );
    assert_eq!(
        compile("{{ }}").unwrap_err().message,
        "empty placeholder {{ }}"
    );
}

#[test]
fn builder_escapes_json_strings() {
    let inner = compile("{{ token }}-x").unwrap();
    let mut b = TemplateBuilder::default();
    b.push_literal("{\"t\":\"", false);
    b.push_template(&inner, true);
    b.push_literal("\",\"q\":\"", false);
    b.push_literal("say \"hi\"", true);
    b.push_literal("\"}", false);
    let t = b.finish("src".into());
    let out = t.render_to_string(&scope()).unwrap();
    assert_eq!(out, r#"{"t":"abc\"1-x","q":"say \"hi\""}"#);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["t"], "abc\"1-x");
}
