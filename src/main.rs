//! Thin entry point: parse the command line, run the command, map failures to exit status 2.

use anyhow::{Context, anyhow};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use vigil::cli::{
    AnalyzeFormat, Cli, Command, GraphFormat, Inputs, KeymapCommand, PivotFormat, UiArgs,
};
use vigil::graph::{EntityGraph, groups};
use vigil::ingest::errors::ErrorSummary;
use vigil::ingest::{self, IngestError};
use vigil::model::text::{self, Escaped, escape_lines};
use vigil::model::{EntityId, Ts};
use vigil::{pivot, report};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Usage and input errors: one line, exit 2. They quote paths, entity ids and keymap
            // text, so controls are escaped (line by line: a keymap error points at its line).
            eprintln!("vigil: {}", escape_lines(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn parse_entity(s: &str) -> anyhow::Result<EntityId> {
    EntityId::parse(s).map_err(|e| anyhow!("{s}: {e}"))
}

/// `--from`/`--to`: a time that names no real instant (`2024-02-30`, `+99:99`) is a usage error
/// naming the argument, not a window that silently starts elsewhere.
fn parse_time(flag: &str, s: Option<&str>) -> anyhow::Result<Option<Ts>> {
    s.map(|s| Ts::parse_checked(s).map_err(|e| anyhow!("--{flag} {s}: {e}")))
        .transpose()
}

/// Reports input errors on stderr, the first few of each kind per file unless `verbose`; with
/// `--strict`, any error is an exit-2 failure.
fn report_errors(errors: &[IngestError], strict: bool, verbose: bool) -> ExitCode {
    report_summary(&ErrorSummary::new(errors, verbose), strict)
}

/// [`report_errors`] for a summary already made (analyze also puts it in its report).
fn report_summary(summary: &ErrorSummary, strict: bool) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    for line in summary.lines() {
        let _ = writeln!(stderr, "vigil: {line}");
    }
    if summary.total > 0 {
        let more = if summary.elided().next().is_some() {
            " (--verbose lists every one)"
        } else {
            ""
        };
        let _ = writeln!(
            stderr,
            "vigil: {} record(s) or file(s) could not be read{more}",
            summary.total
        );
    }
    if strict && summary.total > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Checks the loaded CloudTrail log files against the loaded digest files (none: no report).
fn check_integrity(
    inputs: &Inputs,
    loaded: &ingest::Loaded,
) -> anyhow::Result<Option<vigil::integrity::IntegrityReport>> {
    if loaded.digests.is_empty() {
        return Ok(None);
    }
    let files = ingest::source::expand(&inputs.all())
        .map_err(|(path, e)| anyhow!("cannot read input {}: {e}", path.display()))?;
    Ok(Some(vigil::integrity::verify(
        &loaded.digests,
        &files,
        &loaded.trail_files,
    )))
}

/// Warns on stderr about log files (or digests) changed after delivery. With `--strict` that is
/// exit 3, which wins over exit 2 for unreadable input: tampering is the graver news, and a
/// script can tell the two apart. Missing and uncovered files never fail a run (a partial sync
/// is normal).
fn report_integrity(r: &vigil::integrity::IntegrityReport, strict: bool) -> Option<ExitCode> {
    let t = &r.totals;
    if !t.altered() {
        return None;
    }
    eprintln!(
        "vigil: integrity: {} log file(s) differ from their digest, {} previous digest(s) altered (see the integrity report)",
        t.tampered, t.chain_mismatch
    );
    strict.then(|| ExitCode::from(3))
}

fn load(inputs: &Inputs) -> anyhow::Result<ingest::Loaded> {
    Ok(ingest::load(&input_paths(inputs)?)?)
}

fn input_paths(inputs: &Inputs) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let paths = inputs.all();
    if paths.is_empty() {
        return Err(anyhow!(
            "no inputs: give --findings, --trail, --flows or --dns paths"
        ));
    }
    Ok(paths)
}

/// Prints each finding when it is due, one line each (for scripts and tests), on the console's
/// schedule from `started` (before the scenario loaded); skipped quiet is a `#` comment line.
fn headless_demo(
    sc: &vigil::demo::Scenario,
    pacing: vigil::demo::Pacing,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let how = match pacing {
        vigil::demo::Pacing::Paced => "paced, quiet compressed".to_string(),
        vigil::demo::Pacing::Speed(s) => format!("speed {s:.1}×"),
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
            vigil::demo::Cue::Quiet(d) => {
                writeln!(stdout, "# ⏩ {} of quiet", vigil::demo::playback::span(d))?;
                continue;
            }
            vigil::demo::Cue::Finding(f) => f,
        };
        let at = f
            .created_at
            .or(f.time())
            .map(|t| t.to_rfc3339_secs())
            .unwrap_or_default();
        writeln!(
            stdout,
            "{at}  {:<8} {:>4.1}  {:<52}  {:<22}  {}",
            f.label(),
            f.severity,
            Escaped(&f.finding_type),
            Escaped(&f.resource),
            Escaped(&f.id)
        )?;
        stdout.flush()?;
    }
    Ok(())
}

