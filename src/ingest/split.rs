//! JSON found by its quotes and brackets rather than parsed: a CloudTrail log file's records (the
//! sink that takes each record parses it, or a pivot searches it, so splitting the list with
//! serde's `RawValue` parsed every record twice), and one object's members (the hunt reads a
//! record's fields this way, and splits a nested value only when a rule reads into it). Anything
//! of another shape is left to the general path in `envelope.rs` and `stream.rs`, which reports
//! exactly as before.

use super::blocks::{self, Specials};
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
/// Found 64 bytes at a time ([`blocks`]); a block with a backslash, and the tail, byte by byte.
pub(super) fn object_end(b: &[u8], start: usize) -> Option<usize> {
    if b.get(start) != Some(&b'{') {
        return None;
    }
    container_end(b, start)
}

/// [`object_end`] for an object or a list.
fn container_end(b: &[u8], start: usize) -> Option<usize> {
    let mut s = Scan {
        open: Brackets::default(),
        in_string: false,
        escaped: false,
    };
    let mut i = start;
    while let Some(block) = b.get(i..i + 64) {
        let block: &[u8; 64] = block.try_into().ok()?;
        let m = blocks::masks(block);
        if m.backslash != 0 || s.escaped {
            if let Some(end) = s.bytes(block)? {
                return Some(i + end);
            }
        } else {
            let inside = blocks::prefix_xor(m.quote) ^ if s.in_string { u64::MAX } else { 0 };
            s.in_string = inside >> 63 == 1;
            let mut brackets = (m.open | m.close) & !inside;
            while brackets != 0 {
                let k = brackets.trailing_zeros() as usize;
                brackets &= brackets - 1;
                if let Some(end) = s.bracket(block[k])? {
                    return Some(i + k + end);
                }
            }
        }
        i += 64;
    }
    s.bytes(b.get(i..)?)?.map(|end| i + end)
}

/// Where [`object_end`]'s scan is: the brackets open, and whether it is inside a string (just
/// after a backslash there).
struct Scan {
    open: Brackets,
    in_string: bool,
    escaped: bool,
}

impl Scan {
    /// Takes bracket `c` (outside strings): `Some(Some(1))` when it closes the object, `None`
    /// when it cannot be there.
    fn bracket(&mut self, c: u8) -> Option<Option<usize>> {
        match c {
            b'{' | b'[' => self.open.open(c, MAX_NESTING - 2).map(|()| None),
            _ => Some(self.open.close(c)?.then_some(1)),
        }
    }

    /// Walks `bytes` one by one: `Some(Some(end))` when the object closes at `end` (one past its
    /// brace), `Some(None)` when it is still open after them.
    fn bytes(&mut self, bytes: &[u8]) -> Option<Option<usize>> {
        for (k, &c) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_string = false;
                }
            } else if c == b'"' {
                self.in_string = true;
            } else if matches!(c, b'{' | b'[' | b'}' | b']')
                && let Some(end) = self.bracket(c)?
            {
                return Some(Some(k + end));
            }
        }
        Some(None)
    }
}

/// The brackets open at a point of a scan, innermost last: one bit each, 1 for `{` and 0 for
/// `[` (serde_json's nesting limit fits in 128).
#[derive(Default)]
struct Brackets {
    bits: u128,
    depth: usize,
}

impl Brackets {
    /// Opens `c`; `None` when that makes `room` levels or more.
    fn open(&mut self, c: u8, room: usize) -> Option<()> {
        const { assert!(MAX_NESTING <= 128) };
        self.depth += 1;
        if self.depth >= room {
            return None;
        }
        self.bits = self.bits << 1 | u128::from(c == b'{');
        Some(())
    }

    /// Closes `c`: `None` when it does not close the innermost open bracket, else whether none
    /// is left open.
    fn close(&mut self, c: u8) -> Option<bool> {
        if self.depth == 0 || self.in_object() != (c == b'}') {
            return None;
        }
        self.bits >>= 1;
        self.depth -= 1;
        Some(self.depth == 0)
    }

    fn in_object(&self) -> bool {
        self.bits & 1 == 1
    }
}

