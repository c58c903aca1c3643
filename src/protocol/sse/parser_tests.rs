use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;

fn parse_all(input: &[u8]) -> Vec<SseEvent> {
    let mut parser = EventStreamParser::default();
    let mut out = Vec::new();
    parser.feed(input, &mut out).unwrap();
    out
}

/// Feeds `input` split at every given offset.
fn parse_split(input: &[u8], cuts: &[usize]) -> Result<Vec<SseEvent>, SseParseError> {
    let mut parser = EventStreamParser::default();
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        parser.feed(&input[start..cut], &mut out)?;
        start = cut;
    }
    Ok(out)
}

fn ev(event: &str, data: &str, id: &str) -> SseEvent {
    SseEvent {
        event: event.into(),
        data: data.into(),
        id: id.into(),
    }
}

#[test]
fn named_events_ids_and_multiline_data() {
    let input = b"event: add\nid: 7\ndata: one\ndata: two\n\ndata:three\n\n";
    assert_eq!(
        parse_all(input),
        vec![ev("add", "one\ntwo", "7"), ev("message", "three", "7")]
    );
}

#[test]
fn comments_retry_and_unknown_fields() {
    let mut parser = EventStreamParser::default();
    let mut out = Vec::new();
    let input = b": keep-alive\nretry: 2500\nfoo: bar\ndata: x\n\nretry: 1x\n\n";
    parser.feed(input, &mut out).unwrap();
    assert_eq!(out, vec![ev("message", "x", "")]);
    assert_eq!(parser.comments(), 1);
    assert_eq!(
        parser.retry_ms(),
        Some(2500),
        "a non-digit retry is ignored"
    );
}

#[test]
fn every_line_ending_works_and_mixes() {
    let lf = parse_all(b"data: a\n\ndata: b\n\n");
    let crlf = parse_all(b"data: a\r\n\r\ndata: b\r\n\r\n");
    let cr = parse_all(b"data: a\r\rdata: b\r\r");
    let mixed = parse_all(b"data: a\r\n\rdata: b\n\r\n");
    let want = vec![ev("message", "a", ""), ev("message", "b", "")];
    assert_eq!(lf, want);
    assert_eq!(crlf, want);
    assert_eq!(cr, want);
    assert_eq!(mixed, want);
}

#[test]
fn crlf_split_across_chunks_is_one_line_ending() {
    let input = b"data: a\r\n\r\ndata: b\r\n\r\n";
    for cut in 0..=input.len() {
        assert_eq!(
            parse_split(input, &[cut]).unwrap(),
            vec![ev("message", "a", ""), ev("message", "b", "")],
            "cut at {cut}"
        );
    }
}

