//! The responder traits and the sessions that hold them: [`Inspect`] reads the account (enough to
//! plan), [`Responder`] also changes it. A read-only session holds only an inspector, so it has no
//! path to a mutating call; only the executor calls a responder.

use super::account::AccountView;
use super::answer::{CallError, CallOk, DryRun};
use super::api::ApiCall;
use super::state::{
    CaseSnapshot, DnsFirewallState, GroupState, Identity, InstanceState, KeyState, NetworkAclState,
    ObjectLockState, SnapshotProgress, SsmAgent, StoredObject, WafIpSetState,
};
use std::collections::BTreeMap;

/// Reading the account: enough to plan. Read-only sessions hold only this.
pub trait Inspect {
    /// True for the demo world (audit records are marked demo).
    fn is_demo(&self) -> bool;
    /// Reads and acts in `region` from now on (`None`: the region the session was opened in),
    /// and for `account` when the session may assume a role there (an organisation's
    /// incident-response role in a member account; `None` or the session's own: as itself), so
    /// an action on a finding acts where its resources are. A session bound to one place (the
    /// demo world) stays there.
    fn act_at(&mut self, account: Option<&str>, region: Option<&str>) -> Result<(), CallError> {
        let _ = (account, region);
        Ok(())
    }
    fn identity(&mut self) -> Result<Identity, CallError>;
    fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError>;
    /// The group with this name in this VPC, if any.
    fn group_by_name(&mut self, vpc_id: &str, name: &str) -> Result<Option<GroupState>, CallError>;
    /// The user owning a long-term access key, and the key's status.
    fn access_key(&mut self, access_key_id: &str) -> Result<KeyState, CallError>;
    /// Instances whose instance profile carries this role (blast radius of revoking sessions).
    fn instances_with_role(&mut self, role_arn: &str) -> Result<Vec<String>, CallError>;
    /// Progress of these snapshots (DescribeSnapshots), in the order asked.
    fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError>;
    /// vigil's DNS Firewall domain list and rule group, and whether the group covers `vpc_id`.
    fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError>;
    /// The GuardDuty detectors of the responder's region.
    fn detectors(&mut self) -> Result<Vec<String>, CallError>;
    /// The network ACL of a subnet, its entries and what else it covers.
    fn network_acl(&mut self, subnet_id: &str) -> Result<NetworkAclState, CallError>;
    /// The WAF IP set of this name in this scope (REGIONAL or CLOUDFRONT).
    fn waf_ip_set(&mut self, name: &str, scope: &str) -> Result<WafIpSetState, CallError>;
    /// The snapshots vigil took of this instance (tagged `vigil:instance`), with their case.
    fn case_snapshots(&mut self, instance_id: &str) -> Result<Vec<CaseSnapshot>, CallError>;
    /// The instance's SSM agent, if Systems Manager manages it.
    fn ssm_agent(&mut self, instance_id: &str) -> Result<Option<SsmAgent>, CallError>;
    /// Where a Run Command invocation is: its status and status details.
    fn command_status(
        &mut self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<(String, String), CallError>;
    /// A bucket's Object Lock configuration (off when the bucket has none).
    fn object_lock(&mut self, bucket: &str) -> Result<ObjectLockState, CallError>;
    /// Every object under `prefix`, read back and hashed (SHA-256), in key order.
    fn stored_objects(
        &mut self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<StoredObject>, CallError>;
    /// One object's content, `None` when there is no such key.
    fn read_object(&mut self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, CallError>;
    /// The account as the console's world screen shows it (the demo world); `None` for AWS.
    fn account_view(&self) -> Option<AccountView> {
        None
    }
}

/// Changing the account. Only `crate::aws` and `crate::demo` implement it; only [`execute`](super::execute) calls it.
pub trait Responder: Inspect {
    /// Makes the call. `created` maps group names created earlier in the plan to their ids.
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError>;
    /// The same call with the API's DryRun flag (EC2); others answer `NotChecked`.
    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError>;
}

impl<T: Inspect + ?Sized> Inspect for Box<T> {
    fn is_demo(&self) -> bool {
        (**self).is_demo()
    }
    fn act_at(&mut self, account: Option<&str>, region: Option<&str>) -> Result<(), CallError> {
        (**self).act_at(account, region)
    }
    fn identity(&mut self) -> Result<Identity, CallError> {
        (**self).identity()
    }
    fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError> {
        (**self).instance(instance_id)
    }
    fn group_by_name(&mut self, vpc_id: &str, name: &str) -> Result<Option<GroupState>, CallError> {
        (**self).group_by_name(vpc_id, name)
    }
    fn access_key(&mut self, access_key_id: &str) -> Result<KeyState, CallError> {
        (**self).access_key(access_key_id)
    }
    fn instances_with_role(&mut self, role_arn: &str) -> Result<Vec<String>, CallError> {
        (**self).instances_with_role(role_arn)
    }
    fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
        (**self).snapshots(ids)
    }
    fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
        (**self).dns_firewall(vpc_id)
    }
    fn detectors(&mut self) -> Result<Vec<String>, CallError> {
        (**self).detectors()
    }
    fn network_acl(&mut self, subnet_id: &str) -> Result<NetworkAclState, CallError> {
        (**self).network_acl(subnet_id)
    }
    fn waf_ip_set(&mut self, name: &str, scope: &str) -> Result<WafIpSetState, CallError> {
        (**self).waf_ip_set(name, scope)
    }
    fn ssm_agent(&mut self, instance_id: &str) -> Result<Option<SsmAgent>, CallError> {
        (**self).ssm_agent(instance_id)
    }
    fn case_snapshots(&mut self, instance_id: &str) -> Result<Vec<CaseSnapshot>, CallError> {
        (**self).case_snapshots(instance_id)
    }
    fn command_status(
        &mut self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<(String, String), CallError> {
        (**self).command_status(command_id, instance_id)
    }
    fn object_lock(&mut self, bucket: &str) -> Result<ObjectLockState, CallError> {
        (**self).object_lock(bucket)
    }
    fn stored_objects(
        &mut self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<StoredObject>, CallError> {
        (**self).stored_objects(bucket, prefix)
    }
    fn read_object(&mut self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, CallError> {
        (**self).read_object(bucket, key)
    }
    fn account_view(&self) -> Option<AccountView> {
        (**self).account_view()
    }
}

impl<T: Responder + ?Sized> Responder for Box<T> {
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError> {
        (**self).call(call, created)
    }
    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError> {
        (**self).dry_run(call, created)
    }
}

/// A session that can only look: it has no responder, so no path to a mutating call.
///
/// ```compile_fail
/// # use vigil::actions::*;
/// fn run(s: &mut ReadOnlySession, p: &Plan, log: &mut AuditLog) {
///     // does not compile: a read-only session is not a Responder
///     execute(p, s.inspector(), log, &ExecOptions::default());
/// }
/// ```
pub struct ReadOnlySession {
    inspect: Box<dyn Inspect + Send>,
}

impl ReadOnlySession {
    pub fn new(inspect: Box<dyn Inspect + Send>) -> ReadOnlySession {
        ReadOnlySession { inspect }
    }
    pub fn inspector(&mut self) -> &mut dyn Inspect {
        self.inspect.as_mut()
    }
}

/// A session that may act: holds the responder. The same call as in [`ReadOnlySession`]'s
/// example compiles here, so that example fails for the type alone, not for a typo:
///
/// ```no_run
/// # use vigil::actions::*;
/// fn run(s: &mut ResponderSession, p: &Plan, log: &mut AuditLog) {
///     let _ = execute(p, s.responder(), log, &ExecOptions::default());
/// }
/// ```
pub struct ResponderSession {
    responder: Box<dyn Responder + Send>,
}

impl ResponderSession {
    pub fn new(responder: Box<dyn Responder + Send>) -> ResponderSession {
        ResponderSession { responder }
    }
    pub fn responder(&mut self) -> &mut dyn Responder {
        self.responder.as_mut()
    }
}

/// Either kind of session; the CLI picks one from `--read-only`.
pub enum Session {
    ReadOnly(ReadOnlySession),
    Responder(ResponderSession),
}

impl Session {
    pub fn inspector(&mut self) -> &mut dyn Inspect {
        match self {
            Session::ReadOnly(s) => s.inspector(),
            Session::Responder(s) => s.responder.as_mut(),
        }
    }
}
