//! Response actions through the demo responder over each bundled scenario's world, the plan's
//! safety rails, the playbook, and the IAM policy documents.

use assert_cmd::Command;
use std::collections::BTreeMap;
use vigil::actions::plan::{FindingSummary, PlanContext};
use vigil::actions::{self, Action, AuditLog, Confirm, ExecOptions, Outcome, Playbook};
use vigil::demo::{Scenario, responder::DemoResponder};

fn ctx(sc: &Scenario, case: &str) -> PlanContext {
    let findings: BTreeMap<String, FindingSummary> = sc
        .all_findings()
        .iter()
        .map(|f| (f.id.clone(), FindingSummary::of(f, 1)))
        .collect();
    PlanContext {
        case: case.to_string(),
        now: actions::audit::now_utc(),
        topic_arn: None,
        findings,
        ..Default::default()
    }
}

fn strip(target: &str) -> &str {
    target.split_once(':').map_or(target, |(_, v)| v)
}

/// The scenario's compromised instance (the answer key's first `instance:`).
fn compromised_instance(sc: &Scenario) -> Option<String> {
    sc.manifest
        .answer_key
        .compromised
        .iter()
        .find_map(|e| e.strip_prefix("instance:"))
        .map(str::to_string)
}

/// The action an answer-key line names; block-domain acts in the VPC of `instance` (the
/// scenario's compromised instance).
fn action_for(verb: &str, target: &str, instance: Option<String>) -> Option<Action> {
    let t = strip(target).to_string();
    Some(match verb {
        "quarantine" => Action::Quarantine { instance: t },
        "snapshot" => Action::Snapshot {
            instance: t,
            finding: None,
        },
        "notify" => Action::Notify { finding: t },
        "disable-key" => Action::DisableKey { key: t },
        "revoke-sessions" => Action::RevokeSessions { role: t },
        "block-domain" => Action::BlockDomain {
            domain: t,
            vpc: None,
            instance,
        },
        _ => return None,
    })
}

/// An action built from a finding acts only where the finding is: a finding of another account
/// (a GuardDuty administrator's member) is refused before anything changes, naming both
/// accounts; an instance not found where the responder acts names the finding's region. The
/// scenario's own findings (its account) plan as before; notify and archive go anywhere.
#[test]
fn an_action_on_another_accounts_finding_is_refused_by_name() {
    use vigil::actions::plan::{Place, PlanError};
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = compromised_instance(&sc).unwrap();
    let quarantine = Action::Quarantine {
        instance: instance.clone(),
    };
    let facts = actions::gather(&quarantine, &mut r).unwrap();
    let own = facts.identity.account.clone();
    assert_eq!(own.len(), 12);
    let mut c = ctx(&sc, "DEMO-place");
    let at = |account: &str, region: Option<&str>| {
        Some(Place {
            account: Some(account.to_string()),
            region: region.map(str::to_string),
        })
    };

    c.source = at(&own, Some("us-east-1"));
    assert!(!actions::plan(&quarantine, &facts, &c).unwrap().is_noop());

    c.source = at("999988887777", Some("us-east-1"));
    let err = actions::plan(&quarantine, &facts, &c).unwrap_err();
    assert_eq!(
        err,
        PlanError::OtherAccount("999988887777".into(), own.clone())
    );
    assert!(err.to_string().contains("999988887777") && err.to_string().contains(&own));
    // Not an account id (a sample's placeholder, a test stub): nothing to compare.
    c.source = at("GeneratedFindingAccountId", None);
    assert!(actions::plan(&quarantine, &facts, &c).is_ok());
    // Notify only publishes.
    let notify = Action::Notify {
        finding: sc.all_findings()[0].id.clone(),
    };
    c.topic_arn = r.world.sns_topics.first().map(|t| t.arn.clone());
    c.source = at("999988887777", None);
    let nf = actions::gather(&notify, &mut r).unwrap();
    assert!(actions::plan(&notify, &nf, &c).is_ok());

    let missing = Action::Quarantine {
        instance: "i-0fffffffffffffff0".into(),
    };
    c.source = at(&own, Some("eu-west-3"));
    let err = actions::gather_and_plan(&missing, &mut r, &c).unwrap_err();
    assert_eq!(
        err,
        PlanError::NoInstanceIn("i-0fffffffffffffff0".into(), "eu-west-3".into())
    );
    assert!(err.to_string().contains("in eu-west-3"), "{err}");
    c.source = None;
    assert_eq!(
        actions::gather_and_plan(&missing, &mut r, &c).unwrap_err(),
        PlanError::NoInstance("i-0fffffffffffffff0".into())
    );
    // Another account's finding is refused before its resources are looked for.
    c.source = at("999988887777", Some("eu-west-3"));
    assert_eq!(
        actions::gather_and_plan(&missing, &mut r, &c).unwrap_err(),
        PlanError::OtherAccount("999988887777".into(), own.clone())
    );
}

