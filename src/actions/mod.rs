//! Response actions: what an operator can do to the account, as data.
//!
//! - [`Action`] is the closed set of things vigil can do (every one goes through a confirmation).
//! - [`plan()`] turns an action and the [`Facts`] read from the account into a [`Plan`]: the exact API
//!   calls with their parameters, the resources touched, the blast radius and the confirmation it
//!   needs. Pure: no IO.
//! - [`execute`] runs a plan through a [`Responder`], one call at a time, writing an intent record
//!   before and a result record after each call to the [`AuditLog`], stopping at the first failure.
//!
//! Only code holding a [`Responder`] can change an account. A read-only session holds an
//! [`Inspect`] and nothing else: it can gather facts and plan, but has no path to a mutating call.
//! The two implementations are `crate::aws` (the SDK) and `crate::demo::responder` (the scenario world).

pub mod account;
pub mod audit;
pub mod exec;
pub mod plan;
pub mod playbook;
pub mod webhook;

pub use account::AccountView;
pub use audit::{AuditLog, AuditRecord};
pub use exec::{ExecOptions, Outcome, Report, StepReport, execute};
pub use plan::{Facts, PlanError, gather, plan};
pub use playbook::Playbook;

use serde::Serialize;
use std::collections::BTreeMap;

/// Names of the groups vigil creates per VPC.
pub fn untrack_group_name(vpc: &str) -> String {
    format!("vigil-untrack-{vpc}")
}
pub fn contain_group_name(vpc: &str) -> String {
    format!("vigil-contain-{vpc}")
}
/// Tag keys vigil writes.
pub const TAG_CASE: &str = "vigil:case";
pub const TAG_STATUS: &str = "vigil:status";
/// On each ENI: the groups it had before quarantine, comma-separated (release restores them).
pub const TAG_ORIGINAL_GROUPS: &str = "vigil:original-groups";
pub const STATUS_QUARANTINED: &str = "quarantined";
/// On the instance: the auto-scaling group vigil put it in Standby in (release exits Standby).
pub const TAG_ASG_STANDBY: &str = "vigil:asg-standby";
/// On the instance: the auto-scaling group vigil detached it from (release says how to re-attach).
pub const TAG_ASG_DETACHED: &str = "vigil:asg-detached";
/// On the instance: quarantine lowered the group's desired capacity (so release's ExitStandby,
/// which raises it by one, puts it back exactly).
pub const TAG_ASG_DECREMENTED: &str = "vigil:asg-decremented";

/// What quarantine does about an instance's auto-scaling group. A contained instance fails its
/// health checks, and the group then terminates it (termination protection does not stop Auto
/// Scaling): the evidence goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
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

impl AsgMode {
    pub fn parse(s: &str) -> Option<AsgMode> {
        match s {
            "standby" => Some(AsgMode::Standby),
            "detach" => Some(AsgMode::Detach),
            "leave" => Some(AsgMode::Leave),
            _ => None,
        }
    }
}
/// The inline policy that revokes a role's older sessions (the name the IAM console uses).
pub const REVOKE_POLICY_NAME: &str = "AWSRevokeOlderSessions";
/// Route 53 Resolver DNS Firewall: vigil's domain list, its rule group, the BLOCK rule's priority in
/// the group and the group's priority among a VPC's rule groups (100–9900, lower first; 101 to sit
/// just after a team's own first group, which is usually 100).
pub const DNS_BLOCKLIST_NAME: &str = "vigil-blocklist";
pub const DNS_RULE_GROUP_NAME: &str = "vigil-block";
pub const DNS_RULE_PRIORITY: i32 = 100;
pub const DNS_ASSOCIATION_PRIORITY: i32 = 101;

