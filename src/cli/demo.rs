//! `vigil demo`: a bundled scenario played in the console, printed line by line (`--headless`),
//! or listed (`--list`).

use super::args::DemoArgs;
use super::error::CliError;
use super::ui;
use crate::app::{self, Mode};
use crate::demo::{self, Cue, Pacing, Scenario};
use crate::model::text::Escaped;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(
    args: DemoArgs,
    out: &mut impl Write,
    start_logging: fn(),
) -> Result<ExitCode, CliError> {
    if args.list {
        list(out)?;
    } else if args.headless {
        let name = args.scenario.as_deref().unwrap_or(demo::DEFAULT_SCENARIO);
        let started = Instant::now();
        let sc = Scenario::load(name)?;
        out.flush()?;
        headless(&sc, pacing(args.speed), started)?;
    } else {
        out.flush()?;
        play(args, start_logging)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every scenario's name, title and synopsis.
fn list(out: &mut impl Write) -> Result<(), CliError> {
    for s in demo::list()? {
        writeln!(out, "{:<22} {}\n{:<22} {}", s.name, s.title, "", s.synopsis)?;
    }
    Ok(())
}

/// `--speed N` plays in exact proportion; without it, quiet is compressed.
fn pacing(speed: Option<f64>) -> Pacing {
    speed.map_or(Pacing::Paced, Pacing::Speed)
}

/// The scenario in the console, acting on its world unless `--read-only`.
fn play(args: DemoArgs, start_logging: fn()) -> Result<(), CliError> {
    let (opts, keymap) = ui::setup(&args.ui, Mode::Demo, start_logging)?;
    let name = args.scenario.as_deref().unwrap_or(demo::DEFAULT_SCENARIO);
    let started = Instant::now();
    let sc = Scenario::load(name)?;
    let opts = app::Options {
        label: name.to_string(),
        read_only: args.read_only,
        // The demo world's evidence store, unless one is named.
        evidence: opts
            .evidence
            .or_else(|| Some(format!("s3://vigil-demo-evidence/{name}"))),
        ..opts
    };
    let webhook = args
        .webhook
        .or_else(|| std::env::var("VIGIL_WEBHOOK_URL").ok())
        .filter(|s| !s.is_empty())
        .map(|u| crate::actions::webhook::WebhookUrl::parse(&u))
        .transpose()?;
    let acts = crate::console::DemoActions {
        audit_log: args.audit_log,
        webhook,
    };
    let play = crate::console::Play {
        pacing: pacing(args.speed),
        started,
    };
    crate::console::demo(opts, keymap, sc, play, acts, ui::record_to(&args.ui), None)?;
    Ok(())
}

/// Prints each finding when it is due, one line each (for scripts and tests), on the console's
/// schedule from `started` (before the scenario loaded); skipped quiet is a `#` comment line.
/// Each line is flushed as it is written: the point is to see them arrive.
fn headless(sc: &Scenario, pacing: Pacing, started: Instant) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let how = match pacing {
        Pacing::Paced => "paced, quiet compressed".to_string(),
        Pacing::Speed(s) => format!("speed {s:.1}×"),
    };
    writeln!(
        stdout,
        "# {} — {} findings, {how}",
        sc.manifest.title,
        sc.arrivals.len()
    )?;
    for (due, cue) in sc.schedule(pacing) {
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let f = match cue {
            Cue::Quiet(d) => {
                writeln!(stdout, "# ⏩ {} of quiet", crate::model::text::span(d))?;
                continue;
            }
            Cue::Finding(f) => f,
        };
        let at = f
            .created_at
            .or(f.time())
            .map(|t| t.to_rfc3339_secs())
            .unwrap_or_default();
        writeln!(stdout, "{at}  {}", finding_columns(f))?;
        stdout.flush()?;
    }
    Ok(())
}

/// A finding's columns in the headless outputs (`demo --headless`, `live --headless`): severity,
/// type, resource, id; text from the data escaped.
pub(crate) fn finding_columns(f: &crate::model::Finding) -> String {
    format!(
        "{:<8} {:>4.1}  {:<52}  {:<22}  {}",
        f.label(),
        f.severity,
        Escaped(&f.finding_type),
        Escaped(&f.resource),
        Escaped(&f.id)
    )
}