/// Every bundled scenario's right actions, in order, on its world: each does what it says.
#[test]
fn right_actions_of_every_scenario_work_on_the_demo_world() {
    for name in vigil::demo::names() {
        let sc = Scenario::load(&name).unwrap();
        let mut r = DemoResponder::for_scenario(&sc).unwrap();
        let mut c = ctx(&sc, &format!("DEMO-{name}"));
        c.topic_arn = r.world.sns_topics.first().map(|t| t.arn.clone());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut log = AuditLog::open(&path).unwrap();
        let mut done = 0;
        for ka in &sc.manifest.answer_key.right_actions {
            let Some(action) = action_for(&ka.action, &ka.target, compromised_instance(&sc)) else {
                continue;
            };
            let facts = actions::gather(&action, &mut r).unwrap();
            let plan = actions::plan(&action, &facts, &c)
                .unwrap_or_else(|e| panic!("{name}: {} {}: {e}", ka.action, ka.target));
            assert!(
                !plan.is_noop(),
                "{name}: {} {} plans nothing",
                ka.action,
                ka.target
            );
            let snaps_before = r.world.snapshots.len();
            let report =
                actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
            assert_eq!(report.outcome, Outcome::Done, "{name}: {report:#?}");
            assert!(report.demo);
            let t = strip(&ka.target);
            match ka.action.as_str() {
                "quarantine" => {
                    let inst = r.world.instance(t).unwrap().clone();
                    let contain = r
                        .world
                        .security_groups
                        .iter()
                        .find(|g| g.group_name == format!("vigil-contain-{}", inst.vpc_id))
                        .unwrap()
                        .clone();
                    assert!(contain.ingress.is_empty() && contain.egress.is_empty());
                    for e in &inst.enis {
                        assert_eq!(
                            e.security_groups,
                            vec![contain.group_id.clone()],
                            "{name} {t}"
                        );
                    }
                    assert!(inst.termination_protection);
                    // and again: nothing to do
                    let facts = actions::gather(&action, &mut r).unwrap();
                    assert!(actions::plan(&action, &facts, &c).unwrap().is_noop());
                }
                "snapshot" => {
                    let vols = r.world.instance(t).unwrap().volumes.len();
                    assert_eq!(r.world.snapshots.len(), snaps_before + vols);
                    assert_eq!(report.created.len(), vols);
                    assert!(report.created.iter().all(|s| s.starts_with("snap-0")));
                }
                "notify" => {
                    let last = r.outbox.last().unwrap();
                    assert!(last.subject.starts_with("[vigil]"));
                    assert!(last.message.contains(&format!("Case: DEMO-{name}")));
                }
                "disable-key" => {
                    let k = r
                        .world
                        .users
                        .iter()
                        .flat_map(|u| &u.access_keys)
                        .find(|k| k.access_key_id == t)
                        .unwrap();
                    assert_eq!(k.status, "Inactive");
                }
                "block-domain" => {
                    let Action::BlockDomain {
                        instance: Some(i), ..
                    } = &action
                    else {
                        panic!("{name}: block-domain without an instance");
                    };
                    let vpc = r.world.instance(i).unwrap().vpc_id.clone();
                    let v = r.view();
                    assert!(
                        v.blocked
                            .iter()
                            .any(|(d, vpcs)| d == t && vpcs.contains(&vpc)),
                        "{name}: {t} blocked in {vpc}: {:?}",
                        v.blocked
                    );
                    assert!(
                        v.blocked.iter().any(|(d, _)| *d == format!("*.{t}")),
                        "subdomains too"
                    );
                    let facts = actions::gather(&action, &mut r).unwrap();
                    assert!(actions::plan(&action, &facts, &c).unwrap().is_noop());
                }
                "revoke-sessions" => {
                    let role = r.world.roles.iter().find(|x| x.arn == t).unwrap();
                    let doc = &role.inline_policies["AWSRevokeOlderSessions"];
                    assert!(doc.contains("aws:TokenIssueTime"));
                    assert!(!plan.blast_radius.is_empty());
                }
                other => panic!("{other}"),
            }
            done += 1;
        }
        assert!(done >= 2, "{name}: only {done} right actions ran");
        let recs = actions::audit::read(&path).unwrap();
        assert!(
            recs.iter().all(|r| r.demo),
            "{name}: demo records are marked"
        );
        let intents = recs.iter().filter(|r| r.kind == "intent").count();
        let results = recs.iter().filter(|r| r.kind == "result").count();
        assert_eq!(intents, results);
    }
}

