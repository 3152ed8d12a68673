//! Auto Scaling: which group an instance is in, the group's capacity, and taking an instance out
//! of service (Standby) or out of the group.

use super::clients::{Clients, ReadOp, ok, wrong_service};
use crate::actions::{ApiCall, CallError, CallOk};
use aws_sdk_ec2::operation::RequestId;

/// The ids of the scaling activities an Auto Scaling call started (its "created" ids).
fn activity_ids(activities: &[aws_sdk_autoscaling::types::Activity]) -> Vec<String> {
    activities
        .iter()
        .filter_map(|a| a.activity_id().map(str::to_string))
        .collect()
}

/// The instance's group and its lifecycle state in it. An instance without the group tag
/// (`tagged` false) is taken to be in no group when the lookup is not allowed; one with the tag
/// needs the answer.
pub(super) fn membership(
    c: &Clients,
    instance_id: &str,
    tagged: bool,
) -> Result<(Option<String>, Option<String>), CallError> {
    let res = c.read(
        ReadOp::DescribeAutoScalingInstances,
        c.autoscaling
            .describe_auto_scaling_instances()
            .instance_ids(instance_id)
            .send(),
    );
    match res {
        Ok(o) => Ok(o
            .auto_scaling_instances()
            .iter()
            .find(|a| a.instance_id() == Some(instance_id))
            .map_or((None, None), |a| {
                (
                    a.auto_scaling_group_name().map(str::to_string),
                    a.lifecycle_state().map(str::to_string),
                )
            })),
        Err(e) if tagged => Err(e),
        Err(_) => Ok((None, None)),
    }
}

/// The group's (min, desired, max) capacity.
pub(super) fn capacity(c: &Clients, name: &str) -> Result<Option<(i32, i32, i32)>, CallError> {
    let out = c.read(
        ReadOp::DescribeAutoScalingGroups,
        c.autoscaling
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send(),
    )?;
    Ok(out
        .auto_scaling_groups()
        .iter()
        .find(|g| g.auto_scaling_group_name() == Some(name))
        .map(|g| {
            (
                g.min_size().unwrap_or(0),
                g.desired_capacity().unwrap_or(0),
                g.max_size().unwrap_or(0),
            )
        }))
}

/// Makes an Auto Scaling call (no dry-run in this API).
pub(super) fn call(c: &Clients, call: &ApiCall) -> Result<CallOk, CallError> {
    match call {
        ApiCall::EnterStandby {
            auto_scaling_group_name,
            instance_id,
            should_decrement_desired_capacity,
        } => {
            let req = c
                .autoscaling
                .enter_standby()
                .auto_scaling_group_name(auto_scaling_group_name)
                .instance_ids(instance_id)
                .should_decrement_desired_capacity(*should_decrement_desired_capacity);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), activity_ids(o.activities())))
        }
        ApiCall::ExitStandby {
            auto_scaling_group_name,
            instance_id,
        } => {
            let req = c
                .autoscaling
                .exit_standby()
                .auto_scaling_group_name(auto_scaling_group_name)
                .instance_ids(instance_id);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), activity_ids(o.activities())))
        }
        ApiCall::DetachInstances {
            auto_scaling_group_name,
            instance_id,
            should_decrement_desired_capacity,
        } => {
            let req = c
                .autoscaling
                .detach_instances()
                .auto_scaling_group_name(auto_scaling_group_name)
                .instance_ids(instance_id)
                .should_decrement_desired_capacity(*should_decrement_desired_capacity);
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), activity_ids(o.activities())))
        }
        _ => Err(wrong_service(call, "Auto Scaling")),
    }
}
