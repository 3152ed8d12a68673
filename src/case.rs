//! Case bundles: a directory of what an incident's response produced (findings, CloudTrail events,
//! the entity subgraph, the actions with their audit log, the recordings), every file hashed into
//! one top-level `manifest.json`; and the check that recomputes those hashes. The manifest's own
//! SHA-256 is what to write in the ticket: a bundle whose files and manifest were both changed
//! still fails against it.

use crate::integrity::sha256_of;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest's file name, at the bundle's top.
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub vigil_case_bundle: u32,
    pub case: String,
    /// When the bundle was made (RFC 3339, UTC).
    pub created: String,
    pub vigil_version: String,
    /// What went in, in words (the inputs named on the command line, counts).
    pub sources: Vec<String>,
    /// Every file of the bundle but the manifest, by path relative to the bundle (`/`-separated),
    /// sorted.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a vigil case manifest: {reason}")]
    BadManifest { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CaseError + '_ {
    move |source| CaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Every file under `dir` but the manifest, as bundle paths, sorted. Not the ingest's walk
/// (`ingest::source::expand`): that one skips hidden files, and a file planted in a bundle is
/// reported whatever its name.
fn files_under(dir: &Path) -> Result<Vec<String>, CaseError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(io(&d))? {
            let entry = entry.map_err(io(&d))?;
            let p = entry.path();
            let kind = entry.file_type().map_err(io(&p))?;
            if kind.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let rel = rel.join("/");
                if rel != MANIFEST {
                    out.push(rel);
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn hash_file(dir: &Path, rel: &str) -> Result<FileEntry, CaseError> {
    let p = dir.join(rel);
    let f = std::fs::File::open(&p).map_err(io(&p))?;
    let (sha256, bytes) = sha256_of(f).map_err(io(&p))?;
    Ok(FileEntry {
        path: rel.to_string(),
        bytes,
        sha256,
    })
}

/// Hashes every file under `dir` into its manifest and writes it; returns the manifest and the
/// SHA-256 of the manifest file as written.
pub fn seal(
    dir: &Path,
    case: &str,
    created: &str,
    sources: Vec<String>,
) -> Result<(Manifest, String), CaseError> {
    let files = files_under(dir)?
        .iter()
        .map(|rel| hash_file(dir, rel))
        .collect::<Result<Vec<_>, _>>()?;
    let m = Manifest {
        vigil_case_bundle: 1,
        case: case.to_string(),
        created: created.to_string(),
        vigil_version: env!("CARGO_PKG_VERSION").to_string(),
        sources,
        files,
    };
    let path = dir.join(MANIFEST);
    let text = serde_json::to_string_pretty(&m).map_err(|e| CaseError::BadManifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    std::fs::write(&path, format!("{text}\n")).map_err(io(&path))?;
    let (digest, _) =
        sha256_of(std::fs::File::open(&path).map_err(io(&path))?).map_err(io(&path))?;
    Ok((m, digest))
}

/// What the check found for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileCheck {
    Ok,
    /// Its content is not what the manifest says.
    Changed {
        expected: String,
        actual: String,
    },
    /// In the manifest, not in the bundle.
    Missing,
    /// In the bundle, not in the manifest.
    Extra,
}

#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    /// The SHA-256 of the manifest file.
    pub manifest_sha256: String,
    pub files: Vec<(String, FileCheck)>,
}

impl Verified {
    /// Every file as the manifest says, and none besides.
    pub fn intact(&self) -> bool {
        self.files.iter().all(|(_, c)| *c == FileCheck::Ok)
    }
}

/// Recomputes every file's hash against the bundle's manifest.
pub fn verify(dir: &Path) -> Result<Verified, CaseError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| CaseError::BadManifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let (manifest_sha256, _) = sha256_of(text.as_bytes()).map_err(io(&path))?;
    let present = files_under(dir)?;
    let mut files = Vec::new();
    for f in &manifest.files {
        // A manifest naming a path outside the bundle is refused, not followed.
        if f.path.split('/').any(|c| c == ".." || c.is_empty()) || f.path.starts_with('/') {
            return Err(CaseError::BadManifest {
                path: path.clone(),
                reason: format!("file path `{}` leaves the bundle", f.path),
            });
        }
        let check = if !present.contains(&f.path) {
            FileCheck::Missing
        } else {
            let now = hash_file(dir, &f.path)?;
            if now.sha256 == f.sha256 && now.bytes == f.bytes {
                FileCheck::Ok
            } else {
                FileCheck::Changed {
                    expected: f.sha256.clone(),
                    actual: now.sha256,
                }
            }
        };
        files.push((f.path.clone(), check));
    }
    for p in present {
        if !manifest.files.iter().any(|f| f.path == p) {
            files.push((p, FileCheck::Extra));
        }
    }
    Ok(Verified {
        manifest,
        manifest_sha256,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_bundle_verifies_and_every_change_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("actions")).unwrap();
        std::fs::write(d.join("findings.jsonl"), "{\"id\":\"a\"}\n").unwrap();
        std::fs::write(d.join("actions/audit.jsonl"), "{}\n").unwrap();
        let (m, digest) = seal(d, "IR-1", "2026-11-30T00:00:00Z", vec![]).unwrap();
        assert_eq!(m.files.len(), 2);
        assert_eq!(m.files[0].path, "actions/audit.jsonl");
        let v = verify(d).unwrap();
        assert!(v.intact(), "{:?}", v.files);
        assert_eq!(v.manifest_sha256, digest);

        std::fs::write(d.join("findings.jsonl"), "{\"id\":\"b\"}\n").unwrap();
        std::fs::remove_file(d.join("actions/audit.jsonl")).unwrap();
        std::fs::write(d.join("planted.txt"), "x").unwrap();
        let v = verify(d).unwrap();
        assert!(!v.intact());
        let by = |p: &str| v.files.iter().find(|(f, _)| f == p).map(|(_, c)| c.clone());
        assert!(matches!(
            by("findings.jsonl"),
            Some(FileCheck::Changed { .. })
        ));
        assert_eq!(by("actions/audit.jsonl"), Some(FileCheck::Missing));
        assert_eq!(by("planted.txt"), Some(FileCheck::Extra));
    }

    #[test]
    fn a_manifest_pointing_outside_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest {
            vigil_case_bundle: 1,
            case: "x".into(),
            created: "now".into(),
            vigil_version: "0".into(),
            sources: vec![],
            files: vec![FileEntry {
                path: "../etc/passwd".into(),
                bytes: 0,
                sha256: String::new(),
            }],
        };
        std::fs::write(
            dir.path().join(MANIFEST),
            serde_json::to_string(&m).unwrap(),
        )
        .unwrap();
        assert!(matches!(
            verify(dir.path()),
            Err(CaseError::BadManifest { .. })
        ));
    }
}
