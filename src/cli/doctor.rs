//! `vigil doctor`: a ✓/✗ table (or JSON) of what the identity can do in each profile × region,
//! with the missing permission and the docs/iam policy that grants it. Changes nothing; exit 0
//! when it ran, whatever it found.

use super::args::{DoctorArgs, DoctorFormat};
use super::error::CliError;
use crate::aws::{AwsOptions, Outcome, TargetReport};
use crate::console::Poller;
use crate::model::text::Escaped;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: DoctorArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let base = super::aws::base(&args.aws)?;
    let regions: Vec<Option<String>> = if args.aws.all_regions {
        let first = args.aws.profiles.first().map(String::as_str);
        match Poller::enabled_regions(first, &base) {
            Ok(r) => r.into_iter().map(Some).collect(),
            // The credentials are what doctor reports on: check them in the profile's region.
            Err(e) => {
                eprintln!("vigil: --all-regions: {e}");
                vec![None]
            }
        }
    } else if args.aws.regions.is_empty() {
        vec![None]
    } else {
        args.aws.regions.iter().cloned().map(Some).collect()
    };
    let profiles: Vec<Option<String>> = if args.aws.profiles.is_empty() {
        vec![None]
    } else {
        args.aws.profiles.iter().cloned().map(Some).collect()
    };
    let mut reports = Vec::new();
    for p in &profiles {
        for r in &regions {
            let label = format!(
                "{}/{}",
                p.as_deref().unwrap_or("default"),
                r.as_deref().unwrap_or("(profile's region)")
            );
            let opts = AwsOptions {
                profile: p.clone(),
                region: r.clone(),
                ..base.clone()
            };
            reports.push(crate::aws::doctor(&label, &opts));
        }
    }
    match args.format {
        DoctorFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &reports)?;
            writeln!(out)?;
        }
        DoctorFormat::Table => {
            for r in &reports {
                table(r, out)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn table(r: &TargetReport, out: &mut impl Write) -> std::io::Result<()> {
    let who = match (&r.principal, &r.account) {
        (Some(p), Some(a)) => format!("{} ({a})", Escaped(p)),
        _ => "no identity".to_string(),
    };
    writeln!(out, "{}  {who}", Escaped(&r.target))?;
    for c in &r.checks {
        let mark = match c.outcome {
            Outcome::Pass => "✓",
            Outcome::Fail => "✗",
            Outcome::Skip => "–",
        };
        writeln!(out, "  {mark} {:<24} {}", c.check, Escaped(&c.detail))?;
        if !c.missing.is_empty() {
            writeln!(
                out,
                "    missing: {}{}",
                c.missing.join(", "),
                c.policy
                    .map(|p| format!(" (granted by {p})"))
                    .unwrap_or_default()
            )?;
        }
    }
    writeln!(out)
}
