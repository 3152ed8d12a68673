//! Playbooks: a named sequence of actions for an instance finding, as data (TOML), run as one plan
//! with one confirmation.

use super::Action;
use serde::Deserialize;

/// The bundled playbook: notify → snapshot → quarantine.
pub const DEFAULT: &str = include_str!("../../playbooks/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("playbook {name}: {reason}")]
    Invalid { name: String, reason: String },
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Action names in order: notify, snapshot, quarantine (the instance-finding actions).
    pub steps: Vec<String>,
}

impl Playbook {
    pub fn parse(origin: &str, text: &str) -> Result<Playbook, PlaybookError> {
        let pb: Playbook = toml::from_str(text).map_err(|e| PlaybookError::Invalid {
            name: origin.to_string(),
            reason: e.to_string(),
        })?;
        if pb.steps.is_empty() {
            return Err(PlaybookError::Invalid {
                name: origin.to_string(),
                reason: "no steps".to_string(),
            });
        }
        for s in &pb.steps {
            if !matches!(s.as_str(), "notify" | "snapshot" | "quarantine") {
                return Err(PlaybookError::Invalid {
                    name: origin.to_string(),
                    reason: format!(
                        "unknown step `{s}` (a playbook step is notify, snapshot or quarantine)"
                    ),
                });
            }
        }
        Ok(pb)
    }

    pub fn default_playbook() -> Result<Playbook, PlaybookError> {
        Playbook::parse("playbooks/default.toml", DEFAULT)
    }

    /// The playbook as one action for this instance and finding.
    pub fn action(&self, instance: &str, finding: Option<&str>) -> Action {
        let steps = self
            .steps
            .iter()
            .filter_map(|s| match s.as_str() {
                "notify" => finding.map(|f| Action::Notify {
                    finding: f.to_string(),
                }),
                "snapshot" => Some(Action::Snapshot {
                    instance: instance.to_string(),
                    finding: finding.map(str::to_string),
                }),
                "quarantine" => Some(Action::Quarantine {
                    instance: instance.to_string(),
                }),
                _ => None,
            })
            .collect();
        Action::Playbook {
            name: self.name.clone(),
            steps,
        }
    }
}
