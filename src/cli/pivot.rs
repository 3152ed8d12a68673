//! `vigil pivot`: every CloudTrail event that names an entity, in time order: from log files
//! (`--trail`), from CloudTrail's LookupEvents API (`--live`), or both, deduplicated by event id.

use super::args::{PivotArgs, PivotFormat};
use super::error::CliError;
use super::inputs::{parse_entity, parse_time, report_errors};
use crate::console::{Clock, History, HistoryEvent, SystemClock};
use crate::model::text::{self, Escaped};
use crate::model::{EntityId, Ts};
use crate::pivot::lookup::{api_window, attribute_for};
use crate::pivot::s3layout::{Prune, S3Uri};
use crate::pivot::{HitEvent, ScanHit, ScanResult, Window};
use crate::{ingest, pivot, report};
use std::collections::HashSet;
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
    // Local files and S3 prefixes (`s3://BUCKET/PREFIX`).
    let (local, remote) = super::s3::split(&args.trail);
    let mut res = if local.is_empty() {
        ScanResult::default()
    } else {
        pivot::scan(&local, &target, window)?
    };
    for uri in &remote {
        let part = scan_s3(&args, uri, &target, window)?;
        res.files += part.files;
        res.records += part.records;
        res.events.extend(part.events);
        res.errors.extend(part.errors);
    }
    if !remote.is_empty() {
        res.events.sort_by(|a, b| {
            (a.event.time, &a.event.event_id).cmp(&(b.event.time, &b.event.event_id))
        });
    }
    let mut failed = false;
    if args.live {
        failed = lookup(&args, &target, window, SystemClock.now(), &mut res)?;
        res.events.sort_by(|a, b| {
            (a.event.time, &a.event.event_id).cmp(&(b.event.time, &b.event.event_id))
        });
    }
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
    let code = report_errors(&res.errors, args.strict, args.verbose);
    // A source that failed leaves the answer incomplete: printed, and said in the status.
    Ok(if failed { ExitCode::from(2) } else { code })
}

/// The pivot over a CloudTrail bucket: the listing pruned to the window, accounts and regions
/// asked for, the objects scanned as they arrive.
fn scan_s3(
    args: &PivotArgs,
    uri: &S3Uri,
    target: &EntityId,
    window: Window,
) -> Result<ScanResult, CliError> {
    let prune = Prune {
        window,
        accounts: args.account.clone(),
        regions: args.aws.regions.clone(),
    };
    super::s3::open(&args.aws, uri, &prune)?
        .consume(|objects| pivot::scan_objects(objects, target, window))
}

/// Adds what LookupEvents knows of `target` within `window` (its last 90 days) to `res`: the
/// events that name it and are not there yet. Progress and failures go to stderr; true when a
/// source failed.
fn lookup(
    args: &PivotArgs,
    target: &EntityId,
    window: Window,
    now: Ts,
    res: &mut ScanResult,
) -> Result<bool, CliError> {
    let attr = match attribute_for(target) {
        Ok(a) => a,
        // With log files the pivot still answers; without, there is nothing to ask.
        Err(why) if !args.trail.is_empty() => {
            eprintln!("vigil: {why}");
            return Ok(false);
        }
        Err(why) => return Err(CliError::NotLookupable(why)),
    };
    let Some(api) = api_window(window, now) else {
        eprintln!("vigil: the window is older than LookupEvents' 90 days: log files only");
        return Ok(false);
    };
    let connected = super::aws::connect(&args.aws, None)?;
    let mut history = History::for_poller(&connected.poller)?;
    let mut seen: HashSet<String> = res
        .events
        .iter()
        .map(|h| h.event.event_id.clone())
        .collect();
    let (mut pages, mut fetched, mut added, mut failed) = (0u32, 0usize, 0usize, false);
    history.fetch(&attr, api, &|| true, &mut |ev| match ev {
        HistoryEvent::Page { source, body, .. } => {
            pages += 1;
            let name = std::path::PathBuf::from(format!("cloudtrail:LookupEvents/{source}"));
            let loaded = ingest::load_bytes(&name, body);
            res.errors.extend(loaded.errors);
            res.records += loaded.events.len() as u64;
            for ev in loaded.events {
                fetched += 1;
                // A lookup attribute can match more than the entity (a user name in another
                // account): keep what the entity model says names it, in the window asked.
                if !ev.entities.contains(target) || !window.contains(ev.time) {
                    continue;
                }
                if !seen.insert(ev.event_id.clone()) {
                    continue;
                }
                let raw = ev.raw.text().unwrap_or_default();
                added += 1;
                res.events.push(ScanHit {
                    event: HitEvent::from(ev),
                    raw,
                });
            }
        }
        HistoryEvent::SourceDone {
            source,
            capped: true,
            ..
        } => eprintln!(
            "vigil: LookupEvents {}: stopped at {} pages; narrow --from/--to",
            Escaped(&source),
            crate::console::MAX_PAGES
        ),
        HistoryEvent::SourceDone { .. } => {}
        HistoryEvent::Failed { source, reason } => {
            failed = true;
            eprintln!(
                "vigil: LookupEvents {}: {}",
                Escaped(&source),
                Escaped(&reason)
            );
        }
    });
    eprintln!(
        "vigil: LookupEvents {attr}: {pages} page(s), {fetched} event(s), {added} not in the log files ({} call(s))",
        history.calls
    );
    Ok(failed)
}
