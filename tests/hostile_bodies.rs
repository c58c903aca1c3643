//! Hostile bodies: endless, huge and bomb-shaped responses must cost a VU a
//! bounded amount of memory and end as failed requests with their own
//! `error_code`, never as a crash. Each run is the binary as a child, so its
//! peak RSS (`ru_maxrss`) is its own.

mod hostile_support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use hostile_support::*;

/// A gzip stream of 256 MiB of zeros (about 260 KiB): 256 copies of one
/// member, which is a valid multi-member gzip stream and cheap to build
/// (compressing 256 MiB in a debug build would take minutes). Built once.
fn gzip_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        member.write_all(&vec![0u8; 1 << 20]).unwrap();
        member.finish().unwrap().repeat(256)
    })
}

/// One server, a misbehaviour per path; one request per connection.
fn hostile(mut tcp: TcpStream, until: Instant) {
    let head = read_head(&mut tcp);
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    match path.as_str() {
        "/endless-chunked" => {
            let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
            let mut chunk = b"10000\r\n".to_vec();
            chunk.extend_from_slice(&[b'x'; 0x10000]);
            chunk.extend_from_slice(b"\r\n");
            write_forever(&mut tcp, &chunk, until);
        }
        "/two-gib" => {
            let _ = tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2147483648\r\n\r\n");
            write_forever(&mut tcp, &[b'x'; 0x10000], until);
        }
        "/gzip-bomb" => {
            let bomb = gzip_bomb();
            let head = format!(
                "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
                bomb.len()
            );
            let _ = tcp.write_all(head.as_bytes());
            let _ = tcp.write_all(bomb);
            hold(&mut tcp, until);
        }
        "/2k" => {
            let mut response =
                b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2048\r\n\r\n".to_vec();
            response.extend_from_slice(&[b'x'; 2048]);
            let _ = tcp.write_all(&response);
            hold(&mut tcp, until);
        }
        _ => {
            let _ = tcp.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        }
    }
}

fn request(name: &str, path: &str, extra: &str) -> String {
    format!(
        r#"
      - request:
          name: {name}
          url: "BASE_URL{path}"
          timeout: 20s
          {extra}
          checks: [ {{ body_contains: "x" }} ]"#
    )
}

#[test]
fn endless_huge_and_bomb_bodies_fail_with_their_own_codes_in_bounded_memory() {
    let ratio = gzip_bomb().len();
    assert!(ratio < 300 << 10, "the bomb is {ratio} bytes");
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let flow = [
        request("endless", "/endless-chunked", ""),
        request("two-gib", "/two-gib", ""),
        request("bomb", "/gzip-bomb", ""),
        // The same bomb under a size limit it cannot reach first: the ratio stops it.
        request("bomb-ratio", "/gzip-bomb", "max_body_size: 1GiB"),
        request("small-limit", "/2k", "max_body_size: 1KiB"),
        request("fits", "/2k", "max_body_size: 4KiB"),
    ]
    .concat();
    let yaml = format!(
        "scenarios:\n  hostile:\n    executor: per-vu-iterations\n    vus: 2\n    iterations: 3\n    flow:{flow}\n"
    );
    let file = scenario(dir.path(), &yaml, &base);
    let run = run_child(dir.path(), &[&file], Duration::from_secs(120));
    assert_code(&run, 0);
    let s = &run.summary;
    let count = |name: &str, code: &str| {
        series_sum(
            s,
            "http_reqs",
            "count",
            &[("name", name), ("error_code", code)],
        )
    };
    assert_eq!(
        count("endless", "body_too_large"),
        6.0,
        "{:?}",
        error_codes(s)
    );
    assert_eq!(
        count("two-gib", "body_too_large"),
        6.0,
        "{:?}",
        error_codes(s)
    );
    assert_eq!(
        count("bomb", "decompression_limit"),
        6.0,
        "{:?}",
        error_codes(s)
    );
    assert_eq!(count("bomb-ratio", "decompression_limit"), 6.0);
    assert_eq!(count("small-limit", "body_too_large"), 6.0);
    assert_eq!(
        error_codes(s),
        vec![
            ("".to_string(), 6),
            ("body_too_large".to_string(), 18),
            ("decompression_limit".to_string(), 12)
        ]
    );
    // Failed requests: everything but `fits`.
    let failed = series_sum(s, "http_req_failed", "passes", &[]);
    assert_eq!(failed, 30.0);
    run.assert_memory_bounded();
    eprintln!(
        "hostile bodies: {:?}, peak RSS {} KiB",
        run.elapsed, run.peak_rss_kb
    );
    assert!(run.elapsed < Duration::from_secs(60), "{:?}", run.elapsed);
}

#[test]
fn a_body_nothing_reads_is_drained_until_the_timeout_without_being_kept() {
    let base = serve(hostile);
    let dir = tempfile::tempdir().unwrap();
    let yaml = r#"
scenarios:
  drain:
    executor: per-vu-iterations
    vus: 4
    iterations: 2
    flow:
      - request: { name: endless, url: "BASE_URL/endless-chunked", timeout: 2s }
      - request: { name: fits, url: "BASE_URL/2k" }
"#;
    let file = scenario(dir.path(), yaml, &base);
    let run = run_child(dir.path(), &[&file], Duration::from_secs(60));
    assert_code(&run, 0);
    assert_eq!(
        error_codes(&run.summary),
        vec![("".to_string(), 8), ("timeout".to_string(), 8)]
    );
    // Each VU: two 2 s timeouts in a row.
    assert!(run.elapsed >= Duration::from_secs(4), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
    // Gigabytes went through; none were kept.
    let received = series_sum(&run.summary, "data_received", "count", &[]);
    assert!(received > 100e6, "only {received} bytes received");
    run.assert_memory_bounded();
    eprintln!(
        "drained {received} bytes in {:?}, peak RSS {} KiB",
        run.elapsed, run.peak_rss_kb
    );
}

#[test]
fn body_limits_resolve_request_then_scenario_then_http_and_bad_sizes_are_named() {
    use stampede::scenario::{LoadOptions, Step, load_str};
    let yaml = r#"
http: { max_body_size: 1MiB, max_decompression_ratio: 20 }
scenarios:
  big:
    duration: 1s
    max_body_size: 50MB
    flow:
      - request: { url: "http://127.0.0.1:1/a" }
      - request: { url: "http://127.0.0.1:1/b", max_body_size: 512 }
  plain:
    duration: 1s
    flow:
      - request: { url: "http://127.0.0.1:1/c" }
"#;
    let plan = load_str(
        yaml,
        std::path::Path::new("t.yaml"),
        &LoadOptions::default(),
    )
    .unwrap();
    let limits: Vec<u64> = plan
        .scenarios
        .iter()
        .flat_map(|s| s.flow.iter())
        .map(|step| match step {
            Step::Request(r) => r.max_body_size,
            _ => unreachable!("only requests here"),
        })
        .collect();
    assert_eq!(limits, vec![50_000_000, 512, 1 << 20]);
    assert_eq!(plan.http.max_decompression_ratio, 20);

    let bad = "http: { max_body_size: 10mb }\nduration: 1s\nflow:\n  - request: { url: \"http://127.0.0.1:1/\" }\n";
    let err = load_str(bad, std::path::Path::new("t.yaml"), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("http.max_body_size") && err.contains("invalid size \"10mb\""),
        "{err}"
    );
}
