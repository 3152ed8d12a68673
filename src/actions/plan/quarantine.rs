//! Planning quarantine: termination protection on, the instance tagged with the case, out of its
//! auto-scaling group's service (as `--asg` says), each ENI's groups recorded for release, then
//! each ENI moved to an all-traffic "untrack" group (so tracked connections become untracked) and
//! then to the "contain" group (no traffic at all).

use super::context::{Facts, PlanContext, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::{Action, AsgMode};
use crate::actions::api::{ApiCall, GroupRef};
use crate::actions::names::{
    STATUS_QUARANTINED, TAG_ASG_DECREMENTED, TAG_ASG_DETACHED, TAG_ASG_STANDBY, TAG_CASE,
    TAG_ORIGINAL_GROUPS, TAG_STATUS, contain_group_name, role_name, untrack_group_name,
};
use crate::actions::state::{EniState, GroupState, InstanceState};
use std::collections::BTreeMap;

/// The group call taking the instance out of its auto-scaling group's service, the tag that
/// remembers it, and the group's name.
type AsgHold<'a> = (ApiCall, &'static str, &'a String);

/// What one quarantine plan reads, worked out once.
struct Ctx<'a> {
    action: &'a Action,
    st: &'a InstanceState,
    facts: &'a Facts,
    ctx: &'a PlanContext,
    /// The group's desired capacity can go down by one (it is above the minimum).
    decrement: bool,
}

impl Ctx<'_> {
    fn group(&self, vpc: &str, name: String) -> Option<GroupState> {
        self.facts
            .groups
            .get(&(vpc.to_string(), name))
            .cloned()
            .flatten()
    }

    fn vpc_of(&self, e: &EniState) -> String {
        if e.vpc_id.is_empty() {
            self.st.vpc_id.clone()
        } else {
            e.vpc_id.clone()
        }
    }

    /// The ENI already has only vigil's contain group.
    fn contained(&self, e: &EniState) -> bool {
        let vpc = self.vpc_of(e);
        self.group(&vpc, contain_group_name(&vpc))
            .is_some_and(|g| e.groups.len() == 1 && e.groups[0] == g.group_id)
    }

    /// The group call, when the instance is in service in a group and the operator wants it out.
    fn asg_hold(&self) -> Option<AsgHold<'_>> {
        let (st, decrement) = (self.st, self.decrement);
        let id = &st.instance_id;
        match (&st.asg, st.asg_lifecycle.as_deref(), self.ctx.asg) {
            (Some(asg), Some("InService"), AsgMode::Standby) => Some((
                ApiCall::EnterStandby {
                    auto_scaling_group_name: asg.clone(),
                    instance_id: id.clone(),
                    should_decrement_desired_capacity: decrement,
                },
                TAG_ASG_STANDBY,
                asg,
            )),
            (Some(asg), Some("InService"), AsgMode::Detach) => Some((
                ApiCall::DetachInstances {
                    auto_scaling_group_name: asg.clone(),
                    instance_id: id.clone(),
                    should_decrement_desired_capacity: decrement,
                },
                TAG_ASG_DETACHED,
                asg,
            )),
            _ => None,
        }
    }

    /// What happens to the group's capacity, in words.
    fn capacity(&self) -> String {
        match self.st.asg_capacity {
            Some((min, desired, _)) if self.decrement => {
                format!(
                    "desired capacity {desired} → {} (min {min}): no replacement",
                    desired - 1
                )
            }
            Some((min, _, _)) => {
                format!("the group is at its minimum ({min}), so it launches a replacement")
            }
            None => "the group launches a replacement".to_string(),
        }
    }
}

