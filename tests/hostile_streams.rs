//! Hostile peers against every timeout: an SSE stream that floods events, a
//! WebSocket server that floods pings and never reads, and slowloris heads
//! and bodies. Each must end at its step's deadline (the deadline wins over
//! a socket that is always ready), with its own `error_code`, in bounded
//! memory. The binary runs as a child so that its peak RSS is its own.

mod hostile_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hostile_support::*;

fn hostile(mut tcp: TcpStream, until: Instant) {
    let head = read_head(&mut tcp);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    match path.as_str() {
        "/sse-flood" => {
            let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n");
            write_forever(&mut tcp, &b"data: flood\n\n".repeat(1000), until);
        }
        "/ws-ping-flood" | "/ws-huge-frame" => {
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
            if path == "/ws-huge-frame" {
                // A binary frame announcing 100 MB (64-bit length), then zeros.
                let mut frame = vec![0x82, 127];
                frame.extend_from_slice(&100_000_000u64.to_be_bytes());
                let _ = tcp.write_all(&frame);
                write_forever(&mut tcp, &[0u8; 0x10000], until);
                return;
            }
            // Empty pings (FIN + opcode 9, no payload), never reading a byte.
            write_forever(&mut tcp, &[0x89, 0x00].repeat(4096), until);
        }
        "/slow-head" => {
            let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\n");
            drip(&mut tcp, until);
        }
        "/slow-body" => {
            let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n");
            drip(&mut tcp, until);
        }
        "/ok" => {
            let _ = tcp
                .write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok");
        }
        _ => {
            let _ = tcp.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        }
    }
}

/// One byte every 200 ms (slowloris), until the peer goes or `until`.
fn drip(tcp: &mut TcpStream, until: Instant) {
    while Instant::now() < until {
        if tcp.write_all(b"x").is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

const OK: &str = r#"
      - request: { name: ok, url: "BASE_URL/ok" }"#;

#[test]
fn a_flooding_event_stream_ends_at_its_timeout_and_its_hold() {
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
scenarios:
  flood:
    executor: per-vu-iterations
    vus: 4
    iterations: 1
    flow:{OK}
      - sse: {{ name: held, url: "BASE_URL/sse-flood", hold: 1s }}
      - sse: {{ name: timed, url: "BASE_URL/sse-flood", timeout: 2s }}
"#
    );
    let file = scenario(dir.path(), &yaml, &base);
    let run = run_child(dir.path(), &[&file], Duration::from_secs(60));
    assert_code(&run, 0);
    let s = &run.summary;
    assert_eq!(
        error_codes(s),
        vec![("".to_string(), 8), ("sse_timeout".to_string(), 4)]
    );
    assert_eq!(
        series_sum(
            s,
            "http_reqs",
            "count",
            &[("name", "held"), ("status", "200")]
        ),
        4.0
    );
    // Every stream read events until its end.
    assert_eq!(series_sum(s, "sse_events_per_stream", "count", &[]), 8.0);
    assert!(series_sum(s, "sse_events", "count", &[]) > 10_000.0);
    // 1 s hold + 2 s timeout per VU, in parallel; the issue saw 32 s.
    assert!(run.elapsed >= Duration::from_secs(3), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
    run.assert_memory_bounded();
    eprintln!(
        "SSE flood: {:?}, peak RSS {} KiB",
        run.elapsed, run.peak_rss_kb
    );
}

#[test]
fn a_ping_flood_that_never_reads_ends_at_the_expect_timeout_in_bounded_memory() {
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
scenarios:
  pings:
    executor: per-vu-iterations
    vus: 4
    iterations: 1
    flow:{OK}
      - websocket:
          name: flood
          url: "BASE_URL/ws-ping-flood"
          steps:
            - send: {{ text: "hello" }}
            - expect: {{ contains: "never", timeout: 2s }}
"#
    );
    let file = scenario(dir.path(), &yaml, &base);
    let run = run_child(dir.path(), &[&file], Duration::from_secs(60));
    assert_code(&run, 0);
    assert_eq!(
        error_codes(&run.summary),
        vec![("".to_string(), 4), ("ws_timeout".to_string(), 4)]
    );
    assert_eq!(series_sum(&run.summary, "ws_sessions", "count", &[]), 4.0);
    // 2 s expect + at most 1 s close wait (the close frame cannot even be
    // written: the server does not read).
    assert!(run.elapsed >= Duration::from_secs(2), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(6), "{:?}", run.elapsed);
    run.assert_memory_bounded();
    eprintln!(
        "WebSocket ping flood: {:?}, peak RSS {} KiB",
        run.elapsed, run.peak_rss_kb
    );
}

#[test]
fn slowloris_heads_and_bodies_end_at_the_request_timeout() {
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
scenarios:
  slow:
    executor: per-vu-iterations
    vus: 3
    iterations: 1
    flow:{OK}
      - request: {{ name: slow-head, url: "BASE_URL/slow-head", timeout: 1500ms }}
      - request: {{ name: slow-body, url: "BASE_URL/slow-body", timeout: 1500ms }}
"#
    );
    let file = scenario(dir.path(), &yaml, &base);
    let run = run_child(dir.path(), &[&file], Duration::from_secs(60));
    assert_code(&run, 0);
    assert_eq!(
        error_codes(&run.summary),
        vec![("".to_string(), 3), ("timeout".to_string(), 6)]
    );
    // The slow body's head arrived: its sample keeps the status.
    assert_eq!(
        series_sum(
            &run.summary,
            "http_reqs",
            "count",
            &[
                ("name", "slow-body"),
                ("status", "200"),
                ("error_code", "timeout")
            ]
        ),
        3.0
    );
    assert!(run.elapsed >= Duration::from_secs(3), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(7), "{:?}", run.elapsed);
    run.assert_memory_bounded();
    eprintln!(
        "slowloris: {:?}, peak RSS {} KiB",
        run.elapsed, run.peak_rss_kb
    );
}

#[test]
fn a_frame_over_16_mib_is_refused_from_its_header() {
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        r#"
scenarios:
  huge:
    executor: per-vu-iterations
    vus: 2
    iterations: 2
    flow:{OK}
      - websocket:
          name: huge
          url: "BASE_URL/ws-huge-frame"
          steps:
            - expect: {{ timeout: 5s }}
"#
    );
    let file = scenario(dir.path(), &yaml, &base);
    let run = run_child(dir.path(), &[&file], Duration::from_secs(60));
    assert_code(&run, 0);
    assert_eq!(
        error_codes(&run.summary),
        vec![("".to_string(), 4), ("ws_message_too_large".to_string(), 4)]
    );
    // Refused at once, not after the 5 s expect timeout.
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
    run.assert_memory_bounded();
    eprintln!(
        "WebSocket 100 MB frame: {:?}, peak RSS {} KiB",
        run.elapsed, run.peak_rss_kb
    );
}
