//! Reporting many input errors without drowning the reader: 300,000 malformed lines are the first
//! few of each kind per file, then one count line per kind ("… and 299,995 more like this in
//! FILE"). `--verbose` asks for every one. The error itself, [`IngestError`], is here too.

use crate::model::text::Escaped;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// A record or file that could not be loaded, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct IngestError {
    pub path: String,
    /// 1-based line; `None` when the whole file is at fault.
    pub line: Option<u64>,
    /// Index of the record inside its container (`Records[i]`), when it has one.
    pub index: Option<u64>,
    pub reason: String,
}

impl IngestError {
    pub fn file(path: &Path, reason: impl Into<String>) -> Self {
        IngestError {
            path: path.display().to_string(),
            line: None,
            index: None,
            reason: reason.into(),
        }
    }

    pub fn record(path: &Path, line: u64, index: Option<u64>, reason: impl Into<String>) -> Self {
        IngestError {
            path: path.display().to_string(),
            line: Some(line),
            index,
            reason: reason.into(),
        }
    }
}

/// Escaped: the file name (inside a directory) and the reason (it may quote a value) are input
/// text, and this is what stderr, the markdown report and the console show.
impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped(&self.path))?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(i) = self.index {
            write!(f, " (record {i})")?;
        }
        write!(f, ": {}", Escaped(&self.reason))
    }
}

/// How many errors of one kind in one file are shown before the rest are only counted.
pub const SHOWN_PER_KIND: usize = 5;
/// Distinct kinds kept apart per file; beyond that they are counted together, so a file whose
/// every line fails differently still reports in bounded space.
const KINDS_PER_FILE: usize = 16;
const OTHER_KIND: &str = "other errors";

/// The errors of one kind in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindCount {
    pub path: String,
    pub kind: String,
    pub count: usize,
    /// How many of them are listed in full.
    pub shown: usize,
}

/// Which errors to list and how many of each kind there are, in first-seen order.
#[derive(Debug, Default)]
pub struct ErrorSummary<'a> {
    pub total: usize,
    /// Errors listed in full, in their original order.
    pub shown: Vec<&'a IngestError>,
    pub kinds: Vec<KindCount>,
}

