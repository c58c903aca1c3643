//! The self-hosted stack's files, checked without Docker: the dashboards
//! (JSON, panel ids, layout, datasources, variables), Grafana's provisioning,
//! docker-compose.yml (parses, mounted paths exist, images pinned, ports on
//! 127.0.0.1) and the Prometheus config. `docker compose config` is not
//! available here; these checks cover what it would catch for this file.

#[path = "support/stack/dashboards.rs"]
mod dashboards;
#[path = "support/stack/grafana.rs"]
mod grafana;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use dashboards::{
    Dashboard, load_dashboards, provisioned_datasources, read_yaml, repo_root, variable_query,
};
use serde_json::Value;

const DASHBOARDS: [&str; 4] = [
    "stampede-compare.json",
    "stampede-overview-influxdb.json",
    "stampede-overview.json",
    "stampede-tests.json",
];

#[test]
fn the_four_dashboards_are_there_with_unique_uids() {
    let all = load_dashboards();
    let files: Vec<&str> = all.iter().map(|d| d.file.as_str()).collect();
    assert_eq!(files, DASHBOARDS);
    let uids: BTreeSet<&str> = all.iter().map(Dashboard::uid).collect();
    assert_eq!(
        uids,
        BTreeSet::from([
            "stampede-compare",
            "stampede-overview",
            "stampede-overview-influxdb",
            "stampede-tests"
        ])
    );
    for d in &all {
        assert!(
            d.json["schemaVersion"].as_u64().unwrap_or(0) >= 39,
            "{}: old schemaVersion",
            d.file
        );
        assert!(
            d.json.get("id").is_none(),
            "{}: provisioned dashboards carry no id",
            d.file
        );
    }
}

#[test]
fn panel_ids_are_unique_and_panels_do_not_overlap() {
    for d in load_dashboards() {
        let panels = d.panels();
        let mut ids = BTreeSet::new();
        let mut rects: Vec<(String, [i64; 4])> = Vec::new();
        for (p, _) in &panels {
            let id = p["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("{}: panel {} without id", d.file, p["title"]));
            assert!(ids.insert(id), "{}: panel id {id} used twice", d.file);
            let g = &p["gridPos"];
            let r = ["x", "y", "w", "h"].map(|k| {
                g[k].as_i64()
                    .unwrap_or_else(|| panic!("{}: {} gridPos.{k}", d.file, p["title"]))
            });
            assert!(
                r[0] >= 0 && r[2] > 0 && r[0] + r[2] <= 24 && r[1] >= 0 && r[3] > 0,
                "{}: {} gridPos {g}",
                d.file,
                p["title"]
            );
            let title = p["title"].as_str().unwrap_or("").to_string();
            for (other, o) in &rects {
                let apart = r[0] + r[2] <= o[0]
                    || o[0] + o[2] <= r[0]
                    || r[1] + r[3] <= o[1]
                    || o[1] + o[3] <= r[1];
                assert!(
                    apart,
                    "{}: {title:?} {r:?} overlaps {other:?} {o:?}",
                    d.file
                );
            }
            rects.push((title, r));
        }
    }
}

/// Every `"datasource": {...}` object anywhere in `v`.
fn datasource_refs<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                if k == "datasource" && inner.is_object() {
                    out.push(inner);
                }
                datasource_refs(inner, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| datasource_refs(i, out)),
        _ => {}
    }
}

