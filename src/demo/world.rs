//! A scenario's account: `demo/<name>/world.json` (schema in demo/README.md). Only the parts the demo
//! responder acts on are typed; the rest is ignored.

use super::error::DemoError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct World {
    pub account_id: String,
    pub region: String,
    #[serde(default)]
    pub vpcs: Vec<Vpc>,
    #[serde(default)]
    pub security_groups: Vec<SecurityGroup>,
    #[serde(default)]
    pub instances: Vec<Instance>,
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub sns_topics: Vec<Topic>,
    #[serde(default)]
    pub snapshots: Vec<Snapshot>,
    /// ENIs the demo responder put in a contain group, and when (scenario time). Not in world.json.
    #[serde(skip)]
    pub quarantines: Vec<Quarantine>,
    /// Findings the demo responder archived (GuardDuty ArchiveFindings). Not in world.json.
    #[serde(skip)]
    pub archived_findings: Vec<String>,
    #[serde(default)]
    pub auto_scaling_groups: Vec<AutoScalingGroup>,
    /// The block list world.json may already have (see demo/README.md).
    #[serde(default, rename = "dns_firewall")]
    pub dns_firewall_seed: Option<DnsFirewallSeed>,
    /// Route 53 Resolver DNS Firewall as it is now: the seed, then what the demo responder does.
    #[serde(skip)]
    pub dns_firewall: DnsFirewall,
    /// Network ACL entries the demo responder added (block-ip), and when (scenario time). Each
    /// VPC's ACL otherwise holds AWS's defaults. Not in world.json.
    #[serde(skip)]
    pub acl_entries: Vec<AclBlock>,
    /// WAF IP sets (a web ACL's block list), as world.json has them and block-ip changes them.
    #[serde(default)]
    pub waf_ip_sets: Vec<WafIpSet>,
    /// What collect finds on an instance (its processes, connections, crontabs…), by instance:
    /// the demo's evidence for a trainee to find.
    #[serde(default)]
    pub artefacts: BTreeMap<String, Vec<String>>,
    /// Run Commands the demo responder ran (collect). Not in world.json.
    #[serde(skip)]
    pub collections: Vec<Collection>,
    /// The evidence store's objects, by `BUCKET/KEY`: what collect's Run Command and
    /// store-evidence wrote. Not in world.json.
    #[serde(skip)]
    pub evidence: BTreeMap<String, Vec<u8>>,
}

