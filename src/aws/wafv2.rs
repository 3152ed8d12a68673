//! AWS WAF (v2): an IP set read by name (ListIPSets, GetIPSet) and changed (UpdateIPSet). WAF
//! replaces a set's whole list under an optimistic lock: the planned lock token is used first;
//! when the set changed since the plan (or changes between the read and the write), it is read
//! again and the change merged into what it holds now, a few times at most.

use super::clients::{Clients, ReadOp, ok, wrong_service};
use crate::actions::{ApiCall, CallError, CallOk, WafIpSetState};
use aws_sdk_wafv2::types::Scope;
use ipnet::IpNet;

/// Tries at most this many writes when others keep changing the set.
const ATTEMPTS: usize = 4;

fn scope_of(s: &str) -> Scope {
    if s.eq_ignore_ascii_case("CLOUDFRONT") {
        Scope::Cloudfront
    } else {
        Scope::Regional
    }
}

/// The IP set named `name` in `scope`.
pub(super) fn ip_set(c: &Clients, name: &str, scope: &str) -> Result<WafIpSetState, CallError> {
    let mut marker: Option<String> = None;
    let id = loop {
        let req = c
            .wafv2
            .list_ip_sets()
            .scope(scope_of(scope))
            .set_next_marker(marker.clone());
        let out = c.read(ReadOp::WafListIpSets, req.send())?;
        if let Some(s) = out.ip_sets().iter().find(|s| s.name() == Some(name)) {
            break s.id().unwrap_or_default().to_string();
        }
        marker = out
            .next_marker()
            .filter(|m| !m.is_empty() && !out.ip_sets().is_empty())
            .map(str::to_string);
        if marker.is_none() {
            return Err(CallError::new(
                "WAFNonexistentItemException",
                format!("no WAF IP set named {name} in scope {scope}"),
            ));
        }
    };
    get(c, name, &id, scope)
}

fn get(c: &Clients, name: &str, id: &str, scope: &str) -> Result<WafIpSetState, CallError> {
    let out = c.read(
        ReadOp::WafGetIpSet,
        c.wafv2
            .get_ip_set()
            .name(name)
            .id(id)
            .scope(scope_of(scope))
            .send(),
    )?;
    let set = out.ip_set();
    Ok(WafIpSetState {
        name: name.to_string(),
        id: id.to_string(),
        scope: scope.to_ascii_uppercase(),
        version: set
            .map(|s| s.ip_address_version().as_str().to_string())
            .unwrap_or_default(),
        addresses: set.map(|s| s.addresses().to_vec()).unwrap_or_default(),
        lock_token: out.lock_token().unwrap_or_default().to_string(),
    })
}

/// The set's list with `add` in and `remove` out (blocks compared as networks: `1.2.3.4/32`
/// and an unnormalised spelling are the same block).
fn merged(current: &[String], add: &[String], remove: &[String]) -> Vec<String> {
    let norm = |s: &str| s.parse::<IpNet>().map(|n| n.trunc());
    let gone: Vec<_> = remove.iter().filter_map(|r| norm(r).ok()).collect();
    let mut out: Vec<String> = current
        .iter()
        .filter(|a| norm(a).map_or(true, |n| !gone.contains(&n)))
        .cloned()
        .collect();
    for a in add {
        let n = norm(a).ok();
        if !out.iter().any(|o| norm(o).ok() == n) {
            out.push(a.clone());
        }
    }
    out
}

/// Makes a WAF call (no DryRun in this API).
pub(super) fn call(c: &Clients, call: &ApiCall) -> Result<CallOk, CallError> {
    let ApiCall::UpdateIpSet {
        name,
        id,
        scope,
        add,
        remove,
        lock_token,
    } = call
    else {
        return Err(wrong_service(call, "WAF"));
    };
    let mut now = get(c, name, id, scope)?;
    let mut detail = Vec::new();
    if now.lock_token != *lock_token {
        detail.push("the set changed since the plan: merged with what it holds now".to_string());
    }
    for attempt in 1..=ATTEMPTS {
        let list = merged(&now.addresses, add, remove);
        let req = c
            .wafv2
            .update_ip_set()
            .name(name)
            .id(id)
            .scope(scope_of(scope))
            .set_addresses(Some(list))
            .lock_token(&now.lock_token);
        match c.write(call, req.send()) {
            Ok(o) => {
                let mut created = detail;
                created.push(format!(
                    "lock token {}",
                    o.next_lock_token().unwrap_or_default()
                ));
                return Ok(ok(None, created));
            }
            Err(e) if e.code == "WAFOptimisticLockException" && attempt < ATTEMPTS => {
                detail.push(format!(
                    "attempt {attempt}: the set changed under us; read again"
                ));
                now = get(c, name, id, scope)?;
            }
            Err(e) => return Err(e),
        }
    }
    Err(CallError::new(
        "WAFOptimisticLockException",
        format!("{name} kept changing: {ATTEMPTS} attempts"),
    ))
}

#[cfg(test)]
mod tests {
    use super::merged;

    #[test]
    fn merging_keeps_what_others_added_and_compares_blocks_as_networks() {
        let now = vec!["192.0.2.1/32".to_string(), "198.51.100.0/24".to_string()];
        let out = merged(
            &now,
            &["203.0.113.45/32".into(), "192.0.2.1/32".into()],
            &["198.51.100.7/24".into()],
        );
        assert_eq!(out, vec!["192.0.2.1/32", "203.0.113.45/32"]);
    }
}
