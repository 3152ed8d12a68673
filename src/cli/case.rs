//! `vigil case export|verify`: a case's bundle — its audit log and actions, its findings, the
//! CloudTrail events naming its entities, their subgraph and its recordings — sealed with a
//! manifest of SHA-256s ([`crate::case`]), and the check of a bundle against it.

use super::args::{ActArgs, AwsArgs, CaseCommand, CaseExportArgs};
use super::error::CliError;
use super::inputs::parse_entity;
use crate::actions::evidence::{self, Artefact, ArtefactSource, ManifestRecord};
use crate::actions::{Action, AuditKind, AuditRecord, Inspect};
use crate::case::{self, FileCheck};
use crate::model::text::Escaped;
use crate::model::{EntityId, EntityKind};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(cmd: CaseCommand, out: &mut impl Write) -> Result<ExitCode, CliError> {
    match cmd {
        CaseCommand::Export(a) => match store_uri(&a.out) {
            Some(store) => export_to_store(*a, &store, out),
            None => export(&a, &a.out, out).map(|_| ExitCode::SUCCESS),
        },
        CaseCommand::Verify {
            path,
            manifest_sha256,
            aws,
        } => match store_uri(&path) {
            Some(uri) => verify_store(&uri, &aws, out),
            None => verify(&path, manifest_sha256.as_deref(), out),
        },
    }
}

/// The path as an S3 location, when it is one.
fn store_uri(p: &Path) -> Option<String> {
    p.to_str()
        .filter(|s| s.starts_with("s3://"))
        .map(|s| s.trim_end_matches('/').to_string())
}

