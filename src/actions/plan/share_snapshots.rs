//! Planning share-snapshots: the forensics account may create volumes from the snapshots vigil
//! took of the instance for this case (createVolumePermission). An encrypted snapshot is not
//! shared here: one under the AWS-managed EBS key cannot be shared at all, and one under a
//! customer-managed key also needs that key shared; the plan says how to copy it with the
//! forensics key instead.

use super::context::{Facts, PlanContext, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;
use crate::actions::state::SnapshotState;

pub(super) fn plan(
    action: &Action,
    instance: &str,
    account: &str,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PlanError::BadAccount(account.to_string()));
    }
    let snaps: Vec<_> = facts
        .case_snapshots
        .get(instance)
        .into_iter()
        .flatten()
        .filter(|s| s.case == ctx.case)
        .cloned()
        .collect();
    if snaps.is_empty() {
        p.notes.push(format!(
            "no snapshot of {instance} is tagged with case {}: snapshot it first (S, or vigil act snapshot {instance} --case {})",
            ctx.case, ctx.case
        ));
        return Ok(());
    }
    let mut shared = Vec::new();
    for s in &snaps {
        if s.state == SnapshotState::Error {
            p.notes
                .push(format!("{} failed: nothing to share", s.snapshot_id));
            continue;
        }
        if s.encrypted {
            p.notes.push(format!(
                "{} ({}) is encrypted with {}: not shared here; copy it under a key the forensics account can use (aws ec2 copy-snapshot --source-snapshot-id {} --encrypted --kms-key-id FORENSICS_KEY), then share the copy",
                s.snapshot_id,
                s.volume_id,
                s.kms_key_id.as_deref().unwrap_or("a KMS key"),
                s.snapshot_id
            ));
            continue;
        }
        if s.state == SnapshotState::Pending {
            p.notes.push(format!(
                "{} is still pending: the forensics account can create a volume once it completes",
                s.snapshot_id
            ));
        }
        p.steps.push(step(
            action,
            ApiCall::ModifySnapshotAttribute {
                snapshot_id: s.snapshot_id.clone(),
                add_user_id: account.to_string(),
            },
            format!("{} (of {}) to {account}", s.snapshot_id, s.volume_id),
        ));
        shared.push(s.snapshot_id.clone());
    }
    if !shared.is_empty() {
        p.blast_radius.push(format!(
            "account {account} can create volumes from {} — the disk contents of {instance} — until the permission is removed",
            shared.join(", ")
        ));
    }
    Ok(())
}
