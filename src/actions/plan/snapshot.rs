//! Planning snapshot: one crash-consistent CreateSnapshots of every attached volume, tagged with
//! the case, the finding, the instance, who and when.

use super::context::{Facts, PlanContext};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;
use crate::actions::names::TAG_CASE;
use crate::actions::state::InstanceState;
use std::collections::BTreeMap;

pub(super) fn plan(
    action: &Action,
    st: &InstanceState,
    finding: &Option<String>,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) {
    let id = &st.instance_id;
    let mut tags = BTreeMap::new();
    tags.insert(TAG_CASE.to_string(), ctx.case.clone());
    if let Some(f) = finding {
        tags.insert("vigil:finding".to_string(), f.clone());
    }
    tags.insert("vigil:instance".to_string(), id.clone());
    tags.insert("vigil:by".to_string(), facts.identity.arn.clone());
    tags.insert("vigil:at".to_string(), ctx.now.to_rfc3339_secs());
    if st.volumes.is_empty() {
        p.notes.push(format!(
            "{id} has no EBS volumes attached: nothing to snapshot"
        ));
        return;
    }
    p.steps.push(step(
        action,
        ApiCall::CreateSnapshots {
            instance_id: id.clone(),
            tags,
            copy_tags_from_source: true,
        },
        format!(
            "crash-consistent snapshot of every attached volume ({})",
            st.volumes.join(", ")
        ),
    ));
}
