//! The planner: from an [`Action`] and the [`Facts`] read from the account to a [`Plan`]. [`plan`] is
//! pure; [`gather`] does the reads (through an [`Inspect`], never a responder).

use super::*;
use crate::model::Ts;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("reading the account failed: {0}")]
    Read(#[from] CallError),
    #[error("no instance {0} in the account (check the id and the region)")]
    NoInstance(String),
    #[error(
        "{0} is a temporary (ASIA…) key: UpdateAccessKey cannot disable it; revoke the sessions of its role instead (vigil act revoke-sessions ROLE)"
    )]
    TemporaryKey(String),
    #[error("no access key {0} in the account")]
    NoKey(String),
    #[error(
        "notify needs a topic or a webhook: give --topic-arn ARN (or set VIGIL_TOPIC_ARN), or --webhook URL (or VIGIL_WEBHOOK_URL)"
    )]
    NoTopic,
    #[error("instance {0} is {1}: there is nothing to act on")]
    Gone(String, String),
    #[error(
        "block-domain needs the VPC whose resolver queries to block: give --vpc VPC_ID, or --instance ID (its VPC)"
    )]
    NoVpc,
    #[error("`{0}` is not a domain name")]
    BadDomain(String),
}

/// What a finding says, for the notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FindingSummary {
    pub id: String,
    pub finding_type: String,
    pub severity: f64,
    pub title: String,
    pub resource: String,
    pub actor: Option<String>,
    pub account: String,
    pub region: String,
    /// How many findings are in its group.
    pub group_size: usize,
}

impl FindingSummary {
    /// The summary of `f`, in a group of `group_size` findings.
    pub fn of(f: &crate::model::Finding, group_size: usize) -> FindingSummary {
        FindingSummary {
            id: f.id.clone(),
            finding_type: f.finding_type.clone(),
            severity: f.severity,
            title: f.title.clone(),
            resource: f
                .primary_entity()
                .map_or_else(|| f.resource.clone(), |e| e.to_string()),
            actor: f.actor().map(|r| r.describe()),
            account: f.account_id.clone().unwrap_or_default(),
            region: f.region.clone().unwrap_or_default(),
            group_size,
        }
    }
}

/// The case id when the operator gives none: `vigil-YYYYMMDD` of `now` (UTC).
pub fn default_case(now: Ts) -> String {
    let d: String = now
        .to_rfc3339_secs()
        .chars()
        .take(10)
        .filter(|c| c.is_ascii_digit())
        .collect();
    format!("vigil-{d}")
}

/// Everything the planner needs besides the facts.
#[derive(Debug, Clone, Default)]
pub struct PlanContext {
    pub case: String,
    pub now: Ts,
    pub topic_arn: Option<String>,
    /// The webhook's redacted endpoint, when one is configured (the responder holds the URL).
    pub webhook: Option<String>,
    pub findings: BTreeMap<String, FindingSummary>,
    /// Actions already taken in this case, for the notification.
    pub already_taken: Vec<String>,
    /// A one-line command that opens the same view in vigil.
    pub open_command: Option<String>,
    /// What quarantine does about an auto-scaling group.
    pub asg: AsgMode,
}

/// What was read from the account before planning.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facts {
    pub identity: Identity,
    pub instances: BTreeMap<String, InstanceState>,
    /// (vpc, group name) → the group, if it exists.
    pub groups: BTreeMap<(String, String), Option<GroupState>>,
    pub keys: BTreeMap<String, KeyState>,
    /// role ARN → instances carrying it.
    pub role_instances: BTreeMap<String, Vec<String>>,
    /// VPC → vigil's DNS Firewall objects seen from it.
    pub dns: BTreeMap<String, DnsFirewallState>,
}

/// Reads what planning `action` needs.
pub fn gather(action: &Action, inspect: &mut dyn Inspect) -> Result<Facts, PlanError> {
    let mut facts = Facts {
        identity: inspect.identity()?,
        ..Facts::default()
    };
    gather_into(action, inspect, &mut facts)?;
    Ok(facts)
}

