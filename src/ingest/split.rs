//! JSON found by its quotes and brackets rather than parsed: a CloudTrail log file's records (the
//! sink that takes each record parses it, or a pivot searches it, so splitting the list with
//! serde's `RawValue` parsed every record twice), and one object's members (the hunt reads a
//! record's fields this way, and splits a nested value only when a rule reads into it). Anything
//! of another shape is left to the general path in `envelope.rs` and `stream.rs`, which reports
//! exactly as before.

use super::envelope::is_ws;
use super::limits::MAX_NESTING;

/// A CloudTrail log file as CloudTrail writes it, an object whose one key is `Records` holding
/// objects, at the start of `slice`: its text, and its records' texts found by their quotes and
/// brackets rather than parsed. Each record is parsed by the sink that takes it (or searched, by
/// a pivot), which reports a malformed one with its place; splitting the list with serde's
/// `RawValue` parsed every record twice and was most of a pivot's time.
///
/// `None` for anything else or anything unexpected (another key, a record that is not an object,
/// mismatched brackets, nesting as deep as serde_json's limit, the end of the buffer): the caller
/// then takes the general path, which reports exactly as before.
pub(super) fn records_only(slice: &[u8]) -> Option<(&str, Vec<&str>)> {
    const KEY: &[u8] = b"\"Records\"";
    let ws = |mut i: usize| {
        while slice.get(i).copied().is_some_and(is_ws) {
            i += 1;
        }
        i
    };
    let expect = |i: usize, b: u8| (slice.get(i) == Some(&b)).then(|| ws(i + 1));
    let mut i = expect(ws(0), b'{')?;
    if !slice.get(i..)?.starts_with(KEY) {
        return None;
    }
    i = expect(ws(i + KEY.len()), b':')?;
    i = expect(i, b'[')?;
    let mut spans = Vec::new();
    if slice.get(i) != Some(&b']') {
        loop {
            let end = object_end(slice, i)?;
            spans.push((i, end));
            i = ws(end);
            match slice.get(i)? {
                b',' => i = ws(i + 1),
                b']' => break,
                _ => return None,
            }
        }
    }
    let end = ws(i + 1);
    if slice.get(end) != Some(&b'}') {
        return None;
    }
    let text = std::str::from_utf8(slice.get(..=end)?).ok()?;
    let records = spans
        .into_iter()
        .map(|(s, e)| text.get(s..e))
        .collect::<Option<Vec<_>>>()?;
    Some((text, records))
}

/// The end (one past the closing brace) of the object that starts at `start`, by its brackets;
/// `None` if it does not start there, is cut off, has mismatched brackets, or nests as deep as
/// serde_json's limit counts from the file's top (the file's object and its list are two levels).
pub(super) fn object_end(b: &[u8], start: usize) -> Option<usize> {
    if b.get(start) != Some(&b'{') {
        return None;
    }
    nested_end(b, start, MAX_NESTING - 2)
}

