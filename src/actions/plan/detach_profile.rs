//! Planning detach-profile: the instance profile taken off the instance, so the instance
//! metadata service stops handing out (and renewing) its role's credentials there — the
//! containment step of AWS's own runbook for compromised instance credentials. What it had is
//! tagged on the instance first, so release gives it back.

use super::context::{Facts, PlanError, instance};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;
use crate::actions::names::{TAG_CASE, TAG_DETACHED_PROFILE, role_name};
use std::collections::BTreeMap;

pub(super) fn plan(
    action: &Action,
    id: &str,
    facts: &Facts,
    case: &str,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let st = instance(facts, id)?;
    let (Some(profile), Some(association)) = (&st.instance_profile_arn, &st.profile_association)
    else {
        match st.tags.get(TAG_DETACHED_PROFILE) {
            Some(was) => p.notes.push(format!(
                "{id} has no instance profile: vigil detached {was} (release gives it back)"
            )),
            None => p.notes.push(format!(
                "{id} has no instance profile: there are no role credentials to stop"
            )),
        }
        return Ok(());
    };
    let mut tags = BTreeMap::new();
    tags.insert(TAG_DETACHED_PROFILE.to_string(), profile.clone());
    tags.insert(TAG_CASE.to_string(), case.to_string());
    p.steps.push(step(
        action,
        ApiCall::CreateTags {
            resources: vec![id.to_string()],
            tags,
        },
        "record the profile on the instance (release gives it back)",
    ));
    p.steps.push(step(
        action,
        ApiCall::DisassociateIamInstanceProfile {
            association_id: association.clone(),
            instance_id: id.to_string(),
        },
        "take the instance profile off: its role's credentials are no longer renewed here",
    ));
    let role = st.role_arn.as_deref().unwrap_or(profile.as_str());
    p.blast_radius.push(format!(
        "software on {id} that calls AWS as {} fails once its current credentials expire",
        role_name(role)
    ));
    p.notes.push(format!(
        "credentials already issued to {id} stay valid until they expire (and wherever they were copied): revoke-sessions on {} ends them now",
        role_name(role)
    ));
    Ok(())
}
