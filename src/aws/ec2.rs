//! EC2: instances, their ENIs and volumes, security groups, tags, snapshots. The one service
//! whose calls take the API's `DryRun` flag. What vigil reads is here; what it changes is in
//! [`act`].

mod act;
pub(super) use act::call;

use super::autoscaling;
use super::clients::{Clients, ReadOp, ok, wrong_service};
use super::iam;
use crate::actions::{
    ApiCall, CallError, CallOk, EniState, GroupRef, GroupState, InstanceState, SnapshotProgress,
    SnapshotState,
};
use aws_sdk_ec2::operation::RequestId;
use aws_sdk_ec2::types as ec2t;
use std::collections::BTreeMap;

fn tags_of(tags: &[ec2t::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn ec2_tags(m: &BTreeMap<String, String>) -> Vec<ec2t::Tag> {
    m.iter()
        .map(|(k, v)| ec2t::Tag::builder().key(k).value(v).build())
        .collect()
}

/// EC2's snapshot state as vigil's. A state the SDK does not know yet is taken as final (an
/// error), so polling stops rather than spinning on it.
fn snapshot_state(s: Option<&ec2t::SnapshotState>) -> SnapshotState {
    match s {
        None | Some(ec2t::SnapshotState::Pending) => SnapshotState::Pending,
        Some(ec2t::SnapshotState::Completed) => SnapshotState::Completed,
        Some(ec2t::SnapshotState::Recoverable) => SnapshotState::Recoverable,
        Some(ec2t::SnapshotState::Recovering) => SnapshotState::Recovering,
        Some(_) => SnapshotState::Error,
    }
}

/// Progress of these snapshots, in the order asked (unknown ids are left out).
pub(super) fn snapshots(c: &Clients, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let out = c.read(
        ReadOp::DescribeSnapshots,
        c.ec2
            .describe_snapshots()
            .set_snapshot_ids(Some(ids.to_vec()))
            .send(),
    )?;
    let found: Vec<SnapshotProgress> = out
        .snapshots()
        .iter()
        .map(|s| SnapshotProgress {
            snapshot_id: s.snapshot_id().unwrap_or_default().to_string(),
            volume_id: s.volume_id().unwrap_or_default().to_string(),
            state: snapshot_state(s.state()),
            percent: s
                .progress()
                .and_then(|p| p.trim_end_matches('%').parse::<u8>().ok())
                .unwrap_or(0)
                .min(100),
        })
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|s| &s.snapshot_id == id).cloned())
        .collect())
}

/// The snapshots vigil took of the instance (tag `vigil:instance`), with their case tag.
pub(super) fn case_snapshots(
    c: &Clients,
    instance_id: &str,
) -> Result<Vec<crate::actions::CaseSnapshot>, CallError> {
    let out = c.read(
        ReadOp::DescribeSnapshots,
        c.ec2
            .describe_snapshots()
            .owner_ids("self")
            .filters(
                ec2t::Filter::builder()
                    .name("tag:vigil:instance")
                    .values(instance_id)
                    .build(),
            )
            .send(),
    )?;
    Ok(out
        .snapshots()
        .iter()
        .map(|s| crate::actions::CaseSnapshot {
            case: tags_of(s.tags())
                .remove(crate::actions::TAG_CASE)
                .unwrap_or_default(),
            snapshot_id: s.snapshot_id().unwrap_or_default().to_string(),
            volume_id: s.volume_id().unwrap_or_default().to_string(),
            state: snapshot_state(s.state()),
            encrypted: s.encrypted().unwrap_or(false),
            kms_key_id: s.kms_key_id().map(str::to_string),
            copy_of: tags_of(s.tags()).remove(crate::actions::TAG_COPY_OF),
        })
        .collect())
}

