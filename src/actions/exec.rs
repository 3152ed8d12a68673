//! The executor: runs a [`Plan`] through a [`Responder`], one call at a time, auditing each call
//! (intent before, result after) and stopping at the first failure.

use super::audit::{AuditError, AuditLog, AuditRecord, now_utc};
use super::*;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// EC2 calls with DryRun=true; other calls are not made.
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepOutcome {
    Ok,
    WouldSucceed,
    NotChecked,
    Failed,
    /// Not run because an earlier step failed.
    NotRun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    pub step: usize,
    pub action: String,
    pub api: String,
    pub call: String,
    pub outcome: StepOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub created: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<CallError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Runs the plan. Returns Err only when the audit log cannot be written (then no further call is
/// made); API failures are in the report.
pub fn execute(
    plan: &Plan,
    responder: &mut dyn Responder,
    log: &mut AuditLog,
    opts: &ExecOptions,
) -> Result<Report, AuditError> {
    let demo = responder.is_demo();
    let base = AuditRecord {
        demo,
        dry_run: opts.dry_run,
        operator: plan.operator.arn.clone(),
        account: plan.operator.account.clone(),
        case: plan.case.clone(),
        action: plan.action.verb().to_string(),
        target: plan.action.target(),
        ..AuditRecord::default()
    };
    let stamp = |kind: &str| AuditRecord {
        time: now_utc().to_rfc3339(),
        kind: kind.to_string(),
        ..base.clone()
    };
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
    for c in &plan.captured {
        log.write(&AuditRecord {
            detail: Some(c.clone()),
            ..stamp("captured")
        })?;
    }
    if plan.is_noop() {
        log.write(&AuditRecord {
            outcome: Some("no-op".to_string()),
            detail: Some(serde_json::json!({ "notes": plan.notes })),
            ..stamp("end")
        })?;
        report.outcome = Outcome::NoOp;
        return Ok(report);
    }
    let mut created: BTreeMap<String, String> = BTreeMap::new();
    let mut failed: Option<(usize, String)> = None;
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
        if failed.is_some() && !opts.dry_run {
            report.steps.push(sr);
            continue;
        }
        let params = serde_json::to_value(&st.call).ok();
        let intent = AuditRecord {
            step: Some(n),
            api: Some(sr.api.clone()),
            params: params.clone(),
            detail: Some(serde_json::json!({ "action": st.action, "why": st.why })),
            ..stamp("intent")
        };
        if opts.dry_run {
            if !st.call.supports_dry_run() {
                sr.outcome = StepOutcome::NotChecked;
                sr.note = Some("no dry-run in this API: planned only".to_string());
                report.steps.push(sr);
                continue;
            }
            if !groups_resolved(&st.call, &created) {
                sr.outcome = StepOutcome::NotChecked;
                sr.note = Some("uses a group an earlier step would create".to_string());
                report.steps.push(sr);
                continue;
            }
            log.write(&intent)?;
            let res = responder.dry_run(&st.call, &created);
            let (outcome, error) = match &res {
                Ok(DryRun::WouldSucceed) => ("would-succeed", None),
                Ok(DryRun::NotChecked { .. }) => ("not-checked", None),
                Err(e) => ("error", Some(e.clone())),
            };
            log.write(&AuditRecord {
                step: Some(n),
                api: Some(sr.api.clone()),
                outcome: Some(outcome.to_string()),
                error: error.as_ref().and_then(|e| serde_json::to_value(e).ok()),
                ..stamp("result")
            })?;
            match res {
                Ok(DryRun::WouldSucceed) => sr.outcome = StepOutcome::WouldSucceed,
                Ok(DryRun::NotChecked { why }) => {
                    sr.outcome = StepOutcome::NotChecked;
                    sr.note = Some(why);
                }
                Err(e) => {
                    sr.outcome = StepOutcome::Failed;
                    if failed.is_none() {
                        failed = Some((n, e.plain()));
                    }
                    sr.error = Some(e);
                }
            }
            report.steps.push(sr);
            continue;
        }
        log.write(&intent)?;
        let res = responder.call(&st.call, &created);
        match res {
            Ok(ok) => {
                if let (Some(name), Some(id)) = (st.call.creates(), ok.created.first()) {
                    created.insert(name.to_string(), id.clone());
                }
                log.write(&AuditRecord {
                    step: Some(n),
                    api: Some(sr.api.clone()),
                    outcome: Some("ok".to_string()),
                    request_id: ok.request_id.clone(),
                    created: ok.created.clone(),
                    ..stamp("result")
                })?;
                sr.outcome = StepOutcome::Ok;
                sr.request_id = ok.request_id;
                report.created.extend(ok.created.iter().cloned());
                sr.created = ok.created;
            }
            Err(e) => {
                log.write(&AuditRecord {
                    step: Some(n),
                    api: Some(sr.api.clone()),
                    outcome: Some("error".to_string()),
                    request_id: e.request_id.clone(),
                    error: serde_json::to_value(&e).ok(),
                    ..stamp("result")
                })?;
                sr.outcome = StepOutcome::Failed;
                sr.request_id = e.request_id.clone();
                failed = Some((
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
        report.steps.push(sr);
    }
    report.outcome = match failed {
        Some((step, error)) => Outcome::Failed { step, error },
        None if opts.dry_run => Outcome::WouldSucceed,
        None => Outcome::Done,
    };
    log.write(&AuditRecord {
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
        ..stamp("end")
    })?;
    Ok(report)
}
