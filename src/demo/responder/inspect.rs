//! Reading the demo world, as the planner reads an account.

use super::{DEMO_DETECTOR, DEMO_SNAPSHOT_STEP, DemoResponder, not_found};
use crate::actions::{
    AccountView, CallError, DnsFirewallState, EniState, GroupState, Identity, Inspect,
    InstanceState, KeyState, SnapshotProgress, SnapshotState, role_name,
};

impl Inspect for DemoResponder {
    fn is_demo(&self) -> bool {
        true
    }

    fn identity(&mut self) -> Result<Identity, CallError> {
        Ok(Identity {
            account: self.world.account_id.clone(),
            arn: format!(
                "arn:aws:sts::{}:assumed-role/vigil-demo-responder/demo",
                self.world.account_id
            ),
        })
    }

    fn case_snapshots(
        &mut self,
        instance_id: &str,
    ) -> Result<Vec<crate::actions::CaseSnapshot>, CallError> {
        Ok(self
            .world
            .snapshots
            .iter()
            .filter(|s| s.tags.get("vigil:instance").map(String::as_str) == Some(instance_id))
            .map(|s| crate::actions::CaseSnapshot {
                case: s
                    .tags
                    .get(crate::actions::TAG_CASE)
                    .cloned()
                    .unwrap_or_default(),
                snapshot_id: s.snapshot_id.clone(),
                volume_id: s.volume_id.clone(),
                state: s.state,
                encrypted: s.kms_key_id.is_some(),
                kms_key_id: s.kms_key_id.clone(),
                copy_of: s.tags.get(crate::actions::TAG_COPY_OF).cloned(),
            })
            .collect())
    }

    fn ssm_agent(
        &mut self,
        instance_id: &str,
    ) -> Result<Option<crate::actions::SsmAgent>, CallError> {
        let i = self.find_instance(instance_id)?;
        Ok((i.state == "running").then(|| crate::actions::SsmAgent {
            ping_status: "Online".to_string(),
            platform_type: "Linux".to_string(),
        }))
    }

    fn command_status(
        &mut self,
        command_id: &str,
        _instance_id: &str,
    ) -> Result<(String, String), CallError> {
        if self
            .world
            .collections
            .iter()
            .any(|c| c.command_id == command_id)
        {
            Ok(("Success".to_string(), "Success".to_string()))
        } else {
            Err(super::not_found(
                "InvocationDoesNotExist",
                &format!("command {command_id}"),
            ))
        }
    }

    fn object_lock(&mut self, _bucket: &str) -> Result<crate::actions::ObjectLockState, CallError> {
        Ok(crate::actions::ObjectLockState::default())
    }

