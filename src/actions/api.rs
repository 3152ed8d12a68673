//! The API call: one exact mutating call with its parameters ([`ApiCall`]), its kind without the
//! parameters ([`ApiKind`]: the IAM action it needs, its service, whether it has a dry-run), and
//! the resources it names ([`GroupRef`]). How a call reads in a plan is in `describe.rs`.

use super::answer::CallError;
use serde::Serialize;
use std::collections::BTreeMap;

/// A resource named in a call (a security group, a DNS Firewall domain list or rule group): one
/// that exists, or one an earlier step of the plan creates under this name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
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
    /// Moves findings to GuardDuty's archive (reversible with UnarchiveFindings).
    ArchiveFindings {
        detector_id: String,
        finding_ids: Vec<String>,
    },
    /// A network ACL entry: all protocols, deny, for one CIDR block (IPv4 or IPv6).
    CreateNetworkAclEntry {
        network_acl_id: String,
        rule_number: i32,
        egress: bool,
        cidr_block: String,
    },
    DeleteNetworkAclEntry {
        network_acl_id: String,
        rule_number: i32,
        egress: bool,
    },
    /// createVolumePermission add: the account can create volumes from the snapshot (one that
    /// exists, or the copy an earlier CopySnapshot of the plan makes).
    ModifySnapshotAttribute {
        snapshot_id: GroupRef,
        add_user_id: String,
    },
    /// A copy of an encrypted snapshot under another KMS key (the forensics account's), in the
    /// responder's region (SourceRegion), tagged as vigil's for the case. Later steps name the
    /// copy as `Created(source_snapshot_id)`.
    CopySnapshot {
        source_snapshot_id: String,
        kms_key_id: String,
        description: String,
        tags: BTreeMap<String, String>,
    },
    /// SSM Run Command: the document (AWS-RunShellScript or AWS-RunPowerShellScript) with these
    /// command lines on one instance, its output written to S3. No DryRun in SSM.
    SendCommand {
        instance_id: String,
        document: String,
        commands: Vec<String>,
        output_s3_bucket: String,
        output_s3_key_prefix: String,
        comment: String,
        timeout_seconds: i32,
    },
    /// WAF replaces an IP set's whole list: the call reads the set, adds and removes these
    /// blocks, and writes it back with the lock token (the planned one first; when the set
    /// changed since, it is read again and merged). No DryRun in WAF.
    UpdateIpSet {
        name: String,
        id: String,
        scope: String,
        add: Vec<String>,
        remove: Vec<String>,
        lock_token: String,
    },
    /// Takes the instance profile off the instance (EC2; no DryRun in this API).
    DisassociateIamInstanceProfile {
        association_id: String,
        instance_id: String,
    },
    /// Gives an instance profile to an instance (EC2; no DryRun in this API; the caller needs
    /// iam:PassRole on the profile's role).
    AssociateIamInstanceProfile {
        instance_id: String,
        instance_profile_arn: String,
    },
    /// One object into the evidence store, with its SHA-256 for S3 to check (ChecksumSHA256) and
    /// Object Lock retention when the bucket has it. A file is hashed again as it is read: one
    /// that changed since the plan is not uploaded. No DryRun in S3.
    PutObject {
        bucket: String,
        key: String,
        body: super::evidence::ObjectBody,
        sha256: String,
        size: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retention: Option<super::evidence::Retention>,
    },
}

/// The AWS service (or the webhook) a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ec2,
    AutoScaling,
    Route53Resolver,
    Sns,
    Iam,
    GuardDuty,
    Wafv2,
    Ssm,
    S3,
    /// Not AWS: the team's chat webhook.
    Webhook,
}

impl Service {
    /// Only EC2's APIs take a `DryRun` flag; the others' calls can only be planned.
    pub fn supports_dry_run(self) -> bool {
        self == Service::Ec2
    }

    /// An AWS service, whose calls the responder IAM policy must grant.
    pub fn is_aws(self) -> bool {
        self != Service::Webhook
    }
}

