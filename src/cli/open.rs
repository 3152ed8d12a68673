//! `vigil open`: exported files in the console, read-only unless `--respond` arms it against the
//! AWS account.

use super::args::{AwsArgs, Inputs, OpenArgs};
use super::error::CliError;
use super::ui;
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
    // S3 prefixes are read by the console after the files; their buckets are reached now.
    let s3 = super::s3::console_sources(
        &[
            (&inputs.findings, "GuardDuty"),
            (&inputs.trail, "CloudTrail"),
            (&inputs.flows, "vpcflowlogs"),
            (&inputs.dns, "vpcdnsquerylogs"),
        ],
        &aws_options(&args.aws),
    )?;
    // Missing paths are usage errors, reported before the terminal is taken over.
    super::inputs::expand_local(inputs)?;
    let sources = crate::console::FileSources {
        findings: super::s3::split(&inputs.findings).0,
        evidence: super::s3::split(&evidence).0,
        s3,
        hunt: super::hunt::console_setup(&args.hunt)?,
    };
    let arming = if args.act.respond {
        let aws = &args.aws;
        let open_command = open_command(&args.inputs);
        Some(super::respond::aws_arming(
            &args.act,
            &aws_options(aws),
            aws.profile.as_deref(),
            open_command,
            Vec::new(),
        )?)
    } else {
        None
    };
    crate::console::open(opts, keymap, sources, arming, ui::record_to(&args.ui))?;
    Ok(ExitCode::SUCCESS)
}

fn aws_options(aws: &AwsArgs) -> crate::aws::AwsOptions {
    crate::aws::AwsOptions {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        max_attempts: None,
        ..Default::default()
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
