//! A scenario file compiles into the expected plan; bad files give exact one-line errors.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use stampede::metrics::{MetricKind, TagInterner, TagSet, TagSetId, ValueType};
use stampede::scenario::{
    AdhocRequest, ExecutorPlan, FeedId, FeedMode, LoadOptions, RecordAction, RequestBody,
    RequestStep, SleepSpec, Stage, StatusSet, Step, TemplateScope, TestPlan, VarSlot, adhoc_plan,
    load, load_str,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenario")
        .join(name)
}

fn tags(id: TagSetId) -> TagSet {
    TagInterner::global().resolve(id)
}

fn set(pairs: &[(&str, &str)]) -> TagSet {
    TagSet::new(pairs.iter().copied())
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn full(options: &LoadOptions) -> TestPlan {
    load(&fixture("full.yaml"), options).unwrap_or_else(|e| panic!("{e}"))
}

fn request(step: &Step) -> &RequestStep {
    match step {
        Step::Request(r) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

struct Scope(Vec<Option<String>>);

impl TemplateScope for Scope {
    fn var(&self, slot: VarSlot) -> Option<&str> {
        self.0.get(slot.0 as usize)?.as_deref()
    }
    fn data(&self, feed: FeedId, column: usize) -> Option<&str> {
        Some(["users", "products"][feed.0 as usize]).map(|_| ["c0", "c1"][column])
    }
    fn vu_id(&self) -> u64 {
        4
    }
    fn iteration(&self) -> u64 {
        9
    }
    fn scenario(&self) -> &str {
        "browse"
    }
}

#[test]
fn full_file_compiles_to_the_expected_plan() {
    let plan = full(&LoadOptions::default());
    assert_eq!(
        plan.env.get("BASE_URL").map(String::as_str),
        Some("http://127.0.0.1:8080")
    );
    assert_eq!(plan.env.get("PAGE_SIZE").map(String::as_str), Some("20"));
    assert_eq!(
        plan.variables,
        ["admin_token", "token", "exec_id", "etag", "csrf", "session"]
    );

    // http settings
    assert_eq!(plan.http.default_timeout, secs(20));
    assert_eq!(plan.http.max_redirects, 3);
    assert_eq!(plan.http.user_agent, "stampede-test/1");
    assert!(!plan.http.cookies && !plan.http.insecure_skip_tls_verify);
    assert_eq!(plan.http.default_headers[0].0.as_str(), "x-client");
    assert_eq!(
        plan.http.default_headers[0].1.as_static(),
        Some("stampede-test")
    );

    // feeds
    assert_eq!(plan.feeds.len(), 2);
    assert_eq!(
        (plan.feeds[0].name.as_str(), plan.feeds[0].mode),
        ("users", FeedMode::PerVu)
    );
    assert_eq!(plan.feeds[0].columns, ["email", "password"]);
    assert_eq!(plan.feeds[0].rows.len(), 2);
    assert_eq!(
        (plan.feeds[1].columns.clone(), plan.feeds[1].mode),
        (vec!["sku".to_string(), "qty".to_string()], FeedMode::Random)
    );

    // custom metrics
    let def = |name: &str| {
        plan.registry
            .get(plan.registry.lookup(name).unwrap())
            .clone()
    };
    assert_eq!(
        (def("cache_hit").kind, def("cache_hit").contains),
        (MetricKind::Rate, ValueType::Default)
    );
    assert_eq!(def("rate_limited").kind, MetricKind::Counter);
    assert_eq!(def("queue_depth").kind, MetricKind::Gauge);
    assert_eq!(
        (def("exec_wait").kind, def("exec_wait").contains),
        (MetricKind::Trend, ValueType::Time)
    );
    assert_eq!(
        (def("payload_items").kind, def("payload_items").contains),
        (MetricKind::Trend, ValueType::Default)
    );

    // thresholds
    let th: Vec<(String, String, bool)> = plan
        .thresholds
        .iter()
        .map(|t| {
            (
                t.selector.source.clone(),
                t.expr.source.clone(),
                t.abort_on_fail,
            )
        })
        .collect();
    assert_eq!(
        th,
        [
            ("http_req_duration".into(), "p(95)<500".into(), false),
            ("http_req_duration".into(), "p(99)<2000".into(), false),
            (
                "http_req_duration{name:credits}".into(),
                "p(95)<300".into(),
                false
            ),
            ("http_req_failed".into(), "rate<0.01".into(), false),
            ("checks".into(), "rate>0.99".into(), true),
        ]
    );
    assert_eq!(
        plan.thresholds[2].selector.filter,
        [("name".to_string(), "credits".to_string())]
    );
    assert_eq!(plan.thresholds[4].delay_abort_eval, secs(10));

    // test-level setup
    let admin = request(&plan.setup[0]);
    assert_eq!(
        (admin.name.as_str(), admin.method.as_str()),
        ("admin login", "POST")
    );
    assert_eq!(
        tags(admin.tag_set),
        set(&[
            ("group", "::setup"),
            ("method", "POST"),
            ("name", "admin login")
        ])
    );
    assert!(admin.needs_body);
    assert_eq!(admin.extract[0].0, VarSlot(0));
    match &admin.body {
        RequestBody::Json(t) => assert_eq!(
            t.as_static(),
            Some(r#"{"email":"admin@example.com","password":"secret"}"#)
        ),
        other => panic!("{other:?}"),
    }

    let names: Vec<&str> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["browse", "ramp", "poll", "once"]);
    let [browse, ramp, poll, once] = &plan.scenarios[..] else {
        unreachable!()
    };

    // browse: constant-vus with tags, per-VU setup, groups
    assert_eq!(
        browse.executor,
        ExecutorPlan::ConstantVus {
            vus: 10,
            duration: secs(30)
        }
    );
    assert_eq!(
        (browse.start_time, browse.graceful_stop),
        (Duration::ZERO, secs(30))
    );
    assert_eq!(browse.tags, [("team".to_string(), "api".to_string())]);
    assert_eq!(
        tags(browse.tag_set),
        set(&[("scenario", "browse"), ("team", "api")])
    );
    let login = request(&browse.vu_setup[0]);
    assert_eq!(login.method.as_str(), "POST");
    match &login.body {
        RequestBody::Json(t) => {
            assert!(t.as_static().is_none());
            let out = t.render_to_string(&Scope(vec![])).unwrap();
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(v["email"], "c0");
            assert_eq!(v["remember"], true);
            assert_eq!(v["attempts"], 3);
            let id = v["id"]
                .as_u64()
                .expect("a string that is one template keeps the rendered type: a number");
            assert!((1..=5).contains(&id));
        }
        other => panic!("{other:?}"),
    }

    let credits = request(&browse.flow[0]);
    assert_eq!(credits.name, "credits");
    assert_eq!(
        credits.url.source(),
        "{{ BASE_URL }}/credits?user={{ __VU }}"
    );
    assert_eq!(
        credits.url.render_to_string(&Scope(vec![])).unwrap(),
        "http://127.0.0.1:8080/credits?user=4"
    );
    assert_eq!(credits.timeout, secs(20));
    assert_eq!(
        credits.expected_statuses,
        StatusSet(vec![(200, 200), (300, 399)])
    );
    let query: Vec<(&str, &str)> = credits
        .query
        .iter()
        .map(|(k, v)| (k.as_static().unwrap(), v.as_static().unwrap()))
        .collect();
    assert_eq!(query, [("limit", "20"), ("offset", "0")]);
    assert_eq!(
        credits.headers[0]
            .1
            .render_to_string(&Scope(vec![None, Some("T".into())]))
            .unwrap(),
        "Bearer T"
    );
    assert_eq!(
        tags(credits.tag_set),
        set(&[
            ("method", "GET"),
            ("name", "credits"),
            ("scenario", "browse"),
            ("team", "api")
        ])
    );
    let check_names: Vec<&str> = credits.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(check_names, ["status is 200", "has credits"]);
    assert_eq!(
        tags(credits.checks[1].tag_set),
        set(&[
            ("check", "has credits"),
            ("scenario", "browse"),
            ("team", "api")
        ])
    );
    assert!(credits.needs_body, "a json check reads the body");
    assert_eq!(credits.record.len(), 2);
    assert!(
        matches!(credits.record[0].action, RecordAction::Add { amount, when: Some(_) } if amount == 1.0)
    );
    assert!(matches!(
        credits.record[1].action,
        RecordAction::Rate { .. }
    ));
    assert_eq!(
        tags(credits.record[0].tag_set),
        set(&[("name", "credits"), ("scenario", "browse"), ("team", "api")])
    );

    let Step::Group(shop) = &browse.flow[1] else {
        panic!()
    };
    assert_eq!(shop.name, "shop");
    assert_eq!(
        tags(shop.tag_set),
        set(&[("group", "::shop"), ("scenario", "browse"), ("team", "api")])
    );
    let product = request(&shop.steps[0]);
    assert_eq!(product.name, "{{ BASE_URL }}/products/{{ products.sku }}");
    assert!(!product.needs_body, "a header check does not need the body");
    assert_eq!(
        tags(product.tag_set),
        set(&[
            ("group", "::shop"),
            ("method", "GET"),
            ("name", "{{ BASE_URL }}/products/{{ products.sku }}"),
            ("scenario", "browse"),
            ("team", "api")
        ])
    );
    let Step::Group(cart) = &shop.steps[1] else {
        panic!()
    };
    let put = request(&cart.steps[0]);
    assert_eq!(tags(put.tag_set).get("group"), Some("::shop::cart"));
    assert_eq!(put.timeout, secs(5));
    match &put.body {
        RequestBody::Form(pairs) => {
            let rendered: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.render_to_string(&Scope(vec![])).unwrap(),
                        v.render_to_string(&Scope(vec![])).unwrap(),
                    )
                })
                .collect();
            assert_eq!(
                rendered,
                [
                    ("sku".to_string(), "c0".to_string()),
                    ("qty".to_string(), "c1".to_string())
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(browse.flow[2], Step::Sleep(SleepSpec::Between(a, b)) if a == secs(1) && b == secs(3))
    );

    // ramp: ramping-vus, batch with copies, choose
    assert_eq!(
        ramp.executor,
        ExecutorPlan::RampingVus {
            start_vus: 0,
            stages: vec![
                Stage {
                    duration: secs(10),
                    target: 20
                },
                Stage {
                    duration: secs(20),
                    target: 5
                }
            ],
            graceful_ramp_down: secs(5),
        }
    );
    assert_eq!((ramp.start_time, ramp.graceful_stop), (secs(5), secs(10)));
    let Step::Batch(batch) = &ramp.flow[0] else {
        panic!()
    };
    assert_eq!(batch.concurrency, 2);
    let batch_names: Vec<&str> = batch.requests.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        batch_names,
        [
            "{{ BASE_URL }}/a",
            "{{ BASE_URL }}/a",
            "{{ BASE_URL }}/a",
            "{{ BASE_URL }}/b"
        ]
    );
    let Step::Choose(choose) = &ramp.flow[1] else {
        panic!()
    };
    assert_eq!(choose.total_weight, 100.0);
    assert_eq!(choose.branches[0].name.as_deref(), Some("status"));
    assert!(
        matches!(choose.branches[0].steps[0], Step::Sleep(SleepSpec::Fixed(d)) if d == secs(1))
    );
    let raw = request(&choose.branches[1].steps[0]);
    match &raw.body {
        RequestBody::Raw(t) => assert_eq!(t.render_to_string(&Scope(vec![])).unwrap(), "raw 9"),
        other => panic!("{other:?}"),
    }

    // poll: per-vu-iterations, extractors, repeat
    assert_eq!(
        poll.executor,
        ExecutorPlan::PerVuIterations {
            vus: 2,
            iterations: 5,
            max_duration: secs(60)
        }
    );
    let create = request(&poll.flow[0]);
    let slots: Vec<u32> = create.extract.iter().map(|(s, _)| s.0).collect();
    assert_eq!(slots, [2, 3, 4, 5]);
    let Step::Repeat(repeat) = &poll.flow[1] else {
        panic!()
    };
    assert_eq!(
        (repeat.interval, repeat.max_attempts),
        (Duration::from_millis(500), 20)
    );
    assert_eq!(repeat.check_name, "until json status equals completed");
    assert_eq!(
        tags(repeat.check_tag_set),
        set(&[
            ("check", "until json status equals completed"),
            ("scenario", "poll")
        ])
    );
    let status = request(&repeat.steps[0]);
    assert!(status.needs_body, "the until condition reads the body");
    assert!(matches!(
        status.record[0].action,
        RecordAction::Value { .. }
    ));

    // once: shared-iterations
    assert_eq!(
        once.executor,
        ExecutorPlan::SharedIterations {
            vus: 2,
            iterations: 10,
            max_duration: secs(600)
        }
    );
    let health = request(&once.flow[0]);
    let once_checks: Vec<&str> = health.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(once_checks, ["duration < 500ms", "body matches ok|up"]);
}

#[test]
fn env_precedence_file_process_profile_override() {
    let base = |plan: &TestPlan| plan.env["BASE_URL"].clone();
    let mut options = LoadOptions::default();
    assert_eq!(base(&full(&options)), "http://127.0.0.1:8080");
    options.process_env = HashMap::from([("BASE_URL".to_string(), "http://10.0.0.1".to_string())]);
    assert_eq!(base(&full(&options)), "http://10.0.0.1");
    options.profile = Some("staging".into());
    let plan = full(&options);
    assert_eq!(base(&plan), "https://staging.example.com");
    let credits = request(&plan.scenarios[0].flow[0]);
    assert_eq!(
        credits.url.render_to_string(&Scope(vec![])).unwrap(),
        "https://staging.example.com/credits?user=4"
    );
    options.env_overrides = vec![("BASE_URL".into(), "http://127.0.0.1:9".into())];
    assert_eq!(base(&full(&options)), "http://127.0.0.1:9");
}

#[test]
fn process_env_fills_names_the_file_does_not_declare() {
    let text = "flow:\n  - request: { url: \"{{ TARGET }}/x\" }\n";
    let options = LoadOptions {
        process_env: HashMap::from([("TARGET".to_string(), "http://127.0.0.1:1".to_string())]),
        ..LoadOptions::default()
    };
    let plan = load_str(text, Path::new("t.yaml"), &options).unwrap();
    assert_eq!(
        request(&plan.scenarios[0].flow[0]).url.as_static(),
        Some("http://127.0.0.1:1/x")
    );
}

fn plan_of(text: &str, options: &LoadOptions) -> TestPlan {
    load_str(text, Path::new("inline.yaml"), options).unwrap_or_else(|e| panic!("{e}"))
}

const FLOW: &str = "flow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n";

#[test]
fn shorthand_forms() {
    let o = LoadOptions::default();
    let exec = |head: &str| {
        plan_of(&format!("{head}{FLOW}"), &o).scenarios[0]
            .executor
            .clone()
    };
    assert_eq!(
        exec("vus: 5\nduration: 1m\n"),
        ExecutorPlan::ConstantVus {
            vus: 5,
            duration: secs(60)
        }
    );
    assert_eq!(
        exec("duration: 10s\n"),
        ExecutorPlan::ConstantVus {
            vus: 1,
            duration: secs(10)
        }
    );
    assert_eq!(
        exec("vus: 2\niterations: 8\nduration: 30s\n"),
        ExecutorPlan::SharedIterations {
            vus: 2,
            iterations: 8,
            max_duration: secs(30)
        }
    );
    assert_eq!(
        exec("vus: 3\nstages: [ { duration: 5s, target: 9 } ]\n"),
        ExecutorPlan::RampingVus {
            start_vus: 3,
            stages: vec![Stage {
                duration: secs(5),
                target: 9
            }],
            graceful_ramp_down: secs(30)
        }
    );
    assert_eq!(
        exec(""),
        ExecutorPlan::PerVuIterations {
            vus: 1,
            iterations: 1,
            max_duration: secs(600)
        }
    );
    let plan = plan_of(
        &format!("vus: 1\nduration: 1s\nvu_setup:\n  - sleep: 1s\n{FLOW}"),
        &o,
    );
    assert_eq!(plan.scenarios[0].name, "default");
    assert_eq!(
        tags(plan.scenarios[0].tag_set),
        set(&[("scenario", "default")])
    );
    assert!(
        matches!(plan.scenarios[0].vu_setup[0], Step::Sleep(SleepSpec::Fixed(d)) if d == secs(1))
    );
}

const TWO: &str = "scenarios:
  a:
    executor: ramping-vus
    stages: [ { duration: 10s, target: 4 }, { duration: 5s, target: 8 } ]
    flow: [ { sleep: 1s } ]
  b:
    executor: shared-iterations
    vus: 3
    iterations: 30
    flow: [ { sleep: 1s } ]
";

#[test]
fn cli_overrides_follow_k6() {
    let run = |o: LoadOptions| {
        plan_of(TWO, &o)
            .scenarios
            .iter()
            .map(|s| s.executor.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        run(LoadOptions {
            iterations: Some(5),
            ..Default::default()
        }),
        [
            ExecutorPlan::SharedIterations {
                vus: 5,
                iterations: 5,
                max_duration: secs(600)
            },
            ExecutorPlan::SharedIterations {
                vus: 3,
                iterations: 5,
                max_duration: secs(600)
            },
        ]
    );
    assert_eq!(
        run(LoadOptions {
            duration: Some(secs(7)),
            ..Default::default()
        }),
        [
            ExecutorPlan::ConstantVus {
                vus: 8,
                duration: secs(7)
            },
            ExecutorPlan::ConstantVus {
                vus: 3,
                duration: secs(7)
            }
        ]
    );
    assert_eq!(
        run(LoadOptions {
            vus: Some(2),
            ..Default::default()
        }),
        [
            ExecutorPlan::ConstantVus {
                vus: 2,
                duration: secs(15)
            },
            ExecutorPlan::SharedIterations {
                vus: 2,
                iterations: 30,
                max_duration: secs(600)
            },
        ]
    );
    let only_b = LoadOptions {
        scenarios: vec!["b".into()],
        ..Default::default()
    };
    assert_eq!(plan_of(TWO, &only_b).scenarios.len(), 1);
}

#[test]
fn adhoc_mode_builds_one_scenario() {
    let request_def = AdhocRequest {
        url: "http://127.0.0.1:1/items".into(),
        method: Some("post".into()),
        headers: vec!["X-Key: abc".into()],
        body: Some("{}".into()),
    };
    let options = LoadOptions {
        vus: Some(4),
        duration: Some(secs(3)),
        ..Default::default()
    };
    let plan = adhoc_plan(&request_def, &options).unwrap();
    assert_eq!(
        plan.scenarios[0].executor,
        ExecutorPlan::ConstantVus {
            vus: 4,
            duration: secs(3)
        }
    );
    let r = request(&plan.scenarios[0].flow[0]);
    assert_eq!(
        (r.method.as_str(), r.name.as_str()),
        ("POST", "http://127.0.0.1:1/items")
    );
    assert_eq!(r.headers[0].0.as_str(), "x-key");
    let bad = AdhocRequest {
        url: "127.0.0.1/x".into(),
        headers: vec!["nocolon".into()],
        ..Default::default()
    };
    assert_eq!(
        adhoc_plan(&bad, &LoadOptions::default())
            .unwrap_err()
            .to_string(),
        "<command line>: --header: \"nocolon\" is not of the form 'Name: value'"
    );
    let bad = AdhocRequest {
        url: "127.0.0.1/x".into(),
        ..Default::default()
    };
    assert_eq!(
        adhoc_plan(&bad, &LoadOptions::default())
            .unwrap_err()
            .to_string(),
        "<command line>: --url: URL must start with http:// or https://, got \"127.0.0.1/x\" (hint: e.g. \"{{ BASE_URL }}/items\" with BASE_URL set under env:)"
    );
}
