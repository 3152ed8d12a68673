//! `vigil doctor`: what an identity can do in one region, found without changing anything. Each
//! check makes the smallest call that needs the permission (a one-result list, an EC2 call with
//! DryRun) and reads the answer; IAM's policy simulator covers every action the responder uses
//! where the identity may call it.

use super::clients::{AwsError, AwsOptions, Clients, ReadOp, connect};
use crate::actions::{ApiKind, CallError};
use aws_credential_types::credential_feature::AwsCredentialFeature;
use aws_sdk_sts::config::ProvideCredentials;
use serde::Serialize;

const READ_POLICY: &str = "docs/iam/vigil-readonly.json";
const RESPONDER_POLICY: &str = "docs/iam/vigil-responder.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    /// Could not be checked (a check before it failed, or the check itself is not allowed).
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub check: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    /// The IAM actions the identity lacks.
    pub missing: Vec<String>,
    /// The vigil policy that grants them.
    pub policy: Option<&'static str>,
}

/// Every check of one profile in one region.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub target: String,
    pub account: Option<String>,
    pub principal: Option<String>,
    pub checks: Vec<Check>,
}

fn pass(check: &'static str, detail: impl Into<String>) -> Check {
    Check {
        check,
        outcome: Outcome::Pass,
        detail: detail.into(),
        missing: Vec::new(),
        policy: None,
    }
}

fn skip(check: &'static str, detail: impl Into<String>) -> Check {
    Check {
        check,
        outcome: Outcome::Skip,
        detail: detail.into(),
        missing: Vec::new(),
        policy: None,
    }
}

/// Whether an error says the identity lacks the permission (rather than something else).
fn denied(e: &CallError) -> bool {
    let c = e.code.as_str();
    c.contains("AccessDenied") || c == "UnauthorizedOperation" || c.contains("NotAuthorized")
}

/// A failed call: a missing permission names it and the policy; anything else is said as it is.
fn fail(check: &'static str, e: &CallError, policy: &'static str) -> Check {
    let missing = if denied(e) {
        e.iam_action.iter().cloned().collect()
    } else {
        Vec::new()
    };
    Check {
        check,
        outcome: Outcome::Fail,
        detail: e.plain(),
        policy: (!missing.is_empty()).then_some(policy),
        missing,
    }
}

/// How the credentials were found, from the features the SDK's providers record (the most
/// specific first: an SSO profile also records that it came from a profile).
fn source(features: &[AwsCredentialFeature]) -> &'static str {
    use AwsCredentialFeature as F;
    let named: [(&[F], &str); 8] = [
        (&[F::CredentialsStsAssumeRole], "an assumed role"),
        (
            &[F::CredentialsProfileSso, F::CredentialsSso],
            "IAM Identity Center (SSO)",
        ),
        (
            &[
                F::CredentialsEnvVarsStsWebIdToken,
                F::CredentialsProfileStsWebIdToken,
            ],
            "web identity",
        ),
        (
            &[F::CredentialsProfileProcess, F::CredentialsProcess],
            "credential_process",
        ),
        (&[F::CredentialsImds], "the instance metadata service"),
        (&[F::CredentialsHttp], "the container credentials endpoint"),
        (&[F::CredentialsEnvVars], "environment variables"),
        (&[F::CredentialsProfile], "the shared credentials file"),
    ];
    named
        .iter()
        .find(|(fs, _)| fs.iter().any(|f| features.contains(f)))
        .map_or("the SDK's default chain", |(_, s)| s)
}

