//! Planning block-ip and unblock-ip: deny entries for the addresses in the network ACL of a
//! subnet, inbound and outbound, numbered below the ACL's first allow rule (entries are
//! evaluated lowest first). A network ACL is stateless, so a deny cuts tracked connections at
//! once, where a security-group change does not. Unblock removes the all-protocol deny entries
//! for exactly those blocks.

use super::context::{Facts, PlanError, instance};
use super::steps::{Plan, step};
use crate::actions::action::{Action, WafSet};
use crate::actions::api::ApiCall;
use crate::actions::state::{AclEntry, NetworkAclState, WafIpSetState};
use ipnet::IpNet;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The default quota of rules per direction in a network ACL.
const QUOTA: usize = 20;

/// An address or CIDR block as the block it names (an address is a /32 or /128); blocks wider
/// than a /8 (IPv4) or /16 (IPv6) are refused: they would cut the subnet off.
pub(super) fn block_of(text: &str) -> Result<IpNet, PlanError> {
    let t = text.trim();
    let net = match t.parse::<IpAddr>() {
        Ok(ip) => IpNet::from(ip),
        Err(_) => t
            .parse::<IpNet>()
            .map(|n| n.trunc())
            .map_err(|_| PlanError::BadIp(t.to_string()))?,
    };
    let min = if net.addr().is_ipv4() { 8 } else { 16 };
    if net.prefix_len() < min {
        return Err(PlanError::TooWide(t.to_string(), min));
    }
    Ok(net)
}

/// The subnet the action names, or its instance's.
pub(super) fn subnet_of(
    subnet: &Option<String>,
    inst: &Option<String>,
    facts: &Facts,
) -> Result<String, PlanError> {
    match (subnet, inst) {
        (Some(s), _) if !s.is_empty() => Ok(s.clone()),
        (_, Some(i)) => {
            let st = instance(facts, i)?;
            if st.subnet_id.is_empty() {
                return Err(PlanError::NoSubnet);
            }
            Ok(st.subnet_id.clone())
        }
        _ => Err(PlanError::NoSubnet),
    }
}

/// An all-protocol deny entry for `net` in this direction.
fn denies(e: &AclEntry, egress: bool, net: &IpNet) -> bool {
    e.egress == egress
        && !e.allow
        && e.protocol == "-1"
        && e.cidr.parse::<IpNet>().is_ok_and(|c| c.trunc() == *net)
}

