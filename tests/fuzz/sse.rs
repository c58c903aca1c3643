//! The SSE parser fed arbitrary bytes cut into arbitrary chunks: the events,
//! the error and the stream state do not depend on where the network cut
//! the bytes, and nothing larger than the event size limit is buffered.

use proptest::prelude::*;
use stampede::protocol::sse::{EventStreamParser, SseEvent, SseParseError};

use super::config;

/// What a whole stream gives: every event dispatched before the first
/// error, the error, and the state a reconnect would use.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<SseEvent>,
    error: Option<SseParseError>,
    last_id: String,
    retry_ms: Option<u64>,
    comments: u64,
}

/// Feeds `bytes` cut at `cuts` (offsets, any order, duplicates allowed) and
/// checks after every successful chunk that the unfinished line the parser
/// must be holding is within `limit`: a longer one has to be an error.
fn feed(bytes: &[u8], cuts: &[usize], limit: usize) -> Result<Outcome, TestCaseError> {
    let mut offsets: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    offsets.push(bytes.len());
    offsets.sort_unstable();
    let mut parser = EventStreamParser::new(limit);
    let mut events = Vec::new();
    let mut error = None;
    let mut start = 0;
    for end in offsets {
        match parser.feed(&bytes[start..end], &mut events) {
            Ok(()) => prop_assert!(
                pending_line(&bytes[..end]) <= limit,
                "{} bytes of one line held under a {limit}-byte limit",
                pending_line(&bytes[..end])
            ),
            Err(e) => {
                // A failed parser stays failed.
                prop_assert_eq!(parser.feed(b"data: x\n\n", &mut events), Err(e.clone()));
                error = Some(e);
                break;
            }
        }
        start = end;
    }
    for event in &events {
        // `message` is the parser's own name for an event that set none.
        let named = event.event == "message" || event.event.len() <= limit;
        prop_assert!(named && event.data.len() <= limit && event.id.len() <= limit);
    }
    Ok(Outcome {
        events,
        error,
        last_id: parser.last_event_id().to_string(),
        retry_ms: parser.retry_ms(),
        comments: parser.comments(),
    })
}

/// Bytes after the last line ending. A leading BOM is not part of a line
/// (at most its three bytes are held while it may still be one).
fn pending_line(seen: &[u8]) -> usize {
    if b"\xEF\xBB\xBF".starts_with(seen) {
        return 0;
    }
    let seen = seen.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(seen);
    match seen.iter().rposition(|&b| b == b'\n' || b == b'\r') {
        Some(at) => seen.len() - at - 1,
        None => seen.len(),
    }
}

/// A stream built from the pieces that matter to the parser, plus any bytes.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data: ".to_vec()),
        Just(b"data:".to_vec()),
        Just(b"event: ".to_vec()),
        Just(b"id: ".to_vec()),
        Just(b"id: a\0b".to_vec()),
        Just(b"retry: ".to_vec()),
        Just(b": keep-alive".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xEF\xBB".to_vec()),
        "[0-9]{1,25}".prop_map(String::into_bytes),
        "\\PC{0,12}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..8),
        (1usize..200).prop_map(|n| vec![b'x'; n]),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(config("sse"))]

    #[test]
    fn events_do_not_depend_on_chunking_and_stay_under_the_limit(
        bytes in stream(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        byte_at_a_time in any::<bool>(),
        limit in prop_oneof![1usize..64, Just(4096usize)],
    ) {
        let whole = feed(&bytes, &[], limit)?;
        let cuts: Vec<usize> = if byte_at_a_time { (0..bytes.len()).collect() } else { cuts };
        let chunked = feed(&bytes, &cuts, limit)?;
        prop_assert_eq!(&chunked, &whole);
        // The only errors are the two bounds and text that is not UTF-8.
        if let Some(SseParseError::LineTooLong { limit: l } | SseParseError::EventTooLarge { limit: l }) =
            whole.error
        {
            prop_assert_eq!(l, limit);
        }
    }
}
