//! Attacker-controlled text on its way to a terminal. Log fields (user agents, user names, event
//! names, finding titles, domains, file names) are written by whoever the logs describe, so every
//! text output (markdown, tables, DOT, Mermaid, error messages) passes them through [`escape`], and
//! every JSON output through [`SafeJson`] or [`json_raw`]. See docs/HOSTILE-INPUT.md.
//!
//! The visible form: a C0 control or DEL becomes `\xNN` (ESC is `\x1b`, NUL `\x00`, a newline
//! `\x0a`), a C1 control (U+0080–U+009F) becomes `\u{NN}` (CSI is `\u{9b}`). Backslashes are left
//! alone: the point is that no control reaches the terminal, not that the text can be reversed.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io;

/// C0 controls (U+0000–U+001F), DEL (U+007F) and C1 controls (U+0080–U+009F): exactly the
/// characters Unicode classes as `Cc`, the ones a terminal may act on.
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// `s` with every control character written out visibly (`\x1b`, `\u{9b}`); borrowed when there
/// is none, which is nearly always.
pub fn escape(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(is_control) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if !is_control(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// [`escape`] for multi-line text the program laid out itself (a plan, a report, an error
/// chain): its own line breaks stay, every other control inside a line is written out.
pub fn escape_lines(s: &str) -> Cow<'_, str> {
    if !s.contains(|c: char| is_control(c) && c != '\n') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.split('\n').map(escape).collect::<Vec<_>>().join("\n"))
}

/// `299995` as `299,995`.
/// A byte count for people: `812 B`, `4.2 KiB`, `118.0 MiB`, `1.1 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// [`escape`] as a `Display` adapter, for `format!` arguments: `format!("{}", Escaped(&title))`.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escape(self.0))
    }
}

/// A serde_json formatter that also writes DEL and C1 controls as `\u00XX` escapes. serde_json
/// escapes C0 on its own but passes U+007F–U+009F through raw, and a terminal acts on U+009B (CSI)
/// as it does on `ESC [`. Wraps the compact or pretty formatter.
pub struct SafeJson<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for SafeJson<F> {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(is_control) {
            w.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or('\0');
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[at + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// Pretty JSON with every control character escaped (the `analyze` and `graph` JSON outputs).
pub fn to_writer_pretty<W: io::Write, T: ?Sized + serde::Serialize>(
    w: W,
    value: &T,
) -> serde_json::Result<()> {
    let fmt = SafeJson(serde_json::ser::PrettyFormatter::new());
    value.serialize(&mut serde_json::Serializer::with_formatter(w, fmt))
}

/// Compact JSON with every control character escaped.
pub fn to_string<T: ?Sized + serde::Serialize>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let fmt = SafeJson(serde_json::ser::CompactFormatter);
    value.serialize(&mut serde_json::Serializer::with_formatter(&mut out, fmt))?;
    // The serializer writes only UTF-8.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Valid JSON text passed through as it was written (`pivot --format jsonl`), with DEL and C1
/// controls turned into `\u00XX` escapes. The result means the same JSON: in valid JSON raw C0
/// controls cannot occur at all and any other non-ASCII character can only sit inside a string,
/// where the escape stands for the same character.
pub fn json_raw(raw: &str) -> Cow<'_, str> {
    if !raw.contains(is_control) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len() + 16);
    for c in raw.chars() {
        if !is_control(c) {
            out.push(c);
        } else if matches!(c, '\n' | '\r' | '\t') {
            // JSON whitespace, which can only sit between tokens: any whitespace means the same.
            out.push(' ');
        } else {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// True if `bytes` holds a control a terminal could act on, other than the line structure of the
/// output itself (newline, and tab in tables). Tests use it on whole outputs.
pub fn has_raw_control(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes)
        .chars()
        .any(|c| is_control(c) && c != '\n')
}

/// A stretch of time as a responder says it: "2 h 14 m", "36 m", "45 s".
pub fn span(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} m"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_c0_del_and_c1_visibly() {
        let s = "a\u{1b}[2J\u{7}\u{8}\0\u{9b}31m\u{7f}\tz";
        let e = escape(s);
        assert_eq!(e, "a\\x1b[2J\\x07\\x08\\x00\\u{9b}31m\\x7f\\x09z");
        assert!(!e.contains(is_control));
        assert!(matches!(escape("plain ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(format!("[{:<6}]", Escaped("\u{7}")), "[\\x07  ]");
    }

    #[test]
    fn json_escapes_what_serde_json_leaves_raw() {
        let v = serde_json::json!({"ua": "x\u{1b}[2J\u{9b}\u{7f}\u{85}y"});
        let plain = serde_json::to_string(&v).unwrap();
        assert!(
            plain.contains('\u{9b}'),
            "serde_json alone passes C1 through"
        );
        let safe = to_string(&v).unwrap();
        assert!(!safe.contains(is_control), "{safe}");
        assert_eq!(safe, r#"{"ua":"x\u001b[2J\u009b\u007f\u0085y"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v, "the escapes mean the same text");
        let mut pretty = Vec::new();
        to_writer_pretty(&mut pretty, &v).unwrap();
        assert!(!has_raw_control(&pretty));
        assert!(String::from_utf8(pretty).unwrap().contains("\n  \"ua\""));
    }

    #[test]
    fn raw_json_keeps_its_meaning() {
        let raw = "{\"a\":\"\u{9b}2J\u{7f}\",\"b\":[1,\n2]}";
        let safe = json_raw(raw);
        assert!(!has_raw_control(safe.as_bytes()));
        let a: serde_json::Value = serde_json::from_str(raw).unwrap();
        let b: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn escape_lines_keeps_line_breaks_only() {
        assert!(matches!(escape_lines("a\nb\n"), Cow::Borrowed("a\nb\n")));
        assert_eq!(
            escape_lines("plan\n  role \x1b[2Jx\r\n\u{9b}31m"),
            "plan\n  role \\x1b[2Jx\\x0d\n\\u{9b}31m"
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(299_995), "299,995");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn spans_read_as_said() {
        assert_eq!(span(std::time::Duration::from_secs(8040)), "2 h 14 m");
        assert_eq!(span(std::time::Duration::from_secs(7200)), "2 h");
        assert_eq!(span(std::time::Duration::from_secs(2160)), "36 m");
        assert_eq!(span(std::time::Duration::from_secs(45)), "45 s");
    }
}
