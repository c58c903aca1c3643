//! Console summary: golden text for hand-built summaries.
//! Set STAMPEDE_BLESS=1 to rewrite a golden file after checking the new output by eye.

mod report_support;

use std::path::PathBuf;

use std::time::Duration;

use stampede::metrics::{GeneratorHealth, RunEnd, SeriesValue, Summary, ThresholdVerdict, builtin};
use stampede::report::{ConsoleOptions, render_console};

fn render(summary: &Summary, color: bool) -> String {
    let mut out = Vec::new();
    render_console(summary, &mut out, &ConsoleOptions { color }).unwrap();
    String::from_utf8(out).unwrap()
}

fn assert_golden(file: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report")
        .join(file);
    if std::env::var_os("STAMPEDE_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with STAMPEDE_BLESS=1 to create it)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {}:\n--- expected\n{}\n--- actual\n{}",
            path.display(),
            line + 1,
            expected.lines().nth(line).unwrap_or("<end of file>"),
            actual.lines().nth(line).unwrap_or("<end of output>"),
        );
    }
}

#[test]
fn full_run_matches_golden_text() {
    assert_golden("full_run.txt", &render(&report_support::full_run(), false));
}

#[test]
fn minimal_interrupted_run_matches_golden_text() {
    assert_golden(
        "minimal_run.txt",
        &render(&report_support::minimal_run(), false),
    );
}

fn tail(text: &str, lines: usize) -> Vec<&str> {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].to_vec()
}

#[test]
fn aborted_run_names_the_threshold_before_the_verdict() {
    let mut summary = report_support::full_run();
    summary.end = RunEnd::AbortedByThreshold("http_req_failed: rate<0.01".into());
    let text = render(&summary, false);
    assert_eq!(
        tail(&text, 4),
        [
            "",
            "  ✗ test aborted: threshold http_req_failed: rate<0.01 crossed",
            "  ✗ 1 of 5 thresholds crossed",
            "",
        ]
    );
}

#[test]
fn passing_thresholds_end_with_all_passed() {
    let mut summary = report_support::full_run();
    for outcome in &mut summary.thresholds {
        outcome.verdict = ThresholdVerdict::Passed;
    }
    let text = render(&summary, false);
    assert!(text.contains("    ✓ 'p(99)<20' p(99)=44.03ms\n"), "{text}");
    assert_eq!(tail(&text, 2), ["  ✓ all thresholds passed", ""]);
}

#[test]
fn threshold_without_samples_says_so() {
    let mut summary = report_support::minimal_run();
    summary.thresholds.push(report_support::outcome(
        "http_req_duration{name:missing}",
        "p(95)<300",
        None,
        false,
        false,
    ));
    let text = render(&summary, false);
    assert!(
        text.starts_with(
            "  █ THRESHOLDS\n\n    http_req_duration{name:missing}\n    ✗ 'p(95)<300' p(95)=(no samples)\n\n\n"
        ),
        "{text}"
    );
    assert_eq!(
        tail(&text, 3),
        ["  ✗ test interrupted", "  ✗ 1 of 1 thresholds crossed", ""]
    );
}

#[test]
fn counter_rate_threshold_prints_per_second_not_a_percentage() {
    // full_run: 1200 requests in 30 s, 40 per second.
    let mut summary = report_support::full_run();
    summary.thresholds = vec![report_support::outcome(
        "http_reqs",
        "rate>=15",
        Some(29.916_666),
        true,
        false,
    )];
    let text = render(&summary, false);
    assert!(
        text.starts_with("  █ THRESHOLDS\n\n    http_reqs\n    ✓ 'rate>=15' rate=29.92/s\n\n\n"),
        "{text}"
    );
}

#[test]
fn trends_of_counts_print_whole_numbers() {
    let mut summary = report_support::minimal_run();
    let events: Vec<f64> = [18.0, 19.0, 19.0, 19.0, 20.0, 24.0].to_vec();
    summary.metrics = vec![report_support::builtin_metric(
        builtin::SSE_EVENTS_PER_STREAM,
        vec![(
            report_support::tags(&[("scenario", "default")]),
            SeriesValue::Trend(report_support::trend(&events)),
        )],
    )];
    let text = render(&summary, false);
    assert_eq!(
        section(&text, "STREAMS"),
        [
            "    STREAMS",
            "    sse_events_per_stream..............: avg=19.83 min=18 med=19 max=24 p(90)=24 p(95)=24 p(99)=24",
        ]
    );
}

#[test]
fn success_and_errors_come_from_tags_without_http_req_failed() {
    let mut summary = report_support::full_run();
    summary.metrics.retain(|m| m.name != "http_req_failed");
    let text = render(&summary, false);
    assert!(
        text.contains(
            "    {{BASE_URL}}/api/credits  GET     1000  99.40%   4.66ms   5.75ms   5.95ms   412 B\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("    {{BASE_URL}}/api/credits  GET     503     1503        6\n"),
        "{text}"
    );
}

#[test]
fn colour_only_adds_escape_codes() {
    let summary = report_support::full_run();
    let coloured = render(&summary, true);
    assert!(coloured.contains("\x1b[32m✓ 'p(95)<500' p(95)=38.02ms\x1b[0m"));
    assert!(coloured.contains("\x1b[31m✗ 'p(99)<20' p(99)=44.03ms\x1b[0m"));
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&coloured, "");
    assert_eq!(stripped, render(&summary, false));
    assert!(!render(&summary, false).contains('\x1b'));
}

#[test]
fn empty_summary_prints_nothing() {
    let summary = Summary {
        metrics: Vec::new(),
        end: RunEnd::Completed,
        ..report_support::minimal_run()
    };
    assert_eq!(render(&summary, false), "");
}

/// The lines of one section of TOTAL RESULTS, title included, up to its blank line.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| l.trim() != title)
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn generator_section_shows_peak_mean_memory_and_saturated_time() {
    let mut summary = report_support::minimal_run();
    summary.generator = Some(GeneratorHealth {
        cores: 1,
        cpu_peak: 0.987,
        cpu_mean: 0.4125,
        memory_peak_bytes: 48_300_000,
        saturated: Duration::from_millis(7_004),
        saturation_episodes: 2,
    });
    let text = render(&summary, false);
    assert_eq!(
        section(&text, "GENERATOR"),
        [
            "    GENERATOR",
            "    generator_cpu......................: peak=98.70% mean=41.25% of 1 core",
            "    generator_memory...................: peak=48 MB  resident",
            "    generator_saturated................: 7s          2 episodes: its cores above 90% busy for 3s or more, latencies include stampede's own queueing",
        ]
    );
    summary.generator = Some(GeneratorHealth {
        cores: 4,
        saturated: Duration::ZERO,
        saturation_episodes: 0,
        ..summary.generator.unwrap()
    });
    let text = render(&summary, false);
    assert_eq!(
        section(&text, "GENERATOR")[3],
        "    generator_saturated................: 0s          its cores never above 90% busy for 3s in a row"
    );
    assert_eq!(
        section(&text, "GENERATOR")[1],
        "    generator_cpu......................: peak=98.70% mean=41.25% of 4 cores"
    );
}
