//! `vigil case export|verify`: a case's bundle — its audit log and actions, its findings, the
//! CloudTrail events naming its entities, their subgraph and its recordings — sealed with a
//! manifest of SHA-256s ([`crate::case`]), and the check of a bundle against it.

use super::args::{CaseCommand, CaseExportArgs};
use super::error::CliError;
use super::inputs::parse_entity;
use crate::actions::{AuditKind, AuditRecord};
use crate::case::{self, FileCheck};
use crate::model::text::Escaped;
use crate::model::{EntityId, EntityKind};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(cmd: CaseCommand, out: &mut impl Write) -> Result<ExitCode, CliError> {
    match cmd {
        CaseCommand::Export(a) => export(*a, out),
        CaseCommand::Verify {
            path,
            manifest_sha256,
        } => verify(&path, manifest_sha256.as_deref(), out),
    }
}

fn case_err(e: impl std::fmt::Display) -> CliError {
    CliError::Case(e.to_string())
}

/// The entities an action's audit target names (`block-ip` names several, comma-separated).
fn target_entities(action: &str, target: &str) -> Vec<EntityId> {
    let kind = match action {
        "quarantine" | "release" | "snapshot" | "detach-profile" | "playbook" => {
            EntityKind::Instance
        }
        "disable-key" => EntityKind::Key,
        "block-domain" => EntityKind::Domain,
        "block-ip" | "unblock-ip" => EntityKind::Ip,
        "revoke-sessions" if target.starts_with("arn:") => EntityKind::Role,
        "notify" | "archive" => EntityKind::Finding,
        _ => return Vec::new(),
    };
    target
        .split(',')
        .filter(|t| !t.is_empty())
        .filter_map(|t| match kind {
            // A block's CIDR names its address when it is one.
            EntityKind::Ip => EntityId::ip(t.trim_end_matches("/32").trim_end_matches("/128")),
            EntityKind::Domain => EntityId::domain(t),
            k => Some(EntityId::new(k, t.to_string())),
        })
        .collect()
}

/// A file name for an entity's subgraph (its value made safe, numbered to stay unique).
fn graph_name(n: usize, e: &EntityId) -> String {
    let safe: String = e
        .value
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    format!("{n:02}-{}-{safe}", e.kind)
}

fn write_lines(path: &Path, lines: impl IntoIterator<Item = String>) -> Result<usize, CliError> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut n = 0;
    for l in lines {
        f.write_all(l.as_bytes())?;
        f.write_all(b"\n")?;
        n += 1;
    }
    f.flush()?;
    Ok(n)
}

