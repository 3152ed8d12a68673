//! STS: who is acting.

use super::clients::{Clients, ReadOp};
use crate::actions::{CallError, Identity};

pub(super) fn identity(c: &Clients) -> Result<Identity, CallError> {
    let out = c.read(
        ReadOp::GetCallerIdentity,
        c.sts.get_caller_identity().send(),
    )?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}

/// Assumes `role_arn` with an MFA device's code, once: the session's temporary credentials.
pub(super) fn assume_role_with_mfa(
    c: &Clients,
    role_arn: &str,
    external_id: Option<&str>,
    serial: &str,
    code: &str,
) -> Result<super::clients::SessionCredentials, CallError> {
    let req = c
        .sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("vigil")
        .set_external_id(external_id.map(str::to_string))
        .serial_number(serial)
        .token_code(code);
    let out = c.call_as("sts:AssumeRole", req.send())?;
    let creds = out.credentials().ok_or_else(|| {
        CallError::new(
            "vigil.NoCredentials",
            "AssumeRole answered without credentials",
        )
    })?;
    Ok(super::clients::SessionCredentials {
        access_key_id: creds.access_key_id().to_string(),
        secret_access_key: creds.secret_access_key().to_string(),
        session_token: creds.session_token().to_string(),
        expires: std::time::SystemTime::try_from(*creds.expiration()).ok(),
    })
}
