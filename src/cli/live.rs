//! `vigil live`: GuardDuty findings from every profile × region, polled; headless or in the
//! console. Credentials are checked (sts:GetCallerIdentity) before anything else, one line each
//! with what fixes them.

use super::args::LiveArgs;
use super::error::CliError;
use super::ui;
use crate::app::Mode;
use crate::console::{Poll, Poller};
use crate::model::Finding;
use crate::model::text::Escaped;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: LiveArgs, out: &mut dyn Write, start_logging: fn()) -> Result<ExitCode, CliError> {
    let super::aws::Connected {
        mut poller,
        regions,
        base,
    } = super::aws::connect(&args.aws, args.min_severity)?;
    poller.securityhub = args.securityhub;
    if args.headless {
        match headless(poller, &args, out) {
            // The reader went away (`| head`): a script's normal end, not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            r => r.map_err(CliError::Output)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Local evidence: missing paths are usage errors, said before the terminal is taken.
    let evidence: Vec<std::path::PathBuf> = args
        .trail
        .iter()
        .chain(&args.flows)
        .chain(&args.dns)
        .cloned()
        .collect();
    let s3 = super::s3::console_sources(
        &[
            (&args.trail, "CloudTrail"),
            (&args.flows, "vpcflowlogs"),
            (&args.dns, "vpcdnsquerylogs"),
        ],
        &crate::aws::AwsOptions {
            profile: args.aws.profiles.first().cloned(),
            region: args.aws.regions.first().cloned(),
            ..base.clone()
        },
    )?;
    let evidence = super::s3::split(&evidence).0;
    crate::ingest::source::expand(&evidence)
        .map_err(|(path, reason)| CliError::MissingInput { path, reason })?;
    let mut hunt = super::hunt::console_setup(&args.hunt)?;
    if let Some(setup) = hunt.as_mut() {
        // The account's own GuardDuty lists mark what GuardDuty would: read once, at start.
        let (lists, problems) = poller.guardduty_lists();
        for p in &problems {
            eprintln!("vigil: GuardDuty list not read: {}", Escaped(p));
        }
        for l in &lists {
            eprintln!(
                "vigil: {} {}: {} indicator(s)",
                if l.kind == crate::hunt::ListKind::Threat {
                    "threat-intel set"
                } else {
                    "trusted IP list"
                },
                Escaped(&l.name),
                l.len()
            );
        }
        setup.intel.lists.extend(lists);
    }
    let evidence = crate::console::FileSources {
        findings: Vec::new(),
        evidence,
        s3,
        hunt,
    };
    let (mut opts, keymap) = ui::setup(&args.ui, Mode::Live, start_logging)?;
    // The header: who (the principals, by name); the accounts and regions come from the findings.
    let mut who: Vec<&str> = poller
        .targets
        .iter()
        .map(|t| t.principal.rsplit(':').next().unwrap_or(&t.principal))
        .collect();
    who.dedup();
    opts.label = who.join(" ");
    let arming = if args.act.respond {
        let opts = crate::aws::AwsOptions {
            profile: args.aws.profiles.first().cloned(),
            region: regions.first().cloned(),
            ..base.clone()
        };
        let open_command = format!(
            "vigil live{}",
            regions
                .iter()
                .map(|r| format!(" --region {r}"))
                .collect::<String>()
        );
        // The other profiles' accounts: their findings are acted on as those profiles.
        let mut others: Vec<(String, crate::aws::AwsOptions)> = Vec::new();
        for t in &poller.targets {
            if t.opts.profile != opts.profile && !others.iter().any(|(a, _)| *a == t.account) {
                others.push((t.account.clone(), t.opts.clone()));
            }
        }
        Some(super::respond::aws_arming(
            &args.act,
            &opts,
            args.aws.profiles.first().map(String::as_str),
            open_command,
            others,
        )?)
    } else {
        None
    };
    let history = crate::console::History::for_poller(&poller)?;
    // Detective in the first profile and region: its graph covers the accounts it administers.
    let detective = match poller.sources().first() {
        Some((label, o)) => Some(crate::console::Detective::connect(label, o)?),
        None => None,
    };
    let mut apis = crate::console::Lookups::new(history, detective);
    // A query engine for the trail, in the first profile and region.
    let engine = match (&args.lake, &args.athena) {
        (Some(store), _) => Some(crate::console::Engine::Lake {
            store: store.clone(),
        }),
        (None, Some(table)) => Some(crate::console::Engine::Athena {
            table: table.clone(),
            workgroup: args.athena_workgroup.clone(),
            output: args.athena_output.clone(),
        }),
        (None, None) => None,
    };
    let mut query_tier = None;
    if let (Some(engine), Some((_, o))) = (engine, poller.sources().first()) {
        let reader = crate::aws::connect_read_only(o)
            .map_err(|e| CliError::S3(format!("query engine: {e}")))?;
        let engine = crate::console::QueryEngine::new(engine, reader);
        query_tier = Some(engine.label());
        apis = apis.with_engine(engine);
    }
    let interval = Duration::from_secs(args.poll_interval);
    let session = crate::console::LiveSession {
        poller,
        apis,
        evidence,
        interval,
        query_tier,
    };
    crate::console::live(opts, keymap, session, arming, ui::record_to(&args.ui))?;
    Ok(ExitCode::SUCCESS)
}

/// One line per new or updated finding (`new` / `upd`), flushed as written; a region that fails
/// says so on stderr and the others go on.
fn headless(mut poller: Poller, args: &LiveArgs, out: &mut dyn Write) -> std::io::Result<()> {
    let mut seen: HashMap<String, Option<crate::model::Ts>> = HashMap::new();
    let targets: Vec<String> = poller
        .targets
        .iter()
        .map(|t| format!("{} ({} as {})", t.label, t.account, Escaped(&t.principal)))
        .collect();
    writeln!(out, "# live: {}", targets.join(", "))?;
    let mut first = true;
    loop {
        let poll = poller.poll();
        if std::mem::take(&mut first) {
            for a in poller.administrators() {
                writeln!(
                    out,
                    "# {}: GuardDuty administrator of {} member account(s): their findings are included",
                    Escaped(&a.source),
                    a.members
                )?;
            }
        }
        report(&poll, &mut seen, out)?;
        out.flush()?;
        if args.once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(args.poll_interval));
    }
}

fn report(
    poll: &Poll,
    seen: &mut HashMap<String, Option<crate::model::Ts>>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for f in &poll.failed {
        eprintln!("vigil: {}: {}", Escaped(&f.source), Escaped(&f.reason));
    }
    for e in &poll.errors {
        eprintln!("vigil: {e}");
    }
    let mut findings: Vec<&Finding> = poll.findings.iter().collect();
    findings.sort_by(|a, b| (a.updated_at, &a.id).cmp(&(b.updated_at, &b.id)));
    for f in findings {
        let tag = match seen.insert(f.id.clone(), f.updated_at) {
            None => "new",
            Some(before) if before == f.updated_at => continue,
            Some(_) => "upd",
        };
        let at = f
            .updated_at
            .or(f.time())
            .map(|t| t.to_rfc3339_secs())
            .unwrap_or_default();
        writeln!(
            out,
            "{tag} {at}  {:<12} {:<14} {}",
            Escaped(f.account_id.as_deref().unwrap_or("-")),
            Escaped(f.region.as_deref().unwrap_or("-")),
            super::demo::finding_columns(f)
        )?;
    }
    Ok(())
}