/// Everything vigil can do to an account. Closed: adding an action means adding a planner arm, a
/// confirmation rule and an entry in the responder IAM policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
        }
    }

    /// The resource the action is aimed at.
    pub fn target(&self) -> String {
        match self {
            Action::Quarantine { instance }
            | Action::Release { instance, .. }
            | Action::Snapshot { instance, .. } => instance.clone(),
            Action::Notify { finding } => finding.clone(),
            Action::DisableKey { key } => key.clone(),
            Action::RevokeSessions { role } => role.clone(),
            Action::BlockDomain { domain, .. } => domain.clone(),
            Action::Playbook { steps, .. } => steps.first().map(Action::target).unwrap_or_default(),
        }
    }

    /// Destructive actions cut off access or change what runs; they need the id typed.
    pub fn is_destructive(&self) -> bool {
        match self {
            Action::Quarantine { .. }
            | Action::Release { .. }
            | Action::DisableKey { .. }
            | Action::RevokeSessions { .. }
            | Action::BlockDomain { .. } => true,
            Action::Snapshot { .. } | Action::Notify { .. } => false,
            Action::Playbook { steps, .. } => steps.iter().any(Action::is_destructive),
        }
    }
}

/// A resource named in a call (a security group, a DNS Firewall domain list or rule group): one
/// that exists, or one an earlier step of the plan creates under this name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupRef {
    Existing(String),
    /// Created by an earlier `CreateSecurityGroup` with this name.
    Created(String),
}

impl GroupRef {
    /// The id: as given, or the one an earlier step created under the name (`created`). A name
    /// no step created is an error: that step did not run.
    pub fn resolve(&self, created: &BTreeMap<String, String>) -> Result<String, CallError> {
        match self {
            GroupRef::Existing(id) => Ok(id.clone()),
            GroupRef::Created(n) => created.get(n).cloned().ok_or_else(|| {
                CallError::new(
                    "vigil.NotCreated",
                    format!("{n} was to be created by an earlier step, which did not run"),
                )
            }),
        }
    }
}

impl std::fmt::Display for GroupRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupRef::Existing(id) => f.write_str(id),
            GroupRef::Created(name) => write!(f, "<{name}>"),
        }
    }
}

/// One exact API call with its parameters. Every mutating call vigil makes is one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "api", rename_all = "PascalCase")]
pub enum ApiCall {
    ModifyInstanceAttribute {
        instance_id: String,
        disable_api_termination: bool,
    },
    CreateTags {
        resources: Vec<String>,
        tags: BTreeMap<String, String>,
    },
    DeleteTags {
        resources: Vec<String>,
        keys: Vec<String>,
    },
    CreateSecurityGroup {
        vpc_id: String,
        group_name: String,
        description: String,
        tags: BTreeMap<String, String>,
    },
    /// All traffic from 0.0.0.0/0 and ::/0.
    AuthorizeSecurityGroupIngressAll {
        group: GroupRef,
    },
    /// Removes the all-traffic egress rules a new group starts with.
    RevokeSecurityGroupEgressAll {
        group: GroupRef,
    },
    ModifyNetworkInterfaceAttribute {
        network_interface_id: String,
        groups: Vec<GroupRef>,
    },
    CreateSnapshots {
        instance_id: String,
        tags: BTreeMap<String, String>,
        copy_tags_from_source: bool,
    },
    Publish {
        topic_arn: String,
        subject: String,
        message: String,
        /// The same content for machines, in the `vigil-json` message attribute.
        json: String,
    },
    UpdateAccessKey {
        user_name: String,
        access_key_id: String,
        status: String,
    },
    PutRolePolicy {
        role_name: String,
        policy_name: String,
        policy_document: String,
    },
    /// Auto Scaling. `should_decrement_desired_capacity: false` keeps the group's capacity: it
    /// launches a replacement, so the service stays up while the instance is held.
    EnterStandby {
        auto_scaling_group_name: String,
        instance_id: String,
        should_decrement_desired_capacity: bool,
    },
    ExitStandby {
        auto_scaling_group_name: String,
        instance_id: String,
    },
    DetachInstances {
        auto_scaling_group_name: String,
        instance_id: String,
        should_decrement_desired_capacity: bool,
    },
    /// Route 53 Resolver DNS Firewall.
    CreateFirewallDomainList {
        name: String,
    },
    /// Operation=ADD.
    UpdateFirewallDomains {
        domain_list: GroupRef,
        domains: Vec<String>,
    },
    CreateFirewallRuleGroup {
        name: String,
    },
    /// Action=BLOCK, BlockResponse=NXDOMAIN.
    CreateFirewallRule {
        rule_group: GroupRef,
        domain_list: GroupRef,
        name: String,
        priority: i32,
    },
    AssociateFirewallRuleGroup {
        rule_group: GroupRef,
        vpc_id: String,
        name: String,
        priority: i32,
    },
    /// Slack/Discord-compatible `{"text": …}` POSTed to the configured webhook. `endpoint` is the
    /// redacted URL (scheme, host, port); the URL itself is a secret the responder holds.
    PostWebhook {
        endpoint: String,
        text: String,
    },
}

