//! k6's and OpenTelemetry's output environment variables, honoured as
//! fallbacks so a k6 or OTel setup keeps working unchanged: an option
//! written on `--out` or in the scenario (or a `STAMPEDE_*` variable)
//! always wins; a variable only fills what was left unset.
//!
//! Each variable maps onto a stampede option and is checked here, so a bad
//! value is one line naming the variable. A variable whose value stampede
//! cannot honour is refused rather than ignored: a run that silently
//! behaves differently from what the user configured is worse than one
//! that does not start. Values are never echoed for the secret ones.
//!
//! Credentials (`K6_PROMETHEUS_RW_USERNAME`/`_PASSWORD`,
//! `K6_INFLUXDB_TOKEN`) are resolved with the `STAMPEDE_*` ones
//! ([`credential_fallbacks`], `influxdb::config`); the OTLP resource
//! (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) in `otlp::config`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::prometheus_rw::options::parse_stats;
use super::spec::{CommonOptions, OutputConfigError, OutputKind};
use crate::util::duration::parse_duration;

/// The remote-write URL when `--out prometheus-rw` has no target.
pub const K6_PROMETHEUS_RW_SERVER_URL: &str = "K6_PROMETHEUS_RW_SERVER_URL";
/// k6's InfluxDB v2 address when `K6_INFLUXDB_ADDR` is not set.
pub const K6_INFLUXDB_DEFAULT_ADDR: &str = "http://localhost:8086";

/// The parts of an output's configuration the variables may fill.
pub struct Unset<'a> {
    pub kind: OutputKind,
    pub origin: &'a str,
    pub target: &'a mut String,
    pub common: &'a mut CommonOptions,
    pub extra: &'a mut BTreeMap<String, String>,
    /// Option keys the user gave (these are never overridden).
    pub given: &'a BTreeSet<String>,
}

/// Fills what the user left unset from the kind's k6 / OTel variables.
pub fn apply(
    unset: Unset<'_>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), OutputConfigError> {
    let env = |var: &str| env(var).filter(|v| !v.trim().is_empty());
    let mut f = Filler { unset, env: &env };
    match f.unset.kind {
        OutputKind::PrometheusRw => f.prometheus_rw(),
        OutputKind::InfluxDb => f.influxdb(),
        OutputKind::Otlp => f.otlp(),
        OutputKind::Json | OutputKind::Csv => Ok(()),
    }
}

/// The k6 variables holding a basic-auth user and password for `kind`,
/// read after the `STAMPEDE_*` ones.
pub fn credential_fallbacks(kind: OutputKind) -> Option<(&'static str, &'static str)> {
    match kind {
        OutputKind::PrometheusRw => {
            Some(("K6_PROMETHEUS_RW_USERNAME", "K6_PROMETHEUS_RW_PASSWORD"))
        }
        _ => None,
    }
}

struct Filler<'a, 'e> {
    unset: Unset<'a>,
    env: &'e dyn Fn(&str) -> Option<String>,
}

impl Filler<'_, '_> {
    fn bad(&self, var: &str, message: impl Into<String>) -> OutputConfigError {
        OutputConfigError::BadEnv {
            origin: self.unset.origin.to_string(),
            var: var.to_string(),
            message: message.into(),
        }
    }

    /// The variable's value when the option `key` was not given.
    fn unless_given(&self, key: &str, var: &str) -> Option<String> {
        if self.unset.given.contains(key) {
            None
        } else {
            (self.env)(var)
        }
    }

