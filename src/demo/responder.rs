//! The demo responder: the same actions applied to a scenario's world (world.json) in memory.
//! Quarantine puts the contain group on the ENIs, snapshots get ids, notifications land in an
//! outbox; the audit log is written as for a real account, each record marked `demo`.

use super::world::{Instance, SecurityGroup, Snapshot, World};
use crate::actions::account::{
    AccountView, CredentialView, EniView, InstanceView, MessageView, SnapshotView,
};
use crate::actions::{
    ApiCall, CallError, CallOk, DnsFirewallState, DryRun, EniState, GroupRef, GroupState, Identity,
    Inspect, InstanceState, KeyState, Responder, SnapshotProgress, role_name,
};
use crate::model::content_hash;
use serde::Serialize;
use std::collections::BTreeMap;

/// A message the demo "sent".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: String,
    pub message: String,
    pub json: String,
}

pub struct DemoResponder {
    pub world: World,
    pub outbox: Vec<OutboxEntry>,
    /// The scenario's flow-log lines, to show which ones an isolation turns to REJECT.
    pub flows: Vec<crate::model::FlowRecord>,
    /// The world as loaded, to tell what this session changed.
    original: World,
    /// Names of the scenario (for the world screen).
    name: String,
    calls: u64,
    /// Scenario time "now", for recording when an ENI was isolated (the console sets it from the
    /// playback clock; `None`: isolation counts from the scenario's start).
    pub clock: Option<Box<dyn Fn() -> crate::model::Ts + Send>>,
}

fn not_found(code: &str, what: &str) -> CallError {
    CallError::new(code, format!("{what} does not exist in the demo world"))
}

fn hex_id(prefix: &str, seed: &str) -> String {
    format!("{prefix}-0{:016x}", content_hash(seed.as_bytes()))
}

fn all_traffic() -> serde_json::Value {
    serde_json::json!({"protocol": "-1", "from_port": null, "to_port": null, "cidr": "0.0.0.0/0", "description": "all"})
}

impl DemoResponder {
    pub fn new(world: World) -> DemoResponder {
        DemoResponder {
            original: world.clone(),
            world,
            outbox: Vec::new(),
            flows: Vec::new(),
            name: String::new(),
            calls: 0,
            clock: None,
        }
    }

    /// The scenario's world, with the scenario's flow-log lines.
    pub fn for_scenario(sc: &super::Scenario) -> Result<DemoResponder, super::DemoError> {
        let mut r = DemoResponder::new(sc.world()?);
        r.flows = sc.evidence.flows.clone();
        r.name = sc.manifest.name.clone();
        Ok(r)
    }

