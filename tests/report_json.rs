//! Summary JSON: validated against the committed schema, exact values, and
//! HDR histograms that decode back to the recorded distribution.

mod report_support;

use serde_json::{Value, json};
use std::time::Duration;

use stampede::metrics::{
    GeneratorHealth, RunEnd, SeriesValue, Summary, ThresholdVerdict, TrendValue,
};
use stampede::report::{parse_hdr, percentile, summary_json, write_summary_json};

use report_support::{CREDITS, LOGIN};

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/summary.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn schema_errors(instance: &Value) -> Vec<String> {
    let schema = schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn trend_of<'a>(summary: &'a Summary, name: &str) -> &'a TrendValue {
    match &summary.metric(name).unwrap().total {
        SeriesValue::Trend(t) => t,
        other => panic!("{name} is not a trend: {other:?}"),
    }
}

#[test]
fn output_of_every_fixture_matches_the_schema() {
    assert!(
        jsonschema::meta::is_valid(&schema()),
        "schema is valid draft 2020-12"
    );
    let mut aborted = report_support::full_run();
    aborted.end = RunEnd::AbortedByThreshold("http_req_failed: rate<0.01".into());
    let mut skipping = report_support::full_run();
    let skipped = &mut skipping.thresholds[2];
    skipped.threshold.unselected_scenario = Some("stress".into());
    skipped.verdict = ThresholdVerdict::Skipped;
    skipped.observed = None;
    for summary in [
        report_support::full_run(),
        report_support::minimal_run(),
        aborted,
        skipping,
    ] {
        let doc = summary_json(&summary);
        assert_eq!(schema_errors(&doc), Vec::<String>::new());
    }
}

#[test]
fn schema_rejects_what_the_shape_does_not_allow() {
    let doc = summary_json(&report_support::full_run());
    let mut missing_count = doc.clone();
    missing_count["metrics"]["http_reqs"]
        .as_object_mut()
        .unwrap()
        .remove("count");
    let mut unknown_field = doc.clone();
    unknown_field["metrics"]["vus"]["mean"] = json!(1);
    let mut wrong_end = doc.clone();
    wrong_end["state"]["end"] = json!("finished");
    let mut aborted_without_reason = doc.clone();
    aborted_without_reason["state"]["end"] = json!("aborted_by_threshold");
    let mut unknown_state = doc.clone();
    unknown_state["thresholds"][0]["state"] = json!("pending");
    let mut series_without_hdr = doc.clone();
    series_without_hdr["series"]["http_req_duration"][0]
        .as_object_mut()
        .unwrap()
        .remove("hdr");
    for bad in [
        missing_count,
        unknown_field,
        wrong_end,
        aborted_without_reason,
        unknown_state,
        series_without_hdr,
    ] {
        assert!(!schema_errors(&bad).is_empty());
    }
}

#[test]
fn metrics_hold_exact_totals() {
    let summary = report_support::full_run();
    let doc = summary_json(&summary);
    let metrics = &doc["metrics"];
    assert_eq!(
        metrics["http_reqs"],
        json!({ "type": "counter", "contains": "default", "count": 1200, "rate": 40 })
    );
    assert_eq!(
        metrics["http_req_failed"],
        json!({ "type": "rate", "contains": "default", "rate": 0.005, "value": 0.005,
                "passes": 6, "fails": 1194,
                "thresholds": { "rate<0.01": { "ok": true } } })
    );
    assert_eq!(
        metrics["vus"],
        json!({ "type": "gauge", "contains": "default", "value": 10, "min": 0, "max": 10 })
    );
    assert_eq!(
        metrics["data_received"]["count"],
        json!(994 * 412 + 6 * 412 + 200 * 1024)
    );

    let duration = &metrics["http_req_duration"];
    let trend = trend_of(&summary, "http_req_duration");
    assert_eq!(duration["type"], "trend");
    assert_eq!(duration["contains"], "time");
    assert_eq!(duration["count"], 1200);
    assert_eq!(duration["min"], 1);
    assert_eq!(duration["max"], 205);
    assert_eq!(duration["avg"], json!(trend.sum / 1200.0));
    for (key, q) in [
        ("med", 0.5),
        ("p(90)", 0.9),
        ("p(95)", 0.95),
        ("p(99)", 0.99),
    ] {
        let expected = trend.histogram.value_at_quantile(q) as f64 / 1000.0;
        assert_eq!(duration[key].as_f64(), Some(expected), "{key}");
    }
    assert_eq!(
        duration["thresholds"],
        json!({ "p(95)<500": { "ok": true }, "p(99)<20": { "ok": false } })
    );

    let credits_key = format!("http_req_duration{{name:{CREDITS}}}");
    let credits = &metrics[credits_key.as_str()];
    assert_eq!(credits["count"], 1000);
    assert_eq!(credits["max"], 205);
    assert_eq!(
        credits["thresholds"],
        json!({ "p(95)<300": { "ok": true } })
    );
    let expected_only = &metrics["http_req_duration{expected_response:true}"];
    assert_eq!(expected_only["count"], 1194);
    assert_eq!(expected_only["max"], 44.5);
}

#[test]
fn checks_nest_by_group() {
    let doc = summary_json(&report_support::full_run());
    assert_eq!(
        doc["root_group"],
        json!({
            "name": "",
            "path": "",
            "checks": {
                "status is 200": { "name": "status is 200", "path": "::status is 200", "passes": 1194, "fails": 6 }
            },
            "groups": {
                "login": {
                    "name": "login",
                    "path": "::login",
                    "checks": {
                        "has token": { "name": "has token", "path": "::login::has token", "passes": 195, "fails": 5 },
                        "status is 200": { "name": "status is 200", "path": "::login::status is 200", "passes": 200, "fails": 0 }
                    },
                    "groups": {
                        "refresh": {
                            "name": "refresh",
                            "path": "::login::refresh",
                            "checks": {
                                "refreshed": { "name": "refreshed", "path": "::login::refresh::refreshed", "passes": 50, "fails": 0 }
                            },
                            "groups": {}
                        }
                    }
                }
            }
        })
    );
}

