//! Recorded sessions: the file format (a header line, then every envelope the reducer applied, as
//! JSON Lines, optionally gzip), the writer (flushed after every line, so a killed session keeps
//! everything up to the last applied message), the reader, redaction, the asciicast writer and
//! the after-action report. Replaying is the console's ([`crate::console::Replay`]).

pub mod cast;
pub mod redact;
pub mod report;

use crate::actions::AccountView;
use crate::app::{Envelope, Keymap, Mode, Options, State};
use crate::model::Ts;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// The format's version: a reader refuses a newer one.
pub const FORMAT: u32 = 1;

/// What replay needs besides the messages: how the console was started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`]; the key names the file's kind.
    pub vigil_recording: u32,
    pub vigil_version: String,
    /// The wall clock when the session started.
    pub started: Ts,
    /// The terminal size the state started with (later sizes are `resize` messages).
    pub width: u16,
    pub height: u16,
    pub mode: Mode,
    pub label: String,
    pub read_only: bool,
    pub color: bool,
    pub ascii: bool,
    /// The keymap in force, as `vigil keymap print` writes it.
    pub keymap: String,
    /// How the console was armed (the actions screen shows it).
    pub armed: Armed,
    /// A training drill: its scenario and time limit (scored from the messages).
    #[serde(default)]
    pub drill: Option<Drill>,
    /// Identifiers were replaced by pseudonyms (`--redact`, `vigil record redact`).
    #[serde(default)]
    pub redacted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Armed {
    pub responder: String,
    pub audit_path: String,
    pub case: Option<String>,
    pub topic_arn: Option<String>,
    /// The webhook's redacted endpoint (never the URL).
    pub webhook: Option<String>,
    pub open_command: Option<String>,
    pub account: Option<AccountView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drill {
    pub scenario: String,
    pub time_limit_s: Option<u64>,
    #[serde(default)]
    pub objectives: Vec<String>,
    #[serde(default)]
    pub hints: Vec<String>,
}

impl Header {
    /// The header of a session whose state is `s` before any message, started at `started`.
    pub fn of(s: &State, started: Ts) -> Header {
        let a = &s.actions;
        Header {
            vigil_recording: FORMAT,
            vigil_version: env!("CARGO_PKG_VERSION").to_string(),
            started,
            width: s.width,
            height: s.height,
            mode: s.opts.mode,
            label: s.opts.label.clone(),
            read_only: s.opts.read_only,
            color: s.opts.color,
            ascii: s.opts.ascii,
            keymap: s.keymap.print(None),
            armed: Armed {
                responder: a.responder.clone(),
                audit_path: a.audit_path.clone(),
                case: a.case.clone(),
                topic_arn: a.topic_arn.clone(),
                webhook: a.webhook.clone(),
                open_command: a.open_command.clone(),
                account: a.account.clone(),
            },
            drill: s.drill.as_ref().map(|d| Drill {
                scenario: d.scenario.clone(),
                time_limit_s: d.time_limit_s,
                objectives: d.objectives.clone(),
                hints: d.hints.clone(),
            }),
            redacted: false,
        }
    }

    /// The state the session started from.
    pub fn initial_state(&self) -> Result<State, RecordError> {
        let keymap = Keymap::parse("recording header", &self.keymap)
            .map_err(|e| RecordError::Keymap(e.to_string()))?;
        let mut s = State::new(
            Options {
                mode: self.mode,
                color: self.color,
                ascii: self.ascii,
                read_only: self.read_only,
                label: self.label.clone(),
                evidence: None,
            },
            keymap,
        );
        s.width = self.width;
        s.height = self.height;
        let a = &mut s.actions;
        a.responder = self.armed.responder.clone();
        a.audit_path = self.armed.audit_path.clone();
        a.case = self.armed.case.clone();
        a.topic_arn = self.armed.topic_arn.clone();
        a.webhook = self.armed.webhook.clone();
        a.open_command = self.armed.open_command.clone();
        a.account = self.armed.account.clone();
        s.drill = self.drill.as_ref().map(|d| crate::app::state::DrillState {
            scenario: d.scenario.clone(),
            time_limit_s: d.time_limit_s,
            objectives: d.objectives.clone(),
            hints: d.hints.clone(),
            ..Default::default()
        });
        Ok(s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a vigil recording (the first line is no recording header): {reason}", path.display())]
    NotARecording { path: PathBuf, reason: String },
    #[error("{}: recording format {found} is newer than this vigil reads ({FORMAT})", path.display())]
    TooNew { path: PathBuf, found: u32 },
    #[error("{}:{line}: {reason}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("the recording's keymap: {0}")]
    Keymap(String),
}

/// Writes a recording as the session goes: one line per envelope, flushed at once.
pub struct Recorder {
    out: Box<dyn Write + Send>,
    pub path: PathBuf,
    pub lines: usize,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Creates `path` (gzip when it ends in `.gz`) and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Recorder, RecordError> {
        let io = |source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = std::fs::File::create(path).map_err(io)?;
        let out: Box<dyn Write + Send> = if path.extension().is_some_and(|e| e == "gz") {
            Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            ))
        } else {
            Box::new(file)
        };
        let mut r = Recorder {
            out,
            path: path.to_path_buf(),
            lines: 0,
        };
        let line = serde_json::to_string(header).map_err(|e| io(std::io::Error::other(e)))?;
        r.write_line(&line).map_err(io)?;
        Ok(r)
    }

    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        // A gzip stream's flush ends a block: what is written is readable if the process dies.
        self.out.flush()?;
        self.lines += 1;
        Ok(())
    }

    /// Appends one envelope (already serialised by [`line_of`]).
    pub fn append(&mut self, line: &str) -> std::io::Result<()> {
        self.write_line(line)
    }
}

