//! Per-sample encoding (`mode=points`, the default): one line per metric
//! sample, k6's layout — measurement = metric name, tags = the sample's
//! series tags plus `testid`, one float field `value`, nanosecond timestamp.
//!
//! This runs for every request (eleven points per HTTP exchange), so the
//! escaped measurement of each metric and the escaped tag text of each tag
//! set are computed once and kept; a line is then three appends, a float
//! and a timestamp into a reused buffer.

use std::collections::HashMap;
use std::sync::Arc;

use super::line::{push_float, push_measurement, push_tags, push_u64};
use crate::metrics::{MetricId, MetricRegistry, SampleBatch, TagInterner, TagSetId};

/// Lines of text holding at most `batch_size` points.
#[derive(Debug, PartialEq, Eq)]
pub struct LineBatch {
    pub text: String,
    pub points: u64,
}

/// Turns raw samples into line-protocol batches. Keeps its caches between
/// calls; owned by the sink and lent to a blocking thread per snapshot.
#[derive(Debug)]
pub struct PointEncoder {
    registry: Arc<MetricRegistry>,
    testid: String,
    batch_size: usize,
    /// Escaped measurement per `MetricId.0`, filled on first use.
    measurements: Vec<Option<Box<str>>>,
    /// `,key=value,...` (escaped, with `testid`) per interned tag set.
    tags: HashMap<TagSetId, Box<str>>,
}

impl PointEncoder {
    pub fn new(registry: Arc<MetricRegistry>, testid: &str, batch_size: usize) -> Self {
        PointEncoder {
            registry,
            testid: testid.to_string(),
            batch_size: batch_size.max(1),
            measurements: Vec::new(),
            tags: HashMap::new(),
        }
    }

    /// Every sample of `batch` as lines, split into batches of at most
    /// `batch_size` points. Samples with a non-finite value (which line
    /// protocol cannot carry) are skipped and counted in the second result.
    pub fn encode(&mut self, batch: &SampleBatch) -> (Vec<LineBatch>, u64) {
        let mut batches = Vec::new();
        let mut current = LineBatch {
            text: String::new(),
            points: 0,
        };
        let mut skipped = 0;
        for sample in &batch.samples {
            let time_ns = sample.time_ns;
            sample.for_each_point(|metric, tags, value| {
                if !value.is_finite() {
                    skipped += 1;
                    return;
                }
                if current.points as usize >= self.batch_size {
                    let capacity = current.text.len();
                    batches.push(std::mem::replace(
                        &mut current,
                        LineBatch {
                            text: String::with_capacity(capacity),
                            points: 0,
                        },
                    ));
                }
                self.push_line(&mut current.text, metric, tags, value, time_ns);
                current.points += 1;
            });
        }
        if current.points > 0 {
            batches.push(current);
        }
        (batches, skipped)
    }

    fn push_line(
        &mut self,
        out: &mut String,
        metric: MetricId,
        tags: TagSetId,
        value: f64,
        time_ns: u64,
    ) {
        let index = usize::from(metric.0);
        if self.measurements.len() <= index {
            self.measurements.resize(index + 1, None);
        }
        let registry = &self.registry;
        let measurement = self.measurements[index].get_or_insert_with(|| {
            let mut s = String::new();
            push_measurement(&mut s, &registry.get(metric).name);
            s.into_boxed_str()
        });
        out.push_str(measurement);
        let testid = &self.testid;
        let tag_text = self.tags.entry(tags).or_insert_with(|| {
            let set = TagInterner::global().resolve(tags);
            let set = set.with([("testid", testid.as_str())]);
            let mut s = String::new();
            push_tags(&mut s, set.iter());
            s.into_boxed_str()
        });
        out.push_str(tag_text);
        out.push_str(" value=");
        push_float(out, value);
        out.push(' ');
        push_u64(out, time_ns);
        out.push('\n');
    }
}
