//! S3 as a source of logs: listing a CloudTrail bucket along its layout (only the prefixes that
//! can hold what is asked for, see [`crate::pivot::s3layout`]) and fetching objects with bounded
//! concurrency, each handed on as it arrives. And S3 as the evidence store: objects written with
//! the SHA-256 S3 checks and the bucket's Object Lock retention, read back and hashed.

use super::clients::{Clients, ReadOp, ok, wrong_service};
use crate::actions::evidence::{ObjectBody, sha256_hex};
use crate::actions::{ApiCall, CallError, CallOk, ObjectLockState, StoredObject};
use crate::pivot::s3layout::{Level, Prune, S3Uri, days, is_hive, keep, level_of};

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub key: String,
    pub size: u64,
}

/// What a listing found, and what it cost.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<S3Object>,
    /// ListObjectsV2 calls (pages included).
    pub list_calls: usize,
    /// The prefixes listed, in order (for the CLI's progress and the tests).
    pub prefixes: Vec<String>,
}

/// One listing of `prefix`: with `delimiter`, the folders below it and the objects in it;
/// without, every object under it. Follows continuation tokens.
fn list_prefix(
    c: &Clients,
    bucket: &str,
    prefix: &str,
    delimiter: bool,
    out: &mut Listing,
) -> Result<Vec<String>, CallError> {
    let mut folders = Vec::new();
    let mut token: Option<String> = None;
    out.prefixes.push(prefix.to_string());
    loop {
        let mut req =
            c.s3.list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take());
        if delimiter {
            req = req.delimiter("/");
        }
        let page = c.read(ReadOp::ListObjectsV2, req.send())?;
        out.list_calls += 1;
        for o in page.contents() {
            if let Some(key) = o.key()
                && !key.ends_with('/')
            {
                out.objects.push(S3Object {
                    key: key.to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                });
            }
        }
        folders.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return Ok(folders),
        }
    }
}

/// The last folder name of a prefix ending with `/`.
fn name_of(prefix: &str) -> &str {
    prefix
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
}

/// Lists the objects under `uri` that can hold what `prune` asks for, walking CloudTrail's
/// layout level by level (accounts, regions, days) where the prefix is part of it.
pub(super) fn list(c: &Clients, uri: &S3Uri, prune: &Prune) -> Result<Listing, CallError> {
    let mut out = Listing::default();
    // (prefix, everything under it): the second is set where the layout ends. Without a
    // service to look for, the prefix is listed whole.
    let Some(service) = prune.service.as_deref() else {
        list_prefix(c, &uri.bucket, &uri.prefix, false, &mut out)?;
        out.objects.sort_by(|a, b| a.key.cmp(&b.key));
        return Ok(out);
    };
    let mut todo = vec![(uri.prefix.clone(), false)];
    while let Some((p, all)) = todo.pop() {
        let level = if all { Level::Leaf } else { level_of(&p) };
        match level {
            Level::Top => {
                let folders = list_prefix(c, &uri.bucket, &p, true, &mut out)?;
                match folders.iter().find(|f| name_of(f) == "AWSLogs") {
                    Some(aws) => todo.push((aws.clone(), false)),
                    // Not CloudTrail's layout: everything below, as it is.
                    None => todo.extend(folders.into_iter().map(|f| (f, true))),
                }
            }
            Level::Accounts | Level::OrgAccounts => {
                for f in list_prefix(c, &uri.bucket, &p, true, &mut out)? {
                    let name = name_of(&f);
                    if matches!(level, Level::Accounts) && name.starts_with("o-") {
                        todo.push((f, false));
                    } else if keep(&level, name, prune) {
                        // Straight to the account's folder of this service: the others (and
                        // CloudTrail's digests) are not listed.
                        let key = if is_hive(name) { "aws-service=" } else { "" };
                        todo.push((format!("{f}{key}{service}/"), false));
                        // A trail's Insights events are delivered beside its log files.
                        if service == "CloudTrail" {
                            todo.push((format!("{f}CloudTrail-Insight/"), false));
                        }
                        if service == "CloudTrail" && prune.digests {
                            todo.push((format!("{f}CloudTrail-Digest/"), false));
                        }
                    }
                }
            }
            Level::Regions => {
                for f in list_prefix(c, &uri.bucket, &p, true, &mut out)? {
                    if keep(&level, name_of(&f), prune) {
                        todo.push((f, false));
                    }
                }
            }
            Level::Days => match days(prune.window, is_hive(name_of(&p))) {
                Some(ds) => todo.extend(ds.into_iter().map(|d| (format!("{p}{d}"), true))),
                None => todo.push((p, true)),
            },
            Level::Leaf => {
                list_prefix(c, &uri.bucket, &p, false, &mut out)?;
            }
        }
    }
    out.objects.sort_by(|a, b| a.key.cmp(&b.key));
    out.objects.dedup_by(|a, b| a.key == b.key);
    Ok(out)
}