#[test]
fn every_datasource_uid_matches_provisioning() {
    let provisioned = provisioned_datasources();
    assert_eq!(
        provisioned.keys().map(String::as_str).collect::<Vec<_>>(),
        ["stampede-influxdb", "stampede-prometheus"]
    );
    for d in load_dashboards() {
        // The picker's default must be a provisioned datasource of its type;
        // panels use the picker so the dashboards import into Grafana Cloud.
        let var: BTreeMap<&str, &Value> = d
            .variables()
            .iter()
            .filter(|v| v["type"] == "datasource")
            .map(|v| (v["name"].as_str().unwrap(), v))
            .collect();
        for (name, v) in &var {
            let uid = v["current"]["value"].as_str().unwrap_or("");
            let (kind, _) = provisioned.get(uid).unwrap_or_else(|| {
                panic!("{}: ${name} defaults to {uid:?}, not provisioned", d.file)
            });
            assert_eq!(
                kind,
                v["query"].as_str().unwrap_or(""),
                "{}: ${name}",
                d.file
            );
        }
        // Every panel and every target names its datasource (through the
        // picker), so none falls back to Grafana's default datasource.
        for (p, _) in d.panels().iter().filter(|(p, _)| p["type"] != "row") {
            assert!(
                p["datasource"].is_object(),
                "{}: panel {} names no datasource",
                d.file,
                p["title"]
            );
            for t in p["targets"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                assert!(
                    t["datasource"].is_object(),
                    "{}: panel {} target {} names no datasource",
                    d.file,
                    p["title"],
                    t["refId"]
                );
            }
        }
        let mut refs = Vec::new();
        datasource_refs(&d.json, &mut refs);
        for ds in refs {
            let uid = ds["uid"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: datasource without uid: {ds}", d.file));
            let kind = ds["type"].as_str().unwrap_or("");
            if uid == "-- Grafana --" && kind == "grafana" {
                continue;
            }
            let resolved = match uid
                .strip_prefix("${")
                .and_then(|s| s.strip_suffix('}'))
                .or(uid.strip_prefix('$'))
            {
                Some(name) => {
                    let v = var.get(name).unwrap_or_else(|| {
                        panic!("{}: {uid} is not a datasource variable", d.file)
                    });
                    v["current"]["value"].as_str().unwrap_or("")
                }
                None => uid,
            };
            let (provisioned_kind, _) = provisioned
                .get(resolved)
                .unwrap_or_else(|| panic!("{}: datasource uid {uid:?} is not provisioned", d.file));
            assert_eq!(
                provisioned_kind, kind,
                "{}: datasource {uid} has type {kind}",
                d.file
            );
        }
    }
}

#[test]
fn every_variable_used_is_defined_before_use() {
    for d in load_dashboards() {
        let mut defined: Vec<String> = Vec::new();
        for v in d.variables() {
            let name = v["name"].as_str().unwrap().to_string();
            for r in grafana::references(&variable_query(v)) {
                assert!(
                    grafana::is_builtin(&r) || defined.contains(&r),
                    "{}: variable {name} uses ${r} before it is defined",
                    d.file
                );
            }
            assert!(
                !defined.contains(&name),
                "{}: variable {name} defined twice",
                d.file
            );
            defined.push(name);
        }
        let mut texts: Vec<(String, String)> = Vec::new();
        for (p, _) in d.panels() {
            for key in ["title", "description"] {
                texts.push((
                    format!("panel {} {key}", p["title"]),
                    p[key].as_str().unwrap_or("").to_string(),
                ));
            }
        }
        for q in d.panel_queries().into_iter().chain(d.annotation_queries()) {
            assert!(
                !q.text.trim().is_empty(),
                "{}: {} has no query",
                d.file,
                q.place
            );
            texts.push((q.place, q.text));
        }
        for (place, text) in texts {
            for r in grafana::references(&text) {
                assert!(
                    grafana::is_builtin(&r) || defined.contains(&r),
                    "{}: {place} uses undefined ${r}",
                    d.file
                );
            }
        }
        // Every dashboard of one or two runs is filtered by the test picker
        // plus scenario and name; the test list shows every run.
        if d.uid() == "stampede-tests" {
            continue;
        }
        for needed in ["testid", "scenario", "name"] {
            assert!(
                defined.iter().any(|n| n == needed),
                "{}: no ${needed} variable",
                d.file
            );
        }
    }
}

#[test]
fn prometheus_dashboards_say_they_serve_remote_write_and_otlp() {
    for d in load_dashboards()
        .iter()
        .filter(|d| d.backend() == dashboards::Backend::Prometheus)
    {
        let desc = d.json["description"].as_str().unwrap_or("");
        assert!(
            desc.contains("remote-write") && desc.contains("OTLP"),
            "{}: {desc}",
            d.file
        );
    }
}

#[test]
fn the_overviews_have_every_panel_the_issue_lists() {
    let required = [
        "Request rate",
        "Active VUs",
        "Error rate",
        "Errors by status and error code",
        "p95 latency by endpoint",
        "Latency heatmap",
        "Per endpoint",
        "Checks pass rate",
        "Data sent and received",
        "Dropped iterations",
        "Request phases (average)",
        "Request phases (p95)",
        "Threshold results",
        "Streams (SSE and WebSocket)",
        "SSE time to first event",
        "WebSocket ping",
    ];
    for d in load_dashboards()
        .iter()
        .filter(|d| d.uid().starts_with("stampede-overview"))
    {
        let titles: BTreeSet<&str> = d
            .panels()
            .iter()
            .map(|(p, _)| p["title"].as_str().unwrap_or(""))
            .collect();
        for t in required {
            assert!(titles.contains(t), "{}: no panel {t:?}", d.file);
        }
        let annotations: Vec<String> = d
            .annotation_queries()
            .into_iter()
            .map(|q| q.place)
            .collect();
        assert_eq!(
            annotations,
            ["annotation \"Test start\"", "annotation \"Test end\""],
            "{}",
            d.file
        );
    }
}

fn compose() -> Value {
    read_yaml(&repo_root().join("docker-compose.yml"))
}

/// `./grafana/dashboards:/var/lib/...:ro` → (host path, container path).
fn bind_mounts(service: &Value) -> Vec<(PathBuf, String)> {
    let volumes = service["volumes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    volumes
        .iter()
        .filter_map(|v| v.as_str())
        .filter(|v| v.starts_with("./"))
        .map(|v| {
            let mut parts = v.split(':');
            let host = repo_root().join(parts.next().unwrap().trim_start_matches("./"));
            (host, parts.next().expect("container path").to_string())
        })
        .collect()
}

/// Maps a path inside `service`'s container to the host path that is mounted there.
fn host_path(service: &Value, inside: &str) -> Option<PathBuf> {
    bind_mounts(service)
        .into_iter()
        .find_map(|(host, container)| {
            let rest = inside.strip_prefix(&container)?.trim_start_matches('/');
            Some(if rest.is_empty() {
                host.clone()
            } else {
                host.join(rest)
            })
        })
}

#[test]
fn compose_parses_pins_images_binds_loopback_and_mounts_existing_paths() {
    let doc = compose();
    let services = doc["services"].as_object().expect("services");
    assert_eq!(
        services.keys().map(String::as_str).collect::<Vec<_>>(),
        ["prometheus", "influxdb", "grafana"]
    );
    let pinned = regex::Regex::new(r"^[a-z0-9./_-]+:v?\d+\.\d+\.\d+$").unwrap();
    let named: BTreeSet<&str> = doc["volumes"]
        .as_object()
        .expect("volumes")
        .keys()
        .map(String::as_str)
        .collect();
    for (name, s) in services {
        let image = s["image"].as_str().unwrap_or("");
        assert!(
            pinned.is_match(image) && !image.contains("latest"),
            "{name}: image {image:?} is not pinned to a version"
        );
        let ports = s["ports"].as_array().expect("ports");
        assert!(!ports.is_empty(), "{name}: no ports");
        for p in ports {
            assert!(
                p.as_str().unwrap_or("").starts_with("127.0.0.1:"),
                "{name}: port {p} not bound to 127.0.0.1"
            );
        }
        for (host, _) in bind_mounts(s) {
            assert!(
                host.exists(),
                "{name}: mounted path {} does not exist",
                host.display()
            );
        }
        for v in s["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .filter(|v| !v.starts_with("./"))
        {
            let volume = v.split(':').next().unwrap();
            assert!(
                named.contains(volume),
                "{name}: volume {volume} is not declared"
            );
        }
        assert!(
            s["healthcheck"]["test"].is_array(),
            "{name}: no health check"
        );
    }
    let prom = &services["prometheus"];
    let args: Vec<&str> = prom["command"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .collect();
    for flag in [
        "--web.enable-remote-write-receiver",
        "--web.enable-otlp-receiver",
        "--enable-feature=native-histograms",
    ] {
        assert!(args.contains(&flag), "prometheus: missing {flag}");
    }
    assert!(
        prom["image"]
            .as_str()
            .unwrap()
            .starts_with("prom/prometheus:v3."),
        "Prometheus 3"
    );
    assert!(
        services["influxdb"]["image"]
            .as_str()
            .unwrap()
            .starts_with("influxdb:2."),
        "InfluxDB 2"
    );
    assert_eq!(prom["extra_hosts"][0], "host.docker.internal:host-gateway");
}

#[test]
fn compose_variables_are_in_env_example_and_grafana_gets_what_provisioning_reads() {
    let text = std::fs::read_to_string(repo_root().join("docker-compose.yml")).unwrap();
    let example = std::fs::read_to_string(repo_root().join(".env.example")).unwrap();
    let keys: BTreeSet<&str> = example
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let var = regex::Regex::new(r"\$\{([A-Z0-9_]+)").unwrap();
    let used: BTreeSet<&str> = var
        .captures_iter(&text)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(used.len() >= 10, "{used:?}");
    for v in &used {
        assert!(keys.contains(v), ".env.example lacks {v}");
    }
    let doc = compose();
    let grafana_env = doc["services"]["grafana"]["environment"]
        .as_object()
        .unwrap();
    for path in dashboards::yaml_files(&repo_root().join("grafana/provisioning/datasources")) {
        let text = std::fs::read_to_string(&path).unwrap();
        for c in var.captures_iter(&text) {
            let name = c.get(1).unwrap().as_str();
            assert!(
                grafana_env.contains_key(name),
                "{} reads ${name}, not passed to grafana",
                path.display()
            );
        }
    }
    assert!(grafana_env.contains_key("GF_SECURITY_ADMIN_PASSWORD"));
    assert_eq!(grafana_env["GF_AUTH_ANONYMOUS_ENABLED"], "true");
    assert_eq!(grafana_env["GF_AUTH_ANONYMOUS_ORG_ROLE"], "Viewer");
}

#[test]
fn every_provisioned_path_exists() {
    let doc = compose();
    let grafana = &doc["services"]["grafana"];
    let provisioning =
        host_path(grafana, "/etc/grafana/provisioning").expect("provisioning mounted");
    for sub in ["datasources", "dashboards"] {
        assert!(
            !dashboards::yaml_files(&provisioning.join(sub)).is_empty(),
            "no {sub} provisioning files"
        );
    }
    for path in dashboards::yaml_files(&provisioning.join("dashboards")) {
        for provider in read_yaml(&path)["providers"].as_array().expect("providers") {
            let inside = provider["options"]["path"].as_str().expect("options.path");
            let host = host_path(grafana, inside)
                .unwrap_or_else(|| panic!("{inside} is not mounted into grafana"));
            let files: Vec<String> = std::fs::read_dir(&host)
                .unwrap_or_else(|e| panic!("{}: {e}", host.display()))
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|f| f.ends_with(".json"))
                .collect();
            assert_eq!(
                files.len(),
                DASHBOARDS.len(),
                "{}: {files:?}",
                host.display()
            );
        }
    }
    let home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        .as_str()
        .unwrap();
    assert!(
        host_path(grafana, home).is_some_and(|p| p.is_file()),
        "home dashboard {home} not mounted"
    );
    let prom = &doc["services"]["prometheus"];
    assert!(host_path(prom, "/etc/prometheus/prometheus.yml").is_some_and(|p| p.is_file()));
    let init = host_path(&doc["services"]["influxdb"], "/docker-entrypoint-initdb.d")
        .expect("init scripts mounted");
    let script = init.join("10-dbrp.sh");
    assert!(
        is_executable(&script),
        "{} is not executable",
        script.display()
    );
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.contains("influx v1 dbrp create"),
        "the init script makes the DBRP mapping"
    );
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[test]
fn prometheus_config_scrapes_the_host_metrics_endpoint() {
    let doc = read_yaml(&repo_root().join("prometheus/prometheus.yml"));
    let jobs = doc["scrape_configs"].as_array().expect("scrape_configs");
    let live = jobs
        .iter()
        .find(|j| j["job_name"] == "stampede-live")
        .expect("stampede-live job");
    assert_eq!(
        live["static_configs"][0]["targets"][0],
        "host.docker.internal:9464"
    );
    assert_eq!(live["honor_labels"], true);
    assert_eq!(
        doc["otlp"]["translation_strategy"],
        "UnderscoreEscapingWithSuffixes"
    );
    // Explicit-bucket OTLP histograms become native ones the dashboards read.
    assert_eq!(doc["otlp"]["convert_histograms_to_nhcb"], true);
}

#[test]
fn datasource_intervals_match_the_default_push_intervals() {
    let ds = provisioned_datasources();
    assert_eq!(
        dashboards::time_interval_secs(&ds["stampede-prometheus"].1),
        5
    );
    assert_eq!(
        dashboards::time_interval_secs(&ds["stampede-influxdb"].1),
        1
    );
}

#[test]
fn interpolation_follows_grafana() {
    use dashboards::Backend::{InfluxQl, Prometheus};
    use grafana::{Choice, TimeContext, interpolate};
    let t = TimeContext::new(1_000_000, 1_040_000, 5);
    assert_eq!((t.interval_s, t.rate_interval_s), (5, 20));
    let vars = BTreeMap::from([
        ("testid".to_string(), Choice::Single("run-1".into())),
        (
            "name".to_string(),
            Choice::Values(vec!["a.b".into(), "health (slow)".into()]),
        ),
        ("scenario".to_string(), Choice::All(".*".into())),
    ]);
    assert_eq!(
        interpolate(r#"rate(x{testid="$testid", name=~"$name", scenario=~"${scenario}"}[$__rate_interval]) [$__range]"#, Prometheus, &t, &vars).unwrap(),
        r#"rate(x{testid="run-1", name=~"(a\\.b|health \\(slow\\))", scenario=~".*"}[20s]) [40s]"#
    );
    assert_eq!(
        interpolate(r#""name" =~ /^$name$/ AND $timeFilter GROUP BY time($__interval) * 1000 / $__interval_ms"#, InfluxQl, &t, &vars).unwrap(),
        r#""name" =~ /^(a\.b|health \(slow\))$/ AND time >= 1000000ms and time <= 1040000ms GROUP BY time(5s) * 1000 / 5000"#
    );
    assert!(
        interpolate("x{a=\"$nope\"}", Prometheus, &t, &vars)
            .unwrap_err()
            .contains("nope")
    );
}
