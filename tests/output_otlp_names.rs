//! Golden mapping: for every built-in metric kind, the OTLP instruments the
//! otlp output sends, and the names Prometheus 3 makes of them with its
//! default OTLP translation, which must equal the remote-write names (one
//! dashboard for both ingest paths; docs/outputs/otlp.md).

use stampede::metrics::{MetricKind, MetricRegistry, ValueType};
use stampede::output::otlp::layout::{Shape, instruments};
use stampede::output::prometheus_rw::Naming;
use stampede::output::prometheus_rw::naming::MetricNames;

// Prometheus 3's default OTLP name translation, shared with the stack
// tests' OTLP bridge. Histograms keep the base name (native histograms) or
// get `_bucket`/`_sum`/`_count` (classic): see
// [`prometheus3_histogram_series`].
#[path = "support/stack/otlp_names.rs"]
mod otlp_names;
use otlp_names::prometheus3_name;

/// (OTLP name, unit, type, Prometheus 3 name) of each instrument.
type Mapping = Vec<(String, String, &'static str, String)>;

fn mapping(registry: &MetricRegistry, metric: &str) -> Mapping {
    let id = registry.lookup(metric).expect("metric exists");
    instruments(registry.get(id))
        .into_iter()
        .map(|i| {
            let prom = prometheus3_name(&i.name, i.unit, i.shape);
            (i.name, i.unit.to_string(), i.shape.as_str(), prom)
        })
        .collect()
}

#[test]
fn every_builtin_kind_maps_to_the_remote_write_name() {
    let mut registry = MetricRegistry::with_builtins();
    registry
        .register("cart_items", MetricKind::Counter, ValueType::Default)
        .unwrap();
    registry
        .register("queue_depth", MetricKind::Gauge, ValueType::Default)
        .unwrap();
    registry
        .register("cache_hit", MetricKind::Rate, ValueType::Default)
        .unwrap();
    registry
        .register("payload_score", MetricKind::Trend, ValueType::Default)
        .unwrap();
    let s = |v: &str| v.to_string();
    // (stampede metric, [(OTLP name, unit, type, Prometheus 3 name)]); the
    // last column is the remote-write table of OUTPUTS.md.
    let golden: Vec<(&str, Mapping)> = vec![
        (
            "http_reqs",
            vec![(
                s("stampede_http_reqs"),
                s(""),
                "sum",
                s("stampede_http_reqs_total"),
            )],
        ),
        (
            "iterations",
            vec![(
                s("stampede_iterations"),
                s(""),
                "sum",
                s("stampede_iterations_total"),
            )],
        ),
        (
            "dropped_iterations",
            vec![(
                s("stampede_dropped_iterations"),
                s(""),
                "sum",
                s("stampede_dropped_iterations_total"),
            )],
        ),
        (
            "cart_items",
            vec![(
                s("stampede_cart_items"),
                s(""),
                "sum",
                s("stampede_cart_items_total"),
            )],
        ),
        (
            "data_sent",
            vec![(
                s("stampede_data_sent"),
                s("By"),
                "sum",
                s("stampede_data_sent_bytes_total"),
            )],
        ),
        (
            "data_received",
            vec![(
                s("stampede_data_received"),
                s("By"),
                "sum",
                s("stampede_data_received_bytes_total"),
            )],
        ),
        (
            "vus",
            vec![(s("stampede_vus"), s(""), "gauge", s("stampede_vus"))],
        ),
        (
            "vus_max",
            vec![(s("stampede_vus_max"), s(""), "gauge", s("stampede_vus_max"))],
        ),
        (
            "generator_cpu",
            vec![(
                s("stampede_generator_cpu"),
                s(""),
                "gauge",
                s("stampede_generator_cpu"),
            )],
        ),
        (
            "generator_memory",
            vec![(
                s("stampede_generator_memory"),
                s("By"),
                "gauge",
                s("stampede_generator_memory_bytes"),
            )],
        ),
        (
            "queue_depth",
            vec![(
                s("stampede_queue_depth"),
                s(""),
                "gauge",
                s("stampede_queue_depth"),
            )],
        ),
        (
            "http_req_failed",
            vec![
                (
                    s("stampede_http_req_failed"),
                    s(""),
                    "sum",
                    s("stampede_http_req_failed_total"),
                ),
                (
                    s("stampede_http_req_failed_samples"),
                    s(""),
                    "sum",
                    s("stampede_http_req_failed_samples_total"),
                ),
                (
                    s("stampede_http_req_failed"),
                    s("1"),
                    "gauge",
                    s("stampede_http_req_failed_ratio"),
                ),
            ],
        ),
        (
            "checks",
            vec![
                (
                    s("stampede_checks"),
                    s(""),
                    "sum",
                    s("stampede_checks_total"),
                ),
                (
                    s("stampede_checks_samples"),
                    s(""),
                    "sum",
                    s("stampede_checks_samples_total"),
                ),
                (
                    s("stampede_checks"),
                    s("1"),
                    "gauge",
                    s("stampede_checks_ratio"),
                ),
            ],
        ),
        (
            "cache_hit",
            vec![
                (
                    s("stampede_cache_hit"),
                    s(""),
                    "sum",
                    s("stampede_cache_hit_total"),
                ),
                (
                    s("stampede_cache_hit_samples"),
                    s(""),
                    "sum",
                    s("stampede_cache_hit_samples_total"),
                ),
                (
                    s("stampede_cache_hit"),
                    s("1"),
                    "gauge",
                    s("stampede_cache_hit_ratio"),
                ),
            ],
        ),
        (
            "http_req_duration",
            vec![(
                s("stampede_http_req_duration"),
                s("s"),
                "histogram",
                s("stampede_http_req_duration_seconds"),
            )],
        ),
        (
            "http_req_waiting",
            vec![(
                s("stampede_http_req_waiting"),
                s("s"),
                "histogram",
                s("stampede_http_req_waiting_seconds"),
            )],
        ),
        (
            "iteration_duration",
            vec![(
                s("stampede_iteration_duration"),
                s("s"),
                "histogram",
                s("stampede_iteration_duration_seconds"),
            )],
        ),
        (
            "payload_score",
            vec![(
                s("stampede_payload_score"),
                s(""),
                "histogram",
                s("stampede_payload_score"),
            )],
        ),
    ];
    for (metric, expected) in &golden {
        assert_eq!(&mapping(&registry, metric), expected, "{metric}");
    }
    // Every built-in metric has a mapping of its kind's shape, and every
    // Prometheus name starts with stampede_<metric>.
    for (_, def) in registry.iter() {
        for (_, _, _, prom) in mapping(&registry, &def.name) {
            assert!(
                prom.starts_with(&format!("stampede_{}", def.name)),
                "{prom}"
            );
        }
    }
}

/// How Prometheus 3 stores an OTLP histogram, by data type and setting.
#[derive(Clone, Copy, Debug)]
enum OtlpHistogram {
    /// `ExponentialHistogram`: a native histogram (with
    /// `--enable-feature=native-histograms` before 3.8).
    Exponential,
    /// Explicit-bucket `Histogram`, default settings: a classic histogram.
    Explicit,
    /// Explicit-bucket `Histogram` with `otlp.convert_histograms_to_nhcb`:
    /// a native histogram with custom buckets.
    ExplicitAsNhcb,
}

/// The series names Prometheus 3 stores for a histogram instrument.
fn prometheus3_histogram_series(name: &str, unit: &str, kind: OtlpHistogram) -> Vec<String> {
    let base = prometheus3_name(name, unit, Shape::Histogram);
    match kind {
        OtlpHistogram::Exponential | OtlpHistogram::ExplicitAsNhcb => vec![base],
        OtlpHistogram::Explicit => ["_bucket", "_sum", "_count"]
            .iter()
            .map(|suffix| format!("{base}{suffix}"))
            .collect(),
    }
}

#[test]
fn histograms_arrive_as_native_histograms_under_the_remote_write_name() {
    let mut registry = MetricRegistry::with_builtins();
    registry
        .register("payload_size", MetricKind::Trend, ValueType::Data)
        .unwrap();
    registry
        .register("payload_score", MetricKind::Trend, ValueType::Default)
        .unwrap();
    let mut checked = 0;
    for (_, def) in registry.iter() {
        for i in instruments(def) {
            if i.shape != Shape::Histogram {
                continue;
            }
            // The remote-write output's native histogram of this metric.
            let remote_write = MetricNames::new(Naming::Stampede, def).histogram();
            // The default (exponential) and explicit with NHCB: one native
            // histogram series with exactly that name, no `_bucket`.
            for kind in [OtlpHistogram::Exponential, OtlpHistogram::ExplicitAsNhcb] {
                assert_eq!(
                    prometheus3_histogram_series(&i.name, i.unit, kind),
                    std::slice::from_ref(&remote_write),
                    "{} {kind:?}",
                    def.name
                );
            }
            // Explicit without the setting: classic series the dashboards
            // do not read.
            assert_eq!(
                prometheus3_histogram_series(&i.name, i.unit, OtlpHistogram::Explicit),
                [
                    format!("{remote_write}_bucket"),
                    format!("{remote_write}_sum"),
                    format!("{remote_write}_count"),
                ]
            );
            checked += 1;
        }
    }
    // Every trend: the built-in ones plus the two registered here.
    let trends = registry
        .iter()
        .filter(|(_, d)| d.kind == MetricKind::Trend)
        .count();
    assert_eq!(checked, trends);
    assert_eq!(
        MetricNames::new(
            Naming::Stampede,
            registry.get(registry.lookup("payload_size").unwrap())
        )
        .histogram(),
        "stampede_payload_size_bytes"
    );
}

/// Gauges of every value type (`generator_memory` is the built-in one in
/// bytes): the OTLP path and remote-write's own names agree.
#[test]
fn every_gauge_translates_to_its_remote_write_name() {
    let mut registry = MetricRegistry::with_builtins();
    for (name, contains) in [
        ("heap_size", ValueType::Data),
        ("wait_hint", ValueType::Time),
        ("queue_depth", ValueType::Default),
    ] {
        registry
            .register(name, MetricKind::Gauge, contains)
            .unwrap();
    }
    let gauges: Vec<_> = registry
        .iter()
        .filter(|(_, def)| def.kind == MetricKind::Gauge)
        .collect();
    assert_eq!(
        gauges.len(),
        7,
        "vus, vus_max, generator_cpu, generator_memory and 3 custom"
    );
    for (_, def) in gauges {
        let remote_write = MetricNames::new(Naming::Stampede, def).gauge();
        let otlp: Vec<String> = mapping(&registry, &def.name)
            .into_iter()
            .map(|m| m.3)
            .collect();
        assert_eq!(otlp, [remote_write], "{}", def.name);
    }
}

#[test]
fn the_translation_function_follows_prometheus_rules() {
    assert_eq!(
        prometheus3_name("http.server.duration", "s", Shape::Histogram),
        "http_server_duration_seconds"
    );
    assert_eq!(
        prometheus3_name("a_seconds", "s", Shape::Histogram),
        "a_seconds"
    );
    assert_eq!(
        prometheus3_name("reqs", "{request}", Shape::MonotonicSum),
        "reqs_total"
    );
    assert_eq!(prometheus3_name("up", "1", Shape::Gauge), "up_ratio");
    assert_eq!(
        prometheus3_name("io", "By", Shape::MonotonicSum),
        "io_bytes_total"
    );
}
