//! Reading what planning an action needs (through an [`Inspect`], never a responder).

use super::context::{Facts, PlanError};
use crate::actions::action::Action;
use crate::actions::names::{contain_group_name, untrack_group_name};
use crate::actions::responder::Inspect;

/// Reads what planning `action` needs.
pub fn gather(action: &Action, inspect: &mut dyn Inspect) -> Result<Facts, PlanError> {
    let mut facts = Facts {
        identity: inspect.identity()?,
        ..Facts::default()
    };
    gather_into(action, inspect, &mut facts)?;
    Ok(facts)
}

fn gather_into(
    action: &Action,
    inspect: &mut dyn Inspect,
    facts: &mut Facts,
) -> Result<(), PlanError> {
    match action {
        Action::Archive { .. } => {
            if facts.detectors.is_empty() {
                facts.detectors = inspect.detectors()?;
            }
        }
        Action::Quarantine { instance }
        | Action::Release { instance, .. }
        | Action::Snapshot { instance, .. }
        | Action::DetachProfile { instance }
        | Action::Collect { instance, .. } => {
            let st = match facts.instances.get(instance) {
                Some(st) => st.clone(),
                None => read_instance(inspect, instance)?,
            };
            if matches!(action, Action::Quarantine { .. }) {
                let mut vpcs: Vec<&str> = st.enis.iter().map(|e| e.vpc_id.as_str()).collect();
                vpcs.push(&st.vpc_id);
                vpcs.retain(|v| !v.is_empty());
                vpcs.sort_unstable();
                vpcs.dedup();
                for vpc in vpcs {
                    for name in [untrack_group_name(vpc), contain_group_name(vpc)] {
                        let g = inspect.group_by_name(vpc, &name)?;
                        facts.groups.insert((vpc.to_string(), name), g);
                    }
                }
                if let Some(role) = &st.role_arn {
                    let others = inspect.instances_with_role(role)?;
                    facts.role_instances.insert(role.clone(), others);
                }
            }
            if matches!(action, Action::Collect { .. }) && !facts.ssm.contains_key(instance) {
                let agent = inspect.ssm_agent(instance)?;
                facts.ssm.insert(instance.clone(), agent);
            }
            facts.instances.insert(instance.clone(), st);
        }
        Action::DisableKey { key } => {
            if key.starts_with("ASIA") {
                return Err(PlanError::TemporaryKey(key.clone()));
            }
            let k = inspect.access_key(key).map_err(|e| {
                if e.code.contains("NoSuchEntity") || e.code.contains("NotFound") {
                    PlanError::NoKey(key.clone())
                } else {
                    PlanError::Read(e)
                }
            })?;
            facts.keys.insert(key.clone(), k);
        }
        Action::RevokeSessions { role } => {
            let others = inspect.instances_with_role(role)?;
            facts.role_instances.insert(role.clone(), others);
        }
        Action::BlockDomain { vpc, instance, .. } => {
            let vpc = match (vpc, instance) {
                (Some(v), _) => v.clone(),
                (None, Some(i)) => {
                    let st = read_instance(inspect, i)?;
                    let v = st.vpc_id.clone();
                    facts.instances.insert(i.clone(), st);
                    v
                }
                (None, None) => return Err(PlanError::NoVpc),
            };
            if vpc.is_empty() {
                return Err(PlanError::NoVpc);
            }
            let st = inspect.dns_firewall(&vpc)?;
            facts.dns.insert(vpc, st);
        }
        Action::BlockIp {
            subnet,
            instance,
            waf,
            ..
        }
        | Action::UnblockIp {
            subnet,
            instance,
            waf,
            ..
        } => {
            if let Some(w) = waf {
                let key = super::block_ip::waf_key(w);
                if let std::collections::btree_map::Entry::Vacant(e) = facts.waf_sets.entry(key) {
                    e.insert(inspect.waf_ip_set(&w.name, &w.scope)?);
                }
                if subnet.is_none() && instance.is_none() {
                    return Ok(());
                }
            }
            let subnet = match (subnet, instance) {
                (Some(s), _) => s.clone(),
                (None, Some(i)) => {
                    let st = read_instance(inspect, i)?;
                    let s = st.subnet_id.clone();
                    facts.instances.insert(i.clone(), st);
                    s
                }
                (None, None) => return Err(PlanError::NoSubnet),
            };
            if subnet.is_empty() {
                return Err(PlanError::NoSubnet);
            }
            if let std::collections::btree_map::Entry::Vacant(e) = facts.acls.entry(subnet) {
                let acl = inspect.network_acl(e.key())?;
                e.insert(acl);
            }
        }
        Action::ShareSnapshots { instance, .. } => {
            let snaps = inspect.case_snapshots(instance)?;
            facts.case_snapshots.insert(instance.clone(), snaps);
        }
        Action::StoreEvidence { store, .. } => {
            let (bucket, _) = super::collect::store_of(store)?;
            let lock = inspect.object_lock(&bucket)?;
            facts.object_lock.insert(bucket, lock);
        }
        Action::Notify { .. } => {}
        Action::Playbook { steps, .. } => {
            for s in steps {
                match (s, gather_into(s, inspect, facts)) {
                    // The agent could not be asked about: the plan skips collect and says so.
                    (Action::Collect { instance, .. }, Err(PlanError::Read(_))) => {
                        facts.ssm.insert(instance.clone(), None);
                    }
                    (_, r) => r?,
                }
            }
        }
    }
    Ok(())
}

/// The instance, an unknown id said as such.
fn read_instance(
    inspect: &mut dyn Inspect,
    id: &str,
) -> Result<crate::actions::state::InstanceState, PlanError> {
    inspect.instance(id).map_err(|e| {
        if e.code.contains("NotFound") {
            PlanError::NoInstance(id.to_string())
        } else {
            PlanError::Read(e)
        }
    })
}
