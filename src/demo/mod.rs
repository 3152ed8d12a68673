//! Demo mode: the bundled incident scenarios (demo/<name>/, embedded in the binary), loaded through
//! the same ingest as real data (read straight from the embedded bytes), and their timeline of
//! findings for streaming.

use crate::ingest::{self, EmbeddedFile, Loaded};
use crate::model::{Finding, Ts};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use world::World;

mod error;
pub(crate) mod playback;
pub mod responder;
pub(crate) mod world;

pub use error::DemoError;

pub use playback::{Pacing, Playback};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/demo_files.rs"));
}

/// The scenario played when none is named.
pub const DEFAULT_SCENARIO: &str = "log4shell-c2";

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
    /// Where its files are: embedded in the binary or in a directory.
    pub source: ScenarioSource,
    /// All evidence (logs available from the start, as in S3). `evidence.findings` is empty: the
    /// findings arrive over time through [`Scenario::arrivals`].
    pub evidence: Loaded,
    pub arrivals: Vec<Arrival>,
    pub start: Ts,
}

/// Where a scenario's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioSource {
    /// Bundled with the binary, by name.
    Embedded(String),
    /// A directory laid out as demo/<name>/ ([`Scenario::load_dir`]).
    Dir(PathBuf),
}

/// The evidence folders of a scenario, in the order they are loaded.
const EVIDENCE: [&str; 4] = ["findings", "cloudtrail", "flowlogs", "dns"];

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

/// An embedded file by its path under demo/ (`<name>/scenario.toml`).
fn embedded(key: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == key)
        .map(|(_, b)| *b)
}

/// What errors and record origins call an embedded file: its path in the repository.
fn embedded_name(key: &str) -> PathBuf {
    Path::new("demo").join(key)
}

