//! Headless outputs of the same core the screens use: the `analyze` JSON contract and markdown
//! summary, and neighbourhood exports (DOT, Mermaid, JSON).

use crate::graph::{EntityGraph, Group, Neighbourhood, groups};
use crate::ingest::errors::{ErrorSummary, KindCount};
use crate::ingest::{IngestError, Loaded};
use crate::integrity::{ChainStatus, FileStatus, IntegrityReport};
use crate::model::text::{Escaped, escape};
use crate::model::{EntityId, EntityKind, Finding, SeverityLabel};
use serde::Serialize;
use std::fmt::Write;

#[derive(Serialize)]
pub struct Analysis<'a> {
    pub findings: Vec<FindingOut<'a>>,
    pub entities: Vec<EntityOut<'a>>,
    pub edges: Vec<crate::graph::EdgeView>,
    pub groups: &'a [Group],
    /// The first few errors of each kind per file (every one with `--verbose`).
    pub errors: Vec<&'a IngestError>,
    /// How many errors of each kind each file had.
    pub error_counts: Vec<KindCount>,
    /// CloudTrail log file integrity, present only when digest files were loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<&'a IntegrityReport>,
}

#[derive(Serialize)]
pub struct FindingOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub finding_type: &'a str,
    pub severity: f64,
    pub severity_label: SeverityLabel,
    pub title: &'a str,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub entities: &'a [EntityId],
}

#[derive(Serialize)]
pub struct EntityOut<'a> {
    pub id: &'a EntityId,
    pub kind: EntityKind,
}

/// Findings sorted by severity (highest first), then id.
pub fn sorted_findings(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings.iter().collect();
    v.sort_by(|a, b| b.severity.total_cmp(&a.severity).then(a.id.cmp(&b.id)));
    v
}

/// The `analyze --format json` document, with the input errors as `errors` lists them (the first
/// few of each kind per file, or all with `--verbose`). Serialise it with
/// [`crate::model::text::to_writer_pretty`] so that no control character in the input reaches the
/// output raw.
pub fn analysis<'a>(
    loaded: &'a Loaded,
    graph: &'a EntityGraph,
    groups: &'a [Group],
    errors: &ErrorSummary<'a>,
) -> Analysis<'a> {
    Analysis {
        findings: sorted_findings(&loaded.findings)
            .into_iter()
            .map(|f| FindingOut {
                id: &f.id,
                finding_type: &f.finding_type,
                severity: f.severity,
                severity_label: f.label(),
                title: &f.title,
                account: f.account_id.as_deref(),
                region: f.region.as_deref(),
                entities: &f.entities,
            })
            .collect(),
        entities: graph
            .entity_ids()
            .into_iter()
            .map(|id| EntityOut { id, kind: id.kind })
            .collect(),
        edges: graph.all_edges(),
        groups,
        errors: errors.shown.clone(),
        error_counts: errors.kinds.clone(),
        integrity: None,
    }
}

