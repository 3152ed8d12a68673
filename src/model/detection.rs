//! A detection: what a hunting rule found in CloudTrail — the rule, its ATT&CK tags, the events
//! it covers and the entities they name. `vigil hunt` prints one per line.

use super::finding::{Finding, FindingAction, Subject};
use super::origin::{Origin, content_hash};
use super::{EntityId, EntityKind, Ts};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The type prefix of a detection shown among findings (`Hunt:defense-evasion/T1562.001`): the
/// findings list marks and filters them by it, and the detail screen reads the tactic from it.
pub const HUNT_TYPE_PREFIX: &str = "Hunt:";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    /// The rule's `id` (its title when it has none).
    pub rule: String,
    pub title: String,
    /// Sigma's level: informational, low, medium, high, critical.
    pub level: String,
    /// The rule's ATT&CK tags as written (`attack.t1562.001`, `attack.defense-evasion`).
    pub attack: Vec<String>,
    /// The CloudTrail `eventID`s the detection covers, in time order.
    pub events: Vec<String>,
    /// Every entity those events name, sorted.
    pub entities: Vec<EntityId>,
    pub first: Ts,
    pub last: Ts,
    /// For a threshold or sequence rule: what the events were grouped by (`field=value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<String>,
    /// Flow-log records and DNS queries covered (they have no event id): a threat list's
    /// detections over network logs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub records: u64,
    /// The regions (`awsRegion`) of its CloudTrail events, sorted: where a response acts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Detection {
    /// The technique ids among the tags (`T1562.001`), for display.
    pub fn techniques(&self) -> Vec<String> {
        self.attack
            .iter()
            .filter_map(|t| t.strip_prefix("attack."))
            .filter(|t| t.starts_with('t') && t[1..].starts_with(|c: char| c.is_ascii_digit()))
            .map(|t| t.to_ascii_uppercase())
            .collect()
    }

    /// The detection as a finding of its own kind, for the console's findings list: type
    /// `Hunt:<tactic>/<technique>`, severity from the rule's level on GuardDuty's scale, ATT&CK and the
    /// rule in the description, the detection's JSON as its raw record.
    pub fn to_finding(&self) -> Finding {
        let key = format!(
            "{}|{}|{}",
            self.rule,
            self.group.join(","),
            self.first.millis()
        );
        let technique = self.techniques().into_iter().next();
        let severity = match self.level.as_str() {
            "critical" => 9.0,
            "high" => 7.5,
            "medium" => 5.0,
            "low" => 2.0,
            _ => 1.0,
        };
        let tactics = self.tactics().join(", ");
        let description = format!(
            "Rule {} ({}): {}{}. ATT&CK tactics: {}; techniques: {}.",
            self.rule,
            self.level,
            if self.records > 0 {
                format!("{} flow-log/DNS record(s)", self.records)
            } else {
                format!("{} event(s)", self.events.len())
            },
            if self.group.is_empty() {
                String::new()
            } else {
                format!(" by {}", self.group.join(", "))
            },
            if tactics.is_empty() { "-" } else { &tactics },
            if self.techniques().is_empty() {
                "-".to_string()
            } else {
                self.techniques().join(", ")
            },
        );
        // The actor: a session (what acted), else a user, else a role.
        let principal = [EntityKind::Session, EntityKind::User, EntityKind::Role]
            .iter()
            .find_map(|k| self.entities.iter().find(|e| e.kind == *k));
        // What the detection is about when no principal acted (network logs): the instance,
        // else the listed indicator.
        let listed = self.group.iter().find_map(|g| {
            g.strip_prefix("ip=")
                .or_else(|| g.strip_prefix("domain="))
                .or_else(|| g.strip_prefix("answer="))
        });
        let subject = principal
            .or_else(|| {
                self.entities
                    .iter()
                    .find(|e| e.kind == EntityKind::Instance)
            })
            .map(|e| e.value.to_string())
            .or_else(|| listed.map(str::to_string));
        // The listed address first: it is the actor the detail screen names.
        let mut remotes: Vec<EntityId> = self
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Ip)
            .cloned()
            .collect();
        remotes.sort_by_key(|e| Some(e.value.as_str()) != listed);
        Finding {
            id: format!("vigil-hunt-{:016x}", content_hash(key.as_bytes())),
            finding_type: match (self.tactics().first(), self.rule.split_once(':')) {
                // Not a Sigma rule (a threat list, an Insights event): its kind and name.
                (None, Some((kind, name))) if technique.is_none() => {
                    format!("{HUNT_TYPE_PREFIX}{kind}/{name}")
                }
                (tactic, _) => format!(
                    "{HUNT_TYPE_PREFIX}{}/{}",
                    tactic.copied().unwrap_or("-"),
                    technique.as_deref().unwrap_or("-")
                ),
            },
            severity,
            title: self.title.clone(),
            description,
            account_id: self
                .entities
                .iter()
                .find(|e| e.kind == EntityKind::Account)
                .map(|e| e.value.to_string()),
            // One region is where its resources are; several, no single place to act in.
            region: match &self.regions[..] {
                [one] => Some(one.clone()),
                _ => None,
            },
            created_at: Some(self.first),
            updated_at: Some(self.last),
            first_seen: Some(self.first),
            last_seen: Some(self.last),
            count: self.events.len() as u64 + self.records,
            archived: false,
            sample: false,
            resource_role: None,
            resource_type: Some(if self.records > 0 && self.events.is_empty() {
                "flow/DNS logs".into()
            } else {
                "CloudTrail".into()
            }),
            resource: subject.unwrap_or_else(|| "-".to_string()),
            action: FindingAction::default(),
            // The listed indicator first: a finding without an instance or principal is about
            // it (its primary entity, what an action key acts on), never the local address.
            entities: {
                let mut e = self.entities.clone();
                e.sort_by_key(|e| Some(e.value.as_str()) != listed);
                e
            },
            subject: Subject {
                principal: principal.cloned(),
                key: self
                    .entities
                    .iter()
                    .find(|e| e.kind == EntityKind::Key)
                    .cloned(),
                remotes,
                ..Subject::default()
            },
            raw: Arc::from(serde_json::to_string_pretty(self).unwrap_or_default()),
            origin: Origin {
                path: Arc::new(std::path::PathBuf::from(format!("(hunt) {}", self.rule))),
                line: 0,
                index: None,
            },
        }
    }

    /// The tactics among the tags (`defense-evasion`).
    pub fn tactics(&self) -> Vec<&str> {
        self.attack
            .iter()
            .filter_map(|t| t.strip_prefix("attack."))
            .filter(|t| {
                !(t.starts_with(['t', 'g', 's'])
                    && t[1..].starts_with(|c: char| c.is_ascii_digit()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_into_tactics_and_techniques() {
        let d = Detection {
            rule: "r".into(),
            title: "t".into(),
            level: "high".into(),
            attack: vec![
                "attack.defense-evasion".into(),
                "attack.t1562.001".into(),
                "attack.g0016".into(),
                "detection.threat-hunting".into(),
            ],
            events: vec![],
            entities: vec![],
            first: Ts(0),
            last: Ts(0),
            group: vec![],
            records: 0,
            regions: Vec::new(),
        };
        assert_eq!(d.techniques(), vec!["T1562.001"]);
        assert_eq!(d.tactics(), vec!["defense-evasion"]);
        let f = d.to_finding();
        assert_eq!(f.finding_type, "Hunt:defense-evasion/T1562.001");
        assert_eq!(f.tactic(), "Defense Evasion");
        assert_eq!(f.severity, 7.5);
        let intel = Detection {
            rule: "intel:feed".into(),
            attack: vec![],
            ..d
        };
        assert_eq!(intel.to_finding().finding_type, "Hunt:intel/feed");
    }
}
