//! Response actions in the reducer (pure, like the rest of `update`): an action key becomes a
//! typed [`Action`] and a *request for a plan* ([`Effect::PlanAction`]); the plan comes back as
//! [`Msg::PlanReady`] and goes on the confirm screen; only a matching confirmation emits
//! [`Effect::RunAction`]. Audit records, results and snapshot progress come back as messages and
//! fill the actions screen.
//!
//! A read-only session (`State::armed` false) is refused here, before any effect is built; its
//! runtime has no responder to run one anyway.

use crate::app::keymap::{Command, Context, Key, KeyCode, Lookup};
use crate::app::msg::Effect;
use crate::app::select::{current_finding, focus_entity};
use crate::app::state::*;
use crate::model::{EntityId, EntityKind, Ts};
use std::collections::BTreeMap;

use crate::actions::plan::{FindingSummary, PlanContext, default_case};
use crate::actions::{Action, Confirm, Playbook};

/// How long the poller waits between DescribeSnapshots calls.
pub const SNAPSHOT_POLL_MS: u64 = 3000;
/// Polls before the console stops following a snapshot (about an hour at 3 s).
pub const SNAPSHOT_MAX_POLLS: u32 = 1200;
/// How often a collect's Run Command is asked about, and for how long (collect's own timeout is
/// 600 s; delivery can take longer when the agent is slow to answer).
pub const COMMAND_POLL_MS: u64 = 2000;
pub const COMMAND_MAX_POLLS: u32 = 450;

pub(super) fn status(s: &mut State, level: StatusLevel, text: impl Into<String>) {
    s.status = Some(Status {
        level,
        text: text.into(),
    });
}

pub(super) fn job_mut(s: &mut State, id: u64) -> Option<&mut Job> {
    s.actions.jobs.iter_mut().find(|j| j.id == id)
}

/// An action key (quarantine, release, snapshot, notify, disable key, revoke sessions, playbook).
pub fn on_action_key(s: &mut State, c: Command) -> Vec<Effect> {
    let name = c.as_str().replace('_', " ");
    if !s.armed() {
        status(
            s,
            StatusLevel::Warn,
            format!(
                "{name}: read-only session: no responder, nothing can change the account (`vigil open --respond` acts on AWS, `vigil demo` on the scenario world)"
            ),
        );
        return Vec::new();
    }
    let action = match target_action(s, c) {
        Ok(a) => a,
        Err(why) => {
            status(s, StatusLevel::Warn, format!("{name}: {why}"));
            return Vec::new();
        }
    };
    let id = s.actions.jobs.iter().map(|j| j.id).max().unwrap_or(0) + 1;
    let mut ctx = plan_context(s, &action);
    // Where the target is, when it came from the selected finding (the finding itself, or what
    // it names; not an entity focused elsewhere): the plan acts in its region, and refuses
    // another account's resources.
    let mut targets = vec![action.target()];
    if let Action::Playbook { steps, .. } = &action {
        targets.extend(steps.iter().map(Action::target));
    }
    ctx.source = current_finding(s)
        .map(|i| &s.findings[i])
        .filter(|f| {
            targets
                .iter()
                .filter(|t| !t.is_empty())
                .any(|t| f.id == *t || f.entities.iter().any(|e| e.value.contains(t.as_str())))
        })
        .map(|f| crate::actions::plan::Place {
            // A detection's account is one its events name (a snapshot's outside account is
            // one too): only a finding's own account is held against the operator's.
            account: f.account_id.clone().filter(|_| {
                !f.finding_type
                    .starts_with(crate::model::detection::HUNT_TYPE_PREFIX)
            }),
            region: f.region.clone(),
        });
    // One case per session: the first action fixes it.
    if s.actions.case.is_none() {
        s.actions.case = Some(ctx.case.clone());
    }
    status(
        s,
        StatusLevel::Info,
        format!(
            "planning {} {}: reading the account…",
            action.verb(),
            action.target()
        ),
    );
    s.actions.jobs.push(Job {
        id,
        action: action.clone(),
        dry_run: s.actions.dry_run,
        status: JobStatus::Planning,
        calls_done: 0,
        calls_total: 0,
        error: None,
        report: None,
        snapshots: Vec::new(),
        polls: 0,
        command: None,
        evidence: Vec::new(),
    });
    vec![Effect::PlanAction {
        job: id,
        action,
        ctx: Box::new(ctx),
    }]
}

