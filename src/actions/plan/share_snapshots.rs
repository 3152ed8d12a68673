//! Planning share-snapshots: the forensics account may create volumes from the snapshots vigil
//! took of the instance for this case (createVolumePermission). An encrypted snapshot cannot be
//! shared as it is — under the AWS-managed EBS key not at all, under a customer-managed key only
//! with that key shared too — so with a forensics key (`--forensics-key`) it is first copied under
//! that key (CopySnapshot, tagged as the case's, `vigil:copy-of` naming the source) and the copy
//! is shared; a copy made earlier is shared again rather than copied twice. Without a key the plan
//! says which snapshots it leaves out and how to copy them.

use super::context::{Facts, PlanContext, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::{ApiCall, GroupRef};
use crate::actions::names::{TAG_CASE, TAG_COPY_OF};
use crate::actions::state::{CaseSnapshot, SnapshotState};
use std::collections::BTreeMap;

pub(super) fn plan(
    action: &Action,
    instance: &str,
    account: &str,
    kms_key: Option<&str>,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    if !super::context::is_account_id(account) {
        return Err(PlanError::BadAccount(account.to_string()));
    }
    let snaps: Vec<&CaseSnapshot> = facts
        .case_snapshots
        .get(instance)
        .into_iter()
        .flatten()
        .filter(|s| s.case == ctx.case)
        .collect();
    // Copies vigil made earlier, by the snapshot they copy.
    let copies: BTreeMap<&str, &CaseSnapshot> = snaps
        .iter()
        .filter_map(|s| s.copy_of.as_deref().map(|src| (src, *s)))
        .collect();
    if snaps.iter().all(|s| s.copy_of.is_some()) {
        p.notes.push(format!(
            "no snapshot of {instance} is tagged with case {}: snapshot it first (S, or vigil act snapshot {instance} --case {})",
            ctx.case, ctx.case
        ));
        return Ok(());
    }
    let mut shared = Vec::new();
    for s in snaps.iter().filter(|s| s.copy_of.is_none()) {
        if s.state == SnapshotState::Error {
            p.notes
                .push(format!("{} failed: nothing to share", s.snapshot_id));
            continue;
        }
        let target = if !s.encrypted {
            GroupRef::Existing(s.snapshot_id.clone())
        } else if let Some(copy) = copies.get(s.snapshot_id.as_str()) {
            p.notes.push(format!(
                "{} is encrypted: its copy {} (under {}) is shared instead",
                s.snapshot_id,
                copy.snapshot_id,
                copy.kms_key_id.as_deref().unwrap_or("the forensics key")
            ));
            GroupRef::Existing(copy.snapshot_id.clone())
        } else if let Some(key) = kms_key {
            if s.state == SnapshotState::Pending {
                p.notes.push(format!(
                    "{} is still pending: CopySnapshot waits for it to complete",
                    s.snapshot_id
                ));
            }
            let tags = BTreeMap::from([
                (TAG_CASE.to_string(), ctx.case.clone()),
                ("vigil:instance".to_string(), instance.to_string()),
                ("vigil:volume".to_string(), s.volume_id.clone()),
                (TAG_COPY_OF.to_string(), s.snapshot_id.clone()),
            ]);
            p.steps.push(step(
                action,
                ApiCall::CopySnapshot {
                    source_snapshot_id: s.snapshot_id.clone(),
                    kms_key_id: key.to_string(),
                    description: format!(
                        "vigil {}: {} of {} re-encrypted for forensics account {account}",
                        ctx.case, s.snapshot_id, s.volume_id
                    ),
                    tags,
                },
                format!(
                    "{} is encrypted with {}: copied under {key}, which the forensics account can use",
                    s.snapshot_id,
                    s.kms_key_id.as_deref().unwrap_or("a KMS key")
                ),
            ));
            GroupRef::Created(s.snapshot_id.clone())
        } else {
            p.notes.push(format!(
                "{} ({}) is encrypted with {}: not shared; give --forensics-key KMS_KEY (a key the forensics account may use) to copy it under that key and share the copy",
                s.snapshot_id,
                s.volume_id,
                s.kms_key_id.as_deref().unwrap_or("a KMS key"),
            ));
            continue;
        };
        if !s.encrypted && s.state == SnapshotState::Pending {
            p.notes.push(format!(
                "{} is still pending: the forensics account can create a volume once it completes",
                s.snapshot_id
            ));
        }
        let what = match &target {
            GroupRef::Created(src) => format!("the copy of {src}"),
            GroupRef::Existing(id) => id.clone(),
        };
        p.steps.push(step(
            action,
            ApiCall::ModifySnapshotAttribute {
                snapshot_id: target,
                add_user_id: account.to_string(),
            },
            format!("{what} (of {}) to {account}", s.volume_id),
        ));
        shared.push(what);
    }
    if !shared.is_empty() {
        p.blast_radius.push(format!(
            "account {account} can create volumes from {} — the disk contents of {instance} — until the permission is removed",
            shared.join(", ")
        ));
    }
    if let Some(key) = kms_key
        && p.steps
            .iter()
            .any(|st| matches!(st.call, ApiCall::CopySnapshot { .. }))
    {
        p.notes.push(format!(
            "{key}'s key policy must let account {account} use it (kms:Decrypt, kms:CreateGrant, kms:DescribeKey, kms:ReEncrypt*), or the forensics account cannot create a volume from the copy"
        ));
    }
    Ok(())
}