    /// The world as the console's world screen shows it.
    pub fn view(&self) -> AccountView {
        let w = &self.world;
        let group_name = |id: &String| {
            w.security_groups
                .iter()
                .find(|g| &g.group_id == id)
                .map_or_else(|| id.clone(), |g| g.group_name.clone())
        };
        let instances = w
            .instances
            .iter()
            .map(|i| InstanceView {
                instance_id: i.instance_id.clone(),
                name: i.name.clone(),
                state: i.state.clone(),
                asg: i.asg.as_ref().map(|a| {
                    (
                        a.clone(),
                        i.asg_lifecycle
                            .clone()
                            .unwrap_or_else(|| "InService".to_string()),
                    )
                }),
                termination_protection: i.termination_protection,
                status: i.tags.get(crate::actions::TAG_STATUS).cloned(),
                case: i.tags.get(crate::actions::TAG_CASE).cloned(),
                enis: i
                    .enis
                    .iter()
                    .map(|e| {
                        let ours = |r: &&crate::model::FlowRecord| {
                            r.interface_id.as_deref() == Some(e.eni_id.as_str())
                        };
                        EniView {
                            eni_id: e.eni_id.clone(),
                            device_index: e.device_index,
                            groups: e.security_groups.iter().map(group_name).collect(),
                            isolated: w
                                .quarantines
                                .iter()
                                .find(|q| q.eni_id == e.eni_id)
                                .map(|q| q.at),
                            rejected_lines: self
                                .flows
                                .iter()
                                .filter(ours)
                                .filter(|r| {
                                    w.flow_action(r) == Some("REJECT")
                                        && r.action.as_deref() != Some("REJECT")
                                })
                                .count(),
                        }
                    })
                    .collect(),
            })
            .collect();
        let snapshots = w
            .snapshots
            .iter()
            .map(|s| SnapshotView {
                snapshot_id: s.snapshot_id.clone(),
                volume_id: s.volume_id.clone(),
                instance_id: s.instance_id.clone(),
                state: s.state.clone(),
                percent: s.progress,
            })
            .collect();
        let outbox = self
            .outbox
            .iter()
            .map(|m| MessageView {
                message_id: m.message_id.clone(),
                to: m.topic_arn.clone(),
                subject: m.subject.clone(),
                body: m.message.clone(),
            })
            .collect();
        let mut credentials = Vec::new();
        for u in &w.users {
            for k in &u.access_keys {
                let was = self
                    .original
                    .users
                    .iter()
                    .flat_map(|o| o.access_keys.iter())
                    .find(|o| o.access_key_id == k.access_key_id);
                credentials.push(CredentialView {
                    what: format!("key {} (user {})", k.access_key_id, u.name),
                    state: k.status.clone(),
                    changed: was.is_none_or(|o| o.status != k.status),
                });
            }
        }
        for r in &w.roles {
            let revoked = r
                .inline_policies
                .contains_key(crate::actions::REVOKE_POLICY_NAME);
            credentials.push(CredentialView {
                what: format!("role {}", r.name),
                state: if revoked {
                    format!(
                        "older sessions revoked ({})",
                        crate::actions::REVOKE_POLICY_NAME
                    )
                } else {
                    "sessions valid".to_string()
                },
                changed: revoked,
            });
        }
        let fw = &w.dns_firewall;
        let blocked = fw
            .domain_lists
            .iter()
            .flat_map(|l| {
                let vpcs: Vec<String> = fw
                    .rule_groups
                    .iter()
                    .filter(|g| g.blocks.contains(&l.id))
                    .flat_map(|g| g.vpcs.iter().cloned())
                    .collect();
                l.domains.iter().map(move |d| (d.clone(), vpcs.clone()))
            })
            .collect();
        AccountView {
            label: format!("demo world {}", self.name).trim().to_string(),
            blocked,
            account: w.account_id.clone(),
            region: w.region.clone(),
            instances,
            snapshots,
            outbox,
            credentials,
        }
    }

