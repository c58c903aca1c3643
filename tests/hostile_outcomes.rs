//! Honest outcomes: whatever is still in flight when the graceful stop ends
//! (a request to a server that never answers, a stream that never ends, a
//! session held open) is recorded as a failed request with
//! `error_code=interrupted`, and a run in which no request succeeded exits
//! with 112, not 0. The binary runs as a child, as a user runs it.

mod hostile_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hostile_support::*;

fn hostile(mut tcp: TcpStream, until: Instant) {
    let head = read_head(&mut tcp);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    match path.as_str() {
        // A head, then silence: a stream that never sends an event.
        "/sse-silent" => {
            let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n");
            hold(&mut tcp, until);
        }
        "/ws" => {
            let key = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("sec-websocket-key")
                        .then(|| value.trim().to_string())
                })
                .unwrap_or_default();
            let accept =
                tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            let answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
            );
            let _ = tcp.write_all(answer.as_bytes());
            hold(&mut tcp, until);
        }
        // Accepts, reads the request, never answers.
        _ => hold(&mut tcp, until),
    }
}

#[test]
fn an_adhoc_run_against_a_server_that_never_answers_fails_with_112() {
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("{base}/");
    let args = ["--url", &url, "--vus", "2", "--duration", "2s"];
    let run = run_child(dir.path(), &args, Duration::from_secs(90));
    assert_code(&run, 112);
    // The two requests in flight at the hard stop (2 s + the 30 s graceful
    // stop; the 60 s request timeout never came).
    assert_eq!(
        error_codes(&run.summary),
        vec![("interrupted".to_string(), 2)]
    );
    assert_eq!(
        series_sum(&run.summary, "http_req_failed", "passes", &[]),
        2.0
    );
    assert_eq!(
        series_sum(&run.summary, "http_req_failed", "fails", &[]),
        0.0
    );
    assert!(
        run.stdout.contains(
            "NO REQUEST SUCCEEDED: 2 of 2 failed (see ERRORS); the run fails with exit code 112"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("interrupted"), "{}", run.stdout);
    assert!(run.elapsed >= Duration::from_secs(32), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(40), "{:?}", run.elapsed);
    run.assert_memory_bounded();
    eprintln!(
        "never answers: {:?}, peak RSS {} KiB",
        run.elapsed, run.peak_rss_kb
    );
}

#[test]
fn streams_sessions_and_requests_cut_off_by_the_hard_stop_are_interrupted() {
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"
scenarios:
  request:
    duration: 1s
    graceful_stop: 1s
    flow:
      - request: { name: hung, url: "BASE_URL/hang" }
  stream:
    duration: 1s
    graceful_stop: 1s
    flow:
      - sse: { name: silent, url: "BASE_URL/sse-silent" }
  session:
    duration: 1s
    graceful_stop: 1s
    flow:
      - websocket:
          name: held
          url: "BASE_URL/ws"
          steps:
            - hold: { duration: 60s }
"#;
    let file = scenario(dir.path(), yaml, &base);
    let run = run_child(dir.path(), &[&file], Duration::from_secs(60));
    assert_code(&run, 112);
    let s = &run.summary;
    assert_eq!(error_codes(s), vec![("interrupted".to_string(), 3)]);
    for name in ["hung", "silent", "held"] {
        assert_eq!(
            series_sum(
                s,
                "http_reqs",
                "count",
                &[
                    ("name", name),
                    ("error_code", "interrupted"),
                    ("status", "0")
                ]
            ),
            1.0,
            "{name}"
        );
    }
    // The session did open before it was cut off.
    assert_eq!(series_sum(s, "ws_sessions", "count", &[]), 1.0);
    // Each was in flight about 2 s (1 s test + 1 s graceful stop).
    let max_ms = s["metrics"]["http_req_duration"]["max"].as_f64().unwrap();
    assert!((1_900.0..4_000.0).contains(&max_ms), "{max_ms} ms");
    assert!(run.elapsed >= Duration::from_secs(2), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(6), "{:?}", run.elapsed);
    run.assert_memory_bounded();
}
