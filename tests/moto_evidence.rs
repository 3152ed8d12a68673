//! The evidence store through the real SDK against moto's S3 (tests/support/moto.rs): artefacts
//! written with the SHA-256 S3 checks and the bucket's Object Lock retention, a manifest record
//! beside them, `vigil case export --out s3://…` planned and confirmed as an action, and
//! `vigil case verify s3://…` reading everything back — and naming what was changed or added.

use crate::moto_support::*;
use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule,
};
use sha2::{Digest, Sha256};

/// `vigil ARGS --endpoint-url URL --region us-east-1` with moto's credentials and nothing of the
/// machine's AWS configuration.
fn vigil(url: &str, args: &[&str]) -> std::process::Output {
    vigil_at(url, args).output().unwrap()
}

fn s3(s: &Sdk, url: &str) -> aws_sdk_s3::Client {
    let conf = sdk_config(&s.rt, url, "us-east-1");
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    )
}

fn keys(s: &Sdk, c: &aws_sdk_s3::Client, prefix: &str) -> Vec<String> {
    let out =
        s.rt.block_on(
            c.list_objects_v2()
                .bucket("ir-evidence")
                .prefix(prefix)
                .send(),
        )
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

fn body(s: &Sdk, c: &aws_sdk_s3::Client, key: &str) -> Vec<u8> {
    let o =
        s.rt.block_on(c.get_object().bucket("ir-evidence").key(key).send())
            .unwrap();
    s.rt.block_on(o.body.collect())
        .unwrap()
        .into_bytes()
        .to_vec()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn snapshots_and_case_bundles_land_in_the_store_hashed_locked_and_verifiable() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let c = s3(&s, &url);
    // The evidence bucket, as a team sets it up: Object Lock with a default GOVERNANCE rule.
    s.rt.block_on(
        c.create_bucket()
            .bucket("ir-evidence")
            .object_lock_enabled_for_bucket(true)
            .send(),
    )
    .unwrap();
    s.rt.block_on(
        c.put_object_lock_configuration()
            .bucket("ir-evidence")
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(
                                DefaultRetention::builder()
                                    .mode(ObjectLockRetentionMode::Governance)
                                    .days(30)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .send(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let log_s = log.to_str().unwrap();

    // A snapshot, its ids recorded in the store.
    let out = vigil(
        &url,
        &[
            "act",
            "snapshot",
            &f.instance,
            "--yes",
            "--case",
            "IR-E",
            "--evidence",
            "s3://ir-evidence/cases",
            "--audit-log",
            log_s,
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let snaps = v["report"]["steps"][0]["created"].clone();
    let records = keys(&s, &c, "cases/IR-E/manifest/");
    assert_eq!(records.len(), 1, "{records:?}");
    let record: serde_json::Value = serde_json::from_slice(&body(&s, &c, &records[0])).unwrap();
    assert_eq!(record["case"], "IR-E");
    assert!(
        record["recorded_by"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:")
    );
    let entry = &record["entries"][0];
    assert_eq!(entry["kind"], "snapshot-record");
    let key = entry["key"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("cases/IR-E/snapshots/{}-", f.instance)),
        "{key}"
    );
    let stored = body(&s, &c, key);
    assert_eq!(entry["sha256"], hex::encode(Sha256::digest(&stored)));
    let snap_record: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    assert_eq!(snap_record["snapshots"], snaps);
    assert_eq!(entry["retention"]["mode"], "GOVERNANCE");
    // S3 holds the checksum vigil sent and the retention, read back through the API.
    let head =
        s.rt.block_on(
            c.head_object()
                .bucket("ir-evidence")
                .key(key)
                .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
                .send(),
        )
        .unwrap();
    assert_eq!(
        head.checksum_sha256(),
        Some(aws_smithy_types::base64::encode(Sha256::digest(&stored)).as_str())
    );
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("GOVERNANCE")
    );
    assert!(head.object_lock_retain_until_date().is_some());

    // A store that cannot be written: the snapshot stands, the failure is said, exit 1.
    let out = vigil(
        &url,
        &[
            "act",
            "snapshot",
            &f.instance,
            "--yes",
            "--case",
            "IR-E",
            "--evidence",
            "s3://no-such-evidence-bucket/cases",
            "--audit-log",
            log_s,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("done: snapshot"), "{t}");
    assert!(t.contains("s3://no-such-evidence-bucket/cases"), "{t}");
    assert!(
        t.contains("NoSuchBucket") || t.contains("not recorded"),
        "{t}"
    );

    // A body that does not match its checksum is refused by S3 (what vigil relies on).
    let bad = s.rt.block_on(
        c.put_object()
            .bucket("ir-evidence")
            .key("cases/IR-E/x")
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
            .checksum_sha256(aws_smithy_types::base64::encode(Sha256::digest(b"other")))
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"this"))
            .send(),
    );
    let err = bad.expect_err("a wrong checksum must be refused");
    assert_eq!(
        aws_sdk_s3::error::ProvideErrorMetadata::code(&err.into_service_error()),
        Some("BadDigest")
    );

    // The case bundle: read-only and dry runs write nothing; then the export itself.
    let export = |extra: &[&str]| {
        vigil(
            &url,
            &[
                &[
                    "case",
                    "export",
                    "IR-E",
                    "--out",
                    "s3://ir-evidence/cases",
                    "--audit-log",
                    log_s,
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let before = keys(&s, &c, "cases/IR-E/").len();
    let out = export(&["--read-only"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("PutObject Bucket=ir-evidence Key=cases/IR-E/bundle/"));
    let out = export(&["--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(keys(&s, &c, "cases/IR-E/").len(), before);
    let out = export(&[]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "no terminal to confirm on: {}",
        text(&out)
    );
    assert_eq!(keys(&s, &c, "cases/IR-E/").len(), before);
    let out = export(&["--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("verify: vigil case verify s3://ir-evidence/cases/IR-E"));
    let bundle = keys(&s, &c, "cases/IR-E/bundle/");
    assert!(
        bundle.iter().any(|k| k.ends_with("/manifest.json")),
        "{bundle:?}"
    );
    let audit_key = bundle
        .iter()
        .find(|k| k.ends_with("/actions/audit.jsonl"))
        .unwrap()
        .clone();
    assert!(String::from_utf8_lossy(&body(&s, &c, &audit_key)).contains("ec2:CreateSnapshots"));
    // The store's manifest records of the case so far are in the bundle too.
    let record = bundle
        .iter()
        .find(|k| k.contains("/evidence/") && k.contains("snapshot-i-"))
        .unwrap_or_else(|| panic!("{bundle:?}"));
    assert_eq!(body(&s, &c, record), body(&s, &c, &records[0]));
    assert_eq!(keys(&s, &c, "cases/IR-E/manifest/").len(), 2);

    // Everything reads back as recorded.
    let verify = || vigil(&url, &["case", "verify", "s3://ir-evidence/cases/IR-E"]);
    let out = verify();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "2 manifest record(s), {} artefact(s), all as recorded",
            bundle.len() + 1
        )),
        "{}",
        text(&out)
    );

    // A replaced object and a planted one are named.
    s.rt.block_on(
        c.put_object()
            .bucket("ir-evidence")
            .key(&audit_key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"{}\n"))
            .send(),
    )
    .unwrap();
    s.rt.block_on(
        c.put_object()
            .bucket("ir-evidence")
            .key("cases/IR-E/planted.txt")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send(),
    )
    .unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains(&format!("CHANGED s3://ir-evidence/{audit_key}")),
        "{t}"
    );
    assert!(
        t.contains("EXTRA   s3://ir-evidence/cases/IR-E/planted.txt"),
        "{t}"
    );
    assert!(t.contains("2 difference(s)"), "{t}");
}
