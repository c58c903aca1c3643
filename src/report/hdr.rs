//! HDR histograms as text for the summary JSON: the standard V2 deflate
//! encoding (as HdrHistogram's Java/Go/JS libraries write it) in base64, so
//! summaries from several machines merge exactly and other tools can read them.

use std::io::Cursor;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};

/// Encodes a histogram as base64 of its V2 deflate serialization.
pub fn encode_hdr(histogram: &Histogram<u64>) -> Result<String, String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .map_err(|e| format!("cannot encode HDR histogram: {e}"))?;
    Ok(STANDARD.encode(bytes))
}

/// Decodes what [`encode_hdr`] wrote (plain V2 encodings are accepted too).
pub fn parse_hdr(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("invalid HDR histogram: not base64 ({e})"))?;
    Deserializer::new()
        .deserialize(&mut Cursor::new(bytes))
        .map_err(|e| format!("invalid HDR histogram: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_counts_and_quantiles() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000, 3).unwrap();
        for v in [120u64, 3_400, 3_400, 98_000, 2_500_000] {
            h.record(v).unwrap();
        }
        let text = encode_hdr(&h).unwrap();
        let back = parse_hdr(&text).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
    }

    #[test]
    fn rejects_garbage_with_a_message() {
        assert!(parse_hdr("not base64!").unwrap_err().contains("not base64"));
        let err = parse_hdr(&STANDARD.encode(b"12345678")).unwrap_err();
        assert!(err.starts_with("invalid HDR histogram"), "{err}");
    }
}
