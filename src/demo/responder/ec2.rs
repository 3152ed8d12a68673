//! The demo world's EC2: instances and their tags and termination protection, security groups,
//! ENIs (an ENI left with only a contain group is isolated: its later flow-log lines REJECT),
//! snapshots.

use super::{DemoResponder, all_traffic, hex_id, not_found, wrong_family};
use crate::actions::{ApiCall, CallError, GroupRef, SnapshotState};
use crate::demo::world::{Instance, Quarantine, SecurityGroup, Snapshot};
use std::collections::BTreeMap;

impl DemoResponder {
    pub(super) fn find_instance(&mut self, id: &str) -> Result<&mut Instance, CallError> {
        self.world
            .instances
            .iter_mut()
            .find(|i| i.instance_id == id)
            .ok_or_else(|| not_found("InvalidInstanceID.NotFound", &format!("instance {id}")))
    }

    fn group_id(
        &self,
        g: &GroupRef,
        created: &BTreeMap<String, String>,
    ) -> Result<String, CallError> {
        let id = g.resolve(created)?;
        if self.world.security_groups.iter().any(|s| s.group_id == id) {
            Ok(id)
        } else {
            Err(not_found("InvalidGroup.NotFound", &format!("group {id}")))
        }
    }

    /// After an ENI's groups change: it is isolated when its only group is a vigil contain
    /// group (its later flow-log lines say REJECT), and no longer when it has other groups.
    fn record_isolation(&mut self, eni_id: &str, groups: &[String]) {
        let contained = matches!(groups, [g] if self.world.security_groups.iter().any(|s| &s.group_id == g && s.group_name.starts_with("vigil-contain-")));
        self.world.quarantines.retain(|q| q.eni_id != eni_id);
        if contained {
            let instance_id = self
                .world
                .instances
                .iter()
                .find(|i| i.enis.iter().any(|e| e.eni_id == eni_id))
                .map(|i| i.instance_id.clone())
                .unwrap_or_default();
            let at = self.clock.as_ref().map(|c| c());
            self.world.quarantines.push(Quarantine {
                instance_id,
                eni_id: eni_id.to_string(),
                at,
            });
        }
    }

    fn group_mut(&mut self, id: &str) -> Result<&mut SecurityGroup, CallError> {
        self.world
            .security_groups
            .iter_mut()
            .find(|s| s.group_id == id)
            .ok_or_else(|| not_found("InvalidGroup.NotFound", &format!("group {id}")))
    }

    fn set_tags(
        &mut self,
        resources: &[String],
        f: &dyn Fn(&mut BTreeMap<String, String>),
    ) -> Result<(), CallError> {
        for r in resources {
            let mut hit = false;
            for i in &mut self.world.instances {
                if &i.instance_id == r {
                    f(&mut i.tags);
                    hit = true;
                }
                for e in &mut i.enis {
                    if &e.eni_id == r {
                        f(&mut e.tags);
                        hit = true;
                    }
                }
            }
            if !hit {
                return Err(not_found("InvalidID", &format!("resource {r}")));
            }
        }
        Ok(())
    }

