//! `vigil replay FILE`: plays a recording in the terminal, or exports it (`--export-cast`,
//! `--export-report`) without playing. `vigil record redact`: pseudonyms for a recording's
//! identifiers.

use super::args::{RecordCommand, ReplayArgs};
use super::error::CliError;
use crate::console::{PlayOptions, ReplayError};
use std::io::Write;
use std::process::ExitCode;

/// `90`, `90.5` or `1:30` → milliseconds.
fn offset_ms(text: &str) -> Option<u64> {
    let secs = match text.split_once(':') {
        Some((m, s)) => {
            m.trim().parse::<u64>().ok()? as f64 * 60.0 + s.trim().parse::<f64>().ok()?
        }
        None => text.trim().parse::<f64>().ok()?,
    };
    (secs.is_finite() && secs >= 0.0).then_some((secs * 1000.0) as u64)
}

pub fn run(args: ReplayArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        return Err(CliError::Replay(format!(
            "--speed {}: a positive number",
            args.speed
        )));
    }
    let from_ms = match &args.from {
        Some(t) => {
            offset_ms(t).ok_or_else(|| CliError::Replay(format!("--from {t}: seconds, or m:ss")))?
        }
        None => 0,
    };
    let mut exported = false;
    if let Some(cast) = &args.export_cast {
        crate::console::export_cast(&args.file, cast, args.speed).map_err(replay_err)?;
        writeln!(out, "wrote {}", cast.display())?;
        exported = true;
    }
    if let Some(md) = &args.export_report {
        let text = crate::console::report(&args.file).map_err(replay_err)?;
        std::fs::write(md, text)
            .map_err(|source| CliError::Replay(format!("{}: {source}", md.display())))?;
        writeln!(out, "wrote {}", md.display())?;
        exported = true;
    }
    if exported {
        return Ok(ExitCode::SUCCESS);
    }
    out.flush()?;
    let warnings = crate::console::play(
        &args.file,
        PlayOptions {
            speed: args.speed,
            step: args.step,
            from_ms,
        },
    )
    .map_err(replay_err)?;
    for w in warnings {
        eprintln!("vigil: replay: {}", crate::model::text::Escaped(&w));
    }
    Ok(ExitCode::SUCCESS)
}

fn replay_err(e: ReplayError) -> CliError {
    CliError::Replay(e.to_string())
}

pub fn record(command: RecordCommand, out: &mut impl Write) -> Result<ExitCode, CliError> {
    match command {
        RecordCommand::Redact { input, output } => {
            let counts = crate::console::redact_recording(&input, &output).map_err(replay_err)?;
            let said: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            writeln!(
                out,
                "wrote {} (replaced: {})",
                output.display(),
                said.join(", ")
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn offsets_read_as_seconds_or_minutes() {
        assert_eq!(super::offset_ms("90"), Some(90_000));
        assert_eq!(super::offset_ms("1:30"), Some(90_000));
        assert_eq!(super::offset_ms("0.5"), Some(500));
        assert_eq!(super::offset_ms("-3"), None);
        assert_eq!(super::offset_ms("soon"), None);
    }
}