/// Fetches `keys` from `bucket`, at most `concurrency` at a time, handing each to `on` as it
/// arrives (in completion order, with its index). A failed object is handed on as its error;
/// the others go on.
pub(super) fn fetch(
    c: &Clients,
    bucket: &str,
    keys: &[String],
    concurrency: usize,
    on: &mut dyn FnMut(usize, Result<Vec<u8>, CallError>),
) -> Result<(), CallError> {
    let client = c.s3.clone();
    let bucket = bucket.to_string();
    let keys = keys.to_vec();
    let concurrency = concurrency.max(1);
    c.rt_block_on(async move {
        let mut set = tokio::task::JoinSet::new();
        let mut next = 0;
        loop {
            while set.len() < concurrency && next < keys.len() {
                let (client, bucket, key, i) =
                    (client.clone(), bucket.clone(), keys[next].clone(), next);
                set.spawn(async move {
                    let got = match client.get_object().bucket(bucket).key(key).send().await {
                        Ok(o) => o
                            .body
                            .collect()
                            .await
                            .map(|b| b.into_bytes().to_vec())
                            .map_err(|e| CallError::new("ReadFailed", e.to_string())),
                        Err(e) => Err(super::clients::call_err(e, ReadOp::GetObject.iam_action())),
                    };
                    (i, got)
                });
                next += 1;
            }
            match set.join_next().await {
                Some(Ok((i, got))) => on(i, got),
                Some(Err(e)) => on(
                    usize::MAX,
                    Err(CallError::new("vigil.TaskFailed", e.to_string())),
                ),
                None => return,
            }
        }
    })
}

/// The region a bucket is in, as S3 says in `x-amz-bucket-region` (on a redirect too).
pub(super) fn bucket_region(c: &Clients, bucket: &str) -> Option<String> {
    let got = c
        .rt_block_on(c.s3.head_bucket().bucket(bucket).send())
        .ok()?;
    match got {
        Ok(o) => o.bucket_region().map(str::to_string),
        Err(aws_sdk_s3::error::SdkError::ServiceError(e)) => e
            .raw()
            .headers()
            .get("x-amz-bucket-region")
            .map(str::to_string),
        Err(_) => None,
    }
}

/// The bucket's Object Lock configuration; off when it has none.
pub(super) fn object_lock(c: &Clients, bucket: &str) -> Result<ObjectLockState, CallError> {
    let got = c.read(
        ReadOp::GetObjectLockConfiguration,
        c.s3.get_object_lock_configuration().bucket(bucket).send(),
    );
    let out = match got {
        Ok(o) => o,
        Err(e) if e.code == "ObjectLockConfigurationNotFoundError" => {
            return Ok(ObjectLockState::default());
        }
        Err(e) => return Err(e),
    };
    let Some(conf) = out.object_lock_configuration() else {
        return Ok(ObjectLockState::default());
    };
    let rule = conf.rule().and_then(|r| r.default_retention());
    Ok(ObjectLockState {
        enabled: conf
            .object_lock_enabled()
            .is_some_and(|e| e.as_str() == "Enabled"),
        mode: rule.and_then(|r| r.mode()).map(|m| m.as_str().to_string()),
        days: rule.and_then(|r| r.days()),
        years: rule.and_then(|r| r.years()),
    })
}

