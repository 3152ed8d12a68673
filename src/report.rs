//! Headless outputs of the same core the screens use: the `analyze` JSON contract and markdown
//! summary, and neighbourhood exports (DOT, Mermaid, JSON).

use crate::graph::{EntityGraph, Group, Neighbourhood, groups};
use crate::ingest::errors::{ErrorSummary, KindCount};
use crate::ingest::{IngestError, Loaded};
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
}

#[derive(Serialize)]
pub struct FindingOut<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub finding_type: &'a str,
    pub severity: f64,
    pub severity_label: SeverityLabel,
    pub title: &'a str,
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

/// The `analyze --format json` document, with the first few input errors of each kind per file
/// ([`Analysis::with_errors`] to list them differently). Serialise it with
/// [`crate::model::text::to_writer_pretty`] so that no control character in the input reaches the
/// output raw.
pub fn analysis<'a>(
    loaded: &'a Loaded,
    graph: &'a EntityGraph,
    groups: &'a [Group],
) -> Analysis<'a> {
    let errors = ErrorSummary::new(&loaded.errors, false);
    Analysis {
        findings: sorted_findings(&loaded.findings)
            .into_iter()
            .map(|f| FindingOut {
                id: &f.id,
                finding_type: &f.finding_type,
                severity: f.severity,
                severity_label: f.label(),
                title: &f.title,
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
        errors: errors.shown,
        error_counts: errors.kinds,
    }
}

impl<'a> Analysis<'a> {
    /// The same document with the input errors as `errors` lists them (`--verbose`: all).
    pub fn with_errors(self, errors: ErrorSummary<'a>) -> Analysis<'a> {
        Analysis {
            errors: errors.shown,
            error_counts: errors.kinds,
            ..self
        }
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
        loaded.events.len(),
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

/// The pivot as a fixed-width table, with a closing count line.
pub fn pivot_table(res: &crate::pivot::ScanResult) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<19}  {:<26}  {:<12}  {:<44}  {:<15}  ERROR",
        "TIME", "EVENT", "SERVICE", "PRINCIPAL", "SOURCE IP"
    );
    for h in &res.events {
        let ev = &h.event;
        let _ = writeln!(
            s,
            "{:<19}  {:<26}  {:<12}  {:<44}  {:<15}  {}",
            ev.time.to_short(),
            Escaped(&ev.name),
            Escaped(ev.service_short()),
            Escaped(ev.principal.as_ref().map_or("-", |p| p.value.as_str())),
            Escaped(ev.source_ip.as_deref().unwrap_or("-")),
            Escaped(ev.error_code.as_deref().unwrap_or(""))
        );
    }
    let _ = writeln!(
        s,
        "{} event(s) of {} scanned in {} file(s)",
        res.events.len(),
        res.records,
        res.files
    );
    s
}