/// A per-user directory from an XDG variable, else `$HOME/<fallback>`.
fn xdg_dir(var: &str, fallback: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(fallback)))
}

/// `--keymap FILE`, else the user's `keymap.toml` in the config directory when there is one.
fn user_keymap(flag: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    flag.map(std::path::Path::to_path_buf).or_else(|| {
        xdg_dir("XDG_CONFIG_HOME", ".config")
            .map(|d| d.join("vigil").join("keymap.toml"))
            .filter(|p| p.is_file())
    })
}

/// The console owns the terminal, so its log goes to a file: `$XDG_STATE_HOME/vigil/vigil.log`
/// (level from `VIGIL_LOG`, default `info`). A log that cannot be opened is said once, before the
/// UI starts, and the session runs without it.
fn init_file_logging() {
    let Some(dir) = xdg_dir("XDG_STATE_HOME", ".local/state").map(|d| d.join("vigil")) else {
        return;
    };
    let path = dir.join("vigil.log");
    let file = std::fs::create_dir_all(&dir).and_then(|_| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
    });
    match file {
        Ok(f) => {
            let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(f))
                .try_init();
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                "console session started"
            );
        }
        Err(e) => eprintln!("vigil: not logging to {}: {e}", path.display()),
    }
}

/// Console options and the keymap, validated before the terminal is taken over (exit 2 on a
/// keymap error, with its file and line).
fn console_setup(
    ui: &UiArgs,
    mode: vigil::app::Mode,
) -> anyhow::Result<(vigil::app::Options, vigil::app::Keymap)> {
    let keymap = vigil::console::load_keymap(user_keymap(ui.keymap.as_deref()).as_deref())?;
    init_file_logging();
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let opts = vigil::app::Options {
        mode,
        color: !(ui.no_color || no_color_env),
        ascii: ui.ascii,
        read_only: true,
        label: String::new(),
    };
    Ok((opts, keymap))
}