#[test]
fn temporary_keys_are_refused_with_the_reason() {
    let sc = Scenario::load("iam-credential-chain").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let wrong = sc
        .manifest
        .answer_key
        .wrong_actions
        .iter()
        .find(|a| a.action == "disable-key" && a.target.contains("ASIA"))
        .unwrap();
    let action = Action::DisableKey {
        key: strip(&wrong.target).to_string(),
    };
    let err = actions::gather(&action, &mut r).unwrap_err();
    assert!(err.to_string().contains("revoke"), "{err}");
}

#[test]
fn the_default_playbook_is_one_plan_with_one_typed_confirmation() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let key = &sc.manifest.answer_key.right_actions;
    let finding = strip(&key[0].target);
    let instance = strip(&key[1].target);
    let pb = Playbook::default_playbook().unwrap();
    assert_eq!(pb.steps, ["notify", "collect", "snapshot", "quarantine"]);
    // Without an evidence store the plan skips collect and says so.
    let bare = pb.action(instance, Some(finding), None);
    let facts = actions::gather(&bare, &mut r).unwrap();
    let mut c0 = ctx(&sc, "PB-0");
    c0.topic_arn = Some("arn:aws:sns:us-east-1:483920174655:security-alerts".into());
    let plan = actions::plan(&bare, &facts, &c0).unwrap();
    assert!(plan.steps.iter().all(|s| s.action != "collect"));
    assert!(
        plan.notes.iter().any(|n| n.starts_with("collect skipped")),
        "{:?}",
        plan.notes
    );
    let action = pb.action(instance, Some(finding), Some("s3://demo-evidence/ir"));
    let mut c = ctx(&sc, "PB-1");
    c.topic_arn = Some("arn:aws:sns:us-east-1:483920174655:security-alerts".into());
    let facts = actions::gather(&action, &mut r).unwrap();
    let plan = actions::plan(&action, &facts, &c).unwrap();
    let order: Vec<&str> = plan.steps.iter().map(|s| s.action.as_str()).collect();
    let first = |a: &str| order.iter().position(|x| *x == a).unwrap();
    assert!(first("notify") < first("collect"), "{order:?}");
    assert!(first("collect") < first("snapshot") && first("snapshot") < first("quarantine"));
    assert_eq!(
        plan.confirm,
        Confirm::TypeId {
            id: instance.to_string()
        }
    );
    // the shared role's other instance (web-2) is in the blast radius
    assert!(
        plan.blast_radius.iter().any(|b| b.contains("shared with")),
        "{:#?}",
        plan.blast_radius
    );
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
    assert_eq!(report.outcome, Outcome::Done);
    assert_eq!(r.outbox.len(), 1);
}

#[test]
fn playbooks_reject_unknown_steps() {
    let err = Playbook::parse(
        "x.toml",
        "name = \"x\"\nsteps = [\"notify\", \"format-disk\"]",
    )
    .unwrap_err();
    assert!(err.to_string().contains("format-disk"));
}

