//! `vigil graph`: an entity's neighbourhood in the entity graph, as DOT, Mermaid or JSON.

use super::args::{GraphArgs, GraphFormat};
use super::error::CliError;
use super::inputs::{parse_entity, report_errors};
use crate::model::text;
use crate::report;
use std::io::Write;
use std::process::ExitCode;

/// Writes the neighbourhood to `out`; an entity the inputs never name is a usage error.
pub fn run(args: GraphArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let target = parse_entity(&args.entity)?;
    let (loaded, graph, _) = super::inputs::fold(&args.inputs, &args.aws)?;
    let n = graph
        .neighbourhood(&target, args.depth)
        .ok_or(CliError::NotInInputs(target))?;
    match args.format {
        GraphFormat::Dot => out.write_all(report::dot(&n).as_bytes())?,
        GraphFormat::Mermaid => out.write_all(report::mermaid(&n).as_bytes())?,
        GraphFormat::Json => {
            text::to_writer_pretty(&mut *out, &n)?;
            writeln!(out)?;
        }
    }
    Ok(report_errors(
        &loaded.errors,
        args.inputs.strict,
        args.inputs.verbose,
    ))
}
