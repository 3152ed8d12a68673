//! The planner: from an [`Action`] and the [`Facts`] read from the account to a [`Plan`]. [`plan`] is
//! pure; [`gather`] does the reads (through an [`Inspect`](crate::actions::Inspect), never a
//! responder). One file per action; this one dispatches and sums up.

mod archive;
mod block_domain;
mod block_ip;
mod collect;
mod context;
mod detach_profile;
mod disable_key;
mod gather;
mod notify;
mod quarantine;
mod release;
mod revoke_sessions;
mod share_snapshots;
mod snapshot;
mod steps;
mod store_evidence;

pub use context::{Facts, FindingSummary, Place, PlanContext, PlanError, default_case};
pub use gather::gather;
pub use steps::{Plan, Step};
pub use store_evidence::manifest_of;

use crate::actions::action::{Action, Confirm};
use crate::actions::names::role_name;
use context::instance;

/// Reads what `action` needs from the account and plans it ([`gather`], then [`plan`]), in the
/// account and region of the finding it was built from (else the session's own).
pub fn gather_and_plan(
    action: &Action,
    inspect: &mut dyn crate::actions::Inspect,
    ctx: &PlanContext,
) -> Result<Plan, PlanError> {
    let source = ctx.source.as_ref();
    inspect.act_at(
        source.and_then(|s| s.account.as_deref()),
        source.and_then(|s| s.region.as_deref()),
    )?;
    // Who acts first: another account's finding is refused before its resources are looked for.
    if ctx.source.as_ref().is_some_and(|s| s.account.is_some()) {
        same_account(action, ctx, &inspect.identity()?.account)?;
    }
    let facts = gather(action, inspect).map_err(|e| placed(e, ctx))?;
    plan(action, &facts, ctx)
}

/// Refuses an action on the finding of another account than the operator's (`operator`).
/// Notify only publishes, and a GuardDuty administrator archives its members' findings.
fn same_account(action: &Action, ctx: &PlanContext, operator: &str) -> Result<(), PlanError> {
    match ctx.source.as_ref().and_then(|s| s.account.as_deref()) {
        Some(account)
            if !matches!(action, Action::Notify { .. } | Action::Archive { .. })
                && context::is_account_id(account)
                && !operator.is_empty()
                && account != operator =>
        {
            Err(PlanError::OtherAccount(
                account.to_string(),
                operator.to_string(),
            ))
        }
        _ => Ok(()),
    }
}

/// An instance not found where the responder acts, named with the region its finding is in.
fn placed(e: PlanError, ctx: &PlanContext) -> PlanError {
    match (e, ctx.source.as_ref().and_then(|s| s.region.clone())) {
        (PlanError::NoInstance(id), Some(region)) => PlanError::NoInstanceIn(id, region),
        (e, _) => e,
    }
}

/// The plan for `action`, from the facts. Pure.
pub fn plan(action: &Action, facts: &Facts, ctx: &PlanContext) -> Result<Plan, PlanError> {
    let mut p = Plan {
        action: action.clone(),
        case: ctx.case.clone(),
        operator: facts.identity.clone(),
        steps: Vec::new(),
        touches: Vec::new(),
        blast_radius: Vec::new(),
        notes: Vec::new(),
        captured: Vec::new(),
        region: ctx.source.as_ref().and_then(|s| s.region.clone()),
        confirm: if action.is_destructive() {
            Confirm::TypeId {
                id: confirm_id(action),
            }
        } else {
            Confirm::Yes
        },
    };
    same_account(action, ctx, &facts.identity.account)?;
    plan_into(action, facts, ctx, &mut p).map_err(|e| placed(e, ctx))?;
    for st in &p.steps {
        for t in st.call.touches() {
            if !p.touches.contains(&t) {
                p.touches.push(t);
            }
        }
    }
    Ok(p)
}

fn confirm_id(action: &Action) -> String {
    match action {
        Action::RevokeSessions { role } => role_name(role).to_string(),
        Action::Playbook { steps, .. } => steps
            .iter()
            .find(|s| s.is_destructive())
            .map(confirm_id)
            .unwrap_or_default(),
        a => a.target(),
    }
}

/// Adds `action`'s steps (each step of a playbook in turn) to the plan.
fn plan_into(
    action: &Action,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    match action {
        Action::Quarantine { instance: id } => {
            quarantine::plan(action, instance(facts, id)?, facts, ctx, p)
        }
        Action::Release {
            instance: id,
            unprotect,
        } => {
            release::plan(action, instance(facts, id)?, *unprotect, p);
            Ok(())
        }
        Action::Snapshot {
            instance: id,
            finding,
        } => {
            snapshot::plan(action, instance(facts, id)?, finding, facts, ctx, p);
            Ok(())
        }
        Action::Notify { finding } => notify::plan(action, finding, ctx, p),
        Action::Archive { finding } => archive::plan(action, finding, facts, p),
        Action::DisableKey { key } => disable_key::plan(action, key, facts, p),
        Action::BlockIp {
            ips,
            subnet,
            instance,
            waf,
        } => block_ip::plan(action, ips, subnet, instance, waf, facts, true, p),
        Action::UnblockIp {
            ips,
            subnet,
            instance,
            waf,
        } => block_ip::plan(action, ips, subnet, instance, waf, facts, false, p),
        Action::Collect {
            instance: id,
            evidence,
            memory,
        } => collect::plan(action, id, evidence, memory.as_deref(), facts, ctx, p),
        Action::ShareSnapshots {
            instance,
            account,
            kms_key,
        } => share_snapshots::plan(action, instance, account, kms_key.as_deref(), facts, ctx, p),
        Action::DetachProfile { instance: id } => {
            detach_profile::plan(action, id, facts, &ctx.case, p)
        }
        Action::RevokeSessions { role } => {
            revoke_sessions::plan(action, role, facts, ctx, p);
            Ok(())
        }
        Action::BlockDomain {
            domain,
            vpc,
            instance,
        } => block_domain::plan(action, domain, vpc, instance, facts, p),
        Action::StoreEvidence {
            store,
            label,
            artefacts,
        } => store_evidence::plan(action, store, label, artefacts, facts, ctx, p),
        Action::Playbook { steps, .. } => {
            for s in steps {
                match (s, plan_into(s, facts, ctx, p)) {
                    // A playbook goes on without collect when it cannot run: said, not hidden.
                    (
                        Action::Collect { .. },
                        Err(e @ (PlanError::NoEvidenceStore | PlanError::NotManaged(..))),
                    ) => p.notes.push(format!("collect skipped: {e}")),
                    (_, r) => r?,
                }
            }
            Ok(())
        }
    }
}