/// A playbook's memory_command reaches collect: the plan's command ends with it, and says the
/// capture runs; without one the plan says memory is not collected.
#[test]
fn a_playbook_names_the_teams_memory_capture() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = compromised_instance(&sc).unwrap();
    let pb = Playbook::parse(
        "team.toml",
        "name = \"team\"\nsteps = [\"collect\"]\nmemory_command = \"/opt/ir/avml /var/tmp/m.lime\"",
    )
    .unwrap();
    let action = pb.action(&instance, None, Some("s3://demo-evidence/ir"));
    let facts = actions::gather(&action, &mut r).unwrap();
    let plan = actions::plan(&action, &facts, &ctx(&sc, "IR-M")).unwrap();
    let actions::ApiCall::SendCommand { commands, .. } = &plan.steps[0].call else {
        panic!("{plan:#?}")
    };
    assert_eq!(commands.last().unwrap(), "/opt/ir/avml /var/tmp/m.lime");
    assert!(
        plan.blast_radius
            .iter()
            .any(|b| b.contains("memory capture"))
    );
    let plain = Playbook::default_playbook().unwrap();
    let action = plain.action(&instance, None, Some("s3://demo-evidence/ir"));
    let facts = actions::gather(&action, &mut r).unwrap();
    let plan = actions::plan(&action, &facts, &ctx(&sc, "IR-M")).unwrap();
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("memory is not collected")),
        "{:?}",
        plan.notes
    );
}

#[test]
fn confirmation_rules() {
    let c = Confirm::TypeId {
        id: "i-0c0f89991ec24aa09".into(),
    };
    assert!(c.accepts("i-0c0f89991ec24aa09"));
    assert!(c.accepts("aa09\n"));
    assert!(!c.accepts("y"));
    assert!(!c.accepts(""));
    assert!(Confirm::Yes.accepts("y"));
    assert!(!Confirm::Yes.accepts("n"));
}

#[test]
fn dry_run_on_the_demo_world_changes_nothing() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = strip(&sc.manifest.answer_key.right_actions[2].target).to_string();
    let before = serde_json::to_string(&r.world).unwrap();
    let action = Action::Quarantine { instance };
    let facts = actions::gather(&action, &mut r).unwrap();
    let plan = actions::plan(&action, &facts, &ctx(&sc, "DRY")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions { dry_run: true }).unwrap();
    assert_eq!(report.outcome, Outcome::WouldSucceed, "{report:#?}");
    assert_eq!(serde_json::to_string(&r.world).unwrap(), before);
}

#[test]
fn cli_act_on_a_demo_world() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let instance = strip(&sc.manifest.answer_key.right_actions[2].target).to_string();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args([
            "act",
            "quarantine",
            &instance,
            "--demo",
            "log4shell-c2",
            "--yes",
            "--format",
            "json",
            "--case",
            "C-1",
        ])
        .arg("--audit-log")
        .arg(&log)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outcome"]["status"], "done");
    assert_eq!(v["report"]["demo"], true);
    // without a terminal and without --yes: refused, exit 3, nothing audited
    let log2 = dir.path().join("audit2.jsonl");
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(["act", "quarantine", &instance, "--demo", "log4shell-c2"])
        .arg("--audit-log")
        .arg(&log2)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--yes"));
    assert!(!log2.exists());
}

fn policy_actions(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            serde_json::Value::Array(a) => {
                a.iter().map(|x| x.as_str().unwrap().to_string()).collect()
            }
            _ => vec![],
        })
        .collect()
}

