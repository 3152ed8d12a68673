//! Demo mode: the bundled incident scenarios (demo/<name>/, embedded in the binary), loaded through
//! the same ingest as real data, and their timeline of findings for streaming.

use crate::ingest::{self, InputError, Loaded};
use crate::model::{Finding, Ts};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod playback;
pub mod responder;
pub mod world;

pub use playback::{Pacing, Playback};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// The scenario played when none is named.
pub const DEFAULT_SCENARIO: &str = "log4shell-c2";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("no demo scenario named `{0}`; `vigil demo --list` shows them")]
    Unknown(String),
    #[error("cannot unpack demo scenario into {path}: {source}")]
    Unpack {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("demo scenario manifest {path} is invalid: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error(transparent)]
    Input(#[from] InputError),
}

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub title: String,
    pub synopsis: String,
    pub account_id: String,
    #[serde(default)]
    pub regions: Vec<String>,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
    #[serde(default)]
    pub slices: Vec<Slice>,
    pub answer_key: AnswerKey,
    #[serde(default)]
    pub groups: Vec<ManifestGroup>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TimelineEntry {
    pub finding_id: String,
    pub offset_secs: f64,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Slice {
    pub path: String,
    pub kind: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AnswerKey {
    #[serde(default)]
    pub compromised: Vec<String>,
    #[serde(default)]
    pub attacker_ips: Vec<String>,
    #[serde(default)]
    pub attacker_domains: Vec<String>,
    #[serde(default)]
    pub right_actions: Vec<KeyAction>,
    #[serde(default)]
    pub wrong_actions: Vec<KeyAction>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeyAction {
    pub action: String,
    pub target: String,
    #[serde(default)]
    pub why: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ManifestGroup {
    pub findings: Vec<String>,
    pub severity: f64,
}

/// A scenario's name, title and synopsis.
#[derive(Debug, Clone)]
pub struct ScenarioInfo {
    pub name: String,
    pub title: String,
    pub synopsis: String,
}

/// A finding due at an offset from the start of the demo.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub offset: Duration,
    pub finding: Finding,
}

/// One step of play.
#[derive(Debug, Clone, Copy)]
pub enum Cue<'a> {
    /// This much quiet scenario time was skipped.
    Quiet(Duration),
    Finding(&'a Finding),
}

pub struct Scenario {
    pub manifest: Manifest,
    pub dir: PathBuf,
    /// All evidence (logs available from the start, as in S3). `evidence.findings` is empty: the
    /// findings arrive over time through [`Scenario::arrivals`].
    pub evidence: Loaded,
    pub arrivals: Vec<Arrival>,
    pub start: Ts,
}

/// Names of the embedded scenarios, sorted.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = embedded::FILES
        .iter()
        .filter_map(|(p, _)| p.strip_suffix("/scenario.toml").map(str::to_string))
        .collect();
    v.sort();
    v
}

fn manifest_from(path: &Path, text: &str) -> Result<Manifest, DemoError> {
    toml::from_str(text).map_err(|e| DemoError::Manifest {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Every embedded scenario's synopsis, for `vigil demo --list`.
pub fn list() -> Result<Vec<ScenarioInfo>, DemoError> {
    names()
        .into_iter()
        .map(|n| {
            let key = format!("{n}/scenario.toml");
            let text = embedded::FILES
                .iter()
                .find(|(p, _)| *p == key)
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            let m = manifest_from(Path::new(&key), &text)?;
            Ok(ScenarioInfo {
                name: m.name,
                title: m.title,
                synopsis: m.synopsis,
            })
        })
        .collect()
}

/// Where embedded scenarios are unpacked: the user's cache directory, keyed by content so an
/// upgraded binary never reads stale files.
fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let mut h: u64 = 0;
    for (p, b) in embedded::FILES {
        h ^=
            crate::model::content_hash(p.as_bytes()).rotate_left(7) ^ crate::model::content_hash(b);
    }
    base.join("vigil").join(format!("demo-{h:016x}"))
}

/// Unpacks an embedded scenario (once) and returns its directory.
pub fn unpack(name: &str) -> Result<PathBuf, DemoError> {
    let prefix = format!("{name}/");
    let files: Vec<&(&str, &[u8])> = embedded::FILES
        .iter()
        .filter(|(p, _)| p.starts_with(&prefix))
        .collect();
    if files.is_empty() {
        return Err(DemoError::Unknown(name.to_string()));
    }
    let root = cache_root();
    for (rel, bytes) in files {
        let path = root.join(rel);
        let io = |source| DemoError::Unpack {
            path: path.clone(),
            source,
        };
        if std::fs::metadata(&path)
            .map(|m| m.len() == bytes.len() as u64)
            .unwrap_or(false)
        {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        // Write then rename, so a concurrent run never reads a half-written file.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
    }
    Ok(root.join(name))
}

impl Scenario {
    /// Loads an embedded scenario by name.
    pub fn load(name: &str) -> Result<Scenario, DemoError> {
        Scenario::load_dir(&unpack(name)?)
    }

    /// Loads a scenario from a directory laid out as demo/<name>/.
    pub fn load_dir(dir: &Path) -> Result<Scenario, DemoError> {
        let mpath = dir.join("scenario.toml");
        let text = std::fs::read_to_string(&mpath).map_err(|source| DemoError::Unpack {
            path: mpath.clone(),
            source,
        })?;
        let manifest = manifest_from(&mpath, &text)?;
        let start = Ts::parse(&manifest.start).ok_or_else(|| DemoError::Manifest {
            path: mpath.clone(),
            reason: format!("start `{}` is not a time", manifest.start),
        })?;
        let inputs: Vec<PathBuf> = ["findings", "cloudtrail", "flowlogs", "dns"]
            .iter()
            .map(|d| dir.join(d))
            .filter(|p| p.exists())
            .collect();
        let mut evidence = ingest::load(&inputs)?;
        let mut findings = std::mem::take(&mut evidence.findings);
        let mut arrivals = Vec::new();
        for t in &manifest.timeline {
            if let Some(i) = findings.iter().position(|f| f.id == t.finding_id) {
                let finding = findings.swap_remove(i);
                arrivals.push(Arrival {
                    offset: Duration::from_secs_f64(t.offset_secs.max(0.0)),
                    finding,
                });
            }
        }
        // Findings the timeline does not mention arrive at the start, so nothing is lost.
        arrivals.extend(findings.into_iter().map(|finding| Arrival {
            offset: Duration::ZERO,
            finding,
        }));
        arrivals.sort_by(|a, b| {
            a.offset
                .cmp(&b.offset)
                .then(a.finding.id.cmp(&b.finding.id))
        });
        Ok(Scenario {
            manifest,
            dir: dir.to_path_buf(),
            evidence,
            arrivals,
            start,
        })
    }

    /// The incident's length: the last arrival's offset.
    pub fn duration(&self) -> Duration {
        self.arrivals.last().map_or(Duration::ZERO, |a| a.offset)
    }

    /// When each finding arrives on the wall clock under `pacing`.
    pub fn playback(&self, pacing: Pacing) -> Playback {
        let offsets: Vec<Duration> = self.arrivals.iter().map(|a| a.offset).collect();
        Playback::new(&offsets, pacing)
    }

    /// What happens when, from the start of play: each finding at its arrival, and before it
    /// the quiet skipped to reach it (when most of the wait was skipped). The console and `--headless` both
    /// play this.
    pub fn schedule(&self, pacing: Pacing) -> Vec<(Duration, Cue<'_>)> {
        let mut out = Vec::with_capacity(self.arrivals.len() * 2);
        let pb = self.playback(pacing);
        for (gap, a) in pb.gaps.iter().zip(&self.arrivals) {
            if pb.worth_notice(gap) {
                out.push((gap.wall_start, Cue::Quiet(gap.skipped)));
            }
            out.push((gap.arrival(), Cue::Finding(&a.finding)));
        }
        out
    }

    /// Every finding, for analysis as if the whole incident had already played.
    pub fn all_findings(&self) -> Vec<Finding> {
        self.arrivals.iter().map(|a| a.finding.clone()).collect()
    }
}
