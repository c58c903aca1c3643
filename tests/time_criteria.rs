//! Thresholds over time windows, through the binary against the demo target
//! with scripted slowdowns and failures (tests/fixtures/time_criteria/):
//! windowed statistics, change between windows, recovery after a stage and
//! the breaking point of a ramp come out where the scenario put them, in the
//! summary export, the console and the HTML report.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::browser::rendered_dom;
use serde_json::Value;

fn run(fixture: &str, dir: &Path) -> (Output, Value) {
    let export = dir.join("summary.json");
    let report = dir.join("report.html");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/time_criteria")
        .join(fixture);
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .args(["run", "--demo", "--quiet"])
        .arg(&file)
        .arg("--summary-export")
        .arg(&export)
        .arg("--report")
        .arg(&report)
        .env_remove("BASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("binary runs");
    let doc = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    (out, doc)
}

/// The threshold entry whose expression is `expression`.
fn threshold<'d>(doc: &'d Value, expression: &str) -> &'d Value {
    doc["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["expression"] == expression)
        .unwrap_or_else(|| panic!("no threshold {expression:?} in {:#}", doc["thresholds"]))
}

fn state(t: &Value) -> &str {
    t["state"].as_str().unwrap()
}

fn observed(t: &Value) -> f64 {
    t["observed"]
        .as_f64()
        .unwrap_or_else(|| panic!("no observed value: {t:#}"))
}