/// An [`ApiCall`] without its parameters: one per variant, in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    ModifyInstanceAttribute,
    CreateTags,
    DeleteTags,
    CreateSecurityGroup,
    AuthorizeSecurityGroupIngressAll,
    RevokeSecurityGroupEgressAll,
    ModifyNetworkInterfaceAttribute,
    CreateSnapshots,
    Publish,
    UpdateAccessKey,
    PutRolePolicy,
    EnterStandby,
    ExitStandby,
    DetachInstances,
    CreateFirewallDomainList,
    UpdateFirewallDomains,
    CreateFirewallRuleGroup,
    CreateFirewallRule,
    AssociateFirewallRuleGroup,
    PostWebhook,
    ArchiveFindings,
    DisassociateIamInstanceProfile,
    AssociateIamInstanceProfile,
    CreateNetworkAclEntry,
    DeleteNetworkAclEntry,
    UpdateIpSet,
    SendCommand,
    ModifySnapshotAttribute,
    PutObject,
    CopySnapshot,
}

impl ApiKind {
    /// Every kind, in declaration order (checked below at compile time): what the IAM policy test
    /// walks.
    pub const ALL: [ApiKind; 30] = [
        ApiKind::ModifyInstanceAttribute,
        ApiKind::CreateTags,
        ApiKind::DeleteTags,
        ApiKind::CreateSecurityGroup,
        ApiKind::AuthorizeSecurityGroupIngressAll,
        ApiKind::RevokeSecurityGroupEgressAll,
        ApiKind::ModifyNetworkInterfaceAttribute,
        ApiKind::CreateSnapshots,
        ApiKind::Publish,
        ApiKind::UpdateAccessKey,
        ApiKind::PutRolePolicy,
        ApiKind::EnterStandby,
        ApiKind::ExitStandby,
        ApiKind::DetachInstances,
        ApiKind::CreateFirewallDomainList,
        ApiKind::UpdateFirewallDomains,
        ApiKind::CreateFirewallRuleGroup,
        ApiKind::CreateFirewallRule,
        ApiKind::AssociateFirewallRuleGroup,
        ApiKind::PostWebhook,
        ApiKind::ArchiveFindings,
        ApiKind::DisassociateIamInstanceProfile,
        ApiKind::AssociateIamInstanceProfile,
        ApiKind::CreateNetworkAclEntry,
        ApiKind::DeleteNetworkAclEntry,
        ApiKind::UpdateIpSet,
        ApiKind::SendCommand,
        ApiKind::ModifySnapshotAttribute,
        ApiKind::PutObject,
        ApiKind::CopySnapshot,
    ];