fn focus_of(s: &State, kinds: &[EntityKind]) -> Option<EntityId> {
    focus_entity(s).filter(|e| kinds.contains(&e.kind))
}

/// The role a principal entity belongs to: a role ARN or name as is; a session
/// (`…:assumed-role/NAME/session`) gives NAME.
fn role_of(e: &EntityId) -> Option<String> {
    match e.kind {
        EntityKind::Role => Some(e.value.to_string()),
        EntityKind::Session => e
            .value
            .split_once("assumed-role/")
            .and_then(|(_, rest)| rest.split('/').next())
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        _ => None,
    }
}

/// The instance behind a finding that names only addresses (a threat list's hit in the flow
/// logs, whose default format has no instance id): the one the graph ties to one of its
/// addresses other than the listed one (GuardDuty's findings give an instance's private addresses).
fn instance_by_address(s: &State, f: &crate::model::Finding) -> Option<EntityId> {
    let listed = crate::app::select::actor_ip(f);
    f.entities
        .iter()
        .filter(|e| e.kind == EntityKind::Ip && Some(*e) != listed.as_ref())
        .find_map(|ip| {
            s.graph
                .edges_of(ip)
                .into_iter()
                .map(|(other, _)| other)
                .find(|o| o.kind == EntityKind::Instance)
        })
}

fn target_action(s: &State, c: Command) -> Result<Action, String> {
    let finding = current_finding(s).map(|i| &s.findings[i]);
    let instance = || {
        focus_of(s, &[EntityKind::Instance])
            .or_else(|| finding.and_then(|f| f.subject.instance.clone()))
            .or_else(|| finding.and_then(|f| instance_by_address(s, f)))
            .map(|e| e.value.into_string())
            .ok_or_else(|| "select an instance or a finding about one".to_string())
    };
    let finding_id = || {
        finding
            .map(|f| f.id.clone())
            .ok_or_else(|| "select a finding".to_string())
    };
    Ok(match c {
        Command::Quarantine => Action::Quarantine {
            instance: instance()?,
        },
        Command::Release => Action::Release {
            instance: instance()?,
            unprotect: false,
        },
        Command::Snapshot => Action::Snapshot {
            instance: instance()?,
            finding: finding.map(|f| f.id.clone()),
        },
        Command::Notify => Action::Notify {
            finding: finding_id()?,
        },
        Command::Archive => Action::Archive {
            finding: finding_id()?,
        },
        Command::Collect => Action::Collect {
            instance: instance()?,
            evidence: s.opts.evidence.clone(),
            memory: None,
        },
        Command::DetachProfile => Action::DetachProfile {
            instance: instance()?,
        },
        Command::BlockIp => Action::BlockIp {
            ips: vec![
                focus_of(s, &[EntityKind::Ip])
                    .or_else(|| finding.and_then(crate::app::select::actor_ip))
                    .map(|e| e.value.into_string())
                    .ok_or("select an address or a finding with a remote actor")?,
            ],
            subnet: None,
            waf: None,
            instance: Some(instance().map_err(|_| {
                "block-ip acts in the instance's subnet: select a finding about an instance (or use vigil act block-ip IP --subnet SUBNET)".to_string()
            })?),
        },
        Command::DisableKey => Action::DisableKey {
            key: focus_of(s, &[EntityKind::Key])
                .or_else(|| finding.and_then(|f| f.subject.key.clone()))
                .map(|e| e.value.into_string())
                .ok_or("select an access key or a finding about one")?,
        },
        Command::RevokeSessions => Action::RevokeSessions {
            role: focus_of(s, &[EntityKind::Role, EntityKind::Session])
                .or_else(|| {
                    finding.and_then(|f| {
                        f.subject
                            .principal
                            .clone()
                            .filter(|p| role_of(p).is_some())
                            .or_else(|| {
                                f.entities
                                    .iter()
                                    .find(|e| matches!(e.kind, EntityKind::Role))
                                    .cloned()
                            })
                    })
                })
                .and_then(|e| role_of(&e))
                .ok_or("select a role or session, or a finding about one")?,
        },
        Command::Playbook => {
            let pb = Playbook::default_playbook().map_err(|e| e.to_string())?;
            let instance = instance()?;
            pb.action(
                &instance,
                finding.map(|f| f.id.as_str()),
                s.opts.evidence.as_deref(),
            )
        }
        Command::BlockDomain => Action::BlockDomain {
            domain: focus_of(s, &[EntityKind::Domain])
                .or_else(|| {
                    finding.and_then(|f| {
                        f.entities
                            .iter()
                            .find(|e| e.kind == EntityKind::Domain)
                            .cloned()
                    })
                })
                .map(|e| e.value.into_string())
                .ok_or("select a domain or a finding about one")?,
            vpc: None,
            instance: Some(instance().map_err(|_| {
                "the block applies to an instance's VPC: select a finding about the instance that resolved it"
                    .to_string()
            })?),
        },
        _ => return Err("not an action".to_string()),
    })
}

