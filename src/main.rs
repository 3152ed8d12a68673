//! Thin entry point: parse the command line, run the command, map failures to exit status 2.

use anyhow::{Context, anyhow};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use vigil::cli::{AnalyzeFormat, Cli, Command, GraphFormat, Inputs, PivotFormat};
use vigil::graph::{EntityGraph, groups};
use vigil::ingest::{self, IngestError};
use vigil::model::{EntityId, Ts};
use vigil::{pivot, report};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Usage and input errors: one line, exit 2.
            eprintln!("vigil: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn parse_entity(s: &str) -> anyhow::Result<EntityId> {
    EntityId::parse(s).map_err(|e| anyhow!("{s}: {e}"))
}

fn parse_time(flag: &str, s: Option<&str>) -> anyhow::Result<Option<Ts>> {
    s.map(|s| {
        Ts::parse(s).ok_or_else(|| {
            anyhow!("--{flag} {s}: not an RFC 3339 time (e.g. 2024-05-01T12:00:00Z)")
        })
    })
    .transpose()
}

/// Reports input errors on stderr; with `--strict`, any error is an exit-2 failure.
fn report_errors(errors: &[IngestError], strict: bool) -> ExitCode {
    for e in errors {
        eprintln!("vigil: {e}");
    }
    if !errors.is_empty() {
        eprintln!(
            "vigil: {} record(s) or file(s) could not be read",
            errors.len()
        );
    }
    if strict && !errors.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn load(inputs: &Inputs) -> anyhow::Result<ingest::Loaded> {
    let paths = inputs.all();
    if paths.is_empty() {
        return Err(anyhow!(
            "no inputs: give --findings, --trail, --flows or --dns paths"
        ));
    }
    Ok(ingest::load(&paths)?)
}

/// Prints each finding when it is due, one line each (for scripts and tests).
fn headless_demo(sc: &vigil::demo::Scenario, speed: f64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "# {} — {} findings, speed {speed:.1}×", sc.manifest.title, sc.arrivals.len())?;
    for (due, f) in sc.schedule(speed) {
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let at = f.created_at.or(f.time()).map(|t| t.to_rfc3339_secs()).unwrap_or_default();
        writeln!(
            stdout,
            "{at}  {:<8} {:>4.1}  {:<52}  {:<22}  {}",
            f.label(),
            f.severity,
            f.finding_type,
            f.resource,
            f.id
        )?;
        stdout.flush()?;
    }
    Ok(())
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
        Command::Demo { scenario, speed, headless: true, .. } => {
            let name = scenario.as_deref().unwrap_or(vigil::demo::DEFAULT_SCENARIO);
            let sc = vigil::demo::Scenario::load(name)?;
            out.flush()?;
            headless_demo(&sc, speed.unwrap_or_else(|| sc.default_speed()))?;
            ExitCode::SUCCESS
        }
        Command::Demo { .. } => {
            return Err(anyhow!("the interactive console is not built yet; run `vigil demo --headless`"));
        }
        Command::Analyze { inputs, format } => {
            let loaded = load(&inputs)?;
            let graph = EntityGraph::from_loaded(&loaded);
            let groups = groups::compute(&loaded.findings);
            match format {
                AnalyzeFormat::Json => {
                    serde_json::to_writer_pretty(
                        &mut out,
                        &report::analysis(&loaded, &graph, &groups),
                    )?;
                    writeln!(out)?;
                }
                AnalyzeFormat::Markdown => {
                    out.write_all(report::markdown(&loaded, &graph, &groups).as_bytes())?
                }
            }
            report_errors(&loaded.errors, inputs.strict)
        }
        Command::Pivot {
            entity,
            trail,
            from,
            to,
            format,
            strict,
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
                        out.write_all(hit.raw.as_bytes())?;
                        out.write_all(b"\n")?;
                    }
                }
                PivotFormat::Table => {
                    out.write_all(report::pivot_table(&res).as_bytes())?;
                }
            }
            report_errors(&res.errors, strict)
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
                    serde_json::to_writer_pretty(&mut out, &n)?;
                    writeln!(out)?;
                }
            }
            report_errors(&loaded.errors, inputs.strict)
        }
    };
    out.flush().context("writing output")?;
    Ok(code)
}