impl ApiCall {
    /// The IAM action this call needs (also its name in the audit log).
    pub fn iam_action(&self) -> &'static str {
        match self {
            ApiCall::ModifyInstanceAttribute { .. } => "ec2:ModifyInstanceAttribute",
            ApiCall::CreateTags { .. } => "ec2:CreateTags",
            ApiCall::DeleteTags { .. } => "ec2:DeleteTags",
            ApiCall::CreateSecurityGroup { .. } => "ec2:CreateSecurityGroup",
            ApiCall::AuthorizeSecurityGroupIngressAll { .. } => "ec2:AuthorizeSecurityGroupIngress",
            ApiCall::RevokeSecurityGroupEgressAll { .. } => "ec2:RevokeSecurityGroupEgress",
            ApiCall::ModifyNetworkInterfaceAttribute { .. } => {
                "ec2:ModifyNetworkInterfaceAttribute"
            }
            ApiCall::CreateSnapshots { .. } => "ec2:CreateSnapshots",
            ApiCall::Publish { .. } => "sns:Publish",
            ApiCall::UpdateAccessKey { .. } => "iam:UpdateAccessKey",
            ApiCall::PutRolePolicy { .. } => "iam:PutRolePolicy",
            ApiCall::CreateFirewallDomainList { .. } => "route53resolver:CreateFirewallDomainList",
            ApiCall::UpdateFirewallDomains { .. } => "route53resolver:UpdateFirewallDomains",
            ApiCall::CreateFirewallRuleGroup { .. } => "route53resolver:CreateFirewallRuleGroup",
            ApiCall::CreateFirewallRule { .. } => "route53resolver:CreateFirewallRule",
            ApiCall::AssociateFirewallRuleGroup { .. } => {
                "route53resolver:AssociateFirewallRuleGroup"
            }
            ApiCall::EnterStandby { .. } => "autoscaling:EnterStandby",
            ApiCall::ExitStandby { .. } => "autoscaling:ExitStandby",
            ApiCall::DetachInstances { .. } => "autoscaling:DetachInstances",
            ApiCall::PostWebhook { .. } => "webhook:Post",
        }
    }

    /// The name later steps use for what this call creates (see [`GroupRef::Created`]).
    pub fn creates(&self) -> Option<&str> {
        match self {
            ApiCall::CreateSecurityGroup { group_name, .. } => Some(group_name),
            ApiCall::CreateFirewallDomainList { name }
            | ApiCall::CreateFirewallRuleGroup { name } => Some(name),
            _ => None,
        }
    }

    /// The resources this call names that may be created by earlier steps.
    pub fn refs(&self) -> Vec<&GroupRef> {
        match self {
            ApiCall::AuthorizeSecurityGroupIngressAll { group }
            | ApiCall::RevokeSecurityGroupEgressAll { group } => vec![group],
            ApiCall::ModifyNetworkInterfaceAttribute { groups, .. } => groups.iter().collect(),
            ApiCall::UpdateFirewallDomains { domain_list, .. } => vec![domain_list],
            ApiCall::CreateFirewallRule {
                rule_group,
                domain_list,
                ..
            } => vec![rule_group, domain_list],
            ApiCall::AssociateFirewallRuleGroup { rule_group, .. } => vec![rule_group],
            _ => Vec::new(),
        }
    }

    /// EC2 calls take the API's own `DryRun` flag; the others can only be planned.
    pub fn supports_dry_run(&self) -> bool {
        self.iam_action().starts_with("ec2:")
    }

    /// The resource ids the call changes.
    pub fn touches(&self) -> Vec<String> {
        match self {
            ApiCall::ModifyInstanceAttribute { instance_id, .. }
            | ApiCall::CreateSnapshots { instance_id, .. } => vec![instance_id.clone()],
            ApiCall::CreateTags { resources, .. } | ApiCall::DeleteTags { resources, .. } => {
                resources.clone()
            }
            ApiCall::CreateSecurityGroup { group_name, .. } => vec![group_name.clone()],
            ApiCall::AuthorizeSecurityGroupIngressAll { group }
            | ApiCall::RevokeSecurityGroupEgressAll { group } => vec![group.to_string()],
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id,
                ..
            } => vec![network_interface_id.clone()],
            ApiCall::Publish { topic_arn, .. } => vec![topic_arn.clone()],
            ApiCall::UpdateAccessKey { access_key_id, .. } => vec![access_key_id.clone()],
            ApiCall::PutRolePolicy { role_name, .. } => vec![role_name.clone()],
            ApiCall::CreateFirewallDomainList { name }
            | ApiCall::CreateFirewallRuleGroup { name } => {
                vec![name.clone()]
            }
            ApiCall::UpdateFirewallDomains { domain_list, .. } => vec![domain_list.to_string()],
            ApiCall::CreateFirewallRule { rule_group, .. } => vec![rule_group.to_string()],
            ApiCall::AssociateFirewallRuleGroup {
                rule_group, vpc_id, ..
            } => vec![rule_group.to_string(), vpc_id.clone()],
            ApiCall::EnterStandby {
                auto_scaling_group_name,
                instance_id,
                ..
            }
            | ApiCall::ExitStandby {
                auto_scaling_group_name,
                instance_id,
            }
            | ApiCall::DetachInstances {
                auto_scaling_group_name,
                instance_id,
                ..
            } => vec![instance_id.clone(), auto_scaling_group_name.clone()],
            ApiCall::PostWebhook { endpoint, .. } => vec![endpoint.clone()],
        }
    }

    /// One line for the plan preview.
    pub fn describe(&self) -> String {
        match self {
            ApiCall::ModifyInstanceAttribute {
                instance_id,
                disable_api_termination,
            } => format!(
                "ModifyInstanceAttribute InstanceId={instance_id} DisableApiTermination={disable_api_termination}"
            ),
            ApiCall::CreateTags { resources, tags } => format!(
                "CreateTags Resources={} Tags={}",
                resources.join(","),
                kv(tags)
            ),
            ApiCall::DeleteTags { resources, keys } => format!(
                "DeleteTags Resources={} Keys={}",
                resources.join(","),
                keys.join(",")
            ),
            ApiCall::CreateSecurityGroup {
                vpc_id, group_name, ..
            } => format!("CreateSecurityGroup VpcId={vpc_id} GroupName={group_name}"),
            ApiCall::AuthorizeSecurityGroupIngressAll { group } => format!(
                "AuthorizeSecurityGroupIngress GroupId={group} IpProtocol=-1 CidrIp=0.0.0.0/0 CidrIpv6=::/0"
            ),
            ApiCall::RevokeSecurityGroupEgressAll { group } => {
                format!("RevokeSecurityGroupEgress GroupId={group} IpProtocol=-1 CidrIp=0.0.0.0/0")
            }
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id,
                groups,
            } => format!(
                "ModifyNetworkInterfaceAttribute NetworkInterfaceId={network_interface_id} Groups={}",
                groups
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            ApiCall::CreateSnapshots {
                instance_id,
                tags,
                copy_tags_from_source,
            } => format!(
                "CreateSnapshots InstanceSpecification.InstanceId={instance_id} CopyTagsFromSource={} Tags={}",
                if *copy_tags_from_source {
                    "volume"
                } else {
                    "none"
                },
                kv(tags)
            ),
            ApiCall::Publish {
                topic_arn, subject, ..
            } => format!("Publish TopicArn={topic_arn} Subject=\"{subject}\""),
            ApiCall::UpdateAccessKey {
                user_name,
                access_key_id,
                status,
            } => format!(
                "UpdateAccessKey UserName={user_name} AccessKeyId={access_key_id} Status={status}"
            ),
            ApiCall::PutRolePolicy {
                role_name,
                policy_name,
                ..
            } => format!(
                "PutRolePolicy RoleName={role_name} PolicyName={policy_name} (Deny * when aws:TokenIssueTime < now)"
            ),
            ApiCall::CreateFirewallDomainList { name } => {
                format!("CreateFirewallDomainList Name={name}")
            }
            ApiCall::UpdateFirewallDomains {
                domain_list,
                domains,
            } => format!(
                "UpdateFirewallDomains FirewallDomainListId={domain_list} Operation=ADD Domains={}",
                domains.join(",")
            ),
            ApiCall::CreateFirewallRuleGroup { name } => {
                format!("CreateFirewallRuleGroup Name={name}")
            }
            ApiCall::CreateFirewallRule {
                rule_group,
                domain_list,
                name,
                priority,
            } => format!(
                "CreateFirewallRule FirewallRuleGroupId={rule_group} FirewallDomainListId={domain_list} Name={name} Priority={priority} Action=BLOCK BlockResponse=NXDOMAIN"
            ),
            ApiCall::AssociateFirewallRuleGroup {
                rule_group,
                vpc_id,
                name,
                priority,
            } => format!(
                "AssociateFirewallRuleGroup FirewallRuleGroupId={rule_group} VpcId={vpc_id} Name={name} Priority={priority}"
            ),
            ApiCall::EnterStandby {
                auto_scaling_group_name,
                instance_id,
                should_decrement_desired_capacity,
            } => format!(
                "EnterStandby AutoScalingGroupName={auto_scaling_group_name} InstanceIds={instance_id} ShouldDecrementDesiredCapacity={should_decrement_desired_capacity}"
            ),
            ApiCall::ExitStandby {
                auto_scaling_group_name,
                instance_id,
            } => format!(
                "ExitStandby AutoScalingGroupName={auto_scaling_group_name} InstanceIds={instance_id}"
            ),
            ApiCall::DetachInstances {
                auto_scaling_group_name,
                instance_id,
                should_decrement_desired_capacity,
            } => format!(
                "DetachInstances AutoScalingGroupName={auto_scaling_group_name} InstanceIds={instance_id} ShouldDecrementDesiredCapacity={should_decrement_desired_capacity}"
            ),
            ApiCall::PostWebhook { endpoint, text } => format!(
                "POST {endpoint} {{\"text\": \"{}…\"}} ({} characters)",
                text.lines().next().unwrap_or_default(),
                text.chars().count()
            ),
        }
    }
}