    /// The IAM action a call of this kind needs (also its name in the audit log).
    pub fn iam_action(self) -> &'static str {
        match self {
            ApiKind::ModifyInstanceAttribute => "ec2:ModifyInstanceAttribute",
            ApiKind::CreateTags => "ec2:CreateTags",
            ApiKind::DeleteTags => "ec2:DeleteTags",
            ApiKind::CreateSecurityGroup => "ec2:CreateSecurityGroup",
            ApiKind::AuthorizeSecurityGroupIngressAll => "ec2:AuthorizeSecurityGroupIngress",
            ApiKind::RevokeSecurityGroupEgressAll => "ec2:RevokeSecurityGroupEgress",
            ApiKind::ModifyNetworkInterfaceAttribute => "ec2:ModifyNetworkInterfaceAttribute",
            ApiKind::CreateSnapshots => "ec2:CreateSnapshots",
            ApiKind::Publish => "sns:Publish",
            ApiKind::UpdateAccessKey => "iam:UpdateAccessKey",
            ApiKind::PutRolePolicy => "iam:PutRolePolicy",
            ApiKind::EnterStandby => "autoscaling:EnterStandby",
            ApiKind::ExitStandby => "autoscaling:ExitStandby",
            ApiKind::DetachInstances => "autoscaling:DetachInstances",
            ApiKind::CreateFirewallDomainList => "route53resolver:CreateFirewallDomainList",
            ApiKind::UpdateFirewallDomains => "route53resolver:UpdateFirewallDomains",
            ApiKind::CreateFirewallRuleGroup => "route53resolver:CreateFirewallRuleGroup",
            ApiKind::CreateFirewallRule => "route53resolver:CreateFirewallRule",
            ApiKind::AssociateFirewallRuleGroup => "route53resolver:AssociateFirewallRuleGroup",
            ApiKind::PostWebhook => "webhook:Post",
            ApiKind::ArchiveFindings => "guardduty:ArchiveFindings",
            ApiKind::DisassociateIamInstanceProfile => "ec2:DisassociateIamInstanceProfile",
            ApiKind::AssociateIamInstanceProfile => "ec2:AssociateIamInstanceProfile",
            ApiKind::CreateNetworkAclEntry => "ec2:CreateNetworkAclEntry",
            ApiKind::DeleteNetworkAclEntry => "ec2:DeleteNetworkAclEntry",
            ApiKind::UpdateIpSet => "wafv2:UpdateIPSet",
            ApiKind::SendCommand => "ssm:SendCommand",
            ApiKind::PutObject => "s3:PutObject",
            ApiKind::CopySnapshot => "ec2:CopySnapshot",
            ApiKind::ModifySnapshotAttribute => "ec2:ModifySnapshotAttribute",
        }
    }

    pub fn service(self) -> Service {
        match self {
            ApiKind::ModifyInstanceAttribute
            | ApiKind::CreateTags
            | ApiKind::DeleteTags
            | ApiKind::CreateSecurityGroup
            | ApiKind::AuthorizeSecurityGroupIngressAll
            | ApiKind::RevokeSecurityGroupEgressAll
            | ApiKind::ModifyNetworkInterfaceAttribute
            | ApiKind::CreateSnapshots
            | ApiKind::DisassociateIamInstanceProfile
            | ApiKind::AssociateIamInstanceProfile
            | ApiKind::CreateNetworkAclEntry
            | ApiKind::DeleteNetworkAclEntry
            | ApiKind::ModifySnapshotAttribute
            | ApiKind::CopySnapshot => Service::Ec2,
            ApiKind::Publish => Service::Sns,
            ApiKind::UpdateAccessKey | ApiKind::PutRolePolicy => Service::Iam,
            ApiKind::EnterStandby | ApiKind::ExitStandby | ApiKind::DetachInstances => {
                Service::AutoScaling
            }
            ApiKind::CreateFirewallDomainList
            | ApiKind::UpdateFirewallDomains
            | ApiKind::CreateFirewallRuleGroup
            | ApiKind::CreateFirewallRule
            | ApiKind::AssociateFirewallRuleGroup => Service::Route53Resolver,
            ApiKind::PostWebhook => Service::Webhook,
            ApiKind::ArchiveFindings => Service::GuardDuty,
            ApiKind::UpdateIpSet => Service::Wafv2,
            ApiKind::SendCommand => Service::Ssm,
            ApiKind::PutObject => Service::S3,
        }
    }
}

// `ALL` lists every kind: in declaration order, and up to the last one. A kind added anywhere but
// after the last breaks one of these at compile time (and `ApiCall::kind` names every variant).
const _: () = {
    let mut i = 0;
    while i < ApiKind::ALL.len() {
        assert!(ApiKind::ALL[i] as usize == i);
        i += 1;
    }
    assert!(ApiKind::CopySnapshot as usize + 1 == ApiKind::ALL.len());
};

