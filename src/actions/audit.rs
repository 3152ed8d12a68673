//! The audit log: append-only JSON Lines, one record per line, each flushed and fsync'd before the
//! next API call. Records carry who, when (UTC), the case, the exact call and its outcome; never
//! credentials.

use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(
        "cannot open the audit log {path}: {source} (choose another file with --audit-log PATH)"
    )]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot write the audit log {path}: {source}; stopped before the next call so nothing goes unrecorded"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What a record of the audit log says happened. Serialised as the lower-case word (`"intent"`),
/// as audit logs have always had it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKind {
    /// The state before acting (written once per captured value, before any call).
    Captured,
    /// Before a call: what is about to be called, with its parameters. The default only so that a
    /// record can be built from a template; every record written sets its kind.
    #[default]
    Intent,
    /// After a call: its outcome.
    Result,
    /// The action's outcome, last.
    End,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Captured => "captured",
            AuditKind::Intent => "intent",
            AuditKind::Result => "result",
            AuditKind::End => "end",
        }
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so a width in the format string (`{:<8}`) applies as it did to the string.
        f.pad(self.as_str())
    }
}

/// Compared with the word in the file (`"result"`), as readers of a log do.
impl PartialEq<&str> for AuditKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// UTC, RFC 3339 with milliseconds.
    pub time: String,
    pub kind: AuditKind,
    /// Written by the demo responder over a scenario world, not a real account.
    pub demo: bool,
    pub dry_run: bool,
    pub operator: String,
    pub account: String,
    pub case: String,
    pub action: String,
    pub target: String,
    /// The region acted in, when the plan named one (a finding of another region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// Called with each record once it is on disk (the console shows the session's log live).
pub type AuditTap = Box<dyn FnMut(&AuditRecord) + Send>;

/// An open audit log.
pub struct AuditLog {
    path: PathBuf,
    file: File,
    tap: Option<AuditTap>,
}

impl AuditLog {
    /// Opens (creating it and its directory if needed) for appending.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let err = |source| AuditError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(err)?;
        Ok(AuditLog {
            path: path.to_path_buf(),
            file,
            tap: None,
        })
    }

    /// Also hands each record, after it is fsync'd, to `tap`.
    pub fn with_tap(mut self, tap: AuditTap) -> AuditLog {
        self.tap = Some(tap);
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record, then flushes and fsyncs it.
    pub fn write(&mut self, rec: &AuditRecord) -> Result<(), AuditError> {
        let err = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(rec)
            .map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(err)?;
        self.file.flush().map_err(err)?;
        self.file.sync_data().map_err(err)?;
        if let Some(tap) = self.tap.as_mut() {
            tap(rec);
        }
        Ok(())
    }
}

/// Now, UTC, RFC 3339 with milliseconds.
pub fn now_utc() -> crate::model::Ts {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    crate::model::Ts(ms)
}

/// Reads an audit log back (for tests and the actions screen).
pub fn read(path: &Path) -> std::io::Result<Vec<AuditRecord>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}