/// A readable incident summary: groups by severity, their findings and key entities. Input text
/// is escaped (ids, types, titles, entities, error messages).
pub fn markdown(
    loaded: &Loaded,
    graph: &EntityGraph,
    groups: &[Group],
    errors: &ErrorSummary<'_>,
) -> String {
    let mut s = String::new();
    let by_id: std::collections::HashMap<&str, &Finding> =
        loaded.findings.iter().map(|f| (f.id.as_str(), f)).collect();
    let _ = writeln!(s, "# Incident summary\n");
    let _ = writeln!(
        s,
        "{} findings in {} groups; {} CloudTrail events, {} flow records, {} DNS queries; {} entities, {} relations.",
        loaded.findings.len(),
        groups.len(),
        loaded.event_count(),
        loaded.flows.len(),
        loaded.dns.len(),
        graph.node_count(),
        graph.edge_count()
    );
    for label in SeverityLabel::ALL_DESC {
        let n = loaded
            .findings
            .iter()
            .filter(|f| f.label() == label)
            .count();
        let _ = write!(
            s,
            "{}{label}: {n}",
            if label == SeverityLabel::Critical {
                "\n"
            } else {
                " · "
            }
        );
    }
    let _ = writeln!(s);
    for g in groups {
        let _ = writeln!(
            s,
            "\n## {} — {} ({:.1}), {} finding{}\n",
            Escaped(&g.id),
            SeverityLabel::of(g.severity),
            g.severity,
            g.findings.len(),
            if g.findings.len() == 1 { "" } else { "s" }
        );
        let mut members: Vec<&Finding> = g
            .findings
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).copied())
            .collect();
        members.sort_by(|a, b| b.severity.total_cmp(&a.severity).then(a.id.cmp(&b.id)));
        for f in members {
            let _ = writeln!(
                s,
                "- **{}** {:.1} `{}` — {}{}",
                f.label(),
                f.severity,
                Escaped(&f.finding_type),
                Escaped(&f.title),
                if f.sample { " *(sample)*" } else { "" }
            );
        }
        let key: Vec<String> = g
            .entities
            .iter()
            .filter(|e| groups::links(e))
            .map(|e| format!("`{}`", Escaped(&e.to_string())))
            .collect();
        if !key.is_empty() {
            let _ = writeln!(s, "\nKey entities: {}", key.join(", "));
        }
    }
    if errors.total > 0 {
        let _ = writeln!(s, "\n## Input errors ({})\n", errors.total);
        for line in errors.lines() {
            let _ = writeln!(s, "- {line}");
        }
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The markdown section on CloudTrail log file integrity (what the digest files say).
pub fn integrity_markdown(r: &IntegrityReport) -> String {
    let t = &r.totals;
    let mut s = String::from("\n## Log file integrity (CloudTrail digests)\n\n");
    let _ = writeln!(
        s,
        "{} {}: {} ok, {}, {} missing{}{}; {} in no digest.",
        plural(t.digests, "digest file lists", "digest files list"),
        plural(t.listed, "log file", "log files"),
        t.ok,
        if t.tampered > 0 {
            format!("**{} TAMPERED**", t.tampered)
        } else {
            "0 tampered".to_string()
        },
        t.missing,
        if t.unreadable > 0 {
            format!(", {} unreadable", t.unreadable)
        } else {
            String::new()
        },
        if t.unsupported > 0 {
            format!(", {} not checked (hash algorithm)", t.unsupported)
        } else {
            String::new()
        },
        plural(t.uncovered, "loaded log file is", "loaded log files are"),
    );
    let _ = writeln!(
        s,
        "Digest chain: {} verified, {}, {} previous not loaded, {} starting.",
        t.chain_ok,
        if t.chain_mismatch > 0 {
            format!("**{} previous digest altered**", t.chain_mismatch)
        } else {
            "0 altered".to_string()
        },
        t.chain_not_loaded,
        t.chain_start
    );
    let _ = writeln!(
        s,
        "\n| Digest file | Ends | OK | Tampered | Missing | Previous digest |\n|---|---|---:|---:|---:|---|"
    );
    for d in &r.digests {
        let previous = match d.previous {
            ChainStatus::Start => "starting digest",
            ChainStatus::Ok => "ok",
            ChainStatus::Mismatch => "**ALTERED**",
            ChainStatus::NotLoaded => "not loaded",
            ChainStatus::Unreadable => "unreadable",
            ChainStatus::Unsupported => "not checked",
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            escape(&d.path),
            escape(d.end_time.as_deref().unwrap_or("-")),
            d.totals.ok,
            d.totals.tampered,
            d.totals.missing,
            previous
        );
    }
    let listed = |status: FileStatus| {
        r.digests
            .iter()
            .flat_map(|d| d.files.iter())
            .filter(move |f| f.status == status)
    };
    for (status, title) in [
        (
            FileStatus::Tampered,
            "Tampered (hash differs from the digest)",
        ),
        (FileStatus::Missing, "Listed in a digest, not loaded"),
        (FileStatus::Unreadable, "Could not be hashed"),
    ] {
        let mut files = listed(status).peekable();
        if files.peek().is_none() {
            continue;
        }
        let _ = writeln!(s, "\n{title}:\n");
        for f in files {
            let _ = write!(s, "- `{}`", escape(&f.s3_object));
            if !f.paths.is_empty() {
                let paths: Vec<String> = f.paths.iter().map(|p| escape(p).into_owned()).collect();
                let _ = write!(s, " at `{}`", paths.join("`, `"));
            }
            if let Some(reason) = &f.reason {
                let _ = write!(s, ": {}", escape(reason));
            }
            let _ = writeln!(s);
        }
    }
    if !r.uncovered.is_empty() {
        let _ = writeln!(s, "\nLoaded log files in no digest:\n");
        for p in &r.uncovered {
            let _ = writeln!(s, "- `{}`", escape(p).into_owned());
        }
    }
    s
}

/// A DOT string's content: controls made visible first, then DOT's own quoting.
fn dot_escape(s: &str) -> String {
    escape(s).replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn dot(n: &Neighbourhood) -> String {
    let mut s = String::from(
        "digraph vigil {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for node in &n.nodes {
        let style = if node.id == n.center {
            ", style=bold"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  \"{}\" [label=\"{}\\n{}\"{}];",
            dot_escape(&node.id.to_string()),
            node.kind,
            dot_escape(&node.id.value),
            style
        );
    }
    for e in &n.edges {
        let _ = writeln!(
            s,
            "  \"{}\" -> \"{}\" [label=\"{} ×{}\"];",
            dot_escape(&e.from.to_string()),
            dot_escape(&e.to.to_string()),
            e.relation,
            e.count
        );
    }
    s.push_str("}\n");
    s
}

pub fn mermaid(n: &Neighbourhood) -> String {
    let mut s = String::from("graph LR\n");
    let idx: std::collections::HashMap<&EntityId, usize> = n
        .nodes
        .iter()
        .enumerate()
        .map(|(i, x)| (&x.id, i))
        .collect();
    for (i, node) in n.nodes.iter().enumerate() {
        let label = escape(&node.id.to_string()).replace('"', "#quot;");
        let _ = writeln!(s, "  n{i}[\"{label}\"]");
    }
    for e in &n.edges {
        if let (Some(a), Some(b)) = (idx.get(&e.from), idx.get(&e.to)) {
            let _ = writeln!(s, "  n{a} -->|{} x{}| n{b}", e.relation, e.count);
        }
    }
    s
}

/// The pivot as a fixed-width table with a closing count line, written row by row (a pivot of
/// 300 000 events is not built as one string).
pub fn write_pivot_table(
    res: &crate::pivot::ScanResult,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<19}  {:<26}  {:<12}  {:<44}  {:<15}  ERROR",
        "TIME", "EVENT", "SERVICE", "PRINCIPAL", "SOURCE IP"
    )?;
    for h in &res.events {
        let ev = &h.event;
        writeln!(
            out,
            "{:<19}  {:<26}  {:<12}  {:<44}  {:<15}  {}",
            ev.time.to_short(),
            Escaped(ev.name()),
            Escaped(ev.service()),
            Escaped(ev.principal().unwrap_or("-")),
            Escaped(ev.source_ip().unwrap_or("-")),
            Escaped(ev.error_code().unwrap_or(""))
        )?;
    }
    writeln!(
        out,
        "{} event(s) of {} scanned in {} file(s)",
        res.events.len(),
        res.records,
        res.files
    )
}