pub(super) fn plan_context(s: &State, action: &Action) -> PlanContext {
    let mut findings = BTreeMap::new();
    let mut wanted = Vec::new();
    collect_findings(action, &mut wanted);
    for id in wanted {
        let Some(&i) = s.by_id.get(&id) else { continue };
        let f = &s.findings[i];
        let group_size = s
            .group_of
            .get(i)
            .and_then(|g| s.groups.get(*g as usize))
            .map_or(1, |g| g.findings.len());
        findings.insert(f.id.clone(), FindingSummary::of(f, group_size));
    }
    PlanContext {
        case: s
            .actions
            .case
            .clone()
            .unwrap_or_else(|| default_case(s.now.unwrap_or(Ts(0)))),
        now: s.now.unwrap_or(Ts(0)),
        topic_arn: s.actions.topic_arn.clone(),
        webhook: s.actions.webhook.clone(),
        findings,
        already_taken: s
            .actions
            .jobs
            .iter()
            .filter(|j| j.status == JobStatus::Done && !j.dry_run)
            .map(|j| format!("{} {}", j.action.verb(), j.action.target()))
            .collect(),
        // The console holds an instance in its auto-scaling group in Standby (release undoes it);
        // `vigil act quarantine --asg` offers the other choices.
        asg: crate::actions::AsgMode::Standby,
        open_command: s.actions.open_command.clone(),
        source: None,
    }
}

fn collect_findings(a: &Action, out: &mut Vec<String>) {
    match a {
        Action::Notify { finding } => out.push(finding.clone()),
        Action::Snapshot {
            finding: Some(f), ..
        } => out.push(f.clone()),
        Action::Playbook { steps, .. } => steps.iter().for_each(|s| collect_findings(s, out)),
        _ => {}
    }
}

/// The dry-run toggle.
pub fn toggle_dry_run(s: &mut State) {
    s.actions.dry_run = !s.actions.dry_run;
    let text = if s.actions.dry_run {
        "dry run ON: EC2 calls go with DryRun=true, other calls are planned only; nothing changes"
    } else {
        "dry run off: confirmed actions change the account"
    };
    status(s, StatusLevel::Info, text);
}

/// The actions screen (toggles).
pub fn open_actions(s: &mut State) {
    if matches!(s.view(), Some(View::Actions(_))) {
        s.stack.pop();
    } else {
        s.stack.push(View::Actions(ActionsView::default()));
    }
}

