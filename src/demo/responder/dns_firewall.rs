//! The demo world's Route 53 Resolver DNS Firewall: domain lists, rule groups, their BLOCK rules
//! and VPC associations.

use super::{DemoResponder, not_found, wrong_family};
use crate::actions::{ApiCall, CallError, GroupRef};
use crate::demo::world::{FirewallDomainList, FirewallRuleGroup};
use crate::model::content_hash;
use std::collections::BTreeMap;

impl DemoResponder {
    fn firewall_group_mut(
        &mut self,
        r: &GroupRef,
        created: &BTreeMap<String, String>,
    ) -> Result<&mut FirewallRuleGroup, CallError> {
        let id = r.resolve(created)?;
        self.world
            .dns_firewall
            .rule_groups
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or_else(|| not_found("ResourceNotFoundException", &format!("rule group {id}")))
    }

    pub(super) fn apply_dns(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, CallError> {
        match call {
            ApiCall::CreateFirewallDomainList { name } => {
                let id = format!("rslvr-fdl-{:016x}", content_hash(name.as_bytes()));
                self.world
                    .dns_firewall
                    .domain_lists
                    .push(FirewallDomainList {
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
                self.world.dns_firewall.rule_groups.push(FirewallRuleGroup {
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
            _ => Err(wrong_family(call, "DNS Firewall")),
        }
    }
}
