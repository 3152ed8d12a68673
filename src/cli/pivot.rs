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
    if !remote.is_empty() || args.lake.is_some() || args.athena.is_some() {
        res.events.sort_by(|a, b| {
            (a.event.time, &a.event.event_id).cmp(&(b.event.time, &b.event.event_id))
        });
    }
    if let Some(store) = &args.lake {
        lake(&args, store, &target, window, &mut res)?;
    }
    if let Some(table) = &args.athena {
        athena(&args, table, &target, window, &mut res)?;
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
        service: Some("CloudTrail".into()),
        window,
        accounts: args.account.clone(),
        regions: args.aws.regions.clone(),
        // A pivot reads events only.
        digests: false,
    };
    super::s3::open(&args.aws, uri, &prune, args.cache.as_deref())?
        .consume(|objects| pivot::scan_objects(objects, target, window))
}

/// Adds what CloudTrail Lake answers for `target` in `window`: one SQL query (shown on stderr),
/// followed until it ends, its rows paged and rebuilt into records the ingest reads; the bytes
/// scanned and what they cost. A query still running after `--lake-timeout` is cancelled.
fn lake(
    args: &PivotArgs,
    store: &str,
    target: &EntityId,
    window: Window,
    res: &mut ScanResult,
) -> Result<(), CliError> {
    use crate::pivot::lake;
    let sql = lake::query(store, target, window).map_err(|why| CliError::Lake(why.into()))?;
    eprintln!("vigil: CloudTrail Lake: {}", Escaped(&sql));
    let opts = crate::aws::AwsOptions {
        profile: args.aws.profiles.first().cloned(),
        region: args.aws.regions.first().cloned(),
        ..super::aws::base(&args.aws)?
    };
    let reader = crate::aws::connect_read_only(&opts).map_err(|e| CliError::Lake(e.to_string()))?;
    let lake_err = |e: crate::actions::CallError| CliError::Lake(e.plain());
    let id = reader.lake_start(&sql).map_err(lake_err)?;
    let started = std::time::Instant::now();
    let status = follow(
        args.query_timeout,
        || reader.lake_describe(&id).map_err(lake_err),
        |st| (st.done(), st.status.clone()),
        || reader.lake_cancel(&id).map_err(lake_err),
    )
    .map_err(|(state, secs)| {
        CliError::Lake(format!(
            "query {id} still {state} after {secs} s: cancelled"
        ))
    })??;
    if status.status != "FINISHED" {
        return Err(CliError::Lake(format!(
            "query {id} {}: {}",
            status.status,
            status.error.as_deref().unwrap_or("no reason given")
        )));
    }
    let mut records = Vec::new();
    let mut token = None;
    loop {
        let page = reader.lake_page(&id, token.take()).map_err(lake_err)?;
        records.extend(page.rows.iter().map(|r| lake::record(r)));
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let rows = records.len();
    add_records(res, records, &format!("cloudtrail-lake:{store}/{id}"));
    let gb = status.bytes_scanned as f64 / 1e9;
    eprintln!(
        "vigil: CloudTrail Lake: query {id} FINISHED in {:.1} s, {rows} row(s), {} scanned (≈ ${:.4})",
        started.elapsed().as_secs_f64(),
        text::bytes(status.bytes_scanned),
        gb * lake::USD_PER_GB
    );
    Ok(())
}

/// Follows a query until it ends (`status` asked with backoff, 0.2 s up to 2 s): its last
/// status, or — still running after `timeout` seconds, and then cancelled with `cancel` — its
/// state and the timeout.
#[allow(clippy::type_complexity)]
fn follow<S>(
    timeout: u64,
    mut status: impl FnMut() -> Result<S, CliError>,
    done: impl Fn(&S) -> (bool, String),
    cancel: impl FnOnce() -> Result<(), CliError>,
) -> Result<Result<S, CliError>, (String, u64)> {
    let started = std::time::Instant::now();
    let mut wait = std::time::Duration::from_millis(200);
    loop {
        let st = match status() {
            Ok(st) => st,
            Err(e) => return Ok(Err(e)),
        };
        let (ended, state) = done(&st);
        if ended {
            return Ok(Ok(st));
        }
        if started.elapsed().as_secs() >= timeout {
            return match cancel() {
                Ok(()) => Err((state, timeout)),
                Err(e) => Ok(Err(e)),
            };
        }
        std::thread::sleep(wait);
        wait = (wait * 2).min(std::time::Duration::from_secs(2));
    }
}

/// Adds rebuilt records (a query's rows) to the pivot, each event once.
fn add_records(res: &mut ScanResult, records: Vec<serde_json::Value>, name: &str) {
    let body = serde_json::json!({ "Records": records }).to_string();
    let loaded = ingest::load_bytes(std::path::Path::new(name), body.into_bytes());
    res.errors.extend(loaded.errors);
    let mut seen: HashSet<String> = res
        .events
        .iter()
        .map(|h| h.event.event_id.clone())
        .collect();
    for ev in loaded.events {
        if !seen.insert(ev.event_id.clone()) {
            continue;
        }
        let raw = ev.raw.text().unwrap_or_default();
        res.records += 1;
        res.events.push(ScanHit {
            event: HitEvent::from(ev),
            raw,
        });
    }
}

/// Adds what Athena answers for `target` in `window` from the CloudTrail table: one query
/// (shown on stderr), followed until it ends, its rows paged (the first row names the columns)
/// and rebuilt into records; the bytes scanned and their cost. Stopped at `--query-timeout`.
fn athena(
    args: &PivotArgs,
    table: &str,
    target: &EntityId,
    window: Window,
    res: &mut ScanResult,
) -> Result<(), CliError> {
    use crate::pivot::athena;
    let sql = athena::query(table, target, window).map_err(|why| CliError::Athena(why.into()))?;
    eprintln!("vigil: Athena: {}", Escaped(&sql));
    let opts = crate::aws::AwsOptions {
        profile: args.aws.profiles.first().cloned(),
        region: args.aws.regions.first().cloned(),
        ..super::aws::base(&args.aws)?
    };
    let reader =
        crate::aws::connect_read_only(&opts).map_err(|e| CliError::Athena(e.to_string()))?;
    let err = |e: crate::actions::CallError| CliError::Athena(e.plain());
    let id = reader
        .athena_start(
            &sql,
            args.athena_workgroup.as_deref(),
            args.athena_output.as_deref(),
        )
        .map_err(err)?;
    let started = std::time::Instant::now();
    let status = follow(
        args.query_timeout,
        || reader.athena_status(&id).map_err(err),
        |st| (st.done(), st.state.clone()),
        || reader.athena_stop(&id).map_err(err),
    )
    .map_err(|(state, secs)| {
        CliError::Athena(format!("query {id} still {state} after {secs} s: stopped"))
    })??;
    if status.state != "SUCCEEDED" {
        return Err(CliError::Athena(format!(
            "query {id} {}: {}",
            status.state,
            status.reason.as_deref().unwrap_or("no reason given")
        )));
    }
    let mut header: Option<Vec<String>> = None;
    let mut records = Vec::new();
    let mut token = None;
    loop {
        let page = reader.athena_page(&id, token.take()).map_err(err)?;
        records.extend(athena::records(&mut header, page.rows));
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let rows = records.len();
    add_records(res, records, &format!("athena:{table}/{id}"));
    let tb = status.bytes_scanned as f64 / 1e12;
    eprintln!(
        "vigil: Athena: query {id} SUCCEEDED in {:.1} s, {rows} row(s), {} scanned (≈ ${:.4})",
        started.elapsed().as_secs_f64(),
        text::bytes(status.bytes_scanned),
        tb * athena::USD_PER_TB
    );
    Ok(())
}

/// `vigil flows`: who talked to an address, from the VPC flow logs table in Athena — one query
/// (shown on stderr), followed until it ends, its rows printed as flow log lines or a table.
pub fn flows(args: super::args::FlowsArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    use crate::pivot::athena;
    let target = parse_entity(&args.entity)?;
    let window = pivot::Window {
        from: parse_time("from", args.from.as_deref())?,
        to: parse_time("to", args.to.as_deref())?,
    };
    let sql = athena::flows_query(&args.athena, &target, window)
        .map_err(|why| CliError::Athena(why.into()))?;
    eprintln!("vigil: Athena: {}", Escaped(&sql));
    let opts = crate::aws::AwsOptions {
        profile: args.aws.profiles.first().cloned(),
        region: args.aws.regions.first().cloned(),
        ..super::aws::base(&args.aws)?
    };
    let reader =
        crate::aws::connect_read_only(&opts).map_err(|e| CliError::Athena(e.to_string()))?;
    let err = |e: crate::actions::CallError| CliError::Athena(e.plain());
    let id = reader
        .athena_start(
            &sql,
            args.athena_workgroup.as_deref(),
            args.athena_output.as_deref(),
        )
        .map_err(err)?;
    let status = follow(
        args.query_timeout,
        || reader.athena_status(&id).map_err(err),
        |st| (st.done(), st.state.clone()),
        || reader.athena_stop(&id).map_err(err),
    )
    .map_err(|(state, secs)| {
        CliError::Athena(format!("query {id} still {state} after {secs} s: stopped"))
    })??;
    if status.state != "SUCCEEDED" {
        return Err(CliError::Athena(format!(
            "query {id} {}: {}",
            status.state,
            status.reason.as_deref().unwrap_or("no reason given")
        )));
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = false;
    let mut token = None;
    loop {
        let page = reader.athena_page(&id, token.take()).map_err(err)?;
        for row in page.rows {
            // The first row of the first page names the columns.
            if !std::mem::replace(&mut header, true) {
                continue;
            }
            rows.push(
                row.into_iter()
                    .map(|v| v.unwrap_or_else(|| "-".into()))
                    .collect(),
            );
        }
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    match args.format {
        super::args::FlowsFormat::Log => {
            writeln!(
                out,
                "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
            )?;
            for r in &rows {
                let fields: Vec<String> = r.iter().map(|f| Escaped(f).to_string()).collect();
                writeln!(out, "{}", fields.join(" "))?;
            }
        }
        super::args::FlowsFormat::Table => {
            writeln!(
                out,
                "{:<20} {:<22} {:<22} {:>5} {:>10} {:<6}",
                "START", "SOURCE", "DESTINATION", "PROTO", "BYTES", "ACTION"
            )?;
            for r in &rows {
                let f = |i: usize| r.get(i).map(|s| Escaped(s).to_string()).unwrap_or_default();
                let start = f(10)
                    .parse::<i64>()
                    .map(|s| crate::model::Ts(s * 1000).to_rfc3339_secs())
                    .unwrap_or_else(|_| f(10));
                writeln!(
                    out,
                    "{start:<20} {:<22} {:<22} {:>5} {:>10} {:<6}",
                    format!("{}:{}", f(3), f(5)),
                    format!("{}:{}", f(4), f(6)),
                    f(7),
                    f(9),
                    f(12)
                )?;
            }
        }
    }
    eprintln!(
        "vigil: Athena: query {id} SUCCEEDED, {} flow record(s), {} scanned (≈ ${:.4})",
        rows.len(),
        text::bytes(status.bytes_scanned),
        status.bytes_scanned as f64 / 1e12 * athena::USD_PER_TB
    );
    Ok(ExitCode::SUCCESS)
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
