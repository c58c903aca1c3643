//! The run markers as line protocol: `test_run` points for the start and
//! the end (dashboard annotations) and one `thresholds` point per threshold.

use super::line::{push_float, push_measurement, push_tags, push_u64};
use crate::output::markers::ThresholdMark;

/// `test_run,event=<event>,instance=..,testid=.. value=1 <ns>`.
pub fn run_event_line(
    out: &mut String,
    event: &str,
    instance: Option<&str>,
    testid: &str,
    ns: u64,
) {
    push_measurement(out, "test_run");
    push_tags(
        out,
        [
            ("event", event),
            ("instance", instance.unwrap_or("")),
            ("testid", testid),
        ],
    );
    out.push_str(" value=1 ");
    push_u64(out, ns);
    out.push('\n');
}

/// `thresholds,instance=..,metric=..,testid=..,threshold=.. value=1|0 <ns>`.
pub fn threshold_line(
    out: &mut String,
    mark: &ThresholdMark,
    instance: Option<&str>,
    testid: &str,
    ns: u64,
) {
    push_measurement(out, "thresholds");
    push_tags(
        out,
        [
            ("instance", instance.unwrap_or("")),
            ("metric", mark.metric.as_str()),
            ("testid", testid),
            ("threshold", mark.threshold.as_str()),
        ],
    );
    out.push_str(" value=");
    push_float(out, f64::from(u8::from(mark.passed)));
    out.push(' ');
    push_u64(out, ns);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_lines_are_exact() {
        let mut out = String::new();
        run_event_line(
            &mut out,
            "start",
            Some("host-1"),
            "t 1",
            1_700_000_000_000_000_000,
        );
        run_event_line(&mut out, "end", None, "t1", 5);
        threshold_line(
            &mut out,
            &ThresholdMark {
                metric: "http_req_duration{name:a b}".into(),
                threshold: "p(95)<500".into(),
                passed: false,
            },
            Some("h"),
            "t1",
            7,
        );
        assert_eq!(
            out,
            "test_run,event=start,instance=host-1,testid=t\\ 1 value=1 1700000000000000000\n\
             test_run,event=end,testid=t1 value=1 5\n\
             thresholds,instance=h,metric=http_req_duration{name:a\\ b},testid=t1,threshold=p(95)<500 value=0 7\n"
        );
    }
}
