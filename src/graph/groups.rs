//! Finding groups: connected components over findings that share an entity of a linking kind
//! (ip, domain, instance, role, session, user, key, bucket, sso-user, idp-user). Accounts, user
//! agents and AWS services never link, and neither do private, loopback or link-local addresses
//! (two VPCs reuse 10.0.0.5).

use crate::model::entity::{is_non_routable, parse_ip};
use crate::model::{EntityId, EntityKind, Finding};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    /// `G-` and the first 8 characters of the group's smallest finding id: stable as findings
    /// arrive, unlike a running number.
    pub id: String,
    pub severity: f64,
    pub findings: Vec<String>,
    pub entities: Vec<EntityId>,
}

/// Whether an entity may link two findings into one group.
pub fn links(e: &EntityId) -> bool {
    if !e.kind.links_findings() {
        return false;
    }
    if e.kind == EntityKind::Ip {
        return parse_ip(&e.value).is_some_and(|ip| !is_non_routable(&ip));
    }
    true
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Groups sorted by severity (highest first), then size, then id.
pub fn compute(findings: &[Finding]) -> Vec<Group> {
    let mut parent: Vec<usize> = (0..findings.len()).collect();
    let mut owner: HashMap<&EntityId, usize> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        for e in f.entities.iter().filter(|e| links(e)) {
            match owner.get(e) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    if a != b {
                        parent[a.max(b)] = a.min(b);
                    }
                }
                None => {
                    owner.insert(e, i);
                }
            }
        }
    }
    let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..findings.len() {
        let r = find(&mut parent, i);
        members.entry(r).or_default().push(i);
    }
    let mut groups: Vec<Group> = members
        .into_values()
        .map(|idx| {
            let mut ids: Vec<String> = idx.iter().map(|i| findings[*i].id.clone()).collect();
            ids.sort();
            ids.dedup();
            let mut entities: Vec<EntityId> = idx
                .iter()
                .flat_map(|i| findings[*i].entities.iter().cloned())
                .collect();
            entities.sort();
            entities.dedup();
            let severity = idx
                .iter()
                .map(|i| findings[*i].severity)
                .fold(f64::MIN, f64::max);
            // An ARN id (Security Hub's) is told apart by its last part, not `arn:aws:`.
            let tail = ids[0]
                .rsplit(['/', ':'])
                .find(|s| !s.is_empty())
                .unwrap_or(&ids[0]);
            let id = format!("G-{}", tail.chars().take(8).collect::<String>());
            Group {
                id,
                severity,
                findings: ids,
                entities,
            }
        })
        .collect();
    // Two groups whose smallest ids share 8 characters would collide: give those the whole id.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for g in &groups {
        *seen.entry(g.id.clone()).or_default() += 1;
    }
    for g in &mut groups {
        if seen[&g.id] > 1 {
            g.id = format!("G-{}", g.findings[0]);
        }
    }
    groups.sort_by(|a, b| {
        b.severity
            .total_cmp(&a.severity)
            .then(b.findings.len().cmp(&a.findings.len()))
            .then(a.id.cmp(&b.id))
    });
    groups
}

/// Finding id → index of its group in `groups`.
pub fn index(groups: &[Group]) -> HashMap<&str, usize> {
    groups
        .iter()
        .enumerate()
        .flat_map(|(g, grp)| grp.findings.iter().map(move |f| (f.as_str(), g)))
        .collect()
}
