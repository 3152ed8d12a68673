//! The executor: runs a [`Plan`] through a [`Responder`], one call at a time, auditing each call
//! (intent before, result after) and stopping at the first failure.

use super::answer::{CallError, DryRun};
use super::api::{ApiCall, GroupRef};
use super::audit::{AuditError, AuditKind, AuditLog, AuditRecord, now_utc};
use super::plan::{Plan, Step};
use super::responder::Responder;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// Calls that have a dry-run (EC2) are made with DryRun=true; other calls are not made.
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepOutcome {
    Ok,
    WouldSucceed,
    NotChecked,
    Failed,
    /// Not run because an earlier step failed.
    NotRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StepReport {
    pub step: usize,
    pub action: String,
    pub api: String,
    pub call: String,
    pub outcome: StepOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    // Read back as written (a recording): an empty list is left out, so it defaults.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// Every call succeeded.
    Done,
    /// Nothing to do (already in the wanted state).
    NoOp,
    /// Dry run: every checkable call would succeed.
    WouldSucceed,
    /// Stopped at this step (1-based), or (dry run) this step would fail.
    Failed { step: usize, error: String },
}

/// What happened, for the screen and `--format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Report {
    pub action: String,
    pub target: String,
    pub case: String,
    pub operator: String,
    pub demo: bool,
    pub dry_run: bool,
    pub outcome: Outcome,
    /// Every id created (groups, snapshots, message ids).
    pub created: Vec<String>,
    pub steps: Vec<StepReport>,
    pub notes: Vec<String>,
    pub audit_log: String,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        !matches!(self.outcome, Outcome::Failed { .. })
    }

    /// What the calls of one IAM action created (`ec2:CreateSnapshots`: the snapshot ids;
    /// `ssm:SendCommand`: the command id), in step order.
    pub fn created(&self, iam_action: &str) -> Vec<String> {
        self.steps
            .iter()
            .filter(|st| st.api == iam_action)
            .flat_map(|st| st.created.iter().cloned())
            .collect()
    }

    /// The report as a person reads it.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        for st in &self.steps {
            let mark = match st.outcome {
                StepOutcome::Ok => "ok",
                StepOutcome::WouldSucceed => "would succeed",
                StepOutcome::NotChecked => "not checked",
                StepOutcome::Failed => "FAILED",
                StepOutcome::NotRun => "not run",
            };
            let _ = write!(s, "  {:>2}. {:<36} {mark}", st.step, st.api);
            if !st.created.is_empty() {
                let _ = write!(s, " → {}", st.created.join(", "));
            }
            if let Some(r) = &st.request_id {
                let _ = write!(s, " [request {r}]");
            }
            let _ = writeln!(s);
            if let Some(e) = &st.error {
                let _ = writeln!(s, "      {}: {}", st.call, e.plain());
            }
            if let Some(n) = &st.note {
                let _ = writeln!(s, "      {n}");
            }
        }
        let _ = match &self.outcome {
            Outcome::Done => writeln!(s, "done: {} {}", self.action, self.target),
            Outcome::NoOp => writeln!(s, "nothing to do: {} {}", self.action, self.target),
            Outcome::WouldSucceed => writeln!(
                s,
                "dry run: every checked call would succeed; nothing was changed"
            ),
            Outcome::Failed { step, error } => writeln!(
                s,
                "FAILED at step {step}: {error}{}",
                if self.dry_run {
                    " (dry run: nothing was changed)"
                } else {
                    "; the steps before it were made and are in the audit log"
                }
            ),
        };
        let _ = writeln!(s, "audit log: {}", self.audit_log);
        s
    }
}

fn groups_resolved(call: &ApiCall, created: &BTreeMap<String, String>) -> bool {
    call.refs().into_iter().all(|g| match g {
        GroupRef::Existing(_) => true,
        GroupRef::Created(n) => created.contains_key(n),
    })
}