impl ApiCall {
    /// The call without its parameters.
    pub fn kind(&self) -> ApiKind {
        match self {
            ApiCall::ModifyInstanceAttribute { .. } => ApiKind::ModifyInstanceAttribute,
            ApiCall::CreateTags { .. } => ApiKind::CreateTags,
            ApiCall::DeleteTags { .. } => ApiKind::DeleteTags,
            ApiCall::CreateSecurityGroup { .. } => ApiKind::CreateSecurityGroup,
            ApiCall::AuthorizeSecurityGroupIngressAll { .. } => {
                ApiKind::AuthorizeSecurityGroupIngressAll
            }
            ApiCall::RevokeSecurityGroupEgressAll { .. } => ApiKind::RevokeSecurityGroupEgressAll,
            ApiCall::ModifyNetworkInterfaceAttribute { .. } => {
                ApiKind::ModifyNetworkInterfaceAttribute
            }
            ApiCall::CreateSnapshots { .. } => ApiKind::CreateSnapshots,
            ApiCall::Publish { .. } => ApiKind::Publish,
            ApiCall::UpdateAccessKey { .. } => ApiKind::UpdateAccessKey,
            ApiCall::PutRolePolicy { .. } => ApiKind::PutRolePolicy,
            ApiCall::EnterStandby { .. } => ApiKind::EnterStandby,
            ApiCall::ExitStandby { .. } => ApiKind::ExitStandby,
            ApiCall::DetachInstances { .. } => ApiKind::DetachInstances,
            ApiCall::CreateFirewallDomainList { .. } => ApiKind::CreateFirewallDomainList,
            ApiCall::UpdateFirewallDomains { .. } => ApiKind::UpdateFirewallDomains,
            ApiCall::CreateFirewallRuleGroup { .. } => ApiKind::CreateFirewallRuleGroup,
            ApiCall::CreateFirewallRule { .. } => ApiKind::CreateFirewallRule,
            ApiCall::AssociateFirewallRuleGroup { .. } => ApiKind::AssociateFirewallRuleGroup,
            ApiCall::PostWebhook { .. } => ApiKind::PostWebhook,
            ApiCall::ArchiveFindings { .. } => ApiKind::ArchiveFindings,
            ApiCall::DisassociateIamInstanceProfile { .. } => {
                ApiKind::DisassociateIamInstanceProfile
            }
            ApiCall::AssociateIamInstanceProfile { .. } => ApiKind::AssociateIamInstanceProfile,
            ApiCall::CreateNetworkAclEntry { .. } => ApiKind::CreateNetworkAclEntry,
            ApiCall::DeleteNetworkAclEntry { .. } => ApiKind::DeleteNetworkAclEntry,
            ApiCall::UpdateIpSet { .. } => ApiKind::UpdateIpSet,
            ApiCall::SendCommand { .. } => ApiKind::SendCommand,
            ApiCall::ModifySnapshotAttribute { .. } => ApiKind::ModifySnapshotAttribute,
            ApiCall::PutObject { .. } => ApiKind::PutObject,
            ApiCall::CopySnapshot { .. } => ApiKind::CopySnapshot,
        }
    }

    /// The IAM action this call needs (also its name in the audit log).
    pub fn iam_action(&self) -> &'static str {
        self.kind().iam_action()
    }

    /// The service the call goes to.
    pub fn service(&self) -> Service {
        self.kind().service()
    }

    /// The call takes the API's own `DryRun` flag (EC2's, but for the instance-profile calls,
    /// which have none); the others can only be planned.
    pub fn supports_dry_run(&self) -> bool {
        self.service().supports_dry_run()
            && !matches!(
                self.kind(),
                ApiKind::DisassociateIamInstanceProfile | ApiKind::AssociateIamInstanceProfile
            )
    }

    /// The name later steps use for what this call creates (see [`GroupRef::Created`]).
    pub fn creates(&self) -> Option<&str> {
        match self {
            ApiCall::CreateSecurityGroup { group_name, .. } => Some(group_name),
            ApiCall::CreateFirewallDomainList { name }
            | ApiCall::CreateFirewallRuleGroup { name } => Some(name),
            ApiCall::CopySnapshot {
                source_snapshot_id, ..
            } => Some(source_snapshot_id),
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
            ApiCall::ModifySnapshotAttribute { snapshot_id, .. } => vec![snapshot_id],
            _ => Vec::new(),
        }
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
            ApiCall::ArchiveFindings { finding_ids, .. } => finding_ids.clone(),
            ApiCall::DisassociateIamInstanceProfile { instance_id, .. }
            | ApiCall::AssociateIamInstanceProfile { instance_id, .. } => {
                vec![instance_id.clone()]
            }
            ApiCall::CreateNetworkAclEntry { network_acl_id, .. }
            | ApiCall::DeleteNetworkAclEntry { network_acl_id, .. } => {
                vec![network_acl_id.clone()]
            }
            ApiCall::UpdateIpSet { name, .. } => vec![name.clone()],
            ApiCall::SendCommand { instance_id, .. } => vec![instance_id.clone()],
            ApiCall::ModifySnapshotAttribute { snapshot_id, .. } => vec![snapshot_id.to_string()],
            ApiCall::CopySnapshot {
                source_snapshot_id, ..
            } => vec![source_snapshot_id.clone()],
            ApiCall::PutObject { bucket, key, .. } => vec![format!("s3://{bucket}/{key}")],
        }
    }
}
