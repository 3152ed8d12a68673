//! `vigil hunt`: the Sigma rules over CloudTrail files or an S3 trail, one detection per line
//! (JSON Lines, a table or markdown). Rules that cannot be read are reported on stderr with their
//! file and line before the hunt, and the others run.

use super::args::{HuntArgs, HuntFormat};
use super::error::CliError;
use super::inputs::{parse_time, report_errors};
use crate::hunt::{Hunter, Intel, IntelList, ListKind, Matches, NetIntel, RuleSet};
use crate::model::Detection;
use crate::model::text::Escaped;
use crate::pivot::Window;
use crate::report;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: HuntArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let window = Window {
        from: parse_time("from", args.from.as_deref())?,
        to: parse_time("to", args.to.as_deref())?,
    };
    let mut set = if args.no_bundled {
        RuleSet::default()
    } else {
        RuleSet::bundled()
    };
    for dir in &args.rules {
        set.add_dir(dir)
            .map_err(|e| CliError::Rules(e.to_string()))?;
    }
    if args.list_rules {
        report::write_rule_list(&set, out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let (intel, errors) = load_lists(&args.lists)?;
    for e in &errors {
        eprintln!("vigil: intel {}", Escaped(&e.to_string()));
    }
    let intel_errors = !errors.is_empty();
    for list in &intel.lists {
        eprintln!(
            "vigil: {} list {}: {} indicator(s)",
            if list.kind == ListKind::Threat {
                "threat"
            } else {
                "trusted"
            },
            Escaped(&list.name),
            list.len()
        );
    }
    let hunter = Hunter::new(&set).with_intel(intel);
    for e in &hunter.errors {
        eprintln!("vigil: rule {}", Escaped(&e.to_string()));
    }
    let rule_errors = !hunter.errors.is_empty() || intel_errors;
    eprintln!(
        "vigil: hunting with {} rules and {} correlations",
        hunter.rules, hunter.correlations
    );
    let (local, remote) = super::s3::split(&args.trail);
    let mut matches = if local.is_empty() {
        Matches::default()
    } else {
        hunter.scan(&local, window)?
    };
    for uri in &remote {
        let prune = super::s3::trail_events(window, &args.account, &args.aws.regions);
        let part = super::s3::open(&args.aws, uri, &prune, args.cache.as_deref())?
            .consume(|objects| hunter.scan_objects(objects, window))?;
        matches = matches.join(part);
    }
    let intel = hunter.intel().clone();
    let mut res = hunter.correlate(matches);
    network_intel(&args, &intel, window, &mut res)?;
    for (list, n) in &res.suppressed {
        eprintln!(
            "vigil: {n} event(s) from addresses on the trusted list {} not hunted",
            Escaped(list)
        );
    }
    match args.format {
        HuntFormat::Jsonl => write_jsonl(&res.detections, out)?,
        HuntFormat::Table => report::write_hunt_table(&res, out)?,
        HuntFormat::Markdown => report::write_hunt_markdown(&res, out)?,
    }
    let code = report_errors(&res.errors, args.strict, args.verbose);
    // A busy day's detections are hundreds of thousands of strings: freeing them one by one
    // on the way out is time the user waits for and the process exit does anyway.
    std::mem::forget(res);
    Ok(if args.strict && rule_errors {
        ExitCode::from(2)
    } else {
        code
    })
}

/// Detections as JSON Lines, in order: written a batch at a time, each batch's lines made on
/// every core (a broad rule's tens of thousands of detections took a second on one).
fn write_jsonl(detections: &[Detection], out: &mut impl Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    const BATCH: usize = 16_384;
    const CHUNK: usize = 512;
    for batch in detections.chunks(BATCH) {
        let lines = batch
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut buf = Vec::with_capacity(chunk.len() * 512);
                for d in chunk {
                    // JSON escapes every control character: log text stays inert.
                    serde_json::to_writer(&mut buf, d)?;
                    buf.push(b'\n');
                }
                Ok(buf)
            })
            .collect::<Result<Vec<Vec<u8>>, serde_json::Error>>()
            .map_err(std::io::Error::other)?;
        for l in &lines {
            out.write_all(l)?;
        }
    }
    Ok(())
}

