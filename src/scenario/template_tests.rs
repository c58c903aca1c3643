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

fn json_body(yaml_strings: &[(&str, &str)]) -> Template {
    let env = env();
    let variables = vec!["token".to_string(), "user_id".to_string()];
    let ctx = TemplateContext {
        env: &env,
        process_env: None,
        variables: &variables,
        feeds: &[],
    };
    let mut b = TemplateBuilder::default();
    b.push_literal("{", false);
    for (i, (key, value)) in yaml_strings.iter().enumerate() {
        if i > 0 {
            b.push_literal(",", false);
        }
        b.push_literal(&format!("\"{key}\":"), false);
        b.push_json_string(value, &ctx).unwrap();
    }
    b.push_literal("}", false);
    b.finish("src".into())
}

#[test]
fn defaults_stand_in_for_names_defined_nowhere() {
    let t = compile(
        "{{ VUS | default(10) }}/{{ HOST|default(\"local|host\") }}/{{ TOKEN_TTL | default(5) }}",
    )
    .unwrap();
    assert_eq!(t.as_static(), Some("10/local|host/60"));
    assert_eq!(
        compile("{{ X | default('a b') }}").unwrap().as_static(),
        Some("a b")
    );
    // An extracted variable is read at run time; the default covers it while unset.
    let t = compile("{{ user_id | default(0) }}").unwrap();
    assert_eq!(t.render_to_string(&scope()).unwrap(), "0");
    let e = compile("{{ VUS | default(ten) }}").unwrap_err();
    assert_eq!(
        e.message,
        "invalid default in {{ VUS | default(ten) }}: \"ten\" is not a number or a quoted string"
    );
    assert_eq!(
        compile("{{ __VU | default(1) }}").unwrap_err().message,
        "default(...) applies to a variable or environment name, not \"__VU\""
    );
    assert_eq!(
        compile("{{ VUS | dflt(1) }}").unwrap_err().message,
        "unknown filter \"dflt(1)\" in {{ VUS | dflt(1) }}"
    );
    assert_eq!(
        compile("{{ NOPE }}").unwrap_err().hint.as_deref(),
        Some(
            "not an extracted variable or environment value; set it under `env:` or with --env, extract it, or write {{ NOPE | default(...) }}"
        )
    );
}

#[test]
fn a_lone_placeholder_in_json_keeps_its_rendered_type() {
    let t = json_body(&[
        ("vu", "{{ __VU }}"),
        ("vu_text", "{{ __VU | string }}"),
        ("ttl", "{{TOKEN_TTL}}"),
        ("ttl_text", "{{ TOKEN_TTL | string }}"),
        ("scenario", "{{ __SCENARIO }}"),
        ("quoted", "{{ token }}"),
        ("mixed", "vu {{ __VU }}"),
        ("zip", "{{ ZIP | default(\"007\") }}"),
        ("flag", "{{ ON | default(true) }}"),
        ("none", "{{ N | default(null) }}"),
        ("url", "{{ BASE_URL }}"),
    ]);
    let out = t.render_to_string(&scope()).unwrap();
    assert_eq!(
        out,
        r#"{"vu":7,"vu_text":"7","ttl":60,"ttl_text":"60","scenario":"browse","quoted":"abc\"1","mixed":"vu 7","zip":"007","flag":true,"none":null,"url":"http://127.0.0.1:8080"}"#
    );
    let numbers = Scope {
        vars: vec![Some("-12.5e3".into()), None],
        row: vec![],
    };
    assert_eq!(
        json_body(&[("n", "{{ token }}")])
            .render_to_string(&numbers)
            .unwrap(),
        r#"{"n":-12.5e3}"#
    );
}

#[test]
fn json_scalars_follow_the_rfc_grammar() {
    for yes in [
        "0", "-0", "3", "-12", "1.5", "1e9", "2.5E-3", "true", "false", "null",
    ] {
        assert!(is_json_scalar(yes), "{yes}");
    }
    for no in [
        "", "007", "+1", ".5", "1.", "1e", "-", "True", "NaN", "1 ", " 1", "0x10", "1_000",
    ] {
        assert!(!is_json_scalar(no), "{no}");
    }
}

#[test]
fn referenced_names_are_the_plain_names_read() {
    use crate::scenario::template_expr::referenced_names;
    assert_eq!(
        referenced_names(
            "{{ BASE_URL }}/x/{{ users.email }}/{{ uuid() }}/{{ PORT | default(80) }}/{{ __VU }}"
        ),
        vec!["BASE_URL", "PORT", "__VU"]
    );
    assert!(referenced_names("no {{ placeholders").is_empty());
}
