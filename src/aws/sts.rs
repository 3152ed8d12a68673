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