pub(super) fn plan(
    action: &Action,
    st: &InstanceState,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let id = &st.instance_id;
    p.captured
        .push(serde_json::to_value(st).unwrap_or(serde_json::Value::Null));
    // Lowering the desired capacity keeps the group from launching a replacement (and release's
    // ExitStandby raises it back); at the group's minimum it cannot be lowered, so the group
    // launches a replacement instead.
    let q = Ctx {
        action,
        st,
        facts,
        ctx,
        decrement: st
            .asg_capacity
            .is_some_and(|(min, desired, _)| desired > min),
    };
    let todo: Vec<&EniState> = st.enis.iter().filter(|e| !q.contained(e)).collect();
    let tagged = st.tags.get(TAG_STATUS).map(String::as_str) == Some(STATUS_QUARANTINED);
    let asg_call = q.asg_hold();
    let capacity = q.capacity();

    if todo.is_empty() && tagged && st.termination_protection && asg_call.is_none() {
        p.notes.push(format!(
            "{id} is already contained: every ENI has only the contain group; nothing changes"
        ));
        return Ok(());
    }
    if !st.termination_protection {
        p.steps.push(step(
            action,
            ApiCall::ModifyInstanceAttribute {
                instance_id: id.clone(),
                disable_api_termination: true,
            },
            "termination protection on (keep the evidence)",
        ));
    }
    if !tagged || st.tags.get(TAG_CASE) != Some(&ctx.case) || asg_call.is_some() {
        p.steps.push(step(
            action,
            ApiCall::CreateTags {
                resources: vec![id.clone()],
                tags: status_tags(&q, asg_call.as_ref()),
            },
            "mark the instance with the case and its status",
        ));
    }
    // Out of the group before the ENIs are cut: a contained instance fails its health checks and
    // the group would terminate it (termination protection does not stop Auto Scaling).
    if let Some((call, _, asg)) = asg_call {
        let why = match &call {
            ApiCall::EnterStandby { .. } => format!(
                "Standby in {asg}: out of the load balancer, not terminated by it; {capacity}"
            ),
            _ => format!("detach from {asg}: never terminated by it; {capacity}"),
        };
        p.steps.push(step(action, call, why));
    }
    isolate(&q, &todo, p);
    blast_radius(&q, &capacity, p);
    Ok(())
}

/// The case and status tags, and the group vigil took the instance out of.
fn status_tags(q: &Ctx, asg_call: Option<&AsgHold>) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    tags.insert(TAG_CASE.to_string(), q.ctx.case.clone());
    tags.insert(TAG_STATUS.to_string(), STATUS_QUARANTINED.to_string());
    if let Some((_, key, asg)) = asg_call {
        tags.insert(key.to_string(), asg.to_string());
        if q.decrement {
            tags.insert(TAG_ASG_DECREMENTED.to_string(), "true".to_string());
        }
    }
    tags
}

/// The ENI steps: record each one's groups, make the two groups per VPC where missing, then move
/// each ENI to untrack and on to contain.
fn isolate(q: &Ctx, todo: &[&EniState], p: &mut Plan) {
    let action = q.action;
    // Remember each ENI's groups on the ENI itself (and in the audit log), so release can restore them.
    for e in todo {
        if e.tags.contains_key(TAG_ORIGINAL_GROUPS) {
            continue;
        }
        let mut tags = BTreeMap::new();
        tags.insert(TAG_ORIGINAL_GROUPS.to_string(), e.groups.join(","));
        p.steps.push(step(
            action,
            ApiCall::CreateTags {
                resources: vec![e.eni_id.clone()],
                tags,
            },
            "record the ENI's groups for release",
        ));
    }
    let mut vpcs: Vec<String> = todo.iter().map(|e| q.vpc_of(e)).collect();
    vpcs.sort();
    vpcs.dedup();
    let mut refs: BTreeMap<String, (GroupRef, GroupRef)> = BTreeMap::new();
    for vpc in &vpcs {
        let untrack = untrack_group(q, vpc, p);
        let contain = contain_group(q, vpc, p);
        refs.insert(vpc.clone(), (untrack, contain));
    }
    for e in todo {
        let Some((untrack, contain)) = refs.get(&q.vpc_of(e)) else {
            continue;
        };
        p.steps.push(step(
            action,
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id: e.eni_id.clone(),
                groups: vec![untrack.clone()],
            },
            format!(
                "{} (device {}): untrack first, so established connections are cut",
                e.eni_id, e.device_index
            ),
        ));
        p.steps.push(step(
            action,
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id: e.eni_id.clone(),
                groups: vec![contain.clone()],
            },
            format!("{}: then contain (no traffic)", e.eni_id),
        ));
    }
}

fn isolation_tags() -> BTreeMap<String, String> {
    let mut sg_tags = BTreeMap::new();
    sg_tags.insert("vigil:purpose".to_string(), "isolation".to_string());
    sg_tags
}

