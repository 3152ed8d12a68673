//! `vigil pivot`: every CloudTrail event that names an entity, in time order: from log files
//! (`--trail`), from CloudTrail's LookupEvents API (`--live`), or both, deduplicated by event id.

use super::args::{PivotArgs, PivotFormat};
use super::error::CliError;
use super::inputs::{parse_entity, parse_time, report_errors};
use crate::console::{Clock, Engine, History, HistoryEvent, QueryEnd, QueryEngine, SystemClock};
use crate::model::text::{self, Escaped};
use crate::model::{EntityId, Ts};
use crate::pivot::lookup::{api_window, attribute_for};
use crate::pivot::s3layout::S3Uri;
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
    if let Some(store) = &args.lake {
        let engine = Engine::Lake {
            store: store.clone(),
        };
        engine_pivot(&args, engine, &target, window, &mut res)?;
    }
    if let Some(table) = &args.athena {
        let engine = Engine::Athena {
            table: table.clone(),
            workgroup: args.athena_workgroup.clone(),
            output: args.athena_output.clone(),
        };
        engine_pivot(&args, engine, &target, window, &mut res)?;
    }
    let failed = args.live && lookup(&args, &target, window, SystemClock.now(), &mut res)?;
    // The tiers' answers together, in pivot order (the files' scan is sorted already).
    if !remote.is_empty() || args.lake.is_some() || args.athena.is_some() || args.live {
        res.events.sort_by(|a, b| {
            (a.event.time, a.event.event_id()).cmp(&(b.event.time, b.event.event_id()))
        });
    }
    match args.format {
        PivotFormat::Jsonl => {
            for hit in &res.events {
                out.write_all(text::json_raw(&hit.raw.text()?).as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
        PivotFormat::Table => {
            report::write_pivot_table(&res, out)?;
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
    let prune = super::s3::trail_events(window, &args.account, &args.aws.regions);
    super::s3::open(&args.aws, uri, &prune, args.cache.as_deref())?
        .consume(|objects| pivot::scan_objects(objects, target, window))
}

/// A query engine in the session's first profile and region.
fn engine_of(aws: &super::args::AwsTargets, engine: Engine) -> Result<QueryEngine, CliError> {
    let opts = crate::aws::AwsOptions {
        profile: aws.profiles.first().cloned(),
        region: aws.regions.first().cloned(),
        ..super::aws::base(aws)?
    };
    let reader =
        crate::aws::connect_read_only(&opts).map_err(|e| engine_err(&engine, e.to_string()))?;
    Ok(QueryEngine::new(engine, reader))
}

/// An engine's failure, said as its own.
fn engine_err(engine: &Engine, why: String) -> CliError {
    match engine {
        Engine::Lake { .. } => CliError::Lake(why),
        Engine::Athena { .. } => CliError::Athena(why),
    }
}

/// Runs `sql` on `q` until it ends or `timeout` seconds pass (then cancels it), handing the rows
/// on; what it scanned is said on stderr with its cost.
fn run_query(
    q: &QueryEngine,
    sql: &str,
    timeout: u64,
    on_rows: &mut dyn FnMut(Vec<crate::console::Row>),
) -> Result<(), CliError> {
    eprintln!("vigil: {}: {}", q.label(), Escaped(sql));
    let started = std::time::Instant::now();
    let mut rows = 0usize;
    let end = q.query(
        sql,
        &|| started.elapsed().as_secs() < timeout,
        &mut |page| {
            rows += page.len();
            on_rows(page);
        },
    );
    match end {
        QueryEnd::Done {
            id,
            state,
            bytes_scanned,
        } => {
            eprintln!(
                "vigil: {}: query {id} {state} in {:.1} s, {rows} row(s), {} scanned (≈ ${:.4})",
                q.label(),
                started.elapsed().as_secs_f64(),
                text::bytes(bytes_scanned),
                q.cost_usd(bytes_scanned)
            );
            Ok(())
        }
        QueryEnd::Failed(why) => Err(engine_err(&q.engine, why)),
        QueryEnd::Cancelled { id, state } => {
            let verb = match q.engine {
                Engine::Lake { .. } => "cancelled",
                Engine::Athena { .. } => "stopped",
            };
            Err(engine_err(
                &q.engine,
                format!("query {id} still {state} after {timeout} s: {verb}"),
            ))
        }
    }
}

/// Adds what a query engine (CloudTrail Lake, Athena) answers for `target` in `window`: one
/// query, its rows rebuilt into records the ingest reads, merged by event id.
fn engine_pivot(
    args: &PivotArgs,
    engine: Engine,
    target: &EntityId,
    window: Window,
    res: &mut ScanResult,
) -> Result<(), CliError> {
    let q = engine_of(&args.aws, engine)?;
    let sql = q
        .pivot_sql(target, window)
        .map_err(|why| engine_err(&q.engine, why.into()))?;
    let mut records = Vec::new();
    run_query(&q, &sql, args.query_timeout, &mut |rows| {
        records.extend(rows.iter().map(|r| crate::pivot::lake::record(r)));
    })?;
    add_records(res, records, &q.label());
    Ok(())
}

/// Adds rebuilt records (a query's rows) to the pivot, each event once.
fn add_records(res: &mut ScanResult, records: Vec<serde_json::Value>, name: &str) {
    let body = serde_json::json!({ "Records": records }).to_string();
    let loaded = ingest::load_bytes(std::path::Path::new(name), body.into_bytes());
    res.errors.extend(loaded.errors);
    let mut seen: HashSet<String> = res
        .events
        .iter()
        .map(|h| h.event.event_id().to_string())
        .collect();
    for ev in loaded.events {
        if !seen.insert(ev.event_id.clone()) {
            continue;
        }
        let raw = ev.raw.text().unwrap_or_default();
        res.records += 1;
        res.events.push(ScanHit {
            event: HitEvent::from(ev),
            raw: raw.into(),
        });
    }
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
    let engine = Engine::Athena {
        table: args.athena.clone(),
        workgroup: args.athena_workgroup.clone(),
        output: args.athena_output.clone(),
    };
    let q = engine_of(&args.aws, engine)?;
    // Each row's fields in the flow log's order (a null field as `-`, as flow logs write it).
    let names: Vec<&str> = athena::FLOW_COLUMNS
        .iter()
        .map(|c| c.trim_matches('"'))
        .collect();
    let mut rows: Vec<Vec<String>> = Vec::new();
    run_query(&q, &sql, args.query_timeout, &mut |page| {
        rows.extend(page.iter().map(|cells| {
            names
                .iter()
                .map(|n| {
                    cells
                        .iter()
                        .find_map(|c| c.get(*n))
                        .cloned()
                        .unwrap_or_else(|| "-".into())
                })
                .collect()
        }));
    })?;
    eprintln!("vigil: {}: {} flow record(s)", q.label(), rows.len());
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
        .map(|h| h.event.event_id().to_string())
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
                    raw: raw.into(),
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
