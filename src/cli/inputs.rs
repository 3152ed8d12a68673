//! What the headless commands share: reading their arguments (paths, entity ids, times) and
//! reporting the records that could not be read.

use super::args::Inputs;
use super::error::CliError;
use crate::ingest::errors::ErrorSummary;
use crate::ingest::{self, IngestError};
use crate::model::{EntityId, Ts};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

pub(crate) fn parse_entity(s: &str) -> Result<EntityId, CliError> {
    EntityId::parse(s).map_err(|reason| CliError::Entity {
        text: s.to_string(),
        reason,
    })
}

/// `--from`/`--to`: a time that names no real instant (`2024-02-30`, `+99:99`) is a usage error
/// naming the argument, not a window that silently starts elsewhere.
pub(crate) fn parse_time(flag: &'static str, s: Option<&str>) -> Result<Option<Ts>, CliError> {
    s.map(|s| {
        Ts::parse_checked(s).map_err(|reason| CliError::Time {
            flag,
            text: s.to_string(),
            reason,
        })
    })
    .transpose()
}

/// Every input path, or a usage error when there is none.
pub(crate) fn input_paths(inputs: &Inputs) -> Result<Vec<PathBuf>, CliError> {
    let paths = inputs.all();
    if paths.is_empty() {
        return Err(CliError::NoInputs);
    }
    Ok(paths)
}

/// Everything under the inputs (files, and `s3://` prefixes read as they arrive) folded into the
/// entity graph part by part, so memory follows the graph; the rest of the load kept.
pub(crate) fn fold(
    inputs: &Inputs,
    aws: &super::args::AwsTargets,
) -> Result<(ingest::Loaded, crate::graph::EntityGraph, S3Hashes), CliError> {
    let (local, _) = super::s3::split(&input_paths(inputs)?);
    let mut fold = crate::graph::Fold::default();
    let of_part = crate::graph::EntityGraph::of_part;
    let mut next = ingest::load_streaming_with(&local, of_part, |i, part| fold.part(i, part))?;
    let hashes = std::sync::Mutex::new(S3Hashes::new());
    // Each S3 prefix walked along its service's delivery layout.
    for (paths, service) in [
        (&inputs.findings, "GuardDuty"),
        (&inputs.trail, "CloudTrail"),
        (&inputs.flows, "vpcflowlogs"),
        (&inputs.dns, "vpcdnsquerylogs"),
    ] {
        for uri in super::s3::split(paths).1 {
            let trail = service == "CloudTrail";
            let prune = crate::pivot::s3layout::Prune {
                service: Some(service.into()),
                // A trail's digests come along, and (when there are any) its objects are
                // hashed as they arrive, so the digest checks apply as they do to files.
                digests: trail,
                ..Default::default()
            };
            let feed = super::s3::open(aws, &uri, &prune, inputs.cache.as_deref())?;
            // Hashing decompresses each object a second time: only when digests can use it.
            let hash = trail && feed.has_digests();
            next += feed.consume(|objects| {
                let hashed = objects.map(|(name, got)| {
                    if hash && let Ok(bytes) = &got {
                        let h = crate::integrity::sha256_uncompressed_bytes(bytes)
                            .map_err(|e| e.to_string());
                        hashes
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(name.clone(), h);
                    }
                    (name, got)
                });
                ingest::load_objects_streaming(hashed, next, of_part, |i, part| fold.part(i, part))
            })?;
        }
    }
    let (loaded, graph) = fold.finish();
    Ok((
        loaded,
        graph,
        hashes.into_inner().unwrap_or_else(|p| p.into_inner()),
    ))
}

/// The content hashes of the S3 objects a fold read, by their `s3://` name.
pub(crate) type S3Hashes = std::collections::HashMap<PathBuf, Result<String, String>>;

/// Every local file under the inputs (S3 prefixes left out); a missing path is a usage error.
pub(crate) fn expand_local(inputs: &Inputs) -> Result<Vec<PathBuf>, CliError> {
    let (local, _) = super::s3::split(&inputs.all());
    ingest::source::expand(&local).map_err(|(path, reason)| CliError::MissingInput { path, reason })
}

/// Reports input errors on stderr, the first few of each kind per file unless `verbose`; with
/// `--strict`, any error is an exit-2 failure.
pub(crate) fn report_errors(errors: &[IngestError], strict: bool, verbose: bool) -> ExitCode {
    report_summary(&ErrorSummary::new(errors, verbose), strict)
}

/// [`report_errors`] for a summary already made (analyze also puts it in its report).
pub(crate) fn report_summary(summary: &ErrorSummary, strict: bool) -> ExitCode {
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
