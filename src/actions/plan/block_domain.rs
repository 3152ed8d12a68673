//! Planning block-domain: the domain (and its subdomains) on vigil's DNS Firewall block list, a
//! BLOCK rule answering NXDOMAIN, and the rule group applied to the VPC's resolver; each created
//! only when missing.

use super::context::{Facts, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::{ApiCall, GroupRef};
use crate::actions::names::{
    DNS_ASSOCIATION_PRIORITY, DNS_BLOCKLIST_NAME, DNS_RULE_GROUP_NAME, DNS_RULE_PRIORITY,
};

/// The VPC a block-domain acts in, from the action and the facts.
fn vpc_of(vpc: &Option<String>, instance: &Option<String>, facts: &Facts) -> Option<String> {
    vpc.clone()
        .or_else(|| {
            instance
                .as_ref()
                .and_then(|i| facts.instances.get(i))
                .map(|st| st.vpc_id.clone())
        })
        .filter(|v| !v.is_empty())
}

/// A domain as DNS Firewall lists it: lower case, no trailing dot, no leading `*.`.
pub(crate) fn normalise_domain(d: &str) -> Option<String> {
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    let d = d.strip_prefix("*.").unwrap_or(&d).to_string();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    ok.then_some(d)
}

/// The existing resource, or a step that creates it (`create`, which names it `name`) and a
/// reference to what that step will create.
fn existing_or_created(
    action: &Action,
    p: &mut Plan,
    existing: Option<&String>,
    name: &str,
    create: ApiCall,
    why: &str,
) -> GroupRef {
    match existing {
        Some(id) => GroupRef::Existing(id.clone()),
        None => {
            p.steps.push(step(action, create, why));
            GroupRef::Created(name.to_string())
        }
    }
}

/// block-domain's steps: in the VPC given, or the instance's.
pub(super) fn plan(
    action: &Action,
    domain: &str,
    vpc: &Option<String>,
    instance: &Option<String>,
    facts: &Facts,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let vpc = vpc_of(vpc, instance, facts).ok_or(PlanError::NoVpc)?;
    let vpc = vpc.as_str();
    let d = normalise_domain(domain).ok_or_else(|| PlanError::BadDomain(domain.to_string()))?;
    let fw = facts.dns.get(vpc).cloned().unwrap_or_default();
    let wanted = [d.clone(), format!("*.{d}")];
    let present: Vec<String> = fw
        .domain_list
        .as_ref()
        .map(|(_, ds)| {
            ds.iter()
                .map(|x| x.trim_end_matches('.').to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !present.contains(w))
        .cloned()
        .collect();
    if missing.is_empty() && fw.block_rule && fw.associated {
        p.notes.push(format!(
            "{d} is already blocked for {vpc} ({DNS_BLOCKLIST_NAME} through {DNS_RULE_GROUP_NAME})"
        ));
        return Ok(());
    }
    let list = existing_or_created(
        action,
        p,
        fw.domain_list.as_ref().map(|(id, _)| id),
        DNS_BLOCKLIST_NAME,
        ApiCall::CreateFirewallDomainList {
            name: DNS_BLOCKLIST_NAME.to_string(),
        },
        "create vigil's DNS Firewall domain list",
    );
    if !missing.is_empty() {
        p.steps.push(step(
            action,
            ApiCall::UpdateFirewallDomains {
                domain_list: list.clone(),
                domains: missing,
            },
            format!("add {d} and its subdomains to the block list"),
        ));
    }
    let group = existing_or_created(
        action,
        p,
        fw.rule_group.as_ref(),
        DNS_RULE_GROUP_NAME,
        ApiCall::CreateFirewallRuleGroup {
            name: DNS_RULE_GROUP_NAME.to_string(),
        },
        "create vigil's DNS Firewall rule group",
    );
    if !fw.block_rule {
        p.steps.push(step(
            action,
            ApiCall::CreateFirewallRule {
                rule_group: group.clone(),
                domain_list: list,
                name: "vigil-block-list".to_string(),
                priority: DNS_RULE_PRIORITY,
            },
            "BLOCK the list's names, answering NXDOMAIN",
        ));
    }
    if !fw.associated {
        p.steps.push(step(
            action,
            ApiCall::AssociateFirewallRuleGroup {
                rule_group: group,
                vpc_id: vpc.to_string(),
                name: format!("vigil-block-{vpc}"),
                priority: DNS_ASSOCIATION_PRIORITY,
            },
            format!("apply the rule group to {vpc}'s resolver"),
        ));
    }
    p.blast_radius.push(format!(
        "every query from {vpc} for {d} or any name under it answers NXDOMAIN, for every workload in the VPC"
    ));
    let aws_endpoint =
        d.ends_with("amazonaws.com") || d.ends_with("aws.amazon.com") || d.ends_with(".aws");
    if let Some((_, parent)) = d.split_once('.')
        && parent.contains('.')
        && !aws_endpoint
    {
        p.notes.push(format!(
            "only {d} and names under it are blocked, not {parent} or its other names (block {parent} to cover them all)"
        ));
    }
    if aws_endpoint {
        p.blast_radius.push(format!(
            "{d} is an AWS endpoint: blocking it cuts every workload in {vpc} off that service, not only the attacker"
        ));
    }
    Ok(())
}
