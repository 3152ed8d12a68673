//! The account as vigil reads it before planning: an instance with its ENIs and groups, a security
//! group, the caller, a key, vigil's DNS Firewall objects, a snapshot's progress.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The captured state of an instance, read before acting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InstanceState {
    pub instance_id: String,
    pub state: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub tags: BTreeMap<String, String>,
    pub instance_profile_arn: Option<String>,
    /// The association of that profile with the instance (what DisassociateIamInstanceProfile
    /// names).
    #[serde(default)]
    pub profile_association: Option<String>,
    pub role_arn: Option<String>,
    pub asg: Option<String>,
    /// The instance's lifecycle state in its group (`InService`, `Standby`, ...).
    pub asg_lifecycle: Option<String>,
    /// The group's (min, desired, max) capacity.
    pub asg_capacity: Option<(i32, i32, i32)>,
    pub termination_protection: bool,
    pub enis: Vec<EniState>,
    pub volumes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EniState {
    pub eni_id: String,
    pub device_index: i32,
    pub subnet_id: String,
    pub vpc_id: String,
    pub groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// A security group as vigil needs to see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct GroupState {
    pub group_id: String,
    pub group_name: String,
    pub ingress_rules: usize,
    pub egress_rules: usize,
}

/// A subnet's network ACL as vigil needs to see it: its entries, and what else it covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NetworkAclState {
    pub acl_id: String,
    pub vpc_id: String,
    pub is_default: bool,
    pub entries: Vec<AclEntry>,
    /// The subnets associated with the ACL.
    pub subnets: Vec<String>,
    /// The instances in those subnets.
    pub instances: Vec<String>,
}

/// A snapshot vigil took for a case (tagged with the case and the instance).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CaseSnapshot {
    /// Its `vigil:case` tag.
    pub case: String,
    pub snapshot_id: String,
    pub volume_id: String,
    pub state: SnapshotState,
    pub encrypted: bool,
    pub kms_key_id: Option<String>,
    /// Its `vigil:copy-of` tag: the snapshot this is vigil's copy of (under the forensics key).
    #[serde(default)]
    pub copy_of: Option<String>,
}

/// A bucket's Object Lock configuration (GetObjectLockConfiguration): whether it is on, and its
/// default retention rule if it has one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ObjectLockState {
    pub enabled: bool,
    /// GOVERNANCE or COMPLIANCE.
    pub mode: Option<String>,
    pub days: Option<i32>,
    pub years: Option<i32>,
}

/// An object in the evidence store, read back and hashed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Whether a Run Command invocation's `Status` (GetCommandInvocation) is an end state: one
/// that does not change again.
pub fn command_ended(status: &str) -> bool {
    matches!(
        status,
        "Success"
            | "Failed"
            | "Cancelled"
            | "TimedOut"
            | "DeliveryTimedOut"
            | "ExecutionTimedOut"
            | "Undeliverable"
            | "Terminated"
    )
}

/// An instance's SSM agent as Systems Manager sees it (DescribeInstanceInformation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SsmAgent {
    /// Online, ConnectionLost, Inactive.
    pub ping_status: String,
    /// Linux, Windows, MacOS.
    pub platform_type: String,
}

/// A WAF IP set as vigil needs to see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WafIpSetState {
    pub name: String,
    pub id: String,
    /// REGIONAL or CLOUDFRONT.
    pub scope: String,
    /// IPV4 or IPV6: a set holds one family.
    pub version: String,
    /// CIDR blocks.
    pub addresses: Vec<String>,
    pub lock_token: String,
}

/// One network ACL entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AclEntry {
    pub rule_number: i32,
    pub egress: bool,
    /// IPv4 or IPv6 CIDR block.
    pub cidr: String,
    /// `-1` (all) or a protocol number.
    pub protocol: String,
    pub allow: bool,
}

/// Who is acting (STS GetCallerIdentity).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// vigil's DNS Firewall objects as they are, seen from one VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DnsFirewallState {
    /// `vigil-blocklist`: its id and domains.
    pub domain_list: Option<(String, Vec<String>)>,
    /// `vigil-block`: its id.
    pub rule_group: Option<String>,
    /// The rule group has a BLOCK rule on the domain list.
    pub block_rule: bool,
    /// The rule group is associated with the VPC.
    pub associated: bool,
}

/// A long-term access key and its user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyState {
    pub access_key_id: String,
    pub user_name: String,
    pub status: String,
}

/// A snapshot's state, as EC2 names it (`pending`, `completed`, `error`, `recoverable`,
/// `recovering`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotState {
    #[default]
    Pending,
    Completed,
    Error,
    Recoverable,
    Recovering,
}

impl SnapshotState {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotState::Pending => "pending",
            SnapshotState::Completed => "completed",
            SnapshotState::Error => "error",
            SnapshotState::Recoverable => "recoverable",
            SnapshotState::Recovering => "recovering",
        }
    }
}

/// A word that is not one of EC2's snapshot states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a snapshot state (pending, completed, error, recoverable, recovering)")]
pub struct UnknownSnapshotState(String);

impl std::str::FromStr for SnapshotState {
    type Err = UnknownSnapshotState;
    /// From EC2's name for the state (`"completed"`).
    fn from_str(s: &str) -> Result<SnapshotState, UnknownSnapshotState> {
        [
            SnapshotState::Pending,
            SnapshotState::Completed,
            SnapshotState::Error,
            SnapshotState::Recoverable,
            SnapshotState::Recovering,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| UnknownSnapshotState(s.to_string()))
    }
}

impl std::fmt::Display for SnapshotState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so a width in the format string (`{:<9}`) applies as it did to the string.
        f.pad(self.as_str())
    }
}

/// Compared with EC2's own name for the state (`"completed"`), as the screens and tests do.
impl PartialEq<&str> for SnapshotState {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A snapshot's progress (DescribeSnapshots).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotProgress {
    pub snapshot_id: String,
    pub volume_id: String,
    pub state: SnapshotState,
    /// 0..=100.
    pub percent: u8,
}

impl SnapshotProgress {
    /// Finished, one way or the other: polling can stop.
    pub fn is_final(&self) -> bool {
        self.state != SnapshotState::Pending
    }
}