/// `vigil hunt --format table`: one line per detection, in time order, then a count line.
pub fn write_hunt_table(
    res: &crate::hunt::HuntResult,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<19}  {:<13}  {:>6}  {:<11}  TITLE  (BY)",
        "FIRST", "LEVEL", "EVENTS", "ATT&CK"
    )?;
    for d in &res.detections {
        let technique = d.techniques().into_iter().next().unwrap_or_default();
        writeln!(
            out,
            "{:<19}  {:<13}  {:>6}  {:<11}  {}  ({})",
            d.first.to_short(),
            Escaped(&d.level),
            d.events.len() as u64 + d.records,
            Escaped(&technique),
            Escaped(&d.title),
            Escaped(&d.group.join(", "))
        )?;
    }
    writeln!(
        out,
        "{} detection(s) in {} event(s) of {} file(s)",
        res.detections.len(),
        res.records,
        res.files
    )
}

/// `vigil hunt --format markdown`: a section per detection.
pub fn write_hunt_markdown(
    res: &crate::hunt::HuntResult,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "# Hunt\n\n{} detection(s) in {} CloudTrail event(s) of {} file(s).",
        res.detections.len(),
        res.records,
        res.files
    )?;
    for d in &res.detections {
        writeln!(
            out,
            "\n## {} — {}\n\n- Rule: `{}`",
            Escaped(&d.level),
            Escaped(&d.title),
            Escaped(&d.rule)
        )?;
        if !d.attack.is_empty() {
            let tags: Vec<String> = d
                .attack
                .iter()
                .map(|t| format!("`{}`", Escaped(t)))
                .collect();
            writeln!(out, "- ATT&CK: {}", tags.join(", "))?;
        }
        writeln!(
            out,
            "- When: {} → {}",
            d.first.to_rfc3339(),
            d.last.to_rfc3339()
        )?;
        if !d.group.is_empty() {
            writeln!(out, "- By: {}", Escaped(&d.group.join(", ")))?;
        }
        if d.records > 0 {
            writeln!(out, "- Flow-log/DNS records: {}", d.records)?;
        }
        const SHOWN: usize = 20;
        let ids: Vec<String> = d
            .events
            .iter()
            .take(SHOWN)
            .map(|e| format!("`{}`", Escaped(e)))
            .collect();
        let more = d.events.len().saturating_sub(SHOWN);
        writeln!(
            out,
            "- Events ({}): {}{}",
            d.events.len(),
            ids.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )?;
        let ents: Vec<String> = d
            .entities
            .iter()
            .map(|e| format!("`{}`", Escaped(&e.to_string())))
            .collect();
        writeln!(out, "- Entities: {}", ents.join(", "))?;
    }
    Ok(())
}

