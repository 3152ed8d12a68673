//! The names vigil gives what it creates in an account (groups, tags, policies, DNS Firewall
//! objects): the planner writes them, the readers look for them, release reads them back.

/// Names of the groups vigil creates per VPC.
pub(crate) fn untrack_group_name(vpc: &str) -> String {
    format!("vigil-untrack-{vpc}")
}
pub(crate) fn contain_group_name(vpc: &str) -> String {
    format!("vigil-contain-{vpc}")
}
/// Tag keys vigil writes.
pub const TAG_CASE: &str = "vigil:case";
/// On a snapshot vigil copied under the forensics key: the snapshot it is a copy of.
pub const TAG_COPY_OF: &str = "vigil:copy-of";
pub const TAG_STATUS: &str = "vigil:status";
/// On each ENI: the groups it had before quarantine, comma-separated (release restores them).
pub(crate) const TAG_ORIGINAL_GROUPS: &str = "vigil:original-groups";
pub const STATUS_QUARANTINED: &str = "quarantined";
/// On the instance: the auto-scaling group vigil put it in Standby in (release exits Standby).
pub(crate) const TAG_ASG_STANDBY: &str = "vigil:asg-standby";
/// On the instance: the auto-scaling group vigil detached it from (release says how to re-attach).
pub(crate) const TAG_ASG_DETACHED: &str = "vigil:asg-detached";
/// On the instance: quarantine lowered the group's desired capacity (so release's ExitStandby,
/// which raises it by one, puts it back exactly).
pub(crate) const TAG_ASG_DECREMENTED: &str = "vigil:asg-decremented";

/// On the instance: the instance profile detach-profile took away (release gives it back).
pub const TAG_DETACHED_PROFILE: &str = "vigil:detached-profile";

/// The inline policy that revokes a role's older sessions (the name the IAM console uses).
pub const REVOKE_POLICY_NAME: &str = "AWSRevokeOlderSessions";
/// Route 53 Resolver DNS Firewall: vigil's domain list, its rule group, the BLOCK rule's priority in
/// the group and the group's priority among a VPC's rule groups (100–9900, lower first; 101 to sit
/// just after a team's own first group, which is usually 100).
pub const DNS_BLOCKLIST_NAME: &str = "vigil-blocklist";
pub const DNS_RULE_GROUP_NAME: &str = "vigil-block";
pub(crate) const DNS_RULE_PRIORITY: i32 = 100;
pub(crate) const DNS_ASSOCIATION_PRIORITY: i32 = 101;

/// Role name from a role ARN (`arn:aws:iam::1:role/path/name` → `name`), or the input if it is a name.
pub fn role_name(role: &str) -> &str {
    role.rsplit('/').next().unwrap_or(role)
}