/// The key of a WAF IP set in the facts.
pub(super) fn waf_key(w: &WafSet) -> String {
    format!("{}/{}", w.scope, w.name)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn plan(
    action: &Action,
    ips: &[String],
    subnet: &Option<String>,
    inst: &Option<String>,
    waf: &Option<WafSet>,
    facts: &Facts,
    block: bool,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let nets = ips
        .iter()
        .map(|ip| block_of(ip))
        .collect::<Result<Vec<_>, _>>()?;
    let in_acl = subnet.is_some() || inst.is_some();
    if !in_acl && waf.is_none() {
        return Err(PlanError::NoSubnet);
    }
    if in_acl {
        let subnet = subnet_of(subnet, inst, facts)?;
        let acl = facts.acls.get(&subnet).ok_or(PlanError::NoSubnet)?;
        if block {
            plan_block(action, &nets, acl, p)?;
        } else {
            plan_unblock(action, &nets, acl, p);
        }
    }
    if let Some(w) = waf {
        let set = facts.waf_sets.get(&waf_key(w)).ok_or(PlanError::NoSubnet)?;
        plan_waf(action, &nets, set, block, p);
    }
    Ok(())
}

/// WAF: the blocks of the set's family added (or removed), in one UpdateIPSet.
fn plan_waf(action: &Action, nets: &[IpNet], set: &WafIpSetState, block: bool, p: &mut Plan) {
    let v6 = set.version.eq_ignore_ascii_case("IPV6");
    let held: BTreeSet<IpNet> = set
        .addresses
        .iter()
        .filter_map(|a| a.parse::<IpNet>().ok().map(|n| n.trunc()))
        .collect();
    let mut change = Vec::new();
    for net in nets {
        if net.addr().is_ipv6() != v6 {
            p.notes.push(format!(
                "{net} is not added to {}: the set holds {} addresses (give the other family's set)",
                set.name, set.version
            ));
            continue;
        }
        match (block, held.contains(net)) {
            (true, true) => p.notes.push(format!("{net} is already in {}", set.name)),
            (false, false) => p.notes.push(format!("{net} is not in {}", set.name)),
            _ => change.push(net.to_string()),
        }
    }
    if change.is_empty() {
        return;
    }
    let n = change.len();
    let (add, remove) = if block {
        (change, Vec::new())
    } else {
        (Vec::new(), change)
    };
    p.steps.push(step(
        action,
        ApiCall::UpdateIpSet {
            name: set.name.clone(),
            id: set.id.clone(),
            scope: set.scope.clone(),
            add,
            remove,
            lock_token: set.lock_token.clone(),
        },
        format!(
            "{} {n} block(s) {} WAF IP set {} ({}, {} now)",
            if block { "add" } else { "remove" },
            if block { "to" } else { "from" },
            set.name,
            set.scope,
            set.addresses.len()
        ),
    ));
    if block {
        p.blast_radius.push(format!(
            "every web ACL rule that blocks on {} now blocks these addresses too (its resources: load balancers, API stages, distributions)",
            set.name
        ));
        if set.addresses.len() + n > 10_000 {
            p.notes.push(format!(
                "{} would hold more than 10,000 addresses, WAF's limit per IP set",
                set.name
            ));
        }
    }
}

fn plan_block(
    action: &Action,
    nets: &[IpNet],
    acl: &NetworkAclState,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let id = &acl.acl_id;
    let mut added = 0;
    for egress in [false, true] {
        let way = if egress { "outbound" } else { "inbound" };
        let mine: Vec<&AclEntry> = acl.entries.iter().filter(|e| e.egress == egress).collect();
        let mut taken: BTreeSet<i32> = mine.iter().map(|e| e.rule_number).collect();
        let first_allow = mine
            .iter()
            .filter(|e| e.allow)
            .map(|e| e.rule_number)
            .min()
            .unwrap_or(32767);
        let mut count = mine.len();
        for net in nets {
            if let Some(e) = mine
                .iter()
                .find(|e| denies(e, egress, net) && e.rule_number < first_allow)
            {
                p.notes.push(format!(
                    "{net} is already denied {way} in {id} (rule {})",
                    e.rule_number
                ));
                continue;
            }
            let n = (1..first_allow)
                .find(|n| !taken.contains(n))
                .ok_or_else(|| PlanError::NoRuleNumber(id.clone(), first_allow))?;
            taken.insert(n);
            count += 1;
            added += 1;
            p.steps.push(step(
                action,
                ApiCall::CreateNetworkAclEntry {
                    network_acl_id: id.clone(),
                    rule_number: n,
                    egress,
                    cidr_block: net.to_string(),
                },
                format!("deny all {way} traffic with {net} (rule {n}, before rule {first_allow}, the first allow)"),
            ));
        }
        if count > QUOTA {
            p.notes.push(format!(
                "{id} would hold {count} {way} rules: the default quota is {QUOTA} per direction (a quota increase or fewer entries)"
            ));
        }
    }
    if added > 0 {
        let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
        const SHOWN: usize = 6;
        let mut held = acl
            .instances
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if acl.instances.len() > SHOWN {
            held.push_str(&format!(" and {} more", acl.instances.len() - SHOWN));
        }
        p.blast_radius.push(format!(
            "{id}{} covers {} subnet(s) ({}) holding {} instance(s) ({held}): none of them exchanges traffic with {} any more, connections already open included",
            if acl.is_default { " (the VPC's default ACL)" } else { "" },
            acl.subnets.len(),
            acl.subnets.join(", "),
            acl.instances.len(),
            list.join(", ")
        ));
        p.notes.push(
            "a network ACL is stateless: the deny applies to tracked connections at once (a security-group change does not); unblock-ip removes it".to_string(),
        );
    }
    for net in nets {
        let private = match net.addr() {
            IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
            IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00,
        };
        if private {
            p.notes.push(format!(
                "{net} is a private address: traffic inside the VPC between subnets of this ACL is cut too"
            ));
        }
    }
    Ok(())
}

fn plan_unblock(action: &Action, nets: &[IpNet], acl: &NetworkAclState, p: &mut Plan) {
    let id = &acl.acl_id;
    for net in nets {
        let mut any = false;
        for e in acl.entries.iter().filter(|e| denies(e, e.egress, net)) {
            any = true;
            p.steps.push(step(
                action,
                ApiCall::DeleteNetworkAclEntry {
                    network_acl_id: id.clone(),
                    rule_number: e.rule_number,
                    egress: e.egress,
                },
                format!(
                    "remove the {} deny for {net} (rule {})",
                    if e.egress { "outbound" } else { "inbound" },
                    e.rule_number
                ),
            ));
        }
        if !any {
            p.notes.push(format!(
                "{id} has no deny entry for {net}: nothing to remove"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_blocks_and_what_is_refused() {
        assert_eq!(
            block_of("203.0.113.7").unwrap().to_string(),
            "203.0.113.7/32"
        );
        assert_eq!(
            block_of("2001:db8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert_eq!(
            block_of("198.51.100.9/24").unwrap().to_string(),
            "198.51.100.0/24"
        );
        assert!(block_of("0.0.0.0/0").is_err());
        assert!(block_of("10.0.0.0/7").is_err());
        assert!(block_of("::/0").is_err());
        assert!(block_of("evil.example").is_err());
    }
}
