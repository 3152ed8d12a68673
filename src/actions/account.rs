//! What a responder can show of the account it acts on, for the console's world screen: the
//! instances with their ENIs' groups, snapshots, messages sent and credentials contained. The demo
//! responder fills it from the scenario world after every action, so a trainee sees the effect of
//! each call; the AWS responder has none (the AWS console shows the account).

use crate::model::Ts;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AccountView {
    /// "demo world log4shell-c2".
    pub label: String,
    pub account: String,
    pub region: String,
    pub instances: Vec<InstanceView>,
    pub snapshots: Vec<SnapshotView>,
    /// Notifications sent, oldest first.
    pub outbox: Vec<MessageView>,
    /// Access keys and roles, with what was done to them.
    pub credentials: Vec<CredentialView>,
    /// Names on vigil's DNS Firewall block list, with the VPCs whose queries it blocks.
    pub blocked: Vec<(String, Vec<String>)>,
    /// Deny entries block-ip added to network ACLs: (ACL, rule, outbound, CIDR block).
    #[serde(default)]
    pub acl_denies: Vec<(String, i32, bool, String)>,
    /// Collect runs: instance, where the output went, what it found.
    #[serde(default)]
    pub collections: Vec<(String, String, Vec<String>)>,
    /// WAF IP sets: name (scope) and the blocks they hold.
    #[serde(default)]
    pub waf_sets: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InstanceView {
    pub instance_id: String,
    pub name: Option<String>,
    pub state: String,
    /// Auto-scaling group and the instance's lifecycle state in it.
    pub asg: Option<(String, String)>,
    pub termination_protection: bool,
    /// The `vigil:status` and `vigil:case` tags.
    pub status: Option<String>,
    pub case: Option<String>,
    /// The instance profile vigil took off (detach-profile), until release gives it back.
    #[serde(default)]
    pub detached_profile: Option<String>,
    pub enis: Vec<EniView>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct EniView {
    pub eni_id: String,
    pub device_index: i32,
    /// Group names (ids when a group has no name).
    pub groups: Vec<String>,
    /// Isolated (only the contain group) since this scenario time; `Some(None)`: since the start.
    pub isolated: Option<Option<Ts>>,
    /// Flow-log lines of this ENI that the isolation turned to REJECT.
    pub rejected_lines: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SnapshotView {
    pub snapshot_id: String,
    pub volume_id: String,
    pub instance_id: Option<String>,
    pub state: super::state::SnapshotState,
    pub percent: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MessageView {
    pub message_id: String,
    /// A topic ARN, or a webhook's host.
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CredentialView {
    /// `key AKIA… (user alice)` or `role web-role`.
    pub what: String,
    /// `Active`, `Inactive`, `sessions revoked (AWSRevokeOlderSessions)`.
    pub state: String,
    /// Changed by this session.
    pub changed: bool,
}
