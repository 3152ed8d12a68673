//! Playbooks: a named sequence of actions for an instance finding, as data (TOML), run as one plan
//! with one confirmation.

use super::action::Action;
use serde::Deserialize;

/// The bundled playbook: notify → collect → snapshot → quarantine.
pub const DEFAULT: &str = include_str!("../../playbooks/default.toml");

#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("playbook {name}: {reason}")]
    Invalid { name: String, reason: String },
}

/// One step of a playbook: an instance-finding action. Read from the file's word (`"notify"`);
/// any other word is refused with the list of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum PlaybookStep {
    Notify,
    Collect,
    Snapshot,
    Quarantine,
}

impl PlaybookStep {
    pub fn as_str(self) -> &'static str {
        match self {
            PlaybookStep::Notify => "notify",
            PlaybookStep::Collect => "collect",
            PlaybookStep::Snapshot => "snapshot",
            PlaybookStep::Quarantine => "quarantine",
        }
    }
}

impl TryFrom<String> for PlaybookStep {
    type Error = String;
    fn try_from(s: String) -> Result<PlaybookStep, String> {
        match s.as_str() {
            "notify" => Ok(PlaybookStep::Notify),
            "collect" => Ok(PlaybookStep::Collect),
            "snapshot" => Ok(PlaybookStep::Snapshot),
            "quarantine" => Ok(PlaybookStep::Quarantine),
            _ => Err(format!(
                "unknown step `{s}` (a playbook step is notify, collect, snapshot or quarantine)"
            )),
        }
    }
}

impl std::fmt::Display for PlaybookStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Compared with the word in the file (`"notify"`).
impl PartialEq<&str> for PlaybookStep {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The actions in order.
    pub steps: Vec<PlaybookStep>,
    /// The team's memory capture command, run by collect after the volatile artefacts (with
    /// `$VIGIL_S3` set to collect's output folder); none by default: vigil ships no capture tool.
    #[serde(default)]
    pub memory_command: Option<String>,
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
        Ok(pb)
    }

    pub fn default_playbook() -> Result<Playbook, PlaybookError> {
        Playbook::parse("playbooks/default.toml", DEFAULT)
    }

    /// The playbook as one action for this instance and finding; `evidence` is where collect
    /// writes (without one, the plan skips collect and says so).
    pub fn action(&self, instance: &str, finding: Option<&str>, evidence: Option<&str>) -> Action {
        let steps = self
            .steps
            .iter()
            .filter_map(|s| match s {
                PlaybookStep::Notify => finding.map(|f| Action::Notify {
                    finding: f.to_string(),
                }),
                PlaybookStep::Collect => Some(Action::Collect {
                    instance: instance.to_string(),
                    evidence: evidence.map(str::to_string),
                    memory: self.memory_command.clone(),
                }),
                PlaybookStep::Snapshot => Some(Action::Snapshot {
                    instance: instance.to_string(),
                    finding: finding.map(str::to_string),
                }),
                PlaybookStep::Quarantine => Some(Action::Quarantine {
                    instance: instance.to_string(),
                }),
            })
            .collect();
        Action::Playbook {
            name: self.name.clone(),
            steps,
        }
    }
}