/// Runs every check for `label` (`profile/region`) with `opts`.
pub fn doctor(label: &str, opts: &AwsOptions) -> TargetReport {
    let mut r = TargetReport {
        target: label.to_string(),
        account: None,
        principal: None,
        checks: Vec::new(),
    };
    let c = match connect(opts) {
        Ok(c) => c,
        Err(e @ AwsError::NoRegion) | Err(e @ AwsError::Runtime(_)) => {
            r.checks.push(Check {
                check: "credentials",
                outcome: Outcome::Fail,
                detail: e.to_string(),
                missing: Vec::new(),
                policy: None,
            });
            return r;
        }
    };
    match super::sts::identity(&c) {
        Ok(who) => {
            r.account = Some(who.account.clone());
            r.principal = Some(who.arn.clone());
            r.checks
                .push(pass("credentials", credentials_detail(&c, &who.arn)));
        }
        Err(e) => {
            r.checks.push(fail("credentials", &e, READ_POLICY));
            for name in [
                "GuardDuty read",
                "GuardDuty administrator",
                "CloudTrail LookupEvents",
                "Detective",
                "EC2 responder (DryRun)",
                "IAM simulation",
            ] {
                r.checks.push(skip(name, "no working credentials"));
            }
            return r;
        }
    }
    guardduty(&c, &mut r.checks);
    r.checks.push(match lookup_probe(&c) {
        Ok(()) => pass(
            "CloudTrail LookupEvents",
            "can read the last 90 days of management events",
        ),
        Err(e) => fail("CloudTrail LookupEvents", &e, READ_POLICY),
    });
    r.checks.push(match super::detective::graphs(&c) {
        Ok(g) if g.is_empty() => pass("Detective", "allowed; no behaviour graph in this region"),
        Ok(g) => pass("Detective", format!("graph {}", g[0])),
        Err(e) => fail("Detective", &e, READ_POLICY),
    });
    r.checks.push(ec2_dry_run(&c));
    if let Some(arn) = r.principal.clone() {
        r.checks.push(simulate(&c, &arn));
    }
    r
}

fn credentials_detail(c: &Clients, arn: &str) -> String {
    let Some(provider) = c.credentials.as_ref() else {
        return format!("{arn}: credentials from the SDK's default chain");
    };
    let Ok(Ok(creds)) = c.rt_block_on(provider.provide_credentials()) else {
        return format!("{arn}: credentials from the SDK's default chain");
    };
    let features = creds
        .get_property::<Vec<AwsCredentialFeature>>()
        .cloned()
        .unwrap_or_default();
    let expiry = match creds.expiry() {
        None => "they do not expire".to_string(),
        Some(t) => match t.duration_since(std::time::SystemTime::now()) {
            Ok(left) => format!("they expire in {} min", left.as_secs() / 60),
            Err(_) => "they have expired".to_string(),
        },
    };
    format!("{arn}: from {}; {expiry}", source(&features))
}

fn guardduty(c: &Clients, checks: &mut Vec<Check>) {
    let detectors = match super::guardduty::detectors(c) {
        Ok(d) => d,
        Err(e) => {
            checks.push(fail("GuardDuty read", &e, READ_POLICY));
            checks.push(skip("GuardDuty administrator", "no detector read"));
            return;
        }
    };
    let Some(d) = detectors.first() else {
        checks.push(pass(
            "GuardDuty read",
            "allowed; no detector in this region (GuardDuty is off here)",
        ));
        checks.push(skip("GuardDuty administrator", "no detector"));
        return;
    };
    let req = c.guardduty.list_findings().detector_id(d).max_results(1);
    checks.push(match c.read(ReadOp::ListFindings, req.send()) {
        Ok(_) => pass("GuardDuty read", format!("detector {d}: findings readable")),
        Err(e) => fail("GuardDuty read", &e, READ_POLICY),
    });
    checks.push(match super::guardduty::members(c, d) {
        Ok(0) => pass(
            "GuardDuty administrator",
            "not an administrator (no member accounts)",
        ),
        Ok(n) => pass(
            "GuardDuty administrator",
            format!(
                "administrator of {n} member account(s): their findings come through this detector"
            ),
        ),
        Err(e) => fail("GuardDuty administrator", &e, READ_POLICY),
    });
}

fn lookup_probe(c: &Clients) -> Result<(), CallError> {
    let req = c.cloudtrail.lookup_events().max_results(1);
    c.read(ReadOp::LookupEvents, req.send()).map(|_| ())
}