/// A collect run on the demo world: which instance, and where its output went.
#[derive(Debug, Clone)]
pub struct Collection {
    pub command_id: String,
    pub instance_id: String,
    pub location: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct WafIpSet {
    pub name: String,
    pub id: String,
    /// REGIONAL or CLOUDFRONT.
    pub scope: String,
    /// IPV4 or IPV6.
    pub version: String,
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// A network ACL entry the demo responder added.
#[derive(Debug, Clone)]
pub struct AclBlock {
    pub acl_id: String,
    pub entry: crate::actions::AclEntry,
    pub at: Option<crate::model::Ts>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AutoScalingGroup {
    pub name: String,
    #[serde(default)]
    pub instances: Vec<String>,
    #[serde(default)]
    pub min: i32,
    #[serde(default)]
    pub max: i32,
    #[serde(default)]
    pub desired: i32,
}

/// world.json's `dns_firewall`: a domain list with a rule group that acts on it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct DnsFirewallSeed {
    pub rule_group_id: String,
    pub domain_list_id: String,
    pub domain_list_name: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DnsFirewall {
    pub domain_lists: Vec<FirewallDomainList>,
    pub rule_groups: Vec<FirewallRuleGroup>,
}

#[derive(Debug, Clone, Default)]
pub struct FirewallDomainList {
    pub id: String,
    pub name: String,
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct FirewallRuleGroup {
    pub id: String,
    pub name: String,
    /// Domain lists with a BLOCK rule in this group.
    pub blocks: Vec<String>,
    /// VPCs the group is associated with.
    pub vpcs: Vec<String>,
}

/// One ENI isolated by the demo responder: from `at` on, its flow-log lines say REJECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    pub instance_id: String,
    pub eni_id: String,
    /// Scenario time of the isolation; `None`: before any line of the scenario.
    pub at: Option<crate::model::Ts>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Vpc {
    pub vpc_id: String,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct SecurityGroup {
    pub group_id: String,
    pub group_name: String,
    pub vpc_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub ingress: Vec<serde_json::Value>,
    #[serde(default)]
    pub egress: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Instance {
    pub instance_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub vpc_id: String,
    #[serde(default)]
    pub subnet_id: String,
    #[serde(default)]
    pub instance_profile_arn: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    /// The role of the profile the demo responder took off (detach-profile), for its return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detached_role_arn: Option<String>,
    #[serde(default)]
    pub asg: Option<String>,
    /// Lifecycle state in the group; not in the generated data (`InService` when in a group).
    #[serde(default)]
    pub asg_lifecycle: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub enis: Vec<Eni>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    /// Not in the generated data; the demo responder sets it.
    #[serde(default)]
    pub termination_protection: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Eni {
    pub eni_id: String,
    #[serde(default)]
    pub device_index: i32,
    #[serde(default)]
    pub subnet_id: String,
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Not in the generated data; the demo responder keeps ENI tags here.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Volume {
    pub volume_id: String,
    #[serde(default)]
    pub device: String,
    /// The KMS key it is encrypted with, if it is (its snapshots are too).
    #[serde(default)]
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Role {
    pub arn: String,
    pub name: String,
    #[serde(default)]
    pub instance_profile_arn: Option<String>,
    /// Inline policies put by the demo responder (name → document).
    #[serde(default)]
    pub inline_policies: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct User {
    pub arn: String,
    pub name: String,
    #[serde(default)]
    pub access_keys: Vec<AccessKey>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AccessKey {
    pub access_key_id: String,
    pub status: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Topic {
    pub arn: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Snapshot {
    pub snapshot_id: String,
    pub volume_id: String,
    #[serde(default)]
    pub instance_id: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub state: crate::actions::SnapshotState,
    /// 0..=100; the demo responder advances it on each DescribeSnapshots.
    #[serde(default)]
    pub progress: u8,
    /// Accounts allowed to create volumes from it (share-snapshots).
    #[serde(default)]
    pub shared_with: Vec<String>,
    /// The KMS key it is encrypted with, if it is.
    #[serde(default)]
    pub kms_key_id: Option<String>,
}

impl World {
    /// A world from a `world.json` file.
    pub fn load(path: &Path) -> Result<World, DemoError> {
        let json = std::fs::read(path).map_err(|source| DemoError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        World::from_json(path, &json)
    }

    /// A world from the JSON of a `world.json` (`path` names it in errors).
    pub fn from_json(path: &Path, json: &[u8]) -> Result<World, DemoError> {
        let mut w: World = serde_json::from_slice(json).map_err(|e| DemoError::Manifest {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        // The team's existing block list: vigil's names, its rule group on every VPC of the world.
        if let Some(seed) = &w.dns_firewall_seed {
            w.dns_firewall.domain_lists.push(FirewallDomainList {
                id: seed.domain_list_id.clone(),
                name: seed.domain_list_name.clone(),
                domains: seed.domains.clone(),
            });
            w.dns_firewall.rule_groups.push(FirewallRuleGroup {
                id: seed.rule_group_id.clone(),
                name: crate::actions::DNS_RULE_GROUP_NAME.to_string(),
                blocks: if seed.action == "BLOCK" {
                    vec![seed.domain_list_id.clone()]
                } else {
                    Vec::new()
                },
                vpcs: w.vpcs.iter().map(|v| v.vpc_id.clone()).collect(),
            });
        }
        Ok(w)
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.instance_id == id)
    }

    /// What a flow-log line of this world says once quarantines apply: REJECT for a line of an
    /// isolated ENI (or its instance) that starts at or after the isolation, else the line's own.
    pub fn flow_action<'a>(&self, r: &'a crate::model::FlowRecord) -> Option<&'a str> {
        let isolated = self.quarantines.iter().any(|q| {
            let ours = r.interface_id.as_deref() == Some(q.eni_id.as_str())
                || (r.interface_id.is_none()
                    && r.instance_id.as_deref() == Some(q.instance_id.as_str()));
            let after = match (q.at, r.start.or(r.end)) {
                (None, _) => true,
                (Some(at), Some(t)) => t >= at,
                (Some(_), None) => false,
            };
            ours && after
        });
        if isolated || self.acl_denies(r) {
            Some("REJECT")
        } else {
            r.action.as_deref()
        }
    }

    /// The VPC's network ACL id in this world (one per VPC: AWS's default ACL).
    pub fn acl_of_vpc(vpc_id: &str) -> String {
        format!(
            "acl-0{:016x}",
            crate::model::content_hash(vpc_id.as_bytes())
        )
    }

    /// A block-ip deny covers the line: the line's instance sits behind the ACL, an address of
    /// the line is in the denied block, and the line starts at or after the block.
    fn acl_denies(&self, r: &crate::model::FlowRecord) -> bool {
        if self.acl_entries.is_empty() {
            return false;
        }
        let inst = self.instances.iter().find(|i| {
            r.instance_id.as_deref() == Some(i.instance_id.as_str())
                || i.enis
                    .iter()
                    .any(|e| r.interface_id.as_deref() == Some(e.eni_id.as_str()))
        });
        // An ENI the world does not list (a load balancer's) is still in the VPC whose flow log
        // this is: with one VPC in the world, that one.
        let vpc = match inst {
            Some(i) => i.vpc_id.clone(),
            None => {
                let mut vpcs: Vec<&str> =
                    self.instances.iter().map(|i| i.vpc_id.as_str()).collect();
                vpcs.sort_unstable();
                vpcs.dedup();
                match vpcs.as_slice() {
                    [one] => one.to_string(),
                    _ => return false,
                }
            }
        };
        let acl = World::acl_of_vpc(&vpc);
        let addrs: Vec<std::net::IpAddr> = [r.srcaddr.as_deref(), r.dstaddr.as_deref()]
            .into_iter()
            .flatten()
            .filter_map(|a| a.parse().ok())
            .collect();
        self.acl_entries.iter().any(|b| {
            b.acl_id == acl
                && !b.entry.allow
                && b.entry
                    .cidr
                    .parse::<ipnet::IpNet>()
                    .is_ok_and(|n| addrs.iter().any(|a| n.contains(a)))
                && match (b.at, r.start.or(r.end)) {
                    (None, _) => true,
                    (Some(at), Some(t)) => t >= at,
                    (Some(_), None) => false,
                }
        })
    }

    /// Marks the lines of isolated ENIs after their isolation REJECT; returns how many changed.
    pub fn apply_quarantines(&self, flows: &mut [crate::model::FlowRecord]) -> usize {
        let mut n = 0;
        for r in flows.iter_mut() {
            if let Some(a) = self.flow_action(r)
                && r.action.as_deref() != Some(a)
            {
                r.action = Some(a.to_string());
                n += 1;
            }
        }
        n
    }
}