#[test]
fn windows_change_and_recovery_come_out_where_the_script_put_them() {
    let dir = tempfile::tempdir().unwrap();
    let (out, doc) = run("windows.yaml", dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(99), "{stdout}");

    // Slow requests (300 ms) in 8–16 s and 20–24 s: some 4 s windows fail,
    // the worst one at 300 ms, inside one of the slow spans.
    let every = threshold(&doc, "p(95)<100 over 4s");
    assert_eq!(state(every), "failed");
    assert!((295.0..=320.0).contains(&observed(every)), "{every:#}");
    let detail = &every["detail"];
    let judged = detail["windows_judged"].as_u64().unwrap();
    // 24 one-second buckets: windows starting at 0 s to 20 s.
    assert_eq!(judged, 21, "{every:#}");
    let passed = detail["windows_passed"].as_u64().unwrap();
    // Windows 0–4 s … 4–8 s hold no slow request; 16–20 s holds none
    // either; others with one slow second among fast ones may pass too.
    assert!((6..=12).contains(&passed), "{every:#}");
    let worst_start = detail["window_start_ms"].as_u64().unwrap();
    assert!(
        (5_000..=20_100).contains(&worst_start),
        "worst window overlaps a slow span: {every:#}"
    );

    let stage1 = threshold(&doc, "p(95)<100 during main stage 1");
    assert_eq!(state(stage1), "passed");
    assert!(observed(stage1) < 50.0, "{stage1:#}");
    assert_eq!(stage1["detail"]["window_start_ms"], 0);
    let stage1_windows = threshold(&doc, "p(95)<100 over 4s during main stage 1");
    assert_eq!(state(stage1_windows), "passed");
    // Stage 1 is 0–8 s: five 4 s windows, all fast.
    assert_eq!(stage1_windows["detail"]["windows_judged"], 5);
    assert_eq!(stage1_windows["detail"]["windows_passed"], 5);

    // The burst is steady: its first and last 4 s differ by noise only.
    let steady = threshold(&doc, "change(p(95))<10% over 4s during burst");
    assert_eq!(state(steady), "passed");
    assert!(observed(steady).abs() < 5.0, "{steady:#}");
    // `main` spans 0–24 s: fast first window, slow last one (the tail).
    let degraded = threshold(&doc, "change(p(95))<10% over 4s during main");
    assert_eq!(state(degraded), "failed");
    assert!(observed(degraded) > 1000.0, "{degraded:#}");
    assert_eq!(degraded["detail"]["window_start_ms"], 0);

    // Failures run from 16 s (stage 2's end) to 18.5 s: the 1 s buckets
    // from 19 s on are clean, so recovery is 3 s exactly.
    let recovery = threshold(&doc, "recovery(rate<0.05)<=5s after main stage 2");
    assert_eq!(state(recovery), "passed");
    assert_eq!(observed(recovery), 3.0, "{recovery:#}");
    let too_slow = threshold(&doc, "recovery(rate<0.05)<=2s after main stage 2");
    assert_eq!(state(too_slow), "failed");
    assert_eq!(observed(too_slow), 3.0);

    // Tumbling 4 s windows: 6, of which only 16–20 s has failures.
    let share = threshold(&doc, "rate<0.05 every 4s in 80%");
    assert_eq!(state(share), "passed");
    assert_eq!(share["detail"]["windows_judged"], 6);
    assert_eq!(share["detail"]["windows_passed"], 5);
    assert_eq!(
        share["detail"]["window_start_ms"].as_u64().unwrap() / 1000,
        16
    );

    // The console shows each criterion's account.
    assert!(
        stdout.contains("✓ 'recovery(rate<0.05)<=5s after main stage 2' recovered in 3 s: main stage 2 ended at 16 s"),
        "{stdout}"
    );
    assert!(
        stdout.contains("5 of 6 windows passed, 80 % needed"),
        "{stdout}"
    );
    // The report, as Chromium renders it, lists the same text in the
    // thresholds table.
    let dom = rendered_dom(&dir.path().join("report.html"));
    let table = &dom[dom.find("<table id=\"thresholds\">").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(
        table.contains("recovered in 3 s: main stage 2 ended at 16 s"),
        "{table}"
    );
    assert!(
        table.contains("5 of 6 windows passed, 80 % needed"),
        "{table}"
    );
}

#[test]
fn a_ramp_breaks_where_the_scenario_makes_it_break() {
    let dir = tempfile::tempdir().unwrap();
    let (out, doc) = run("breaking.yaml", dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(99), "{stdout}");

    // VUs 7 and 8 fail every request: the error rate crosses 5 % in the
    // second the 7th VU starts (the ramp plans 6 to 7 VUs from 6 s to 7 s).
    let at_least_5 = threshold(&doc, "breaking_point(rate<0.05)>=5");
    assert_eq!(state(at_least_5), "passed");
    let load = observed(at_least_5);
    assert!((6.0..=7.5).contains(&load), "{at_least_5:#}");
    assert_eq!(at_least_5["detail"]["load_unit"], "VUs");
    let at_least_9 = threshold(&doc, "breaking_point(rate<0.05)>=9");
    assert_eq!(state(at_least_9), "failed");
    assert_eq!(observed(at_least_9), load);
    // Two failing VUs of ten never make half the requests fail.
    let never = threshold(&doc, "breaking_point(rate<0.5)>=5");
    assert_eq!(state(never), "passed");
    assert_eq!(never["observed"], Value::Null);
    assert_eq!(never["detail"]["text"], "not reached up to 10 VUs");

    // Without a threshold of their own: the default breaking points, the
    // error rate at 5 % and the latency at the file's p(95)<250.
    let points = doc["breaking_points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{points:#?}");
    assert_eq!(points[0]["metric"], "http_req_failed{scenario:ramp}");
    assert_eq!(points[0]["condition"], "rate<0.05");
    assert_eq!(points[0]["load"].as_f64().unwrap(), load);
    assert_eq!(points[0]["max_load"], 10.0);
    assert_eq!(points[1]["metric"], "http_req_duration{scenario:ramp}");
    assert_eq!(points[1]["condition"], "p(95)<250");
    // VUs 9 and 10 answer in 300 ms: the latency breaks once they run.
    let latency_load = points[1]["load"].as_f64().unwrap();
    assert!((8.0..=10.0).contains(&latency_load), "{points:#?}");
    assert!(points[1]["observed"].as_f64().unwrap() >= 250.0);
    // The whole-run p(95) hides it: the slow VUs made few requests.
    assert_eq!(state(threshold(&doc, "p(95)<250")), "passed");

    assert!(stdout.contains("█ BREAKING POINTS"), "{stdout}");
    assert!(
        stdout.contains("ramp: http_req_failed rate<0.05 crossed at"),
        "{stdout}"
    );
    // The report's table: one row per breaking point, the error rate's
    // with its load, as the export has it.
    let dom = rendered_dom(&dir.path().join("report.html"));
    let table = &dom[dom.find("<table id=\"breaking-points\">").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 3, "{table}");
    let shown = format!(
        "<td class=\"num\">{} VUs</td>",
        stampede::report::format_number(load)
    );
    assert!(table.contains(&shown), "{shown} in {table}");
    // Every chart drew both breaking points as lines.
    assert_eq!(dom.matches("data-breaks=\"2\"").count(), 4, "{dom}");
}

#[test]
fn time_clauses_that_name_nothing_are_refused_with_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        r#"thresholds:
  http_req_duration:
    - p(95)<100 during main stage 4
    - p(95)<100 during mian
    - change(p(95))<10%
    - { threshold: "p(95)<100 over 10s", abort_on_fail: true }
  http_req_failed:
    - breaking_point(rate<0.05)>=5
    - rate<0.05 over 10s in 90
scenarios:
  main:
    executor: ramping-vus
    stages: [ { duration: 5s, target: 2 } ]
    flow: [ { request: { url: "http://127.0.0.1:1/" } } ]
  other:
    vus: 1
    duration: 1s
    flow: [ { request: { url: "http://127.0.0.1:1/" } } ]
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stampede"))
        .arg("validate")
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(104));
    let path = file.display();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected = [
        format!(
            "error: {path}:3:7: thresholds.http_req_duration[0]: \"p(95)<100 during main stage 4\": scenario \"main\" has 1 stage(s), not 4"
        ),
        format!(
            "error: {path}:4:7: thresholds.http_req_duration[1]: \"p(95)<100 during mian\": unknown scenario \"mian\" (hint: did you mean main?)"
        ),
        format!(
            "error: {path}:5:7: thresholds.http_req_duration[2]: invalid threshold \"change(p(95))<10%\": change(...) needs the width of the windows it compares, e.g. over 30s; expected e.g. \"p(95)<500\" or \"rate<0.01\""
        ),
        format!(
            "error: {path}:6:7: thresholds.http_req_duration[3]: \"p(95)<100 over 10s\": abort_on_fail cannot be used with a time clause (hint: time criteria are judged on the timeline when the test ends)"
        ),
        format!(
            "error: {path}:8:7: thresholds.http_req_failed[0]: \"breaking_point(rate<0.05)>=5\": the file has several scenarios; say which (hint: e.g. during main stage 1)"
        ),
        format!(
            "error: {path}:9:7: thresholds.http_req_failed[1]: invalid threshold \"rate<0.05 over 10s in 90\": \"in\" takes a share of windows, e.g. in 90%; expected e.g. \"p(95)<500\" or \"rate<0.01\""
        ),
    ];
    for line in &expected {
        assert!(
            stderr.contains(line.as_str()),
            "missing:\n{line}\nin:\n{stderr}"
        );
    }
    assert!(stderr.contains("6 problems"), "{stderr}");
}