/// An object's members, found by quotes and brackets rather than parsed: each key as written
/// (with its quotes, escapes not decoded) and each value's JSON text. The whole object is
/// checked as JSON on the way ([`checked_end`]), so a malformed record is refused here;
/// nothing is decoded (who reads a field below splits that value in turn). `None` when `text`
/// (less surrounding whitespace) is not such an object.
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
    let sp = Specials::new(b);
    i = ws(i + 1);
    if b.get(i) == Some(&b'}') {
        return (ws(i + 1) == b.len()).then_some(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = checked_string_end(&sp, b, i + 1)?;
        let key = text.get(i..key_end)?;
        i = ws(key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = ws(i + 1);
        let end = match *b.get(i)? {
            b'"' => checked_string_end(&sp, b, i + 1)?,
            b'{' | b'[' => checked_end(&sp, b, i)?,
            _ => scalar_end(b, i)?,
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

/// The members of an object [`members`] has already checked (a value inside a record it
/// accepted), found again without checking: each key as written and each value's text, strings
/// skipped by a search and objects and lists by their brackets 64 bytes at a time. `None` when
/// `text` is not an object; the members end early if the text is not as checked.
pub(crate) fn checked_members(text: &str) -> Option<impl Iterator<Item = (&str, &str)>> {
    let b = text.as_bytes();
    let ws = move |mut i: usize| {
        while b.get(i).copied().is_some_and(is_ws) {
            i += 1;
        }
        i
    };
    let start = ws(0);
    if b.get(start) != Some(&b'{') {
        return None;
    }
    let mut i = ws(start + 1);
    Some(std::iter::from_fn(move || {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = quoted_end(b, i + 1)?;
        let key = text.get(i..key_end)?;
        let v = ws(ws(key_end) + 1);
        let end = match *b.get(v)? {
            b'"' => quoted_end(b, v + 1)?,
            b'{' | b'[' => container_end(b, v)?,
            _ => {
                v + b
                    .get(v..)?
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']') || is_ws(*c))?
            }
        };
        let value = text.get(v..end)?;
        let next = ws(end);
        i = match b.get(next) {
            Some(b',') => ws(next + 1),
            _ => b.len(),
        };
        Some((key, value))
    }))
}

/// One past the quote that closes the string whose text starts at `i`, in checked text.
fn quoted_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b.get(at) == Some(&b'"') {
            return Some(at + 1);
        }
        i = at + 2;
    }
}

/// The end of the literal or number at `i` (up to the next `,`, `}`, `]` or blank); `None` when
/// it is neither.
fn scalar_end(b: &[u8], i: usize) -> Option<usize> {
    let len = b
        .get(i..)?
        .iter()
        .position(|c| matches!(c, b',' | b'}' | b']') || is_ws(*c))
        .unwrap_or(b.len() - i);
    is_scalar(&b[i..i + len]).then_some(i + len)
}

/// What a checked scan expects next.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// A value, or (just after `[`) the list's end.
    Value {
        or_close: bool,
    },
    /// A member's key, or (just after `{`) the object's end.
    Key {
        or_close: bool,
    },
    Colon,
    /// `,` or the end of the open object or list.
    Next,
}

/// The end of the object or list that starts at `start`, checked as JSON on the way: keys are
/// strings followed by `:`, members and items are separated by `,`, scalars are literals or
/// numbers, escapes are JSON's, brackets match, and it nests less than serde_json's limit. (A
/// raw control character inside a string, which serde_json refuses, is not looked for:
/// CloudTrail escapes them, and the typed parse still refuses one.) `None` otherwise.
fn checked_end(sp: &Specials, b: &[u8], start: usize) -> Option<usize> {
    let mut open = Brackets::default();
    let mut expect = Expect::Value { or_close: false };
    let mut i = start;
    loop {
        while b.get(i).copied().is_some_and(is_ws) {
            i += 1;
        }
        let c = *b.get(i)?;
        match (expect, c) {
            (Expect::Value { or_close: true }, b']')
            | (Expect::Key { or_close: true }, b'}')
            | (Expect::Next, b'}' | b']') => {
                if open.close(c)? {
                    return Some(i + 1);
                }
                expect = Expect::Next;
                i += 1;
            }
            (Expect::Value { .. }, b'{' | b'[') => {
                open.open(c, MAX_NESTING)?;
                expect = if c == b'{' {
                    Expect::Key { or_close: true }
                } else {
                    Expect::Value { or_close: true }
                };
                i += 1;
            }
            (Expect::Value { .. }, b'"') => {
                i = checked_string_end(sp, b, i + 1)?;
                expect = Expect::Next;
            }
            (Expect::Value { .. }, _) => {
                i = scalar_end(b, i)?;
                expect = Expect::Next;
            }
            (Expect::Key { .. }, b'"') => {
                i = checked_string_end(sp, b, i + 1)?;
                expect = Expect::Colon;
            }
            (Expect::Colon, b':') => {
                i += 1;
                expect = Expect::Value { or_close: false };
            }
            (Expect::Next, b',') => {
                i += 1;
                expect = if open.in_object() {
                    Expect::Key { or_close: false }
                } else {
                    Expect::Value { or_close: false }
                };
            }
            _ => return None,
        }
    }
}