/// The VPC's untrack group (all traffic), made if missing.
fn untrack_group(q: &Ctx, vpc: &str, p: &mut Plan) -> GroupRef {
    let un = untrack_group_name(vpc);
    if let Some(g) = q.group(vpc, un.clone()) {
        return GroupRef::Existing(g.group_id);
    }
    p.steps.push(step(
        q.action,
        ApiCall::CreateSecurityGroup {
            vpc_id: vpc.to_string(),
            group_name: un.clone(),
            description:
                "vigil isolation step 1: all traffic, so tracked connections become untracked"
                    .to_string(),
            tags: isolation_tags(),
        },
        format!("create the untrack group for {vpc}"),
    ));
    p.steps.push(step(
        q.action,
        ApiCall::AuthorizeSecurityGroupIngressAll {
            group: GroupRef::Created(un.clone()),
        },
        "untrack group: all traffic in (egress is all traffic by default)",
    ));
    GroupRef::Created(un)
}

/// The VPC's contain group (no traffic), made if missing, its egress removed if it has any.
fn contain_group(q: &Ctx, vpc: &str, p: &mut Plan) -> GroupRef {
    let cn = contain_group_name(vpc);
    if let Some(g) = q.group(vpc, cn.clone()) {
        if g.egress_rules > 0 {
            p.steps.push(step(
                q.action,
                ApiCall::RevokeSecurityGroupEgressAll {
                    group: GroupRef::Existing(g.group_id.clone()),
                },
                "contain group: no egress",
            ));
        }
        if g.ingress_rules > 0 {
            p.notes.push(format!(
                "{} ({}) has {} ingress rule(s): remove them by hand; vigil's contain group must have none",
                cn, g.group_id, g.ingress_rules
            ));
        }
        return GroupRef::Existing(g.group_id);
    }
    p.steps.push(step(
        q.action,
        ApiCall::CreateSecurityGroup {
            vpc_id: vpc.to_string(),
            group_name: cn.clone(),
            description: "vigil isolation step 2: no ingress, no egress".to_string(),
            tags: isolation_tags(),
        },
        format!("create the contain group for {vpc}"),
    ));
    p.steps.push(step(
        q.action,
        ApiCall::RevokeSecurityGroupEgressAll {
            group: GroupRef::Created(cn.clone()),
        },
        "contain group: remove the default all-traffic egress",
    ));
    GroupRef::Created(cn)
}

/// The auto-scaling group, the role shared with other instances, several ENIs.
fn blast_radius(q: &Ctx, capacity: &str, p: &mut Plan) {
    let (st, id) = (q.st, &q.st.instance_id);
    if let Some(asg) = &st.asg {
        let state = st.asg_lifecycle.as_deref().unwrap_or("unknown");
        p.blast_radius.push(match (state, q.ctx.asg) {
            ("InService", AsgMode::Standby) if q.decrement => format!(
                "auto-scaling group {asg} serves with one instance fewer until release ({capacity})"
            ),
            ("InService", AsgMode::Standby) => format!(
                "auto-scaling group {asg}: {capacity}; release (ExitStandby) raises its desired capacity by one: lower it afterwards"
            ),
            ("InService", AsgMode::Detach) => format!(
                "auto-scaling group {asg}: {capacity}; {id} does not go back into the group on release"
            ),
            ("InService", AsgMode::Leave) => format!(
                "{id} stays in service in auto-scaling group {asg} (--asg leave): its failing health checks will make the group TERMINATE it, evidence included"
            ),
            (state, _) => format!("{id} is {state} in auto-scaling group {asg}: left as it is"),
        });
    }
    if let Some(role) = &st.role_arn {
        let others: Vec<&String> = q
            .facts
            .role_instances
            .get(role)
            .map(|v| v.iter().filter(|i| *i != id).collect())
            .unwrap_or_default();
        if !others.is_empty() {
            p.blast_radius.push(format!(
                "role {} is shared with {}: quarantine does not revoke its credentials (revoke-sessions would hit them too)",
                role_name(role),
                others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if st.enis.len() > 1 {
        p.blast_radius.push(format!(
            "{} network interfaces are isolated, each one separately",
            st.enis.len()
        ));
    }
}
