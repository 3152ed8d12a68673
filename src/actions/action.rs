//! The action: what an operator can do to an account ([`Action`], closed), how quarantine treats an
//! auto-scaling group ([`AsgMode`]), and what the operator types to confirm it ([`Confirm`]).

use serde::Serialize;

/// What quarantine does about an instance's auto-scaling group. A contained instance fails its
/// health checks, and the group then terminates it (termination protection does not stop Auto
/// Scaling): the evidence goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AsgMode {
    /// `EnterStandby`: stays in the group, out of service and out of the load balancer; release
    /// puts it back (`ExitStandby`).
    #[default]
    Standby,
    /// `DetachInstances`: leaves the group for good.
    Detach,
    /// Do nothing about the group (the plan warns).
    Leave,
}

/// A WAF IP set by name and scope (REGIONAL, or CLOUDFRONT in us-east-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WafSet {
    pub name: String,
    pub scope: String,
}

/// Everything vigil can do to an account. Closed: adding an action means adding a planner arm, a
/// confirmation rule and an entry in the responder IAM policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    Quarantine {
        instance: String,
    },
    Release {
        instance: String,
        /// Also turn termination protection off (default: leave it on).
        unprotect: bool,
    },
    Snapshot {
        instance: String,
        finding: Option<String>,
    },
    Notify {
        finding: String,
    },
    DisableKey {
        key: String,
    },
    RevokeSessions {
        role: String,
    },
    /// Answer NXDOMAIN for the domain and its subdomains to every resolver query from the VPC
    /// (given, or the instance's).
    BlockDomain {
        domain: String,
        vpc: Option<String>,
        instance: Option<String>,
    },
    Playbook {
        name: String,
        steps: Vec<Action>,
    },
    /// Move the finding to GuardDuty's archive (in the responder's region).
    Archive {
        finding: String,
    },
    /// Deny all traffic to and from these addresses (or CIDR blocks) in the network ACL of a
    /// subnet (given, or the instance's): stateless, so it also cuts tracked connections.
    /// And/or add them to a WAF IP set (`waf`), which the team's web ACL blocks.
    BlockIp {
        ips: Vec<String>,
        subnet: Option<String>,
        instance: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waf: Option<WafSet>,
    },
    /// Remove the deny entries block-ip added for these addresses (and take them out of the
    /// WAF IP set).
    UnblockIp {
        ips: Vec<String>,
        subnet: Option<String>,
        instance: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        waf: Option<WafSet>,
    },
    /// Let the forensics account create volumes from the case's snapshots of the instance
    /// (createVolumePermission). An encrypted snapshot is first copied under `kms_key` (a key
    /// the forensics account may use), and the copy shared.
    ShareSnapshots {
        instance: String,
        account: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kms_key: Option<String>,
    },
    /// Gather the instance's volatile artefacts with SSM Run Command, the output written to the
    /// evidence store (`s3://BUCKET/PREFIX`), never through the terminal.
    Collect {
        instance: String,
        evidence: Option<String>,
        /// The team's memory capture command (a playbook setting, `--memory-command`), run after
        /// the volatile artefacts with `$VIGIL_S3` set to the output folder; vigil ships none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory: Option<String>,
    },
    /// Take the instance profile off the instance, so its role's credentials stop being renewed
    /// there (recorded on the instance for release).
    DetachProfile {
        instance: String,
    },
    /// Put artefacts in the evidence store (`s3://BUCKET/PREFIX`, under the case's folder) and
    /// add a manifest record of them: key, SHA-256, size, instance, command, who, when, retention.
    StoreEvidence {
        store: String,
        label: String,
        artefacts: Vec<super::evidence::Artefact>,
    },
}

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Quarantine { .. } => "quarantine",
            Action::Release { .. } => "release",
            Action::Snapshot { .. } => "snapshot",
            Action::Notify { .. } => "notify",
            Action::DisableKey { .. } => "disable-key",
            Action::RevokeSessions { .. } => "revoke-sessions",
            Action::BlockDomain { .. } => "block-domain",
            Action::Playbook { .. } => "playbook",
            Action::Archive { .. } => "archive",
            Action::DetachProfile { .. } => "detach-profile",
            Action::BlockIp { .. } => "block-ip",
            Action::Collect { .. } => "collect",
            Action::ShareSnapshots { .. } => "share-snapshots",
            Action::UnblockIp { .. } => "unblock-ip",
            Action::StoreEvidence { .. } => "store-evidence",
        }
    }

    /// The resource the action is aimed at.
    pub fn target(&self) -> String {
        match self {
            Action::Quarantine { instance }
            | Action::Release { instance, .. }
            | Action::Snapshot { instance, .. }
            | Action::DetachProfile { instance }
            | Action::Collect { instance, .. }
            | Action::ShareSnapshots { instance, .. } => instance.clone(),
            Action::Notify { finding } | Action::Archive { finding } => finding.clone(),
            Action::DisableKey { key } => key.clone(),
            Action::RevokeSessions { role } => role.clone(),
            Action::BlockDomain { domain, .. } => domain.clone(),
            Action::BlockIp { ips, .. } | Action::UnblockIp { ips, .. } => ips.join(","),
            Action::Playbook { steps, .. } => steps.first().map(Action::target).unwrap_or_default(),
            Action::StoreEvidence { store, .. } => store.clone(),
        }
    }

    /// Destructive actions cut off access or change what runs; they need the id typed.
    pub fn is_destructive(&self) -> bool {
        match self {
            Action::Quarantine { .. }
            | Action::Release { .. }
            | Action::DisableKey { .. }
            | Action::RevokeSessions { .. }
            | Action::BlockDomain { .. }
            | Action::DetachProfile { .. }
            | Action::BlockIp { .. }
            | Action::UnblockIp { .. }
            | Action::ShareSnapshots { .. } => true,
            Action::Snapshot { .. }
            | Action::Notify { .. }
            | Action::Archive { .. }
            | Action::Collect { .. }
            | Action::StoreEvidence { .. } => false,
            Action::Playbook { steps, .. } => steps.iter().any(Action::is_destructive),
        }
    }
}

/// What the operator must type to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Confirm {
    /// The resource id, or its last four characters.
    TypeId { id: String },
    /// `y`.
    Yes,
}

impl Confirm {
    pub fn prompt(&self) -> String {
        match self {
            Confirm::TypeId { id } => format!(
                "type {id} (or its last 4 characters, {}) to go ahead: ",
                last4(id)
            ),
            Confirm::Yes => "go ahead? [y/N] ".to_string(),
        }
    }

    pub fn accepts(&self, input: &str) -> bool {
        let input = input.trim();
        match self {
            Confirm::TypeId { id } => !input.is_empty() && (input == id || input == last4(id)),
            Confirm::Yes => input.eq_ignore_ascii_case("y") || input.eq_ignore_ascii_case("yes"),
        }
    }
}

fn last4(id: &str) -> &str {
    let n = id.chars().count();
    match id.char_indices().nth(n.saturating_sub(4)) {
        Some((i, _)) => &id[i..],
        None => id,
    }
}
