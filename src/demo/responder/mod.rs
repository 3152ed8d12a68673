//! The demo responder: the same actions applied to a scenario's world (world.json) in memory.
//! Quarantine puts the contain group on the ENIs, snapshots get ids, notifications land in an
//! outbox; the audit log is written as for a real account, each record marked `demo`.

//!
//! This file holds the responder and its dispatch; each service family's effect on the world is in
//! its own file (`ec2`, `autoscaling`, `dns_firewall`, `messages`, `iam`), reading the world in
//! `inspect`, and the world screen's view of it in `view`.

use super::world::World;
use crate::actions::{ApiCall, CallError, CallOk, DryRun, Responder, Service};
use crate::model::content_hash;
use serde::Serialize;
use std::collections::BTreeMap;

mod autoscaling;
mod dns_firewall;
mod ec2;
mod guardduty;
mod iam;
mod inspect;
mod messages;
mod s3;
mod view;

/// The demo account's GuardDuty detector.
pub const DEMO_DETECTOR: &str = "d0e1m2o3d4e5t6e7c8t9o0r1d2e3m4o5";

/// How far a demo snapshot gets per DescribeSnapshots: pending 0% → 35% → 70% → completed.
pub const DEMO_SNAPSHOT_STEP: u8 = 35;

/// A message the demo "sent".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    pub message_id: String,
    pub topic_arn: String,
    pub subject: String,
    pub message: String,
    pub json: String,
}

pub struct DemoResponder {
    pub world: World,
    pub outbox: Vec<OutboxEntry>,
    /// The scenario's flow-log lines, to show which ones an isolation turns to REJECT.
    pub flows: Vec<crate::model::FlowRecord>,
    /// The world as loaded, to tell what this session changed.
    original: World,
    /// Names of the scenario (for the world screen).
    name: String,
    calls: u64,
    /// Scenario time "now", for recording when an ENI was isolated (the console sets it from the
    /// playback clock; `None`: isolation counts from the scenario's start).
    pub clock: Option<Box<dyn Fn() -> crate::model::Ts + Send>>,
}

fn not_found(code: &str, what: &str) -> CallError {
    CallError::new(code, format!("{what} does not exist in the demo world"))
}

fn hex_id(prefix: &str, seed: &str) -> String {
    format!("{prefix}-0{:016x}", content_hash(seed.as_bytes()))
}

/// A WAF IP set's lock token in the demo world: it changes whenever the list does.
fn waf_lock_token(s: &crate::demo::world::WafIpSet) -> String {
    hex_id("lock", &s.addresses.join(","))
}

/// The id of the association of an instance's profile in the demo world.
fn profile_association(instance_id: &str) -> String {
    hex_id("iip-assoc", instance_id)
}

fn all_traffic() -> serde_json::Value {
    serde_json::json!({"protocol": "-1", "from_port": null, "to_port": null, "cidr": "0.0.0.0/0", "description": "all"})
}

impl DemoResponder {
    pub fn new(world: World) -> DemoResponder {
        DemoResponder {
            original: world.clone(),
            world,
            outbox: Vec::new(),
            flows: Vec::new(),
            name: String::new(),
            calls: 0,
            clock: None,
        }
    }

    /// The scenario's world, with the scenario's flow-log lines.
    pub fn for_scenario(sc: &super::Scenario) -> Result<DemoResponder, super::DemoError> {
        let mut r = DemoResponder::new(sc.world()?);
        r.flows = sc.evidence.flows.clone();
        r.name = sc.manifest.name.clone();
        Ok(r)
    }