#[test]
fn leading_bom_is_dropped_even_split_but_only_once() {
    let input = b"\xEF\xBB\xBFdata: a\n\n";
    for cut in 0..=4 {
        assert_eq!(
            parse_split(input, &[cut]).unwrap(),
            vec![ev("message", "a", "")]
        );
    }
    // A second BOM is part of the field name, so the line is an unknown field.
    assert_eq!(parse_all(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\n"), vec![]);
    // Bytes that start like a BOM but are not one stay in the line (and
    // are not text here).
    assert_eq!(
        parse_split(b"\xEF\xBBdata: a\n\n", &[1]).unwrap_err(),
        SseParseError::InvalidUtf8
    );
}

#[test]
fn field_details_follow_the_standard() {
    // Only one leading space is removed; no colon means an empty value.
    assert_eq!(
        parse_all(b"data:  two\n\n"),
        vec![ev("message", " two", "")]
    );
    assert_eq!(parse_all(b"data\n\n"), vec![ev("message", "", "")]);
    assert_eq!(parse_all(b"data\ndata\n\n"), vec![ev("message", "\n", "")]);
    // No data: no event, and the event type does not leak into the next one.
    assert_eq!(
        parse_all(b"event: x\n\ndata: y\n\n"),
        vec![ev("message", "y", "")]
    );
    // An id with NUL is ignored; an empty id resets it.
    assert_eq!(
        parse_all(b"id: 1\ndata: a\n\nid: 2\0\ndata: b\n\nid\ndata: c\n\n"),
        vec![
            ev("message", "a", "1"),
            ev("message", "b", "1"),
            ev("message", "c", "")
        ]
    );
    // The id persists across events.
    assert_eq!(
        parse_all(b"id: 9\n\ndata: a\n\n"),
        vec![ev("message", "a", "9")]
    );
}

#[test]
fn an_event_cut_off_by_the_end_is_not_dispatched() {
    assert_eq!(
        parse_all(b"data: a\n\ndata: b\n"),
        vec![ev("message", "a", "")]
    );
    assert_eq!(parse_all(b"data: a"), vec![]);
}

#[test]
fn limits_bound_lines_and_events() {
    let mut parser = EventStreamParser::new(16);
    let mut out = Vec::new();
    let err = parser.feed(&[b'x'; 17], &mut out).unwrap_err();
    assert_eq!(err, SseParseError::LineTooLong { limit: 16 });
    // Once failed, it stays failed.
    assert_eq!(parser.feed(b"\n\n", &mut out).unwrap_err(), err);

    let mut parser = EventStreamParser::new(16);
    let err = parser
        .feed(b"data: 01234567\ndata: 01234567\n\n", &mut out)
        .unwrap_err();
    assert_eq!(err, SseParseError::EventTooLarge { limit: 16 });

    // A line that grows across chunks is bounded too.
    let mut parser = EventStreamParser::new(16);
    for _ in 0..4 {
        parser.feed(b"abcd", &mut out).unwrap();
    }
    assert!(parser.feed(b"e", &mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn invalid_utf8_is_an_error() {
    let mut parser = EventStreamParser::default();
    let mut out = Vec::new();
    assert_eq!(
        parser.feed(b"data: \xFF\xFE\n\n", &mut out),
        Err(SseParseError::InvalidUtf8)
    );
    // Multi-byte characters split across chunks are fine.
    let text = "data: h\u{e9}llo \u{1F600}\n\n".as_bytes();
    for cut in 0..text.len() {
        assert_eq!(
            parse_split(text, &[cut]).unwrap(),
            vec![ev("message", "h\u{e9}llo \u{1F600}", "")]
        );
    }
}

/// Random inputs cut into random chunks never panic, and any cut of a valid
/// stream gives the same events as the whole.
#[test]
fn random_bytes_and_random_chunking() {
    let mut rng = SmallRng::seed_from_u64(7);
    let alphabet: &[u8] = b"data:event:id:retry: \r\n\r\n:x12\xEF\xBB\xBF\xFF\0";
    for _ in 0..2_000 {
        let len = rng.random_range(0..200);
        let input: Vec<u8> = (0..len)
            .map(|_| {
                if rng.random_bool(0.8) {
                    alphabet[rng.random_range(0..alphabet.len())]
                } else {
                    rng.random()
                }
            })
            .collect();
        let mut cuts: Vec<usize> = (0..rng.random_range(0..6))
            .map(|_| rng.random_range(0..=len))
            .collect();
        cuts.sort_unstable();
        let mut parser = EventStreamParser::new(64);
        let mut out = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&len)) {
            if parser.feed(&input[start..cut], &mut out).is_err() {
                break;
            }
            start = cut;
        }
    }

    let valid = b"\xEF\xBB\xBFretry: 10\r\n: c\r\nevent: a\r\nid: 1\r\ndata: x\r\ndata: y\r\n\r\nid: 2\rdata: z\r\r\ndata: w\n\n";
    let whole = parse_all(valid);
    assert_eq!(
        whole,
        vec![
            ev("a", "x\ny", "1"),
            ev("message", "z", "2"),
            ev("message", "w", "2")
        ]
    );
    for _ in 0..2_000 {
        let mut cuts: Vec<usize> = (0..rng.random_range(1..8))
            .map(|_| rng.random_range(0..=valid.len()))
            .collect();
        cuts.sort_unstable();
        assert_eq!(parse_split(valid, &cuts).unwrap(), whole, "cuts {cuts:?}");
    }
}