    fn find_instance(&mut self, id: &str) -> Result<&mut Instance, CallError> {
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
            self.world.quarantines.push(super::world::Quarantine {
                instance_id,
                eni_id: eni_id.to_string(),
                at,
            });
        }
    }

    fn firewall_group_mut(
        &mut self,
        r: &GroupRef,
        created: &BTreeMap<String, String>,
    ) -> Result<&mut super::world::FirewallRuleGroup, CallError> {
        let id = r.resolve(created)?;
        self.world
            .dns_firewall
            .rule_groups
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or_else(|| not_found("ResourceNotFoundException", &format!("rule group {id}")))
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

    fn apply(
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
                        state: "pending".to_string(),
                        progress: 0,
                    });
                    ids.push(id);
                }
                Ok(ids)
            }
            ApiCall::CreateFirewallDomainList { name } => {
                let id = format!("rslvr-fdl-{:016x}", content_hash(name.as_bytes()));
                self.world
                    .dns_firewall
                    .domain_lists
                    .push(super::world::FirewallDomainList {
                        id: id.clone(),
                        name: name.clone(),
                        domains: Vec::new(),
                    });
                Ok(vec![id])
            }
            ApiCall::UpdateFirewallDomains {
                domain_list,
                domains,
            } => {
                let id = domain_list.resolve(created)?;
                let list = self
                    .world
                    .dns_firewall
                    .domain_lists
                    .iter_mut()
                    .find(|l| l.id == id)
                    .ok_or_else(|| {
                        not_found("ResourceNotFoundException", &format!("domain list {id}"))
                    })?;
                for d in domains {
                    if !list.domains.contains(d) {
                        list.domains.push(d.clone());
                    }
                }
                Ok(vec![])
            }
            ApiCall::CreateFirewallRuleGroup { name } => {
                let id = format!("rslvr-frg-{:016x}", content_hash(name.as_bytes()));
                self.world
                    .dns_firewall
                    .rule_groups
                    .push(super::world::FirewallRuleGroup {
                        id: id.clone(),
                        name: name.clone(),
                        ..Default::default()
                    });
                Ok(vec![id])
            }
            ApiCall::CreateFirewallRule {
                rule_group,
                domain_list,
                ..
            } => {
                let list = domain_list.resolve(created)?;
                let group = self.firewall_group_mut(rule_group, created)?;
                group.blocks.push(list);
                Ok(vec![])
            }
            ApiCall::AssociateFirewallRuleGroup {
                rule_group, vpc_id, ..
            } => {
                if !self.world.vpcs.iter().any(|v| &v.vpc_id == vpc_id) {
                    return Err(not_found(
                        "ResourceNotFoundException",
                        &format!("VPC {vpc_id}"),
                    ));
                }
                let group = self.firewall_group_mut(rule_group, created)?;
                let id = format!(
                    "rslvr-frgassoc-{:016x}",
                    content_hash(format!("{}{vpc_id}", group.id).as_bytes())
                );
                group.vpcs.push(vpc_id.clone());
                Ok(vec![id])
            }
            ApiCall::EnterStandby {
                auto_scaling_group_name: asg,
                instance_id,
                ..
            }
            | ApiCall::ExitStandby {
                auto_scaling_group_name: asg,
                instance_id,
            }
            | ApiCall::DetachInstances {
                auto_scaling_group_name: asg,
                instance_id,
                ..
            } => {
                let (from, to) = match call {
                    ApiCall::EnterStandby { .. } => ("InService", Some("Standby")),
                    ApiCall::ExitStandby { .. } => ("Standby", Some("InService")),
                    _ => ("InService", None),
                };
                let decrement = match call {
                    ApiCall::EnterStandby {
                        should_decrement_desired_capacity: d,
                        ..
                    }
                    | ApiCall::DetachInstances {
                        should_decrement_desired_capacity: d,
                        ..
                    } => *d,
                    _ => false,
                };
                let inst = self.find_instance(instance_id)?.clone();
                if inst.asg.as_ref() != Some(asg) {
                    return Err(CallError::new(
                        "ValidationError",
                        format!("instance {instance_id} is not part of Auto Scaling group {asg}"),
                    ));
                }
                let state = inst.asg_lifecycle.as_deref().unwrap_or("InService");
                if state != from {
                    return Err(CallError::new(
                        "ValidationError",
                        format!("the instance {instance_id} is not in {from}"),
                    ));
                }
                // Then the capacity, checked before anything changes, as Auto Scaling does.
                if let Some(g) = self
                    .world
                    .auto_scaling_groups
                    .iter_mut()
                    .find(|g| &g.name == asg)
                {
                    let desired = match call {
                        ApiCall::ExitStandby { .. } => g.desired + 1,
                        _ if decrement => g.desired - 1,
                        _ => g.desired,
                    };
                    if desired < g.min || desired > g.max {
                        return Err(CallError::new(
                            "ValidationError",
                            format!(
                                "{asg}: desired capacity {desired} would be outside min {} / max {}",
                                g.min, g.max
                            ),
                        ));
                    }
                    g.desired = desired;
                    if to.is_none() {
                        g.instances.retain(|i| i != instance_id);
                    }
                }
                let inst = self.find_instance(instance_id)?;
                match to {
                    Some(to) => inst.asg_lifecycle = Some(to.to_string()),
                    None => {
                        inst.asg = None;
                        inst.asg_lifecycle = None;
                    }
                }
                Ok(vec![])
            }
            ApiCall::Publish {
                topic_arn,
                subject,
                message,
                json,
            } => {
                let id = format!(
                    "demo-msg-{:016x}",
                    content_hash(format!("{}{}", self.outbox.len(), subject).as_bytes())
                );
                self.outbox.push(OutboxEntry {
                    message_id: id.clone(),
                    topic_arn: topic_arn.clone(),
                    subject: subject.clone(),
                    message: message.clone(),
                    json: json.clone(),
                });
                Ok(vec![id])
            }
            ApiCall::PostWebhook { endpoint, text } => {
                let id = format!(
                    "demo-hook-{:016x}",
                    content_hash(format!("{}{}", self.outbox.len(), text).as_bytes())
                );
                self.outbox.push(OutboxEntry {
                    message_id: id.clone(),
                    topic_arn: endpoint.clone(),
                    subject: text.lines().next().unwrap_or_default().to_string(),
                    message: text.clone(),
                    json: crate::actions::webhook::body(text),
                });
                Ok(vec![id])
            }
            ApiCall::UpdateAccessKey {
                user_name,
                access_key_id,
                status,
            } => {
                let key = self
                    .world
                    .users
                    .iter_mut()
                    .filter(|u| &u.name == user_name)
                    .flat_map(|u| u.access_keys.iter_mut())
                    .find(|k| &k.access_key_id == access_key_id)
                    .ok_or_else(|| {
                        not_found("NoSuchEntity", &format!("access key {access_key_id}"))
                    })?;
                key.status = status.clone();
                Ok(vec![])
            }
            ApiCall::PutRolePolicy {
                role_name: name,
                policy_name,
                policy_document,
            } => {
                let role = self
                    .world
                    .roles
                    .iter_mut()
                    .find(|r| &r.name == name)
                    .ok_or_else(|| not_found("NoSuchEntity", &format!("role {name}")))?;
                role.inline_policies
                    .insert(policy_name.clone(), policy_document.clone());
                Ok(vec![])
            }
        }
    }
}

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

    fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError> {
        let i = self.find_instance(instance_id)?.clone();
        Ok(InstanceState {
            instance_id: i.instance_id.clone(),
            state: i.state.clone(),
            vpc_id: i.vpc_id.clone(),
            subnet_id: i.subnet_id.clone(),
            tags: i.tags.clone(),
            instance_profile_arn: i.instance_profile_arn.clone(),
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
            if s.state == "pending" {
                s.progress = s.progress.saturating_add(DEMO_SNAPSHOT_STEP).min(100);
                if s.progress >= 100 {
                    s.state = "completed".to_string();
                }
            }
            out.push(SnapshotProgress {
                snapshot_id: s.snapshot_id.clone(),
                volume_id: s.volume_id.clone(),
                state: s.state.clone(),
                percent: s.progress,
            });
        }
        Ok(out)
    }
}

/// How far a demo snapshot gets per DescribeSnapshots: pending 0% → 35% → 70% → completed.
pub const DEMO_SNAPSHOT_STEP: u8 = 35;

impl Responder for DemoResponder {
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError> {
        self.calls += 1;
        let request_id = Some(format!("demo-{:04}", self.calls));
        match self.apply(call, created) {
            Ok(created) => Ok(CallOk {
                request_id,
                created,
            }),
            Err(mut e) => {
                e.request_id = request_id;
                e.iam_action = Some(call.iam_action().to_string());
                Err(e)
            }
        }
    }

    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError> {
        // Apply to a copy of the world and throw it away (harmless for any call, so no gate on
        // supports_dry_run here: the executor only asks for the calls that have one).
        let mut scratch = DemoResponder::new(self.world.clone());
        scratch.apply(call, created).map(|_| DryRun::WouldSucceed)
    }
}
