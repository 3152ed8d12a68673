//! The demo world as the console's world screen shows it.

use super::DemoResponder;
use crate::actions::account::{
    AccountView, CredentialView, EniView, InstanceView, MessageView, SnapshotView,
};
use crate::actions::{TAG_CASE, TAG_STATUS};
use crate::demo::world::{Eni, Instance};
use crate::model::FlowRecord;

impl DemoResponder {
    fn instance_view(&self, i: &Instance) -> InstanceView {
        InstanceView {
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
            status: i.tags.get(TAG_STATUS).cloned(),
            case: i.tags.get(TAG_CASE).cloned(),
            detached_profile: i
                .tags
                .get(crate::actions::TAG_DETACHED_PROFILE)
                .filter(|_| i.instance_profile_arn.is_none())
                .cloned(),
            enis: i.enis.iter().map(|e| self.eni_view(e)).collect(),
        }
    }

    /// An ENI with its groups by name, whether (since when) it is isolated, and how many of its
    /// flow-log lines the isolation turned to REJECT.
    fn eni_view(&self, e: &Eni) -> EniView {
        let w = &self.world;
        let group_name = |id: &String| {
            w.security_groups
                .iter()
                .find(|g| &g.group_id == id)
                .map_or_else(|| id.clone(), |g| g.group_name.clone())
        };
        let ours = |r: &&FlowRecord| r.interface_id.as_deref() == Some(e.eni_id.as_str());
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
                    w.flow_action(r) == Some("REJECT") && r.action.as_deref() != Some("REJECT")
                })
                .count(),
        }
    }

    /// The world as the console's world screen shows it.
    pub fn view(&self) -> AccountView {
        let w = &self.world;
        let instances = w.instances.iter().map(|i| self.instance_view(i)).collect();
        let snapshots = w
            .snapshots
            .iter()
            .map(|s| SnapshotView {
                snapshot_id: s.snapshot_id.clone(),
                volume_id: s.volume_id.clone(),
                instance_id: s.instance_id.clone(),
                state: s.state,
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
        let acl_denies = w
            .acl_entries
            .iter()
            .map(|b| {
                (
                    b.acl_id.clone(),
                    b.entry.rule_number,
                    b.entry.egress,
                    b.entry.cidr.clone(),
                )
            })
            .collect();
        let waf_sets = w
            .waf_ip_sets
            .iter()
            .map(|s| (format!("{} ({})", s.name, s.scope), s.addresses.clone()))
            .collect();
        let collections = w
            .collections
            .iter()
            .map(|c| {
                (
                    c.instance_id.clone(),
                    c.location.clone(),
                    w.artefacts.get(&c.instance_id).cloned().unwrap_or_default(),
                )
            })
            .collect();
        AccountView {
            label: format!("demo world {}", self.name).trim().to_string(),
            collections,
            blocked,
            acl_denies,
            waf_sets,
            account: w.account_id.clone(),
            region: w.region.clone(),
            instances,
            snapshots,
            outbox,
            credentials,
        }
    }
}