fn gather_into(
    action: &Action,
    inspect: &mut dyn Inspect,
    facts: &mut Facts,
) -> Result<(), PlanError> {
    match action {
        Action::Quarantine { instance }
        | Action::Release { instance, .. }
        | Action::Snapshot { instance, .. } => {
            let st = match facts.instances.get(instance) {
                Some(st) => st.clone(),
                None => inspect.instance(instance).map_err(|e| {
                    if e.code.contains("NotFound") {
                        PlanError::NoInstance(instance.clone())
                    } else {
                        PlanError::Read(e)
                    }
                })?,
            };
            if matches!(action, Action::Quarantine { .. }) {
                let mut vpcs: Vec<&str> = st.enis.iter().map(|e| e.vpc_id.as_str()).collect();
                vpcs.push(&st.vpc_id);
                vpcs.retain(|v| !v.is_empty());
                vpcs.sort_unstable();
                vpcs.dedup();
                for vpc in vpcs {
                    for name in [untrack_group_name(vpc), contain_group_name(vpc)] {
                        let g = inspect.group_by_name(vpc, &name)?;
                        facts.groups.insert((vpc.to_string(), name), g);
                    }
                }
                if let Some(role) = &st.role_arn {
                    let others = inspect.instances_with_role(role)?;
                    facts.role_instances.insert(role.clone(), others);
                }
            }
            facts.instances.insert(instance.clone(), st);
        }
        Action::DisableKey { key } => {
            if key.starts_with("ASIA") {
                return Err(PlanError::TemporaryKey(key.clone()));
            }
            let k = inspect.access_key(key).map_err(|e| {
                if e.code.contains("NoSuchEntity") || e.code.contains("NotFound") {
                    PlanError::NoKey(key.clone())
                } else {
                    PlanError::Read(e)
                }
            })?;
            facts.keys.insert(key.clone(), k);
        }
        Action::RevokeSessions { role } => {
            let others = inspect.instances_with_role(role)?;
            facts.role_instances.insert(role.clone(), others);
        }
        Action::BlockDomain { vpc, instance, .. } => {
            let vpc = match (vpc, instance) {
                (Some(v), _) => v.clone(),
                (None, Some(i)) => {
                    let st = inspect.instance(i).map_err(|e| {
                        if e.code.contains("NotFound") {
                            PlanError::NoInstance(i.clone())
                        } else {
                            PlanError::Read(e)
                        }
                    })?;
                    let v = st.vpc_id.clone();
                    facts.instances.insert(i.clone(), st);
                    v
                }
                (None, None) => return Err(PlanError::NoVpc),
            };
            if vpc.is_empty() {
                return Err(PlanError::NoVpc);
            }
            let st = inspect.dns_firewall(&vpc)?;
            facts.dns.insert(vpc, st);
        }
        Action::Notify { .. } => {}
        Action::Playbook { steps, .. } => {
            for s in steps {
                gather_into(s, inspect, facts)?;
            }
        }
    }
    Ok(())
}

/// The VPC a block-domain acts in, from the action and the facts.
fn block_vpc(vpc: &Option<String>, instance: &Option<String>, facts: &Facts) -> Option<String> {
    vpc.clone()
        .or_else(|| {
            instance
                .as_ref()
                .and_then(|i| facts.instances.get(i))
                .map(|st| st.vpc_id.clone())
        })
        .filter(|v| !v.is_empty())
}

/// A domain as DNS Firewall lists it: lower case, no trailing dot, no leading `*.`.
pub fn normalise_domain(d: &str) -> Option<String> {
    let d = d.trim().trim_end_matches('.').to_ascii_lowercase();
    let d = d.strip_prefix("*.").unwrap_or(&d).to_string();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    ok.then_some(d)
}

/// The existing resource, or a step that creates it (`create`, which names it `name`) and a
/// reference to what that step will create.
fn existing_or_created(
    action: &Action,
    p: &mut Plan,
    existing: Option<&String>,
    name: &str,
    create: ApiCall,
    why: &str,
) -> GroupRef {
    match existing {
        Some(id) => GroupRef::Existing(id.clone()),
        None => {
            p.steps.push(step(action, create, why));
            GroupRef::Created(name.to_string())
        }
    }
}

