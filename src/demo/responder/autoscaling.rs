//! The demo world's Auto Scaling: Standby and back, detaching, with the group's capacity checked
//! before anything changes, as Auto Scaling does.

use super::{DemoResponder, wrong_family};
use crate::actions::{ApiCall, CallError};

impl DemoResponder {
    pub(super) fn apply_autoscaling(&mut self, call: &ApiCall) -> Result<Vec<String>, CallError> {
        match call {
            ApiCall::EnterStandby {
                auto_scaling_group_name: asg,
                instance_id,
                ..
            }
            | ApiCall::ExitStandby {
                auto_scaling_group_name: asg,
                instance_id,
            }
            | ApiCall::DetachInstances {
                auto_scaling_group_name: asg,
                instance_id,
                ..
            } => {
                let (from, to) = match call {
                    ApiCall::EnterStandby { .. } => ("InService", Some("Standby")),
                    ApiCall::ExitStandby { .. } => ("Standby", Some("InService")),
                    _ => ("InService", None),
                };
                let decrement = match call {
                    ApiCall::EnterStandby {
                        should_decrement_desired_capacity: d,
                        ..
                    }
                    | ApiCall::DetachInstances {
                        should_decrement_desired_capacity: d,
                        ..
                    } => *d,
                    _ => false,
                };
                let inst = self.find_instance(instance_id)?.clone();
                if inst.asg.as_ref() != Some(asg) {
                    return Err(CallError::new(
                        "ValidationError",
                        format!("instance {instance_id} is not part of Auto Scaling group {asg}"),
                    ));
                }
                let state = inst.asg_lifecycle.as_deref().unwrap_or("InService");
                if state != from {
                    return Err(CallError::new(
                        "ValidationError",
                        format!("the instance {instance_id} is not in {from}"),
                    ));
                }
                // Then the capacity, checked before anything changes, as Auto Scaling does.
                if let Some(g) = self
                    .world
                    .auto_scaling_groups
                    .iter_mut()
                    .find(|g| &g.name == asg)
                {
                    let desired = match call {
                        ApiCall::ExitStandby { .. } => g.desired + 1,
                        _ if decrement => g.desired - 1,
                        _ => g.desired,
                    };
                    if desired < g.min || desired > g.max {
                        return Err(CallError::new(
                            "ValidationError",
                            format!(
                                "{asg}: desired capacity {desired} would be outside min {} / max {}",
                                g.min, g.max
                            ),
                        ));
                    }
                    g.desired = desired;
                    if to.is_none() {
                        g.instances.retain(|i| i != instance_id);
                    }
                }
                let inst = self.find_instance(instance_id)?;
                match to {
                    Some(to) => inst.asg_lifecycle = Some(to.to_string()),
                    None => {
                        inst.asg = None;
                        inst.asg_lifecycle = None;
                    }
                }
                Ok(vec![])
            }
            _ => Err(wrong_family(call, "Auto Scaling")),
        }
    }
}
