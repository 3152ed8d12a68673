//! A recorded load built again (a replay's index and graph), or carried along with its content:
//! every input checked against the hash the recording holds first.

use super::load::{EvidenceBuilder, FileSources, build_files, file_ref};
use crate::app::{Built, EvidenceRef};
use crate::ingest;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} changed since it was loaded (SHA-256 {now}, recorded {then})")]
    Changed {
        path: PathBuf,
        now: String,
        then: String,
    },
    #[error(
        "demo scenario {scenario} differs from the recorded one (SHA-256 {now}, recorded {then})"
    )]
    DemoChanged {
        scenario: String,
        now: String,
        then: String,
    },
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error("{0}: built in memory, nothing to build it again from")]
    Inline(String),
}

/// Builds a load's index and graph again from its reference, checking every input's content
/// hash first: a replay (or anyone holding a recorded [`Indexed`]) gets exactly what the session
/// had, or an error that names the file that changed.
pub fn rebuild(evidence: &EvidenceRef) -> Result<Built, RebuildError> {
    match evidence {
        EvidenceRef::Files { findings, evidence } => {
            rebuild_check(findings.iter().chain(evidence))?;
            let sources = FileSources {
                findings: findings.iter().map(|r| r.path.clone()).collect(),
                evidence: evidence.iter().map(|r| r.path.clone()).collect(),
                s3: Vec::new(),
                hunt: None,
            };
            let loaded = build_files(&sources, sources.evidence.len(), &|_| true, false);
            Ok(loaded.map_or_else(|| EvidenceBuilder::default().build(), |l| l.builder.build()))
        }
        EvidenceRef::Demo { scenario, sha256 } => {
            let sc = crate::demo::Scenario::load(scenario)?;
            let now = sc.evidence_sha256();
            if now != *sha256 {
                return Err(RebuildError::DemoChanged {
                    scenario: scenario.clone(),
                    now,
                    then: sha256.clone(),
                });
            }
            let mut b = EvidenceBuilder::default();
            b.absorb_ref(&sc.evidence);
            Ok(b.build())
        }
        EvidenceRef::Inline { label } => Err(RebuildError::Inline(label.clone())),
        EvidenceRef::Embedded { findings, evidence } => {
            let mut b = EvidenceBuilder::default();
            for f in findings {
                let l = ingest::load_bytes(Path::new(&f.name), f.text.clone().into_bytes());
                b.add_findings(&l.findings);
            }
            // One load of every file, absorbed at once: flows are attributed through the
            // addresses DNS logs give instances, whichever file comes first.
            let mut all = ingest::Loaded::default();
            for e in evidence {
                all.extend(ingest::load_bytes(
                    Path::new(&e.name),
                    e.text.clone().into_bytes(),
                ));
            }
            b.absorb(all);
            Ok(b.build())
        }
    }
}

/// The same evidence with its content carried along ([`EvidenceRef::Embedded`]), read from the
/// files or the scenario it names (checked against the recorded hashes, as a rebuild does).
pub fn embed(evidence: &EvidenceRef) -> Result<EvidenceRef, RebuildError> {
    let blob = |name: &Path, bytes: &[u8]| crate::app::Blob {
        name: name.display().to_string(),
        text: String::from_utf8_lossy(&gunzip(bytes)).into_owned(),
    };
    match evidence {
        EvidenceRef::Files { findings, evidence } => {
            // The files must still be what was recorded.
            rebuild_check(findings.iter().chain(evidence))?;
            let read =
                |refs: &[crate::app::FileRef]| -> Result<Vec<crate::app::Blob>, RebuildError> {
                    let paths: Vec<PathBuf> = refs.iter().map(|r| r.path.clone()).collect();
                    let files = ingest::source::expand(&paths)
                        .map_err(|(path, source)| RebuildError::Read { path, source })?;
                    files
                        .iter()
                        .map(|p| {
                            std::fs::read(p).map(|b| blob(p, &b)).map_err(|source| {
                                RebuildError::Read {
                                    path: p.clone(),
                                    source,
                                }
                            })
                        })
                        .collect()
                };
            Ok(EvidenceRef::Embedded {
                findings: read(findings)?,
                evidence: read(evidence)?,
            })
        }
        EvidenceRef::Demo { scenario, .. } => {
            rebuild(evidence)?;
            let sc = crate::demo::Scenario::load(scenario)?;
            Ok(EvidenceRef::Embedded {
                findings: Vec::new(),
                evidence: sc
                    .evidence_files()
                    .iter()
                    .map(|(n, b)| blob(n, b))
                    .collect(),
            })
        }
        other => Ok(other.clone()),
    }
}

/// The content of a file, uncompressed when it is gzip.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let mut d = flate2::read::MultiGzDecoder::new(bytes);
        if std::io::Read::read_to_end(&mut d, &mut out).is_ok() {
            return out;
        }
    }
    bytes.to_vec()
}

/// Refuses a recorded input whose content is no longer what was recorded.
fn rebuild_check<'a>(
    refs: impl Iterator<Item = &'a crate::app::FileRef>,
) -> Result<(), RebuildError> {
    for r in refs {
        let now = file_ref(&r.path).map_err(|source| RebuildError::Read {
            path: r.path.clone(),
            source,
        })?;
        if now.sha256 != r.sha256 {
            return Err(RebuildError::Changed {
                path: r.path.clone(),
                now: now.sha256,
                then: r.sha256.clone(),
            });
        }
    }
    Ok(())
}