/// Every AWS operation vigil makes is granted by docs/iam/vigil-responder.json: the mutating calls
/// (every `ApiKind`, one per `ApiCall` variant, whose `kind()` match the compiler checks) and the
/// reads (every `aws::ReadOp`, which src/aws/ must name to make any SDK call). The read-only policy
/// grants every read and no mutating action.
#[test]
fn iam_policies_cover_every_call() {
    use vigil::actions::ApiKind;
    use vigil::aws::ReadOp;
    let responder = policy_actions("docs/iam/vigil-responder.json");
    let readonly = policy_actions("docs/iam/vigil-readonly.json");
    let mut aws_calls = 0;
    for kind in ApiKind::ALL {
        if !kind.service().is_aws() {
            continue;
        }
        aws_calls += 1;
        let op = kind.iam_action();
        assert!(
            responder.iter().any(|a| a == op),
            "{op} ({kind:?}) is an API call vigil makes but not granted in docs/iam/vigil-responder.json"
        );
    }
    assert!(aws_calls >= 15, "too few mutating calls: {aws_calls}");
    for read in ReadOp::ALL {
        let op = read.iam_action();
        assert!(
            responder.iter().any(|a| a == op),
            "{op} is read by src/aws/ but not granted in docs/iam/vigil-responder.json"
        );
        assert!(
            readonly.iter().any(|a| a == op),
            "{op} is read by src/aws/ but not granted in docs/iam/vigil-readonly.json"
        );
    }
    for a in readonly {
        let verb = a.split(':').nth(1).unwrap();
        // LookupEvents and SimulatePrincipalPolicy read; StartInvestigation and Lake's
        // StartQuery/CancelQuery start (or stop) an analysis and change nothing in the account's
        // resources.
        assert!(
            verb.starts_with("Describe")
                || verb.starts_with("Get")
                || verb.starts_with("List")
                || [
                    "cloudtrail:LookupEvents",
                    "cloudtrail:StartQuery",
                    "cloudtrail:CancelQuery",
                    "athena:StartQueryExecution",
                    "athena:StopQueryExecution",
                    "iam:SimulatePrincipalPolicy",
                    "detective:StartInvestigation"
                ]
                .contains(&a.as_str()),
            "read-only policy grants {a}"
        );
    }
}

/// dns-c2-exfil's answer key: blocking the C2 domain is right; blocking the S3 endpoint the
/// workers upload to is the wrong action, and the plan says what it would break.
#[test]
fn block_domain_plan_warns_on_an_aws_endpoint() {
    let sc = Scenario::load("dns-c2-exfil").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let c = ctx(&sc, "DEMO-dns");
    let instance = compromised_instance(&sc);
    let plan_for = |r: &mut DemoResponder, target: &str| {
        let a = action_for("block-domain", target, instance.clone()).unwrap();
        let facts = actions::gather(&a, r).unwrap();
        actions::plan(&a, &facts, &c).unwrap()
    };
    let key = &sc.manifest.answer_key;
    let right = key
        .right_actions
        .iter()
        .find(|a| a.action == "block-domain")
        .unwrap();
    let wrong = key
        .wrong_actions
        .iter()
        .find(|a| a.action == "block-domain")
        .unwrap();
    let p = plan_for(&mut r, &right.target);
    assert!(
        p.blast_radius.iter().all(|b| !b.contains("AWS endpoint")),
        "{p:#?}"
    );
    assert!(matches!(p.confirm, actions::Confirm::TypeId { .. }));
    let p = plan_for(&mut r, &wrong.target);
    assert!(
        p.blast_radius.iter().any(|b| b.contains("AWS endpoint")),
        "{:#?}",
        p.blast_radius
    );
    // Not a domain at all: refused before any call.
    let a = action_for("block-domain", "domain:not a domain", instance.clone()).unwrap();
    let facts = actions::gather(&a, &mut r).unwrap();
    assert!(matches!(
        actions::plan(&a, &facts, &c),
        Err(actions::PlanError::BadDomain(_))
    ));
}

