//! The remote-write options in `OutputSpec::extra`, parsed and validated.

use std::collections::BTreeMap;

use super::native::{MAX_SCHEMA, MIN_SCHEMA};
use crate::output::spec::{OutputConfigError, OutputKind, OutputSpec};

/// Every option this output understands, for the unknown-option message.
pub const KNOWN_OPTIONS: [&str; 6] = [
    "trend_stats",
    "trend_stats_window",
    "histograms",
    "naming",
    "stale_markers",
    "histogram_schema",
];

/// `p(99)` only, like k6's remote-write output: native histograms already
/// give every percentile, and each statistic is one more series per trend
/// series.
pub const DEFAULT_TREND_STATS: &str = "p(99)";

/// Schema 5: buckets grow by 2^(1/32) (2.2%), so a latency spread of 10x
/// takes about 106 buckets: finer than k6's and Go clients' schema 3, and
/// still far from bucket caps of hosted backends for common spreads.
pub const DEFAULT_HISTOGRAM_SCHEMA: i32 = 5;

/// How trends are sent besides their statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistogramMode {
    /// A cumulative native histogram per trend series.
    Native,
    /// Only the `trend_stats` gauges.
    None,
}

/// Which metric names to produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    /// `stampede_<metric>` with unit suffixes (docs/outputs: one dashboard
    /// for remote-write and OTLP).
    Stampede,
    /// The names of k6's `experimental-prometheus-rw` output, for existing
    /// k6 dashboards.
    K6,
}

/// Which samples the `trend_stats` gauges summarize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrendStatsWindow {
    /// The samples of the push interval only: a gauge shows how latency
    /// moves during the run (stampede's default).
    Interval,
    /// Every sample since the run started, recomputed at each push: the
    /// last value equals the summary's (k6's behaviour, the default with
    /// `naming=k6`, so k6 dashboards read what k6 users expect).
    Cumulative,
}

impl TrendStatsWindow {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "interval" => Some(TrendStatsWindow::Interval),
            "cumulative" => Some(TrendStatsWindow::Cumulative),
            _ => None,
        }
    }
}

/// One statistic of a trend (over the window `trend_stats_window` picks).
#[derive(Clone, Debug, PartialEq)]
pub enum TrendStat {
    /// `p(N)`, 0 ≤ N ≤ 100; `suffix` is k6's series suffix (`p99`, `p999`).
    Percentile {
        p: f64,
        suffix: String,
    },
    Avg,
    Min,
    Max,
    Med,
    Count,
    Sum,
}

impl TrendStat {
    /// The series-name part: `p99`, `avg`, ...
    pub fn suffix(&self) -> &str {
        match self {
            TrendStat::Percentile { suffix, .. } => suffix,
            TrendStat::Avg => "avg",
            TrendStat::Min => "min",
            TrendStat::Max => "max",
            TrendStat::Med => "med",
            TrendStat::Count => "count",
            TrendStat::Sum => "sum",
        }
    }

    fn parse(text: &str) -> Result<Self, String> {
        Ok(match text {
            "avg" => TrendStat::Avg,
            "min" => TrendStat::Min,
            "max" => TrendStat::Max,
            "med" => TrendStat::Med,
            "count" => TrendStat::Count,
            "sum" => TrendStat::Sum,
            _ => {
                let inner = text
                    .strip_prefix("p(")
                    .and_then(|t| t.strip_suffix(')'))
                    .ok_or_else(|| {
                        format!(
                            "unknown statistic {text:?}; use p(N), avg, min, max, med, count or sum"
                        )
                    })?;
                let p: f64 = inner
                    .parse()
                    .ok()
                    .filter(|p: &f64| (0.0..=100.0).contains(p))
                    .ok_or_else(|| {
                        format!("{text:?}: the percentile must be a number from 0 to 100")
                    })?;
                TrendStat::Percentile {
                    p,
                    suffix: format!("p{}", inner.replace('.', "")),
                }
            }
        })
    }
}

