//! Planning store-evidence: one PutObject per artefact vigil uploads (with its SHA-256 for S3 to
//! check, and the bucket's Object Lock retention), then one more for the manifest record listing
//! every artefact of this storing — those uploaded and those already in the store (SSM's output),
//! hashed as read back. A record is a new object each time: nothing in the store is rewritten.

use super::collect::store_of;
use super::context::{Facts, PlanContext, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;
use crate::actions::evidence::{
    Artefact, ArtefactSource, MANIFEST_FOLDER, ManifestEntry, ManifestRecord, ObjectBody,
    Retention, case_key, key_label, key_stamp, sha256_hex,
};
use crate::actions::state::ObjectLockState;
use crate::model::Ts;

const DAY_MS: i64 = 86_400_000;

/// The retention an object written now gets from the bucket's default rule, if it has one.
pub(crate) fn retention(lock: &ObjectLockState, now: Ts) -> Option<Retention> {
    if !lock.enabled {
        return None;
    }
    let mode = lock.mode.clone()?;
    let days = i64::from(lock.days.unwrap_or(0)) + 365 * i64::from(lock.years.unwrap_or(0));
    (days > 0).then(|| Retention {
        mode,
        until: Ts(now.millis() + days * DAY_MS).to_rfc3339_secs(),
    })
}

/// Where a store-evidence plan writes its manifest record (`s3://BUCKET/KEY`, its last step);
/// empty when it stores nothing.
pub fn manifest_of(plan: &Plan) -> String {
    match plan.steps.last().map(|st| &st.call) {
        Some(ApiCall::PutObject { bucket, key, .. }) => format!("s3://{bucket}/{key}"),
        _ => String::new(),
    }
}

pub(super) fn plan(
    action: &Action,
    store: &str,
    label: &str,
    artefacts: &[Artefact],
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let (bucket, prefix) = store_of(store)?;
    if artefacts.is_empty() {
        p.notes.push(format!("{label}: nothing to store"));
        return Ok(());
    }
    let lock = facts.object_lock.get(&bucket).cloned().unwrap_or_default();
    let retention = retention(&lock, ctx.now);
    match (&retention, lock.enabled) {
        (Some(r), _) => p.blast_radius.push(format!(
            "Object Lock {}: the objects cannot be overwritten or deleted before {}{}",
            r.mode,
            r.until,
            if r.mode == "COMPLIANCE" {
                ", by anyone, root included"
            } else {
                " without s3:BypassGovernanceRetention"
            }
        )),
        (None, true) => p.notes.push(format!(
            "{bucket} has Object Lock on but no default retention rule: the objects are written without retention (give the bucket a default rule)"
        )),
        (None, false) => p.notes.push(format!(
            "{bucket} has no Object Lock: an object can be overwritten or deleted later; the manifest's SHA-256s (vigil case verify {store}/{}) still show it",
            ctx.case
        )),
    }
    let mut entries = Vec::new();
    let mut stored = 0usize;
    for a in artefacts {
        let body = match &a.source {
            ArtefactSource::File { path } => Some(ObjectBody::File { path: path.clone() }),
            ArtefactSource::Text { text } => Some(ObjectBody::Text { text: text.clone() }),
            ArtefactSource::Stored => None,
        };
        let entry_retention = match &body {
            Some(body) => {
                p.steps.push(step(
                    action,
                    ApiCall::PutObject {
                        bucket: bucket.clone(),
                        key: a.key.clone(),
                        body: body.clone(),
                        sha256: a.sha256.clone(),
                        size: a.size,
                        retention: retention.clone(),
                    },
                    format!(
                        "{} ({} bytes, sha256 {})",
                        a.kind,
                        a.size,
                        &a.sha256[..a.sha256.len().min(12)]
                    ),
                ));
                retention.clone()
            }
            None => {
                stored += 1;
                None
            }
        };
        entries.push(ManifestEntry {
            key: a.key.clone(),
            sha256: a.sha256.clone(),
            size: a.size,
            kind: a.kind.clone(),
            instance: a.instance.clone(),
            command: a.command.clone(),
            retention: entry_retention,
        });
    }
    if stored > 0 {
        p.notes.push(format!(
            "{stored} object(s) already in the store (written there by SSM) are recorded with the SHA-256 of their content as read now"
        ));
    }
    let now = ctx.now.to_rfc3339_secs();
    let record = ManifestRecord {
        vigil_evidence_manifest: 1,
        case: ctx.case.clone(),
        label: label.to_string(),
        recorded_at: now.clone(),
        recorded_by: facts.identity.arn.clone(),
        store: store.trim_end_matches('/').to_string(),
        entries,
    };
    let text = serde_json::to_string_pretty(&record).unwrap_or_default() + "\n";
    let key = case_key(
        &prefix,
        &ctx.case,
        &format!(
            "{MANIFEST_FOLDER}/{}-{}.json",
            key_stamp(&now),
            key_label(label)
        ),
    );
    p.steps.push(step(
        action,
        ApiCall::PutObject {
            bucket: bucket.clone(),
            key: key.clone(),
            sha256: sha256_hex(text.as_bytes()),
            size: text.len() as u64,
            body: ObjectBody::Text { text },
            retention,
        },
        format!(
            "the manifest record: {} artefact(s) with SHA-256, who ({}) and when",
            artefacts.len(),
            facts.identity.arn
        ),
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_follows_the_default_rule() {
        let now = Ts(0);
        let on = |mode: Option<&str>, days, years| ObjectLockState {
            enabled: true,
            mode: mode.map(str::to_string),
            days,
            years,
        };
        assert_eq!(
            retention(&on(Some("COMPLIANCE"), Some(30), None), now),
            Some(Retention {
                mode: "COMPLIANCE".into(),
                until: "1970-01-31T00:00:00Z".into()
            })
        );
        assert_eq!(
            retention(&on(Some("GOVERNANCE"), None, Some(1)), now).map(|r| r.until),
            Some("1971-01-01T00:00:00Z".into())
        );
        assert_eq!(retention(&on(None, None, None), now), None);
        assert_eq!(retention(&ObjectLockState::default(), now), None);
    }
}
