//! CloudTrail digest files (log file integrity validation). CloudTrail delivers one an hour per
//! region under `AWSLogs/ACCOUNT/CloudTrail-Digest/…`; each lists the log files delivered in that
//! hour with the SHA-256 of their uncompressed content, and the hash of the previous digest. They
//! are parsed here and checked in [`crate::integrity`]; they are never events.

use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// One digest file as loaded. Every string is as the file says (attacker-controlled if the bucket
/// was written by someone else): keys are only compared with local paths, never opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The local file it was read from.
    pub path: Arc<PathBuf>,
    pub account: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// Where CloudTrail delivered this digest (`digestS3Bucket`, `digestS3Object`).
    pub s3_bucket: Option<String>,
    pub s3_object: Option<String>,
    /// The previous digest in the chain; `None` in a starting digest (its fields are null).
    pub previous: Option<PreviousDigest>,
    pub log_files: Vec<DigestLogFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousDigest {
    pub s3_bucket: Option<String>,
    pub s3_object: String,
    /// Hex SHA-256 of the previous digest file's uncompressed content.
    pub hash_value: Option<String>,
    pub hash_algorithm: Option<String>,
}

/// A log file as a digest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLogFile {
    pub s3_bucket: Option<String>,
    pub s3_object: String,
    /// Hex hash of the log file's uncompressed content.
    pub hash_value: String,
    pub hash_algorithm: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDigest {
    #[serde(default)]
    aws_account_id: Option<String>,
    #[serde(default)]
    digest_start_time: Option<String>,
    #[serde(default)]
    digest_end_time: Option<String>,
    #[serde(default, rename = "digestS3Bucket")]
    digest_s3_bucket: Option<String>,
    #[serde(default, rename = "digestS3Object")]
    digest_s3_object: Option<String>,
    #[serde(default, rename = "previousDigestS3Bucket")]
    previous_digest_s3_bucket: Option<String>,
    #[serde(default, rename = "previousDigestS3Object")]
    previous_digest_s3_object: Option<String>,
    #[serde(default)]
    previous_digest_hash_value: Option<String>,
    #[serde(default)]
    previous_digest_hash_algorithm: Option<String>,
    log_files: Vec<WireLogFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLogFile {
    #[serde(default, rename = "s3Bucket")]
    s3_bucket: Option<String>,
    #[serde(rename = "s3Object")]
    s3_object: String,
    hash_value: String,
    #[serde(default)]
    hash_algorithm: Option<String>,
}

/// Parses one digest file's JSON object.
pub fn parse(path: &Arc<PathBuf>, raw: &str) -> Result<Digest, String> {
    let w: WireDigest =
        serde_json::from_str(raw).map_err(|e| format!("invalid CloudTrail digest file: {e}"))?;
    let previous = w.previous_digest_s3_object.map(|s3_object| PreviousDigest {
        s3_bucket: w.previous_digest_s3_bucket,
        s3_object,
        hash_value: w.previous_digest_hash_value,
        hash_algorithm: w.previous_digest_hash_algorithm,
    });
    Ok(Digest {
        path: path.clone(),
        account: w.aws_account_id,
        start_time: w.digest_start_time,
        end_time: w.digest_end_time,
        s3_bucket: w.digest_s3_bucket,
        s3_object: w.digest_s3_object,
        previous,
        log_files: w
            .log_files
            .into_iter()
            .map(|f| DigestLogFile {
                s3_bucket: f.s3_bucket,
                s3_object: f.s3_object,
                hash_value: f.hash_value,
                hash_algorithm: f.hash_algorithm,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_starting_digest_has_no_previous_and_an_empty_one_no_files() {
        let p = Arc::new(PathBuf::from("d.json"));
        let d = parse(
            &p,
            r#"{"awsAccountId":"111122223333","digestStartTime":"2015-08-20T17:01:31Z",
                "digestEndTime":"2015-08-20T18:01:31Z","newestEventTime":null,
                "previousDigestS3Bucket":null,"previousDigestS3Object":null,
                "previousDigestHashValue":null,"previousDigestHashAlgorithm":null,
                "previousDigestSignature":null,"logFiles":[]}"#,
        )
        .expect("digest");
        assert_eq!(d.previous, None);
        assert!(d.log_files.is_empty());
        assert_eq!(d.end_time.as_deref(), Some("2015-08-20T18:01:31Z"));
    }

    #[test]
    fn a_log_file_without_its_hash_is_an_error() {
        let p = Arc::new(PathBuf::from("d.json"));
        let e = parse(
            &p,
            r#"{"digestStartTime":"x","logFiles":[{"s3Bucket":"b","s3Object":"k"}]}"#,
        )
        .expect_err("no hashValue");
        assert!(e.contains("hashValue"), "{e}");
    }
}