/// The instance's ENIs, by device index.
fn enis(c: &Clients, inst: &ec2t::Instance) -> Result<Vec<EniState>, CallError> {
    let eni_ids: Vec<String> = inst
        .network_interfaces()
        .iter()
        .filter_map(|n| n.network_interface_id().map(str::to_string))
        .collect();
    if eni_ids.is_empty() {
        return Ok(Vec::new());
    }
    let out = c.read(
        ReadOp::DescribeNetworkInterfaces,
        c.ec2
            .describe_network_interfaces()
            .set_network_interface_ids(Some(eni_ids))
            .send(),
    )?;
    let mut enis: Vec<EniState> = out
        .network_interfaces()
        .iter()
        .map(|n| EniState {
            eni_id: n.network_interface_id().unwrap_or_default().to_string(),
            device_index: n
                .attachment()
                .and_then(|a| a.device_index())
                .unwrap_or_default(),
            subnet_id: n.subnet_id().unwrap_or_default().to_string(),
            vpc_id: n.vpc_id().unwrap_or_default().to_string(),
            groups: n
                .groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect(),
            tags: tags_of(n.tag_set()),
        })
        .collect();
    enis.sort_by_key(|e| e.device_index);
    Ok(enis)
}

/// Everything vigil reads about an instance before acting: EC2, its role (IAM) and its
/// auto-scaling group.
pub(super) fn instance(c: &Clients, id: &str) -> Result<InstanceState, CallError> {
    let out = c.read(
        ReadOp::DescribeInstances,
        c.ec2.describe_instances().instance_ids(id).send(),
    )?;
    let inst = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .ok_or_else(|| {
            CallError::new(
                "InvalidInstanceID.NotFound",
                format!("instance {id} does not exist"),
            )
        })?;
    let enis = enis(c, inst)?;
    let prot = c.read(
        ReadOp::DescribeInstanceAttribute,
        c.ec2
            .describe_instance_attribute()
            .instance_id(id)
            .attribute(ec2t::InstanceAttributeName::DisableApiTermination)
            .send(),
    )?;
    let tags = tags_of(inst.tags());
    let profile = inst
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .map(str::to_string);
    let role_arn = profile.as_deref().and_then(|p| iam::role_of_profile(c, p));
    let profile_association = match profile {
        Some(_) => profile_association(c, id)?,
        None => None,
    };
    let tagged = tags.contains_key("aws:autoscaling:groupName");
    let (asg, asg_lifecycle) = autoscaling::membership(c, id, tagged)?;
    let asg_capacity = match &asg {
        Some(name) => autoscaling::capacity(c, name)?,
        None => None,
    };
    Ok(InstanceState {
        instance_id: id.to_string(),
        state: inst
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        vpc_id: inst.vpc_id().unwrap_or_default().to_string(),
        subnet_id: inst.subnet_id().unwrap_or_default().to_string(),
        asg,
        asg_lifecycle,
        asg_capacity,
        tags,
        instance_profile_arn: profile,
        profile_association,
        role_arn,
        termination_protection: prot
            .disable_api_termination()
            .and_then(|v| v.value())
            .unwrap_or(false),
        enis,
        volumes: inst
            .block_device_mappings()
            .iter()
            .filter_map(|b| b.ebs().and_then(|e| e.volume_id()).map(str::to_string))
            .collect(),
    })
}

