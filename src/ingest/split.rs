//! A CloudTrail log file's records found by their quotes and brackets rather than parsed: the
//! sink that takes each record parses it (or a pivot searches it), so splitting the list with
//! serde's `RawValue` parsed every record twice. Anything of another shape is left to the
//! general path in `envelope.rs` and `stream.rs`, which reports exactly as before.

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
    // One bit per open bracket: 1 for `{`, 0 for `[`.
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
                if depth + 2 >= MAX_NESTING {
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
