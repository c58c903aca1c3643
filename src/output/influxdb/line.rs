//! InfluxDB line protocol, written by hand into a reused buffer:
//! `measurement,tag=v,tag2=v2 field=1.5,n=3i 1700000000000000000\n`.
//!
//! Escaping follows the line-protocol reference: in a measurement, commas
//! and spaces are escaped with a backslash; in tag keys, tag values and
//! field keys, commas, equals signs and spaces. A line break cannot be
//! escaped in InfluxDB 1.x, so it is written as the two characters `\n`.
//! Tags with an empty value are left out: the protocol has no empty tag.
//!
//! A backslash is written as is: InfluxDB treats it as an escape only before
//! a character that needs one. So a tag whose key or value ends in one
//! cannot be written: InfluxDB's reader takes any separator after a
//! backslash as escaped, and rejects the line (`name=C:\dir\` swallows the
//! rest). Such a tag is left out, as Telegraf does, so the point still lands.

use std::fmt::Write as _;

/// Appends `name` escaped as a measurement.
pub fn push_measurement(out: &mut String, name: &str) {
    push_escaped(out, name, |c| matches!(c, ',' | ' '));
}

/// Appends `key` escaped as a tag key, tag value or field key.
pub fn push_key(out: &mut String, key: &str) {
    push_escaped(out, key, |c| matches!(c, ',' | '=' | ' '));
}

/// Appends `,key=value` for every pair line protocol can carry: non-empty,
/// and not ending in a backslash (see the module comment). Pairs are
/// expected sorted by key, as InfluxDB recommends (and `TagSet` keeps them).
pub fn push_tags<'a>(out: &mut String, tags: impl IntoIterator<Item = (&'a str, &'a str)>) {
    let writable = |text: &str| !text.is_empty() && !text.ends_with('\\');
    for (key, value) in tags {
        if !writable(key) || !writable(value) {
            continue;
        }
        out.push(',');
        push_key(out, key);
        out.push('=');
        push_key(out, value);
    }
}

/// Appends a float field value. Rust's `Display` for `f64` is the shortest
/// text that reads back to the same number and never uses an exponent, so
/// `1.0` is `1`, `0.0000001` stays positional, and large integers print all
/// their digits; InfluxDB reads any of these as a float. Callers must not
/// pass NaN or infinities (the protocol has no text for them).
pub fn push_float(out: &mut String, value: f64) {
    debug_assert!(value.is_finite());
    // Writing into a String cannot fail.
    let _ = write!(out, "{value}");
}

/// Appends an integer field value (`42i`).
pub fn push_int(out: &mut String, value: u64) {
    push_u64(out, value);
    out.push('i');
}

/// Appends an unsigned integer in decimal (timestamps).
pub fn push_u64(out: &mut String, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

fn push_escaped(out: &mut String, text: &str, needs_escape: impl Fn(char) -> bool) {
    if !text
        .chars()
        .any(|c| needs_escape(c) || c == '\n' || c == '\r')
    {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(name: &str) -> String {
        let mut s = String::new();
        push_measurement(&mut s, name);
        s
    }

    fn key(name: &str) -> String {
        let mut s = String::new();
        push_key(&mut s, name);
        s
    }

    fn float(v: f64) -> String {
        let mut s = String::new();
        push_float(&mut s, v);
        s
    }

    #[test]
    fn measurements_escape_commas_and_spaces_only() {
        assert_eq!(measurement("http_reqs"), "http_reqs");
        assert_eq!(measurement("a,b c=d"), r"a\,b\ c=d");
        assert_eq!(measurement("line\nbreak"), r"line\nbreak");
    }

    #[test]
    fn keys_and_values_escape_commas_equals_and_spaces() {
        assert_eq!(key("GET /api/graphs?a=1,2"), r"GET\ /api/graphs?a\=1\,2");
        assert_eq!(key(r"back\slash"), r"back\slash");
        assert_eq!(key("ünïcode"), "ünïcode");
    }

    #[test]
    fn empty_tag_values_are_left_out() {
        let mut s = String::new();
        push_tags(&mut s, [("group", ""), ("method", "GET"), ("", "x")]);
        assert_eq!(s, ",method=GET");
    }

    #[test]
    fn tags_ending_in_a_backslash_are_left_out() {
        let mut s = String::new();
        let tags = [
            ("a", r"C:\dir\"),
            (r"b\", "x"),
            ("c", r"p\,q"),
            ("d", r"r\s"),
        ];
        push_tags(&mut s, tags);
        // InfluxDB reads `p\\,q` back as `p\,q`: the `\,` is the escape.
        assert_eq!(s, r",c=p\\,q,d=r\s");
    }

    #[test]
    fn floats_print_without_exponents() {
        assert_eq!(float(1.0), "1");
        assert_eq!(float(0.0), "0");
        assert_eq!(float(12.345), "12.345");
        assert_eq!(float(0.0000001), "0.0000001");
        assert_eq!(float(1e21), "1000000000000000000000");
        assert_eq!(float(-2.5), "-2.5");
    }

    #[test]
    fn integers_and_timestamps() {
        let mut s = String::new();
        push_int(&mut s, 0);
        s.push(' ');
        push_int(&mut s, 42);
        s.push(' ');
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, "0i 42i 18446744073709551615");
    }
}
