//! The demo world's evidence store: objects by `BUCKET/KEY`, without Object Lock.

use super::{DemoResponder, wrong_family};
use crate::actions::evidence::{ObjectBody, sha256_hex};
use crate::actions::{ApiCall, CallError, StoredObject};

impl DemoResponder {
    /// PutObject: the content checked against the planned SHA-256, as S3 checks ChecksumSHA256.
    pub(super) fn apply_s3(&mut self, call: &ApiCall) -> Result<Vec<String>, CallError> {
        let ApiCall::PutObject {
            bucket,
            key,
            body,
            sha256,
            ..
        } = call
        else {
            return Err(wrong_family(call, "S3"));
        };
        let bytes = match body {
            ObjectBody::File { path } => std::fs::read(path).map_err(|e| {
                CallError::new("vigil.ReadFailed", format!("{}: {e}", path.display()))
            })?,
            ObjectBody::Text { text } => text.as_bytes().to_vec(),
        };
        if sha256_hex(&bytes) != *sha256 {
            return Err(CallError::new(
                "BadDigest",
                "The SHA256 you specified did not match the calculated checksum.",
            ));
        }
        self.world.evidence.insert(format!("{bucket}/{key}"), bytes);
        Ok(Vec::new())
    }

    pub(super) fn stored(&self, bucket: &str, prefix: &str) -> Vec<StoredObject> {
        let start = format!("{bucket}/{prefix}");
        self.world
            .evidence
            .range(start.clone()..)
            .take_while(|(k, _)| k.starts_with(&start))
            .map(|(k, v)| StoredObject {
                key: k[bucket.len() + 1..].to_string(),
                size: v.len() as u64,
                sha256: sha256_hex(v),
            })
            .collect()
    }

    pub(super) fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.world.evidence.get(&format!("{bucket}/{key}")).cloned()
    }
}