fn kv(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What the operator must type to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// One call of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The action this step belongs to (a playbook has several).
    pub action: String,
    pub call: ApiCall,
    /// Why: shown in the plan.
    pub why: String,
}

/// What will happen, before it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub action: Action,
    pub case: String,
    /// Who plans to act (STS GetCallerIdentity).
    pub operator: Identity,
    pub steps: Vec<Step>,
    pub touches: Vec<String>,
    /// What else this affects (instances sharing the role, the auto-scaling group, ...).
    pub blast_radius: Vec<String>,
    /// Things the operator should know (already done, not handled by vigil, ...).
    pub notes: Vec<String>,
    /// State captured before acting, written to the audit log so the action can be undone.
    pub captured: Vec<serde_json::Value>,
    pub confirm: Confirm,
}

impl Plan {
    /// True when there is nothing to do (e.g. the instance is already contained).
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as the operator reads it.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plan: {} {} (case {})",
            self.action.verb(),
            self.action.target(),
            self.case
        );
        if self.steps.is_empty() {
            let _ = writeln!(s, "  nothing to do");
        }
        for (i, st) in self.steps.iter().enumerate() {
            let _ = writeln!(s, "  {:>2}. {:<30} {}", i + 1, st.call.iam_action(), st.why);
            let _ = writeln!(s, "      {}", st.call.describe());
        }
        if !self.touches.is_empty() {
            let _ = writeln!(s, "touches: {}", self.touches.join(", "));
        }
        if !self.blast_radius.is_empty() {
            let _ = writeln!(s, "blast radius:");
            for b in &self.blast_radius {
                let _ = writeln!(s, "  - {b}");
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }
}

