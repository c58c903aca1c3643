//! The OTLP output's settings: its endpoint and protocol, headers from the
//! standard `OTEL_EXPORTER_OTLP_*` variables, and its own options
//! (`histograms`, `buckets`, `temporality`, `protocol`).

use std::sync::Arc;

use crate::output::spec::{OutputConfigError, OutputSpec, Secret};

/// Default explicit bucket boundaries, in the instrument's unit (seconds
/// for time trends): 1 ms to 60 s, about three per decade, where HTTP
/// latencies live.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Options this kind accepts in `extra`.
pub const KNOWN_OPTIONS: &[&str] = &["histograms", "buckets", "temporality", "protocol"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    HttpProtobuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Temporality {
    /// Every push carries the totals since the test started (what
    /// Prometheus accepts).
    Cumulative,
    /// Every push carries what happened since the previous one.
    Delta,
}

#[derive(Clone, Debug, PartialEq)]
pub enum HistogramMode {
    Explicit(Arc<[f64]>),
    Exponential,
}

/// Everything the OTLP sink needs besides the common options.
#[derive(Clone, Debug, PartialEq)]
pub struct OtlpConfig {
    pub protocol: Protocol,
    /// For HTTP: the full URL requests are POSTed to (`.../v1/metrics`).
    /// For gRPC: `http(s)://host:port`.
    pub endpoint: String,
    /// From `OTEL_EXPORTER_OTLP_HEADERS` / `..._METRICS_HEADERS`.
    pub headers: Vec<(String, Secret)>,
    pub temporality: Temporality,
    pub histograms: HistogramMode,
    /// From `OTEL_SERVICE_NAME` (first, as `service.name`) and
    /// `OTEL_RESOURCE_ATTRIBUTES`, in that order.
    pub resource_attributes: Vec<(String, String)>,
}

/// Reads the configuration from the spec and the environment (`env` looks
/// a variable up; the process environment in production).
pub fn parse(
    spec: &OutputSpec,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<OtlpConfig, OutputConfigError> {
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let bad = |key: &str, message: String| OutputConfigError::BadOption {
        origin: spec.origin.clone(),
        key: key.to_string(),
        message,
    };
    spec.check_options(KNOWN_OPTIONS)?;

    let protocol_choice = match spec.extra.get("protocol") {
        Some(p) => Some(parse_protocol(p).ok_or_else(|| {
            bad(
                "protocol",
                format!("expected grpc or http/protobuf, got {p:?}"),
            )
        })?),
        None => match env("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
            .or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL"))
        {
            Some(p) => Some(parse_protocol(&p).ok_or_else(|| {
                bad(
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    format!("expected grpc or http/protobuf, got {p:?}"),
                )
            })?),
            None => None,
        },
    };
    let (protocol, endpoint) = endpoint(spec, protocol_choice, &env)?;

    let mut headers = Vec::new();
    for var in [
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    ] {
        if let Some(list) = env(var) {
            for (name, value) in parse_headers(&list).map_err(|m| bad(var, m))? {
                // The signal-specific variable wins over the generic one.
                headers.retain(|(n, _): &(String, Secret)| !n.eq_ignore_ascii_case(&name));
                headers.push((name, value));
            }
        }
    }

    let temporality = match spec.extra.get("temporality") {
        Some(t) => match t.as_str() {
            "cumulative" => Temporality::Cumulative,
            "delta" => Temporality::Delta,
            other => {
                return Err(bad(
                    "temporality",
                    format!("expected cumulative or delta, got {other:?}"),
                ));
            }
        },
        None => match env("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("cumulative") => Temporality::Cumulative,
            // lowmemory: delta for counters and histograms; stampede's
            // rates and counters are all synchronous, so it is delta here.
            Some("delta" | "lowmemory") => Temporality::Delta,
            Some(other) => {
                return Err(bad(
                    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
                    format!("expected cumulative, delta or lowmemory, got {other:?}"),
                ));
            }
        },
    };

    let buckets = match spec.extra.get("buckets") {
        Some(list) => parse_buckets(list).map_err(|m| bad("buckets", m))?,
        None => DEFAULT_BUCKETS.into(),
    };
    // Exponential by default: Prometheus 3 stores those as native
    // histograms, which the dashboards read; explicit ones become classic
    // `_bucket` series unless the receiver converts them
    // (`convert_histograms_to_nhcb`). `buckets` alone implies explicit.
    let histograms = match spec.extra.get("histograms").map(String::as_str) {
        Some("explicit") => HistogramMode::Explicit(buckets),
        None if spec.extra.contains_key("buckets") => HistogramMode::Explicit(buckets),
        None | Some("exponential") => {
            if spec.extra.contains_key("buckets") {
                return Err(bad(
                    "buckets",
                    "only applies to histograms=explicit".to_string(),
                ));
            }
            HistogramMode::Exponential
        }
        Some(other) => {
            return Err(bad(
                "histograms",
                format!("expected explicit or exponential, got {other:?}"),
            ));
        }
    };

    let resource_attributes =
        resource_attributes(&env).map_err(|(var, m)| OutputConfigError::BadEnv {
            origin: spec.origin.clone(),
            var: var.to_string(),
            message: m,
        })?;

    Ok(OtlpConfig {
        protocol,
        endpoint,
        headers,
        temporality,
        histograms,
        resource_attributes,
    })
}

fn parse_protocol(text: &str) -> Option<Protocol> {
    match text.trim() {
        "grpc" => Some(Protocol::Grpc),
        "http/protobuf" | "http" => Some(Protocol::HttpProtobuf),
        _ => None,
    }
}

/// Where the HTTP path `/v1/metrics` goes (OTel spec: the generic
/// endpoint variable is a base URL, the per-signal one is complete).
#[derive(Clone, Copy, PartialEq, Eq)]
enum PathRule {
    /// A target on the command line or in the scenario: when it has no path.
    WhenEmpty,
    AsIs,
    Always,
}

/// The protocol and URL from the target, or from the standard variables
/// when the target is empty.
fn endpoint(
    spec: &OutputSpec,
    choice: Option<Protocol>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Protocol, String), OutputConfigError> {
    let bad = |message: String| OutputConfigError::BadTarget {
        origin: spec.origin.clone(),
        message,
    };
    let target = spec.target.trim();
    let (raw, path_rule) = if !target.is_empty() {
        (target.to_string(), PathRule::WhenEmpty)
    } else if let Some(url) = env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") {
        (url, PathRule::AsIs)
    } else if let Some(url) = env("OTEL_EXPORTER_OTLP_ENDPOINT") {
        (url, PathRule::Always)
    } else {
        return Err(OutputConfigError::MissingEnv {
            origin: spec.origin.clone(),
            var: "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
            what: "no target given for the otlp output".into(),
        });
    };
    let (explicit_grpc, raw) = match raw.strip_prefix("otlp+grpc://") {
        Some(rest) => (true, format!("http://{rest}")),
        None => match raw.strip_prefix("otlp+grpcs://") {
            Some(rest) => (true, format!("https://{rest}")),
            None => (false, raw),
        },
    };
    let mut url =
        url::Url::parse(&raw).map_err(|e| bad(format!("invalid OTLP URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!(
            "OTLP URL must be http://, https:// or otlp+grpc://, got {raw:?}"
        )));
    }
    if url.host_str().is_none() {
        return Err(bad(format!("OTLP URL {raw:?} has no host")));
    }
    let protocol = if explicit_grpc {
        Protocol::Grpc
    } else if let Some(p) = choice {
        p
    } else if url.port() == Some(4317) {
        Protocol::Grpc
    } else {
        Protocol::HttpProtobuf
    };
    match protocol {
        Protocol::HttpProtobuf => {
            let empty = matches!(url.path(), "" | "/");
            if path_rule == PathRule::Always || (path_rule == PathRule::WhenEmpty && empty) {
                let path = format!("{}/v1/metrics", url.path().trim_end_matches('/'));
                url.set_path(&path);
            }
            Ok((protocol, url.to_string()))
        }
        Protocol::Grpc => {
            url.set_path("");
            Ok((protocol, url.to_string().trim_end_matches('/').to_string()))
        }
    }
}

/// `k=v,k2=v2`, keys and values URL-decoded (the OTel spec's format).
pub fn parse_headers(list: &str) -> Result<Vec<(String, Secret)>, String> {
    let mut headers = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((name, value)) = item.split_once('=') else {
            // Never echo the item: it may hold a credential.
            return Err(format!("header #{} is not key=value", headers.len() + 1));
        };
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.trim().replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let name = decode(name);
        if name.is_empty() {
            return Err(format!("header #{} has an empty name", headers.len() + 1));
        }
        headers.push((name, Secret::new(decode(value))));
    }
    Ok(headers)
}