/// One past the quote that closes the string whose text starts at `i`, each escape checked as
/// JSON's (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`,
/// `\u` and four hex digits).
fn checked_string_end(sp: &Specials, b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let at = sp.next(i)?;
        if b.get(at) == Some(&b'"') {
            return Some(at + 1);
        }
        i = match *b.get(at + 1)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at + 2,
            b'u' if b.get(at + 2..at + 6)?.iter().all(u8::is_ascii_hexdigit) => at + 6,
            _ => return None,
        };
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

    /// Records longer than a block, with escapes, quotes and brackets at every offset from a
    /// block's edge: split as serde splits them, and refused as before when cut off or
    /// mismatched.
    #[test]
    fn long_records_are_split_across_blocks() {
        let tricky = [
            r#""a\"b""#,
            r#""\\""#,
            r#""}]\"{[""#,
            r#"{"k":[1,{"l":"]"}],"m":"\\\""}"#,
            r#"[[[],{}],"\u0022"]"#,
        ];
        for pad in 0..140 {
            for t in tricky {
                let filler = "x".repeat(pad);
                let rec = format!(r#"{{"p":"{filler}","v":{t},"w":[{t},{t}],"q":"{filler}\\"}}"#);
                let text = format!(r#"{{"Records":[{rec},{{"n":{t}}},{rec}]}}"#);
                assert_eq!(split(&text), Some(by_serde(&text)), "{text}");
                let cut = format!(r#"{{"Records":[{rec},{{"n":{t}"#);
                assert_eq!(split(&cut), None, "{cut}");
                let mismatched = format!(r#"{{"Records":[{{"p":"{filler}","v":[{t}}}]}}"#);
                assert_eq!(split(&mismatched), None, "{mismatched}");
            }
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

    /// Every object inside `raw` (itself included), as text.
    fn objects_in(raw: &str, out: &mut Vec<String>) {
        let v: serde_json::Value = serde_json::from_str(raw).unwrap();
        fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Object(m) => {
                    out.push(v.to_string());
                    m.values().for_each(|v| walk(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        walk(&v, out);
    }

    #[test]
    fn checked_text_is_split_again_as_it_was_checked() {
        let mut texts: Vec<String> = [
            "{}",
            " { } \n",
            r#"{"a":1,"b":-2.5e+3,"c":true,"d":false,"e":null,"f":"x\"}{","g":{"h":[1,{"i":"]"}]},"j":[]}"#,
            "{ \"k\" : \"v\" ,\n \"l\":[ 1 , 2 ] , \"m\" : 0 }",
            r#"{"a\u0062":"ünï ✓","a\\":"\\","n":[[],[{}],"]\\"]}"#,
        ]
        .map(String::from)
        .to_vec();
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/public/stratus-red-team/detonation-logs"
        );
        for f in std::fs::read_dir(dir).unwrap() {
            objects_in(
                &std::fs::read_to_string(f.unwrap().path()).unwrap(),
                &mut texts,
            );
        }
        assert!(texts.len() > 1_500, "{}", texts.len());
        for t in &texts {
            let checked = members(t).unwrap_or_else(|| panic!("{t}"));
            let again: Vec<(&str, &str)> = checked_members(t).unwrap().collect();
            assert_eq!(again, checked, "{t}");
        }
        assert!(checked_members("[1]").is_none());
        assert!(checked_members(r#""{}""#).is_none());
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
            // Below the top level.
            r#"{"a":{"b":tru}}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":[,1]}"#,
            r#"{"a":[1 2]}"#,
            r#"{"a":{"b" 1}}"#,
            r#"{"a":{"b"}}"#,
            r#"{"a":{,}}"#,
            r#"{"a":{"b":1,}}"#,
            r#"{"a":{1:2}}"#,
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12g4"}"#,
            r#"{"a":["\u12"]}"#,
        ] {
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(text).is_err(),
                "{text}"
            );
            assert_eq!(members(text), None, "{text}");
        }
    }

    /// Whether `members` takes `text` as serde_json does: a JSON object, checked in full.
    fn agrees(text: &str) -> bool {
        let serde = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
            && text.trim_start().starts_with('{');
        members(text).is_some() == serde
    }

    #[test]
    fn real_records_are_split_and_every_edit_checked_as_serde_checks_it() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/public/stratus-red-team/detonation-logs"
        );
        let mut records = Vec::new();
        for f in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            let list: Vec<Box<RawValue>> = serde_json::from_str(&text).unwrap();
            records.extend(list.into_iter().map(|r| r.get().to_string()));
        }
        assert!(records.len() > 300, "{}", records.len());
        for r in &records {
            let ours = members(r).unwrap_or_else(|| panic!("{r}"));
            let theirs: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(r).unwrap();
            assert_eq!(ours.len(), theirs.len(), "{r}");
        }
        // Every one-byte edit of a record with nested policies, escapes and lists: deleted, or
        // a structural or ordinary byte inserted before it.
        let r = records
            .iter()
            .filter(|r| r.contains("\\\"") && r.contains('['))
            .max_by_key(|r| r.len())
            .unwrap();
        let mut checked = 0;
        for (i, _) in r.char_indices().skip(1) {
            let mut deleted = r.clone();
            deleted.remove(i);
            assert!(agrees(&deleted), "{deleted}");
            for c in [
                ',', '"', '{', '}', '[', ']', ':', '1', '\\', 'x', ' ', '-', '.', 'e',
            ] {
                let mut inserted = r.clone();
                inserted.insert(i, c);
                assert!(agrees(&inserted), "{inserted}");
                checked += 1;
            }
        }
        assert!(checked > 10_000, "{checked}");
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
