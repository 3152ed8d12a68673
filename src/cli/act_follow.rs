//! What `vigil act` does after a successful action, before it reports: collect's Run Command
//! followed to its end (GetCommandInvocation), and what an action produced recorded in the
//! evidence store (collect's output, a snapshot's ids) with a manifest record — planned, run and
//! audited as store-evidence.

use super::args::{ActArgs, ActCommand};
use crate::actions::audit::AuditError;
use crate::actions::evidence::{self, Artefact};
use crate::actions::plan::PlanContext;
use crate::actions::{self, Action, AuditLog, ExecOptions};

/// What happened after the action itself: followed to its end, evidence recorded.
pub struct FollowUp {
    /// Under its name in the JSON result.
    pub json: Vec<(&'static str, serde_json::Value)>,
    /// Lines after the report in text mode.
    pub lines: Vec<String>,
    pub ok: bool,
}

impl FollowUp {
    /// Nothing after the action.
    pub fn none() -> FollowUp {
        FollowUp {
            json: Vec::new(),
            lines: Vec::new(),
            ok: true,
        }
    }
}

/// After a successful action: collect is followed to its end and its output recorded in the
/// evidence store's manifest; a snapshot's ids are recorded there when there is a store.
pub(super) fn follow_up(
    cmd: &ActCommand,
    args: &ActArgs,
    responder: &mut dyn actions::Responder,
    report: &actions::Report,
    ctx: &PlanContext,
    log: &mut AuditLog,
) -> Result<FollowUp, AuditError> {
    let mut f = FollowUp::none();
    if args.dry_run {
        return Ok(f);
    }
    match cmd {
        ActCommand::Collect {
            instance,
            wait,
            evidence,
            ..
        } => {
            let Some(run) = follow_command(responder, report, instance, *wait) else {
                return Ok(f);
            };
            f.lines.push(format!(
                "collect: command {} on {}: {} ({})",
                run.command_id, instance, run.status, run.details
            ));
            f.ok = run.status == "Success";
            f.json
                .push(("collect", serde_json::to_value(&run).unwrap_or_default()));
            let store = evidence_store(evidence);
            if let (true, Some(store)) = (f.ok, store) {
                let artefacts = collect_outputs(responder, &store, ctx, instance, &run);
                if artefacts.as_ref().is_ok_and(Vec::is_empty) {
                    f.lines.push(format!(
                        "evidence: no output objects under {store}/{}/collect/{instance}/{}/: the instance role may lack s3:PutObject there (SSM then keeps only the first 24,000 characters)",
                        ctx.case, run.command_id
                    ));
                }
                record(
                    responder,
                    log,
                    ctx,
                    &store,
                    &format!("collect {instance}"),
                    artefacts,
                    &mut f,
                )?;
            }
        }
        ActCommand::Snapshot {
            instance,
            finding,
            evidence,
            ..
        } => {
            if let Some(store) = evidence_store(evidence) {
                let artefacts = Ok(snapshot_record(
                    &store,
                    ctx,
                    instance,
                    finding.as_deref(),
                    report,
                ));
                record(
                    responder,
                    log,
                    ctx,
                    &store,
                    &format!("snapshot {instance}"),
                    artefacts,
                    &mut f,
                )?;
            }
        }
        _ => {}
    }
    Ok(f)
}

/// Stores artefacts and their manifest record after the action that made them (already
/// confirmed): planned, audited and reported like any action. A failure here does not undo the
/// action: it is said, and the exit status is 1.
fn record(
    responder: &mut dyn actions::Responder,
    log: &mut AuditLog,
    ctx: &PlanContext,
    store: &str,
    label: &str,
    artefacts: Result<Vec<Artefact>, actions::PlanError>,
    f: &mut FollowUp,
) -> Result<(), AuditError> {
    let planned = artefacts.and_then(|artefacts| {
        let action = Action::StoreEvidence {
            store: store.to_string(),
            label: label.to_string(),
            artefacts,
        };
        let facts = actions::gather(&action, responder)?;
        actions::plan(&action, &facts, ctx)
    });
    let plan = match planned {
        Ok(plan) => plan,
        Err(e) => {
            f.ok = false;
            f.lines
                .push(format!("evidence: not recorded in {store}: {e}"));
            f.json
                .push(("evidence", serde_json::json!({"error": e.to_string()})));
            return Ok(());
        }
    };
    let report = actions::execute(&plan, responder, log, &ExecOptions { dry_run: false })?;
    let manifest = actions::plan::manifest_of(&plan);
    if !report.succeeded() {
        f.ok = false;
        f.lines
            .push(format!("evidence: not recorded:\n{}", report.render()));
    } else if !plan.is_noop() {
        let n = match &plan.action {
            Action::StoreEvidence { artefacts, .. } => artefacts.len(),
            _ => 0,
        };
        f.lines
            .push(format!("evidence: {n} artefact(s) recorded in {manifest}"));
    }
    f.json.push((
        "evidence",
        serde_json::json!({"manifest": manifest, "report": report, "plan": plan}),
    ));
    Ok(())
}

/// The objects SSM wrote for this invocation, hashed as read back.
fn collect_outputs(
    responder: &mut dyn actions::Responder,
    store: &str,
    ctx: &PlanContext,
    instance: &str,
    run: &Invocation,
) -> Result<Vec<Artefact>, actions::PlanError> {
    let Some((bucket, prefix)) = evidence::store_of(store) else {
        return Err(actions::PlanError::BadEvidenceStore(store.to_string()));
    };
    let folder = evidence::collect_folder(&prefix, &ctx.case, instance, &run.command_id);
    let objects = responder
        .stored_objects(&bucket, &folder)
        .map_err(actions::PlanError::Read)?;
    Ok(evidence::collect_artefacts(
        objects,
        instance,
        &run.command_id,
    ))
}

/// The record of a snapshot's ids, as an artefact of its own.
fn snapshot_record(
    store: &str,
    ctx: &PlanContext,
    instance: &str,
    finding: Option<&str>,
    report: &actions::Report,
) -> Vec<Artefact> {
    let snapshots = report.created("ec2:CreateSnapshots");
    evidence::snapshot_record(store, &ctx.case, ctx.now, instance, finding, &snapshots)
        .into_iter()
        .collect()
}

/// Where a Run Command invocation ended.
#[derive(serde::Serialize)]
struct Invocation {
    command_id: String,
    instance: String,
    status: String,
    details: String,
}

/// Follows a collect's Run Command (GetCommandInvocation every 2 s) to its end state, or says
/// it is still running after `wait` seconds: a timeout is reported, not hidden.
fn follow_command(
    responder: &mut dyn actions::Responder,
    report: &actions::Report,
    instance: &str,
    wait: u64,
) -> Option<Invocation> {
    let command_id = report.created("ssm:SendCommand").into_iter().next()?;
    let start = std::time::Instant::now();
    let (mut status, mut details) = ("Pending".to_string(), String::new());
    loop {
        match responder.command_status(&command_id, instance) {
            Ok((s, d)) => (status, details) = (s, d),
            // The invocation is registered a moment after SendCommand answers.
            Err(e) if e.code == "InvocationDoesNotExist" => {}
            Err(e) => {
                (status, details) = ("Unknown".to_string(), e.plain());
                break;
            }
        }
        if actions::command_ended(&status) {
            break;
        }
        if start.elapsed().as_secs() >= wait {
            details = format!(
                "still {status} after {wait} s: follow it with aws ssm get-command-invocation --command-id {command_id} --instance-id {instance}"
            );
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
    Some(Invocation {
        command_id,
        instance: instance.to_string(),
        status,
        details,
    })
}

/// `--evidence`, else `VIGIL_EVIDENCE`.
pub(super) fn evidence_store(flag: &Option<String>) -> Option<String> {
    flag.clone()
        .or_else(|| std::env::var("VIGIL_EVIDENCE").ok())
        .filter(|s| !s.is_empty())
}