/// EC2 calls of the responder with DryRun on made-up ids: AWS checks the permission first and
/// answers DryRunOperation (allowed) or UnauthorizedOperation (not).
fn ec2_dry_run(c: &Clients) -> Check {
    const FAKE_INSTANCE: &str = "i-00000000000000000";
    const FAKE_ENI: &str = "eni-00000000000000000";
    const FAKE_GROUP: &str = "sg-00000000000000000";
    let ec2 = &c.ec2;
    let mut missing = Vec::new();
    let mut unchecked = Vec::new();
    let mut allowed = 0;
    let mut note = |kind: ApiKind, r: Result<(), CallError>| match r {
        Err(e) if e.code == "DryRunOperation" => allowed += 1,
        Err(e) if denied(&e) => missing.push(kind.iam_action().to_string()),
        Err(e) => unchecked.push(format!("{} ({})", kind.iam_action(), e.code)),
        Ok(()) => unchecked.push(format!("{} (DryRun ignored)", kind.iam_action())),
    };
    let a = ApiKind::CreateSecurityGroup;
    note(
        a,
        c.call_as(
            a.iam_action(),
            ec2.create_security_group()
                .group_name("vigil-doctor-probe")
                .description("vigil doctor dry run")
                .dry_run(true)
                .send(),
        )
        .map(drop),
    );
    let a = ApiKind::ModifyNetworkInterfaceAttribute;
    note(
        a,
        c.call_as(
            a.iam_action(),
            ec2.modify_network_interface_attribute()
                .network_interface_id(FAKE_ENI)
                .groups(FAKE_GROUP)
                .dry_run(true)
                .send(),
        )
        .map(drop),
    );
    let a = ApiKind::CreateSnapshots;
    note(
        a,
        c.call_as(
            a.iam_action(),
            ec2.create_snapshots()
                .instance_specification(
                    aws_sdk_ec2::types::InstanceSpecification::builder()
                        .instance_id(FAKE_INSTANCE)
                        .build(),
                )
                .dry_run(true)
                .send(),
        )
        .map(drop),
    );
    let a = ApiKind::CreateTags;
    note(
        a,
        c.call_as(
            a.iam_action(),
            ec2.create_tags()
                .resources(FAKE_INSTANCE)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("vigil:doctor")
                        .value("probe")
                        .build(),
                )
                .dry_run(true)
                .send(),
        )
        .map(drop),
    );
    let mut detail = format!("{allowed} of 4 DryRun calls allowed");
    if !unchecked.is_empty() {
        detail.push_str(&format!("; not checked: {}", unchecked.join(", ")));
    }
    Check {
        check: "EC2 responder (DryRun)",
        outcome: if missing.is_empty() {
            Outcome::Pass
        } else {
            Outcome::Fail
        },
        detail,
        policy: (!missing.is_empty()).then_some(RESPONDER_POLICY),
        missing,
    }
}

/// The IAM principal a simulation names: a user or role ARN (an assumed-role session's role,
/// without its path, which the session ARN does not carry).
fn policy_source(arn: &str) -> Option<String> {
    if arn.contains(":iam::") && (arn.contains(":user/") || arn.contains(":role/")) {
        return Some(arn.to_string());
    }
    let (head, rest) = arn.split_once(":assumed-role/")?;
    let role = rest.split('/').next()?;
    Some(format!(
        "{}:role/{role}",
        head.replacen(":sts:", ":iam:", 1)
    ))
}