    /// The first of `vars` that is set (OTel: the `_METRICS_` one first).
    fn first_of(&self, key: &str, vars: &[&'static str]) -> Option<(&'static str, String)> {
        if self.unset.given.contains(key) {
            return None;
        }
        vars.iter()
            .find_map(|var| (self.env)(var).map(|v| (*var, v)))
    }

    fn push_interval(&mut self, var: &str) -> Result<(), OutputConfigError> {
        if let Some(text) = self.unless_given("push_interval", var) {
            self.unset.common.push_interval = match parse_duration(&text) {
                Ok(d) if !d.is_zero() => d,
                Ok(_) => return Err(self.bad(var, "must be longer than 0s")),
                Err(message) => return Err(self.bad(var, message)),
            };
        }
        Ok(())
    }

    fn insecure(&mut self, var: &str) -> Result<(), OutputConfigError> {
        if let Some(text) = self.unless_given("insecure_skip_tls_verify", var) {
            self.unset.common.insecure_skip_tls_verify = go_bool(&text)
                .ok_or_else(|| self.bad(var, format!("expected true or false, got {text:?}")))?;
        }
        Ok(())
    }

    fn prometheus_rw(&mut self) -> Result<(), OutputConfigError> {
        if self.unset.target.is_empty()
            && let Some(url) = (self.env)(K6_PROMETHEUS_RW_SERVER_URL)
        {
            *self.unset.target = url.trim().to_string();
        }
        self.push_interval("K6_PROMETHEUS_RW_PUSH_INTERVAL")?;
        self.insecure("K6_PROMETHEUS_RW_INSECURE_SKIP_TLS_VERIFY")?;
        let var = "K6_PROMETHEUS_RW_TREND_STATS";
        if let Some(list) = self.unless_given("trend_stats", var) {
            parse_stats(&list).map_err(|m| self.bad(var, m))?;
            self.unset.extra.insert("trend_stats".into(), list);
        }
        let var = "K6_PROMETHEUS_RW_TREND_AS_NATIVE_HISTOGRAM";
        if let Some(text) = self.unless_given("histograms", var) {
            let native = go_bool(&text)
                .ok_or_else(|| self.bad(var, format!("expected true or false, got {text:?}")))?;
            let mode = if native { "native" } else { "none" };
            self.unset.extra.insert("histograms".into(), mode.into());
        }
        let var = "K6_PROMETHEUS_RW_STALE_MARKERS";
        if let Some(text) = self.unless_given("stale_markers", var) {
            let on = go_bool(&text)
                .ok_or_else(|| self.bad(var, format!("expected true or false, got {text:?}")))?;
            self.unset
                .extra
                .insert("stale_markers".into(), on.to_string());
        }
        for var in [
            "K6_PROMETHEUS_RW_CLIENT_CERTIFICATE",
            "K6_PROMETHEUS_RW_CLIENT_CERTIFICATE_KEY",
        ] {
            if (self.env)(var).is_some() {
                return Err(self.bad(
                    var,
                    "client certificates are not supported by stampede's outputs; unset it",
                ));
            }
        }
        Ok(())
    }

    fn influxdb(&mut self) -> Result<(), OutputConfigError> {
        if self.unset.target.is_empty()
            && let Some(bucket) = (self.env)("K6_INFLUXDB_BUCKET")
        {
            let org = (self.env)("K6_INFLUXDB_ORGANIZATION").ok_or_else(|| {
                self.bad(
                    "K6_INFLUXDB_ORGANIZATION",
                    "not set; K6_INFLUXDB_BUCKET needs it (the v2 API writes to an organization's bucket)",
                )
            })?;
            let addr = (self.env)("K6_INFLUXDB_ADDR")
                .unwrap_or_else(|| K6_INFLUXDB_DEFAULT_ADDR.to_string());
            let mut url = url::Url::parse(addr.trim())
                .map_err(|e| self.bad("K6_INFLUXDB_ADDR", format!("invalid URL {addr:?}: {e}")))?;
            url.query_pairs_mut()
                .append_pair("org", org.trim())
                .append_pair("bucket", bucket.trim());
            *self.unset.target = url.to_string();
        }
        self.push_interval("K6_INFLUXDB_PUSH_INTERVAL")?;
        self.insecure("K6_INFLUXDB_INSECURE")?;
        let var = "K6_INFLUXDB_PRECISION";
        if let Some(text) = self.unless_given("precision", var) {
            // k6 takes a duration; stampede writes nanosecond timestamps.
            if parse_duration(&text).ok() != Some(Duration::from_nanos(1)) {
                return Err(self.bad(
                    var,
                    format!("stampede writes nanosecond timestamps; only 1ns can be honoured, got {text:?}"),
                ));
            }
        }
        let var = "K6_INFLUXDB_TAGS_AS_FIELDS";
        if let Some(list) = (self.env)(var) {
            for item in list.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let tag = item.split(':').next().unwrap_or_default();
                // VU, iteration and raw URL are never tags in stampede (so
                // series do not explode): listing them asks for nothing
                // stampede does not already do.
                if !matches!(tag, "vu" | "iter" | "url") {
                    return Err(self.bad(
                        var,
                        format!("stampede cannot write tag {tag:?} as a field (only vu, iter and url, which are never tags, may be listed)"),
                    ));
                }
            }
        }
        let var = "K6_INFLUXDB_CONCURRENT_WRITES";
        if let Some(text) = (self.env)(var)
            && text.trim() != "1"
        {
            return Err(self.bad(
                var,
                format!("stampede sends one write at a time; only 1 can be honoured, got {text:?}"),
            ));
        }
        let var = "K6_INFLUXDB_ENABLE_UNIQUE_TAG";
        if let Some(text) = (self.env)(var) {
            match go_bool(&text) {
                Some(false) => {}
                Some(true) => {
                    return Err(self.bad(
                        var,
                        "stampede does not add a unique tag per point (points of one series never share a timestamp); unset it",
                    ));
                }
                None => return Err(self.bad(var, format!("expected true or false, got {text:?}"))),
            }
        }
        Ok(())
    }

    fn otlp(&mut self) -> Result<(), OutputConfigError> {
        let vars = [
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ];
        if let Some((var, text)) = self.first_of("timeout", &vars) {
            self.unset.common.timeout = match text.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => {
                    return Err(self.bad(
                        var,
                        format!("expected a whole number of milliseconds above 0, got {text:?}"),
                    ));
                }
            };
        }
        let vars = [
            "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
        ];
        if let Some((var, path)) = self.first_of("ca_file", &vars) {
            let path = PathBuf::from(path.trim());
            if !path.is_file() {
                return Err(self.bad(var, format!("{} is not a readable file", path.display())));
            }
            self.unset.common.ca_file = Some(path);
        }
        let vars = [
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ];
        // No option of stampede's answers to it: the variable is only checked.
        if let Some((var, text)) = vars.iter().find_map(|v| (self.env)(v).map(|t| (*v, t))) {
            match text.trim() {
                "none" => {}
                "gzip" => {
                    return Err(self.bad(
                        var,
                        "stampede's OTLP output sends uncompressed requests; gzip cannot be honoured (set none or unset it)",
                    ));
                }
                other => {
                    return Err(self.bad(var, format!("expected gzip or none, got {other:?}")));
                }
            }
        }
        Ok(())
    }
}

/// A boolean as Go's `strconv.ParseBool` reads it (k6's variables).
pub fn go_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
#[path = "env_fallbacks_tests.rs"]
mod tests;