/// The world screen (toggles). Only a responder with a world to show (the demo) fills it.
pub fn open_world(s: &mut State) {
    if matches!(s.view(), Some(View::World(_))) {
        s.stack.pop();
        return;
    }
    if s.actions.account.is_none() {
        let why = if s.armed() {
            let actions = s
                .keymap
                .key_for(s.context(), Command::ActionsScreen)
                .map_or_else(String::new, |k| format!(", {k},"));
            format!(
                "world: this responder has no world view (AWS: the actions screen{actions} shows what was done)"
            )
        } else {
            "world: read-only session, no responder and no world to show".to_string()
        };
        status(s, StatusLevel::Warn, why);
        return;
    }
    s.stack.push(View::World(WorldView::default()));
}

/// Keys on the confirm screen. `None` lets the key go through the ordinary keymap (help, quit).
pub fn on_confirm_key(s: &mut State, key: Key) -> Option<Vec<Effect>> {
    let Some(View::Confirm(cv)) = s.stack.last_mut() else {
        return None;
    };
    let typing = matches!(cv.plan.confirm, Confirm::TypeId { .. });
    if typing
        && let KeyCode::Char(c) = key.code
        && !key.ctrl
        && !key.alt
    {
        cv.typed.push(c);
        return Some(Vec::new());
    }
    let cmd = match s.keymap.lookup(Context::Confirm, &[key]) {
        Lookup::Command(c) => c,
        _ => return None,
    };
    let Some(View::Confirm(cv)) = s.stack.last_mut() else {
        return None;
    };
    match cmd {
        Command::ConfirmYes | Command::Submit => {
            let input = if cmd == Command::ConfirmYes && !typing {
                "y".to_string()
            } else {
                cv.typed.clone()
            };
            if cv.plan.confirm.accepts(&input) {
                return Some(confirmed(s));
            }
            cv.typed.clear();
            let want = match &cv.plan.confirm {
                Confirm::TypeId { id } => format!("type {id} or its last 4 characters, then enter"),
                Confirm::Yes => "press y to go ahead, n to cancel".to_string(),
            };
            let text = if input.is_empty() {
                want
            } else {
                format!("`{input}` does not match: nothing was done; {want}")
            };
            status(s, StatusLevel::Error, text);
            Some(Vec::new())
        }
        Command::ConfirmNo | Command::Cancel | Command::Back => {
            let job = cv.job;
            s.stack.pop();
            if let Some(j) = job_mut(s, job) {
                j.status = JobStatus::Cancelled;
            }
            status(s, StatusLevel::Info, "cancelled: nothing was done");
            Some(Vec::new())
        }
        Command::DeleteBack => {
            cv.typed.pop();
            Some(Vec::new())
        }
        Command::Up | Command::PageUp => {
            let n = if cmd == Command::Up { 1 } else { 10 };
            cv.scroll = cv.scroll.saturating_sub(n);
            Some(Vec::new())
        }
        Command::Down | Command::PageDown => {
            let n = if cmd == Command::Down { 1 } else { 10 };
            cv.scroll = (cv.scroll + n).min(cv.plan.steps.len() * 2 + 20);
            Some(Vec::new())
        }
        _ => None,
    }
}

/// The operator confirmed: leave the confirm screen for the actions screen and run the plan.
fn confirmed(s: &mut State) -> Vec<Effect> {
    let Some(View::Confirm(cv)) = s.stack.pop() else {
        return Vec::new();
    };
    if !s.armed() {
        status(s, StatusLevel::Warn, "read-only session: nothing was done");
        return Vec::new();
    }
    let plan = cv.plan;
    if let Some(j) = job_mut(s, cv.job) {
        j.status = JobStatus::Running;
        j.calls_total = plan.steps.len();
        j.dry_run = cv.dry_run;
    }
    status(
        s,
        StatusLevel::Info,
        format!(
            "{}{} {}: {} call(s) running",
            if cv.dry_run { "dry run: " } else { "" },
            plan.action.verb(),
            plan.action.target(),
            plan.steps.len()
        ),
    );
    if !matches!(s.view(), Some(View::Actions(_))) {
        s.stack.push(View::Actions(ActionsView::default()));
    }
    vec![Effect::RunAction {
        job: cv.job,
        plan: Box::new(plan),
        dry_run: cv.dry_run,
    }]
}
