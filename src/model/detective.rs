//! Amazon Detective as the console shows it: a behaviour graph's investigations of an IAM user or
//! role, and the indicators of compromise one found, each with the entity it points at (an
//! address, a user agent, a finding) so the responder can pivot on it.

use super::{EntityId, EntityKind, Ts};
use serde::{Deserialize, Serialize};

/// One investigation (`InvestigationDetail` / `GetInvestigation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Investigation {
    pub id: String,
    pub entity_arn: String,
    /// RUNNING, FAILED or SUCCESSFUL.
    pub status: String,
    /// INFORMATIONAL … CRITICAL, once known.
    pub severity: String,
    /// ACTIVE or ARCHIVED.
    pub state: String,
    pub created: Option<Ts>,
}

impl Investigation {
    pub fn running(&self) -> bool {
        self.status == "RUNNING"
    }
}

/// One indicator: its type (`TTP_OBSERVED`, `IMPOSSIBLE_TRAVEL`, `FLAGGED_IP_ADDRESS`,
/// `NEW_GEOLOCATION`, `NEW_ASO`, `NEW_USER_AGENT`, `RELATED_FINDING`, `RELATED_FINDING_GROUP`),
/// what it says, and the entity to pivot to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub kind: String,
    pub detail: String,
    pub pivot: Option<EntityId>,
}

/// What Detective knows of one entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectiveReport {
    /// The behaviour graph's ARN; `None` when the region has none (Detective is not enabled).
    pub graph: Option<String>,
    /// Newest first.
    pub investigations: Vec<Investigation>,
    /// The investigation whose indicators are listed.
    pub shown: Option<String>,
    pub indicators: Vec<Indicator>,
}

/// The ARN Detective investigates for `e` (an IAM user or role; a role session's role), or why
/// it cannot.
pub fn investigation_target(e: &EntityId) -> Result<String, &'static str> {
    match e.kind {
        EntityKind::Role | EntityKind::User if !e.value.ends_with(":root") => {
            Ok(e.value.to_string())
        }
        // arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION → arn:PARTITION:iam::ACCOUNT:role/ROLE
        EntityKind::Session => {
            let mut parts = e.value.splitn(6, ':');
            let (Some("arn"), Some(partition), Some(_), Some(_), Some(account), Some(res)) = (
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
                parts.next(),
            ) else {
                return Err("Detective investigates IAM users and roles: this session names none");
            };
            match res
                .strip_prefix("assumed-role/")
                .and_then(|r| r.split('/').next())
            {
                Some(role) if !role.is_empty() => {
                    Ok(format!("arn:{partition}:iam::{account}:role/{role}"))
                }
                _ => Err("Detective investigates IAM users and roles: this session names none"),
            }
        }
        _ => Err(
            "Detective investigates IAM users and roles: pivot to the role or user (the graph links them)",
        ),
    }
}

/// The finding id of a GuardDuty finding ARN (`…:detector/D/finding/ID`).
pub fn finding_of_arn(arn: &str) -> Option<EntityId> {
    arn.rsplit_once("/finding/")
        .map(|(_, id)| EntityId::new(EntityKind::Finding, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_users_and_sessions_are_investigated() {
        let t = |k, v: &str| investigation_target(&EntityId::new(k, v));
        assert_eq!(
            t(EntityKind::Role, "arn:aws:iam::123456789012:role/ops/Web"),
            Ok("arn:aws:iam::123456789012:role/ops/Web".into())
        );
        assert_eq!(
            t(
                EntityKind::Session,
                "arn:aws:sts::123456789012:assumed-role/Web/i-0abc"
            ),
            Ok("arn:aws:iam::123456789012:role/Web".into())
        );
        assert!(t(EntityKind::User, "arn:aws:iam::123456789012:root").is_err());
        assert!(t(EntityKind::Ip, "203.0.113.7").is_err());
        assert_eq!(
            finding_of_arn("arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f9"),
            Some(EntityId::new(EntityKind::Finding, "f9"))
        );
    }
}