/// Every embedded scenario's synopsis, for `vigil demo --list`.
pub fn list() -> Result<Vec<ScenarioInfo>, DemoError> {
    names()
        .into_iter()
        .map(|n| {
            let key = format!("{n}/scenario.toml");
            let text = embedded(&key)
                .map(|b| String::from_utf8_lossy(b).into_owned())
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

/// The evidence files of embedded scenario `name`, folder by folder in [`EVIDENCE`] order and
/// within a folder in the order a directory walk gives (the build embeds them sorted, folder by
/// folder); hidden files are left out, as a directory walk leaves them out.
fn embedded_evidence(name: &str) -> Vec<EmbeddedFile> {
    EVIDENCE
        .iter()
        .flat_map(|dir| {
            let prefix = format!("{name}/{dir}/");
            embedded::FILES.iter().filter_map(move |(p, bytes)| {
                let rest = p.strip_prefix(&prefix)?;
                let hidden = rest.split('/').any(|c| c.starts_with('.'));
                (!hidden).then(|| EmbeddedFile {
                    name: embedded_name(p),
                    bytes,
                })
            })
        })
        .collect()
}

impl Scenario {
    /// Loads an embedded scenario by name, from the bytes in the binary.
    pub fn load(name: &str) -> Result<Scenario, DemoError> {
        let key = format!("{name}/scenario.toml");
        let text = embedded(&key).ok_or_else(|| DemoError::Unknown(name.to_string()))?;
        let mpath = embedded_name(&key);
        let text = std::str::from_utf8(text).map_err(|e| DemoError::Manifest {
            path: mpath.clone(),
            reason: e.to_string(),
        })?;
        let manifest = manifest_from(&mpath, text)?;
        let evidence = ingest::load_embedded(&embedded_evidence(name));
        Scenario::assemble(
            manifest,
            &mpath,
            evidence,
            ScenarioSource::Embedded(name.to_string()),
        )
    }

    /// SHA-256 over the scenario's evidence files (name and bytes, in load order): what a
    /// recording pins so a replay knows it indexes the same data.
    pub fn evidence_sha256(&self) -> String {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        let mut add = |name: &Path, bytes: &[u8]| {
            h.update(name.to_string_lossy().as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        match &self.source {
            ScenarioSource::Embedded(name) => {
                for f in embedded_evidence(name) {
                    add(&f.name, f.bytes);
                }
            }
            ScenarioSource::Dir(dir) => {
                let inputs: Vec<PathBuf> = EVIDENCE.iter().map(|d| dir.join(d)).collect();
                for p in ingest::source::expand(&inputs).unwrap_or_default() {
                    // An unreadable file hashes as empty: the digest differs, which is the point.
                    let bytes = std::fs::read(&p).unwrap_or_default();
                    add(&p, &bytes);
                }
            }
        }
        hex::encode(h.finalize())
    }

    /// The scenario's evidence files as they are (gzip or not), named as its records say.
    pub fn evidence_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        match &self.source {
            ScenarioSource::Embedded(name) => embedded_evidence(name)
                .into_iter()
                .map(|f| (f.name, f.bytes.to_vec()))
                .collect(),
            ScenarioSource::Dir(dir) => {
                let inputs: Vec<PathBuf> = EVIDENCE.iter().map(|d| dir.join(d)).collect();
                ingest::source::expand(&inputs)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| {
                        let bytes = std::fs::read(&p).unwrap_or_default();
                        (p, bytes)
                    })
                    .collect()
            }
        }
    }

    /// Loads a scenario from a directory laid out as demo/<name>/.
    pub fn load_dir(dir: &Path) -> Result<Scenario, DemoError> {
        let mpath = dir.join("scenario.toml");
        let text = std::fs::read_to_string(&mpath).map_err(|source| DemoError::Read {
            path: mpath.clone(),
            source,
        })?;
        let manifest = manifest_from(&mpath, &text)?;
        let inputs: Vec<PathBuf> = EVIDENCE
            .iter()
            .map(|d| dir.join(d))
            .filter(|p| p.exists())
            .collect();
        let evidence = ingest::load(&inputs)?;
        Scenario::assemble(
            manifest,
            &mpath,
            evidence,
            ScenarioSource::Dir(dir.to_path_buf()),
        )
    }

    /// The scenario from its manifest (read from `mpath`) and evidence: the findings are taken
    /// out of the evidence and put on the manifest's timeline.
    fn assemble(
        manifest: Manifest,
        mpath: &Path,
        mut evidence: Loaded,
        source: ScenarioSource,
    ) -> Result<Scenario, DemoError> {
        let start = Ts::parse(&manifest.start).ok_or_else(|| DemoError::Manifest {
            path: mpath.to_path_buf(),
            reason: format!("start `{}` is not a time", manifest.start),
        })?;
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
            source,
            evidence,
            arrivals,
            start,
        })
    }

    /// The scenario's world (its `world.json`): the account the demo responder acts on.
    pub fn world(&self) -> Result<World, DemoError> {
        match &self.source {
            ScenarioSource::Embedded(name) => {
                let key = format!("{name}/world.json");
                let path = embedded_name(&key);
                let bytes = embedded(&key).ok_or_else(|| DemoError::Read {
                    path: path.clone(),
                    source: std::io::ErrorKind::NotFound.into(),
                })?;
                World::from_json(&path, bytes)
            }
            ScenarioSource::Dir(dir) => World::load(&dir.join("world.json")),
        }
    }

    /// The scenario's threat-intel list (`threat-intel.txt`, the demo's ISAC feed), loaded by
    /// default so every screen marks its indicators; `None` when the scenario has none.
    pub fn threat_intel(&self) -> Option<crate::hunt::Intel> {
        let (file, text) = match &self.source {
            ScenarioSource::Embedded(name) => {
                let key = format!("{name}/threat-intel.txt");
                let bytes = embedded(&key)?;
                (
                    embedded_name(&key),
                    String::from_utf8_lossy(bytes).into_owned(),
                )
            }
            ScenarioSource::Dir(dir) => {
                let path = dir.join("threat-intel.txt");
                let text = std::fs::read_to_string(&path).ok()?;
                (path, text)
            }
        };
        let parsed = crate::hunt::IntelList::parse(
            &file.display().to_string(),
            "threat-intel".to_string(),
            &text,
            false,
            crate::hunt::ListKind::Threat,
            None,
        );
        match parsed {
            Ok((list, errors)) => {
                for e in errors {
                    tracing::warn!(error = %e, "demo threat-intel line not read");
                }
                Some(crate::hunt::Intel { lists: vec![list] })
            }
            Err(e) => {
                tracing::warn!(error = %e, "demo threat-intel list not read");
                None
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RawRef;
    use std::sync::Arc;

    /// Everything loaded, as text, with the paths of a directory's files made relative to the
    /// repository (what the embedded files are called) and each event's raw record inline.
    fn dump(sc: &Scenario, root: &str) -> String {
        let mut evidence = sc.evidence.clone_without_findings();
        for e in &mut evidence.events {
            e.raw = RawRef::Inline(Arc::from(e.raw.text().unwrap_or_default()));
        }
        let arrivals: Vec<_> = sc.arrivals.iter().map(|a| (a.offset, &a.finding)).collect();
        format!("{evidence:?}\n{arrivals:?}").replace(root, "")
    }

    #[test]
    fn an_embedded_scenario_loads_as_its_directory_does() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
        for name in names() {
            let embedded = Scenario::load(&name).unwrap();
            let dir = Scenario::load_dir(&Path::new(root).join("demo").join(&name)).unwrap();
            assert!(embedded.evidence.files > 0, "{name}");
            assert_eq!(embedded.evidence.files, dir.evidence.files, "{name}");
            // Raw records are kept in memory: there is no file to read them back from.
            assert!(
                embedded
                    .evidence
                    .events
                    .iter()
                    .all(|e| matches!(e.raw, RawRef::Inline(_)))
            );
            assert!(dump(&embedded, root) == dump(&dir, root), "{name}");
            assert_eq!(
                format!("{:?}", embedded.world().unwrap()),
                format!("{:?}", dir.world().unwrap()),
                "{name}"
            );
        }
    }

    #[test]
    fn an_unknown_scenario_is_named() {
        let e = Scenario::load("no-such-scenario").err().unwrap();
        assert!(matches!(e, DemoError::Unknown(n) if n == "no-such-scenario"));
    }
}