/// The network ACL of a subnet (every subnet has one: the VPC's default unless another is
/// associated), its entries, the subnets it covers and the instances in them.
pub(super) fn network_acl(
    c: &Clients,
    subnet_id: &str,
) -> Result<crate::actions::NetworkAclState, CallError> {
    let out = c.read(
        ReadOp::DescribeNetworkAcls,
        c.ec2
            .describe_network_acls()
            .filters(
                ec2t::Filter::builder()
                    .name("association.subnet-id")
                    .values(subnet_id)
                    .build(),
            )
            .send(),
    )?;
    let acl = out.network_acls().first().ok_or_else(|| {
        CallError::new(
            "InvalidSubnetID.NotFound",
            format!("no network ACL is associated with subnet {subnet_id}"),
        )
    })?;
    let entries = acl
        .entries()
        .iter()
        .map(|e| crate::actions::AclEntry {
            rule_number: e.rule_number().unwrap_or(0),
            egress: e.egress().unwrap_or(false),
            cidr: e
                .cidr_block()
                .or(e.ipv6_cidr_block())
                .unwrap_or_default()
                .to_string(),
            protocol: e.protocol().unwrap_or("-1").to_string(),
            allow: matches!(e.rule_action(), Some(ec2t::RuleAction::Allow)),
        })
        .collect();
    let mut subnets: Vec<String> = acl
        .associations()
        .iter()
        .filter_map(|a| a.subnet_id().map(str::to_string))
        .collect();
    subnets.sort();
    subnets.dedup();
    let mut instances = Vec::new();
    if !subnets.is_empty() {
        let out = c.read(
            ReadOp::DescribeInstances,
            c.ec2
                .describe_instances()
                .filters(
                    ec2t::Filter::builder()
                        .name("subnet-id")
                        .set_values(Some(subnets.clone()))
                        .build(),
                )
                .send(),
        )?;
        instances = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| {
                !matches!(
                    i.state().and_then(|s| s.name()),
                    Some(ec2t::InstanceStateName::Terminated)
                )
            })
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect();
    }
    Ok(crate::actions::NetworkAclState {
        acl_id: acl.network_acl_id().unwrap_or_default().to_string(),
        vpc_id: acl.vpc_id().unwrap_or_default().to_string(),
        is_default: acl.is_default().unwrap_or(false),
        entries,
        subnets,
        instances,
    })
}

/// The id of the instance's current instance-profile association.
fn profile_association(c: &Clients, id: &str) -> Result<Option<String>, CallError> {
    let out = c.read(
        ReadOp::DescribeIamInstanceProfileAssociations,
        c.ec2
            .describe_iam_instance_profile_associations()
            .filters(
                ec2t::Filter::builder()
                    .name("instance-id")
                    .values(id)
                    .build(),
            )
            .send(),
    )?;
    Ok(out
        .iam_instance_profile_associations()
        .iter()
        .find(|a| {
            a.instance_id() == Some(id)
                && matches!(
                    a.state(),
                    Some(ec2t::IamInstanceProfileAssociationState::Associated)
                )
        })
        .and_then(|a| a.association_id())
        .map(str::to_string))
}

/// The security group with this name in this VPC, if any.
pub(super) fn group_by_name(
    c: &Clients,
    vpc_id: &str,
    name: &str,
) -> Result<Option<GroupState>, CallError> {
    let f = |k: &str, v: &str| ec2t::Filter::builder().name(k).values(v).build();
    let out = c.read(
        ReadOp::DescribeSecurityGroups,
        c.ec2
            .describe_security_groups()
            .filters(f("vpc-id", vpc_id))
            .filters(f("group-name", name))
            .send(),
    )?;
    Ok(out
        .security_groups()
        .iter()
        .find(|g| g.group_name() == Some(name) && g.vpc_id() == Some(vpc_id))
        .map(|g| GroupState {
            group_id: g.group_id().unwrap_or_default().to_string(),
            group_name: name.to_string(),
            ingress_rules: g.ip_permissions().len(),
            egress_rules: g.ip_permissions_egress().len(),
        }))
}

/// The regions enabled for the account (DescribeRegions without AllRegions), sorted.
pub(super) fn regions(c: &Clients) -> Result<Vec<String>, CallError> {
    let out = c.read(ReadOp::DescribeRegions, c.ec2.describe_regions().send())?;
    let mut names: Vec<String> = out
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}

/// The running (not terminated) instances whose instance profile is one of `profiles` (ARNs),
/// sorted.
pub(super) fn instances_with_profiles(
    c: &Clients,
    profiles: &[String],
) -> Result<Vec<String>, CallError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = c.read(
            ReadOp::DescribeInstances,
            c.ec2
                .describe_instances()
                .set_next_token(token.take())
                .send(),
        )?;
        for i in out.reservations().iter().flat_map(|r| r.instances()) {
            let arn = i.iam_instance_profile().and_then(|p| p.arn());
            let gone = i
                .state()
                .and_then(|s| s.name())
                .is_some_and(|n| *n == ec2t::InstanceStateName::Terminated);
            if !gone && arn.is_some_and(|a| profiles.iter().any(|p| p == a)) {
                ids.extend(i.instance_id().map(str::to_string));
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    ids.sort();
    Ok(ids)
}