/// detach-profile on the demo world: the compromised web instance loses its profile and role
/// (recorded in a tag); detaching again plans nothing and says why; release gives both back.
#[test]
fn detach_profile_and_release_on_the_demo_world() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = compromised_instance(&sc).unwrap();
    let find = |r: &DemoResponder| {
        r.world
            .instances
            .iter()
            .find(|i| i.instance_id == instance)
            .unwrap()
            .clone()
    };
    let before = find(&r);
    let profile = before.instance_profile_arn.clone().expect("a profile");
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let run = |r: &mut DemoResponder, log: &mut AuditLog, action: Action| {
        let facts = actions::gather(&action, r).unwrap();
        let plan = actions::plan(&action, &facts, &ctx(&sc, "IR-P")).unwrap();
        let report = actions::execute(&plan, r, log, &ExecOptions::default()).unwrap();
        (plan, report)
    };
    let detach = Action::DetachProfile {
        instance: instance.clone(),
    };
    assert!(detach.is_destructive());
    let (plan, report) = run(&mut r, &mut log, detach.clone());
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    let calls: Vec<&str> = plan.steps.iter().map(|s| s.call.iam_action()).collect();
    assert_eq!(
        calls,
        ["ec2:CreateTags", "ec2:DisassociateIamInstanceProfile"]
    );
    assert!(!plan.steps[1].call.supports_dry_run());
    let after = find(&r);
    assert_eq!(after.instance_profile_arn, None);
    assert_eq!(after.role_arn, None);
    assert_eq!(after.tags.get("vigil:detached-profile"), Some(&profile));

    let (plan, _) = run(&mut r, &mut log, detach);
    assert!(plan.steps.is_empty());
    assert!(
        plan.notes.iter().any(|n| n.contains("vigil detached")),
        "{:?}",
        plan.notes
    );

    let (plan, report) = run(
        &mut r,
        &mut log,
        Action::Release {
            instance: instance.clone(),
            unprotect: false,
        },
    );
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    assert!(
        plan.steps
            .iter()
            .any(|s| s.call.iam_action() == "ec2:AssociateIamInstanceProfile")
    );
    let back = find(&r);
    assert_eq!(back.instance_profile_arn, Some(profile));
    assert_eq!(back.role_arn, before.role_arn);
    assert!(!back.tags.contains_key("vigil:detached-profile"));
}

/// block-ip on the demo world: the C2 address is denied both ways in the web instance's
/// network ACL, the scenario's flow-log lines with it then read REJECT (others keep theirs), and
/// unblock-ip takes the entries out again.
#[test]
fn block_ip_and_unblock_on_the_demo_world() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = compromised_instance(&sc).unwrap();
    let c2 = "203.0.113.45";
    let waf = vigil::actions::WafSet {
        name: "shop-web-blocklist".into(),
        scope: "REGIONAL".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let run = |r: &mut DemoResponder, log: &mut AuditLog, action: Action| {
        let facts = actions::gather(&action, r).unwrap();
        let plan = actions::plan(&action, &facts, &ctx(&sc, "IR-IP")).unwrap();
        let report = actions::execute(&plan, r, log, &ExecOptions::default()).unwrap();
        assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
        plan
    };
    let with_c2: Vec<_> = sc
        .evidence
        .flows
        .iter()
        .filter(|f| f.dstaddr.as_deref() == Some(c2) || f.srcaddr.as_deref() == Some(c2))
        .collect();
    let other = sc
        .evidence
        .flows
        .iter()
        .find(|f| {
            f.action.as_deref() == Some("ACCEPT")
                && f.dstaddr.as_deref() != Some(c2)
                && f.srcaddr.as_deref() != Some(c2)
        })
        .unwrap();
    assert!(!with_c2.is_empty());
    let plan = run(
        &mut r,
        &mut log,
        Action::BlockIp {
            ips: vec![c2.to_string()],
            subnet: None,
            instance: Some(instance.clone()),
            waf: Some(waf.clone()),
        },
    );
    assert_eq!(plan.steps.len(), 3, "inbound, outbound, the WAF set");
    assert_eq!(r.world.acl_entries.len(), 2);
    let set = |r: &DemoResponder| r.world.waf_ip_sets[0].addresses.clone();
    assert!(set(&r).contains(&format!("{c2}/32")), "{:?}", set(&r));
    for f in &with_c2 {
        assert_eq!(r.world.flow_action(f), Some("REJECT"));
    }
    assert_eq!(r.world.flow_action(other), Some("ACCEPT"));
    run(
        &mut r,
        &mut log,
        Action::UnblockIp {
            ips: vec![c2.to_string()],
            subnet: None,
            instance: Some(instance),
            waf: Some(waf),
        },
    );
    assert!(r.world.acl_entries.is_empty());
    assert!(!set(&r).contains(&format!("{c2}/32")));
    assert!(!set(&r).is_empty(), "the set's own entries stay");
    assert_eq!(
        r.world.flow_action(with_c2[0]),
        with_c2[0].action.as_deref()
    );
}