/// The parsed remote-write options.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteWriteOptions {
    pub trend_stats: Vec<TrendStat>,
    pub trend_stats_window: TrendStatsWindow,
    pub histograms: HistogramMode,
    pub naming: Naming,
    pub stale_markers: bool,
    pub histogram_schema: i32,
}

impl Default for RemoteWriteOptions {
    fn default() -> Self {
        RemoteWriteOptions {
            trend_stats: parse_stats(DEFAULT_TREND_STATS).expect("the default parses"),
            trend_stats_window: TrendStatsWindow::Interval,
            histograms: HistogramMode::Native,
            naming: Naming::Stampede,
            stale_markers: true,
            histogram_schema: DEFAULT_HISTOGRAM_SCHEMA,
        }
    }
}

impl RemoteWriteOptions {
    /// Reads `spec.extra`, rejecting unknown keys and bad values.
    pub fn from_spec(spec: &OutputSpec) -> Result<Self, OutputConfigError> {
        Self::parse(&spec.extra, &spec.origin)
    }

    pub fn parse(
        extra: &BTreeMap<String, String>,
        origin: &str,
    ) -> Result<Self, OutputConfigError> {
        let mut options = RemoteWriteOptions::default();
        let mut window = None;
        let mut stale_markers = None;
        for (key, value) in extra {
            let bad = |message: String| OutputConfigError::BadOption {
                origin: origin.to_string(),
                key: key.clone(),
                message,
            };
            let value = value.trim();
            match key.as_str() {
                "trend_stats" => options.trend_stats = parse_stats(value).map_err(bad)?,
                "trend_stats_window" => {
                    window = Some(TrendStatsWindow::parse(value).ok_or_else(|| {
                        bad(format!("expected interval or cumulative, got {value:?}"))
                    })?);
                }
                "histograms" => {
                    options.histograms = match value {
                        "native" => HistogramMode::Native,
                        "none" => HistogramMode::None,
                        _ => return Err(bad(format!("expected native or none, got {value:?}"))),
                    }
                }
                "naming" => {
                    options.naming = match value {
                        "stampede" => Naming::Stampede,
                        "k6" => Naming::K6,
                        _ => return Err(bad(format!("expected stampede or k6, got {value:?}"))),
                    }
                }
                "stale_markers" => {
                    stale_markers = Some(match value {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad(format!("expected true or false, got {value:?}"))),
                    });
                }
                "histogram_schema" => options.histogram_schema = value
                    .parse()
                    .ok()
                    .filter(|s| (MIN_SCHEMA..=MAX_SCHEMA).contains(s))
                    .ok_or_else(|| {
                        bad(format!(
                            "expected an integer from {MIN_SCHEMA} to {MAX_SCHEMA}, got {value:?}"
                        ))
                    })?,
                _ => {
                    return Err(OutputConfigError::UnknownOption {
                        origin: origin.to_string(),
                        kind: OutputKind::PrometheusRw,
                        key: key.clone(),
                        known: KNOWN_OPTIONS.join(", "),
                    });
                }
            }
        }
        // Unless told otherwise, k6 naming behaves like k6 all the way:
        // whole-run trend statistics, and no stale markers, so the last
        // push stays the value a dashboard's range query shows at the end
        // (a marker 1 ms after it hides it from every step but one in a
        // thousand).
        let k6 = options.naming == Naming::K6;
        options.trend_stats_window = window.unwrap_or(if k6 {
            TrendStatsWindow::Cumulative
        } else {
            TrendStatsWindow::Interval
        });
        options.stale_markers = stale_markers.unwrap_or(!k6);
        Ok(options)
    }
}