/// Exports the bundle to a scratch directory, then puts its files in the evidence store under
/// `PREFIX/CASE/bundle/STAMP/` with a manifest record: planned, confirmed and audited as an
/// action (the plan lists every object with its SHA-256).
fn export_to_store(
    a: CaseExportArgs,
    store: &str,
    out: &mut impl Write,
) -> Result<ExitCode, CliError> {
    let Some((_, prefix)) = evidence::store_of(store) else {
        return Err(CliError::Case(format!("{store} is not s3://BUCKET/PREFIX")));
    };
    let scratch = std::env::temp_dir().join(format!(
        "vigil-case-{}-{}",
        evidence::key_label(&a.case),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    let made = export(&a, &scratch, out);
    let code = match made {
        Ok((m, digest)) => {
            let stamp = evidence::key_stamp(&m.created);
            let mut files: Vec<(String, u64, String)> = m
                .files
                .iter()
                .map(|f| (f.path.clone(), f.bytes, f.sha256.clone()))
                .collect();
            let manifest_bytes = std::fs::metadata(scratch.join(case::MANIFEST))?.len();
            files.push((case::MANIFEST.to_string(), manifest_bytes, digest));
            let artefacts = files
                .into_iter()
                .map(|(rel, size, sha256)| Artefact {
                    key: evidence::case_key(&prefix, &a.case, &format!("bundle/{stamp}/{rel}")),
                    kind: "case-bundle".to_string(),
                    sha256,
                    size,
                    source: ArtefactSource::File {
                        path: scratch.join(&rel),
                    },
                    instance: None,
                    command: Some("vigil case export".to_string()),
                })
                .collect();
            let args = ActArgs {
                case: Some(a.case.clone()),
                dry_run: a.dry_run,
                yes: a.yes,
                read_only: a.read_only,
                audit_log: a.audit_log.clone(),
                aws: a.aws.clone(),
                ..ActArgs::default()
            };
            let action = Action::StoreEvidence {
                store: store.to_string(),
                label: "case bundle".to_string(),
                artefacts,
            };
            let verify = format!("verify: vigil case verify {store}/{}", a.case);
            super::act::act(
                &action,
                &args,
                Default::default(),
                out,
                &mut |_, _, _, _| {
                    let mut f = super::act_follow::FollowUp::none();
                    f.lines.push(verify.clone());
                    Ok(f)
                },
            )
            .map(ExitCode::from)
            .map_err(CliError::from)
        }
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    code
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

/// Writes the bundle into `dir`; its manifest and the manifest's SHA-256.
fn export(
    a: &CaseExportArgs,
    dir: &Path,
    out: &mut impl Write,
) -> Result<(case::Manifest, String), CliError> {
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
    if dir.exists()
        && std::fs::read_dir(&a.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::Case(format!(
            "{} exists and is not empty: a bundle goes in a new directory",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir.join("actions"))?;
    let mut sources = vec![format!(
        "audit log {} ({} records of the case)",
        audit_path.display(),
        records.len()
    )];

    // The audit log and the actions' outcomes.
    write_lines(
        &dir.join("actions/audit.jsonl"),
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
        dir.join("actions/actions.json"),
        format!("{}\n", serde_json::to_string_pretty(&actions)?),
    )?;

    // The case's findings: those its actions name, and those about its entities.
    let finding_ids: BTreeSet<String> = entities
        .iter()
        .filter(|e| e.kind == EntityKind::Finding)
        .map(|e| e.value.to_string())
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
        &dir.join("findings.jsonl"),
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
    let n_events = write_lines(&dir.join("cloudtrail.jsonl"), events.into_values())?;
    sources.push(format!(
        "CloudTrail: {n_events} events naming {} entities",
        entities.len()
    ));

    // Each entity's neighbourhood in the graph of the inputs.
    let mut n_graphs = 0;
    if !a.inputs.all().is_empty() {
        let (_, graph, _) = super::inputs::fold(&a.inputs, &Default::default())?;
        std::fs::create_dir_all(dir.join("graph"))?;
        for (i, e) in entities.iter().enumerate() {
            let Some(n) = graph.neighbourhood(e, a.depth) else {
                continue;
            };
            let name = graph_name(i, e);
            std::fs::write(
                dir.join(format!("graph/{name}.json")),
                format!("{}\n", serde_json::to_string_pretty(&n)?),
            )?;
            std::fs::write(
                dir.join(format!("graph/{name}.dot")),
                crate::report::dot(&n),
            )?;
            n_graphs += 1;
        }
    }
    sources.push(format!("graph: {n_graphs} subgraphs (depth {})", a.depth));

    // The evidence store's manifest records of the case, as stored.
    // A store named on the command line must be read; VIGIL_EVIDENCE is read when it can be.
    let named = a.evidence.clone().or_else(|| store_uri(&a.out));
    let from_env = std::env::var("VIGIL_EVIDENCE")
        .ok()
        .filter(|s| !s.is_empty() && named.is_none());
    if let Some(store) = named.as_ref().or(from_env.as_ref()) {
        let n = match evidence_records(store, &a.case, &a.aws, &dir.join("evidence")) {
            Ok(n) => n.to_string(),
            Err(e) if named.is_none() => {
                eprintln!("vigil: VIGIL_EVIDENCE {store}: not read: {e}");
                format!("not read ({e})")
            }
            Err(e) => return Err(e),
        };
        sources.push(format!(
            "evidence store {store}: {n} manifest record(s) of the case"
        ));
    }

    // The case's recordings.
    let mut n_rec = 0;
    let files = crate::ingest::source::expand(&a.recordings)
        .map_err(|(path, reason)| CliError::MissingInput { path, reason })?;
    for p in files {
        let Ok(rec) = crate::record::read(&p) else {
            continue;
        };
        if rec.header.armed.case.as_deref() == Some(a.case.as_str()) {
            std::fs::create_dir_all(dir.join("recordings"))?;
            let name = p.file_name().map_or_else(
                || format!("{n_rec}.jsonl"),
                |n| n.to_string_lossy().into_owned(),
            );
            std::fs::copy(&p, dir.join("recordings").join(name))?;
            n_rec += 1;
        }
    }
    sources.push(format!("recordings: {n_rec}"));

    let created = crate::actions::audit::now_utc().to_rfc3339_secs();
    let (m, digest) = case::seal(dir, &a.case, &created, sources).map_err(case_err)?;
    let to_store = store_uri(&a.out).is_some();
    writeln!(
        out,
        "case {}: {} files {} ({} actions, {n_findings} findings, {n_events} CloudTrail events, {n_graphs} subgraphs, {n_rec} recordings)",
        Escaped(&a.case),
        m.files.len(),
        if to_store {
            "bundled".to_string()
        } else {
            format!("in {}", dir.display())
        },
        actions.len()
    )?;
    if to_store {
        writeln!(out, "bundle manifest sha256 {digest}")?;
    } else {
        writeln!(
            out,
            "manifest sha256 {digest}  (record it with the case: `vigil case verify {} --manifest-sha256 {digest}`)",
            dir.display()
        )?;
    }
    Ok((m, digest))
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

/// Copies the case's manifest records from the evidence store into `to`; how many.
fn evidence_records(store: &str, case: &str, aws: &AwsArgs, to: &Path) -> Result<usize, CliError> {
    let Some((bucket, prefix)) = evidence::store_of(store) else {
        return Err(CliError::Case(format!("{store} is not s3://BUCKET/PREFIX")));
    };
    let mut reader = connect(aws)?;
    let folder = evidence::case_key(&prefix, case, evidence::MANIFEST_FOLDER) + "/";
    let s3 = |e: crate::actions::CallError| CliError::S3(format!("{store}: {}", e.plain()));
    let records = reader.stored_objects(&bucket, &folder).map_err(s3)?;
    if records.is_empty() {
        return Ok(0);
    }
    std::fs::create_dir_all(to)?;
    for r in &records {
        let body = reader
            .read_object(&bucket, &r.key)
            .map_err(s3)?
            .unwrap_or_default();
        let name = r.key.rsplit('/').next().unwrap_or("record.json");
        std::fs::write(
            to.join(evidence::key_label(name.trim_end_matches(".json")) + ".json"),
            body,
        )?;
    }
    Ok(records.len())
}

/// A read-only AWS session from the command's flags.
fn connect(aws: &AwsArgs) -> Result<crate::aws::AwsReader, CliError> {
    Ok(crate::aws::connect_read_only(&crate::aws::AwsOptions {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        ..Default::default()
    })?)
}

/// Checks the case's folder of an evidence store (`s3://BUCKET/PREFIX/CASE`): every artefact of
/// every manifest record read back and hashed; objects no record lists are named too.
fn verify_store(uri: &str, aws: &AwsArgs, out: &mut impl Write) -> Result<ExitCode, CliError> {
    let Some((bucket, folder)) = evidence::store_of(uri) else {
        return Err(CliError::Case(format!(
            "{uri} is not s3://BUCKET/PREFIX/CASE"
        )));
    };
    let mut reader = connect(aws)?;
    let under = if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    };
    let s3 = |e: crate::actions::CallError| CliError::S3(format!("{uri}: {}", e.plain()));
    let objects: BTreeMap<String, crate::actions::StoredObject> = reader
        .stored_objects(&bucket, &under)
        .map_err(s3)?
        .into_iter()
        .map(|o| (o.key.clone(), o))
        .collect();
    let manifest_prefix = format!("{under}{}/", evidence::MANIFEST_FOLDER);
    let mut recorded: BTreeSet<String> = BTreeSet::new();
    let (mut records, mut entries, mut bad) = (0usize, 0usize, 0usize);
    let report = |line: String, out: &mut dyn Write| -> Result<(), CliError> {
        writeln!(out, "{}", Escaped(&line))?;
        Ok(())
    };
    for key in objects.keys().filter(|k| k.starts_with(&manifest_prefix)) {
        recorded.insert(key.clone());
        let text = reader
            .read_object(&bucket, key)
            .map_err(s3)?
            .unwrap_or_default();
        let record: ManifestRecord = match serde_json::from_slice(&text) {
            Ok(r) => r,
            Err(e) => {
                bad += 1;
                report(format!("UNREADABLE record s3://{bucket}/{key}: {e}"), out)?;
                continue;
            }
        };
        records += 1;
        for e in &record.entries {
            entries += 1;
            recorded.insert(e.key.clone());
            match objects.get(&e.key) {
                Some(o) if o.sha256 == e.sha256 && o.size == e.size => {}
                Some(o) => {
                    bad += 1;
                    report(
                        format!(
                            "CHANGED s3://{bucket}/{} (recorded {} by {} at {}: sha256 {}, now {})",
                            e.key,
                            record.label,
                            record.recorded_by,
                            record.recorded_at,
                            e.sha256,
                            o.sha256
                        ),
                        out,
                    )?;
                }
                None => {
                    bad += 1;
                    report(
                        format!(
                            "MISSING s3://{bucket}/{} (recorded {} at {})",
                            e.key, record.label, record.recorded_at
                        ),
                        out,
                    )?;
                }
            }
        }
    }
    for key in objects.keys().filter(|k| !recorded.contains(*k)) {
        bad += 1;
        report(
            format!("EXTRA   s3://{bucket}/{key} (in no manifest record)"),
            out,
        )?;
    }
    writeln!(
        out,
        "{}: {records} manifest record(s), {entries} artefact(s), {}",
        Escaped(uri),
        if bad == 0 {
            "all as recorded".to_string()
        } else {
            format!("{bad} difference(s)")
        }
    )?;
    Ok(if bad == 0 && records > 0 {
        ExitCode::SUCCESS
    } else {
        if records == 0 {
            writeln!(
                out,
                "no manifest record under s3://{bucket}/{manifest_prefix}"
            )?;
        }
        ExitCode::from(3)
    })
}
