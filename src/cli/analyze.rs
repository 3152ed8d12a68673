//! `vigil analyze`: the incident summarised from exported files, as markdown or JSON.

use super::args::{AnalyzeArgs, AnalyzeFormat, Inputs};
use super::error::CliError;
use super::inputs::{expand_local, report_summary};
use crate::graph::groups;
use crate::ingest::{self, errors::ErrorSummary};
use crate::integrity::{self, IntegrityReport};
use crate::model::text;
use crate::report;
use std::io::Write;
use std::process::ExitCode;

/// Writes the report to `out`; unreadable records and altered log files are reported on stderr
/// (exit 2 and 3 with `--strict`).
pub fn run(args: AnalyzeArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let AnalyzeArgs {
        inputs,
        format,
        aws,
    } = args;
    let (loaded, graph, s3_hashes) = super::inputs::fold(&inputs, &aws)?;
    let groups = groups::compute(&loaded.findings);
    let integrity = check_integrity(&inputs, &loaded, &s3_hashes)?;
    let errors = ErrorSummary::new(&loaded.errors, inputs.verbose);
    match format {
        AnalyzeFormat::Json => {
            let mut a = report::analysis(&loaded, &graph, &groups, &errors);
            a.integrity = integrity.as_ref();
            text::to_writer_pretty(&mut *out, &a)?;
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
    Ok(match &integrity {
        Some(r) => report_integrity(r, inputs.strict).unwrap_or(code),
        None => code,
    })
}

/// Checks the loaded CloudTrail log files against the loaded digest files (none: no report).
fn check_integrity(
    inputs: &Inputs,
    loaded: &ingest::Loaded,
    s3: &super::inputs::S3Hashes,
) -> Result<Option<IntegrityReport>, CliError> {
    if loaded.digests.is_empty() {
        return Ok(None);
    }
    // Files on disk are hashed now; S3 objects were hashed as they arrived.
    let mut files: Vec<_> = expand_local(inputs)?;
    files.extend(s3.keys().cloned());
    Ok(Some(integrity::verify_with(
        &loaded.digests,
        &files,
        &loaded.trail_files,
        &|p| match s3.get(p) {
            Some(h) => h.clone(),
            None => integrity::sha256_uncompressed(p).map_err(|e| e.to_string()),
        },
    )))
}

/// Warns on stderr about log files (or digests) changed after delivery. With `--strict` that is
/// exit 3, which wins over exit 2 for unreadable input: tampering is the graver news, and a
/// script can tell the two apart. Missing and uncovered files never fail a run (a partial sync
/// is normal).
fn report_integrity(r: &IntegrityReport, strict: bool) -> Option<ExitCode> {
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