/// The end of the object or list that starts at `start`, by its brackets; `None` if it is cut
/// off, its brackets do not match, or it nests `room` levels or more.
fn nested_end(b: &[u8], start: usize, room: usize) -> Option<usize> {
    // One bit per open bracket: 1 for `{`, 0 for `[` (serde_json's limit fits).
    const { assert!(MAX_NESTING <= 128) };
    let (mut open, mut depth) = (0u128, 0usize);
    let mut i = start;
    loop {
        match *b.get(i)? {
            b'"' => {
                i = string_end(b, i + 1)?;
                continue;
            }
            c @ (b'{' | b'[') => {
                depth += 1;
                if depth >= room {
                    return None;
                }
                open = open << 1 | u128::from(c == b'{');
            }
            c @ (b'}' | b']') => {
                if depth == 0 || (open & 1 == 1) != (c == b'}') {
                    return None;
                }
                open >>= 1;
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// An object's members, found by quotes and brackets rather than parsed: each key as written
/// (with its quotes, escapes not decoded) and each value's JSON text. The object's own level
/// is checked as JSON — string keys, `:`, `,` between members, a scalar value `true`, `false`,
/// `null` or a number — and nested values only by their brackets: who reads a field below
/// splits that value in turn. `None` when `text` (less surrounding whitespace) is not such an
/// object.
pub(crate) fn members(text: &str) -> Option<Vec<(&str, &str)>> {
    let b = text.as_bytes();
    let ws = |mut i: usize| {
        while b.get(i).copied().is_some_and(is_ws) {
            i += 1;
        }
        i
    };
    let mut i = ws(0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut out = Vec::with_capacity(32);
    i = ws(i + 1);
    if b.get(i) == Some(&b'}') {
        return (ws(i + 1) == b.len()).then_some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(b, i + 1)?;
        let key = text.get(i..key_end)?;
        i = ws(key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(i + 1);
        let end = match *b.get(i)? {
            b'"' => string_end(b, i + 1)?,
            b'{' | b'[' => nested_end(b, i, MAX_NESTING)?,
            _ => {
                let len = b[i..]
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']') || is_ws(*c))
                    .unwrap_or(b.len() - i);
                if !is_scalar(&b[i..i + len]) {
                    return None;
                }
                i + len
            }
        };
        out.push((key, text.get(i..end)?));
        i = ws(end);
        match b.get(i)? {
            b',' => i = ws(i + 1),
            b'}' => return (ws(i + 1) == b.len()).then_some(out),
            _ => return None,
        }
    }
}

/// Whether `t` is a JSON literal or number (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`).
fn is_scalar(t: &[u8]) -> bool {
    if matches!(t, b"true" | b"false" | b"null") {
        return true;
    }
    let digits = |i: usize| {
        t[i.min(t.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut i = usize::from(t.first() == Some(&b'-'));
    let int = digits(i);
    if int == 0 || (int > 1 && t[i] == b'0') {
        return false;
    }
    i += int;
    if t.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if frac == 0 {
            return false;
        }
        i += 1 + frac;
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == t.len()
}

/// One past the quote that closes the string whose text starts at `i`, stepping over escapes.
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b.get(at) == Some(&b'"') {
            return Some(at + 1);
        }
        i = at + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::value::RawValue;

    /// The records serde's `RawValue` split finds, for comparison.
    fn by_serde(text: &str) -> Vec<String> {
        #[derive(Deserialize)]
        struct File<'a> {
            #[serde(rename = "Records", borrow)]
            records: Vec<&'a RawValue>,
        }
        let f: File = serde_json::from_str(text).unwrap();
        f.records.iter().map(|r| r.get().to_string()).collect()
    }

    fn split(text: &str) -> Option<Vec<String>> {
        let (whole, records) = records_only(text.as_bytes())?;
        assert_eq!(
            whole,
            text.trim_end(),
            "the file's text, to its closing brace"
        );
        Some(records.into_iter().map(str::to_string).collect())
    }

    #[test]
    fn records_are_split_as_serde_splits_them() {
        for text in [
            r#"{"Records":[]}"#,
            r#"{"Records":[{"eventName":"A","n":[1,{"b":[]}]},{"x":"}]\"{["}]}"#,
            // An escaped backslash ends before the quote that closes the string.
            r#"{"Records":[{"a":"\\","b":"\\\""},{"c":"]"}]}"#,
            "{ \"Records\" :\n [\n  {\"a\": 1} ,\n  {\"b\": [\"{\"]}\n ]\n}\n",
            r#"{"Records":[{"ua":"ünïcødé ✓ \u0022"}]}"#,
        ] {
            assert_eq!(split(text), Some(by_serde(text)), "{text}");
        }
    }

    #[test]
    fn anything_else_takes_the_general_path() {
        for text in [
            // Another key after or before the list.
            r#"{"Records":[{"a":1}],"x":1}"#,
            r#"{"x":1,"Records":[{"a":1}]}"#,
            // A record that is not an object.
            r#"{"Records":[{"a":1},"text"]}"#,
            // Mismatched or unbalanced brackets; cut off.
            r#"{"Records":[{"a":[1}]}"#,
            r#"{"Records":[{"a":1}}]}"#,
            r#"{"Records":[{"a":"b}]}"#,
            r#"{"Records":[{"a":1}"#,
            r#"{"Records":[{"a":1},"#,
            // Not a CloudTrail file at all.
            r#"[{"a":1}]"#,
            r#"{"Recordsx":[]}"#,
        ] {
            assert_eq!(split(text), None, "{text}");
        }
        assert_eq!(records_only(b"{\"Records\":[{\"a\":\"\xff\"}]}"), None);
    }

    #[test]
    fn members_are_found_as_serde_finds_them() {
        use std::collections::BTreeMap;
        for text in [
            r#"{}"#,
            " { } \n",
            r#"{"a":1,"b":-2.5e+3,"c":true,"d":false,"e":null,"f":"x\"}{","g":{"h":[1,{"i":"]"}]},"j":[]}"#,
            "{ \"k\" : \"v\" ,\n \"l\":[ 1 , 2 ] , \"m\" : 0 }",
            r#"{"a\u0062":"ünï ✓","a\\":"\\"}"#,
        ] {
            let ours: Vec<(String, String)> = members(text)
                .unwrap_or_else(|| panic!("{text}"))
                .into_iter()
                .map(|(k, v)| (serde_json::from_str(k).unwrap(), v.to_string()))
                .collect();
            let theirs: BTreeMap<String, &RawValue> = serde_json::from_str(text).unwrap();
            let theirs: Vec<(String, String)> = theirs
                .into_iter()
                .map(|(k, v)| (k, v.get().to_string()))
                .collect();
            let mut sorted = ours.clone();
            sorted.sort();
            assert_eq!(sorted, theirs, "{text}");
        }
    }

    #[test]
    fn a_malformed_top_level_is_no_object() {
        assert_eq!(members("[1]"), None, "a list");
        for text in [
            "",
            r#"{"a":tru}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a":1,}"#,
            r#"{a:1}"#,
            r#"{"a":1}x"#,
            r#"{"a":[1}"#,
            r#"{"a":"b}"#,
            r#"{"a":1"#,
        ] {
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(text).is_err(),
                "{text}"
            );
            assert_eq!(members(text), None, "{text}");
        }
    }

    #[test]
    fn nesting_at_serde_jsons_limit_takes_the_general_path() {
        // The file's object and list are two levels: a record may nest 125 more.
        let record = |depth: usize| {
            format!(
                "{{\"a\":{}1{}}}",
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            )
        };
        let file = |depth: usize| format!("{{\"Records\":[{}]}}", record(depth));
        let ok = file(MAX_NESTING - 3);
        assert!(serde_json::from_str::<serde_json::Value>(&ok).is_ok());
        assert_eq!(split(&ok), Some(vec![record(MAX_NESTING - 3)]));
        let deep = file(MAX_NESTING - 2);
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
        assert_eq!(split(&deep), None);
    }
}