#[test]
fn state_and_threshold_list() {
    let mut summary = report_support::full_run();
    let doc = summary_json(&summary);
    assert_eq!(
        doc["state"],
        json!({ "startedAtUnixMs": 1_700_000_000_123u64, "testRunDurationMs": 30000, "end": "completed" })
    );
    let thresholds = doc["thresholds"].as_array().unwrap();
    assert_eq!(thresholds.len(), 5);
    assert_eq!(
        thresholds[3],
        json!({ "metric": "http_req_failed", "expression": "rate<0.01", "observed": 0.005,
                "ok": true, "state": "passed", "abort_on_fail": true })
    );
    let p99 = percentile(trend_of(&summary, "http_req_duration"), 99.0);
    assert_eq!(thresholds[1]["observed"].as_f64(), Some(p99));
    assert_eq!(thresholds[1]["ok"], false);

    summary.end = RunEnd::AbortedByThreshold("http_req_failed: rate<0.01".into());
    summary.thresholds[0].observed = None;
    let doc = summary_json(&summary);
    assert_eq!(doc["state"]["end"], "aborted_by_threshold");
    assert_eq!(doc["state"]["abortedBy"], "http_req_failed: rate<0.01");
    assert_eq!(doc["thresholds"][0]["observed"], Value::Null);
    summary.end = RunEnd::Interrupted;
    assert_eq!(summary_json(&summary)["state"]["end"], "interrupted");
}

#[test]
fn series_carry_tags_and_values() {
    let doc = summary_json(&report_support::full_run());
    let reqs = doc["series"]["http_reqs"].as_array().unwrap();
    assert_eq!(reqs.len(), 3);
    let login = reqs.iter().find(|s| s["tags"]["name"] == LOGIN).unwrap();
    assert_eq!(
        *login,
        json!({ "tags": { "expected_response": "true", "method": "POST", "name": LOGIN,
                          "scenario": "default", "status": "200" },
                "count": 200 })
    );
    let failed = doc["series"]["http_req_failed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["tags"]["status"] == "503")
        .unwrap();
    assert_eq!(failed["tags"]["error_code"], "1503");
    assert_eq!(
        (&failed["passes"], &failed["fails"], &failed["rate"]),
        (&json!(6), &json!(0), &json!(1))
    );
    let vus = &doc["series"]["vus"][0];
    assert_eq!(
        *vus,
        json!({ "tags": {}, "value": 10, "min": 0, "max": 10 })
    );
}

#[test]
fn hdr_decodes_to_the_recorded_histogram() {
    let summary = report_support::full_run();
    let doc = summary_json(&summary);
    for metric in summary.metrics.iter() {
        let encoded = doc["series"][metric.name.as_str()].as_array().unwrap();
        assert_eq!(encoded.len(), metric.series.len());
        for ((tags, value), json) in metric.series.iter().zip(encoded) {
            assert_eq!(json["tags"], serde_json::to_value(tags).unwrap());
            let SeriesValue::Trend(trend) = value else {
                assert!(json.get("hdr").is_none());
                continue;
            };
            let decoded = parse_hdr(json["hdr"].as_str().unwrap()).unwrap();
            assert_eq!(decoded, *trend.histogram);
            assert_eq!(decoded.len(), trend.count);
            for q in [0.5, 0.9, 0.95, 0.99, 1.0] {
                assert_eq!(
                    decoded.value_at_quantile(q),
                    trend.histogram.value_at_quantile(q)
                );
            }
            assert_eq!(json["count"], trend.count);
            assert_eq!(json["sum"].as_f64(), Some(trend.sum));
        }
    }
}

#[test]
fn written_file_holds_the_same_document() {
    let summary = report_support::full_run();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("summary.json");
    write_summary_json(&summary, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("}\n"));
    // Compared as text: serde_json without `float_roundtrip` may read the
    // last bit of a float differently from what it wrote.
    let expected = serde_json::to_string_pretty(&summary_json(&summary)).unwrap();
    assert_eq!(text, expected + "\n");
    let missing_dir = dir.path().join("no/such/dir/summary.json");
    assert!(write_summary_json(&summary, &missing_dir).is_err());
}

#[test]
fn generator_figures_are_exact_and_follow_the_schema() {
    let mut summary = report_support::full_run();
    assert_eq!(summary_json(&summary).get("generator"), None);
    summary.generator = Some(GeneratorHealth {
        cores: 2,
        cpu_peak: 0.9375,
        cpu_mean: 0.5,
        memory_peak_bytes: 52_428_800,
        saturated: Duration::from_millis(4_250),
        saturation_episodes: 1,
    });
    let doc = summary_json(&summary);
    assert_eq!(
        doc["generator"],
        json!({
            "cores": 2,
            "cpu_peak": 0.9375,
            "cpu_mean": 0.5,
            "memory_peak_bytes": 52_428_800,
            "saturated_seconds": 4.25,
            "saturation_episodes": 1,
        })
    );
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    let mut above_one = doc.clone();
    above_one["generator"]["cpu_peak"] = json!(1.5);
    let mut missing = doc.clone();
    missing["generator"]
        .as_object_mut()
        .unwrap()
        .remove("memory_peak_bytes");
    let mut unknown = doc.clone();
    unknown["generator"]["threads"] = json!(8);
    for bad in [above_one, missing, unknown] {
        assert_eq!(schema_errors(&bad).len(), 1, "{}", bad["generator"]);
    }
}
