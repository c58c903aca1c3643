//! The `run` section `stampede run --summary-export` writes: which test
//! (a digest of what shapes the plan), which segment, how the start went.
//! `stampede merge` reads it to refuse summaries that are not one test.

use std::time::Duration;

use super::args::{PlanArgs, RunArgs};
use crate::report::merge::{RunIdentity, plan_digest};
use crate::util::start_at::LATE_START_TOLERANCE;

/// The identity of this run. The digest covers the scenario file's bytes
/// (or the ad-hoc request) and every plan option but `--segment`, which is
/// what differs between instances of one test.
pub fn run_identity(args: &RunArgs, instance: &str, start_lag: Option<Duration>) -> RunIdentity {
    let file = args
        .file
        .as_ref()
        .and_then(|path| std::fs::read(path).ok())
        .unwrap_or_default();
    let options = format!(
        "{:?}",
        PlanArgs {
            segment: None,
            ..args.plan.clone()
        }
    );
    let adhoc = format!("{:?}", (&args.url, &args.method, &args.headers, &args.body));
    let segment = args
        .plan
        .segment
        .map(|s| format!("{}/{}", s.index + 1, s.count));
    RunIdentity {
        stampede_version: env!("CARGO_PKG_VERSION").to_string(),
        plan: plan_digest(&[&file, options.as_bytes(), adhoc.as_bytes()]),
        testid: args.testid.clone(),
        instance: instance.to_string(),
        segment,
        start_at: args.start_at.as_ref().map(|s| s.text.clone()),
        start_lag_ms: start_lag.map(|lag| lag.as_secs_f64() * 1000.0),
        late: start_lag.is_some_and(|lag| lag > LATE_START_TOLERANCE),
        merged_from: Vec::new(),
    }
}