fn block_domain(
    action: &Action,
    domain: &str,
    vpc: &str,
    facts: &Facts,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let d = normalise_domain(domain).ok_or_else(|| PlanError::BadDomain(domain.to_string()))?;
    let fw = facts.dns.get(vpc).cloned().unwrap_or_default();
    let wanted = [d.clone(), format!("*.{d}")];
    let present: Vec<String> = fw
        .domain_list
        .as_ref()
        .map(|(_, ds)| {
            ds.iter()
                .map(|x| x.trim_end_matches('.').to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !present.contains(w))
        .cloned()
        .collect();
    if missing.is_empty() && fw.block_rule && fw.associated {
        p.notes.push(format!(
            "{d} is already blocked for {vpc} ({DNS_BLOCKLIST_NAME} through {DNS_RULE_GROUP_NAME})"
        ));
        return Ok(());
    }
    let list = existing_or_created(
        action,
        p,
        fw.domain_list.as_ref().map(|(id, _)| id),
        DNS_BLOCKLIST_NAME,
        ApiCall::CreateFirewallDomainList {
            name: DNS_BLOCKLIST_NAME.to_string(),
        },
        "create vigil's DNS Firewall domain list",
    );
    if !missing.is_empty() {
        p.steps.push(step(
            action,
            ApiCall::UpdateFirewallDomains {
                domain_list: list.clone(),
                domains: missing,
            },
            format!("add {d} and its subdomains to the block list"),
        ));
    }
    let group = existing_or_created(
        action,
        p,
        fw.rule_group.as_ref(),
        DNS_RULE_GROUP_NAME,
        ApiCall::CreateFirewallRuleGroup {
            name: DNS_RULE_GROUP_NAME.to_string(),
        },
        "create vigil's DNS Firewall rule group",
    );
    if !fw.block_rule {
        p.steps.push(step(
            action,
            ApiCall::CreateFirewallRule {
                rule_group: group.clone(),
                domain_list: list,
                name: "vigil-block-list".to_string(),
                priority: DNS_RULE_PRIORITY,
            },
            "BLOCK the list's names, answering NXDOMAIN",
        ));
    }
    if !fw.associated {
        p.steps.push(step(
            action,
            ApiCall::AssociateFirewallRuleGroup {
                rule_group: group,
                vpc_id: vpc.to_string(),
                name: format!("vigil-block-{vpc}"),
                priority: DNS_ASSOCIATION_PRIORITY,
            },
            format!("apply the rule group to {vpc}'s resolver"),
        ));
    }
    p.blast_radius.push(format!(
        "every query from {vpc} for {d} or any name under it answers NXDOMAIN, for every workload in the VPC"
    ));
    let aws_endpoint =
        d.ends_with("amazonaws.com") || d.ends_with("aws.amazon.com") || d.ends_with(".aws");
    if let Some((_, parent)) = d.split_once('.')
        && parent.contains('.')
        && !aws_endpoint
    {
        p.notes.push(format!(
            "only {d} and names under it are blocked, not {parent} or its other names (block {parent} to cover them all)"
        ));
    }
    if aws_endpoint {
        p.blast_radius.push(format!(
            "{d} is an AWS endpoint: blocking it cuts every workload in {vpc} off that service, not only the attacker"
        ));
    }
    Ok(())
}

/// The plan for `action`, from the facts. Pure.
pub fn plan(action: &Action, facts: &Facts, ctx: &PlanContext) -> Result<Plan, PlanError> {
    let mut p = Plan {
        action: action.clone(),
        case: ctx.case.clone(),
        operator: facts.identity.clone(),
        steps: Vec::new(),
        touches: Vec::new(),
        blast_radius: Vec::new(),
        notes: Vec::new(),
        captured: Vec::new(),
        confirm: if action.is_destructive() {
            Confirm::TypeId {
                id: confirm_id(action),
            }
        } else {
            Confirm::Yes
        },
    };
    plan_into(action, facts, ctx, &mut p)?;
    for st in &p.steps {
        for t in st.call.touches() {
            if !p.touches.contains(&t) {
                p.touches.push(t);
            }
        }
    }
    Ok(p)
}

fn confirm_id(action: &Action) -> String {
    match action {
        Action::RevokeSessions { role } => role_name(role).to_string(),
        Action::Playbook { steps, .. } => steps
            .iter()
            .find(|s| s.is_destructive())
            .map(confirm_id)
            .unwrap_or_default(),
        a => a.target(),
    }
}

fn step(action: &Action, call: ApiCall, why: impl Into<String>) -> Step {
    Step {
        action: action.verb().to_string(),
        call,
        why: why.into(),
    }
}

fn instance<'a>(facts: &'a Facts, id: &str) -> Result<&'a InstanceState, PlanError> {
    let st = facts
        .instances
        .get(id)
        .ok_or_else(|| PlanError::NoInstance(id.to_string()))?;
    if matches!(st.state.as_str(), "terminated" | "shutting-down") {
        return Err(PlanError::Gone(id.to_string(), st.state.clone()));
    }
    Ok(st)
}