/// collect on the demo world: the compromised instance's agent answers, the command is kept
/// with where its output went; without an evidence store the plan refuses.
#[test]
fn collect_on_the_demo_world() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = compromised_instance(&sc).unwrap();
    let action = Action::Collect {
        instance: instance.clone(),
        evidence: None,
        memory: None,
    };
    let facts = actions::gather(&action, &mut r).unwrap();
    assert!(actions::plan(&action, &facts, &ctx(&sc, "IR-C")).is_err());
    let action = Action::Collect {
        instance: instance.clone(),
        evidence: Some("s3://demo-evidence/ir".into()),
        memory: None,
    };
    let facts = actions::gather(&action, &mut r).unwrap();
    let plan = actions::plan(&action, &facts, &ctx(&sc, "IR-C")).unwrap();
    assert!(!action.is_destructive());
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
    assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    let id = report.steps[0].created[0].clone();
    assert_eq!(r.world.collections.len(), 1);
    assert_eq!(
        r.world.collections[0].location,
        format!("s3://demo-evidence/ir/IR-C/collect/{instance}/")
    );
    assert_eq!(
        actions::Inspect::command_status(&mut r, &id, &instance)
            .unwrap()
            .0,
        "Success"
    );
}

/// Snapshots the instance for `case`, then shares its snapshots with 111122223333 (under
/// `kms_key` when given): both done on the demo world.
fn snapshot_then_share(
    sc: &Scenario,
    r: &mut DemoResponder,
    instance: &str,
    kms_key: Option<&str>,
    case: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    for action in [
        Action::Snapshot {
            instance: instance.to_string(),
            finding: None,
        },
        Action::ShareSnapshots {
            instance: instance.to_string(),
            account: "111122223333".into(),
            kms_key: kms_key.map(str::to_string),
        },
    ] {
        let facts = actions::gather(&action, r).unwrap();
        let plan = actions::plan(&action, &facts, &ctx(sc, case)).unwrap();
        let report = actions::execute(&plan, r, &mut log, &ExecOptions::default()).unwrap();
        assert_eq!(report.outcome, Outcome::Done, "{report:#?}");
    }
}

/// share-snapshots on the demo world, after a snapshot of the case: each snapshot now lists the
/// forensics account.
#[test]
fn share_snapshots_on_the_demo_world() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = compromised_instance(&sc).unwrap();
    snapshot_then_share(&sc, &mut r, &instance, None, "IR-SH");
    let mine: Vec<_> = r
        .world
        .snapshots
        .iter()
        .filter(|s| s.instance_id.as_deref() == Some(instance.as_str()))
        .collect();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|s| s.shared_with == ["111122223333"]));
}

/// On the demo world too, an encrypted volume's snapshot is copied under the forensics key and
/// only the copy is shared.
#[test]
fn share_snapshots_copies_encrypted_ones_on_the_demo_world() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut r = DemoResponder::for_scenario(&sc).unwrap();
    let instance = compromised_instance(&sc).unwrap();
    let inst = r
        .world
        .instances
        .iter_mut()
        .find(|i| i.instance_id == instance)
        .unwrap();
    inst.volumes[0].kms_key_id = Some("arn:aws:kms:us-east-1:483920174655:key/ebs".into());
    let encrypted_vol = inst.volumes[0].volume_id.clone();
    let key = "arn:aws:kms:us-east-1:483920174655:key/forensics";
    snapshot_then_share(&sc, &mut r, &instance, Some(key), "IR-KMS");
    let src = r
        .world
        .snapshots
        .iter()
        .find(|s| s.volume_id == encrypted_vol && !s.tags.contains_key("vigil:copy-of"))
        .unwrap();
    assert!(
        src.shared_with.is_empty(),
        "the encrypted source is not shared"
    );
    let copy = r
        .world
        .snapshots
        .iter()
        .find(|s| s.tags.get("vigil:copy-of") == Some(&src.snapshot_id))
        .expect("its copy");
    assert_eq!(copy.kms_key_id.as_deref(), Some(key));
    assert_eq!(copy.shared_with, ["111122223333"]);
}
