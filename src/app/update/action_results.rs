//! What comes back from action effects: the plan (to the confirm screen), audit records, the
//! result, snapshot progress (and the next poll), the account as the responder shows it.

use super::actions::{
    COMMAND_MAX_POLLS, COMMAND_POLL_MS, SNAPSHOT_MAX_POLLS, SNAPSHOT_POLL_MS, job_mut,
    plan_context, status,
};
use crate::actions::{Confirm, Outcome, SnapshotProgress};
use crate::app::keymap::{Command, Context};
use crate::app::msg::{CommandState, Effect, EffectError, EvidenceNote, Msg};
use crate::app::state::*;

/// Results of action effects.
pub fn on_msg(s: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::PlanReady { job, plan } => plan_ready(s, job, plan),
        Msg::Audit { job, record } => {
            if record.kind == "result"
                && let Some(j) = job_mut(s, job)
            {
                j.calls_done += 1;
            }
            s.actions.log.push(*record);
            Vec::new()
        }
        Msg::ActionDone { job, report } => action_done(s, job, report),
        Msg::SnapshotProgress { job, snapshots } => snapshot_progress(s, job, snapshots),
        Msg::CommandStatus { job, status } => command_status(s, job, status),
        Msg::EvidenceRecorded { job, result } => evidence_recorded(s, job, result),
        Msg::Account(view) => {
            s.actions.account = Some(*view);
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn plan_ready(
    s: &mut State,
    job: u64,
    plan: Result<Box<crate::actions::Plan>, EffectError>,
) -> Vec<Effect> {
    let Some(j) = job_mut(s, job) else {
        return Vec::new();
    };
    if j.status != JobStatus::Planning {
        return Vec::new();
    }
    let dry_run = j.dry_run;
    match plan {
        Ok(plan) => {
            j.status = JobStatus::Confirming;
            j.calls_total = plan.steps.len();
            let key = |c: Command, or: &str| {
                s.keymap
                    .key_for(Context::Confirm, c)
                    .unwrap_or_else(|| or.to_string())
            };
            let prompt = match &plan.confirm {
                Confirm::TypeId { id } => {
                    let enter = key(Command::Submit, "enter");
                    format!("type {id} (or its last 4) and {enter} to go ahead")
                }
                Confirm::Yes => {
                    let (yes, no) = (key(Command::ConfirmYes, "y"), key(Command::ConfirmNo, "n"));
                    format!("{yes} to go ahead, {no} to cancel")
                }
            };
            status(s, StatusLevel::Info, prompt);
            s.stack.push(View::Confirm(ConfirmView {
                job,
                plan: *plan,
                dry_run,
                typed: String::new(),
                scroll: 0,
            }));
        }
        Err(e) => {
            j.status = JobStatus::PlanFailed;
            j.error = Some(e.to_string());
            let what = format!("{} {}", j.action.verb(), j.action.target());
            status(s, StatusLevel::Error, format!("{what}: {e}"));
        }
    }
    Vec::new()
}

fn action_done(
    s: &mut State,
    job: u64,
    report: Result<Box<crate::actions::Report>, EffectError>,
) -> Vec<Effect> {
    let store = s.opts.evidence.clone();
    let ctx = s
        .actions
        .jobs
        .iter()
        .find(|j| j.id == job)
        .map(|j| plan_context(s, &j.action))
        .unwrap_or_default();
    let Some(j) = job_mut(s, job) else {
        return Vec::new();
    };
    let what = format!("{} {}", j.action.verb(), j.action.target());
    let mut effects = Vec::new();
    // An archived finding leaves the list as GuardDuty's console does (`a` shows archived).
    let archived = match (&report, &j.action) {
        (Ok(r), crate::actions::Action::Archive { finding }) if r.outcome == Outcome::Done => {
            Some(finding.clone())
        }
        _ => None,
    };
    let (level, text) = match report {
        Ok(r) => {
            j.status = match &r.outcome {
                Outcome::Done => JobStatus::Done,
                Outcome::NoOp => JobStatus::NoOp,
                Outcome::WouldSucceed => JobStatus::WouldSucceed,
                Outcome::Failed { .. } => JobStatus::Failed,
            };
            let snaps = r.created("ec2:CreateSnapshots");
            if !snaps.is_empty() && !r.dry_run {
                j.snapshots = snaps
                    .iter()
                    .map(|id| SnapshotProgress {
                        snapshot_id: id.clone(),
                        state: crate::actions::SnapshotState::Pending,
                        ..SnapshotProgress::default()
                    })
                    .collect();
                effects.push(Effect::PollSnapshots {
                    job,
                    ids: snaps.clone(),
                    after_ms: SNAPSHOT_POLL_MS,
                });
            }
            // A snapshot's ids go to the evidence store when the session has one.
            if let (Some(store), false) = (store, r.dry_run)
                && let Some(action) = snapshot_record(&store, &ctx, &j.action, &snaps)
            {
                effects.push(Effect::StoreEvidence {
                    job,
                    action,
                    ctx: Box::new(ctx.clone()),
                });
            }
            // A collect's Run Command is followed to its end, then its output recorded.
            if let (Some(command_id), Some((instance, store)), false) = (
                r.created("ssm:SendCommand").first(),
                collect_of(&j.action),
                r.dry_run,
            ) {
                j.command = Some(CommandRun {
                    id: command_id.clone(),
                    instance: instance.clone(),
                    store,
                    state: CommandState {
                        status: "Pending".to_string(),
                        details: String::new(),
                    },
                    polls: 0,
                });
                effects.push(Effect::FollowCommand {
                    job,
                    command_id: command_id.clone(),
                    instance,
                    after_ms: COMMAND_POLL_MS,
                });
            }
            let out = match &r.outcome {
                Outcome::Done => (StatusLevel::Info, format!("done: {what}")),
                Outcome::NoOp => (
                    StatusLevel::Info,
                    format!(
                        "nothing to do: {what}{}",
                        r.notes
                            .first()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default()
                    ),
                ),
                Outcome::WouldSucceed => (
                    StatusLevel::Info,
                    format!("dry run: {what} would succeed; nothing was changed"),
                ),
                Outcome::Failed { step, error } => {
                    j.error = Some(error.clone());
                    (
                        StatusLevel::Error,
                        format!("{what} FAILED at step {step}: {error}"),
                    )
                }
            };
            j.report = Some(*r);
            out
        }
        Err(e) => {
            j.status = JobStatus::Failed;
            j.error = Some(e.to_string());
            (StatusLevel::Error, format!("{what}: {e}"))
        }
    };
    if let Some(id) = archived
        && let Some(&i) = s.by_id.get(&id)
    {
        s.findings[i].archived = true;
        super::findings::recompute_list(s);
    }
    status(s, level, text);
    effects
}

fn snapshot_progress(
    s: &mut State,
    job: u64,
    snapshots: Result<Vec<SnapshotProgress>, EffectError>,
) -> Vec<Effect> {
    let Some(j) = job_mut(s, job) else {
        return Vec::new();
    };
    j.polls += 1;
    match snapshots {
        Ok(list) => {
            for p in list {
                match j
                    .snapshots
                    .iter_mut()
                    .find(|x| x.snapshot_id == p.snapshot_id)
                {
                    Some(x) => *x = p,
                    None => j.snapshots.push(p),
                }
            }
        }
        Err(e) => j.error = Some(format!("snapshot progress: {e}")),
    }
    let pending: Vec<String> = j
        .snapshots
        .iter()
        .filter(|p| !p.is_final())
        .map(|p| p.snapshot_id.clone())
        .collect();
    if pending.is_empty() {
        let n = j.snapshots.len();
        let bad = j
            .snapshots
            .iter()
            .filter(|p| p.state != "completed")
            .count();
        let text = if bad == 0 {
            format!("{n} snapshot(s) of {} completed", j.action.target())
        } else {
            format!("{bad} of {n} snapshot(s) of {} FAILED", j.action.target())
        };
        let level = if bad == 0 {
            StatusLevel::Info
        } else {
            StatusLevel::Error
        };
        status(s, level, text);
        return Vec::new();
    }
    if j.polls >= SNAPSHOT_MAX_POLLS {
        j.error = Some("stopped following snapshot progress (still pending)".to_string());
        return Vec::new();
    }
    vec![Effect::PollSnapshots {
        job,
        ids: pending,
        after_ms: SNAPSHOT_POLL_MS,
    }]
}

/// The instance and evidence store of the collect in `action` (itself, or a playbook's step).
fn collect_of(action: &crate::actions::Action) -> Option<(String, Option<String>)> {
    use crate::actions::Action;
    match action {
        Action::Collect {
            instance, evidence, ..
        } => Some((instance.clone(), evidence.clone())),
        Action::Playbook { steps, .. } => steps.iter().find_map(collect_of),
        _ => None,
    }
}

fn command_status(
    s: &mut State,
    job: u64,
    answer: Result<CommandState, EffectError>,
) -> Vec<Effect> {
    let ctx = s
        .actions
        .jobs
        .iter()
        .find(|j| j.id == job)
        .map(|j| plan_context(s, &j.action));
    let Some(j) = job_mut(s, job) else {
        return Vec::new();
    };
    let Some(run) = j.command.as_mut() else {
        return Vec::new();
    };
    run.polls += 1;
    match answer {
        Ok(st) => run.state = st,
        // Registered a moment after SendCommand answers: asked again.
        Err(e) if e.to_string().contains("InvocationDoesNotExist") => {}
        Err(e) => {
            run.state.details = e.to_string();
            let text = format!(
                "collect {}: cannot follow command {}: {e}",
                run.instance, run.id
            );
            status(s, StatusLevel::Error, text);
            return Vec::new();
        }
    }
    if !run.state.is_final() {
        if run.polls >= COMMAND_MAX_POLLS {
            run.state.details = format!(
                "still {} after {} s: aws ssm get-command-invocation --command-id {} --instance-id {}",
                run.state.status,
                u64::from(run.polls) * COMMAND_POLL_MS / 1000,
                run.id,
                run.instance
            );
            let text = format!("collect {}: {}", run.instance, run.state.details);
            status(s, StatusLevel::Warn, text);
            return Vec::new();
        }
        return vec![Effect::FollowCommand {
            job,
            command_id: run.id.clone(),
            instance: run.instance.clone(),
            after_ms: COMMAND_POLL_MS,
        }];
    }
    let (instance, id, st) = (run.instance.clone(), run.id.clone(), run.state.clone());
    let store = run.store.clone();
    if st.status != "Success" {
        status(
            s,
            StatusLevel::Error,
            format!(
                "collect {instance}: command {id} ended {} ({})",
                st.status, st.details
            ),
        );
        return Vec::new();
    }
    match (store, ctx) {
        (Some(store), Some(ctx)) => {
            status(
                s,
                StatusLevel::Info,
                format!("collect {instance}: Success; recording its output in {store}"),
            );
            vec![Effect::RecordCollect {
                job,
                store,
                instance,
                command_id: id,
                ctx: Box::new(ctx),
            }]
        }
        _ => {
            status(s, StatusLevel::Info, format!("collect {instance}: Success"));
            Vec::new()
        }
    }
}

fn evidence_recorded(
    s: &mut State,
    job: u64,
    result: Result<EvidenceNote, EffectError>,
) -> Vec<Effect> {
    let Some(j) = job_mut(s, job) else {
        return Vec::new();
    };
    let instance = j.action.target();
    let (level, text) = match &result {
        Ok(n) if n.artefacts.is_empty() && j.command.is_some() => (
            StatusLevel::Warn,
            format!(
                "collect {instance}: no output in the evidence store (the instance role may lack s3:PutObject)"
            ),
        ),
        Ok(n) => (
            StatusLevel::Info,
            format!(
                "evidence: {} artefact(s) of {instance} recorded in {}",
                n.artefacts.len(),
                n.manifest
            ),
        ),
        Err(e) => (
            StatusLevel::Error,
            format!("evidence of {instance} not recorded: {e}"),
        ),
    };
    // A snapshot's record is said on the actions screen only (unless it failed): the status
    // line keeps the snapshot's own progress, which is what the responder waits for.
    let quiet = j.command.is_none() && result.is_ok();
    j.evidence.push(result.map_err(|e| e.to_string()));
    if !quiet {
        status(s, level, text);
    }
    Vec::new()
}

/// The store-evidence action recording a snapshot's ids (of `action`, a snapshot or a playbook
/// with one).
fn snapshot_record(
    store: &str,
    ctx: &crate::actions::plan::PlanContext,
    action: &crate::actions::Action,
    snapshots: &[String],
) -> Option<crate::actions::Action> {
    use crate::actions::Action;
    let (instance, finding) = match action {
        Action::Snapshot { instance, finding } => (instance, finding.as_deref()),
        Action::Playbook { steps, .. } => steps.iter().find_map(|a| match a {
            Action::Snapshot { instance, finding } => Some((instance, finding.as_deref())),
            _ => None,
        })?,
        _ => return None,
    };
    let artefact = crate::actions::evidence::snapshot_record(
        store, &ctx.case, ctx.now, instance, finding, snapshots,
    )?;
    Some(Action::StoreEvidence {
        store: store.to_string(),
        label: format!("snapshot {instance}"),
        artefacts: vec![artefact],
    })
}
