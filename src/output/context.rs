//! What every output needs to know about the run, besides its own spec.

use std::sync::Arc;

use crate::metrics::MetricRegistry;

/// Run-wide facts handed to each output's constructor.
#[derive(Clone, Debug)]
pub struct OutputContext {
    /// The `testid` label on every series and point (`--testid`, or generated).
    pub testid: String,
    /// Names, kinds and units of every metric of the run (built-in and custom).
    pub registry: Arc<MetricRegistry>,
}