/// One run of a plan: the audit log, the record every line starts from, what was created so far
/// and the first failure.
struct Run<'a> {
    log: &'a mut AuditLog,
    base: AuditRecord,
    /// Group names created by earlier steps → their ids.
    created: BTreeMap<String, String>,
    /// The first failing step (1-based) and why.
    failed: Option<(usize, String)>,
}

impl Run<'_> {
    /// A record of this kind, stamped now.
    fn stamp(&self, kind: AuditKind) -> AuditRecord {
        AuditRecord {
            time: now_utc().to_rfc3339(),
            kind,
            ..self.base.clone()
        }
    }

    /// The result record of step `n`.
    fn result(&self, n: usize, api: &str, outcome: &str) -> AuditRecord {
        AuditRecord {
            step: Some(n),
            api: Some(api.to_string()),
            outcome: Some(outcome.to_string()),
            ..self.stamp(AuditKind::Result)
        }
    }

    /// Dry run of one step: only calls with a dry-run, and only once the groups they name exist.
    fn dry_run_step(
        &mut self,
        n: usize,
        st: &Step,
        intent: AuditRecord,
        responder: &mut dyn Responder,
        sr: &mut StepReport,
    ) -> Result<(), AuditError> {
        if !st.call.supports_dry_run() {
            sr.outcome = StepOutcome::NotChecked;
            sr.note = Some("no dry-run in this API: planned only".to_string());
            return Ok(());
        }
        if !groups_resolved(&st.call, &self.created) {
            sr.outcome = StepOutcome::NotChecked;
            sr.note = Some("uses a group an earlier step would create".to_string());
            return Ok(());
        }
        self.log.write(&intent)?;
        let res = responder.dry_run(&st.call, &self.created);
        let (outcome, error) = match &res {
            Ok(DryRun::WouldSucceed) => ("would-succeed", None),
            Ok(DryRun::NotChecked { .. }) => ("not-checked", None),
            Err(e) => ("error", Some(e.clone())),
        };
        self.log.write(&AuditRecord {
            error: error.as_ref().and_then(|e| serde_json::to_value(e).ok()),
            ..self.result(n, &sr.api, outcome)
        })?;
        match res {
            Ok(DryRun::WouldSucceed) => sr.outcome = StepOutcome::WouldSucceed,
            Ok(DryRun::NotChecked { why }) => {
                sr.outcome = StepOutcome::NotChecked;
                sr.note = Some(why);
            }
            Err(e) => {
                sr.outcome = StepOutcome::Failed;
                if self.failed.is_none() {
                    self.failed = Some((n, e.plain()));
                }
                sr.error = Some(e);
            }
        }
        Ok(())
    }

    /// Makes one step's call; what it created is remembered for the later steps.
    fn run_step(
        &mut self,
        n: usize,
        st: &Step,
        intent: AuditRecord,
        responder: &mut dyn Responder,
        sr: &mut StepReport,
        report: &mut Report,
    ) -> Result<(), AuditError> {
        self.log.write(&intent)?;
        match responder.call(&st.call, &self.created) {
            Ok(ok) => {
                if let (Some(name), Some(id)) = (st.call.creates(), ok.created.first()) {
                    self.created.insert(name.to_string(), id.clone());
                }
                self.log.write(&AuditRecord {
                    request_id: ok.request_id.clone(),
                    created: ok.created.clone(),
                    ..self.result(n, &sr.api, "ok")
                })?;
                sr.outcome = StepOutcome::Ok;
                sr.request_id = ok.request_id;
                report.created.extend(ok.created.iter().cloned());
                sr.created = ok.created;
            }
            Err(e) => {
                self.log.write(&AuditRecord {
                    request_id: e.request_id.clone(),
                    error: serde_json::to_value(&e).ok(),
                    ..self.result(n, &sr.api, "error")
                })?;
                sr.outcome = StepOutcome::Failed;
                sr.request_id = e.request_id.clone();
                self.failed = Some((
                    n,
                    format!(
                        "{} on {}: {}",
                        sr.api,
                        st.call.touches().join(","),
                        e.plain()
                    ),
                ));
                sr.error = Some(e);
            }
        }
        Ok(())
    }
}

