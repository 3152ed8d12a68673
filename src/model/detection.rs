//! A detection: what a hunting rule found in CloudTrail — the rule, its ATT&CK tags, the events
//! it covers and the entities they name. `vigil hunt` prints one per line.

use super::{EntityId, Ts};
use serde::{Deserialize, Serialize};

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
        };
        assert_eq!(d.techniques(), vec!["T1562.001"]);
        assert_eq!(d.tactics(), vec!["defense-evasion"]);
    }
}
