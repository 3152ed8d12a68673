//! The AWS responder through the real SDK over real HTTP, against moto's server on 127.0.0.1
//! (tests/support/moto.rs). Assertions read the state back through the API, not from vigil's own
//! answers. The tests FAIL when moto cannot start: run scripts/test.sh, which installs it.

use crate::moto_support;

use aws_sdk_ec2::types as ec2t;
use moto_support::*;
use std::path::PathBuf;
use vigil::actions::{self, AuditRecord, ExecOptions, Inspect};

/// Runs `vigil act ARGS --endpoint-url URL --region us-east-1 --format json`.
fn act(url: &str, log: &std::path::Path, args: &[&str]) -> (i32, serde_json::Value) {
    let out = act_output(url, log, &[args, &["--format", "json"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = serde_json::from_str(&stdout).unwrap_or_else(|_| {
        panic!(
            "not JSON on stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), v)
}

/// Runs `vigil act ARGS --endpoint-url URL --region us-east-1` as a user would, with moto's
/// credentials and nothing of the machine's AWS configuration: its whole output.
fn act_output(url: &str, log: &std::path::Path, args: &[&str]) -> std::process::Output {
    vigil_at(url, &[&["act"], args].concat())
        .arg("--audit-log")
        .arg(log)
        .output()
        .unwrap()
}

fn audit(log: &std::path::Path) -> Vec<AuditRecord> {
    if !log.exists() {
        return vec![];
    }
    actions::audit::read(log).unwrap()
}

/// Every intent has its result (same step, in order), and the records carry who and which case.
fn assert_paired(recs: &[AuditRecord], case: &str) {
    let calls: Vec<&AuditRecord> = recs
        .iter()
        .filter(|r| r.kind == "intent" || r.kind == "result")
        .collect();
    assert!(
        calls.len().is_multiple_of(2),
        "unpaired records: {calls:#?}"
    );
    for pair in calls.chunks(2) {
        assert_eq!(pair[0].kind, "intent");
        assert_eq!(pair[1].kind, "result");
        assert_eq!(pair[0].step, pair[1].step);
        assert_eq!(pair[0].api, pair[1].api);
    }
    for r in recs {
        assert_eq!(r.case, case);
        assert!(
            r.operator.starts_with("arn:aws:"),
            "operator: {}",
            r.operator
        );
        assert!(r.time.ends_with('Z'));
        assert!(!r.demo);
        let line = serde_json::to_string(r).unwrap();
        assert!(
            !line.contains("testing"),
            "a secret reached the audit log: {line}"
        );
    }
}

#[test]
fn quarantine_two_enis_is_idempotent_and_release_restores() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");

    let (code, v) = act(
        &url,
        &log,
        &["quarantine", &f.instance, "--yes", "--case", "IR-1"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"]["status"], "done");

    let contain =
        group_named(&s, &f.vpc, &format!("vigil-contain-{}", f.vpc)).expect("contain group");
    let contain_id = contain.group_id().unwrap().to_string();
    assert!(
        contain.ip_permissions().is_empty(),
        "contain group has ingress"
    );
    assert!(
        contain.ip_permissions_egress().is_empty(),
        "contain group has egress"
    );
    assert!(group_named(&s, &f.vpc, &format!("vigil-untrack-{}", f.vpc)).is_some());
    for eni in &f.enis {
        assert_eq!(eni_groups(&s, eni), vec![contain_id.clone()], "{eni}");
    }
    assert!(termination_protected(&s, &f.instance));
    let tags = instance_tags(&s, &f.instance);
    assert_eq!(tags.get("vigil:case").map(String::as_str), Some("IR-1"));
    assert_eq!(
        tags.get("vigil:status").map(String::as_str),
        Some("quarantined")
    );

    let recs = audit(&log);
    assert_paired(&recs, "IR-1");
    let steps = v["report"]["steps"].as_array().unwrap().len();
    assert_eq!(recs.iter().filter(|r| r.kind == "intent").count(), steps);
    assert!(
        recs.iter().any(|r| r.kind == "captured"),
        "state before acting is recorded"
    );
    // untrack before contain, on each ENI
    let mnia: Vec<String> = recs
        .iter()
        .filter(|r| {
            r.kind == "intent" && r.api.as_deref() == Some("ec2:ModifyNetworkInterfaceAttribute")
        })
        .map(|r| {
            r.params.as_ref().unwrap()["network_interface_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        mnia,
        vec![
            f.enis[0].clone(),
            f.enis[0].clone(),
            f.enis[1].clone(),
            f.enis[1].clone()
        ]
    );

    // Second time: nothing to do, no calls.
    let before = recs.len();
    let (code, v) = act(
        &url,
        &log,
        &["quarantine", &f.instance, "--yes", "--case", "IR-1"],
    );
    assert_eq!(code, 0);
    assert_eq!(v["outcome"]["status"], "no-op", "{v:#}");
    let recs = audit(&log);
    assert!(recs[before..].iter().all(|r| r.kind != "intent"));
    for eni in &f.enis {
        assert_eq!(eni_groups(&s, eni), vec![contain_id.clone()]);
    }

    // Release restores each ENI's own groups.
    let (code, v) = act(
        &url,
        &log,
        &["release", &f.instance, "--yes", "--case", "IR-1"],
    );
    assert_eq!(code, 0, "{v:#}");
    for (eni, orig) in f.enis.iter().zip(&f.groups) {
        assert_eq!(&eni_groups(&s, eni), orig, "{eni}");
    }
    assert!(!instance_tags(&s, &f.instance).contains_key("vigil:status"));
    assert!(
        termination_protected(&s, &f.instance),
        "protection stays unless --unprotect"
    );
    assert_paired(&audit(&log), "IR-1");
}

#[test]
fn snapshot_makes_one_per_volume_with_case_tags() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &[
            "snapshot",
            &f.instance,
            "--yes",
            "--case",
            "IR-2",
            "--finding",
            "abc123",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    let vols =
        s.rt.block_on(
            s.ec2
                .describe_volumes()
                .filters(
                    ec2t::Filter::builder()
                        .name("attachment.instance-id")
                        .values(&f.instance)
                        .build(),
                )
                .send(),
        )
        .unwrap();
    let n_vols = vols.volumes().len();
    assert!(n_vols >= 2, "fixture has a root and a data volume");
    let snaps =
        s.rt.block_on(
            s.ec2
                .describe_snapshots()
                .filters(
                    ec2t::Filter::builder()
                        .name("tag:vigil:case")
                        .values("IR-2")
                        .build(),
                )
                .send(),
        )
        .unwrap();
    assert_eq!(snaps.snapshots().len(), n_vols);
    let mut from: Vec<&str> = snaps
        .snapshots()
        .iter()
        .map(|x| x.volume_id().unwrap())
        .collect();
    from.sort();
    from.dedup();
    assert_eq!(from.len(), n_vols, "one snapshot per volume");
    for snap in snaps.snapshots() {
        let t: std::collections::BTreeMap<_, _> = snap
            .tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert_eq!(t.get("vigil:instance"), Some(&f.instance.as_str()));
        assert_eq!(t.get("vigil:finding"), Some(&"abc123"));
        assert!(t.contains_key("vigil:by") && t.contains_key("vigil:at"));
    }
    let created = v["report"]["created"].as_array().unwrap();
    assert_eq!(created.len(), n_vols);
    assert_paired(&audit(&log), "IR-2");
}

#[test]
fn notify_publishes_to_the_topic() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let topic =
        s.rt.block_on(s.sns.create_topic().name("security-alerts").send())
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string();
    let py = python();
    let helper = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/moto/sqs.py");
    let q = std::process::Command::new(&py)
        .arg(&helper)
        .args([&url, "create", "alerts-inbox"])
        .output()
        .unwrap();
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    let q: serde_json::Value = serde_json::from_slice(&q.stdout).unwrap();
    s.rt.block_on(
        s.sns
            .subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(q["arn"].as_str().unwrap())
            .send(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &[
            "notify",
            "f00dfeed",
            "--yes",
            "--case",
            "IR-3",
            "--topic-arn",
            &topic,
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    let got = std::process::Command::new(&py)
        .arg(&helper)
        .args([&url, "receive", q["url"].as_str().unwrap()])
        .output()
        .unwrap();
    let bodies: Vec<String> = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let env: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert!(env["Subject"].as_str().unwrap().contains("f00dfeed"));
    assert!(env["Message"].as_str().unwrap().contains("Case: IR-3"));
    let attr = env["MessageAttributes"]["vigil-json"]["Value"]
        .as_str()
        .unwrap();
    let j: serde_json::Value = serde_json::from_str(attr).unwrap();
    assert_eq!(j["case"], "IR-3");
    assert_eq!(j["finding_id"], "f00dfeed");
    assert_paired(&audit(&log), "IR-3");
}

#[test]
fn disable_key_leaves_it_inactive() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let key = s.rt.block_on(async {
        s.iam
            .create_user()
            .user_name("backdoor")
            .send()
            .await
            .unwrap();
        let k = s
            .iam
            .create_access_key()
            .user_name("backdoor")
            .send()
            .await
            .unwrap();
        k.access_key().unwrap().access_key_id().to_string()
    });
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &["disable-key", &key, "--yes", "--case", "IR-4"],
    );
    assert_eq!(code, 0, "{v:#}");
    let keys =
        s.rt.block_on(s.iam.list_access_keys().user_name("backdoor").send())
            .unwrap();
    let md = &keys.access_key_metadata()[0];
    assert_eq!(md.status().unwrap().as_str(), "Inactive");
    let (code, v) = act(
        &url,
        &log,
        &["disable-key", &key, "--yes", "--case", "IR-4"],
    );
    assert_eq!(code, 0);
    assert_eq!(v["outcome"]["status"], "no-op");
    assert_paired(&audit(&log), "IR-4");
}

#[test]
fn revoke_sessions_puts_the_token_issue_time_deny() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &[
            "revoke-sessions",
            "arn:aws:iam::123456789012:role/web-role",
            "--yes",
            "--case",
            "IR-5",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    // The blast radius names the instance that carries the role.
    let blast = v["plan"]["blast_radius"].to_string();
    assert!(blast.contains(&f.instance), "{blast}");
    let p =
        s.rt.block_on(
            s.iam
                .get_role_policy()
                .role_name("web-role")
                .policy_name("AWSRevokeOlderSessions")
                .send(),
        )
        .unwrap();
    let doc = percent_decode(p.policy_document());
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let st = &doc["Statement"][0];
    assert_eq!(st["Effect"], "Deny");
    assert!(
        st["Condition"]["DateLessThan"]["aws:TokenIssueTime"].is_string(),
        "{doc:#}"
    );
    assert_paired(&audit(&log), "IR-5");
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if let Some(v) = (b[i] == b'%' && i + 2 < b.len())
            .then(|| u8::from_str_radix(&s[i + 1..i + 3], 16).ok())
            .flatten()
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn dry_run_changes_nothing() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &["quarantine", &f.instance, "--dry-run", "--case", "IR-6"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"]["status"], "would-succeed", "{v:#}");
    let steps = v["report"]["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["outcome"] == "would-succeed"));
    for (eni, orig) in f.enis.iter().zip(&f.groups) {
        assert_eq!(&eni_groups(&s, eni), orig);
    }
    assert!(group_named(&s, &f.vpc, &format!("vigil-contain-{}", f.vpc)).is_none());
    assert!(!termination_protected(&s, &f.instance));
    assert!(!instance_tags(&s, &f.instance).contains_key("vigil:status"));
    let recs = audit(&log);
    assert!(recs.iter().all(|r| r.dry_run));
}

#[test]
fn read_only_refuses_before_any_call() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &[
            "quarantine",
            &f.instance,
            "--read-only",
            "--yes",
            "--case",
            "IR-7",
        ],
    );
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(v["outcome"]["status"], "refused");
    assert!(
        !v["plan"]["steps"].as_array().unwrap().is_empty(),
        "the plan is still shown"
    );
    for (eni, orig) in f.enis.iter().zip(&f.groups) {
        assert_eq!(&eni_groups(&s, eni), orig);
    }
    assert!(group_named(&s, &f.vpc, &format!("vigil-contain-{}", f.vpc)).is_none());
    assert!(audit(&log).is_empty(), "no call, so nothing to audit");
}

#[test]
fn no_terminal_and_no_yes_refuses() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(&url, &log, &["quarantine", &f.instance, "--case", "IR-8"]);
    assert_eq!(code, 3, "{v:#}");
    assert!(v["outcome"]["why"].as_str().unwrap().contains("--yes"));
    assert_eq!(eni_groups(&s, &f.enis[0]), f.groups[0]);
}

#[test]
fn an_error_midway_is_reported_and_audited() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let opts = vigil::aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.clone()),
        max_attempts: Some(1),
        ..Default::default()
    };
    let mut r = vigil::aws::connect_responder(&opts).unwrap();
    let action = actions::Action::Quarantine {
        instance: f.instance.clone(),
    };
    let mut facts = actions::gather(&action, &mut r).unwrap();
    // The second ENI vanishes between the read and the act (detached and deleted by someone else);
    // simulate by planning for an ENI id that does not exist.
    let st = facts.instances.get_mut(&f.instance).unwrap();
    st.enis[1].eni_id = "eni-0000000000000dead".to_string();
    let ctx = actions::plan::PlanContext {
        case: "IR-9".into(),
        now: actions::audit::now_utc(),
        ..Default::default()
    };
    let plan = actions::plan(&action, &facts, &ctx).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut log = actions::AuditLog::open(&path).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
    let actions::Outcome::Failed { step, error } = &report.outcome else {
        panic!("expected a failure: {report:#?}");
    };
    assert!(error.contains("eni-0000000000000dead"), "{error}");
    assert!(
        error.contains("InvalidNetworkInterfaceID") || error.contains("NotFound"),
        "{error}"
    );
    let failed = &report.steps[step - 1];
    // AWS rejects the first call naming the missing ENI (tagging it); moto only at the group change.
    assert!(
        failed.api == "ec2:CreateTags" || failed.api == "ec2:ModifyNetworkInterfaceAttribute",
        "{failed:#?}"
    );
    assert!(
        report.steps[*step..]
            .iter()
            .all(|s| s.outcome == actions::exec::StepOutcome::NotRun)
    );
    let recs = audit(&path);
    assert_paired(&recs, "IR-9");
    let last_result = recs.iter().rev().find(|r| r.kind == "result").unwrap();
    assert_eq!(last_result.outcome.as_deref(), Some("error"));
    assert_eq!(recs.last().unwrap().kind, "end");
    // What ran before the failure really happened.
    assert!(termination_protected(&s, &f.instance));
    assert!(r.identity().unwrap().arn.starts_with("arn:aws:"));
}

/// An auto-scaling group (launch template in the fixture's subnet) with this minimum and desired
/// capacity; one of its instances.
fn asg_instance(s: &Sdk, f: &Fixture, min: i32, desired: i32) -> String {
    s.rt.block_on(async {
        let subnet = s
            .ec2
            .describe_subnets()
            .filters(
                ec2t::Filter::builder()
                    .name("vpc-id")
                    .values(&f.vpc)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .subnets()[0]
            .subnet_id()
            .unwrap()
            .to_string();
        s.ec2
            .create_launch_template()
            .launch_template_name("shop-web")
            .launch_template_data(
                ec2t::RequestLaunchTemplateData::builder()
                    .image_id("ami-12345678")
                    .instance_type(ec2t::InstanceType::T3Micro)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        s.asg
            .create_auto_scaling_group()
            .auto_scaling_group_name("shop-web-asg")
            .launch_template(
                aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                    .launch_template_name("shop-web")
                    .build(),
            )
            .min_size(min)
            .max_size(3)
            .desired_capacity(desired)
            .vpc_zone_identifier(subnet)
            .send()
            .await
            .unwrap();
    });
    let (id, state) = asg_state(s, None).remove(0);
    assert_eq!(state, "InService");
    id
}

fn desired_capacity(s: &Sdk) -> i32 {
    s.rt.block_on(s.asg.describe_auto_scaling_groups().send())
        .unwrap()
        .auto_scaling_groups()[0]
        .desired_capacity()
        .unwrap()
}

/// (instance, lifecycle state) of the group's instances, or of one instance.
fn asg_state(s: &Sdk, id: Option<&str>) -> Vec<(String, String)> {
    let out =
        s.rt.block_on(
            s.asg
                .describe_auto_scaling_instances()
                .set_instance_ids(id.map(|i| vec![i.to_string()]))
                .send(),
        )
        .unwrap();
    out.auto_scaling_instances()
        .iter()
        .map(|a| {
            (
                a.instance_id().unwrap().to_string(),
                a.lifecycle_state().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn quarantine_holds_an_asg_instance_in_standby_and_release_puts_it_back() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    // Above its minimum: the group's capacity is lowered, so no replacement is launched.
    let inst = asg_instance(&s, &f, 1, 2);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &["quarantine", &inst, "--case", "IR-20", "--yes"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(desired_capacity(&s), 1);
    let apis: Vec<&str> = v["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["api"].as_str().unwrap())
        .collect();
    // Out of the group before any ENI is cut.
    let standby = apis.iter().position(|a| *a == "autoscaling:EnterStandby");
    let first_eni = apis
        .iter()
        .position(|a| *a == "ec2:ModifyNetworkInterfaceAttribute");
    assert!(standby.is_some() && standby < first_eni, "{apis:?}");
    assert_eq!(
        asg_state(&s, Some(&inst)),
        vec![(inst.clone(), "Standby".to_string())]
    );
    assert_eq!(
        instance_tags(&s, &inst)["vigil:asg-standby"],
        "shop-web-asg"
    );
    // Idempotent: in Standby and contained, nothing to do.
    let (code, v) = act(
        &url,
        &log,
        &["quarantine", &inst, "--case", "IR-20", "--yes"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"]["status"], "no-op", "{v:#}");
    let (code, v) = act(&url, &log, &["release", &inst, "--case", "IR-20", "--yes"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        asg_state(&s, Some(&inst)),
        vec![(inst.clone(), "InService".to_string())]
    );
    assert_eq!(desired_capacity(&s), 2, "release put the capacity back");
    let tags = instance_tags(&s, &inst);
    assert!(!tags.contains_key("vigil:asg-decremented"), "{tags:?}");
    assert!(!tags.contains_key("vigil:asg-standby"), "{tags:?}");
    assert!(!tags.contains_key("vigil:status"), "{tags:?}");
    assert_paired(&audit(&log), "IR-20");
}

#[test]
fn quarantine_asg_detach_and_leave() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    // At its minimum: the capacity cannot be lowered; the plan says a replacement is launched.
    let inst = asg_instance(&s, &f, 1, 1);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    // leave: no Auto Scaling call, and the plan says what the group will do.
    let (code, v) = act(
        &url,
        &log,
        &["quarantine", &inst, "--asg", "leave", "--dry-run"],
    );
    assert_eq!(code, 0, "{v:#}");
    let steps = v["plan"]["steps"].to_string();
    assert!(
        !steps.contains("Standby") && !steps.contains("Detach"),
        "{steps}"
    );
    let radius = v["plan"]["blast_radius"].to_string();
    assert!(radius.contains("TERMINATE"), "{radius}");
    // detach: the instance leaves the group.
    let (code, v) = act(
        &url,
        &log,
        &[
            "quarantine",
            &inst,
            "--asg",
            "detach",
            "--case",
            "IR-21",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(asg_state(&s, Some(&inst)).is_empty(), "still in the group");
    let why = v["plan"]["steps"].to_string();
    assert!(
        why.contains("\"should_decrement_desired_capacity\":false"),
        "{why}"
    );
    assert!(why.contains("launches a replacement"), "{why}");
    assert_eq!(
        instance_tags(&s, &inst)["vigil:asg-detached"],
        "shop-web-asg"
    );
}

/// `vigil act` as this user (its keys in the environment, as a profile would give them).
fn act_as(
    url: &str,
    log: &std::path::Path,
    key: &(String, String),
    args: &[&str],
) -> (i32, serde_json::Value, String) {
    let out = vigil_at(url, &[&["act"], args].concat())
        .args(["--format", "json", "--audit-log"])
        .arg(log)
        .env("AWS_ACCESS_KEY_ID", &key.0)
        .env("AWS_SECRET_ACCESS_KEY", &key.1)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// With moto enforcing IAM: the shipped read-only policy is enough to plan a quarantine, and the
/// first mutating call is refused with AccessDenied naming the permission; the shipped responder
/// policy is enough to carry the quarantine out. Secrets never reach the audit log.
#[test]
fn shipped_policies_plan_act_and_access_denied_names_the_permission() {
    let (g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let ro = user_with_policy(
        &s,
        "vigil-ro",
        &std::fs::read_to_string("docs/iam/vigil-readonly.json").unwrap(),
    );
    let rw = user_with_policy(
        &s,
        "vigil-responder",
        &std::fs::read_to_string("docs/iam/vigil-responder.json").unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let enforced = Enforced::on(g.port);

    let (code, v, stderr) = act_as(
        &url,
        &log,
        &ro,
        &["quarantine", &f.instance, "--case", "IR-30", "--yes"],
    );
    assert_eq!(code, 1, "{v:#}\n{stderr}");
    let step = v["outcome"]["step"].as_u64().unwrap() as usize;
    let failed = &v["report"]["steps"][step - 1];
    assert_eq!(failed["api"], "ec2:ModifyInstanceAttribute", "{v:#}");
    let error = v["outcome"]["error"].as_str().unwrap();
    assert!(
        error.contains("lack the permission ec2:ModifyInstanceAttribute"),
        "{error}"
    );
    assert_eq!(
        step, 1,
        "the first call is refused, so nothing changed: {v:#}"
    );

    let (code, v, stderr) = act_as(
        &url,
        &log,
        &rw,
        &["quarantine", &f.instance, "--case", "IR-30", "--yes"],
    );
    assert_eq!(code, 0, "{v:#}\n{stderr}");
    // The test's own (unknown to IAM) credentials read the state back.
    drop(enforced);
    let contain = group_named(&s, &f.vpc, &format!("vigil-contain-{}", f.vpc)).unwrap();
    for eni in &f.enis {
        assert_eq!(
            eni_groups(&s, eni),
            vec![contain.group_id().unwrap().to_string()]
        );
    }
    let recs = audit(&log);
    assert_paired(&recs, "IR-30");
    assert!(recs.iter().any(|r| r.operator.ends_with(":user/vigil-ro")));
    assert!(
        recs.iter()
            .any(|r| r.operator.ends_with(":user/vigil-responder"))
    );
    let text = std::fs::read_to_string(&log).unwrap();
    for secret in [&ro.1, &rw.1] {
        assert!(
            !text.contains(secret.as_str()),
            "a secret key reached the audit log"
        );
    }
}

/// Throttled calls are retried by the SDK with backoff (standard retry mode, 3 attempts): two
/// RequestLimitExceeded answers, then success, make one audited call. With one attempt allowed,
/// the throttling error is reported in plain words with its code.
#[test]
fn throttling_is_retried_with_backoff_then_reported() {
    let (g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let action = actions::Action::Snapshot {
        instance: f.instance.clone(),
        finding: None,
    };
    let ctx = actions::plan::PlanContext {
        case: "IR-40".into(),
        now: actions::audit::now_utc(),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let run = |attempts: u32| {
        let opts = vigil::aws::AwsOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(url.clone()),
            max_attempts: Some(attempts),
            ..Default::default()
        };
        let mut r = vigil::aws::connect_responder(&opts).unwrap();
        let facts = actions::gather(&action, &mut r).unwrap();
        let plan = actions::plan(&action, &facts, &ctx).unwrap();
        let mut log = actions::AuditLog::open(&path).unwrap();
        actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap()
    };
    std::fs::write(&g.faults, r#"{"CreateSnapshots": 2}"#).unwrap();
    let report = run(3);
    assert_eq!(report.outcome, actions::Outcome::Done, "{report:#?}");
    assert_eq!(
        std::fs::read_to_string(&g.faults).unwrap().replace(' ', ""),
        r#"{"CreateSnapshots":0}"#,
        "both throttled answers were seen and retried"
    );
    let recs = audit(&path);
    assert_paired(&recs, "IR-40");
    let calls = recs.iter().filter(|r| r.kind == "intent").count();
    assert_eq!(calls, 1, "retries happen inside one audited call");

    std::fs::write(&g.faults, r#"{"CreateSnapshots": 1}"#).unwrap();
    let report = run(1);
    let actions::Outcome::Failed { error, .. } = &report.outcome else {
        panic!("expected the throttled call to fail: {report:#?}");
    };
    assert!(error.contains("RequestLimitExceeded"), "{error}");
    assert!(error.contains("throttling"), "{error}");
}

/// The DNS Firewall as read back through the API: (domains on vigil-blocklist, BLOCK rules on it
/// with their response, VPCs the vigil-block group is associated with).
fn dns_firewall(s: &Sdk) -> (Vec<String>, Vec<String>, Vec<String>) {
    s.rt.block_on(async {
        let lists = s.r53r.list_firewall_domain_lists().send().await.unwrap();
        let Some(list) = lists
            .firewall_domain_lists()
            .iter()
            .find(|l| l.name() == Some("vigil-blocklist"))
        else {
            return (vec![], vec![], vec![]);
        };
        let list_id = list.id().unwrap().to_string();
        let mut domains = s
            .r53r
            .list_firewall_domains()
            .firewall_domain_list_id(&list_id)
            .send()
            .await
            .unwrap()
            .domains()
            .to_vec();
        domains.sort();
        let groups = s.r53r.list_firewall_rule_groups().send().await.unwrap();
        let group = groups
            .firewall_rule_groups()
            .iter()
            .find(|g| g.name() == Some("vigil-block"))
            .unwrap()
            .id()
            .unwrap()
            .to_string();
        let rules = s
            .r53r
            .list_firewall_rules()
            .firewall_rule_group_id(&group)
            .send()
            .await
            .unwrap();
        let blocks = rules
            .firewall_rules()
            .iter()
            .filter(|r| r.firewall_domain_list_id() == Some(list_id.as_str()))
            .map(|r| {
                format!(
                    "{}/{}",
                    r.action().unwrap().as_str(),
                    r.block_response().map_or("-", |b| b.as_str())
                )
            })
            .collect();
        let assocs = s
            .r53r
            .list_firewall_rule_group_associations()
            .firewall_rule_group_id(&group)
            .send()
            .await
            .unwrap();
        let vpcs = assocs
            .firewall_rule_group_associations()
            .iter()
            .map(|a| a.vpc_id().unwrap().to_string())
            .collect();
        (domains, blocks, vpcs)
    })
}

#[test]
fn block_domain_sets_up_the_dns_firewall_for_the_instances_vpc() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let args = |d: &'static str| {
        vec![
            "block-domain",
            d,
            "--instance",
            f.instance.as_str(),
            "--case",
            "IR-60",
            "--yes",
        ]
    };
    let (code, v) = act(&url, &log, &args("CDN-Updates-Sync.example."));
    assert_eq!(code, 0, "{v:#}");
    let (domains, blocks, vpcs) = dns_firewall(&s);
    assert_eq!(
        domains,
        vec!["*.cdn-updates-sync.example", "cdn-updates-sync.example"]
    );
    assert_eq!(blocks, vec!["BLOCK/NXDOMAIN"]);
    assert_eq!(vpcs, vec![f.vpc.clone()]);
    // Again: nothing to do. Another domain: only the list changes.
    let (code, v) = act(&url, &log, &args("cdn-updates-sync.example"));
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"]["status"], "no-op", "{v:#}");
    let (code, v) = act(&url, &log, &args("api.evil.example"));
    assert_eq!(code, 0, "{v:#}");
    let apis: Vec<&str> = v["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["api"].as_str().unwrap())
        .collect();
    assert_eq!(apis, vec!["route53resolver:UpdateFirewallDomains"]);
    let (domains, blocks, vpcs) = dns_firewall(&s);
    assert_eq!(domains.len(), 4, "{domains:?}");
    assert_eq!(blocks.len(), 1);
    assert_eq!(vpcs.len(), 1);
    assert_paired(&audit(&log), "IR-60");
}

/// The instance's instance-profile associations (state, profile ARN), read through the API.
fn profile_associations(s: &Sdk, instance: &str) -> Vec<(String, String)> {
    let out =
        s.rt.block_on(
            s.ec2
                .describe_iam_instance_profile_associations()
                .filters(
                    ec2t::Filter::builder()
                        .name("instance-id")
                        .values(instance)
                        .build(),
                )
                .send(),
        )
        .unwrap();
    out.iam_instance_profile_associations()
        .iter()
        .filter(|a| a.instance_id() == Some(instance))
        .map(|a| {
            (
                a.state()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                a.iam_instance_profile()
                    .and_then(|p| p.arn())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .filter(|(state, _)| state == "associated")
        .collect()
}

fn instance_tags(s: &Sdk, instance: &str) -> std::collections::BTreeMap<String, String> {
    let out =
        s.rt.block_on(s.ec2.describe_instances().instance_ids(instance).send())
            .unwrap();
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .flat_map(|i| i.tags())
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn detach_profile_takes_the_profile_off_and_release_gives_it_back() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let before = profile_associations(&s, &f.instance);
    assert_eq!(before.len(), 1, "{before:?}");
    let profile = before[0].1.clone();
    assert!(
        profile.ends_with("instance-profile/web-profile"),
        "{profile}"
    );

    // A dry run plans both calls, changes nothing (these two APIs have no DryRun flag).
    let (code, v) = act(
        &url,
        &log,
        &[
            "detach-profile",
            &f.instance,
            "--yes",
            "--dry-run",
            "--case",
            "IR-9",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(profile_associations(&s, &f.instance), before);

    let (code, v) = act(
        &url,
        &log,
        &["detach-profile", &f.instance, "--yes", "--case", "IR-9"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"]["status"], "done", "{v:#}");
    let apis: Vec<&str> = v["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["api"].as_str().unwrap())
        .collect();
    assert_eq!(
        apis,
        vec!["ec2:CreateTags", "ec2:DisassociateIamInstanceProfile"]
    );
    assert!(profile_associations(&s, &f.instance).is_empty());
    let tags = instance_tags(&s, &f.instance);
    assert_eq!(tags.get("vigil:detached-profile"), Some(&profile));

    // Again: nothing to detach, and the plan says vigil did it.
    let (code, v) = act(
        &url,
        &log,
        &["detach-profile", &f.instance, "--yes", "--case", "IR-9"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(v["plan"]["steps"].as_array().unwrap().is_empty(), "{v:#}");
    assert!(
        v["plan"]["notes"].to_string().contains("vigil detached"),
        "{v:#}"
    );

    let (code, v) = act(
        &url,
        &log,
        &["release", &f.instance, "--yes", "--case", "IR-9"],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        profile_associations(&s, &f.instance),
        vec![("associated".to_string(), profile)]
    );
    assert!(!instance_tags(&s, &f.instance).contains_key("vigil:detached-profile"));
    assert_paired(&audit(&log), "IR-9");
}

/// The all-protocol deny entries of the network ACL of the fixture's subnet: (rule, egress, cidr).
fn acl_denies(s: &Sdk, instance: &str) -> Vec<(i32, bool, String)> {
    let subnet =
        s.rt.block_on(s.ec2.describe_instances().instance_ids(instance).send())
            .unwrap()
            .reservations()[0]
            .instances()[0]
            .subnet_id()
            .unwrap()
            .to_string();
    let out =
        s.rt.block_on(
            s.ec2
                .describe_network_acls()
                .filters(
                    ec2t::Filter::builder()
                        .name("association.subnet-id")
                        .values(subnet)
                        .build(),
                )
                .send(),
        )
        .unwrap();
    let mut v: Vec<(i32, bool, String)> = out.network_acls()[0]
        .entries()
        .iter()
        .filter(|e| matches!(e.rule_action(), Some(ec2t::RuleAction::Deny)))
        .filter(|e| e.rule_number() != Some(32767))
        .map(|e| {
            (
                e.rule_number().unwrap(),
                e.egress().unwrap(),
                e.cidr_block()
                    .or(e.ipv6_cidr_block())
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn block_ip_denies_both_ways_in_the_subnets_acl_and_unblock_removes_it() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    assert!(acl_denies(&s, &f.instance).is_empty());
    let block = [
        "block-ip",
        "203.0.113.45",
        "198.51.100.0/24",
        "--instance",
        &f.instance,
        "--yes",
        "--case",
        "IR-B",
    ];
    let (code, v) = act(&url, &log, &[&block[..], &["--dry-run"]].concat());
    assert_eq!(code, 0, "{v:#}");
    assert!(
        acl_denies(&s, &f.instance).is_empty(),
        "a dry run changed the ACL"
    );

    let (code, v) = act(&url, &log, &block);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["outcome"]["status"], "done", "{v:#}");
    let denies = acl_denies(&s, &f.instance);
    assert_eq!(
        denies,
        vec![
            (1, false, "203.0.113.45/32".to_string()),
            (1, true, "203.0.113.45/32".to_string()),
            (2, false, "198.51.100.0/24".to_string()),
            (2, true, "198.51.100.0/24".to_string()),
        ]
    );
    // The plan names what the ACL covers.
    assert!(
        v["plan"]["blast_radius"].to_string().contains(&f.instance),
        "{v:#}"
    );

    // Again: already denied, nothing to do.
    let (code, v) = act(&url, &log, &block);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["plan"]["steps"].as_array().unwrap().is_empty(), "{v:#}");
    assert!(
        v["plan"]["notes"].to_string().contains("already denied"),
        "{v:#}"
    );

    let (code, v) = act(
        &url,
        &log,
        &[
            "unblock-ip",
            "203.0.113.45",
            "--instance",
            &f.instance,
            "--yes",
            "--case",
            "IR-B",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        acl_denies(&s, &f.instance),
        vec![
            (2, false, "198.51.100.0/24".to_string()),
            (2, true, "198.51.100.0/24".to_string()),
        ]
    );
    // A block too wide is refused before anything is asked.
    let out = act_output(
        &url,
        &log,
        &["block-ip", "0.0.0.0/0", "--instance", &f.instance, "--yes"],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("wider than a /8"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_paired(&audit(&log), "IR-B");
}

/// A WAF IP set's addresses, read through the API.
fn waf_addresses(
    waf: &aws_sdk_wafv2::Client,
    rt: &tokio::runtime::Runtime,
    id: &str,
) -> Vec<String> {
    let out = rt
        .block_on(
            waf.get_ip_set()
                .name("edge-blocklist")
                .id(id)
                .scope(aws_sdk_wafv2::types::Scope::Regional)
                .send(),
        )
        .unwrap();
    let mut v = out.ip_set().unwrap().addresses().to_vec();
    v.sort();
    v
}

/// block-ip into a WAF IP set (moto's WAFv2, lock tokens checked): the address is added, the
/// set's other entries kept; when the set changed between the plan and the run (its planned lock
/// token is stale), the run reads it again and merges, so the other change survives; unblock-ip
/// takes only ours out; an IPv6 address is not put in an IPv4 set.
#[test]
fn block_ip_in_a_waf_ip_set_with_lock_tokens() {
    let (_g, url) = moto();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = moto_support::sdk_config(&rt, &url, "us-east-1");
    let waf = aws_sdk_wafv2::Client::new(&conf);
    let created = rt
        .block_on(
            waf.create_ip_set()
                .name("edge-blocklist")
                .scope(aws_sdk_wafv2::types::Scope::Regional)
                .ip_address_version(aws_sdk_wafv2::types::IpAddressVersion::Ipv4)
                .addresses("192.0.2.200/32")
                .send(),
        )
        .unwrap();
    let id = created.summary().unwrap().id().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");

    let (code, v) = act(
        &url,
        &log,
        &[
            "block-ip",
            "203.0.113.45",
            "2001:db8::66",
            "--waf-ip-set",
            "edge-blocklist",
            "--yes",
            "--case",
            "IR-W",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        waf_addresses(&waf, &rt, &id),
        vec!["192.0.2.200/32", "203.0.113.45/32"]
    );
    assert!(
        v["plan"]["notes"]
            .to_string()
            .contains("2001:db8::66/128 is not added"),
        "{v:#}"
    );

    // Planned, then the set changes under the plan: the run merges instead of overwriting.
    let opts = vigil::aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.clone()),
        ..Default::default()
    };
    let mut responder = vigil::aws::connect_responder(&opts).unwrap();
    let action = actions::Action::BlockIp {
        ips: vec!["198.51.100.9".into()],
        subnet: None,
        instance: None,
        waf: Some(actions::WafSet {
            name: "edge-blocklist".into(),
            scope: "REGIONAL".into(),
        }),
    };
    let facts = actions::gather(&action, &mut responder).unwrap();
    let plan = actions::plan(
        &action,
        &facts,
        &actions::plan::PlanContext {
            case: "IR-W".into(),
            ..Default::default()
        },
    )
    .unwrap();
    let token = facts.waf_sets["REGIONAL/edge-blocklist"].lock_token.clone();
    rt.block_on(
        waf.update_ip_set()
            .name("edge-blocklist")
            .id(&id)
            .scope(aws_sdk_wafv2::types::Scope::Regional)
            .addresses("192.0.2.200/32")
            .addresses("203.0.113.45/32")
            .addresses("192.0.2.201/32")
            .lock_token(token)
            .send(),
    )
    .unwrap();
    let mut audit_log = actions::AuditLog::open(&log).unwrap();
    let report = actions::execute(
        &plan,
        &mut responder,
        &mut audit_log,
        &ExecOptions::default(),
    )
    .unwrap();
    assert_eq!(report.outcome, actions::Outcome::Done, "{report:#?}");
    assert_eq!(
        waf_addresses(&waf, &rt, &id),
        vec![
            "192.0.2.200/32",
            "192.0.2.201/32",
            "198.51.100.9/32",
            "203.0.113.45/32"
        ]
    );

    let (code, v) = act(
        &url,
        &log,
        &[
            "unblock-ip",
            "203.0.113.45",
            "--waf-ip-set",
            "edge-blocklist",
            "--yes",
            "--case",
            "IR-W",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        waf_addresses(&waf, &rt, &id),
        vec!["192.0.2.200/32", "192.0.2.201/32", "198.51.100.9/32"]
    );
}

/// collect through SSM Run Command (moto runs no script: it answers Success, which vigil
/// follows with GetCommandInvocation): the plan refuses an instance without a registered agent
/// and a collect without an evidence store; the command sent is the shell document with vigil's
/// collection lines, its output under PREFIX/CASE/collect/INSTANCE/ in the store.
#[test]
fn collect_runs_the_shell_document_into_the_evidence_store() {
    let (g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let run = |args: &[&str]| act_output(&url, &log, &[args, &["--format", "json"]].concat());
    let collect = [
        "collect",
        &f.instance,
        "--evidence",
        "s3://ir-evidence/cases/",
        "--yes",
        "--case",
        "IR-C",
        "--wait",
        "20",
    ];
    // No agent registered: refused before any call.
    let out = run(&collect);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not managed by Systems Manager"));
    // No evidence store: refused.
    std::fs::write(
        &g.ssm,
        serde_json::json!({"us-east-1": [{"InstanceId": f.instance, "PingStatus": "Online",
            "PlatformType": "Linux", "PlatformName": "Amazon Linux", "AgentVersion": "3.3.40.0"}]})
        .to_string(),
    )
    .unwrap();
    let out = run(&["collect", &f.instance, "--yes", "--case", "IR-C"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--evidence s3://"));

    // The evidence store: moto runs no script, so SSM writes no output there; vigil says so and
    // records nothing (an empty manifest record would claim evidence that is not there).
    let conf = moto_support::sdk_config(&s.rt, &url, "us-east-1");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    s.rt.block_on(s3.create_bucket().bucket("ir-evidence").send())
        .unwrap();
    let out = run(&collect);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["collect"]["status"], "Success", "{v:#}");
    assert_eq!(
        v["evidence"]["plan"]["steps"],
        serde_json::json!([]),
        "{v:#}"
    );
    assert!(
        v["evidence"]["plan"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("nothing to store"),
        "{v:#}"
    );
    let listed =
        s.rt.block_on(s3.list_objects_v2().bucket("ir-evidence").send())
            .unwrap();
    assert_eq!(listed.key_count(), Some(0));
    let command_id = v["collect"]["command_id"].as_str().unwrap().to_string();
    // What SSM was asked, read back through the API.
    let ssm = aws_sdk_ssm::Client::new(&conf);
    let listed =
        s.rt.block_on(ssm.list_commands().command_id(&command_id).send())
            .unwrap();
    let c = &listed.commands()[0];
    assert_eq!(c.document_name(), Some("AWS-RunShellScript"));
    assert_eq!(c.instance_ids(), std::slice::from_ref(&f.instance));
    assert_eq!(c.output_s3_bucket_name(), Some("ir-evidence"));
    assert_eq!(
        c.output_s3_key_prefix(),
        Some(format!("cases/IR-C/collect/{}", f.instance).as_str())
    );
    let lines = &c.parameters().unwrap()["commands"];
    assert!(
        lines
            .iter()
            .any(|l| l.contains("ps -eo pid,ppid,user,lstart,args"))
    );
    assert!(lines.iter().any(|l| l.contains("lsmod")));
    assert_paired(&audit(&log), "IR-C");

    // The team's memory capture tool, last, told where the output goes.
    let mem = "avml /var/tmp/m.lime && aws s3 cp /var/tmp/m.lime ${VIGIL_S3}memory.lime";
    let out = run(&[&collect[..], &["--memory-command", mem]].concat());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    let command_id = v["collect"]["command_id"].as_str().unwrap().to_string();
    let listed =
        s.rt.block_on(ssm.list_commands().command_id(&command_id).send())
            .unwrap();
    let lines = &listed.commands()[0].parameters().unwrap()["commands"];
    assert_eq!(lines.last().map(String::as_str), Some(mem));
    assert!(
        lines.contains(&format!(
            "export VIGIL_S3='s3://ir-evidence/cases/IR-C/collect/{}/'",
            f.instance
        )),
        "{lines:?}"
    );
    let ps = lines.iter().position(|l| l.contains("ps -eo")).unwrap();
    let m = lines.iter().position(|l| l == mem).unwrap();
    assert!(
        ps < m,
        "the volatile state is read before the capture tool runs"
    );
}

/// share-snapshots: the case's snapshots of the instance (taken by vigil act snapshot) get a
/// createVolumePermission for the forensics account, read back with DescribeSnapshotAttribute; a
/// bad account id is refused; another case's snapshots are left alone.
#[test]
fn share_snapshots_gives_the_forensics_account_the_case_snapshots() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &["snapshot", &f.instance, "--yes", "--case", "IR-S"],
    );
    assert_eq!(code, 0, "{v:#}");
    let snaps: Vec<String> = v["report"]["steps"][0]["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert!(!snaps.is_empty());
    let (code, v) = act(
        &url,
        &log,
        &[
            "share-snapshots",
            &f.instance,
            "--forensics-account",
            "111122223333",
            "--yes",
            "--case",
            "IR-OTHER",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(
        v["plan"]["steps"].as_array().unwrap().is_empty(),
        "another case: {v:#}"
    );
    let (code, v) = act(
        &url,
        &log,
        &[
            "share-snapshots",
            &f.instance,
            "--forensics-account",
            "111122223333",
            "--yes",
            "--case",
            "IR-S",
        ],
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        v["plan"]["steps"].as_array().unwrap().len(),
        snaps.len(),
        "{v:#}"
    );
    for id in &snaps {
        let attr =
            s.rt.block_on(
                s.ec2
                    .describe_snapshot_attribute()
                    .snapshot_id(id)
                    .attribute(ec2t::SnapshotAttributeName::CreateVolumePermission)
                    .send(),
            )
            .unwrap();
        let users: Vec<&str> = attr
            .create_volume_permissions()
            .iter()
            .filter_map(|p| p.user_id())
            .collect();
        assert_eq!(users, ["111122223333"], "{id}");
    }
    let out = act_output(
        &url,
        &log,
        &[
            "share-snapshots",
            &f.instance,
            "--forensics-account",
            "1234",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an AWS account id"));
}

/// share-snapshots with a forensics key: the encrypted snapshot of the case is copied under that
/// key (CopySnapshot, read back: encrypted, the key, the case's tags) and the copy shared, the
/// source never; without a key it is left out and the plan says how; a second run shares the
/// copy it made instead of copying again.
#[test]
fn share_snapshots_copies_encrypted_ones_under_the_forensics_key() {
    let (_g, url) = moto();
    let s = sdk(&url);
    let f = fixture(&s);
    let az =
        s.rt.block_on(s.ec2.describe_instances().instance_ids(&f.instance).send())
            .unwrap()
            .reservations()[0]
            .instances()[0]
            .placement()
            .and_then(|p| p.availability_zone())
            .unwrap()
            .to_string();
    let vol =
        s.rt.block_on(
            s.ec2
                .create_volume()
                .availability_zone(&az)
                .size(8)
                .encrypted(true)
                .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/ebs-cmk")
                .send(),
        )
        .unwrap()
        .volume_id()
        .unwrap()
        .to_string();
    s.rt.block_on(
        s.ec2
            .attach_volume()
            .volume_id(&vol)
            .instance_id(&f.instance)
            .device("/dev/sdf")
            .send(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let (code, v) = act(
        &url,
        &log,
        &["snapshot", &f.instance, "--yes", "--case", "IR-K"],
    );
    assert_eq!(code, 0, "{v:#}");
    let share = |extra: &[&str]| {
        act(
            &url,
            &log,
            &[
                &[
                    "share-snapshots",
                    &f.instance,
                    "--forensics-account",
                    "111122223333",
                    "--yes",
                    "--case",
                    "IR-K",
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let snapshots = |s: &Sdk| {
        s.rt.block_on(s.ec2.describe_snapshots().owner_ids("self").send())
            .unwrap()
            .snapshots()
            .to_vec()
    };
    let encrypted_src = snapshots(&s)
        .into_iter()
        .find(|x| x.volume_id() == Some(vol.as_str()))
        .unwrap()
        .snapshot_id()
        .unwrap()
        .to_string();
    let shared_with = |id: &str| -> Vec<String> {
        s.rt.block_on(
            s.ec2
                .describe_snapshot_attribute()
                .snapshot_id(id)
                .attribute(ec2t::SnapshotAttributeName::CreateVolumePermission)
                .send(),
        )
        .unwrap()
        .create_volume_permissions()
        .iter()
        .filter_map(|p| p.user_id().map(str::to_string))
        .collect()
    };

    // No key: the encrypted snapshot is left out, said with the way to share it.
    let (code, v) = share(&[]);
    assert_eq!(code, 0, "{v:#}");
    let notes = v["plan"]["notes"].to_string();
    assert!(
        notes.contains(&encrypted_src) && notes.contains("--forensics-key"),
        "{notes}"
    );
    assert!(shared_with(&encrypted_src).is_empty());

    // With the forensics key: copied under it, the copy shared.
    let key = "arn:aws:kms:us-east-1:123456789012:key/forensics";
    let (code, v) = share(&["--forensics-key", key]);
    assert_eq!(code, 0, "{v:#}");
    let apis: Vec<&str> = v["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["api"].as_str().unwrap())
        .collect();
    // The unencrypted snapshot is shared as it is; the encrypted one's copy after its copy.
    let copy_at = apis
        .iter()
        .position(|a| *a == "ec2:CopySnapshot")
        .expect("a copy");
    assert_eq!(
        apis[copy_at + 1..],
        ["ec2:ModifySnapshotAttribute"],
        "{v:#}"
    );
    assert_eq!(apis.len(), 3, "{v:#}");
    let copy = snapshots(&s)
        .into_iter()
        .find(|x| {
            x.tags().iter().any(|t| {
                t.key() == Some("vigil:copy-of") && t.value() == Some(encrypted_src.as_str())
            })
        })
        .expect("the copy, tagged with its source");
    assert_eq!(copy.encrypted(), Some(true));
    assert_eq!(copy.kms_key_id(), Some(key));
    assert!(
        copy.tags()
            .iter()
            .any(|t| t.key() == Some("vigil:case") && t.value() == Some("IR-K"))
    );
    let copy_id = copy.snapshot_id().unwrap().to_string();
    assert_eq!(shared_with(&copy_id), ["111122223333"]);
    assert!(
        shared_with(&encrypted_src).is_empty(),
        "the source is never shared"
    );

    // Again: the copy is shared again, not made twice.
    let (code, v) = share(&["--forensics-key", key]);
    assert_eq!(code, 0, "{v:#}");
    assert!(
        !v["report"]["steps"].to_string().contains("CopySnapshot"),
        "{v:#}"
    );
    let copies = snapshots(&s)
        .iter()
        .filter(|x| x.tags().iter().any(|t| t.key() == Some("vigil:copy-of")))
        .count();
    assert_eq!(copies, 1);
}

/// A finding of another region than the session's: the plan reads and acts where the finding's
/// instance is (us-west-2, the session opened in us-east-1), says so, and its audit records
/// name the region; the same instance without the finding's region is not found, and the error
/// says which region to use.
#[test]
fn an_action_on_a_finding_of_another_region_acts_in_that_region() {
    let (_g, url) = moto();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let west = aws_sdk_ec2::Client::new(&sdk_config(&rt, &url, "us-west-2"));
    let (instance, eni) = lone_instance(&rt, &west, "10.9", "us-west-2a");
    let opts = vigil::aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.clone()),
        max_attempts: Some(1),
        ..Default::default()
    };
    let mut r = vigil::aws::connect_responder(&opts).unwrap();
    let action = actions::Action::Quarantine {
        instance: instance.clone(),
    };
    let at = |region: Option<&str>| actions::plan::PlanContext {
        case: "IR-W".into(),
        now: actions::audit::now_utc(),
        source: region.map(|r| actions::plan::Place {
            account: None,
            region: Some(r.to_string()),
        }),
        ..Default::default()
    };
    // From a finding without a region (or the command line): the session's own region.
    let err = actions::gather_and_plan(&action, &mut r, &at(None)).unwrap_err();
    assert_eq!(err, actions::PlanError::NoInstance(instance.clone()));
    // From a finding of a region where the instance is not: the error names that region.
    let err = actions::gather_and_plan(&action, &mut r, &at(Some("eu-north-1"))).unwrap_err();
    assert!(
        err.to_string()
            .contains("in eu-north-1, the finding's region"),
        "{err}"
    );

    let plan = actions::gather_and_plan(&action, &mut r, &at(Some("us-west-2"))).unwrap();
    assert_eq!(plan.region.as_deref(), Some("us-west-2"));
    assert!(plan.render().contains("in us-west-2"), "{}", plan.render());
    // Something else in between: the session is back in its own region.
    assert!(
        actions::gather_and_plan(&action, &mut r, &at(None)).is_err(),
        "us-east-1 again"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut log = actions::AuditLog::open(&path).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
    assert_eq!(report.outcome, actions::Outcome::Done, "{report:#?}");
    // Read back in us-west-2 through the SDK: the instance's interface is in the contain group.
    let groups = eni_group_names(&rt, &west, &eni);
    assert!(
        groups.iter().all(|g| g.starts_with("vigil-contain-")) && !groups.is_empty(),
        "{groups:?}"
    );
    let recs = audit(&path);
    assert_paired(&recs, "IR-W");
    assert!(
        recs.iter()
            .all(|r| r.region.as_deref() == Some("us-west-2")),
        "{recs:#?}"
    );

    // Notifying about that finding: the team's topic answers in its own region (us-east-1).
    let s = sdk(&url);
    let topic =
        s.rt.block_on(s.sns.create_topic().name("ir-alerts").send())
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string();
    let notify = actions::Action::Notify {
        finding: "west-finding".into(),
    };
    let mut ctx = at(Some("us-west-2"));
    ctx.topic_arn = Some(topic);
    let plan = actions::gather_and_plan(&notify, &mut r, &ctx).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
    assert_eq!(report.outcome, actions::Outcome::Done, "{report:#?}");
}

/// A GuardDuty administrator's finding about a member account's instance: without a member role
/// the action is refused naming both accounts; with `--respond-role` the responder assumes that
/// role in the member account (from its own credentials), plans and acts there as that role, and
/// the audit records name the member account. moto keeps each account's resources apart by the
/// credentials' account, as AWS does.
#[test]
fn an_action_on_a_member_accounts_finding_assumes_the_member_role() {
    let (_g, url) = moto();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = sdk_config(&rt, &url, "us-east-1");
    let member = "111111111111";
    let ec2 = aws_sdk_ec2::Client::new(&assumed_config(
        &rt,
        &conf,
        &format!("arn:aws:iam::{member}:role/IncidentResponder"),
    ));
    let (instance, eni) = lone_instance(&rt, &ec2, "10.7", "us-east-1a");
    let opts = vigil::aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.clone()),
        max_attempts: Some(1),
        ..Default::default()
    };
    let mut r = vigil::aws::connect_responder(&opts).unwrap();
    let own = r.identity().unwrap().account;
    assert_ne!(own, member);
    let action = actions::Action::Quarantine {
        instance: instance.clone(),
    };
    let ctx = actions::plan::PlanContext {
        case: "IR-M".into(),
        now: actions::audit::now_utc(),
        source: Some(actions::plan::Place {
            account: Some(member.into()),
            region: Some("us-east-1".into()),
        }),
        ..Default::default()
    };
    let err = actions::gather_and_plan(&action, &mut r, &ctx).unwrap_err();
    assert_eq!(
        err,
        actions::PlanError::OtherAccount(member.into(), own.clone())
    );
    assert!(err.to_string().contains("--respond-role"), "{err}");

    let mut r = r.with_member_role("IncidentResponder", &own);
    let plan = actions::gather_and_plan(&action, &mut r, &ctx).unwrap();
    assert_eq!(plan.operator.account, member);
    assert!(
        plan.operator
            .arn
            .contains(":assumed-role/IncidentResponder/vigil"),
        "{:?}",
        plan.operator
    );
    // In between, the responder's own finding is acted on as itself.
    let mut own_ctx = ctx.clone();
    own_ctx.source = None;
    assert_eq!(r.identity().unwrap().account, member);
    let _ = actions::gather_and_plan(&action, &mut r, &own_ctx);
    assert_eq!(r.identity().unwrap().account, own);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut log = actions::AuditLog::open(&path).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
    assert_eq!(report.outcome, actions::Outcome::Done, "{report:#?}");
    let groups = eni_group_names(&rt, &ec2, &eni);
    assert!(
        !groups.is_empty() && groups.iter().all(|g| g.starts_with("vigil-contain-")),
        "{groups:?}"
    );
    let recs = audit(&path);
    assert_paired(&recs, "IR-M");
    assert!(recs.iter().all(|x| x.account == member), "{recs:#?}");

    // A live session over two profiles, the second signing in to the member account (here
    // through its own role): a finding of that account is acted on as that profile.
    let second = vigil::aws::AwsOptions {
        role_arn: Some(format!("arn:aws:iam::{member}:role/Operations")),
        ..opts.clone()
    };
    let mut r = vigil::aws::connect_responder(&opts)
        .unwrap()
        .with_profiles(&own, vec![(member.to_string(), second)]);
    let plan = actions::gather_and_plan(&action, &mut r, &ctx).unwrap();
    assert_eq!(plan.operator.account, member);
    assert!(
        plan.operator.arn.contains(":assumed-role/Operations/"),
        "{:?}",
        plan.operator
    );
}