    /// Applies a call to the world; Ok with the ids it created. Each service family in its file.
    fn apply(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, CallError> {
        match call.service() {
            Service::Ec2 => self.apply_ec2(call, created),
            Service::AutoScaling => self.apply_autoscaling(call),
            Service::Route53Resolver => self.apply_dns(call, created),
            Service::Sns | Service::Webhook => self.apply_message(call),
            Service::Iam => self.apply_iam(call),
            Service::GuardDuty => self.apply_guardduty(call),
            Service::Wafv2 => self.apply_waf(call),
            Service::Ssm => self.apply_ssm(call),
            Service::S3 => self.apply_s3(call),
        }
    }
}

/// A call handed to the wrong family's file: a bug in [`DemoResponder::apply`], reported.
fn wrong_family(call: &ApiCall, family: &str) -> CallError {
    CallError::new(
        "vigil.Internal",
        format!("{} is not a {family} call", call.iam_action()),
    )
}

impl Responder for DemoResponder {
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError> {
        self.calls += 1;
        let request_id = Some(format!("demo-{:04}", self.calls));
        match self.apply(call, created) {
            Ok(created) => Ok(CallOk {
                request_id,
                created,
            }),
            Err(mut e) => {
                e.request_id = request_id;
                e.iam_action = Some(call.iam_action().to_string());
                Err(e)
            }
        }
    }

    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError> {
        // Apply to a copy of the world and throw it away (harmless for any call, so no gate on
        // supports_dry_run here: the executor only asks for the calls that have one).
        let mut scratch = DemoResponder::new(self.world.clone());
        scratch.apply(call, created).map(|_| DryRun::WouldSucceed)
    }
}

impl DemoResponder {
    /// WAF: the IP set's list changed as the call says (blocks compared as networks).
    fn apply_waf(&mut self, call: &ApiCall) -> Result<Vec<String>, CallError> {
        let ApiCall::UpdateIpSet {
            name,
            scope,
            add,
            remove,
            ..
        } = call
        else {
            return Err(wrong_family(call, "WAF"));
        };
        let set = self
            .world
            .waf_ip_sets
            .iter_mut()
            .find(|s| &s.name == name && s.scope.eq_ignore_ascii_case(scope))
            .ok_or_else(|| {
                not_found("WAFNonexistentItemException", &format!("WAF IP set {name}"))
            })?;
        let norm = |s: &str| s.parse::<ipnet::IpNet>().map(|n| n.trunc()).ok();
        set.addresses
            .retain(|a| !remove.iter().any(|r| norm(r) == norm(a)));
        for a in add {
            if !set.addresses.iter().any(|x| norm(x) == norm(a)) {
                set.addresses.push(a.clone());
            }
        }
        Ok(vec![waf_lock_token(set)])
    }
}

impl DemoResponder {
    /// SSM Run Command on the demo world: a running instance's agent answers; the command id
    /// is kept with the instance and the artefacts it would find (world.json's `artefacts`).
    fn apply_ssm(&mut self, call: &ApiCall) -> Result<Vec<String>, CallError> {
        let ApiCall::SendCommand {
            instance_id,
            output_s3_bucket,
            output_s3_key_prefix,
            ..
        } = call
        else {
            return Err(wrong_family(call, "SSM"));
        };
        let i = self.find_instance(instance_id)?;
        if i.state != "running" {
            return Err(CallError::new(
                "InvalidInstanceId",
                format!("{instance_id} is {}: its agent does not answer", i.state),
            ));
        }
        let id = hex_id(
            "cmd",
            &format!("{instance_id}/{}", self.world.collections.len()),
        )
        .trim_start_matches("cmd-")
        .to_string();
        // What the instance's agent writes, where SSM puts it: PREFIX/COMMAND/INSTANCE/
        // awsrunShellScript/0.awsrunShellScript/stdout.
        let found = self
            .world
            .artefacts
            .get(instance_id.as_str())
            .cloned()
            .unwrap_or_default();
        let mut stdout = format!("== vigil collect: {instance_id}\n");
        for line in found {
            stdout.push_str(&line);
            stdout.push('\n');
        }
        self.world.evidence.insert(
            format!(
                "{output_s3_bucket}/{}",
                crate::actions::evidence::case_key(
                    output_s3_key_prefix,
                    &id,
                    &format!("{instance_id}/awsrunShellScript/0.awsrunShellScript/stdout")
                )
            ),
            stdout.into_bytes(),
        );
        self.world.collections.push(crate::demo::world::Collection {
            command_id: id.clone(),
            instance_id: instance_id.clone(),
            location: format!("s3://{output_s3_bucket}/{output_s3_key_prefix}/"),
        });
        Ok(vec![id])
    }
}
