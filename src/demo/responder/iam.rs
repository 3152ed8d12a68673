//! The demo world's IAM: access keys deactivated, roles given the policy that revokes their older
//! sessions.

use super::{DemoResponder, not_found, wrong_family};
use crate::actions::{ApiCall, CallError};

impl DemoResponder {
    pub(super) fn apply_iam(&mut self, call: &ApiCall) -> Result<Vec<String>, CallError> {
        match call {
            ApiCall::UpdateAccessKey {
                user_name,
                access_key_id,
                status,
            } => {
                let key = self
                    .world
                    .users
                    .iter_mut()
                    .filter(|u| &u.name == user_name)
                    .flat_map(|u| u.access_keys.iter_mut())
                    .find(|k| &k.access_key_id == access_key_id)
                    .ok_or_else(|| {
                        not_found("NoSuchEntity", &format!("access key {access_key_id}"))
                    })?;
                key.status = status.clone();
                Ok(vec![])
            }
            ApiCall::PutRolePolicy {
                role_name: name,
                policy_name,
                policy_document,
            } => {
                let role = self
                    .world
                    .roles
                    .iter_mut()
                    .find(|r| &r.name == name)
                    .ok_or_else(|| not_found("NoSuchEntity", &format!("role {name}")))?;
                role.inline_policies
                    .insert(policy_name.clone(), policy_document.clone());
                Ok(vec![])
            }
            _ => Err(wrong_family(call, "IAM")),
        }
    }
}