/// The OTel SDK's resource variables: `OTEL_RESOURCE_ATTRIBUTES` is
/// `key=value,...` with percent-encoded values; `OTEL_SERVICE_NAME` wins
/// over a `service.name` among them (OTel SDK configuration spec).
fn resource_attributes(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, (&'static str, String)> {
    const VAR: &str = "OTEL_RESOURCE_ATTRIBUTES";
    let mut attributes: Vec<(String, String)> = Vec::new();
    if let Some(service) = env("OTEL_SERVICE_NAME") {
        attributes.push(("service.name".into(), service.trim().to_string()));
    }
    if let Some(list) = env(VAR) {
        for (n, item) in list
            .split(',')
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .enumerate()
        {
            let Some((key, value)) = item.split_once('=') else {
                return Err((VAR, format!("attribute #{} is not key=value", n + 1)));
            };
            let key = key.trim();
            if key.is_empty() {
                return Err((VAR, format!("attribute #{} has an empty key", n + 1)));
            }
            if !attributes.iter().any(|(k, _)| k == key) {
                attributes.push((key.to_string(), percent_decode(value.trim())));
            }
        }
    }
    Ok(attributes)
}

/// `%XX` sequences decoded (a literal `+` stays a `+`, unlike in forms).
fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn parse_buckets(list: &str) -> Result<Arc<[f64]>, String> {
    let mut bounds = Vec::new();
    for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let v: f64 = item
            .parse()
            .map_err(|_| format!("{item:?} is not a number"))?;
        if !v.is_finite() {
            return Err(format!("{item:?} is not a finite number"));
        }
        if bounds.last().is_some_and(|last| *last >= v) {
            return Err("boundaries must be strictly increasing".to_string());
        }
        bounds.push(v);
    }
    if bounds.is_empty() {
        return Err("give at least one boundary".to_string());
    }
    Ok(bounds.into())
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