fn plan_into(
    action: &Action,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    match action {
        Action::Quarantine { instance: id } => {
            quarantine(action, instance(facts, id)?, facts, ctx, p)
        }
        Action::Release {
            instance: id,
            unprotect,
        } => {
            let st = instance(facts, id)?;
            release(action, st, *unprotect, p);
            Ok(())
        }
        Action::Snapshot {
            instance: id,
            finding,
        } => {
            let st = instance(facts, id)?;
            let mut tags = BTreeMap::new();
            tags.insert(TAG_CASE.to_string(), ctx.case.clone());
            if let Some(f) = finding {
                tags.insert("vigil:finding".to_string(), f.clone());
            }
            tags.insert("vigil:instance".to_string(), id.clone());
            tags.insert("vigil:by".to_string(), facts.identity.arn.clone());
            tags.insert("vigil:at".to_string(), ctx.now.to_rfc3339_secs());
            if st.volumes.is_empty() {
                p.notes.push(format!(
                    "{id} has no EBS volumes attached: nothing to snapshot"
                ));
                return Ok(());
            }
            p.steps.push(step(
                action,
                ApiCall::CreateSnapshots {
                    instance_id: id.clone(),
                    tags,
                    copy_tags_from_source: true,
                },
                format!(
                    "crash-consistent snapshot of every attached volume ({})",
                    st.volumes.join(", ")
                ),
            ));
            Ok(())
        }
        Action::Notify { finding } => {
            if ctx.topic_arn.is_none() && ctx.webhook.is_none() {
                return Err(PlanError::NoTopic);
            }
            let (subject, message, json) = notification(finding, ctx);
            if let Some(endpoint) = &ctx.webhook {
                p.steps.push(step(
                    action,
                    ApiCall::PostWebhook {
                        endpoint: endpoint.clone(),
                        text: format!("*{subject}*\n{message}"),
                    },
                    "tell the team in chat (Slack/Discord webhook)",
                ));
            }
            if let Some(topic) = ctx.topic_arn.clone() {
                p.steps.push(step(
                    action,
                    ApiCall::Publish {
                        topic_arn: topic,
                        subject,
                        message,
                        json,
                    },
                    "tell the team: a message for phones, JSON in the vigil-json attribute",
                ));
            }
            Ok(())
        }
        Action::DisableKey { key } => {
            if key.starts_with("ASIA") {
                return Err(PlanError::TemporaryKey(key.clone()));
            }
            let k = facts
                .keys
                .get(key)
                .ok_or_else(|| PlanError::NoKey(key.clone()))?;
            if k.status.eq_ignore_ascii_case("Inactive") {
                p.notes
                    .push(format!("{key} (user {}) is already Inactive", k.user_name));
                return Ok(());
            }
            p.steps.push(step(
                action,
                ApiCall::UpdateAccessKey {
                    user_name: k.user_name.clone(),
                    access_key_id: key.clone(),
                    status: "Inactive".to_string(),
                },
                "deactivate (reversible: Status=Active undoes it; vigil never deletes keys)",
            ));
            p.blast_radius.push(format!(
                "every program using {key} (user {}) stops authenticating",
                k.user_name
            ));
            Ok(())
        }
        Action::RevokeSessions { role } => {
            let name = role_name(role).to_string();
            let at = ctx.now.to_rfc3339_secs();
            let doc = serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Deny",
                    "Action": ["*"],
                    "Resource": ["*"],
                    "Condition": {"DateLessThan": {"aws:TokenIssueTime": at}}
                }]
            });
            p.steps.push(step(
                action,
                ApiCall::PutRolePolicy {
                    role_name: name.clone(),
                    policy_name: REVOKE_POLICY_NAME.to_string(),
                    policy_document: doc.to_string(),
                },
                format!("deny every session of {name} issued before {at}"),
            ));
            p.blast_radius.push(format!(
                "EVERY session of role {name} issued before {at} is denied, not only the attacker's"
            ));
            if let Some(list) = facts.role_instances.get(role).filter(|l| !l.is_empty()) {
                p.blast_radius.push(format!(
                    "instances using the role lose access until they fetch new credentials: {}",
                    list.join(", ")
                ));
            }
            Ok(())
        }
        Action::BlockDomain {
            domain,
            vpc,
            instance,
        } => {
            let vpc = block_vpc(vpc, instance, facts).ok_or(PlanError::NoVpc)?;
            block_domain(action, domain, &vpc, facts, p)
        }
        Action::Playbook { steps, .. } => {
            for s in steps {
                plan_into(s, facts, ctx, p)?;
            }
            Ok(())
        }
    }
}