/// The captured state of an instance, read before acting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct InstanceState {
    pub instance_id: String,
    pub state: String,
    pub vpc_id: String,
    pub subnet_id: String,
    pub tags: BTreeMap<String, String>,
    pub instance_profile_arn: Option<String>,
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EniState {
    pub eni_id: String,
    pub device_index: i32,
    pub subnet_id: String,
    pub vpc_id: String,
    pub groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// A security group as vigil needs to see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupState {
    pub group_id: String,
    pub group_name: String,
    pub ingress_rules: usize,
    pub egress_rules: usize,
}

/// Who is acting (STS GetCallerIdentity).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// vigil's DNS Firewall objects as they are, seen from one VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeyState {
    pub access_key_id: String,
    pub user_name: String,
    pub status: String,
}

/// An API error in plain words: the service's code, its message and the request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", self.plain())]
pub struct CallError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// The IAM action the failed call needed.
    pub iam_action: Option<String>,
}

impl CallError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> CallError {
        CallError {
            code: code.into(),
            message: message.into(),
            request_id: None,
            iam_action: None,
        }
    }

    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_str(),
            "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "AuthorizationError"
        )
    }

    /// Throttling codes of the services vigil calls (the SDK has already retried with backoff).
    pub fn is_throttling(&self) -> bool {
        matches!(
            self.code.as_str(),
            "RequestLimitExceeded"
                | "Throttling"
                | "ThrottlingException"
                | "TooManyRequestsException"
        )
    }

    /// The error as a person reads it, with the code and (for AccessDenied) the missing permission.
    pub fn plain(&self) -> String {
        let mut s = if self.is_throttling() {
            format!(
                "AWS is throttling these calls ({}) and the retries with backoff ran out: wait a minute and try again (the audit log shows which steps were made)",
                self.code
            )
        } else if self.is_access_denied() {
            match &self.iam_action {
                Some(a) => format!(
                    "not allowed: the credentials lack the permission {a} ({}); docs/iam/vigil-responder.json grants it",
                    self.code
                ),
                None => format!("not allowed ({})", self.code),
            }
        } else {
            format!("{}: {}", self.code, self.message)
        };
        if self.is_access_denied() && !self.message.is_empty() {
            s.push_str(&format!(" — AWS said: {}", self.message));
        }
        if let Some(r) = &self.request_id {
            s.push_str(&format!(" [request {r}]"));
        }
        s
    }
}

