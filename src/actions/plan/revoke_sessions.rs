//! Planning revoke-sessions: the inline policy that denies every session of the role issued before
//! now (what the IAM console's "Revoke active sessions" writes).

use super::context::{Facts, PlanContext};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;
use crate::actions::names::{REVOKE_POLICY_NAME, role_name};

pub(super) fn plan(action: &Action, role: &str, facts: &Facts, ctx: &PlanContext, p: &mut Plan) {
    let name = role_name(role).to_string();
    let at = ctx.now.to_rfc3339_secs();
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Deny",
            "Action": ["*"],
            "Resource": ["*"],
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": at}}
        }]
    });
    p.steps.push(step(
        action,
        ApiCall::PutRolePolicy {
            role_name: name.clone(),
            policy_name: REVOKE_POLICY_NAME.to_string(),
            policy_document: doc.to_string(),
        },
        format!("deny every session of {name} issued before {at}"),
    ));
    p.blast_radius.push(format!(
        "EVERY session of role {name} issued before {at} is denied, not only the attacker's"
    ));
    if let Some(list) = facts.role_instances.get(role).filter(|l| !l.is_empty()) {
        p.blast_radius.push(format!(
            "instances using the role lose access until they fetch new credentials: {}",
            list.join(", ")
        ));
    }
}