/// The AWS responder for `vigil open --respond`, checked before the terminal is taken over: the
/// credentials must answer sts:GetCallerIdentity, so a bad profile is a one-line error, not a
/// console that fails at the first action.
fn aws_arming(
    inputs: &Inputs,
    aws: &vigil::cli::AwsArgs,
    case: Option<String>,
    audit_log: Option<std::path::PathBuf>,
    topic_arn: Option<String>,
    webhook: Option<String>,
) -> anyhow::Result<vigil::console::Arming> {
    use vigil::actions::Inspect;
    let opts = vigil::aws::AwsOptions {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        max_attempts: None,
    };
    let mut responder = vigil::aws::connect_responder(&opts)?;
    let who = responder.identity().map_err(|e| {
        anyhow!(
            "--respond: cannot reach AWS as the given identity: {}",
            e.plain()
        )
    })?;
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    let webhook = webhook
        .or_else(|| env("VIGIL_WEBHOOK_URL"))
        .map(|u| vigil::actions::webhook::WebhookUrl::parse(&u))
        .transpose()?;
    let paths = |ps: &[std::path::PathBuf]| {
        ps.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut open_command = format!("vigil open --findings {}", paths(&inputs.findings));
    if !inputs.trail.is_empty() {
        open_command.push_str(&format!(" --trail {}", paths(&inputs.trail)));
    }
    Ok(vigil::console::Arming {
        responder: Box::new(responder),
        label: format!(
            "AWS {}as {}",
            aws.profile
                .as_deref()
                .map(|p| format!("profile {p} "))
                .unwrap_or_default(),
            who.arn
        ),
        audit_log,
        webhook,
        topic_arn: topic_arn.or_else(|| env("VIGIL_TOPIC_ARN")),
        case,
        open_command: Some(open_command),
    })
}

/// `--speed N` plays in exact proportion; without it, quiet is compressed.
fn pacing(speed: Option<f64>) -> vigil::demo::Pacing {
    speed.map_or(vigil::demo::Pacing::Paced, vigil::demo::Pacing::Speed)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let code = match cli.command {
        Command::Demo { list: true, .. } => {
            for s in vigil::demo::list()? {
                writeln!(out, "{:<22} {}\n{:<22} {}", s.name, s.title, "", s.synopsis)?;
            }
            ExitCode::SUCCESS
        }
        Command::Demo {
            scenario,
            speed,
            headless: true,
            ..
        } => {
            let name = scenario.as_deref().unwrap_or(vigil::demo::DEFAULT_SCENARIO);
            let started = std::time::Instant::now();
            let sc = vigil::demo::Scenario::load(name)?;
            out.flush()?;
            headless_demo(&sc, pacing(speed), started)?;
            ExitCode::SUCCESS
        }
        Command::Demo {
            scenario,
            speed,
            ui,
            read_only,
            audit_log,
            webhook,
            ..
        } => {
            let (opts, keymap) = console_setup(&ui, vigil::app::Mode::Demo)?;
            let name = scenario.as_deref().unwrap_or(vigil::demo::DEFAULT_SCENARIO);
            let started = std::time::Instant::now();
            let sc = vigil::demo::Scenario::load(name)?;
            let opts = vigil::app::Options {
                label: name.to_string(),
                read_only,
                ..opts
            };
            out.flush()?;
            let webhook = webhook
                .or_else(|| std::env::var("VIGIL_WEBHOOK_URL").ok())
                .filter(|s| !s.is_empty())
                .map(|u| vigil::actions::webhook::WebhookUrl::parse(&u))
                .transpose()?;
            let acts = vigil::console::DemoActions { audit_log, webhook };
            let play = vigil::console::Play {
                pacing: pacing(speed),
                started,
            };
            vigil::console::demo(opts, keymap, sc, play, acts)?;
            ExitCode::SUCCESS
        }
        Command::Open {
            inputs,
            respond,
            case,
            audit_log,
            topic_arn,
            webhook,
            aws,
            ui,
        } => {
            let (opts, keymap) = console_setup(&ui, vigil::app::Mode::Files)?;
            let mut evidence = inputs.trail.clone();
            evidence.extend(inputs.flows.iter().cloned());
            evidence.extend(inputs.dns.iter().cloned());
            if inputs.findings.is_empty() && evidence.is_empty() {
                return Err(anyhow!(
                    "no inputs: give --findings and --trail (and optionally --flows, --dns) paths"
                ));
            }
            // Missing paths are usage errors, reported before the terminal is taken over.
            vigil::ingest::source::expand(&inputs.all())
                .map_err(|(p, e)| anyhow!("cannot read input {}: {e}", p.display()))?;
            let sources = vigil::console::FileSources {
                findings: inputs.findings.clone(),
                evidence,
            };
            let arming = if respond {
                Some(aws_arming(
                    &inputs, &aws, case, audit_log, topic_arn, webhook,
                )?)
            } else {
                None
            };
            out.flush()?;
            vigil::console::open(opts, keymap, sources, arming)?;
            ExitCode::SUCCESS
        }
        Command::Keymap { command } => match command {
            KeymapCommand::Check { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read keymap {}", file.display()))?;
                let km = vigil::app::Keymap::parse(&file.display().to_string(), &text)?;
                let n: usize = km.contexts.values().map(Vec::len).sum();
                writeln!(out, "{}: ok ({n} bindings)", file.display())?;
                ExitCode::SUCCESS
            }
            KeymapCommand::Print { context, keymap } => {
                let only = context
                    .as_deref()
                    .map(|c| {
                        vigil::app::Context::parse(c)
                            .ok_or_else(|| anyhow!("unknown context `{c}`"))
                    })
                    .transpose()?;
                let km = vigil::console::load_keymap(user_keymap(keymap.as_deref()).as_deref())?;
                out.write_all(km.print(only).as_bytes())?;
                ExitCode::SUCCESS
            }
        },
        Command::Analyze { inputs, format } => {
            // Events are folded into the graph file by file: memory follows the graph.
            let (loaded, graph) = EntityGraph::from_paths(&input_paths(&inputs)?)?;
            let groups = groups::compute(&loaded.findings);
            let integrity = check_integrity(&inputs, &loaded)?;
            let errors = ErrorSummary::new(&loaded.errors, inputs.verbose);
            match format {
                AnalyzeFormat::Json => {
                    let mut a = report::analysis(&loaded, &graph, &groups, &errors);
                    a.integrity = integrity.as_ref();
                    text::to_writer_pretty(&mut out, &a)?;
                    writeln!(out)?;
                }
                AnalyzeFormat::Markdown => {
                    out.write_all(report::markdown(&loaded, &graph, &groups, &errors).as_bytes())?;
                    if let Some(r) = &integrity {
                        out.write_all(report::integrity_markdown(r).as_bytes())?;
                    }
                }
            }
            let code = report_summary(&errors, inputs.strict);
            match &integrity {
                Some(r) => report_integrity(r, inputs.strict).unwrap_or(code),
                None => code,
            }
        }
        Command::Pivot {
            entity,
            trail,
            from,
            to,
            format,
            strict,
            verbose,
        } => {
            let target = parse_entity(&entity)?;
            let window = pivot::Window {
                from: parse_time("from", from.as_deref())?,
                to: parse_time("to", to.as_deref())?,
            };
            let res = pivot::scan(&trail, &target, window)?;
            match format {
                PivotFormat::Jsonl => {
                    for hit in &res.events {
                        out.write_all(text::json_raw(&hit.raw).as_bytes())?;
                        out.write_all(b"\n")?;
                    }
                }
                PivotFormat::Table => {
                    out.write_all(report::pivot_table(&res).as_bytes())?;
                }
            }
            report_errors(&res.errors, strict, verbose)
        }
        Command::Act { action } => {
            out.flush()?;
            drop(out);
            let mut stdout = std::io::stdout().lock();
            let code = vigil::act::run(&action, &mut stdout)?;
            stdout.flush()?;
            return Ok(ExitCode::from(code));
        }
        Command::Graph {
            entity,
            depth,
            inputs,
            format,
        } => {
            let target = parse_entity(&entity)?;
            let loaded = load(&inputs)?;
            let graph = EntityGraph::from_loaded(&loaded);
            let n = graph
                .neighbourhood(&target, depth)
                .ok_or_else(|| anyhow!("{target} does not appear in the inputs"))?;
            match format {
                GraphFormat::Dot => out.write_all(report::dot(&n).as_bytes())?,
                GraphFormat::Mermaid => out.write_all(report::mermaid(&n).as_bytes())?,
                GraphFormat::Json => {
                    text::to_writer_pretty(&mut out, &n)?;
                    writeln!(out)?;
                }
            }
            report_errors(&loaded.errors, inputs.strict, inputs.verbose)
        }
    };
    out.flush().context("writing output")?;
    Ok(code)
}