/// Every object under `prefix`, read back and hashed, in key order.
pub(super) fn stored_objects(
    c: &Clients,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<StoredObject>, CallError> {
    let mut listing = Listing::default();
    list_prefix(c, bucket, prefix, false, &mut listing)?;
    let keys: Vec<String> = listing.objects.iter().map(|o| o.key.clone()).collect();
    let mut out: Vec<Option<StoredObject>> = vec![None; keys.len()];
    let mut failed = None;
    fetch(
        c,
        bucket,
        &keys,
        4,
        &mut |i, got| match (got, keys.get(i)) {
            (Ok(bytes), Some(key)) => {
                out[i] = Some(StoredObject {
                    key: key.clone(),
                    size: bytes.len() as u64,
                    sha256: sha256_hex(&bytes),
                });
            }
            (Err(e), _) => failed = Some(e),
            (Ok(_), None) => {}
        },
    )?;
    if let Some(e) = failed {
        return Err(e);
    }
    let mut out: Vec<StoredObject> = out.into_iter().flatten().collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// One object's content; `None` when the key does not exist.
pub(super) fn read_object(
    c: &Clients,
    bucket: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, CallError> {
    let got = c.read(
        ReadOp::GetObject,
        c.s3.get_object().bucket(bucket).key(key).send(),
    );
    let o = match got {
        Ok(o) => o,
        Err(e) if e.code == "NoSuchKey" => return Ok(None),
        Err(e) => return Err(e),
    };
    let bytes = c
        .rt_block_on(o.body.collect())?
        .map_err(|e| CallError::new("ReadFailed", format!("s3://{bucket}/{key}: {e}")))?;
    Ok(Some(bytes.into_bytes().to_vec()))
}

/// PutObject into the evidence store. The body is hashed again as it is read: a file that
/// changed since the plan is refused before anything is sent. The SHA-256 goes with it as
/// `ChecksumSHA256`, which S3 checks against what it received (a corrupted upload fails with
/// BadDigest instead of being stored).
pub(super) fn call(c: &Clients, call: &ApiCall) -> Result<CallOk, CallError> {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockMode};
    let ApiCall::PutObject {
        bucket,
        key,
        body,
        sha256,
        size,
        retention,
    } = call
    else {
        return Err(wrong_service(call, "S3"));
    };
    let (bytes, content_type) = match body {
        ObjectBody::File { path } => (
            std::fs::read(path).map_err(|e| {
                CallError::new("vigil.ReadFailed", format!("{}: {e}", path.display()))
            })?,
            "application/octet-stream",
        ),
        ObjectBody::Text { text } => (text.as_bytes().to_vec(), "application/json"),
    };
    let now = sha256_hex(&bytes);
    if now != *sha256 || bytes.len() as u64 != *size {
        return Err(CallError::new(
            "vigil.Changed",
            format!(
                "s3://{bucket}/{key}: the content changed since the plan ({} bytes, sha256 {now}; planned {size} bytes, {sha256}): not uploaded",
                bytes.len()
            ),
        ));
    }
    let digest = hex::decode(sha256)
        .map_err(|e| CallError::new("vigil.BadDigest", format!("{sha256}: {e}")))?;
    let mut req =
        c.s3.put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(aws_smithy_types::base64::encode(digest))
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes));
    if let Some(r) = retention {
        let until = aws_smithy_types::DateTime::from_str(
            &r.until,
            aws_smithy_types::date_time::Format::DateTime,
        )
        .map_err(|e| CallError::new("vigil.BadDate", format!("{}: {e}", r.until)))?;
        req = req
            .object_lock_mode(ObjectLockMode::from(r.mode.as_str()))
            .object_lock_retain_until_date(until);
    }
    let o = c.write(call, req.send())?;
    Ok(ok(
        None,
        o.version_id().map(str::to_string).into_iter().collect(),
    ))
}