/// The flow logs and DNS logs named, against the threat lists: their detections join the
/// rules', their unreadable records the hunt's errors.
fn network_intel(
    args: &HuntArgs,
    intel: &Intel,
    window: Window,
    res: &mut crate::hunt::HuntResult,
) -> Result<(), CliError> {
    if args.flows.is_empty() && args.dns.is_empty() {
        return Ok(());
    }
    let paths: Vec<_> = args.flows.iter().chain(&args.dns).cloned().collect();
    let loaded = crate::ingest::load(&paths)?;
    let flows: Vec<_> = loaded
        .flows
        .into_iter()
        .filter(|f| f.start.or(f.end).is_none_or(|t| window.contains(t)))
        .collect();
    let dns: Vec<_> = loaded
        .dns
        .into_iter()
        .filter(|q| q.time.is_none_or(|t| window.contains(t)))
        .collect();
    eprintln!(
        "vigil: {} flow record(s) and {} DNS queries checked against {} list(s)",
        flows.len(),
        dns.len(),
        intel.lists.len()
    );
    let mut net = NetIntel::new(intel.clone());
    net.add_flows(&flows);
    net.add_dns(&dns);
    for (list, n) in &net.suppressed {
        eprintln!(
            "vigil: {n} flow/DNS record(s) with an entry of the trusted list {} not reported",
            Escaped(list)
        );
    }
    res.detections.extend(net.detections());
    res.detections
        .sort_by(|a, b| (a.first, &a.rule, &a.group).cmp(&(b.first, &b.rule, &b.group)));
    res.errors.extend(loaded.errors);
    res.files += loaded.files;
    Ok(())
}

/// What `open` and `live` hunt with: the bundled rules, the directories and lists given; any
/// rule or list that cannot be read stops the console before it opens (with file and line).
pub(super) fn console_setup(
    args: &super::args::ConsoleHunt,
) -> Result<Option<crate::console::HuntSetup>, CliError> {
    if args.no_hunt {
        return Ok(None);
    }
    let mut set = RuleSet::bundled();
    for dir in &args.rules {
        set.add_dir(dir)
            .map_err(|e| CliError::Rules(e.to_string()))?;
    }
    let compiled = Hunter::new(&set);
    if !compiled.errors.is_empty() {
        let lines: Vec<String> = compiled.errors.iter().map(|e| e.to_string()).collect();
        return Err(CliError::Rules(lines.join("\n")));
    }
    let (intel, errors) = load_lists(&args.lists)?;
    if let Some(e) = errors.first() {
        return Err(CliError::Intel(e.to_string()));
    }
    Ok(Some(crate::console::HuntSetup {
        rules: std::sync::Arc::new(set),
        intel,
    }))
}

/// The threat and trusted lists named: the lists, and their lines that are not indicators. A
/// list that cannot be read at all is an error.
fn load_lists(
    args: &super::args::IntelArgs,
) -> Result<(Intel, Vec<crate::hunt::IntelError>), CliError> {
    let mut intel = Intel::default();
    let mut errors = Vec::new();
    for (paths, kind) in [
        (&args.intel, ListKind::Threat),
        (&args.trusted, ListKind::Trusted),
    ] {
        for p in paths {
            let (list, mut bad) = IntelList::load(p, kind, args.intel_column.as_deref())
                .map_err(|e| CliError::Intel(e.to_string()))?;
            errors.append(&mut bad);
            intel.lists.push(list);
        }
    }
    Ok((intel, errors))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Ts;

    #[test]
    fn jsonl_lines_keep_their_order_across_batches_and_cores() {
        // More than a batch, and batches of many chunks: every line where one thread puts it.
        let detections: Vec<Detection> = (0..40_000)
            .map(|i| Detection {
                rule: format!("rule-{}", i % 7),
                title: format!("title {i} \u{1b}[31m"),
                level: "low".into(),
                attack: vec!["attack.t1078".into()],
                first: Ts(i),
                last: Ts(i + 1),
                events: vec![format!("e{i}")],
                entities: Vec::new(),
                group: vec![format!("principal=p{i}")],
                records: 0,
                regions: vec!["us-east-1".into()],
            })
            .collect();
        let mut ours = Vec::new();
        write_jsonl(&detections, &mut ours).unwrap();
        let mut one_by_one = Vec::new();
        for d in &detections {
            serde_json::to_writer(&mut one_by_one, d).unwrap();
            one_by_one.push(b'\n');
        }
        assert!(ours == one_by_one, "the lines differ");
        assert!(!ours.contains(&0x1b), "an escape reached the output raw");
    }
}
