//! The EC2 calls that change an account (security groups and their rules, network ACL entries,
//! tags, snapshots and their sharing, instance and interface attributes, instance-profile
//! associations), each with the API's `DryRun` flag as asked.

use super::*;

/// Makes an EC2 call, with the API's `DryRun` flag as asked.
pub(in crate::aws) fn call(
    c: &Clients,
    call: &ApiCall,
    created: &BTreeMap<String, String>,
    dry_run: bool,
) -> Result<CallOk, CallError> {
    match call {
        ApiCall::ModifyInstanceAttribute {
            instance_id,
            disable_api_termination,
        } => {
            let value = ec2t::AttributeBooleanValue::builder()
                .value(*disable_api_termination)
                .build();
            let req = c
                .ec2
                .modify_instance_attribute()
                .instance_id(instance_id)
                .disable_api_termination(value)
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::CreateTags { resources, tags } => {
            let req = c
                .ec2
                .create_tags()
                .set_resources(Some(resources.clone()))
                .set_tags(Some(ec2_tags(tags)))
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::DeleteTags { resources, keys } => {
            let keys = keys
                .iter()
                .map(|k| ec2t::Tag::builder().key(k).build())
                .collect();
            let req = c
                .ec2
                .delete_tags()
                .set_resources(Some(resources.clone()))
                .set_tags(Some(keys))
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::CreateSecurityGroup { .. } => create_security_group(c, call, dry_run),
        ApiCall::AuthorizeSecurityGroupIngressAll { group } => {
            let id = group.resolve(created)?;
            let perm = ec2t::IpPermission::builder()
                .ip_protocol("-1")
                .ip_ranges(ec2t::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .ipv6_ranges(ec2t::Ipv6Range::builder().cidr_ipv6("::/0").build())
                .build();
            let req = c
                .ec2
                .authorize_security_group_ingress()
                .group_id(&id)
                .ip_permissions(perm)
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::RevokeSecurityGroupEgressAll { group } => {
            revoke_egress_all(c, call, group, created, dry_run)
        }
        ApiCall::ModifyNetworkInterfaceAttribute {
            network_interface_id,
            groups,
        } => {
            let ids = groups
                .iter()
                .map(|g| g.resolve(created))
                .collect::<Result<Vec<_>, _>>()?;
            let req = c
                .ec2
                .modify_network_interface_attribute()
                .network_interface_id(network_interface_id)
                .set_groups(Some(ids))
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::CreateSnapshots { .. } => create_snapshots(c, call, dry_run),
        ApiCall::CreateNetworkAclEntry {
            network_acl_id,
            rule_number,
            egress,
            cidr_block,
        } => {
            let mut req = c
                .ec2
                .create_network_acl_entry()
                .network_acl_id(network_acl_id)
                .rule_number(*rule_number)
                .egress(*egress)
                .protocol("-1")
                .rule_action(ec2t::RuleAction::Deny)
                .dry_run(dry_run);
            req = if cidr_block.contains(':') {
                req.ipv6_cidr_block(cidr_block)
            } else {
                req.cidr_block(cidr_block)
            };
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::DeleteNetworkAclEntry {
            network_acl_id,
            rule_number,
            egress,
        } => {
            let req = c
                .ec2
                .delete_network_acl_entry()
                .network_acl_id(network_acl_id)
                .rule_number(*rule_number)
                .egress(*egress)
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::ModifySnapshotAttribute {
            snapshot_id,
            add_user_id,
        } => {
            let snapshot_id = snapshot_id.resolve(created)?;
            // OperationType with UserId.N: the API's flat form of the same modification.
            let req = c
                .ec2
                .modify_snapshot_attribute()
                .snapshot_id(snapshot_id)
                .attribute(ec2t::SnapshotAttributeName::CreateVolumePermission)
                .operation_type(ec2t::OperationType::Add)
                .user_ids(add_user_id)
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::CopySnapshot {
            source_snapshot_id,
            kms_key_id,
            description,
            tags,
        } => {
            let req = c
                .ec2
                .copy_snapshot()
                .source_snapshot_id(source_snapshot_id)
                .source_region(&c.region)
                .encrypted(true)
                .kms_key_id(kms_key_id)
                .description(description)
                .tag_specifications(
                    ec2t::TagSpecification::builder()
                        .resource_type(ec2t::ResourceType::Snapshot)
                        .set_tags(Some(
                            tags.iter()
                                .map(|(k, v)| ec2t::Tag::builder().key(k).value(v).build())
                                .collect(),
                        ))
                        .build(),
                )
                .dry_run(dry_run);
            let o = c.write(call, req.send())?;
            Ok(ok(
                o.request_id(),
                o.snapshot_id().map(str::to_string).into_iter().collect(),
            ))
        }
        // No DryRun in these two APIs: the executor never asks for one.
        ApiCall::DisassociateIamInstanceProfile { association_id, .. } => {
            let req = c
                .ec2
                .disassociate_iam_instance_profile()
                .association_id(association_id);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::AssociateIamInstanceProfile {
            instance_id,
            instance_profile_arn,
        } => {
            let req = c
                .ec2
                .associate_iam_instance_profile()
                .instance_id(instance_id)
                .iam_instance_profile(
                    ec2t::IamInstanceProfileSpecification::builder()
                        .arn(instance_profile_arn)
                        .build(),
                );
            let o = c.write(call, req.send())?;
            let id = o
                .iam_instance_profile_association()
                .and_then(|a| a.association_id())
                .map(str::to_string);
            Ok(ok(o.request_id(), id.into_iter().collect()))
        }
        _ => Err(wrong_service(call, "EC2")),
    }
}

fn create_security_group(c: &Clients, call: &ApiCall, dry_run: bool) -> Result<CallOk, CallError> {
    let ApiCall::CreateSecurityGroup {
        vpc_id,
        group_name,
        description,
        tags,
    } = call
    else {
        return Err(wrong_service(call, "CreateSecurityGroup"));
    };
    let req = c
        .ec2
        .create_security_group()
        .vpc_id(vpc_id)
        .group_name(group_name)
        .description(description)
        .tag_specifications(
            ec2t::TagSpecification::builder()
                .resource_type(ec2t::ResourceType::SecurityGroup)
                .set_tags(Some(ec2_tags(tags)))
                .build(),
        )
        .dry_run(dry_run);
    let o = c.write(call, req.send())?;
    Ok(ok(
        o.request_id(),
        o.group_id().map(str::to_string).into_iter().collect(),
    ))
}

/// Revokes exactly the egress rules the group has (a new group has all-traffic egress to
/// 0.0.0.0/0, and to ::/0 in an IPv6 VPC).
fn revoke_egress_all(
    c: &Clients,
    call: &ApiCall,
    group: &GroupRef,
    created: &BTreeMap<String, String>,
    dry_run: bool,
) -> Result<CallOk, CallError> {
    let id = group.resolve(created)?;
    let d = c.read(
        ReadOp::DescribeSecurityGroups,
        c.ec2.describe_security_groups().group_ids(&id).send(),
    )?;
    let perms: Vec<ec2t::IpPermission> = d
        .security_groups()
        .iter()
        .flat_map(|g| g.ip_permissions_egress().iter().cloned())
        .collect();
    if perms.is_empty() {
        return Ok(ok(d.request_id(), vec![]));
    }
    let req = c
        .ec2
        .revoke_security_group_egress()
        .group_id(&id)
        .set_ip_permissions(Some(perms))
        .dry_run(dry_run);
    let o = c.write(call, req.send())?;
    Ok(ok(o.request_id(), vec![]))
}

fn create_snapshots(c: &Clients, call: &ApiCall, dry_run: bool) -> Result<CallOk, CallError> {
    let ApiCall::CreateSnapshots {
        instance_id,
        tags,
        copy_tags_from_source,
    } = call
    else {
        return Err(wrong_service(call, "CreateSnapshots"));
    };
    let mut req = c
        .ec2
        .create_snapshots()
        .instance_specification(
            ec2t::InstanceSpecification::builder()
                .instance_id(instance_id)
                .exclude_boot_volume(false)
                .build(),
        )
        .description(format!("vigil forensic snapshot of {instance_id}"))
        .tag_specifications(
            ec2t::TagSpecification::builder()
                .resource_type(ec2t::ResourceType::Snapshot)
                .set_tags(Some(ec2_tags(tags)))
                .build(),
        )
        .dry_run(dry_run);
    if *copy_tags_from_source {
        req = req.copy_tags_from_source(ec2t::CopyTagsFromSource::Volume);
    }
    let o = c.write(call, req.send())?;
    Ok(ok(
        o.request_id(),
        o.snapshots()
            .iter()
            .filter_map(|s| s.snapshot_id().map(str::to_string))
            .collect(),
    ))
}