    fn stored_objects(
        &mut self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<crate::actions::StoredObject>, CallError> {
        Ok(self.stored(bucket, prefix))
    }

    fn read_object(&mut self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, CallError> {
        Ok(self.object(bucket, key))
    }

    fn waf_ip_set(
        &mut self,
        name: &str,
        scope: &str,
    ) -> Result<crate::actions::WafIpSetState, CallError> {
        let s = self
            .world
            .waf_ip_sets
            .iter()
            .find(|s| s.name == name && s.scope.eq_ignore_ascii_case(scope))
            .ok_or_else(|| {
                super::not_found(
                    "WAFNonexistentItemException",
                    &format!("WAF IP set {name} ({scope})"),
                )
            })?;
        Ok(crate::actions::WafIpSetState {
            name: s.name.clone(),
            id: s.id.clone(),
            scope: s.scope.clone(),
            version: s.version.clone(),
            addresses: s.addresses.clone(),
            lock_token: super::waf_lock_token(s),
        })
    }

    fn network_acl(
        &mut self,
        subnet_id: &str,
    ) -> Result<crate::actions::NetworkAclState, CallError> {
        let vpc = self
            .world
            .instances
            .iter()
            .find(|i| i.subnet_id == subnet_id)
            .map(|i| i.vpc_id.clone())
            .ok_or_else(|| {
                super::not_found("InvalidSubnetID.NotFound", &format!("subnet {subnet_id}"))
            })?;
        let acl_id = crate::demo::world::World::acl_of_vpc(&vpc);
        let mut subnets: Vec<String> = self
            .world
            .instances
            .iter()
            .filter(|i| i.vpc_id == vpc && !i.subnet_id.is_empty())
            .map(|i| i.subnet_id.clone())
            .collect();
        subnets.sort();
        subnets.dedup();
        let instances = self
            .world
            .instances
            .iter()
            .filter(|i| subnets.contains(&i.subnet_id))
            .map(|i| i.instance_id.clone())
            .collect();
        let mut entries = super::ec2::default_acl_entries();
        entries.extend(
            self.world
                .acl_entries
                .iter()
                .filter(|b| b.acl_id == acl_id)
                .map(|b| b.entry.clone()),
        );
        Ok(crate::actions::NetworkAclState {
            acl_id,
            vpc_id: vpc,
            is_default: true,
            entries,
            subnets,
            instances,
        })
    }

    fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError> {
        let i = self.find_instance(instance_id)?.clone();
        Ok(InstanceState {
            instance_id: i.instance_id.clone(),
            state: i.state.clone(),
            vpc_id: i.vpc_id.clone(),
            subnet_id: i.subnet_id.clone(),
            tags: i.tags.clone(),
            instance_profile_arn: i.instance_profile_arn.clone(),
            profile_association: i
                .instance_profile_arn
                .as_ref()
                .map(|_| super::profile_association(&i.instance_id)),
            role_arn: i.role_arn.clone(),
            asg: i.asg.clone(),
            asg_capacity: i.asg.as_ref().and_then(|name| {
                self.world
                    .auto_scaling_groups
                    .iter()
                    .find(|g| &g.name == name)
                    .map(|g| (g.min, g.desired, g.max))
            }),
            asg_lifecycle: i.asg.as_ref().map(|_| {
                i.asg_lifecycle
                    .clone()
                    .unwrap_or_else(|| "InService".to_string())
            }),
            termination_protection: i.termination_protection,
            enis: i
                .enis
                .iter()
                .map(|e| EniState {
                    eni_id: e.eni_id.clone(),
                    device_index: e.device_index,
                    subnet_id: e.subnet_id.clone(),
                    vpc_id: i.vpc_id.clone(),
                    groups: e.security_groups.clone(),
                    tags: e.tags.clone(),
                })
                .collect(),
            volumes: i.volumes.iter().map(|v| v.volume_id.clone()).collect(),
        })
    }

    fn group_by_name(&mut self, vpc_id: &str, name: &str) -> Result<Option<GroupState>, CallError> {
        Ok(self
            .world
            .security_groups
            .iter()
            .find(|g| g.vpc_id == vpc_id && g.group_name == name)
            .map(|g| GroupState {
                group_id: g.group_id.clone(),
                group_name: g.group_name.clone(),
                ingress_rules: g.ingress.len(),
                egress_rules: g.egress.len(),
            }))
    }

    fn access_key(&mut self, access_key_id: &str) -> Result<KeyState, CallError> {
        self.world
            .users
            .iter()
            .find_map(|u| {
                u.access_keys
                    .iter()
                    .find(|k| k.access_key_id == access_key_id)
                    .map(|k| KeyState {
                        access_key_id: k.access_key_id.clone(),
                        user_name: u.name.clone(),
                        status: k.status.clone(),
                    })
            })
            .ok_or_else(|| not_found("NoSuchEntity", &format!("access key {access_key_id}")))
    }

    fn instances_with_role(&mut self, role_arn: &str) -> Result<Vec<String>, CallError> {
        let name = role_name(role_arn);
        Ok(self
            .world
            .instances
            .iter()
            .filter(|i| {
                i.state != "terminated"
                    && i.role_arn.as_deref().is_some_and(|r| role_name(r) == name)
            })
            .map(|i| i.instance_id.clone())
            .collect())
    }

    fn account_view(&self) -> Option<AccountView> {
        Some(self.view())
    }

    /// The demo account's one detector.
    fn detectors(&mut self) -> Result<Vec<String>, CallError> {
        Ok(vec![DEMO_DETECTOR.to_string()])
    }

    fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
        let fw = &self.world.dns_firewall;
        let list = fw
            .domain_lists
            .iter()
            .find(|l| l.name == crate::actions::DNS_BLOCKLIST_NAME);
        let group = fw
            .rule_groups
            .iter()
            .find(|g| g.name == crate::actions::DNS_RULE_GROUP_NAME);
        Ok(DnsFirewallState {
            domain_list: list.map(|l| (l.id.clone(), l.domains.clone())),
            rule_group: group.map(|g| g.id.clone()),
            block_rule: matches!((group, list), (Some(g), Some(l)) if g.blocks.contains(&l.id)),
            associated: group.is_some_and(|g| g.vpcs.iter().any(|v| v == vpc_id)),
        })
    }

    /// Simulated progress: each call moves every pending snapshot asked about one step on, so a
    /// poller sees pending 35%, 70%, then completed — a few polls, like a small real volume.
    fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
        let mut out = Vec::new();
        for id in ids {
            let s = self
                .world
                .snapshots
                .iter_mut()
                .find(|s| &s.snapshot_id == id)
                .ok_or_else(|| not_found("InvalidSnapshot.NotFound", &format!("snapshot {id}")))?;
            if s.state == SnapshotState::Pending {
                s.progress = s.progress.saturating_add(DEMO_SNAPSHOT_STEP).min(100);
                if s.progress >= 100 {
                    s.state = SnapshotState::Completed;
                }
            }
            out.push(SnapshotProgress {
                snapshot_id: s.snapshot_id.clone(),
                volume_id: s.volume_id.clone(),
                state: s.state,
                percent: s.progress,
            });
        }
        Ok(out)
    }
}