/// Runs the plan. Returns Err only when the audit log cannot be written (then no further call is
/// made); API failures are in the report.
pub fn execute(
    plan: &Plan,
    responder: &mut dyn Responder,
    log: &mut AuditLog,
    opts: &ExecOptions,
) -> Result<Report, AuditError> {
    let demo = responder.is_demo();
    let mut report = Report {
        action: plan.action.verb().to_string(),
        target: plan.action.target(),
        case: plan.case.clone(),
        operator: plan.operator.arn.clone(),
        demo,
        dry_run: opts.dry_run,
        outcome: Outcome::Done,
        created: Vec::new(),
        steps: Vec::new(),
        notes: plan.notes.clone(),
        audit_log: log.path().display().to_string(),
    };
    let mut run = Run {
        log,
        base: AuditRecord {
            demo,
            dry_run: opts.dry_run,
            operator: plan.operator.arn.clone(),
            account: plan.operator.account.clone(),
            case: plan.case.clone(),
            action: plan.action.verb().to_string(),
            target: plan.action.target(),
            region: plan.region.clone(),
            ..AuditRecord::default()
        },
        created: BTreeMap::new(),
        failed: None,
    };
    // Where it was planned: the calls go to the account and region the plan read.
    let account = Some(plan.operator.account.as_str()).filter(|a| !a.is_empty());
    if let Err(e) = responder.act_at(account, plan.region.as_deref()) {
        report.outcome = Outcome::Failed {
            step: 1,
            error: format!("{}: {}", e.code, e.plain()),
        };
        return Ok(report);
    }
    for c in &plan.captured {
        run.log.write(&AuditRecord {
            detail: Some(c.clone()),
            ..run.stamp(AuditKind::Captured)
        })?;
    }
    if plan.is_noop() {
        run.log.write(&AuditRecord {
            outcome: Some("no-op".to_string()),
            detail: Some(serde_json::json!({ "notes": plan.notes })),
            ..run.stamp(AuditKind::End)
        })?;
        report.outcome = Outcome::NoOp;
        return Ok(report);
    }
    for (i, st) in plan.steps.iter().enumerate() {
        let n = i + 1;
        let mut sr = StepReport {
            step: n,
            action: st.action.clone(),
            api: st.call.iam_action().to_string(),
            call: st.call.describe(),
            outcome: StepOutcome::NotRun,
            request_id: None,
            created: Vec::new(),
            error: None,
            note: None,
        };
        if run.failed.is_some() && !opts.dry_run {
            report.steps.push(sr);
            continue;
        }
        let intent = AuditRecord {
            step: Some(n),
            api: Some(sr.api.clone()),
            params: serde_json::to_value(&st.call).ok(),
            detail: Some(serde_json::json!({ "action": st.action, "why": st.why })),
            ..run.stamp(AuditKind::Intent)
        };
        if opts.dry_run {
            run.dry_run_step(n, st, intent, responder, &mut sr)?;
        } else {
            run.run_step(n, st, intent, responder, &mut sr, &mut report)?;
        }
        report.steps.push(sr);
    }
    report.outcome = match run.failed.take() {
        Some((step, error)) => Outcome::Failed { step, error },
        None if opts.dry_run => Outcome::WouldSucceed,
        None => Outcome::Done,
    };
    run.log.write(&AuditRecord {
        outcome: Some(
            match &report.outcome {
                Outcome::Done => "done",
                Outcome::NoOp => "no-op",
                Outcome::WouldSucceed => "would-succeed",
                Outcome::Failed { .. } => "failed",
            }
            .to_string(),
        ),
        created: report.created.clone(),
        detail: match &report.outcome {
            Outcome::Failed { step, error } => {
                Some(serde_json::json!({ "failed_step": step, "error": error }))
            }
            _ => None,
        },
        ..run.stamp(AuditKind::End)
    })?;
    Ok(report)
}
