//! `vigil train SCENARIO`: a drill. The scenario streams as in `vigil demo`, acting on its world;
//! the objectives come from its answer key (`O`), hints cost points (`h`); the session is always
//! recorded, and at the end it is scored from what was done and an after-action report written
//! beside the recording.

use super::args::TrainArgs;
use super::error::CliError;
use super::ui;
use crate::app::state::DrillState;
use crate::app::{self, Mode};
use crate::demo::{AnswerKey, Scenario};
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

/// The objectives a trainee sees: what to achieve, never the answer.
pub fn objectives(key: &AnswerKey) -> Vec<String> {
    let mut v = vec!["Find the finding that matters among the noise, and open it.".to_string()];
    let has = |verb: &str| key.right_actions.iter().any(|a| a.action == verb);
    let count = |verb: &str| {
        key.right_actions
            .iter()
            .filter(|a| a.action == verb)
            .count()
    };
    if !key.attacker_ips.is_empty() || !key.attacker_domains.is_empty() {
        v.push(format!(
            "Identify the attacker: {} address(es){}.",
            key.attacker_ips.len(),
            match key.attacker_domains.len() {
                0 => String::new(),
                n => format!(" and {n} domain(s)"),
            }
        ));
    }
    if has("notify") {
        v.push("Notify the team about the incident.".into());
    }
    if has("snapshot") {
        v.push(format!(
            "Preserve evidence: snapshot {} compromised instance(s) before containing them.",
            count("snapshot")
        ));
    }
    if has("quarantine") {
        v.push(format!(
            "Contain {} compromised instance(s) — and nothing healthy.",
            count("quarantine")
        ));
    }
    if has("revoke-sessions") {
        v.push("Revoke the sessions of the role whose credentials were stolen.".into());
    }
    if has("disable-key") {
        v.push("Disable the stolen long-term access key.".into());
    }
    if has("block-domain") {
        v.push("Block the attacker's domain.".into());
    }
    v
}

/// The hints, from vague to specific.
pub fn hints(sc: &Scenario) -> Vec<String> {
    let key = &sc.manifest.answer_key;
    let mut v = Vec::new();
    let findings = sc.all_findings();
    if let Some(f) = key
        .right_actions
        .iter()
        .find_map(|a| a.target.strip_prefix("finding:"))
        .and_then(|id| findings.iter().find(|f| f.id == id))
    {
        v.push(format!("The finding that matters: {}.", f.finding_type));
    }
    if let Some(ip) = key.attacker_ips.first() {
        v.push(format!("One attacker address is {ip}: pivot on it."));
    }
    if let Some(e) = key.compromised.first() {
        v.push(format!("{e} is compromised."));
    }
    if let Some(w) = key.wrong_actions.first() {
        v.push(format!("Careful: {}", w.why));
    }
    v
}

pub fn run(
    args: TrainArgs,
    out: &mut impl Write,
    start_logging: fn(),
) -> Result<ExitCode, CliError> {
    let (opts, keymap) = ui::setup(&args.ui, Mode::Demo, start_logging)?;
    let started = Instant::now();
    let sc = Scenario::load(&args.scenario)?;
    let record = ui::record_to(&args.ui).unwrap_or_else(|| crate::console::RecordTo {
        path: default_recording(&args.scenario),
        redact: false,
    });
    let drill = DrillState {
        scenario: args.scenario.clone(),
        time_limit_s: args.time_limit.map(|m| m * 60),
        objectives: objectives(&sc.manifest.answer_key),
        hints: hints(&sc),
        hints_used: 0,
        started: None,
    };
    let opts = app::Options {
        label: args.scenario.clone(),
        read_only: false,
        evidence: Some(format!("s3://vigil-demo-evidence/{}", args.scenario)),
        ..opts
    };
    let acts = crate::console::DemoActions {
        // The drill's actions go to its own audit log, beside the recording.
        audit_log: Some(record.path.with_extension("audit.jsonl")),
        webhook: None,
    };
    let play = crate::console::Play {
        pacing: args
            .speed
            .map_or(crate::demo::Pacing::Paced, crate::demo::Pacing::Speed),
        started,
    };
    let path = record.path.clone();
    crate::console::demo(opts, keymap, sc, play, acts, Some(record), Some(drill))?;
    // The score card, from the recording just made.
    let report = crate::console::report(&path).map_err(|e| CliError::Replay(e.to_string()))?;
    let md = path.with_extension("report.md");
    std::fs::write(&md, &report).map_err(|e| CliError::Replay(format!("{}: {e}", md.display())))?;
    let card = report
        .split("\n## Score")
        .nth(1)
        .map(|s| format!("Score{s}"))
        .unwrap_or_default();
    writeln!(out, "{card}")?;
    writeln!(out, "recording: {}  (vigil replay {0})", path.display())?;
    writeln!(out, "after-action report: {}", md.display())?;
    Ok(ExitCode::SUCCESS)
}

/// `<state>/recordings/drill-<scenario>-<unix seconds>.jsonl.gz`.
fn default_recording(scenario: &str) -> std::path::PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::paths::state_dir()
        .unwrap_or_else(|| std::env::temp_dir().join("vigil"))
        .join("recordings")
        .join(format!("drill-{scenario}-{secs}.jsonl.gz"))
}
