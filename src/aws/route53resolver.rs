//! Route 53 Resolver DNS Firewall: vigil's block list, its rule group and the group's
//! association with a VPC.

use super::clients::{Clients, ReadOp, find_paged, ok, wrong_service};
use crate::actions::{
    ApiCall, CallError, CallOk, DNS_BLOCKLIST_NAME, DNS_RULE_GROUP_NAME, DnsFirewallState,
};
use aws_sdk_ec2::operation::RequestId;
use aws_sdk_route53resolver::types as r53t;
use std::collections::BTreeMap;

/// A CreatorRequestId: unique per request, as the API asks (a retry of the same request reuses it).
fn creator_request_id(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("vigil-{what}-{nanos}")
}

/// vigil's DNS Firewall objects as they are, seen from `vpc_id`.
pub(super) fn dns_firewall(c: &Clients, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
    let mut st = DnsFirewallState {
        domain_list: blocklist(c)?,
        ..DnsFirewallState::default()
    };
    let group_id = find_paged(|token| {
        let o = c.read(
            ReadOp::ListFirewallRuleGroups,
            c.route53resolver
                .list_firewall_rule_groups()
                .set_next_token(token)
                .send(),
        )?;
        let found = o
            .firewall_rule_groups()
            .iter()
            .find(|g| g.name() == Some(DNS_RULE_GROUP_NAME))
            .and_then(|g| g.id().map(str::to_string));
        Ok((found, o.next_token().map(str::to_string)))
    })?;
    if let Some(gid) = group_id {
        let rules = c.read(
            ReadOp::ListFirewallRules,
            c.route53resolver
                .list_firewall_rules()
                .firewall_rule_group_id(&gid)
                .send(),
        )?;
        let list = st.domain_list.as_ref().map(|(id, _)| id.as_str());
        st.block_rule = rules.firewall_rules().iter().any(|r| {
            list.is_some()
                && r.firewall_domain_list_id() == list
                && r.action() == Some(&r53t::Action::Block)
        });
        let assoc = c.read(
            ReadOp::ListFirewallRuleGroupAssociations,
            c.route53resolver
                .list_firewall_rule_group_associations()
                .firewall_rule_group_id(&gid)
                .vpc_id(vpc_id)
                .send(),
        )?;
        st.associated = assoc.firewall_rule_group_associations().iter().any(|a| {
            a.vpc_id() == Some(vpc_id) && a.firewall_rule_group_id() == Some(gid.as_str())
        });
        st.rule_group = Some(gid);
    }
    Ok(st)
}

/// `vigil-blocklist`: its id and every domain on it, if it exists.
fn blocklist(c: &Clients) -> Result<Option<(String, Vec<String>)>, CallError> {
    let list_id = find_paged(|token| {
        let o = c.read(
            ReadOp::ListFirewallDomainLists,
            c.route53resolver
                .list_firewall_domain_lists()
                .set_next_token(token)
                .send(),
        )?;
        let found = o
            .firewall_domain_lists()
            .iter()
            .find(|l| l.name() == Some(DNS_BLOCKLIST_NAME))
            .and_then(|l| l.id().map(str::to_string));
        Ok((found, o.next_token().map(str::to_string)))
    })?;
    let Some(id) = list_id else {
        return Ok(None);
    };
    let mut domains = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let o = c.read(
            ReadOp::ListFirewallDomains,
            c.route53resolver
                .list_firewall_domains()
                .firewall_domain_list_id(&id)
                .set_next_token(token.take())
                .send(),
        )?;
        domains.extend(o.domains().iter().cloned());
        match o.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(Some((id, domains)))
}

/// Makes a DNS Firewall call (no dry-run in this API).
pub(super) fn call(
    c: &Clients,
    call: &ApiCall,
    created: &BTreeMap<String, String>,
) -> Result<CallOk, CallError> {
    let r = &c.route53resolver;
    match call {
        ApiCall::CreateFirewallDomainList { name } => {
            let req = r
                .create_firewall_domain_list()
                .creator_request_id(creator_request_id(name))
                .name(name);
            let o = c.write(call, req.send())?;
            let id = o
                .firewall_domain_list()
                .and_then(|l| l.id())
                .map(str::to_string);
            Ok(ok(o.request_id(), id.into_iter().collect()))
        }
        ApiCall::UpdateFirewallDomains {
            domain_list,
            domains,
        } => {
            let req = r
                .update_firewall_domains()
                .firewall_domain_list_id(domain_list.resolve(created)?)
                .operation(r53t::FirewallDomainUpdateOperation::Add)
                .set_domains(Some(domains.clone()));
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::CreateFirewallRuleGroup { name } => {
            let req = r
                .create_firewall_rule_group()
                .creator_request_id(creator_request_id(name))
                .name(name);
            let o = c.write(call, req.send())?;
            let id = o
                .firewall_rule_group()
                .and_then(|g| g.id())
                .map(str::to_string);
            Ok(ok(o.request_id(), id.into_iter().collect()))
        }
        ApiCall::CreateFirewallRule {
            rule_group,
            domain_list,
            name,
            priority,
        } => {
            let group = rule_group.resolve(created)?;
            let list = domain_list.resolve(created)?;
            let req = r
                .create_firewall_rule()
                .creator_request_id(creator_request_id(name))
                .firewall_rule_group_id(group)
                .firewall_domain_list_id(list)
                .priority(*priority)
                .action(r53t::Action::Block)
                .block_response(r53t::BlockResponse::Nxdomain)
                .name(name);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::AssociateFirewallRuleGroup {
            rule_group,
            vpc_id,
            name,
            priority,
        } => {
            let req = r
                .associate_firewall_rule_group()
                .creator_request_id(creator_request_id(name))
                .firewall_rule_group_id(rule_group.resolve(created)?)
                .vpc_id(vpc_id)
                .priority(*priority)
                .name(name);
            let o = c.write(call, req.send())?;
            let id = o
                .firewall_rule_group_association()
                .and_then(|a| a.id())
                .map(str::to_string);
            Ok(ok(o.request_id(), id.into_iter().collect()))
        }
        _ => Err(wrong_service(call, "Route 53 Resolver")),
    }
}
