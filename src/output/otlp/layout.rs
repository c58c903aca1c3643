//! How stampede's metrics look in OTLP: instrument names, units and types.
//!
//! Chosen so that Prometheus 3's default OTLP translation
//! (`UnderscoreEscapingWithSuffixes`: unit suffix, `_total` on monotonic
//! sums, `_ratio` on gauges of unit `1`) yields the same names as the
//! remote-write output, so one dashboard serves both ingest paths.

use crate::metrics::{MetricDef, MetricKind, ValueType};

/// The OTLP data type of an instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A monotonic `Sum`.
    MonotonicSum,
    Gauge,
    /// A `Histogram` (explicit buckets) or `ExponentialHistogram`, by option.
    Histogram,
}

impl Shape {
    pub fn as_str(self) -> &'static str {
        match self {
            Shape::MonotonicSum => "sum",
            Shape::Gauge => "gauge",
            Shape::Histogram => "histogram",
        }
    }
}

/// Which value of a series an instrument carries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Role {
    /// A counter's sum.
    CounterSum,
    /// A gauge's last value.
    GaugeLast,
    /// A rate's non-zero samples.
    RateTrues,
    /// A rate's samples, all of them.
    RateSamples,
    /// A rate's cumulative share of non-zero samples (0..=1).
    RateRatio,
    /// A trend's distribution; `scale` divides stored display units (ms for
    /// time trends, so values go out in seconds).
    Trend { scale: f64 },
}

/// One OTLP instrument that a stampede metric is sent as.
#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    pub name: String,
    pub unit: &'static str,
    pub shape: Shape,
    pub role: Role,
}

/// The instruments of one metric, in the order they are sent.
pub fn instruments(def: &MetricDef) -> Vec<Instrument> {
    let base = format!("stampede_{}", def.name);
    let one = |name: String, unit, shape, role| Instrument {
        name,
        unit,
        shape,
        role,
    };
    match def.kind {
        MetricKind::Counter => {
            let unit = if def.contains == ValueType::Data {
                "By"
            } else {
                ""
            };
            vec![one(base, unit, Shape::MonotonicSum, Role::CounterSum)]
        }
        MetricKind::Gauge => {
            let unit = if def.contains == ValueType::Data {
                "By"
            } else {
                ""
            };
            vec![one(base, unit, Shape::Gauge, Role::GaugeLast)]
        }
        MetricKind::Rate => vec![
            one(base.clone(), "", Shape::MonotonicSum, Role::RateTrues),
            one(
                format!("{base}_samples"),
                "",
                Shape::MonotonicSum,
                Role::RateSamples,
            ),
            one(base, "1", Shape::Gauge, Role::RateRatio),
        ],
        MetricKind::Trend => {
            let (unit, scale) = match def.contains {
                ValueType::Time => ("s", 1000.0),
                ValueType::Data => ("By", 1.0),
                ValueType::Default => ("", 1.0),
            };
            vec![one(base, unit, Shape::Histogram, Role::Trend { scale })]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricRegistry;

    #[test]
    fn rates_become_two_sums_and_a_ratio_gauge() {
        let registry = MetricRegistry::with_builtins();
        let id = registry.lookup("checks").unwrap();
        let names: Vec<_> = instruments(registry.get(id))
            .into_iter()
            .map(|i| (i.name, i.unit, i.shape))
            .collect();
        assert_eq!(
            names,
            [
                ("stampede_checks".to_string(), "", Shape::MonotonicSum),
                (
                    "stampede_checks_samples".to_string(),
                    "",
                    Shape::MonotonicSum
                ),
                ("stampede_checks".to_string(), "1", Shape::Gauge),
            ]
        );
    }
}