/// `vigil hunt --list-rules`: every rule that would run, with where it came from.
pub fn write_rule_list(
    set: &crate::hunt::RuleSet,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let file_of = |id: &Option<String>, title: &str| {
        set.file_of(&crate::hunt::rules::rule_key(id, title))
            .unwrap_or("")
            .to_string()
    };
    let attack = |tags: &[String]| {
        tags.iter()
            .filter(|t| t.starts_with("attack."))
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    };
    for r in &set.collection.rules {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            Escaped(r.id.as_deref().unwrap_or("-")),
            r.level.map_or("-", |l| l.as_str()),
            Escaped(&attack(&r.tags)),
            Escaped(&r.title),
            Escaped(r.author.as_deref().unwrap_or("-")),
            Escaped(&file_of(&r.id, &r.title))
        )?;
    }
    for c in &set.collection.correlations {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            Escaped(c.id.as_deref().unwrap_or("-")),
            c.level.map_or("-", |l| l.as_str()),
            Escaped(&attack(&c.tags)),
            Escaped(&c.title),
            Escaped(c.author.as_deref().unwrap_or("-")),
            Escaped(&file_of(&c.id, &c.title))
        )?;
    }
    for e in &set.errors {
        writeln!(out, "# not loaded: {}", Escaped(&e.to_string()))?;
    }
    Ok(())
}
