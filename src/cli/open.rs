//! `vigil open`: exported files in the console, read-only unless `--respond` arms it against the
//! AWS account.

use super::args::{AwsArgs, Inputs, OpenArgs};
use super::error::CliError;
use super::inputs::expand;
use super::ui;
use crate::actions::Inspect;
use crate::app::Mode;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(args: OpenArgs, start_logging: fn()) -> Result<ExitCode, CliError> {
    let (opts, keymap) = ui::setup(&args.ui, Mode::Files, start_logging)?;
    let inputs = &args.inputs;
    let mut evidence = inputs.trail.clone();
    evidence.extend(inputs.flows.iter().cloned());
    evidence.extend(inputs.dns.iter().cloned());
    if inputs.findings.is_empty() && evidence.is_empty() {
        return Err(CliError::NoConsoleInputs);
    }
    // Missing paths are usage errors, reported before the terminal is taken over.
    expand(inputs)?;
    let sources = crate::console::FileSources {
        findings: inputs.findings.clone(),
        evidence,
    };
    let arming = if args.respond {
        Some(aws_arming(&args)?)
    } else {
        None
    };
    crate::console::open(opts, keymap, sources, arming)?;
    Ok(ExitCode::SUCCESS)
}

/// The AWS responder for `vigil open --respond`, checked before the terminal is taken over: the
/// credentials must answer sts:GetCallerIdentity, so a bad profile is a one-line error, not a
/// console that fails at the first action.
fn aws_arming(args: &OpenArgs) -> Result<crate::console::Arming, CliError> {
    let aws = &args.aws;
    let mut responder = crate::aws::connect_responder(&aws_options(aws))?;
    let who = responder
        .identity()
        .map_err(|e| CliError::Unreachable(e.plain()))?;
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    // Unlike `demo` and `act`, an empty `--webhook ""` is not "none" here: it fails to parse.
    let webhook = args
        .webhook
        .clone()
        .or_else(|| env("VIGIL_WEBHOOK_URL"))
        .map(|u| crate::actions::webhook::WebhookUrl::parse(&u))
        .transpose()?;
    Ok(crate::console::Arming {
        responder: Box::new(responder),
        label: format!(
            "AWS {}as {}",
            aws.profile
                .as_deref()
                .map(|p| format!("profile {p} "))
                .unwrap_or_default(),
            who.arn
        ),
        audit_log: args.audit_log.clone(),
        webhook,
        topic_arn: args.topic_arn.clone().or_else(|| env("VIGIL_TOPIC_ARN")),
        case: args.case.clone(),
        open_command: Some(open_command(&args.inputs)),
    })
}

fn aws_options(aws: &AwsArgs) -> crate::aws::AwsOptions {
    crate::aws::AwsOptions {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        max_attempts: None,
    }
}

/// The command a notification tells the team to run to see the same view.
fn open_command(inputs: &Inputs) -> String {
    let paths = |ps: &[PathBuf]| {
        ps.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut cmd = format!("vigil open --findings {}", paths(&inputs.findings));
    if !inputs.trail.is_empty() {
        cmd.push_str(&format!(" --trail {}", paths(&inputs.trail)));
    }
    cmd
}