/// What a successful call returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallOk {
    pub request_id: Option<String>,
    /// Ids created by the call (a security group, snapshots, a message id).
    pub created: Vec<String>,
}

/// The result of a dry-run call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "dry_run", rename_all = "kebab-case")]
pub enum DryRun {
    /// The API answered DryRunOperation: the call would succeed.
    WouldSucceed,
    /// The API has no dry-run; shown in the plan only.
    NotChecked { why: String },
}

/// A snapshot's progress (DescribeSnapshots).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotProgress {
    pub snapshot_id: String,
    pub volume_id: String,
    /// `pending`, `completed` or `error`.
    pub state: String,
    /// 0..=100.
    pub percent: u8,
}

impl SnapshotProgress {
    /// Finished, one way or the other: polling can stop.
    pub fn is_final(&self) -> bool {
        self.state != "pending"
    }
}

/// Reading the account: enough to plan. Read-only sessions hold only this.
pub trait Inspect {
    /// True for the demo world (audit records are marked demo).
    fn is_demo(&self) -> bool;
    fn identity(&mut self) -> Result<Identity, CallError>;
    fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError>;
    /// The group with this name in this VPC, if any.
    fn group_by_name(&mut self, vpc_id: &str, name: &str) -> Result<Option<GroupState>, CallError>;
    /// The user owning a long-term access key, and the key's status.
    fn access_key(&mut self, access_key_id: &str) -> Result<KeyState, CallError>;
    /// Instances whose instance profile carries this role (blast radius of revoking sessions).
    fn instances_with_role(&mut self, role_arn: &str) -> Result<Vec<String>, CallError>;
    /// Progress of these snapshots (DescribeSnapshots), in the order asked.
    fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError>;
    /// vigil's DNS Firewall domain list and rule group, and whether the group covers `vpc_id`.
    fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError>;
    /// The account as the console's world screen shows it (the demo world); `None` for AWS.
    fn account_view(&self) -> Option<AccountView> {
        None
    }
}

