//! What planning starts from: the [`Facts`] read from the account, the [`PlanContext`] (case,
//! time, where notifications go, ...), and the ways planning can refuse ([`PlanError`]).

use crate::actions::action::AsgMode;
use crate::actions::answer::CallError;
use crate::actions::state::{
    DnsFirewallState, GroupState, Identity, InstanceState, KeyState, NetworkAclState,
};
use crate::model::Ts;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("reading the account failed: {0}")]
    Read(#[from] CallError),
    #[error("no instance {0} in the account (check the id and the region)")]
    NoInstance(String),
    #[error(
        "{0} is a temporary (ASIA…) key: UpdateAccessKey cannot disable it; revoke the sessions of its role instead (vigil act revoke-sessions ROLE)"
    )]
    TemporaryKey(String),
    #[error("no access key {0} in the account")]
    NoKey(String),
    #[error(
        "notify needs a topic or a webhook: give --topic-arn ARN (or set VIGIL_TOPIC_ARN), or --webhook URL (or VIGIL_WEBHOOK_URL)"
    )]
    NoTopic,
    #[error("GuardDuty has no detector in the responder's region: nothing to archive in")]
    NoDetector,
    #[error("instance {0} is {1}: there is nothing to act on")]
    Gone(String, String),
    #[error(
        "block-domain needs the VPC whose resolver queries to block: give --vpc VPC_ID, or --instance ID (its VPC)"
    )]
    NoVpc,
    #[error("`{0}` is not a domain name")]
    BadDomain(String),
    #[error("`{0}` is not an IP address or CIDR block")]
    BadIp(String),
    #[error(
        "{0} is wider than a /{1}: a deny for it would cut the subnet off; block narrower ranges"
    )]
    TooWide(String, u8),
    #[error(
        "block-ip needs where to block: --subnet SUBNET_ID or --instance ID (the subnet's network ACL), and/or --waf-ip-set NAME"
    )]
    NoSubnet,
    #[error(
        "network ACL {0} has no free rule number below its first allow rule ({1}) for a deny entry: renumber its rules or block elsewhere"
    )]
    NoRuleNumber(String, i32),
    #[error(
        "collect writes to the evidence store, never the terminal: give --evidence s3://BUCKET/PREFIX"
    )]
    NoEvidenceStore,
    #[error("`{0}` is not an S3 location (s3://BUCKET/PREFIX)")]
    BadEvidenceStore(String),
    #[error(
        "{0} is not managed by Systems Manager (no SSM agent registered{1}): collect needs the agent; snapshot the volumes instead"
    )]
    NotManaged(String, String),
    #[error("`{0}` is not an AWS account id (12 digits)")]
    BadAccount(String),
    #[error(
        "the finding is in account {0}, but the responder is signed in to account {1}: give --respond-role NAME (a role in {0} the responder may assume), or run vigil with a profile (or --role-arn) for {0}"
    )]
    OtherAccount(String, String),
    #[error("no instance {0} in {1}, the finding's region (check the id and the account)")]
    NoInstanceIn(String, String),
}

/// Where the finding an action was built from is: its account and region, as it says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    pub account: Option<String>,
    pub region: Option<String>,
}

/// A 12-digit AWS account id.
pub(super) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// What a finding says, for the notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct FindingSummary {
    pub id: String,
    pub finding_type: String,
    pub severity: f64,
    pub title: String,
    pub resource: String,
    pub actor: Option<String>,
    pub account: String,
    pub region: String,
    /// How many findings are in its group.
    pub group_size: usize,
}

impl FindingSummary {
    /// The summary of `f`, in a group of `group_size` findings.
    pub fn of(f: &crate::model::Finding, group_size: usize) -> FindingSummary {
        FindingSummary {
            id: f.id.clone(),
            finding_type: f.finding_type.clone(),
            severity: f.severity,
            title: f.title.clone(),
            resource: f
                .primary_entity()
                .map_or_else(|| f.resource.clone(), |e| e.to_string()),
            actor: f.actor().map(|r| r.describe()),
            account: f.account_id.clone().unwrap_or_default(),
            region: f.region.clone().unwrap_or_default(),
            group_size,
        }
    }
}

/// The case id when the operator gives none: `vigil-YYYYMMDD` of `now` (UTC).
pub fn default_case(now: Ts) -> String {
    let d: String = now
        .to_rfc3339_secs()
        .chars()
        .take(10)
        .filter(|c| c.is_ascii_digit())
        .collect();
    format!("vigil-{d}")
}

/// Everything the planner needs besides the facts.
#[derive(Debug, Clone, Default)]
pub struct PlanContext {
    pub case: String,
    pub now: Ts,
    pub topic_arn: Option<String>,
    /// The webhook's redacted endpoint, when one is configured (the responder holds the URL).
    pub webhook: Option<String>,
    pub findings: BTreeMap<String, FindingSummary>,
    /// Actions already taken in this case, for the notification.
    pub already_taken: Vec<String>,
    /// A one-line command that opens the same view in vigil.
    pub open_command: Option<String>,
    /// What quarantine does about an auto-scaling group.
    pub asg: AsgMode,
    /// Where the finding the console built the action from is (`None` from the command line,
    /// where the operator names the target): an action on another account's resources is
    /// refused before anything is read or changed.
    pub source: Option<Place>,
}

/// What was read from the account before planning.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Facts {
    pub identity: Identity,
    pub instances: BTreeMap<String, InstanceState>,
    /// (vpc, group name) → the group, if it exists.
    pub groups: BTreeMap<(String, String), Option<GroupState>>,
    pub keys: BTreeMap<String, KeyState>,
    /// role ARN → instances carrying it.
    pub role_instances: BTreeMap<String, Vec<String>>,
    /// VPC → vigil's DNS Firewall objects seen from it.
    pub dns: BTreeMap<String, DnsFirewallState>,
    /// The GuardDuty detectors of the responder's region.
    pub detectors: Vec<String>,
    /// Subnet → its network ACL.
    #[serde(default)]
    pub acls: BTreeMap<String, NetworkAclState>,
    /// Instance → the case's snapshots of it.
    #[serde(default)]
    pub case_snapshots: BTreeMap<String, Vec<crate::actions::state::CaseSnapshot>>,
    /// Instance → its SSM agent, if managed.
    #[serde(default)]
    pub ssm: BTreeMap<String, Option<crate::actions::state::SsmAgent>>,
    /// (name, scope) → the WAF IP set.
    #[serde(default)]
    pub waf_sets: BTreeMap<String, crate::actions::state::WafIpSetState>,
    /// Bucket → its Object Lock configuration (the evidence store's).
    #[serde(default)]
    pub object_lock: BTreeMap<String, crate::actions::state::ObjectLockState>,
}

/// The instance from the facts, refusing one that is gone (or going).
pub(super) fn instance<'a>(facts: &'a Facts, id: &str) -> Result<&'a InstanceState, PlanError> {
    let st = facts
        .instances
        .get(id)
        .ok_or_else(|| PlanError::NoInstance(id.to_string()))?;
    if matches!(st.state.as_str(), "terminated" | "shutting-down") {
        return Err(PlanError::Gone(id.to_string(), st.state.clone()));
    }
    Ok(st)
}
