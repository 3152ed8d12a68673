//! How a call reads in the plan preview and the report: the API's own parameter names, one line.

use super::api::ApiCall;
use std::collections::BTreeMap;

fn kv(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

impl ApiCall {
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
            } => {
                let groups: Vec<String> = groups.iter().map(ToString::to_string).collect();
                format!(
                    "ModifyNetworkInterfaceAttribute NetworkInterfaceId={network_interface_id} Groups={}",
                    groups.join(",")
                )
            }
            ApiCall::CreateSnapshots {
                instance_id,
                tags,
                copy_tags_from_source,
            } => create_snapshots(instance_id, tags, *copy_tags_from_source),
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
            ApiCall::ArchiveFindings {
                detector_id,
                finding_ids,
            } => format!(
                "ArchiveFindings DetectorId={detector_id} FindingIds={}",
                finding_ids.join(",")
            ),
            ApiCall::DisassociateIamInstanceProfile {
                association_id,
                instance_id,
            } => format!(
                "DisassociateIamInstanceProfile AssociationId={association_id} ({instance_id})"
            ),
            ApiCall::CreateNetworkAclEntry {
                network_acl_id,
                rule_number,
                egress,
                cidr_block,
            } => format!(
                "CreateNetworkAclEntry NetworkAclId={network_acl_id} RuleNumber={rule_number} Egress={egress} Protocol=-1 RuleAction=deny {}={cidr_block}",
                if cidr_block.contains(':') {
                    "Ipv6CidrBlock"
                } else {
                    "CidrBlock"
                }
            ),
            ApiCall::ModifySnapshotAttribute {
                snapshot_id,
                add_user_id,
            } => format!(
                "ModifySnapshotAttribute SnapshotId={} Attribute=createVolumePermission OperationType=add UserIds={add_user_id}",
                match snapshot_id {
                    crate::actions::GroupRef::Created(source) => format!("<copy of {source}>"),
                    existing => existing.to_string(),
                }
            ),
            ApiCall::CopySnapshot {
                source_snapshot_id,
                kms_key_id,
                description,
                tags,
            } => format!(
                "CopySnapshot SourceSnapshotId={source_snapshot_id} SourceRegion=(the responder's) Encrypted=true KmsKeyId={kms_key_id} Description=\"{description}\" TagSpecifications=snapshot:{}",
                kv(tags)
            ),
            ApiCall::PutObject {
                bucket,
                key,
                body,
                sha256,
                size,
                retention,
            } => {
                let from = match body {
                    crate::actions::evidence::ObjectBody::File { path } => {
                        format!(" Body=@{}", path.display())
                    }
                    crate::actions::evidence::ObjectBody::Text { .. } => String::new(),
                };
                let mut s = format!(
                    "PutObject Bucket={bucket} Key={key}{from} ContentLength={size} ChecksumSHA256=<sha256 {}…>",
                    &sha256[..sha256.len().min(16)]
                );
                if let Some(r) = retention {
                    s.push_str(&format!(
                        " ObjectLockMode={} ObjectLockRetainUntilDate={}",
                        r.mode, r.until
                    ));
                }
                s
            }
            ApiCall::SendCommand {
                instance_id,
                document,
                commands,
                output_s3_bucket,
                output_s3_key_prefix,
                timeout_seconds,
                ..
            } => format!(
                "SendCommand InstanceIds={instance_id} DocumentName={document} Parameters.commands=[{} lines] TimeoutSeconds={timeout_seconds} OutputS3BucketName={output_s3_bucket} OutputS3KeyPrefix={output_s3_key_prefix}",
                commands.len()
            ),
            ApiCall::UpdateIpSet {
                name,
                id,
                scope,
                add,
                remove,
                lock_token,
            } => {
                let mut s = format!("UpdateIPSet Name={name} Id={id} Scope={scope}");
                if !add.is_empty() {
                    s.push_str(&format!(" Addresses+={}", add.join(",")));
                }
                if !remove.is_empty() {
                    s.push_str(&format!(" Addresses-={}", remove.join(",")));
                }
                s.push_str(&format!(" LockToken={lock_token}"));
                s
            }
            ApiCall::DeleteNetworkAclEntry {
                network_acl_id,
                rule_number,
                egress,
            } => format!(
                "DeleteNetworkAclEntry NetworkAclId={network_acl_id} RuleNumber={rule_number} Egress={egress}"
            ),
            ApiCall::AssociateIamInstanceProfile {
                instance_id,
                instance_profile_arn,
            } => format!(
                "AssociateIamInstanceProfile InstanceId={instance_id} IamInstanceProfile.Arn={instance_profile_arn}"
            ),
        }
    }
}

fn create_snapshots(
    instance_id: &str,
    tags: &BTreeMap<String, String>,
    copy_tags_from_source: bool,
) -> String {
    format!(
        "CreateSnapshots InstanceSpecification.InstanceId={instance_id} CopyTagsFromSource={} Tags={}",
        if copy_tags_from_source {
            "volume"
        } else {
            "none"
        },
        kv(tags)
    )
}