/// A resource each action can be simulated on: the responder policy scopes some actions to a
/// kind of resource (topics, users and roles, Auto Scaling groups), and the simulator matches the
/// resource it is given against the policy's.
fn probe_resource(action: &str, partition: &str, region: &str, account: &str) -> String {
    match action {
        "sns:Publish" => format!("arn:{partition}:sns:{region}:{account}:vigil-doctor-probe"),
        "iam:UpdateAccessKey" => format!("arn:{partition}:iam::{account}:user/vigil-doctor-probe"),
        "iam:PutRolePolicy" => format!("arn:{partition}:iam::{account}:role/vigil-doctor-probe"),
        "ssm:SendCommand" => format!("arn:{partition}:ssm:{region}::document/AWS-RunShellScript"),
        "s3:PutObject" => {
            format!("arn:{partition}:s3:::vigil-doctor-probe/case/manifest/probe.json")
        }
        "wafv2:UpdateIPSet" => format!(
            "arn:{partition}:wafv2:{region}:{account}:regional/ipset/vigil-doctor-probe/\
             00000000-0000-0000-0000-000000000000"
        ),
        a if a.starts_with("autoscaling:") && !a.contains(":Describe") => format!(
            "arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:\
             00000000-0000-0000-0000-000000000000:autoScalingGroupName/vigil-doctor-probe"
        ),
        _ => "*".to_string(),
    }
}

/// Every action the responder policy grants, simulated for the principal on a resource of the
/// kind each acts on.
fn simulate(c: &Clients, arn: &str) -> Check {
    const CHECK: &str = "IAM simulation";
    let Some(source) = policy_source(arn) else {
        return skip(
            CHECK,
            format!("{arn} is not a user or role: nothing to simulate"),
        );
    };
    let mut parts = arn.split(':');
    let partition = parts.nth(1).unwrap_or("aws");
    let account = arn.split(':').nth(4).unwrap_or_default();
    let mut actions: Vec<String> = ApiKind::ALL
        .iter()
        .filter(|k| k.service().is_aws())
        .map(|k| k.iam_action().to_string())
        .chain(ReadOp::ALL.iter().map(|r| r.iam_action().to_string()))
        .collect();
    actions.sort();
    actions.dedup();
    // One call per resource: the simulator evaluates every action on every resource given.
    let mut by_resource: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for a in &actions {
        by_resource
            .entry(probe_resource(a, partition, &c.region, account))
            .or_default()
            .push(a.clone());
    }
    let mut denied_actions = Vec::new();
    for (resource, names) in by_resource {
        let req = c
            .iam
            .simulate_principal_policy()
            .policy_source_arn(&source)
            .set_action_names(Some(names))
            .resource_arns(resource);
        match c.read(ReadOp::SimulatePrincipalPolicy, req.send()) {
            Ok(out) => denied_actions.extend(
                out.evaluation_results()
                    .iter()
                    .filter(|r| r.eval_decision().as_str() != "allowed")
                    .map(|r| r.eval_action_name().to_string()),
            ),
            Err(e) if denied(&e) => {
                return skip(
                    CHECK,
                    "iam:SimulatePrincipalPolicy is not allowed: the responder's permissions \
                     were checked by DryRun only",
                );
            }
            Err(e) => return fail(CHECK, &e, RESPONDER_POLICY),
        }
    }
    denied_actions.sort();
    let total = actions.len();
    if denied_actions.is_empty() {
        return pass(
            CHECK,
            format!("all {total} actions vigil uses are allowed for {source}"),
        );
    }
    Check {
        check: CHECK,
        outcome: Outcome::Fail,
        detail: format!(
            "{} of {total} actions vigil uses are denied for {source}",
            denied_actions.len()
        ),
        missing: denied_actions,
        policy: Some(RESPONDER_POLICY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_simulated_as_its_role() {
        assert_eq!(
            policy_source("arn:aws:sts::123456789012:assumed-role/Responder/alice").as_deref(),
            Some("arn:aws:iam::123456789012:role/Responder")
        );
        assert_eq!(
            policy_source("arn:aws:iam::123456789012:user/ops/bob").as_deref(),
            Some("arn:aws:iam::123456789012:user/ops/bob")
        );
        assert_eq!(policy_source("arn:aws:iam::123456789012:root"), None);
    }

    #[test]
    fn the_credential_source_is_named() {
        use AwsCredentialFeature as F;
        assert_eq!(source(&[F::CredentialsEnvVars]), "environment variables");
        assert_eq!(
            source(&[F::CredentialsProfile, F::CredentialsProfileSso]),
            "IAM Identity Center (SSO)"
        );
        assert_eq!(source(&[]), "the SDK's default chain");
    }
}
