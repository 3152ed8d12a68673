//! The session's recording at the edge: every envelope the reducer applies is kept (as its
//! recorded line) from the start, so recording can begin at any moment and still replay from the
//! first message; while a recording is on, each line is also written and flushed at once.

use crate::app::{Envelope, Msg, State};
use crate::model::Ts;
use crate::record::{Header, Recorder, line_of};
use std::path::{Path, PathBuf};

pub struct SessionLog {
    header: Header,
    lines: Vec<String>,
    recorder: Option<Recorder>,
    redactor: Option<crate::record::redact::Redactor>,
}

impl SessionLog {
    /// The log of a session whose state is `s` before any message.
    pub fn new(s: &State, started: Ts) -> SessionLog {
        SessionLog {
            header: Header::of(s, started),
            lines: Vec::new(),
            recorder: None,
            redactor: None,
        }
    }

    /// Keeps `env`, and writes it when recording. A failed write stops the recording and says
    /// why (the session goes on).
    pub fn keep(&mut self, env: &Envelope) -> Option<Msg> {
        let line = match line_of(env) {
            Ok(l) => l,
            Err(e) => return self.fail(e.to_string()),
        };
        if let Some(r) = self.recorder.as_mut() {
            let written = match self.redactor.as_mut() {
                Some(red) => {
                    redact_line(red, &line).and_then(|l| r.append(&l).map_err(|e| e.to_string()))
                }
                None => r.append(&line).map_err(|e| e.to_string()),
            };
            if let Err(e) = written {
                self.lines.push(line);
                return self.fail(e);
            }
        }
        self.lines.push(line);
        None
    }

    fn fail(&mut self, why: String) -> Option<Msg> {
        let path = self.recorder.take().map(|r| r.path);
        Some(Msg::Recording {
            path: None,
            error: Some(format!(
                "recording {} stopped: {why}",
                path.map(|p| p.display().to_string()).unwrap_or_default()
            )),
        })
    }

    /// Starts recording to `path`: the header and every line so far, then each new one.
    pub fn start(&mut self, path: &Path, redact: bool) -> Msg {
        let mut header = self.header.clone();
        header.redacted = redact;
        let mut redactor = if redact {
            match crate::record::redact::Redactor::new() {
                Ok(r) => Some(r),
                Err(e) => return recording_failed(path, &e.to_string()),
            }
        } else {
            None
        };
        let header_line = match (&mut redactor, serde_json::to_value(&header)) {
            (Some(red), Ok(mut v)) => {
                red.value(&mut v);
                serde_json::from_value::<Header>(v).map_err(|e| e.to_string())
            }
            (None, Ok(_)) => Ok(header),
            (_, Err(e)) => Err(e.to_string()),
        };
        let header = match header_line {
            Ok(h) => h,
            Err(e) => return recording_failed(path, &e),
        };
        let mut rec = match Recorder::create(path, &header) {
            Ok(r) => r,
            Err(e) => return recording_failed(path, &e.to_string()),
        };
        for line in &self.lines {
            let written = match redactor.as_mut() {
                Some(red) => {
                    redact_line(red, line).and_then(|l| rec.append(&l).map_err(|e| e.to_string()))
                }
                None => rec.append(line).map_err(|e| e.to_string()),
            };
            if let Err(e) = written {
                return recording_failed(path, &e);
            }
        }
        self.recorder = Some(rec);
        self.redactor = redactor;
        Msg::Recording {
            path: Some(path.display().to_string()),
            error: None,
        }
    }

    /// Stops recording; the file is complete up to here.
    pub fn stop(&mut self) -> Msg {
        self.recorder = None;
        self.redactor = None;
        Msg::Recording {
            path: None,
            error: None,
        }
    }

    pub fn recording(&self) -> Option<&Path> {
        self.recorder.as_ref().map(|r| r.path.as_path())
    }
}

/// A line with its identifiers replaced (the redactor keeps the pseudonyms of the file).
fn redact_line(red: &mut crate::record::redact::Redactor, line: &str) -> Result<String, String> {
    let mut v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
    red.value(&mut v);
    serde_json::to_string(&v).map_err(|e| e.to_string())
}

fn recording_failed(path: &Path, why: &str) -> Msg {
    Msg::Recording {
        path: None,
        error: Some(format!("cannot record to {}: {why}", path.display())),
    }
}

/// Where a recording started from a key goes: `<state>/recordings/vigil-<mode>-<time>.jsonl.gz`.
pub fn default_path(mode: crate::app::Mode, now: Ts) -> PathBuf {
    let stamp: String = now
        .to_rfc3339_secs()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    crate::paths::state_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("vigil"))
        .join("recordings")
        .join(format!(
            "vigil-{}-{stamp}.jsonl.gz",
            mode.as_str().to_lowercase()
        ))
}
