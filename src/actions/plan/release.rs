//! Planning release: each ENI gets back the groups quarantine recorded on it, the instance leaves
//! Standby if quarantine put it there, the status tags go (the case tag stays), and termination
//! protection goes off only when asked.

use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::{ApiCall, GroupRef};
use crate::actions::names::{
    TAG_ASG_DECREMENTED, TAG_ASG_DETACHED, TAG_ASG_STANDBY, TAG_DETACHED_PROFILE,
    TAG_ORIGINAL_GROUPS, TAG_STATUS,
};
use crate::actions::state::InstanceState;

pub(super) fn plan(action: &Action, st: &InstanceState, unprotect: bool, p: &mut Plan) {
    let id = &st.instance_id;
    let mut any = false;
    for e in &st.enis {
        let Some(orig) = e.tags.get(TAG_ORIGINAL_GROUPS) else {
            continue;
        };
        let groups: Vec<GroupRef> = orig
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| GroupRef::Existing(s.to_string()))
            .collect();
        if groups.is_empty() {
            continue;
        }
        any = true;
        if e.groups.iter().map(String::as_str).ne(orig.split(',')) {
            p.steps.push(step(
                action,
                ApiCall::ModifyNetworkInterfaceAttribute {
                    network_interface_id: e.eni_id.clone(),
                    groups,
                },
                format!("{}: restore the groups it had before quarantine", e.eni_id),
            ));
        }
        p.steps.push(step(
            action,
            ApiCall::DeleteTags {
                resources: vec![e.eni_id.clone()],
                keys: vec![TAG_ORIGINAL_GROUPS.to_string()],
            },
            "forget the recorded groups",
        ));
    }
    if let Some(asg) = st.tags.get(TAG_ASG_STANDBY) {
        any = true;
        if st.asg.as_deref() == Some(asg) && st.asg_lifecycle.as_deref() == Some("Standby") {
            let why = if st.tags.contains_key(TAG_ASG_DECREMENTED) {
                format!("back in service in {asg} (its desired capacity goes back up by one)")
            } else {
                p.notes.push(format!(
                    "ExitStandby raises {asg}'s desired capacity by one (quarantine did not lower it): lower it afterwards if the replacement should stay"
                ));
                format!("back in service in {asg}")
            };
            p.steps.push(step(
                action,
                ApiCall::ExitStandby {
                    auto_scaling_group_name: asg.clone(),
                    instance_id: id.clone(),
                },
                why,
            ));
        } else {
            p.notes.push(format!(
                "{id} is no longer in Standby in {asg}: the group is left as it is"
            ));
        }
    }
    if let Some(profile) = st.tags.get(TAG_DETACHED_PROFILE) {
        any = true;
        match &st.instance_profile_arn {
            None => p.steps.push(step(
                action,
                ApiCall::AssociateIamInstanceProfile {
                    instance_id: id.clone(),
                    instance_profile_arn: profile.clone(),
                },
                "give back the instance profile detach-profile took",
            )),
            Some(now) => p.notes.push(format!(
                "{id} has an instance profile again ({now}): the one detach-profile took ({profile}) is not put back"
            )),
        }
        p.steps.push(step(
            action,
            ApiCall::DeleteTags {
                resources: vec![id.clone()],
                keys: vec![TAG_DETACHED_PROFILE.to_string()],
            },
            "forget the recorded profile",
        ));
    }
    if let Some(asg) = st.tags.get(TAG_ASG_DETACHED) {
        p.notes.push(format!(
            "{id} was detached from {asg}: to put it back, aws autoscaling attach-instances --auto-scaling-group-name {asg} --instance-ids {id}"
        ));
    }
    let status_tags: Vec<String> = [
        TAG_STATUS,
        TAG_ASG_STANDBY,
        TAG_ASG_DETACHED,
        TAG_ASG_DECREMENTED,
    ]
    .iter()
    .filter(|k| st.tags.contains_key(**k))
    .map(|k| k.to_string())
    .collect();
    if !status_tags.is_empty() {
        any = true;
        p.steps.push(step(
            action,
            ApiCall::DeleteTags {
                resources: vec![id.clone()],
                keys: status_tags,
            },
            "remove the quarantine status tags (the case tag stays)",
        ));
    }
    if unprotect && st.termination_protection {
        p.steps.push(step(
            action,
            ApiCall::ModifyInstanceAttribute {
                instance_id: id.clone(),
                disable_api_termination: false,
            },
            "termination protection off (asked for with --unprotect)",
        ));
    } else if st.termination_protection {
        p.notes
            .push("termination protection stays on (--unprotect turns it off)".to_string());
    }
    if !any {
        p.notes.push(format!(
            "{id} is not quarantined by vigil (no {TAG_ORIGINAL_GROUPS} tag on its ENIs, no status tag, no {TAG_DETACHED_PROFILE} tag)"
        ));
    }
}
