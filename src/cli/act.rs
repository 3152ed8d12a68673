//! `vigil act`: the response actions without the console, for scripts and SOAR pipelines. Builds
//! the action, reads the account (AWS or a demo world), prints the plan, asks for confirmation,
//! runs it through the executor and prints the report (text, or JSON with `--format json`).
//!
//! Exit status: 0 done (or nothing to do, or a dry run that would succeed), 1 an API call failed,
//! 2 usage or input error, 3 refused (read-only, not confirmed, no terminal to confirm on).

use super::act_follow::{FollowUp, evidence_store, follow_up};
use super::args::{ActArgs, ActCommand, ActFormat};
use crate::actions::plan::{FindingSummary, PlanContext, default_case};
use crate::actions::webhook::WebhookUrl;
use crate::actions::{
    self, Action, AsgMode, AuditLog, ExecOptions, Plan, Playbook, ReadOnlySession,
    ResponderSession, Session, audit,
};
use crate::demo::{Scenario, responder::DemoResponder};
use crate::model::text::escape_lines;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_REFUSED: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Plan(#[from] actions::PlanError),
    #[error(transparent)]
    Audit(#[from] actions::audit::AuditError),
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error(transparent)]
    Input(#[from] crate::ingest::InputError),
    #[error(transparent)]
    Playbook(#[from] actions::playbook::PlaybookError),
    #[error(transparent)]
    Webhook(#[from] actions::webhook::WebhookError),
    #[error("cannot read playbook {path}: {source}")]
    PlaybookFile {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    /// Stdout could not be flushed once the command was done: said as the bare IO error.
    #[error(transparent)]
    Flush(std::io::Error),
}

/// The action, its common options and what quarantine does about an auto-scaling group.
fn action_of(cmd: &ActCommand) -> Result<(Action, &ActArgs, AsgMode), ActError> {
    let asg = match cmd {
        ActCommand::Quarantine { asg, .. } | ActCommand::Playbook { asg, .. } => (*asg).into(),
        _ => AsgMode::default(),
    };
    let (action, common) = match cmd {
        ActCommand::Quarantine {
            instance, common, ..
        } => (
            Action::Quarantine {
                instance: instance.clone(),
            },
            common,
        ),
        ActCommand::Release {
            instance,
            unprotect,
            common,
        } => (
            Action::Release {
                instance: instance.clone(),
                unprotect: *unprotect,
            },
            common,
        ),
        ActCommand::Snapshot {
            instance,
            finding,
            common,
            ..
        } => (
            Action::Snapshot {
                instance: instance.clone(),
                finding: finding.clone(),
            },
            common,
        ),
        ActCommand::Notify { finding, common } => (
            Action::Notify {
                finding: finding.clone(),
            },
            common,
        ),
        ActCommand::DisableKey { key, common } => (Action::DisableKey { key: key.clone() }, common),
        ActCommand::ShareSnapshots {
            instance,
            forensics_account,
            forensics_key,
            common,
        } => (
            Action::ShareSnapshots {
                instance: instance.clone(),
                account: forensics_account.clone(),
                kms_key: forensics_key.clone(),
            },
            common,
        ),
        ActCommand::Collect {
            instance,
            evidence,
            memory_command,
            common,
            ..
        } => (
            Action::Collect {
                instance: instance.clone(),
                evidence: evidence_store(evidence),
                memory: memory_command.clone(),
            },
            common,
        ),
        ActCommand::DetachProfile { instance, common } => (
            Action::DetachProfile {
                instance: instance.clone(),
            },
            common,
        ),
        ActCommand::RevokeSessions { role, common } => {
            (Action::RevokeSessions { role: role.clone() }, common)
        }
        ActCommand::BlockDomain {
            domain,
            vpc,
            instance,
            common,
        } => (
            Action::BlockDomain {
                domain: domain.clone(),
                vpc: vpc.clone(),
                instance: instance.clone(),
            },
            common,
        ),
        ActCommand::BlockIp(a) => {
            let (ips, subnet, instance, waf) = ip_targets(a);
            (
                Action::BlockIp {
                    ips,
                    subnet,
                    instance,
                    waf,
                },
                &a.common,
            )
        }
        ActCommand::UnblockIp(a) => {
            let (ips, subnet, instance, waf) = ip_targets(a);
            (
                Action::UnblockIp {
                    ips,
                    subnet,
                    instance,
                    waf,
                },
                &a.common,
            )
        }
        ActCommand::Playbook {
            instance,
            finding,
            playbook,
            evidence,
            common,
            ..
        } => {
            let pb = match playbook {
                Some(p) => {
                    let text =
                        std::fs::read_to_string(p).map_err(|source| ActError::PlaybookFile {
                            path: p.clone(),
                            source,
                        })?;
                    Playbook::parse(&p.display().to_string(), &text)?
                }
                None => Playbook::default_playbook()?,
            };
            (
                pb.action(
                    instance,
                    finding.as_deref(),
                    evidence_store(evidence).as_deref(),
                ),
                common,
            )
        }
    };
    Ok((action, common, asg))
}

fn summaries(findings: &[crate::model::Finding]) -> BTreeMap<String, FindingSummary> {
    let groups = crate::graph::groups::compute(findings);
    findings
        .iter()
        .map(|f| {
            let group_size = groups
                .iter()
                .find(|g| g.findings.contains(&f.id))
                .map_or(1, |g| g.findings.len());
            (f.id.clone(), FindingSummary::of(f, group_size))
        })
        .collect()
}

/// Runs `vigil act` on the terminal: the plan and report on stdout, prompts on stderr.
pub fn run(action: &ActCommand) -> Result<ExitCode, ActError> {
    let mut stdout = std::io::stdout().lock();
    let code = execute(action, &mut stdout)?;
    stdout.flush().map_err(ActError::Flush)?;
    Ok(ExitCode::from(code))
}

/// Runs `vigil act`. `out` gets the plan and report (or the JSON); prompts go to stderr.
pub fn execute(cmd: &ActCommand, out: &mut dyn Write) -> Result<u8, ActError> {
    let (action, args, asg) = action_of(cmd)?;
    act(
        &action,
        args,
        asg,
        out,
        &mut |responder, report, ctx, log| Ok(follow_up(cmd, args, responder, report, ctx, log)?),
    )
}

type After<'a> = dyn FnMut(
        &mut dyn actions::Responder,
        &actions::Report,
        &PlanContext,
        &mut AuditLog,
    ) -> Result<FollowUp, ActError>
    + 'a;

/// Plans `action`, shows the plan, asks, runs it through the executor (audited), then `after`
/// on success. Exit status as `vigil act`'s.
pub fn act(
    action: &Action,
    args: &ActArgs,
    asg: AsgMode,
    out: &mut dyn Write,
    after: &mut After<'_>,
) -> Result<u8, ActError> {
    let (mut ctx, webhook) = context(args, asg)?;
    let mut session = session(args, &mut ctx, webhook.as_ref())?;
    let facts = actions::gather(action, session.inspector())?;
    let plan = actions::plan(action, &facts, &ctx)?;
    let json = args.format == ActFormat::Json;
    // The plan goes to stdout in text mode, stderr in JSON mode (stdout is then only the result).
    // Names in a plan come from the account (tags, group and role names): no controls through.
    let rendered = escape_lines(&plan.render()).into_owned();
    if json {
        eprint!("{rendered}");
    } else {
        write!(out, "{rendered}")?;
        out.flush()?;
    }
    let responder = match &mut session {
        Session::ReadOnly(_) => {
            return refuse(
                out,
                json,
                &plan,
                "read-only session: the plan is shown, nothing was done",
            );
        }
        Session::Responder(r) => r.responder(),
    };
    if !plan.is_noop()
        && !args.dry_run
        && !args.yes
        && let Some(why) = unconfirmed(&plan)?
    {
        return refuse(out, json, &plan, why);
    }
    let path = args
        .audit_log
        .clone()
        .unwrap_or_else(crate::paths::audit_log);
    let mut log = AuditLog::open(&path)?;
    let report = actions::execute(
        &plan,
        responder,
        &mut log,
        &ExecOptions {
            dry_run: args.dry_run,
        },
    )?;
    let followed = if report.succeeded() {
        after(responder, &report, &ctx, &mut log)?
    } else {
        FollowUp::none()
    };
    if json {
        let mut v = serde_json::json!({"outcome": report.outcome, "report": report, "plan": plan});
        for (k, x) in &followed.json {
            v[*k] = x.clone();
        }
        serde_json::to_writer_pretty(&mut *out, &v).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", escape_lines(&report.render()))?;
        for l in &followed.lines {
            writeln!(out, "{}", escape_lines(l))?;
        }
    }
    Ok(if report.succeeded() && followed.ok {
        0
    } else {
        EXIT_FAILED
    })
}

/// What the plan is made with (case, time, topic, webhook host), and the webhook itself.
fn context(args: &ActArgs, asg: AsgMode) -> Result<(PlanContext, Option<WebhookUrl>), ActError> {
    let now = audit::now_utc();
    let mut ctx = PlanContext {
        case: args.case.clone().unwrap_or_else(|| default_case(now)),
        now,
        asg,
        topic_arn: args.topic_arn.clone().or_else(|| {
            std::env::var("VIGIL_TOPIC_ARN")
                .ok()
                .filter(|s| !s.is_empty())
        }),
        ..PlanContext::default()
    };
    let webhook = args
        .webhook
        .clone()
        .or_else(|| std::env::var("VIGIL_WEBHOOK_URL").ok())
        .filter(|s| !s.is_empty())
        .map(|u| WebhookUrl::parse(&u))
        .transpose()?;
    ctx.webhook = webhook.as_ref().map(|u| u.redacted());
    Ok((ctx, webhook))
}

/// The session the action runs in: a demo world (`--demo`) or the AWS account, read-only with
/// `--read-only`. Fills in what `ctx` learns from it (findings, topic, the command to see them).
fn session(
    args: &ActArgs,
    ctx: &mut PlanContext,
    webhook: Option<&WebhookUrl>,
) -> Result<Session, ActError> {
    let arm = |r: Box<dyn actions::Responder + Send>| -> Box<dyn actions::Responder + Send> {
        match webhook {
            Some(u) => Box::new(actions::webhook::WebhookResponder::new(r, u.clone())),
            None => r,
        }
    };
    if let Some(name) = &args.demo {
        let sc = Scenario::load(name)?;
        let demo = DemoResponder::for_scenario(&sc)?;
        if ctx.topic_arn.is_none() {
            ctx.topic_arn = demo.world.sns_topics.first().map(|t| t.arn.clone());
        }
        ctx.findings = summaries(&sc.all_findings());
        ctx.open_command = Some(format!("vigil demo {name}"));
        return Ok(if args.read_only {
            Session::ReadOnly(ReadOnlySession::new(Box::new(demo)))
        } else {
            Session::Responder(ResponderSession::new(arm(Box::new(demo))))
        });
    }
    if !args.findings.is_empty() {
        let loaded = crate::ingest::load(&args.findings)?;
        ctx.findings = summaries(&loaded.findings);
        ctx.open_command = Some(format!(
            "vigil open --findings {}",
            args.findings
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let opts = crate::aws::AwsOptions {
        profile: args.aws.profile.clone(),
        region: args.aws.region.clone(),
        endpoint_url: args.aws.endpoint_url.clone(),
        max_attempts: None,
        ..Default::default()
    };
    Ok(if args.read_only {
        Session::ReadOnly(ReadOnlySession::new(Box::new(
            crate::aws::connect_read_only(&opts)?,
        )))
    } else {
        Session::Responder(ResponderSession::new(arm(Box::new(
            crate::aws::connect_responder(&opts)?,
        ))))
    })
}

/// Asks on the terminal; why the plan is refused, or `None` once the operator confirmed.
fn unconfirmed(plan: &Plan) -> Result<Option<&'static str>, ActError> {
    if !std::io::stdin().is_terminal() {
        return Ok(Some(
            "no terminal to confirm on; pass --yes to act without asking",
        ));
    }
    eprint!("{}", plan.confirm.prompt());
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok((!plan.confirm.accepts(&line)).then_some("not confirmed"))
}

/// Says why nothing was done (with the plan, in JSON mode) and exits [`EXIT_REFUSED`].
fn refuse(out: &mut dyn Write, json: bool, plan: &Plan, why: &str) -> Result<u8, ActError> {
    if json {
        serde_json::to_writer_pretty(
            &mut *out,
            &serde_json::json!({"outcome": {"status": "refused", "why": why}, "plan": plan}),
        )
        .map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(out, "refused: {}", escape_lines(why))?;
    }
    Ok(EXIT_REFUSED)
}

/// What block-ip and unblock-ip name: the addresses, the subnet or instance, the WAF IP set.
type IpTargets = (
    Vec<String>,
    Option<String>,
    Option<String>,
    Option<crate::actions::WafSet>,
);

fn ip_targets(a: &super::args::BlockIpArgs) -> IpTargets {
    let waf = a.waf_ip_set.as_ref().map(|n| crate::actions::WafSet {
        name: n.clone(),
        scope: match a.waf_scope {
            super::args::WafScope::Regional => "REGIONAL".to_string(),
            super::args::WafScope::Cloudfront => "CLOUDFRONT".to_string(),
        },
    });
    (a.ips.clone(), a.subnet.clone(), a.instance.clone(), waf)
}