/// The line an envelope is recorded as, with secrets scrubbed from any text it carries (a
/// CloudTrail `AssumeRole` record holds a session token; a recording never does).
pub fn line_of(env: &Envelope) -> Result<String, serde_json::Error> {
    Ok(scrub_secrets(&serde_json::to_string(env)?))
}

/// Replaces the values of secret-bearing JSON keys, also inside JSON nested in strings.
pub fn scrub_secrets(line: &str) -> String {
    const KEYS: [&str; 4] = [
        "sessionToken",
        "secretAccessKey",
        "SessionToken",
        "SecretAccessKey",
    ];
    if !KEYS.iter().any(|k| line.contains(k)) {
        return line.to_string();
    }
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(
            r#"((?:\\*")(?:sessionToken|secretAccessKey|SessionToken|SecretAccessKey)\\*"\s*:\s*\\*")(?:[^"\\]|\\[^"])*"#,
        )
        .ok()
    });
    match re {
        Some(re) => re.replace_all(line, "${1}<redacted>").into_owned(),
        None => line.to_string(),
    }
}

/// A recording read back.
#[derive(Debug)]
pub struct Recording {
    pub header: Header,
    pub envelopes: Vec<Envelope>,
    /// The last line was cut short (the session was killed while writing it): everything
    /// before it is here.
    pub truncated: bool,
}

impl Recording {
    /// The session's length: the offset of its last message.
    pub fn duration_ms(&self) -> u64 {
        self.envelopes.last().map_or(0, |e| e.t_ms)
    }
}

/// Reads a recording (gzip or not, by its magic bytes). A final line cut short — a session
/// killed mid-write, or a gzip stream without its end — ends the recording there; a bad line
/// before the end is an error naming it.
pub fn read(path: &Path) -> Result<Recording, RecordError> {
    let io = |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = std::io::Read::read(&mut file, &mut magic).map_err(io)?;
    std::io::Seek::rewind(&mut file).map_err(io)?;
    let reader: Box<dyn BufRead> = if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(
            file,
        )))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let mut lines = Vec::new();
    let mut truncated = false;
    for line in reader.split(b'\n') {
        match line {
            Ok(l) => lines.push(l),
            // A gzip stream cut off by a kill: what came before is whole.
            Err(_) => {
                truncated = true;
                break;
            }
        }
    }
    let Some(first) = lines.first() else {
        return Err(RecordError::NotARecording {
            path: path.to_path_buf(),
            reason: "the file is empty".into(),
        });
    };
    let header: Header = serde_json::from_slice(first).map_err(|e| RecordError::NotARecording {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if header.vigil_recording > FORMAT {
        return Err(RecordError::TooNew {
            path: path.to_path_buf(),
            found: header.vigil_recording,
        });
    }
    let mut envelopes = Vec::with_capacity(lines.len());
    let last = lines.len() - 1;
    for (i, l) in lines.iter().enumerate().skip(1) {
        if l.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Envelope>(l) {
            Ok(e) => envelopes.push(e),
            // The last line, cut short by a kill: the recording ends before it.
            Err(_) if i == last => truncated = true,
            Err(e) => {
                return Err(RecordError::Line {
                    path: path.to_path_buf(),
                    line: i + 1,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(Recording {
        header,
        envelopes,
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_also_inside_nested_json() {
        let plain = r#"{"credentials":{"accessKeyId":"ASIAX","sessionToken":"IQoJb3JpZ2luX2VjE","expiration":"x"}}"#;
        let out = scrub_secrets(plain);
        assert!(out.contains(r#""sessionToken":"<redacted>""#), "{out}");
        assert!(out.contains("ASIAX"));
        let nested = serde_json::to_string(&serde_json::json!({ "body": plain })).unwrap();
        let out = scrub_secrets(&nested);
        assert!(!out.contains("IQoJb3JpZ2luX2VjE"), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(back["body"].as_str().unwrap().contains("<redacted>"));
    }
}
