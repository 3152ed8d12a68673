//! `vigil pivot`: every CloudTrail event that names an entity, in time order.

use super::args::{PivotArgs, PivotFormat};
use super::error::CliError;
use super::inputs::{parse_entity, parse_time, report_errors};
use crate::model::text;
use crate::{pivot, report};
use std::io::Write;
use std::process::ExitCode;

/// Writes the matching events to `out` (the original records, or a table); unreadable records
/// are reported on stderr (exit 2 with `--strict`).
pub fn run(args: PivotArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let target = parse_entity(&args.entity)?;
    let window = pivot::Window {
        from: parse_time("from", args.from.as_deref())?,
        to: parse_time("to", args.to.as_deref())?,
    };
    let res = pivot::scan(&args.trail, &target, window)?;
    match args.format {
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
    Ok(report_errors(&res.errors, args.strict, args.verbose))
}