/// A comma-separated list of statistics; empty means none. Duplicates are
/// kept once.
pub fn parse_stats(text: &str) -> Result<Vec<TrendStat>, String> {
    let mut stats: Vec<TrendStat> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let stat = TrendStat::parse(part)?;
        if !stats.iter().any(|s| s.suffix() == stat.suffix()) {
            stats.push(stat);
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<RemoteWriteOptions, OutputConfigError> {
        let extra = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        RemoteWriteOptions::parse(&extra, "--out #1")
    }

    #[test]
    fn defaults_are_documented_ones() {
        let o = parse(&[]).unwrap();
        assert_eq!(
            o.trend_stats,
            vec![TrendStat::Percentile {
                p: 99.0,
                suffix: "p99".into()
            }]
        );
        assert_eq!(o.trend_stats_window, TrendStatsWindow::Interval);
        assert_eq!(o.histograms, HistogramMode::Native);
        assert_eq!(o.naming, Naming::Stampede);
        assert!(o.stale_markers);
        assert_eq!(o.histogram_schema, 5);
    }

    #[test]
    fn every_option_parses() {
        let o = parse(&[
            ("trend_stats", "p(95),p(99.9),avg,min,max,med,count,sum"),
            ("histograms", "none"),
            ("naming", "k6"),
            ("stale_markers", "false"),
            ("histogram_schema", "-2"),
        ])
        .unwrap();
        let suffixes: Vec<&str> = o.trend_stats.iter().map(TrendStat::suffix).collect();
        assert_eq!(
            suffixes,
            ["p95", "p999", "avg", "min", "max", "med", "count", "sum"]
        );
        assert_eq!(o.histograms, HistogramMode::None);
        assert_eq!(o.naming, Naming::K6);
        assert!(!o.stale_markers);
        assert_eq!(o.histogram_schema, -2);
        assert!(
            parse(&[("trend_stats", "")])
                .unwrap()
                .trend_stats
                .is_empty()
        );
    }

    #[test]
    fn bad_and_unknown_options_are_rejected() {
        assert_eq!(
            parse(&[("trendStats", "p(99)")]).unwrap_err().to_string(),
            "--out #1: unknown option \"trendStats\" for prometheus-rw (known: trend_stats, trend_stats_window, histograms, naming, stale_markers, histogram_schema)"
        );
        assert_eq!(
            parse(&[("trend_stats", "p(101)")]).unwrap_err().to_string(),
            "--out #1: option trend_stats: \"p(101)\": the percentile must be a number from 0 to 100"
        );
        assert_eq!(
            parse(&[("histograms", "classic")]).unwrap_err().to_string(),
            "--out #1: option histograms: expected native or none, got \"classic\""
        );
        assert!(parse(&[("histogram_schema", "9")]).is_err());
        assert!(parse(&[("stale_markers", "yes")]).is_err());
        assert!(parse(&[("naming", "otel")]).is_err());
        assert_eq!(
            parse(&[("trend_stats_window", "run")])
                .unwrap_err()
                .to_string(),
            "--out #1: option trend_stats_window: expected interval or cumulative, got \"run\""
        );
    }

    #[test]
    fn k6_naming_defaults_to_k6_behaviour_unless_told() {
        let stale = |pairs: &[(&str, &str)]| parse(pairs).unwrap().stale_markers;
        assert!(!stale(&[("naming", "k6")]));
        assert!(stale(&[("naming", "k6"), ("stale_markers", "true")]));
        assert!(stale(&[("naming", "stampede")]));
        let window = |pairs: &[(&str, &str)]| parse(pairs).unwrap().trend_stats_window;
        assert_eq!(window(&[("naming", "k6")]), TrendStatsWindow::Cumulative);
        assert_eq!(
            window(&[("naming", "k6"), ("trend_stats_window", "interval")]),
            TrendStatsWindow::Interval
        );
        assert_eq!(
            window(&[("trend_stats_window", "cumulative")]),
            TrendStatsWindow::Cumulative
        );
        assert_eq!(
            window(&[("naming", "stampede")]),
            TrendStatsWindow::Interval
        );
    }
}
