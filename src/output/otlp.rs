//! OTLP output. Placeholder in the outcfg branch so the output framework
//! compiles; the sink's own branch replaces this file on merge.

use crate::metrics::Sink;
use crate::output::{OutputConfigError, OutputContext, OutputSpec};

pub fn build(spec: &OutputSpec, _ctx: &OutputContext) -> Result<Box<dyn Sink>, OutputConfigError> {
    Err(OutputConfigError::BadTarget {
        origin: spec.origin.clone(),
        message: "not built in this branch".into(),
    })
}
