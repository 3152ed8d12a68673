//! The hunting rules: SigmaHQ's CloudTrail rules and vigil's own (rules/, embedded in the binary),
//! plus a team's directory. Each file is parsed on its own, so a rule that cannot be read is
//! reported with its file and line and the others still run.

use rsigma_parser::{SigmaCollection, parse_sigma_yaml};
use std::path::{Path, PathBuf};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/rule_files.rs"));
}

/// A rule file that could not be used: where, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Rules read from YAML, with what could not be read.
#[derive(Default)]
pub struct RuleSet {
    pub collection: SigmaCollection,
    pub errors: Vec<RuleError>,
    /// Which file each rule (by id or title) came from, for `--list-rules`.
    pub sources: Vec<(String, String)>,
    pub files: usize,
}

impl RuleSet {
    /// The bundled rules (`rules/` in the repository).
    pub fn bundled() -> RuleSet {
        let mut set = RuleSet::default();
        for (name, bytes) in embedded::RULES {
            if name.ends_with(".yml") || name.ends_with(".yaml") {
                set.add(
                    &format!("(bundled)/{name}"),
                    &String::from_utf8_lossy(bytes),
                );
            }
        }
        set
    }

    /// The file the rule keyed `key` (its id, else its title: [`rule_key`]) came from.
    pub fn file_of(&self, key: &str) -> Option<&str> {
        self.sources
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| f.as_str())
    }

    /// Adds every `.yml`/`.yaml` file under `dir` (sorted, recursively).
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let mut files = Vec::new();
        walk(dir, &mut files).map_err(|e| RuleError {
            file: dir.display().to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(text) => self.add(&f.display().to_string(), &text),
                Err(e) => self.errors.push(RuleError {
                    file: f.display().to_string(),
                    line: 0,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        Ok(())
    }

    /// Adds the rules of one file's text.
    pub fn add(&mut self, file: &str, text: &str) {
        self.files += 1;
        let parsed = match parse_sigma_yaml(text) {
            Ok(c) => c,
            Err(e) => {
                self.errors.push(located(file, text, &e.to_string()));
                return;
            }
        };
        for e in &parsed.errors {
            self.errors.push(located(file, text, e));
        }
        for r in &parsed.rules {
            self.sources
                .push((rule_key(&r.id, &r.title), file.to_string()));
        }
        for r in &parsed.correlations {
            self.sources
                .push((rule_key(&r.id, &r.title), file.to_string()));
        }
        self.collection.rules.extend(parsed.rules);
        self.collection.correlations.extend(parsed.correlations);
        self.collection.filters.extend(parsed.filters);
    }
}

/// How a rule is known: its `id`, else its title.
pub fn rule_key(id: &Option<String>, title: &str) -> String {
    id.clone().unwrap_or_else(|| title.to_string())
}

/// An error message placed in its file: the line the YAML parser names, else the line of the
/// key the message is about (`condition`, `detection`, …), else the first line.
fn located(file: &str, text: &str, message: &str) -> RuleError {
    let named = message.split("line ").nth(1).and_then(|rest| {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<usize>().ok()
    });
    let lower = message.to_ascii_lowercase();
    let by_key = || {
        [
            "condition",
            "correlation",
            "detection",
            "logsource",
            "timespan",
            "group-by",
            "title",
        ]
        .iter()
        .find(|k| lower.contains(*k))
        .and_then(|k| {
            text.lines()
                .position(|l| l.trim_start().starts_with(&format!("{k}:")))
                .map(|i| i + 1)
        })
    };
    RuleError {
        file: file.to_string(),
        line: named.or_else(by_key).unwrap_or(1),
        message: message.to_string(),
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_rule_parses() {
        let set = RuleSet::bundled();
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        assert!(
            set.collection.rules.len() >= 57,
            "{}",
            set.collection.rules.len()
        );
    }

    #[test]
    fn a_bad_rule_is_placed_in_its_file_and_the_rest_still_load() {
        let mut set = RuleSet::default();
        set.add(
            "bad.yml",
            "title: Bad\nlogsource:\n  product: aws\ndetection:\n  sel:\n    eventName: X\n  condition: sel and (\n",
        );
        set.add("broken.yml", "title: [unclosed\n");
        set.add(
            "good.yml",
            "title: Good\nid: g\nlogsource:\n  product: aws\ndetection:\n  sel:\n    eventName: X\n  condition: sel\n",
        );
        assert_eq!(set.collection.rules.len(), 1, "{:?}", set.errors);
        let bad = set.errors.iter().find(|e| e.file == "bad.yml");
        assert_eq!(bad.map(|e| e.line), Some(7), "{:?}", set.errors);
        let broken = set.errors.iter().find(|e| e.file == "broken.yml");
        assert!(broken.is_some_and(|e| e.line >= 1), "{:?}", set.errors);
    }
}