fn quarantine(
    action: &Action,
    st: &InstanceState,
    facts: &Facts,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let id = &st.instance_id;
    p.captured
        .push(serde_json::to_value(st).unwrap_or(serde_json::Value::Null));
    let group = |vpc: &str, name: String| {
        facts
            .groups
            .get(&(vpc.to_string(), name))
            .cloned()
            .flatten()
    };
    let vpc_of = |e: &EniState| {
        if e.vpc_id.is_empty() {
            st.vpc_id.clone()
        } else {
            e.vpc_id.clone()
        }
    };
    let contained = |e: &EniState| {
        group(&vpc_of(e), contain_group_name(&vpc_of(e)))
            .is_some_and(|g| e.groups.len() == 1 && e.groups[0] == g.group_id)
    };
    let todo: Vec<&EniState> = st.enis.iter().filter(|e| !contained(e)).collect();
    let tagged = st.tags.get(TAG_STATUS).map(String::as_str) == Some(STATUS_QUARANTINED);
    // The group call, when the instance is in service in a group and the operator wants it out.
    // Lowering the desired capacity keeps the group from launching a replacement (and release's
    // ExitStandby raises it back); at the group's minimum it cannot be lowered, so the group
    // launches a replacement instead.
    let decrement = st
        .asg_capacity
        .is_some_and(|(min, desired, _)| desired > min);
    let asg_call = match (&st.asg, st.asg_lifecycle.as_deref(), ctx.asg) {
        (Some(asg), Some("InService"), AsgMode::Standby) => Some((
            ApiCall::EnterStandby {
                auto_scaling_group_name: asg.clone(),
                instance_id: id.clone(),
                should_decrement_desired_capacity: decrement,
            },
            TAG_ASG_STANDBY,
            asg,
        )),
        (Some(asg), Some("InService"), AsgMode::Detach) => Some((
            ApiCall::DetachInstances {
                auto_scaling_group_name: asg.clone(),
                instance_id: id.clone(),
                should_decrement_desired_capacity: decrement,
            },
            TAG_ASG_DETACHED,
            asg,
        )),
        _ => None,
    };
    let capacity = match st.asg_capacity {
        Some((min, desired, _)) if decrement => {
            format!(
                "desired capacity {desired} → {} (min {min}): no replacement",
                desired - 1
            )
        }
        Some((min, _, _)) => {
            format!("the group is at its minimum ({min}), so it launches a replacement")
        }
        None => "the group launches a replacement".to_string(),
    };

    if todo.is_empty() && tagged && st.termination_protection && asg_call.is_none() {
        p.notes.push(format!(
            "{id} is already contained: every ENI has only the contain group; nothing changes"
        ));
        return Ok(());
    }
    if !st.termination_protection {
        p.steps.push(step(
            action,
            ApiCall::ModifyInstanceAttribute {
                instance_id: id.clone(),
                disable_api_termination: true,
            },
            "termination protection on (keep the evidence)",
        ));
    }
    if !tagged || st.tags.get(TAG_CASE) != Some(&ctx.case) || asg_call.is_some() {
        let mut tags = BTreeMap::new();
        tags.insert(TAG_CASE.to_string(), ctx.case.clone());
        tags.insert(TAG_STATUS.to_string(), STATUS_QUARANTINED.to_string());
        if let Some((_, key, asg)) = &asg_call {
            tags.insert(key.to_string(), asg.to_string());
            if decrement {
                tags.insert(TAG_ASG_DECREMENTED.to_string(), "true".to_string());
            }
        }
        p.steps.push(step(
            action,
            ApiCall::CreateTags {
                resources: vec![id.clone()],
                tags,
            },
            "mark the instance with the case and its status",
        ));
    }
    // Out of the group before the ENIs are cut: a contained instance fails its health checks and
    // the group would terminate it (termination protection does not stop Auto Scaling).
    if let Some((call, _, asg)) = asg_call {
        let why = match &call {
            ApiCall::EnterStandby { .. } => format!(
                "Standby in {asg}: out of the load balancer, not terminated by it; {capacity}"
            ),
            _ => format!("detach from {asg}: never terminated by it; {capacity}"),
        };
        p.steps.push(step(action, call, why));
    }
    // Remember each ENI's groups on the ENI itself (and in the audit log), so release can restore them.
    for e in &todo {
        if e.tags.contains_key(TAG_ORIGINAL_GROUPS) {
            continue;
        }
        let mut tags = BTreeMap::new();
        tags.insert(TAG_ORIGINAL_GROUPS.to_string(), e.groups.join(","));
        p.steps.push(step(
            action,
            ApiCall::CreateTags {
                resources: vec![e.eni_id.clone()],
                tags,
            },
            "record the ENI's groups for release",
        ));
    }
    let mut vpcs: Vec<String> = todo.iter().map(|e| vpc_of(e)).collect();
    vpcs.sort();
    vpcs.dedup();
    let mut refs: BTreeMap<String, (GroupRef, GroupRef)> = BTreeMap::new();
    for vpc in &vpcs {
        let (un, cn) = (untrack_group_name(vpc), contain_group_name(vpc));
        let mut sg_tags = BTreeMap::new();
        sg_tags.insert("vigil:purpose".to_string(), "isolation".to_string());
        let untrack = match group(vpc, un.clone()) {
            Some(g) => GroupRef::Existing(g.group_id),
            None => {
                p.steps.push(step(
                    action,
                    ApiCall::CreateSecurityGroup {
                        vpc_id: vpc.clone(),
                        group_name: un.clone(),
                        description: "vigil isolation step 1: all traffic, so tracked connections become untracked".to_string(),
                        tags: sg_tags.clone(),
                    },
                    format!("create the untrack group for {vpc}"),
                ));
                p.steps.push(step(
                    action,
                    ApiCall::AuthorizeSecurityGroupIngressAll {
                        group: GroupRef::Created(un.clone()),
                    },
                    "untrack group: all traffic in (egress is all traffic by default)",
                ));
                GroupRef::Created(un)
            }
        };
        let contain = match group(vpc, cn.clone()) {
            Some(g) => {
                if g.egress_rules > 0 {
                    p.steps.push(step(
                        action,
                        ApiCall::RevokeSecurityGroupEgressAll {
                            group: GroupRef::Existing(g.group_id.clone()),
                        },
                        "contain group: no egress",
                    ));
                }
                if g.ingress_rules > 0 {
                    p.notes.push(format!(
                        "{} ({}) has {} ingress rule(s): remove them by hand; vigil's contain group must have none",
                        cn, g.group_id, g.ingress_rules
                    ));
                }
                GroupRef::Existing(g.group_id)
            }
            None => {
                p.steps.push(step(
                    action,
                    ApiCall::CreateSecurityGroup {
                        vpc_id: vpc.clone(),
                        group_name: cn.clone(),
                        description: "vigil isolation step 2: no ingress, no egress".to_string(),
                        tags: sg_tags,
                    },
                    format!("create the contain group for {vpc}"),
                ));
                p.steps.push(step(
                    action,
                    ApiCall::RevokeSecurityGroupEgressAll {
                        group: GroupRef::Created(cn.clone()),
                    },
                    "contain group: remove the default all-traffic egress",
                ));
                GroupRef::Created(cn)
            }
        };
        refs.insert(vpc.clone(), (untrack, contain));
    }
    for e in &todo {
        let Some((untrack, contain)) = refs.get(&vpc_of(e)) else {
            continue;
        };
        p.steps.push(step(
            action,
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id: e.eni_id.clone(),
                groups: vec![untrack.clone()],
            },
            format!(
                "{} (device {}): untrack first, so established connections are cut",
                e.eni_id, e.device_index
            ),
        ));
        p.steps.push(step(
            action,
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id: e.eni_id.clone(),
                groups: vec![contain.clone()],
            },
            format!("{}: then contain (no traffic)", e.eni_id),
        ));
    }
    if let Some(asg) = &st.asg {
        let state = st.asg_lifecycle.as_deref().unwrap_or("unknown");
        p.blast_radius.push(match (state, ctx.asg) {
            ("InService", AsgMode::Standby) if decrement => format!(
                "auto-scaling group {asg} serves with one instance fewer until release ({capacity})"
            ),
            ("InService", AsgMode::Standby) => format!(
                "auto-scaling group {asg}: {capacity}; release (ExitStandby) raises its desired capacity by one: lower it afterwards"
            ),
            ("InService", AsgMode::Detach) => format!(
                "auto-scaling group {asg}: {capacity}; {id} does not go back into the group on release"
            ),
            ("InService", AsgMode::Leave) => format!(
                "{id} stays in service in auto-scaling group {asg} (--asg leave): its failing health checks will make the group TERMINATE it, evidence included"
            ),
            (state, _) => format!("{id} is {state} in auto-scaling group {asg}: left as it is"),
        });
    }
    if let Some(role) = &st.role_arn {
        let others: Vec<&String> = facts
            .role_instances
            .get(role)
            .map(|v| v.iter().filter(|i| *i != id).collect())
            .unwrap_or_default();
        if !others.is_empty() {
            p.blast_radius.push(format!(
                "role {} is shared with {}: quarantine does not revoke its credentials (revoke-sessions would hit them too)",
                role_name(role),
                others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if st.enis.len() > 1 {
        p.blast_radius.push(format!(
            "{} network interfaces are isolated, each one separately",
            st.enis.len()
        ));
    }
    Ok(())
}

fn release(action: &Action, st: &InstanceState, unprotect: bool, p: &mut Plan) {
    let id = &st.instance_id;
    let mut any = false;
    for e in &st.enis {
        let Some(orig) = e.tags.get(TAG_ORIGINAL_GROUPS) else {
            continue;
        };
        let groups: Vec<GroupRef> = orig
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| GroupRef::Existing(s.to_string()))
            .collect();
        if groups.is_empty() {
            continue;
        }
        any = true;
        if e.groups.iter().map(String::as_str).ne(orig.split(',')) {
            p.steps.push(step(
                action,
                ApiCall::ModifyNetworkInterfaceAttribute {
                    network_interface_id: e.eni_id.clone(),
                    groups,
                },
                format!("{}: restore the groups it had before quarantine", e.eni_id),
            ));
        }
        p.steps.push(step(
            action,
            ApiCall::DeleteTags {
                resources: vec![e.eni_id.clone()],
                keys: vec![TAG_ORIGINAL_GROUPS.to_string()],
            },
            "forget the recorded groups",
        ));
    }
    if let Some(asg) = st.tags.get(TAG_ASG_STANDBY) {
        any = true;
        if st.asg.as_deref() == Some(asg) && st.asg_lifecycle.as_deref() == Some("Standby") {
            let why = if st.tags.contains_key(TAG_ASG_DECREMENTED) {
                format!("back in service in {asg} (its desired capacity goes back up by one)")
            } else {
                p.notes.push(format!(
                    "ExitStandby raises {asg}'s desired capacity by one (quarantine did not lower it): lower it afterwards if the replacement should stay"
                ));
                format!("back in service in {asg}")
            };
            p.steps.push(step(
                action,
                ApiCall::ExitStandby {
                    auto_scaling_group_name: asg.clone(),
                    instance_id: id.clone(),
                },
                why,
            ));
        } else {
            p.notes.push(format!(
                "{id} is no longer in Standby in {asg}: the group is left as it is"
            ));
        }
    }
    if let Some(asg) = st.tags.get(TAG_ASG_DETACHED) {
        p.notes.push(format!(
            "{id} was detached from {asg}: to put it back, aws autoscaling attach-instances --auto-scaling-group-name {asg} --instance-ids {id}"
        ));
    }
    let status_tags: Vec<String> = [
        TAG_STATUS,
        TAG_ASG_STANDBY,
        TAG_ASG_DETACHED,
        TAG_ASG_DECREMENTED,
    ]
    .iter()
    .filter(|k| st.tags.contains_key(**k))
    .map(|k| k.to_string())
    .collect();
    if !status_tags.is_empty() {
        any = true;
        p.steps.push(step(
            action,
            ApiCall::DeleteTags {
                resources: vec![id.clone()],
                keys: status_tags,
            },
            "remove the quarantine status tags (the case tag stays)",
        ));
    }
    if unprotect && st.termination_protection {
        p.steps.push(step(
            action,
            ApiCall::ModifyInstanceAttribute {
                instance_id: id.clone(),
                disable_api_termination: false,
            },
            "termination protection off (asked for with --unprotect)",
        ));
    } else if st.termination_protection {
        p.notes
            .push("termination protection stays on (--unprotect turns it off)".to_string());
    }
    if !any {
        p.notes.push(format!(
            "{id} is not quarantined by vigil (no {TAG_ORIGINAL_GROUPS} tag on its ENIs, no status tag)"
        ));
    }
}

/// Subject, phone-readable body and JSON for a finding.
fn notification(finding: &str, ctx: &PlanContext) -> (String, String, String) {
    let f = ctx.findings.get(finding);
    let subject = match f {
        Some(f) => format!(
            "[vigil] {} {:.1} {} on {}",
            crate::model::SeverityLabel::of(f.severity).as_str(),
            f.severity,
            f.finding_type,
            f.resource
        ),
        None => format!("[vigil] finding {finding}"),
    };
    // SNS subjects: at most 100 ASCII characters, no newlines.
    let subject: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_control() {
                c
            } else {
                '?'
            }
        })
        .take(100)
        .collect();
    let mut body = String::new();
    use std::fmt::Write;
    match f {
        Some(f) => {
            let _ = writeln!(body, "{}", f.title);
            let _ = writeln!(
                body,
                "Severity: {} ({:.1})",
                crate::model::SeverityLabel::of(f.severity).as_str(),
                f.severity
            );
            let _ = writeln!(body, "Type: {}", f.finding_type);
            let _ = writeln!(body, "Resource: {}", f.resource);
            if let Some(a) = &f.actor {
                let _ = writeln!(body, "Actor: {a}");
            }
            let _ = writeln!(body, "Related findings in group: {}", f.group_size);
            let _ = writeln!(body, "Account/region: {} {}", f.account, f.region);
        }
        None => {
            let _ = writeln!(body, "Finding {finding}");
        }
    }
    let _ = writeln!(body, "Case: {}", ctx.case);
    if ctx.already_taken.is_empty() {
        let _ = writeln!(body, "Actions taken: none yet");
    } else {
        let _ = writeln!(body, "Actions taken: {}", ctx.already_taken.join("; "));
    }
    if let Some(cmd) = &ctx.open_command {
        let _ = writeln!(body, "Open in vigil: {cmd}");
    }
    let json = serde_json::json!({
        "source": "vigil",
        "case": ctx.case,
        "finding_id": finding,
        "finding": f,
        "actions_taken": ctx.already_taken,
        "open": ctx.open_command,
    })
    .to_string();
    (subject, body, json)
}
