//! Systems Manager: whether an instance's agent is registered (DescribeInstanceInformation), Run
//! Command (SendCommand), and where an invocation is (GetCommandInvocation).

use super::clients::{Clients, ReadOp, ok, wrong_service};
use crate::actions::{ApiCall, CallError, CallOk, SsmAgent};
use aws_sdk_ssm::types::InstanceInformationStringFilter;

pub(super) fn agent(c: &Clients, instance_id: &str) -> Result<Option<SsmAgent>, CallError> {
    let out = c.read(
        ReadOp::SsmDescribeInstanceInformation,
        c.ssm
            .describe_instance_information()
            .filters(
                InstanceInformationStringFilter::builder()
                    .key("InstanceIds")
                    .values(instance_id)
                    .build()
                    .map_err(|e| CallError::new("vigil.BadFilter", e.to_string()))?,
            )
            .send(),
    )?;
    Ok(out
        .instance_information_list()
        .iter()
        .find(|i| i.instance_id() == Some(instance_id))
        .map(|i| SsmAgent {
            ping_status: i
                .ping_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            platform_type: i
                .platform_type()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        }))
}

pub(super) fn command_status(
    c: &Clients,
    command_id: &str,
    instance_id: &str,
) -> Result<(String, String), CallError> {
    let out = c.read(
        ReadOp::SsmGetCommandInvocation,
        c.ssm
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id)
            .send(),
    )?;
    Ok((
        out.status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        out.status_details().unwrap_or_default().to_string(),
    ))
}

/// Makes an SSM call (no DryRun in this API).
pub(super) fn call(c: &Clients, call: &ApiCall) -> Result<CallOk, CallError> {
    let ApiCall::SendCommand {
        instance_id,
        document,
        commands,
        output_s3_bucket,
        output_s3_key_prefix,
        comment,
        timeout_seconds,
    } = call
    else {
        return Err(wrong_service(call, "SSM"));
    };
    let req = c
        .ssm
        .send_command()
        .instance_ids(instance_id)
        .document_name(document)
        .parameters("commands", commands.clone())
        .parameters("executionTimeout", vec![timeout_seconds.to_string()])
        .output_s3_bucket_name(output_s3_bucket)
        .output_s3_key_prefix(output_s3_key_prefix)
        .comment(comment.chars().take(100).collect::<String>())
        .timeout_seconds(*timeout_seconds);
    let o = c.write(call, req.send())?;
    let id = o.command().and_then(|c| c.command_id()).map(str::to_string);
    Ok(ok(None, id.into_iter().collect()))
}