fn export(a: CaseExportArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let audit_path = a.audit_log.clone().unwrap_or_else(crate::paths::audit_log);
    let records: Vec<AuditRecord> = if audit_path.exists() {
        crate::actions::audit::read(&audit_path)
            .map_err(case_err)?
            .into_iter()
            .filter(|r| r.case == a.case)
            .collect()
    } else {
        Vec::new()
    };
    let mut entities: BTreeSet<EntityId> = BTreeSet::new();
    for r in records.iter().filter(|r| r.kind == AuditKind::End) {
        entities.extend(target_entities(&r.action, &r.target));
    }
    for e in &a.entities {
        entities.insert(parse_entity(e)?);
    }
    if records.is_empty() && entities.is_empty() {
        return Err(CliError::Case(format!(
            "no audit record of case {} in {} and no --entity: nothing to bundle",
            Escaped(&a.case),
            audit_path.display()
        )));
    }
    if a.out.exists()
        && std::fs::read_dir(&a.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::Case(format!(
            "{} exists and is not empty: a bundle goes in a new directory",
            a.out.display()
        )));
    }
    std::fs::create_dir_all(a.out.join("actions"))?;
    let mut sources = vec![format!(
        "audit log {} ({} records of the case)",
        audit_path.display(),
        records.len()
    )];

    // The audit log and the actions' outcomes.
    write_lines(
        &a.out.join("actions/audit.jsonl"),
        records
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?,
    )?;
    let actions: Vec<serde_json::Value> = records
        .iter()
        .filter(|r| r.kind == AuditKind::End)
        .map(|r| {
            serde_json::json!({
                "time": r.time, "action": r.action, "target": r.target,
                "outcome": r.outcome, "operator": r.operator, "account": r.account,
                "demo": r.demo, "dry_run": r.dry_run,
            })
        })
        .collect();
    std::fs::write(
        a.out.join("actions/actions.json"),
        format!("{}\n", serde_json::to_string_pretty(&actions)?),
    )?;

    // The case's findings: those its actions name, and those about its entities.
    let finding_ids: BTreeSet<String> = entities
        .iter()
        .filter(|e| e.kind == EntityKind::Finding)
        .map(|e| e.value.clone())
        .collect();
    let mut findings = Vec::new();
    if !a.inputs.findings.is_empty() {
        let loaded = crate::ingest::load(&a.inputs.findings)?;
        for f in loaded.findings {
            let about =
                finding_ids.contains(&f.id) || f.entities.iter().any(|e| entities.contains(e));
            if about {
                findings.push(f);
            }
        }
    }
    // Their entities are the investigation's too (the actor address, the principal).
    for f in &findings {
        entities.extend(
            f.entities
                .iter()
                .filter(|e| !matches!(e.kind, EntityKind::Account | EntityKind::Finding))
                .cloned(),
        );
    }
    let n_findings = write_lines(
        &a.out.join("findings.jsonl"),
        findings.iter().map(|f| crate::pivot::minify_json(&f.raw)),
    )?;
    sources.push(format!("findings: {n_findings} of the case"));

    // Every CloudTrail event naming one of the entities, once, in time order.
    let mut events: BTreeMap<(i64, String), String> = BTreeMap::new();
    if !a.inputs.trail.is_empty() {
        for e in entities.iter().filter(|e| e.kind != EntityKind::Finding) {
            let res = crate::pivot::scan(&a.inputs.trail, e, crate::pivot::Window::all())?;
            for hit in res.events {
                let key = (hit.event.time.millis(), hit.event.event_id().to_string());
                if let std::collections::btree_map::Entry::Vacant(slot) = events.entry(key) {
                    slot.insert(crate::pivot::minify_json(&hit.raw.text()?));
                }
            }
        }
    }
    let n_events = write_lines(&a.out.join("cloudtrail.jsonl"), events.into_values())?;
    sources.push(format!(
        "CloudTrail: {n_events} events naming {} entities",
        entities.len()
    ));

    // Each entity's neighbourhood in the graph of the inputs.
    let mut n_graphs = 0;
    if !a.inputs.all().is_empty() {
        let (_, graph, _) = super::inputs::fold(&a.inputs, &Default::default())?;
        std::fs::create_dir_all(a.out.join("graph"))?;
        for (i, e) in entities.iter().enumerate() {
            let Some(n) = graph.neighbourhood(e, a.depth) else {
                continue;
            };
            let name = graph_name(i, e);
            std::fs::write(
                a.out.join(format!("graph/{name}.json")),
                format!("{}\n", serde_json::to_string_pretty(&n)?),
            )?;
            std::fs::write(
                a.out.join(format!("graph/{name}.dot")),
                crate::report::dot(&n),
            )?;
            n_graphs += 1;
        }
    }
    sources.push(format!("graph: {n_graphs} subgraphs (depth {})", a.depth));

    // The case's recordings.
    let mut n_rec = 0;
    let files = crate::ingest::source::expand(&a.recordings)
        .map_err(|(path, reason)| CliError::MissingInput { path, reason })?;
    for p in files {
        let Ok(rec) = crate::record::read(&p) else {
            continue;
        };
        if rec.header.armed.case.as_deref() == Some(a.case.as_str()) {
            std::fs::create_dir_all(a.out.join("recordings"))?;
            let name = p.file_name().map_or_else(
                || format!("{n_rec}.jsonl"),
                |n| n.to_string_lossy().into_owned(),
            );
            std::fs::copy(&p, a.out.join("recordings").join(name))?;
            n_rec += 1;
        }
    }
    sources.push(format!("recordings: {n_rec}"));

    let created = crate::actions::audit::now_utc().to_rfc3339_secs();
    let (m, digest) = case::seal(&a.out, &a.case, &created, sources).map_err(case_err)?;
    writeln!(
        out,
        "case {}: {} files in {} ({} actions, {n_findings} findings, {n_events} CloudTrail events, {n_graphs} subgraphs, {n_rec} recordings)",
        Escaped(&a.case),
        m.files.len(),
        a.out.display(),
        actions.len()
    )?;
    writeln!(
        out,
        "manifest sha256 {digest}  (record it with the case: `vigil case verify {} --manifest-sha256 {digest}`)",
        a.out.display()
    )?;
    Ok(ExitCode::SUCCESS)
}

fn verify(path: &Path, expected: Option<&str>, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let v = case::verify(path).map_err(case_err)?;
    let mut bad = 0;
    for (f, check) in &v.files {
        let line = match check {
            FileCheck::Ok => continue,
            FileCheck::Changed { expected, actual } => {
                format!("CHANGED {f} (manifest {expected}, now {actual})")
            }
            FileCheck::Missing => format!("MISSING {f}"),
            FileCheck::Extra => format!("EXTRA   {f} (not in the manifest)"),
        };
        bad += 1;
        writeln!(out, "{}", Escaped(&line))?;
    }
    let manifest_ok = expected.is_none_or(|e| e.eq_ignore_ascii_case(&v.manifest_sha256));
    if !manifest_ok {
        bad += 1;
        writeln!(
            out,
            "MANIFEST changed: sha256 {} is not the recorded {}",
            v.manifest_sha256,
            expected.unwrap_or_default()
        )?;
    }
    writeln!(
        out,
        "case {}: {} files, {}; manifest sha256 {}",
        Escaped(&v.manifest.case),
        v.manifest.files.len(),
        if bad == 0 {
            "all as the manifest says".to_string()
        } else {
            format!("{bad} difference(s)")
        },
        v.manifest_sha256
    )?;
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
