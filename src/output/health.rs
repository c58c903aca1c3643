//! The check before the test starts: is every output reachable? All outputs
//! are checked at once, each within a deadline, so a dead endpoint costs the
//! start of the test at most that long.

use std::time::Duration;

use futures_util::future::join_all;

use crate::metrics::Sink;

/// How long each output's health check may take.
pub const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// An output that failed its health check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthProblem {
    /// The output as named in messages, e.g. `prometheus-rw (http://host/api/v1/write)`.
    pub output: String,
    pub reason: String,
    /// The output has `required: true`: the run must not start.
    pub required: bool,
}

impl HealthProblem {
    /// The line printed to stderr: a warning, or an error for a required output.
    pub fn message(&self) -> String {
        if self.required {
            format!(
                "error: output {} is unreachable: {}",
                self.output, self.reason
            )
        } else {
            format!(
                "warning: output {}: {}; the test runs, data is buffered and retried",
                self.output, self.reason
            )
        }
    }
}

/// Runs every sink's health check concurrently, each limited to `timeout`.
/// `names[i]` names `sinks[i]` in messages. Problems come in sink order.
pub async fn check_health(
    sinks: &mut [Box<dyn Sink>],
    names: &[String],
    timeout: Duration,
) -> Vec<HealthProblem> {
    let checks = sinks.iter_mut().zip(names).map(|(sink, name)| async move {
        let required = sink.required();
        let reason = match tokio::time::timeout(timeout, sink.health_check()).await {
            Ok(Ok(())) => return None,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {}s", timeout.as_secs_f64()),
        };
        Some(HealthProblem {
            output: name.clone(),
            reason,
            required,
        })
    });
    join_all(checks).await.into_iter().flatten().collect()
}
