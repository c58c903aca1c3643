//! The HTML report opened in a real browser (headless Chromium): the DOM
//! after its scripts ran, and what the charts say they drew. Chromium is
//! installed by scripts/test.sh; without it a test fails, it does not skip.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The DOM after scripts ran, as headless Chromium serialises it.
pub fn rendered_dom(page: &Path) -> String {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect(
            "chromium is not installed: ./scripts/test.sh installs it (apt-get install chromium)",
        );
    let profile = tempfile::tempdir().unwrap();
    // To a file, not a pipe: the DOM is larger than a pipe's buffer, and
    // a browser blocked on a full pipe never exits.
    let dom_path = profile.path().join("dom.html");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args([
            "--window-size=1200,3000",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .stdout(std::fs::File::create(&dom_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&dom_path).unwrap()
}

/// `<attr>="…"` inside `fragment`.
pub fn attr<'a>(fragment: &'a str, attr: &str) -> &'a str {
    let key = format!("{attr}=\"");
    let start = fragment
        .find(&key)
        .unwrap_or_else(|| panic!("no {attr} in {fragment}"))
        + key.len();
    &fragment[start..start + fragment[start..].find('"').unwrap()]
}

/// Every chart over time drew its series (throughput, errors and VUs one
/// line each, latency three), one point per timeline bucket, on a canvas
/// of some size.
pub fn assert_charts_drawn(dom: &str, buckets: usize) {
    assert!(
        dom.contains("data-charts-drawn=\"4\""),
        "not every chart finished drawing"
    );
    for (chart, lines) in [
        ("throughput", "1"),
        ("errors", "1"),
        ("vus", "1"),
        ("latency", "3"),
    ] {
        let at = dom
            .find(&format!("id=\"chart-{chart}\""))
            .unwrap_or_else(|| panic!("no {chart} chart"));
        let tag = &dom[at..at + dom[at..].find('>').unwrap()];
        assert_eq!(attr(tag, "data-drawn"), lines, "{chart}");
        assert_eq!(attr(tag, "data-points"), buckets.to_string(), "{chart}");
    }
    let canvases: Vec<(u32, u32)> = dom
        .match_indices("<canvas")
        .map(|(i, _)| {
            let tag = &dom[i..i + dom[i..].find('>').unwrap()];
            (
                attr(tag, "width").parse().unwrap(),
                attr(tag, "height").parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(canvases.len(), 4);
    assert!(
        canvases.iter().all(|(w, h)| *w > 0 && *h > 0),
        "{canvases:?}"
    );
}