impl<'a> ErrorSummary<'a> {
    /// Groups `errors` by file and kind; lists the first [`SHOWN_PER_KIND`] of each, or all of
    /// them when `verbose`.
    pub fn new(errors: &'a [IngestError], verbose: bool) -> ErrorSummary<'a> {
        let mut at: HashMap<(&str, String), usize> = HashMap::new();
        let mut kinds_in_file: HashMap<&str, usize> = HashMap::new();
        let mut out = ErrorSummary {
            total: errors.len(),
            ..ErrorSummary::default()
        };
        for e in errors {
            let mut kind = e.kind();
            if !at.contains_key(&(e.path.as_str(), kind.clone())) {
                let n = kinds_in_file.entry(e.path.as_str()).or_default();
                if *n >= KINDS_PER_FILE {
                    kind = OTHER_KIND.to_string();
                } else {
                    *n += 1;
                }
            }
            let i = *at
                .entry((e.path.as_str(), kind.clone()))
                .or_insert_with(|| {
                    out.kinds.push(KindCount {
                        path: e.path.clone(),
                        kind,
                        count: 0,
                        shown: 0,
                    });
                    out.kinds.len() - 1
                });
            let k = &mut out.kinds[i];
            k.count += 1;
            if verbose || k.shown < SHOWN_PER_KIND {
                k.shown += 1;
                out.shown.push(e);
            }
        }
        out
    }

    /// The kinds with errors left out of [`ErrorSummary::shown`].
    pub fn elided(&self) -> impl Iterator<Item = &KindCount> {
        self.kinds.iter().filter(|k| k.count > k.shown)
    }

    /// The text lines of the report (without a prefix): each listed error, then one line per kind
    /// with errors left out. Every piece of input text in them is escaped.
    pub fn lines(&self) -> Vec<String> {
        let mut v: Vec<String> = self.shown.iter().map(|e| e.to_string()).collect();
        v.extend(self.elided().map(|k| {
            format!(
                "… and {} more like this in {} ({})",
                crate::model::text::thousands(k.count - k.shown),
                crate::model::text::escape(&k.path),
                crate::model::text::escape(&k.kind)
            )
        }));
        v
    }
}

impl IngestError {
    /// What kind of error this is, for counting alike errors together: the reason up to its first
    /// `: ` or `; ` (the detail that follows names a line, column or value), with quoted values
    /// and numbers blanked, so "invalid JSON: expected value at line 1 column 3" and "... column 9"
    /// are one kind. At most 80 characters.
    pub fn kind(&self) -> String {
        let head = self.reason.split([':', ';']).next().unwrap_or(&self.reason);
        let mut out = String::with_capacity(head.len().min(80));
        let mut quoted = false;
        let mut in_number = false;
        for c in head.chars() {
            if c == '`' {
                if !quoted {
                    out.push_str("`…`");
                }
                quoted = !quoted;
                in_number = false;
            } else if !quoted {
                if !c.is_ascii_digit() {
                    out.push(c);
                } else if !in_number {
                    out.push('N');
                }
                in_number = c.is_ascii_digit();
            }
            if out.chars().count() >= 80 {
                break;
            }
        }
        out.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn err(path: &str, line: u64, reason: &str) -> IngestError {
        IngestError::record(Path::new(path), line, None, reason)
    }

    #[test]
    fn kinds_ignore_the_details() {
        let a = err("f", 1, "invalid JSON: expected value at line 1 column 3");
        let b = err("f", 2, "invalid JSON: EOF while parsing at line 1 column 9");
        assert_eq!(a.kind(), "invalid JSON");
        assert_eq!(a.kind(), b.kind());
        let c = err("f", 3, "flow log record has 3 fields, the layout has 14");
        let d = err("f", 4, "flow log record has 12 fields, the layout has 14");
        assert_eq!(c.kind(), "flow log record has N fields, the layout has N");
        assert_eq!(c.kind(), d.kind());
        let e = err(
            "f",
            5,
            "unsupported EventBridge detail-type `evil\u{1b}[2J`",
        );
        assert_eq!(e.kind(), "unsupported EventBridge detail-type `…`");
    }

    #[test]
    fn first_few_of_each_kind_per_file_then_counts() {
        let mut errors = Vec::new();
        for i in 0..1000 {
            errors.push(err("a.jsonl", i + 1, "invalid JSON: expected value"));
        }
        errors.push(err("a.jsonl", 1001, "not a GuardDuty finding: no type"));
        for i in 0..7 {
            errors.push(err(
                "b.log",
                i + 1,
                "flow log record has 3 fields, the layout has 14",
            ));
        }
        let s = ErrorSummary::new(&errors, false);
        assert_eq!(s.total, 1008);
        assert_eq!(s.shown.len(), 5 + 1 + 5);
        let counts: Vec<(&str, usize, usize)> = s
            .kinds
            .iter()
            .map(|k| (k.path.as_str(), k.count, k.shown))
            .collect();
        assert_eq!(
            counts,
            vec![("a.jsonl", 1000, 5), ("a.jsonl", 1, 1), ("b.log", 7, 5)]
        );
        let lines = s.lines();
        assert_eq!(lines.len(), 11 + 2);
        assert_eq!(
            lines[11],
            "… and 995 more like this in a.jsonl (invalid JSON)"
        );
        let all = ErrorSummary::new(&errors, true);
        assert_eq!(all.shown.len(), 1008);
        assert_eq!(all.elided().count(), 0);
    }

    #[test]
    fn endless_distinct_kinds_stay_bounded() {
        let errors: Vec<IngestError> = (0..10_000)
            .map(|i| {
                err(
                    "x",
                    i,
                    &format!("kind{}x{}y", "z".repeat(i as usize % 50), i),
                )
            })
            .collect();
        let s = ErrorSummary::new(&errors, false);
        assert!(s.kinds.len() <= KINDS_PER_FILE + 1, "{}", s.kinds.len());
        assert!(s.shown.len() <= (KINDS_PER_FILE + 1) * SHOWN_PER_KIND);
        assert_eq!(s.kinds.iter().map(|k| k.count).sum::<usize>(), 10_000);
    }
}
