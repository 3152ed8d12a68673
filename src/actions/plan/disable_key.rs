//! Planning disable-key: the long-term key set Inactive (reversible; vigil never deletes keys).

use super::context::{Facts, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;

pub(super) fn plan(
    action: &Action,
    key: &str,
    facts: &Facts,
    p: &mut Plan,
) -> Result<(), PlanError> {
    if key.starts_with("ASIA") {
        return Err(PlanError::TemporaryKey(key.to_string()));
    }
    let k = facts
        .keys
        .get(key)
        .ok_or_else(|| PlanError::NoKey(key.to_string()))?;
    if k.status.eq_ignore_ascii_case("Inactive") {
        p.notes
            .push(format!("{key} (user {}) is already Inactive", k.user_name));
        return Ok(());
    }
    p.steps.push(step(
        action,
        ApiCall::UpdateAccessKey {
            user_name: k.user_name.clone(),
            access_key_id: key.to_string(),
            status: "Inactive".to_string(),
        },
        "deactivate (reversible: Status=Active undoes it; vigil never deletes keys)",
    ));
    p.blast_radius.push(format!(
        "every program using {key} (user {}) stops authenticating",
        k.user_name
    ));
    Ok(())
}
