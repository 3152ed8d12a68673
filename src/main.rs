//! Thin entry point: parse the command line, dispatch to its command (`vigil::cli`), map failures
//! to exit status 2. The console's file logging is set up here, and started by the console
//! commands once their keymap is known good.

use anyhow::Context;
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use vigil::cli::{self, Cli, Command};
use vigil::model::text::escape_lines;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    vigil::process::without_huge_pages();
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

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let code = match cli.command {
        Command::Demo(args) => cli::demo::run(args, &mut out, start_file_logging)?,
        Command::Open(args) => cli::open::run(args, start_file_logging)?,
        Command::Keymap { command } => cli::keymap::run(command, &mut out)?,
        Command::Analyze(args) => cli::analyze::run(args, &mut out)?,
        Command::Pivot(args) => cli::pivot::run(args, &mut out)?,
        Command::Hunt(args) => cli::hunt::run(args, &mut out)?,
        Command::Case { command } => cli::case::run(command, &mut out)?,
        Command::Act { action } => cli::act::run(&action)?,
        Command::Graph(args) => cli::graph::run(args, &mut out)?,
        Command::Replay(args) => cli::replay::run(args, &mut out)?,
        Command::Record { command } => cli::replay::record(command, &mut out)?,
        Command::Flows(args) => cli::pivot::flows(args, &mut out)?,
        Command::Train(args) => cli::train::run(args, &mut out, start_file_logging)?,
        Command::Doctor(args) => cli::doctor::run(args, &mut out)?,
        Command::Live(args) => cli::live::run(args, &mut out, start_file_logging)?,
    };
    match out.flush() {
        // The reader went away (`vigil … | head`): the normal end of a pipeline.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        r => r.context("writing output")?,
    }
    Ok(code)
}

/// The console owns the terminal, so its log goes to a file: `$XDG_STATE_HOME/vigil/vigil.log`
/// (level from `VIGIL_LOG`, default `info`). A log that cannot be opened is said once, before the
/// UI starts, and the session runs without it.
fn start_file_logging() {
    let Some(path) = vigil::paths::log_file() else {
        return;
    };
    let file = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| {
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