/// Changing the account. Only `crate::aws` and `crate::demo` implement it; only [`execute`] calls it.
pub trait Responder: Inspect {
    /// Makes the call. `created` maps group names created earlier in the plan to their ids.
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError>;
    /// The same call with the API's DryRun flag (EC2); others answer `NotChecked`.
    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError>;
}

impl<T: Inspect + ?Sized> Inspect for Box<T> {
    fn is_demo(&self) -> bool {
        (**self).is_demo()
    }
    fn identity(&mut self) -> Result<Identity, CallError> {
        (**self).identity()
    }
    fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError> {
        (**self).instance(instance_id)
    }
    fn group_by_name(&mut self, vpc_id: &str, name: &str) -> Result<Option<GroupState>, CallError> {
        (**self).group_by_name(vpc_id, name)
    }
    fn access_key(&mut self, access_key_id: &str) -> Result<KeyState, CallError> {
        (**self).access_key(access_key_id)
    }
    fn instances_with_role(&mut self, role_arn: &str) -> Result<Vec<String>, CallError> {
        (**self).instances_with_role(role_arn)
    }
    fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
        (**self).snapshots(ids)
    }
    fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
        (**self).dns_firewall(vpc_id)
    }
    fn account_view(&self) -> Option<AccountView> {
        (**self).account_view()
    }
}

impl<T: Responder + ?Sized> Responder for Box<T> {
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError> {
        (**self).call(call, created)
    }
    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError> {
        (**self).dry_run(call, created)
    }
}

/// A session that can only look: it has no responder, so no path to a mutating call.
///
/// ```compile_fail
/// # use vigil::actions::*;
/// fn run(s: &mut ReadOnlySession, p: &Plan, log: &mut AuditLog) {
///     // does not compile: a read-only session is not a Responder
///     execute(p, s.inspector(), log, &ExecOptions::default());
/// }
/// ```
pub struct ReadOnlySession {
    inspect: Box<dyn Inspect + Send>,
}

impl ReadOnlySession {
    pub fn new(inspect: Box<dyn Inspect + Send>) -> ReadOnlySession {
        ReadOnlySession { inspect }
    }
    pub fn inspector(&mut self) -> &mut dyn Inspect {
        self.inspect.as_mut()
    }
}

/// A session that may act: holds the responder. The same call as in [`ReadOnlySession`]'s
/// example compiles here, so that example fails for the type alone, not for a typo:
///
/// ```no_run
/// # use vigil::actions::*;
/// fn run(s: &mut ResponderSession, p: &Plan, log: &mut AuditLog) {
///     let _ = execute(p, s.responder(), log, &ExecOptions::default());
/// }
/// ```
pub struct ResponderSession {
    responder: Box<dyn Responder + Send>,
}

impl ResponderSession {
    pub fn new(responder: Box<dyn Responder + Send>) -> ResponderSession {
        ResponderSession { responder }
    }
    pub fn responder(&mut self) -> &mut dyn Responder {
        self.responder.as_mut()
    }
}

/// Either kind of session; the CLI picks one from `--read-only`.
pub enum Session {
    ReadOnly(ReadOnlySession),
    Responder(ResponderSession),
}

impl Session {
    pub fn inspector(&mut self) -> &mut dyn Inspect {
        match self {
            Session::ReadOnly(s) => s.inspector(),
            Session::Responder(s) => s.responder.as_mut(),
        }
    }
}

/// Role name from a role ARN (`arn:aws:iam::1:role/path/name` → `name`), or the input if it is a name.
pub fn role_name(role: &str) -> &str {
    role.rsplit('/').next().unwrap_or(role)
}