    pub(super) fn apply_ec2(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, CallError> {
        match call {
            ApiCall::ModifyInstanceAttribute {
                instance_id,
                disable_api_termination,
            } => {
                self.find_instance(instance_id)?.termination_protection = *disable_api_termination;
                Ok(vec![])
            }
            ApiCall::CreateTags { resources, tags } => {
                self.set_tags(resources, &|t| t.extend(tags.clone()))?;
                Ok(vec![])
            }
            ApiCall::DeleteTags { resources, keys } => {
                self.set_tags(resources, &|t| t.retain(|k, _| !keys.contains(k)))?;
                Ok(vec![])
            }
            ApiCall::CreateSecurityGroup {
                vpc_id,
                group_name,
                description,
                ..
            } => {
                if self
                    .world
                    .security_groups
                    .iter()
                    .any(|g| &g.vpc_id == vpc_id && &g.group_name == group_name)
                {
                    return Err(CallError::new(
                        "InvalidGroup.Duplicate",
                        format!("group {group_name} already exists in {vpc_id}"),
                    ));
                }
                let id = hex_id("sg", &format!("{vpc_id}/{group_name}"));
                self.world.security_groups.push(SecurityGroup {
                    group_id: id.clone(),
                    group_name: group_name.clone(),
                    vpc_id: vpc_id.clone(),
                    description: description.clone(),
                    ingress: vec![],
                    egress: vec![all_traffic()],
                });
                Ok(vec![id])
            }
            ApiCall::AuthorizeSecurityGroupIngressAll { group } => {
                let id = self.group_id(group, created)?;
                self.group_mut(&id)?.ingress.push(all_traffic());
                Ok(vec![])
            }
            ApiCall::RevokeSecurityGroupEgressAll { group } => {
                let id = self.group_id(group, created)?;
                self.group_mut(&id)?.egress.clear();
                Ok(vec![])
            }
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id,
                groups,
            } => {
                let ids = groups
                    .iter()
                    .map(|g| self.group_id(g, created))
                    .collect::<Result<Vec<_>, _>>()?;
                let eni = self
                    .world
                    .instances
                    .iter_mut()
                    .flat_map(|i| i.enis.iter_mut())
                    .find(|e| &e.eni_id == network_interface_id)
                    .ok_or_else(|| {
                        not_found(
                            "InvalidNetworkInterfaceID.NotFound",
                            &format!("network interface {network_interface_id}"),
                        )
                    })?;
                eni.security_groups = ids.clone();
                let eni_id = eni.eni_id.clone();
                self.record_isolation(&eni_id, &ids);
                Ok(vec![])
            }
            ApiCall::CreateSnapshots {
                instance_id, tags, ..
            } => {
                let n = self.world.snapshots.len();
                let inst = self.find_instance(instance_id)?.clone();
                let mut ids = Vec::new();
                for (k, v) in inst.volumes.iter().enumerate() {
                    let id = hex_id("snap", &format!("{}/{}/{}", v.volume_id, n, k));
                    let mut t = tags.clone();
                    t.insert("vigil:volume".to_string(), v.volume_id.clone());
                    self.world.snapshots.push(Snapshot {
                        snapshot_id: id.clone(),
                        volume_id: v.volume_id.clone(),
                        instance_id: Some(instance_id.clone()),
                        tags: t,
                        state: SnapshotState::Pending,
                        progress: 0,
                        shared_with: Vec::new(),
                        kms_key_id: v.kms_key_id.clone(),
                    });
                    ids.push(id);
                }
                Ok(ids)
            }
            ApiCall::CreateNetworkAclEntry {
                network_acl_id,
                rule_number,
                egress,
                cidr_block,
            } => {
                let known =
                    self.world.instances.iter().any(|i| {
                        crate::demo::world::World::acl_of_vpc(&i.vpc_id) == *network_acl_id
                    });
                if !known {
                    return Err(not_found(
                        "InvalidNetworkAclID.NotFound",
                        &format!("network ACL {network_acl_id}"),
                    ));
                }
                let taken = default_acl_entries()
                    .iter()
                    .chain(
                        self.world
                            .acl_entries
                            .iter()
                            .filter(|b| b.acl_id == *network_acl_id)
                            .map(|b| &b.entry),
                    )
                    .any(|e| e.egress == *egress && e.rule_number == *rule_number);
                if taken {
                    return Err(CallError::new(
                        "NetworkAclEntryAlreadyExists",
                        format!("rule {rule_number} already exists in {network_acl_id}"),
                    ));
                }
                let at = self.clock.as_ref().map(|c| c());
                self.world.acl_entries.push(crate::demo::world::AclBlock {
                    acl_id: network_acl_id.clone(),
                    entry: crate::actions::AclEntry {
                        rule_number: *rule_number,
                        egress: *egress,
                        cidr: cidr_block.clone(),
                        protocol: "-1".to_string(),
                        allow: false,
                    },
                    at,
                });
                Ok(vec![])
            }
            ApiCall::DeleteNetworkAclEntry {
                network_acl_id,
                rule_number,
                egress,
            } => {
                let before = self.world.acl_entries.len();
                self.world.acl_entries.retain(|b| {
                    !(b.acl_id == *network_acl_id
                        && b.entry.egress == *egress
                        && b.entry.rule_number == *rule_number)
                });
                if self.world.acl_entries.len() == before {
                    return Err(not_found(
                        "InvalidNetworkAclEntry.NotFound",
                        &format!("rule {rule_number} of {network_acl_id}"),
                    ));
                }
                Ok(vec![])
            }
            ApiCall::CopySnapshot {
                source_snapshot_id,
                kms_key_id,
                tags,
                ..
            } => {
                let n = self.world.snapshots.len();
                let source = self
                    .world
                    .snapshots
                    .iter()
                    .find(|s| &s.snapshot_id == source_snapshot_id)
                    .cloned()
                    .ok_or_else(|| {
                        not_found(
                            "InvalidSnapshot.NotFound",
                            &format!("snapshot {source_snapshot_id}"),
                        )
                    })?;
                let id = hex_id("snap", &format!("{source_snapshot_id}/copy/{n}"));
                self.world.snapshots.push(Snapshot {
                    snapshot_id: id.clone(),
                    tags: tags.clone(),
                    state: SnapshotState::Pending,
                    progress: 0,
                    shared_with: Vec::new(),
                    kms_key_id: Some(kms_key_id.clone()),
                    ..source
                });
                Ok(vec![id])
            }
            ApiCall::ModifySnapshotAttribute {
                snapshot_id,
                add_user_id,
            } => {
                let snapshot_id = &snapshot_id.resolve(created)?;
                let snap = self
                    .world
                    .snapshots
                    .iter_mut()
                    .find(|s| &s.snapshot_id == snapshot_id)
                    .ok_or_else(|| {
                        not_found(
                            "InvalidSnapshot.NotFound",
                            &format!("snapshot {snapshot_id}"),
                        )
                    })?;
                if !snap.shared_with.contains(add_user_id) {
                    snap.shared_with.push(add_user_id.clone());
                }
                Ok(vec![])
            }
            ApiCall::DisassociateIamInstanceProfile {
                association_id,
                instance_id,
            } => {
                let i = self.find_instance(instance_id)?;
                if i.instance_profile_arn.is_none()
                    || super::profile_association(instance_id) != *association_id
                {
                    return Err(not_found(
                        "InvalidAssociationID.NotFound",
                        &format!("association {association_id}"),
                    ));
                }
                i.instance_profile_arn = None;
                i.detached_role_arn = i.role_arn.take();
                Ok(vec![])
            }
            ApiCall::AssociateIamInstanceProfile {
                instance_id,
                instance_profile_arn,
            } => {
                let i = self.find_instance(instance_id)?;
                if i.instance_profile_arn.is_some() {
                    return Err(CallError::new(
                        "IncorrectState",
                        format!("{instance_id} already has an instance profile"),
                    ));
                }
                i.instance_profile_arn = Some(instance_profile_arn.clone());
                i.role_arn = i.detached_role_arn.take();
                Ok(vec![super::profile_association(instance_id)])
            }
            _ => Err(wrong_family(call, "EC2")),
        }
    }
}

/// The entries every network ACL of the demo world starts with (AWS's default ACL): rule 100
/// allows all IPv4 traffic each way, and the final `*` rule (32767) denies the rest.
pub(super) fn default_acl_entries() -> Vec<crate::actions::AclEntry> {
    let mut v = Vec::new();
    for egress in [false, true] {
        for (n, allow) in [(100, true), (32767, false)] {
            v.push(crate::actions::AclEntry {
                rule_number: n,
                egress,
                cidr: "0.0.0.0/0".to_string(),
                protocol: "-1".to_string(),
                allow,
            });
        }
    }
    v
}
