//! IAM: instance profiles and their roles, access keys, and the two credential containments
//! (deactivating a key, revoking a role's older sessions).

use super::clients::{Clients, ReadOp, ok, wrong_service};
use crate::actions::{ApiCall, CallError, CallOk, KeyState, role_name};
use aws_sdk_ec2::operation::RequestId;

/// The role of an instance profile (by ARN), when it can be read: the role is shown, not acted
/// on, so a denied lookup leaves it out rather than stopping the plan.
pub(super) fn role_of_profile(c: &Clients, profile_arn: &str) -> Option<String> {
    let name = profile_arn.rsplit('/').next().unwrap_or(profile_arn);
    c.read(
        ReadOp::GetInstanceProfile,
        c.iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send(),
    )
    .ok()
    .and_then(|o| {
        o.instance_profile()
            .and_then(|ip| ip.roles().first())
            .map(|r| r.arn().to_string())
    })
}

/// The user owning a long-term access key, and the key's status.
pub(super) fn access_key(c: &Clients, key: &str) -> Result<KeyState, CallError> {
    let out = c.read(
        ReadOp::GetAccessKeyLastUsed,
        c.iam.get_access_key_last_used().access_key_id(key).send(),
    )?;
    let user = out.user_name().unwrap_or_default().to_string();
    let keys = c.read(
        ReadOp::ListAccessKeys,
        c.iam.list_access_keys().user_name(&user).send(),
    )?;
    let status = keys
        .access_key_metadata()
        .iter()
        .find(|k| k.access_key_id() == Some(key))
        .and_then(|k| k.status())
        .map(|s| s.as_str().to_string())
        .ok_or_else(|| CallError::new("NoSuchEntity", format!("access key {key} not found")))?;
    Ok(KeyState {
        access_key_id: key.to_string(),
        user_name: user,
        status,
    })
}

/// The ARNs of the instance profiles that carry this role.
pub(super) fn profiles_of_role(c: &Clients, role_arn: &str) -> Result<Vec<String>, CallError> {
    let out = c.read(
        ReadOp::ListInstanceProfilesForRole,
        c.iam
            .list_instance_profiles_for_role()
            .role_name(role_name(role_arn))
            .send(),
    )?;
    let profiles: Vec<String> = out
        .instance_profiles()
        .iter()
        .map(|p| p.arn().to_string())
        .collect();
    Ok(profiles)
}

/// Makes an IAM call (no dry-run in this API).
pub(super) fn call(c: &Clients, call: &ApiCall) -> Result<CallOk, CallError> {
    match call {
        ApiCall::UpdateAccessKey {
            user_name,
            access_key_id,
            status,
        } => {
            let req = c
                .iam
                .update_access_key()
                .user_name(user_name)
                .access_key_id(access_key_id)
                .status(aws_sdk_iam::types::StatusType::from(status.as_str()));
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        ApiCall::PutRolePolicy {
            role_name,
            policy_name,
            policy_document,
        } => {
            let req = c
                .iam
                .put_role_policy()
                .role_name(role_name)
                .policy_name(policy_name)
                .policy_document(policy_document);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), vec![]))
        }
        _ => Err(wrong_service(call, "IAM")),
    }
}
