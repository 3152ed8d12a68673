//! The evidence store (`s3://BUCKET/PREFIX`, one folder per case): what an artefact is, where it
//! goes (`PREFIX/CASE/…`), and the manifest record written beside the artefacts of each storing
//! (`PREFIX/CASE/manifest/STAMP-LABEL.json`: key, SHA-256, size, kind, instance, command, who,
//! when, retention). Records are never rewritten, only added, so a bucket under Object Lock keeps
//! every one. Pure: the S3 calls are `crate::aws`'s, the demo world's its own.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where the manifest records of a case live, below the case's folder.
pub const MANIFEST_FOLDER: &str = "manifest";

/// One artefact to record: uploaded by vigil (from a file or text), or already in the store
/// (written there by SSM) and only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artefact {
    /// The object's full key in the store's bucket.
    pub key: String,
    /// What it is: `collect-output`, `snapshot-record`, `case-bundle`.
    pub kind: String,
    /// Lowercase hex.
    pub sha256: String,
    pub size: u64,
    pub source: ArtefactSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The command or action that produced it (a Run Command id and document, a snapshot call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum ArtefactSource {
    /// A local file, uploaded as it was hashed (the upload refuses a file that changed since).
    File { path: PathBuf },
    /// Text vigil made (a record of snapshot ids), uploaded.
    Text { text: String },
    /// Already in the store: only recorded.
    Stored,
}

/// What an upload sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "kebab-case")]
pub enum ObjectBody {
    File { path: PathBuf },
    Text { text: String },
}

/// An object's Object Lock retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// GOVERNANCE or COMPLIANCE.
    pub mode: String,
    /// RFC 3339, UTC.
    pub until: String,
}

/// One artefact as its manifest record lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub key: String,
    pub sha256: String,
    pub size: u64,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
}

/// One manifest record: the artefacts of one storing, who stored them and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    pub vigil_evidence_manifest: u32,
    pub case: String,
    /// What was stored (`collect i-0abc`, `snapshot i-0abc`, `case bundle`).
    pub label: String,
    /// RFC 3339, UTC.
    pub recorded_at: String,
    /// The caller's ARN.
    pub recorded_by: String,
    /// `s3://BUCKET/PREFIX`.
    pub store: String,
    pub entries: Vec<ManifestEntry>,
}

/// `s3://BUCKET/PREFIX` as (bucket, prefix without slashes at either end).
pub fn store_of(uri: &str) -> Option<(String, String)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    Some((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

/// The key of `name` in the case's folder: `PREFIX/CASE/NAME` (no empty parts).
pub fn case_key(prefix: &str, case: &str, name: &str) -> String {
    [prefix, case, name]
        .iter()
        .map(|s| s.trim_matches('/'))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// A timestamp for keys: `20261130T181502Z` from RFC 3339 (sortable, no colons).
pub fn key_stamp(rfc3339: &str) -> String {
    let mut s: String = rfc3339
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    s.push('Z');
    s
}

/// A label as a key part: letters, digits and hyphens.
pub fn key_label(label: &str) -> String {
    label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

/// The folder SSM writes one collect's output to: `PREFIX/CASE/collect/INSTANCE/COMMAND/` (the
/// key prefix collect gives SendCommand, then SSM's command and instance folders).
pub fn collect_folder(prefix: &str, case: &str, instance: &str, command_id: &str) -> String {
    case_key(prefix, case, &format!("collect/{instance}/{command_id}")) + "/"
}

/// A collect's output objects as artefacts already in the store.
pub fn collect_artefacts(
    objects: Vec<crate::actions::state::StoredObject>,
    instance: &str,
    command_id: &str,
) -> Vec<Artefact> {
    objects
        .into_iter()
        .map(|o| Artefact {
            key: o.key,
            kind: "collect-output".to_string(),
            sha256: o.sha256,
            size: o.size,
            source: ArtefactSource::Stored,
            instance: Some(instance.to_string()),
            command: Some(format!("ssm:SendCommand {command_id}")),
        })
        .collect()
}

/// The record of a snapshot's ids as an artefact of the case (`PREFIX/CASE/snapshots/…json`):
/// which instance, which finding, which snapshots, when. `None` without snapshots or a store.
pub fn snapshot_record(
    store: &str,
    case: &str,
    now: crate::model::Ts,
    instance: &str,
    finding: Option<&str>,
    snapshots: &[String],
) -> Option<Artefact> {
    let (_, prefix) = store_of(store)?;
    if snapshots.is_empty() {
        return None;
    }
    let now = now.to_rfc3339_secs();
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "case": case, "instance": instance, "finding": finding,
        "snapshots": snapshots, "taken_at": now,
    }))
    .ok()?
        + "\n";
    Some(Artefact {
        key: case_key(
            prefix.as_str(),
            case,
            &format!("snapshots/{instance}-{}.json", key_stamp(&now)),
        ),
        kind: "snapshot-record".to_string(),
        sha256: sha256_hex(text.as_bytes()),
        size: text.len() as u64,
        source: ArtefactSource::Text { text },
        instance: Some(instance.to_string()),
        command: Some("ec2:CreateSnapshots".to_string()),
    })
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_the_case_folder() {
        assert_eq!(store_of("s3://b/ir/"), Some(("b".into(), "ir".into())));
        assert_eq!(store_of("s3://b"), Some(("b".into(), String::new())));
        assert_eq!(store_of("s3:///x"), None);
        assert_eq!(store_of("https://b/x"), None);
        assert_eq!(
            case_key("ir", "case-1", "manifest/x.json"),
            "ir/case-1/manifest/x.json"
        );
        assert_eq!(case_key("", "case-1", "a"), "case-1/a");
        assert_eq!(key_stamp("2026-11-30T18:15:02.123Z"), "20261130T181502Z");
        assert_eq!(key_label("collect i-0ab/c"), "collect-i-0ab-c");
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
