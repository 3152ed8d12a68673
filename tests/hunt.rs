//! `vigil hunt`: the bundled rules against real detonations (Stratus Red Team) and the demo
//! scenario's attack, vigil's own rules against true and false positives written from the AWS
//! API references, and rule errors reported with file and line.

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::Path;
use vigil::hunt::{Hunter, RuleSet};
use vigil::model::Detection;
use vigil::pivot::Window;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/public");

fn vigil() -> Command {
    Command::cargo_bin("vigil").unwrap()
}

fn hunt_jsonl(dir: &Path, args: &[&str]) -> Vec<Detection> {
    let out = vigil()
        .arg("hunt")
        .args(args)
        .args(["--format", "jsonl"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Stratus Red Team's detonations light up the techniques the rules are about: each file named
/// here (a real detonation, anonymised) gets a detection with this title.
#[test]
fn stratus_detonations_light_up_their_techniques() {
    let ds = hunt_jsonl(
        Path::new(FIX),
        &["--trail", "stratus-red-team/detonation-logs"],
    );
    let expect = [
        ("execution.ec2-user-data", "EC2 Instance User Data Modified"),
        (
            "execution.ssm-start-session",
            "SSM Session Started On An Instance",
        ),
        (
            "lateral-movement.ec2-instance-connect",
            "SSH Key Pushed Through EC2 Instance Connect",
        ),
        (
            "persistence.iam-create-user-login-profile",
            "IAM User Console Password Created",
        ),
        (
            "persistence.lambda-backdoor-function",
            "Lambda Function Code Replaced Or Opened To Everyone",
        ),
        (
            "persistence.lambda-overwrite-code",
            "Lambda Function Code Replaced Or Opened To Everyone",
        ),
        (
            "persistence.rolesanywhere-create-trust-anchor",
            "IAM Roles Anywhere Trust Anchor Created",
        ),
        (
            "persistence.sts-federation-token",
            "Federation Token Issued To An IAM User",
        ),
        (
            "credential-access.ec2-get-password-data",
            "EC2 Windows Password Data Requested",
        ),
        (
            "credential-access.secretsmanager-retrieve-secrets",
            "Many Secrets Read By One Principal Within An Hour",
        ),
        (
            "credential-access.secretsmanager-batch-retrieve-secrets",
            "Secrets Manager Batch Read By Filter",
        ),
        (
            "credential-access.ssm-retrieve-securestring-parameters",
            "SSM Parameters Listed Then Decrypted By One Principal",
        ),
        (
            "defense-evasion.cloudtrail-stop",
            "AWS CloudTrail Important Change",
        ),
        (
            "defense-evasion.cloudtrail-event-selectors",
            "CloudTrail Event Selectors Or DNS Query Logging Changed",
        ),
        (
            "defense-evasion.organizations-leave",
            "Account Left Its Organization",
        ),
        (
            "defense-evasion.vpc-remove-flow-logs",
            "AWS VPC Flow Logs Deleted",
        ),
        (
            "execution.ec2-launch-unusual-instances",
            "GPU Or Accelerator Instances Launched",
        ),
        (
            "exfiltration.ec2-share-ebs-snapshot",
            "Snapshot Or Machine Image Shared With Another Account",
        ),
        (
            "exfiltration.ec2-share-ami",
            "Snapshot Or Machine Image Shared With Another Account",
        ),
        (
            "exfiltration.rds-share-snapshot",
            "Snapshot Or Machine Image Shared With Another Account",
        ),
        (
            "initial-access.console-login-without-mfa",
            "AWS Successful Console Login Without MFA",
        ),
        (
            "persistence.iam-backdoor-role",
            "IAM Role Trust Policy Updated",
        ),
        (
            "persistence.iam-backdoor-user",
            "AWS IAM Backdoor Users Keys",
        ),
        (
            "persistence.iam-create-admin-user",
            "AWS IAM Backdoor Users Keys",
        ),
        (
            "persistence.iam-create-admin-user",
            "Administrator Policy Attached To An IAM Identity",
        ),
        (
            "persistence.iam-create-backdoor-role",
            "IAM Role Created That Other AWS Principals Can Assume",
        ),
        (
            "persistence.iam-create-backdoor-role",
            "Administrator Policy Attached To An IAM Identity",
        ),
        (
            "defense-evasion.cloudtrail-delete",
            "AWS CloudTrail Important Change",
        ),
        (
            "defense-evasion.dns-delete-logs",
            "CloudTrail Event Selectors Or DNS Query Logging Changed",
        ),
        (
            "privilege-escalation.iam-update-user-login-profile",
            "AWS User Login Profile Was Modified",
        ),
        (
            "discovery.ec2-download-user-data",
            "EC2 User Data Read From Many Instances",
        ),
        (
            "impact.bedrock-invoke-model",
            "Bedrock Model Access Requested",
        ),
    ];
    for (technique, title) in expect {
        let file = format!("{FIX}/stratus-red-team/detonation-logs/aws.{technique}.json");
        let ids: Vec<String> =
            serde_json::from_str::<Vec<Value>>(&std::fs::read_to_string(&file).unwrap())
                .unwrap()
                .iter()
                .map(|e| e["eventID"].as_str().unwrap().to_string())
                .collect();
        assert!(
            ds.iter()
                .any(|d| d.title == title && d.events.iter().any(|e| ids.contains(e))),
            "{technique}: no `{title}` over its events"
        );
    }
    // Every detection carries what the contract says: ids of real events, entities, a time
    // span, and the rule's ATT&CK tags.
    for d in &ds {
        assert!(!d.events.is_empty() && !d.entities.is_empty(), "{d:?}");
        assert!(d.first <= d.last);
        assert!(d.attack.iter().all(|t| t.starts_with("attack.")));
    }
    let trust = ds
        .iter()
        .find(|d| d.title == "IAM Role Trust Policy Updated")
        .unwrap();
    assert!(trust.attack.contains(&"attack.t1098.003".to_string()));
    assert!(trust.techniques().contains(&"T1484.002".to_string()));
}

/// The demo's attack chain is detected step by step, all by the stolen instance-role session;
/// the security analyst's IAM audit the same morning (many List*/Get* calls) is not.
#[test]
fn the_demo_attack_is_detected_and_the_analysts_audit_is_not() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/iam-credential-chain");
    let ds = hunt_jsonl(Path::new(dir), &["--trail", "cloudtrail"]);
    let attacker = "arn:aws:sts::306418827590:assumed-role/app-server-role/i-0f55d51c7923d0641";
    for title in [
        "Discovery Burst Across Many APIs",
        "IAM Policy Version Created As Default Or Default Version Changed",
        "AWS IAM Backdoor Users Keys",
        "IAM Role Trust Policy Updated",
        "AWS CloudTrail Important Change",
        "GuardDuty Detector Deletion Or Suspension Attempted",
        "Snapshot Or Machine Image Shared With Another Account",
        "GPU Or Accelerator Instances Launched",
    ] {
        assert!(
            ds.iter()
                .any(|d| d.title == title && d.group.iter().any(|g| g.ends_with(attacker))),
            "no `{title}` by the attacker's session"
        );
    }
    for d in &ds {
        let text = serde_json::to_string(d).unwrap();
        assert!(!text.contains("dana.sec"), "the analyst's audit: {text}");
    }
}

// ---- vigil's own rules, event by event ----

/// A CloudTrail record as the API reference documents it: `fields` (dotted paths) over a base.
fn event(n: usize, secs: i64, fields: &[(&str, Value)]) -> Value {
    let mut v = json!({
        "eventVersion": "1.09",
        "eventTime": vigil::model::Ts(1_714_560_000_000 + secs * 1000).to_rfc3339(),
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "eventType": "AwsApiCall",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "recipientAccountId": "111122223333",
        "readOnly": false,
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": "arn:aws:iam::111122223333:user/mallory",
            "accountId": "111122223333",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "mallory"
        }
    });
    for (path, value) in fields {
        let mut at = &mut v;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            at = at
                .as_object_mut()
                .unwrap()
                .entry(p.to_string())
                .or_insert_with(|| json!({}));
        }
        at[parts[parts.len() - 1]] = value.clone();
    }
    v
}

fn call(source: &str, name: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("eventSource", json!(format!("{source}.amazonaws.com"))),
        ("eventName", json!(name)),
    ]
}

fn with(
    mut base: Vec<(&'static str, Value)>,
    more: &[(&'static str, Value)],
) -> Vec<(&'static str, Value)> {
    base.extend(more.iter().cloned());
    base
}

/// The titles the bundled rules give `events` (written as one trail file).
fn titles(events: &[Value]) -> Vec<String> {
    detections(events).into_iter().map(|d| d.title).collect()
}

/// The bundled rules' detections over `events` (written as one trail file).
fn detections(events: &[Value]) -> Vec<Detection> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.json");
    std::fs::write(&path, json!({ "Records": events }).to_string()).unwrap();
    let hunter = Hunter::new(&RuleSet::bundled());
    assert!(hunter.errors.is_empty(), "{:?}", hunter.errors);
    let m = hunter.scan(&[path], Window::all()).unwrap();
    let res = hunter.correlate(m);
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    res.detections
}

fn fires(title: &str, events: &[Value]) -> bool {
    titles(events).iter().any(|t| t == title)
}

#[test]
fn policy_version_and_trust_policy_rules() {
    let t = "IAM Policy Version Created As Default Or Default Version Changed";
    let create = |set: bool| {
        with(
            call("iam", "CreatePolicyVersion"),
            &[
                (
                    "requestParameters.policyArn",
                    json!("arn:aws:iam::111122223333:policy/app"),
                ),
                ("requestParameters.setAsDefault", json!(set)),
            ],
        )
    };
    assert!(fires(t, &[event(1, 0, &create(true))]));
    assert!(!fires(t, &[event(1, 0, &create(false))]));
    let denied = with(create(true), &[("errorCode", json!("AccessDenied"))]);
    assert!(!fires(t, &[event(1, 0, &denied)]));
    assert!(fires(
        t,
        &[event(1, 0, &call("iam", "SetDefaultPolicyVersion"))]
    ));

    let t = "IAM Role Trust Policy Updated";
    assert!(fires(
        t,
        &[event(1, 0, &call("iam", "UpdateAssumeRolePolicy"))]
    ));
    assert!(!fires(t, &[event(1, 0, &call("iam", "GetRole"))]));
}

#[test]
fn admin_policy_and_assumable_role_rules() {
    let t = "Administrator Policy Attached To An IAM Identity";
    let attach = |api: &str, arn: &str| {
        with(
            call("iam", api),
            &[
                ("requestParameters.policyArn", json!(arn)),
                ("requestParameters.roleName", json!("ops")),
            ],
        )
    };
    for api in ["AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy"] {
        let admin = attach(api, "arn:aws:iam::aws:policy/AdministratorAccess");
        assert!(fires(t, &[event(1, 0, &admin)]), "{api}");
    }
    let gov = attach(
        "AttachRolePolicy",
        "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
    );
    assert!(fires(t, &[event(1, 0, &gov)]));
    for arn in [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        // A customer policy that only borrows the name.
        "arn:aws:iam::111122223333:policy/AdministratorAccess",
    ] {
        assert!(
            !fires(t, &[event(1, 0, &attach("AttachRolePolicy", arn))]),
            "{arn}"
        );
    }
    let denied = with(
        attach(
            "AttachUserPolicy",
            "arn:aws:iam::aws:policy/AdministratorAccess",
        ),
        &[("errorCode", json!("AccessDenied"))],
    );
    assert!(!fires(t, &[event(1, 0, &denied)]));

    let t = "IAM Role Created That Other AWS Principals Can Assume";
    let create = |principal: Value| {
        let doc = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]
        });
        with(
            call("iam", "CreateRole"),
            &[
                ("requestParameters.roleName", json!("backdoor")),
                // As CloudTrail logs it: the policy's JSON text, here pretty-printed.
                (
                    "requestParameters.assumeRolePolicyDocument",
                    json!(serde_json::to_string_pretty(&doc).unwrap()),
                ),
            ],
        )
    };
    for principal in [
        json!({"AWS": "arn:aws:iam::999988887777:root"}),
        json!({"AWS": ["arn:aws:iam::999988887777:role/x"]}),
        json!("*"),
    ] {
        assert!(
            fires(t, &[event(1, 0, &create(principal.clone()))]),
            "{principal}"
        );
    }
    for principal in [
        json!({"Service": "ec2.amazonaws.com"}),
        json!({"Federated": "arn:aws:iam::111122223333:saml-provider/idp"}),
    ] {
        assert!(
            !fires(t, &[event(1, 0, &create(principal.clone()))]),
            "{principal}"
        );
    }
}

#[test]
fn sharing_rules_need_an_added_account() {
    let t = "Snapshot Or Machine Image Shared With Another Account";
    let snap = |op: &str| {
        with(
            call("ec2", "ModifySnapshotAttribute"),
            &[
                (
                    "requestParameters.snapshotId",
                    json!("snap-0123456789abcdef0"),
                ),
                (
                    "requestParameters.attributeType",
                    json!("CREATE_VOLUME_PERMISSION"),
                ),
                (
                    if op == "add" {
                        "requestParameters.createVolumePermission.add"
                    } else {
                        "requestParameters.createVolumePermission.remove"
                    },
                    json!({"items": [{"userId": "444455556666"}]}),
                ),
            ],
        )
    };
    assert!(fires(t, &[event(1, 0, &snap("add"))]));
    assert!(!fires(t, &[event(1, 0, &snap("remove"))]));
    let rds = |attr: &str| {
        with(
            call("rds", "ModifyDBSnapshotAttribute"),
            &[
                ("requestParameters.attributeName", json!(attr)),
                ("requestParameters.valuesToAdd", json!(["all"])),
            ],
        )
    };
    assert!(fires(t, &[event(1, 0, &rds("restore"))]));
    assert!(!fires(t, &[event(1, 0, &rds("other"))]));
}

/// A detection says the regions of its events (`awsRegion`): where a response to it acts. As a
/// finding it has that region when there is one, and none when its events span several.
#[test]
fn detections_carry_their_events_regions() {
    let read = |n: usize, secs: i64, region: &str| {
        event(
            n,
            secs,
            &with(
                call("secretsmanager", "GetSecretValue"),
                &[
                    ("requestParameters.secretId", json!(format!("prod/db-{n}"))),
                    ("awsRegion", json!(region)),
                ],
            ),
        )
    };
    // A correlation (ten reads within the hour), in one region, then over two.
    let t = "Many Secrets Read By One Principal Within An Hour";
    let one: Vec<Value> = (0..10)
        .map(|i| read(i, i as i64 * 60, "eu-west-1"))
        .collect();
    let d = detections(&one);
    let d = d.iter().find(|d| d.title == t).unwrap();
    assert_eq!(d.regions, ["eu-west-1"]);
    assert_eq!(d.to_finding().region.as_deref(), Some("eu-west-1"));
    let two: Vec<Value> = (0..10)
        .map(|i| {
            read(
                i,
                i as i64 * 60,
                if i < 5 { "eu-west-1" } else { "us-east-2" },
            )
        })
        .collect();
    let d = detections(&two);
    let d = d.iter().find(|d| d.title == t).unwrap();
    assert_eq!(d.regions, ["eu-west-1", "us-east-2"]);
    assert_eq!(d.to_finding().region, None);
    // A plain rule's detection.
    let stop = event(
        1,
        0,
        &with(
            call("cloudtrail", "StopLogging"),
            &[("awsRegion", json!("ap-south-1"))],
        ),
    );
    let d = detections(&[stop]);
    assert!(!d.is_empty());
    for d in &d {
        assert_eq!(d.regions, ["ap-south-1"], "{}", d.title);
    }
}

#[test]
fn secrets_threshold_counts_per_principal_within_the_hour() {
    let t = "Many Secrets Read By One Principal Within An Hour";
    let read = |n: usize, secs: i64| {
        event(
            n,
            secs,
            &with(
                call("secretsmanager", "GetSecretValue"),
                &[("requestParameters.secretId", json!(format!("prod/db-{n}")))],
            ),
        )
    };
    let ten: Vec<Value> = (0..10).map(|i| read(i, i as i64 * 60)).collect();
    assert!(fires(t, &ten));
    assert!(!fires(t, &ten[..9]), "nine reads are under the threshold");
    let spread: Vec<Value> = (0..10).map(|i| read(i, i as i64 * 1200)).collect();
    assert!(!fires(t, &spread), "ten reads over three hours");
    // The base rule does not alert on its own.
    assert!(
        !titles(&ten)
            .iter()
            .any(|t| t == "Secrets Manager Secret Value Read")
    );

    let t = "Secrets Manager Batch Read By Filter";
    let batch = |key: &'static str| {
        with(
            call("secretsmanager", "BatchGetSecretValue"),
            &[(key, json!([{"key": "tag-key", "values": ["env"]}]))],
        )
    };
    assert!(fires(
        t,
        &[event(1, 0, &batch("requestParameters.filters"))]
    ));
    assert!(!fires(
        t,
        &[event(1, 0, &batch("requestParameters.secretIdList"))]
    ));
}

#[test]
fn ssm_sequence_needs_listing_then_decryption_in_order() {
    let t = "SSM Parameters Listed Then Decrypted By One Principal";
    let list = |n, s| event(n, s, &call("ssm", "DescribeParameters"));
    let get = |n, s, dec: bool| {
        event(
            n,
            s,
            &with(
                call("ssm", "GetParameters"),
                &[
                    ("requestParameters.names", json!(["/prod/db/password"])),
                    ("requestParameters.withDecryption", json!(dec)),
                ],
            ),
        )
    };
    assert!(fires(t, &[list(1, 0), get(2, 30, true)]));
    assert!(!fires(t, &[get(1, 0, true), list(2, 30)]), "wrong order");
    assert!(!fires(t, &[list(1, 0), get(2, 30, false)]), "not decrypted");
    assert!(
        !fires(t, &[list(1, 0), get(2, 1200, true)]),
        "outside ten minutes"
    );
}

#[test]
fn role_chain_counts_hops_from_role_sessions_per_address() {
    let t = "Role Chain Of Three Or More Hops From One Address";
    let hop = |n: usize, secs: i64, kind: &str| {
        event(
            n,
            secs,
            &with(
                call("sts", "AssumeRole"),
                &[
                    ("userIdentity.type", json!(kind)),
                    (
                        "userIdentity.arn",
                        json!(format!("arn:aws:sts::111122223333:assumed-role/hop{n}/s")),
                    ),
                    (
                        "requestParameters.roleArn",
                        json!(format!("arn:aws:iam::111122223333:role/hop{}", n + 1)),
                    ),
                    ("requestParameters.roleSessionName", json!("s")),
                ],
            ),
        )
    };
    assert!(fires(
        t,
        &[hop(1, 0, "AssumedRole"), hop(2, 60, "AssumedRole")]
    ));
    assert!(!fires(t, &[hop(1, 0, "AssumedRole")]));
    assert!(!fires(t, &[hop(1, 0, "IAMUser"), hop(2, 60, "IAMUser")]));
}

#[test]
fn discovery_burst_counts_distinct_apis_and_denials() {
    let t = "Discovery Burst Across Many APIs";
    let read = |n: usize, name: String| {
        event(
            n,
            n as i64 * 10,
            &with(call("ec2", &name), &[("readOnly", json!(true))]),
        )
    };
    let many: Vec<Value> = (0..25)
        .map(|i| read(i, format!("DescribeThing{i}")))
        .collect();
    assert!(fires(t, &many));
    assert!(!fires(t, &many[..24]));
    let same: Vec<Value> = (0..40)
        .map(|i| read(i, "DescribeInstances".into()))
        .collect();
    assert!(!fires(t, &same), "one API many times is automation");

    let t = "Permission Probing - Many Denied Calls By One Principal";
    let denied: Vec<Value> = (0..10)
        .map(|i| {
            event(
                i,
                i as i64 * 5,
                &with(
                    call("iam", &format!("ListThing{i}")),
                    &[("errorCode", json!("AccessDenied"))],
                ),
            )
        })
        .collect();
    assert!(fires(t, &denied));
    assert!(!fires(t, &denied[..9]));
    // A longer burst is one detection holding every call of it, not only those of the window
    // that first crossed the threshold.
    let burst: Vec<Value> = (0..30)
        .map(|i| {
            event(
                i,
                i as i64 * 15,
                &with(
                    call("iam", &format!("ListThing{i}")),
                    &[("errorCode", json!("AccessDenied"))],
                ),
            )
        })
        .collect();
    let found: Vec<Detection> = detections(&burst)
        .into_iter()
        .filter(|d| d.title == t)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].events.len(), 30);
    assert_eq!(
        found[0].group,
        vec!["userIdentity.arn=arn:aws:iam::111122223333:user/mallory"]
    );
    // A caller CloudTrail gives no ARN (another account's principal, `AWSAccount`): its burst is
    // one group too, and the detection holds all of it.
    let anonymous: Vec<Value> = burst
        .iter()
        .cloned()
        .map(|mut e| {
            e["userIdentity"] = json!({"type": "AWSAccount", "principalId": "AIDAEXAMPLE:x", "accountId": "444455556666"});
            e
        })
        .collect();
    let found: Vec<Detection> = detections(&anonymous)
        .into_iter()
        .filter(|d| d.title == t)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].events.len(), 30);
    assert!(found[0].group.is_empty(), "{:?}", found[0].group);
    // Many principals at once (their groups shared among the engines): each burst is found
    // whole, and only the bursts.
    let users: Vec<Value> = (0..200)
        .map(|i| {
            let user = i % 20;
            let mut e = event(
                i,
                i as i64,
                &with(
                    call("iam", &format!("ListThing{i}")),
                    &[("errorCode", json!("AccessDenied"))],
                ),
            );
            e["userIdentity"]["arn"] = json!(format!("arn:aws:iam::111122223333:user/u{user}"));
            e
        })
        .collect();
    let found: Vec<Detection> = detections(&users[..180])
        .into_iter()
        .filter(|d| d.title == t)
        .collect();
    assert!(found.is_empty(), "nine calls each: {found:?}");
    let found: Vec<Detection> = detections(&users)
        .into_iter()
        .filter(|d| d.title == t)
        .collect();
    assert_eq!(found.len(), 20, "{found:?}");
    assert!(found.iter().all(|d| d.events.len() == 10));
}

#[test]
fn evasion_impact_and_credential_rules() {
    let t = "CloudTrail Event Selectors Or DNS Query Logging Changed";
    assert!(fires(
        t,
        &[event(1, 0, &call("cloudtrail", "PutEventSelectors"))]
    ));
    assert!(fires(
        t,
        &[event(
            1,
            0,
            &call("route53resolver", "DeleteResolverQueryLogConfig")
        )]
    ));
    assert!(!fires(
        t,
        &[event(1, 0, &call("cloudtrail", "GetEventSelectors"))]
    ));

    let t = "GuardDuty Detector Deletion Or Suspension Attempted";
    let denied = with(
        call("guardduty", "DeleteDetector"),
        &[("errorCode", json!("AccessDeniedException"))],
    );
    assert!(
        fires(t, &[event(1, 0, &denied)]),
        "a refused attempt counts"
    );
    let update = |on: bool| {
        with(
            call("guardduty", "UpdateDetector"),
            &[("requestParameters.enable", json!(on))],
        )
    };
    assert!(fires(t, &[event(1, 0, &update(false))]));
    assert!(!fires(t, &[event(1, 0, &update(true))]));

    assert!(fires(
        "Account Left Its Organization",
        &[event(1, 0, &call("organizations", "LeaveOrganization"))]
    ));

    let t = "GPU Or Accelerator Instances Launched";
    let run = |ty: &str| {
        with(
            call("ec2", "RunInstances"),
            &[("requestParameters.instanceType", json!(ty))],
        )
    };
    assert!(fires(t, &[event(1, 0, &run("p3.2xlarge"))]));
    assert!(fires(t, &[event(1, 0, &run("g5.12xlarge"))]));
    assert!(!fires(t, &[event(1, 0, &run("t3.micro"))]));
    assert!(!fires(t, &[event(1, 0, &run("c5.xlarge"))]));
    // A stopped instance changed to such a type: the type is an AttributeValue.
    let modify = |ty: &str| {
        with(
            call("ec2", "ModifyInstanceAttribute"),
            &[
                ("requestParameters.instanceId", json!("i-0123456789abcdef0")),
                ("requestParameters.instanceType", json!({ "value": ty })),
            ],
        )
    };
    assert!(fires(t, &[event(1, 0, &modify("p4d.24xlarge"))]));
    assert!(!fires(t, &[event(1, 0, &modify("m5.large"))]));
    let user_data = with(
        call("ec2", "ModifyInstanceAttribute"),
        &[(
            "requestParameters.userData",
            json!("<sensitiveDataRemoved>"),
        )],
    );
    assert!(!fires(t, &[event(1, 0, &user_data)]));

    assert!(fires(
        "EC2 Windows Password Data Requested",
        &[event(1, 0, &call("ec2", "GetPasswordData"))]
    ));

    let t = "Lambda Function Code Replaced Or Opened To Everyone";
    let permission = |principal: &str| {
        with(
            call("lambda", "AddPermission20150331v2"),
            &[("requestParameters.principal", json!(principal))],
        )
    };
    assert!(fires(t, &[event(1, 0, &permission("*"))]));
    assert!(!fires(t, &[event(1, 0, &permission("s3.amazonaws.com"))]));

    let t = "EC2 Instance User Data Modified";
    let modify = |key: &'static str| {
        with(
            call("ec2", "ModifyInstanceAttribute"),
            &[(key, json!("<sensitiveDataRemoved>"))],
        )
    };
    assert!(fires(
        t,
        &[event(1, 0, &modify("requestParameters.userData"))]
    ));
    assert!(!fires(
        t,
        &[event(1, 0, &modify("requestParameters.instanceType"))]
    ));
}

#[test]
fn console_login_success_after_failure_from_one_address() {
    let t = "Console Login Success After Failures From One Address";
    let login = |n: usize, secs: i64, outcome: &str, ip: &str| {
        event(
            n,
            secs,
            &with(
                call("signin", "ConsoleLogin"),
                &[
                    ("eventType", json!("AwsConsoleSignIn")),
                    ("responseElements.ConsoleLogin", json!(outcome)),
                    ("sourceIPAddress", json!(ip)),
                ],
            ),
        )
    };
    let ip = "203.0.113.9";
    assert!(fires(
        t,
        &[login(1, 0, "Failure", ip), login(2, 60, "Success", ip)]
    ));
    assert!(!fires(
        t,
        &[login(1, 0, "Success", ip), login(2, 60, "Failure", ip)]
    ));
    assert!(!fires(
        t,
        &[
            login(1, 0, "Failure", ip),
            login(2, 60, "Success", "192.0.2.1")
        ]
    ));
}

#[test]
fn user_data_harvest_counts_distinct_instances_per_principal() {
    let t = "EC2 User Data Read From Many Instances";
    let read = |n: usize, secs: i64, instance: &str, user: &str| {
        event(
            n,
            secs,
            &with(
                call("ec2", "DescribeInstanceAttribute"),
                &[
                    ("requestParameters.attribute", json!("userData")),
                    ("requestParameters.instanceId", json!(instance)),
                    ("errorCode", json!("Client.UnauthorizedOperation")),
                    (
                        "userIdentity.arn",
                        json!(format!("arn:aws:iam::111122223333:user/{user}")),
                    ),
                ],
            ),
        )
    };
    let five: Vec<Value> = (0..5)
        .map(|i| read(i, i as i64 * 60, &format!("i-0{i:016x}"), "mallory"))
        .collect();
    let found: Vec<Detection> = detections(&five)
        .into_iter()
        .filter(|d| d.title == t)
        .collect();
    assert_eq!(found.len(), 1, "refused reads count: {found:?}");
    assert_eq!(found[0].events.len(), 5);
    // The instances whose user data was read are the detection's targets, with the reader.
    let named: Vec<String> = found[0].entities.iter().map(|e| e.to_string()).collect();
    for i in 0..5 {
        let want = format!("instance:i-0{i:016x}");
        assert!(named.contains(&want), "{want}: {named:?}");
    }
    assert!(named.contains(&"user:arn:aws:iam::111122223333:user/mallory".to_string()));
    // One instance read again and again (an agent checking its own boot script) is not a harvest.
    let same: Vec<Value> = (0..8)
        .map(|i| read(i, i as i64 * 60, "i-0a", "mallory"))
        .collect();
    assert!(!fires(t, &same));
    // Five instances, but by two principals; or over more than thirty minutes.
    let split: Vec<Value> = (0..5)
        .map(|i| {
            let who = if i % 2 == 0 { "mallory" } else { "trent" };
            read(i, i as i64 * 60, &format!("i-0{i}"), who)
        })
        .collect();
    assert!(!fires(t, &split));
    let slow: Vec<Value> = (0..5)
        .map(|i| read(i, i as i64 * 600, &format!("i-0{i}"), "mallory"))
        .collect();
    assert!(!fires(t, &slow));
    // Another attribute is not user data.
    let other: Vec<Value> = (0..5)
        .map(|i| {
            event(
                i,
                i as i64,
                &with(
                    call("ec2", "DescribeInstanceAttribute"),
                    &[
                        ("requestParameters.attribute", json!("instanceType")),
                        ("requestParameters.instanceId", json!(format!("i-0{i}"))),
                    ],
                ),
            )
        })
        .collect();
    assert!(!fires(t, &other));
}

#[test]
fn bedrock_macie_guardduty_mirroring_kms_and_s3_ransom_rules() {
    for name in [
        "PutUseCaseForModelAccess",
        "CreateFoundationModelAgreement",
        "PutFoundationModelEntitlement",
    ] {
        assert!(
            fires(
                "Bedrock Model Access Requested",
                &[event(1, 0, &call("bedrock", name))]
            ),
            "{name}"
        );
    }
    for name in ["InvokeModel", "GetFoundationModelAvailability"] {
        assert!(!fires(
            "Bedrock Model Access Requested",
            &[event(1, 0, &call("bedrock", name))]
        ));
    }
    let t = "Bedrock Model Invocation Logging Deleted";
    assert!(fires(
        t,
        &[event(
            1,
            0,
            &call("bedrock", "DeleteModelInvocationLoggingConfiguration")
        )]
    ));
    assert!(!fires(
        t,
        &[event(
            1,
            0,
            &call("bedrock", "PutModelInvocationLoggingConfiguration")
        )]
    ));

    let t = "Macie Disabled, Paused Or Its Findings Suppressed";
    let denied = with(
        call("macie2", "DisableMacie"),
        &[("errorCode", json!("AccessDeniedException"))],
    );
    assert!(
        fires(t, &[event(1, 0, &denied)]),
        "a refused attempt counts"
    );
    let session = |status: &str| {
        with(
            call("macie2", "UpdateMacieSession"),
            &[("requestParameters.status", json!(status))],
        )
    };
    assert!(fires(t, &[event(1, 0, &session("PAUSED"))]));
    assert!(!fires(t, &[event(1, 0, &session("ENABLED"))]));
    let filter = |action: &str| {
        with(
            call("macie2", "CreateFindingsFilter"),
            &[("requestParameters.action", json!(action))],
        )
    };
    assert!(fires(t, &[event(1, 0, &filter("ARCHIVE"))]));
    assert!(!fires(t, &[event(1, 0, &filter("NOOP"))]));
    assert!(!fires(t, &[event(1, 0, &call("macie2", "ListFindings"))]));

    let t = "GuardDuty Findings Suppressed Or Addresses Trusted";
    let filter = |action: &str| {
        with(
            call("guardduty", "CreateFilter"),
            &[("requestParameters.action", json!(action))],
        )
    };
    assert!(fires(t, &[event(1, 0, &filter("ARCHIVE"))]));
    assert!(!fires(t, &[event(1, 0, &filter("NOOP"))]));
    assert!(fires(t, &[event(1, 0, &call("guardduty", "CreateIPSet"))]));
    assert!(!fires(
        t,
        &[event(1, 0, &call("guardduty", "CreateThreatIntelSet"))]
    ));

    let t = "EC2 Traffic Mirror Session Created Or Changed";
    assert!(fires(
        t,
        &[event(1, 0, &call("ec2", "CreateTrafficMirrorSession"))]
    ));
    assert!(!fires(
        t,
        &[event(1, 0, &call("ec2", "DescribeTrafficMirrorSessions"))]
    ));

    let t = "KMS Key Scheduled For Deletion Or Disabled";
    assert!(fires(
        t,
        &[event(1, 0, &call("kms", "ScheduleKeyDeletion"))]
    ));
    let missing = with(
        call("kms", "DisableKey"),
        &[("errorCode", json!("NotFoundException"))],
    );
    assert!(!fires(t, &[event(1, 0, &missing)]));
    assert!(!fires(t, &[event(1, 0, &call("kms", "EnableKey"))]));

    let t = "S3 Objects Written With A Customer-Provided Key";
    let copy = |sse_c: bool| {
        let mut c = with(
            call("s3", "CopyObject"),
            &[
                ("requestParameters.bucketName", json!("payroll")),
                ("requestParameters.key", json!("2024/run.csv")),
            ],
        );
        if sse_c {
            c.push((
                "requestParameters.x-amz-server-side-encryption-customer-algorithm",
                json!("AES256"),
            ));
        }
        c
    };
    assert!(fires(t, &[event(1, 0, &copy(true))]));
    assert!(!fires(t, &[event(1, 0, &copy(false))]));

    let t = "AWS Quarantined An Exposed Access Key";
    let attach = |arn: &str| {
        with(
            call("iam", "AttachUserPolicy"),
            &[
                ("requestParameters.userName", json!("ci-deploy")),
                ("requestParameters.policyArn", json!(arn)),
            ],
        )
    };
    assert!(fires(
        t,
        &[event(
            1,
            0,
            &attach("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3")
        )]
    ));
    assert!(!fires(
        t,
        &[event(
            1,
            0,
            &attach("arn:aws:iam::aws:policy/ReadOnlyAccess")
        )]
    ));
    let inline = |name: &str| {
        with(
            call("iam", "PutUserPolicy"),
            &[("requestParameters.policyName", json!(name))],
        )
    };
    assert!(fires(
        t,
        &[event(
            1,
            0,
            &inline("AWSExposedCredentialPolicy_DO_NOT_REMOVE")
        )]
    ));
    assert!(!fires(t, &[event(1, 0, &inline("deny-all"))]));

    let t = "S3 Block Public Access Removed";
    assert!(fires(
        t,
        &[event(1, 0, &call("s3", "DeleteBucketPublicAccessBlock"))]
    ));
    assert!(!fires(
        t,
        &[event(1, 0, &call("s3", "PutBucketPublicAccessBlock"))]
    ));
}

#[test]
fn ses_probing_and_enabling_and_lambda_create_then_invoke() {
    let t = "SES Sending Capacity Probed By One Principal";
    let ses = |n: usize, secs: i64, name: &str| event(n, secs, &call("ses", name));
    assert!(fires(
        t,
        &[
            ses(1, 0, "GetSendQuota"),
            ses(2, 30, "GetAccountSendingEnabled"),
            ses(3, 60, "ListIdentities"),
        ]
    ));
    assert!(!fires(
        t,
        &[
            ses(1, 0, "GetSendQuota"),
            ses(2, 30, "GetSendQuota"),
            ses(3, 60, "ListIdentities"),
        ]
    ));

    let t = "SES Sending Enabled And A Sender Verified By One Principal";
    let enable = |n: usize, secs: i64, on: bool| {
        event(
            n,
            secs,
            &with(
                call("ses", "PutAccountSendingAttributes"),
                &[("requestParameters.sendingEnabled", json!(on))],
            ),
        )
    };
    let verify = |n: usize, secs: i64| {
        event(
            n,
            secs,
            &with(
                call("ses", "CreateEmailIdentity"),
                &[(
                    "requestParameters.emailIdentity",
                    json!("billing@example.com"),
                )],
            ),
        )
    };
    // Either order.
    assert!(fires(t, &[enable(1, 0, true), verify(2, 60)]));
    assert!(fires(t, &[verify(1, 0), enable(2, 60, true)]));
    assert!(!fires(t, &[enable(1, 0, false), verify(2, 60)]));
    assert!(!fires(t, &[enable(1, 0, true), verify(2, 7200)]));

    let t = "Lambda Function Created Then Invoked By One Principal";
    let create = |n: usize, secs: i64| event(n, secs, &call("lambda", "CreateFunction20150331"));
    // Invocations are data events.
    let invoke = |n: usize, secs: i64| {
        event(
            n,
            secs,
            &with(
                call("lambda", "Invoke"),
                &[("eventCategory", json!("Data"))],
            ),
        )
    };
    assert!(fires(t, &[create(1, 0), invoke(2, 120)]));
    assert!(!fires(t, &[invoke(1, 0), create(2, 120)]));
}

/// Panther's labelled rule tests (third-party events, each with its expected outcome), where
/// Panther's rule means what one of vigil's means: vigil fires on the events Panther calls true
/// positives and on none it calls negatives.
#[test]
fn panther_labelled_events_agree_where_the_rules_mean_the_same() {
    let cases: [(&str, &str, &[&str]); 7] = [
        (
            "AWS.IAM.AccessKeyCompromised",
            "AWS Quarantined An Exposed Access Key",
            &[],
        ),
        (
            "AWS.CloudTrail.IAMCompromisedKeyQuarantine",
            "AWS Quarantined An Exposed Access Key",
            &[],
        ),
        (
            "AWS.S3.DeletePublicAccessBlock",
            "S3 Block Public Access Removed",
            &[],
        ),
        (
            "AWS.KMS.CustomerManagedKeyLoss",
            "KMS Key Scheduled For Deletion Or Disabled",
            &[],
        ),
        (
            "AWS.S3.CopyObjectWithClientSideEncryption",
            "S3 Objects Written With A Customer-Provided Key",
            &[],
        ),
        (
            "AWS.Bedrock.DeleteModelInvocationLoggingConfiguration",
            "Bedrock Model Invocation Logging Deleted",
            &[],
        ),
        // Panther's rule fires on every mirroring call; vigil's on the session alone.
        (
            "AWS.EC2.Traffic.Mirroring",
            "EC2 Traffic Mirror Session Created Or Changed",
            &["CreateTrafficMirrorSession", "ModifyTrafficMirrorSession"],
        ),
    ];
    let text = std::fs::read_to_string(format!(
        "{FIX}/panther-analysis/cloudtrail_rule_tests.jsonl"
    ))
    .unwrap();
    for (rule, title, names) in cases {
        let mut seen = (0, 0);
        for line in text.lines() {
            let test: Value = serde_json::from_str(line).unwrap();
            if test["rule_id"] != rule {
                continue;
            }
            let mut log = test["log"].clone();
            let name = log["eventName"].as_str().unwrap_or_default().to_string();
            let expected = test["expected_result"].as_bool().unwrap();
            if expected && !names.is_empty() && !names.contains(&name.as_str()) {
                continue;
            }
            // Some of Panther's stubs carry no time; every real record has one.
            if log.get("eventTime").is_none() {
                log["eventTime"] = json!("2024-05-01T00:00:00Z");
            }
            let fired = fires(title, &[log]);
            assert_eq!(fired, expected, "{rule} `{}`: {name}", test["test_name"]);
            if expected {
                seen.0 += 1;
            } else {
                seen.1 += 1;
            }
        }
        assert!(seen.0 > 0 && seen.1 > 0, "{rule}: {seen:?}");
    }
}

/// A record with no usable time is reported, as the ingest reports it, and not hunted; one
/// with Panther's normalised time only is hunted at that time.
#[test]
fn a_record_without_a_time_is_reported_not_dropped() {
    let stop = |n: usize| event(n, 0, &call("cloudtrail", "StopLogging"));
    let mut none = stop(1);
    none.as_object_mut().unwrap().remove("eventTime");
    let mut impossible = stop(2);
    impossible["eventTime"] = json!("2024-02-30T00:00:00Z");
    let mut panther = stop(3);
    panther.as_object_mut().unwrap().remove("eventTime");
    panther["p_event_time"] = json!("2024-05-01 10:00:00.000");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.json");
    std::fs::write(
        &path,
        json!({ "Records": [none, impossible, panther, stop(4)] }).to_string(),
    )
    .unwrap();
    let hunter = Hunter::new(&RuleSet::bundled());
    let m = hunter.scan(&[path], Window::all()).unwrap();
    let res = hunter.correlate(m);
    let mut reasons: Vec<(Option<u64>, String)> = res
        .errors
        .iter()
        .map(|e| (e.index, e.reason.clone()))
        .collect();
    reasons.sort();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, Some(0));
    assert!(reasons[0].1.contains("no usable eventTime"), "{reasons:?}");
    assert_eq!(reasons[1].0, Some(1));
    assert!(reasons[1].1.contains("2024-02-30"), "{reasons:?}");
    let stopped: Vec<&str> = res
        .detections
        .iter()
        .filter(|d| d.title == "AWS CloudTrail Important Change")
        .flat_map(|d| d.events.iter().map(|e| &e[e.len() - 1..]))
        .collect();
    assert_eq!(stopped, ["3", "4"], "{:?}", res.detections);
    let at = res
        .detections
        .iter()
        .find(|d| d.events.iter().any(|e| e.ends_with("000000000003")))
        .unwrap();
    assert_eq!(
        at.first,
        vigil::model::Ts::parse("2024-05-01T10:00:00Z").unwrap()
    );
}

/// A team's rule directory: a broken rule is reported with its file and line before the hunt,
/// the good one still runs; `--strict` makes the broken one fail the run. Text from the log in
/// the table (a principal with control characters) reaches the terminal escaped.
#[test]
fn a_bad_rule_is_reported_and_the_rest_run() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("bad.yml"),
        "title: Bad\nlogsource:\n  product: aws\ndetection:\n  sel:\n    eventName: X\n  condition: sel and (\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("good.yml"),
        "title: Team Rule\nid: team-1\nlevel: high\ntags: [attack.t1078]\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: DoTheThing\n  condition: sel\n",
    )
    .unwrap();
    let ev = event(
        1,
        0,
        &with(
            call("example", "DoTheThing"),
            &[(
                "userIdentity.arn",
                json!("arn:aws:iam::111122223333:user/x\u{1b}[2Jy"),
            )],
        ),
    );
    std::fs::write(
        dir.path().join("trail.json"),
        json!({ "Records": [ev] }).to_string(),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        vigil()
            .args([
                "hunt",
                "--trail",
                "trail.json",
                "--rules",
                "rules",
                "--no-bundled",
            ])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["--format", "table"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yml:7"), "{stderr}");
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("Team Rule"), "{table}");
    assert!(!table.contains('\u{1b}'), "{table:?}");
    assert!(table.contains("x\\x1b[2Jy"), "{table}");
    assert_eq!(run(&["--strict"]).status.code(), Some(2));
    let md = String::from_utf8(run(&["--format", "markdown"]).stdout).unwrap();
    assert!(
        md.contains("## high — Team Rule") && md.contains("`attack.t1078`"),
        "{md}"
    );
}

/// The console's loader hunts the files it indexed (as `vigil open` asks): the detections arrive
/// as findings of their own kind, after the index, with their tactic readable from the type — the
/// same detections a separate scan of the files finds.
#[test]
fn the_console_loader_sends_detections_as_hunt_findings() {
    use vigil::app::Msg;
    use vigil::console::{Bus, FileSources, load_files};
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let trail = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/iam-credential-chain/cloudtrail");
    load_files(
        &Bus::new(tx),
        FileSources {
            findings: Vec::new(),
            evidence: vec![trail.clone()],
            s3: Vec::new(),
            hunt: Some(vigil::console::HuntSetup::bundled()),
        },
    );
    let mut msgs = Vec::new();
    while let Ok(env) = rx.try_recv() {
        msgs.push(env.msg);
    }
    let indexed = msgs
        .iter()
        .position(|m| matches!(m, Msg::Indexed(_)))
        .expect("the index first");
    let (at, found) = msgs
        .iter()
        .enumerate()
        .find_map(|(i, m)| match m {
            Msg::Detections(d) => Some((i, d.clone())),
            _ => None,
        })
        .expect("detections");
    assert!(at > indexed, "the hunt runs once the trail is indexed");
    // What `vigil hunt` finds in the same files.
    let setup = vigil::console::HuntSetup::bundled();
    let hunter = vigil::hunt::Hunter::new(&setup.rules);
    let scanned = hunter
        .scan(std::slice::from_ref(&trail), vigil::pivot::Window::all())
        .unwrap();
    let alone = vigil::hunt::Hunter::new(&setup.rules)
        .correlate(scanned)
        .detections;
    let key = |d: &vigil::model::Detection| (d.rule.clone(), d.events.clone(), d.first, d.last);
    let mut a: Vec<_> = found.iter().map(key).collect();
    let mut b: Vec<_> = alone.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // The reducer makes them findings of their own kind and marks the events they cover.
    let mut state = vigil::app::State::new(
        vigil::app::Options::default(),
        vigil::app::Keymap::default_map().unwrap(),
    );
    vigil::app::update(&mut state, Msg::Detections(found.clone()));
    let hunts = &state.findings;
    assert_eq!(hunts.len(), found.len());
    assert!(hunts.iter().all(|f| f.finding_type.starts_with("Hunt:")));
    let share = found
        .iter()
        .find(|d| d.title == "Snapshot Or Machine Image Shared With Another Account")
        .expect("the snapshot share");
    for ev in &share.events {
        let mark = state.hunt_marks.get(ev).expect("a marked event");
        assert!(mark.detections >= 1);
        if mark.title == share.title {
            assert_eq!(mark.technique, "T1537");
        }
    }
    let shared = hunts
        .iter()
        .find(|f| f.title == "Snapshot Or Machine Image Shared With Another Account")
        .expect("the snapshot share");
    assert_eq!(shared.finding_type, "Hunt:exfiltration/T1537");
    assert_eq!(shared.tactic(), "Exfiltration");
    assert!(
        shared.description.contains("T1537"),
        "{}",
        shared.description
    );
    assert!(
        shared
            .entities
            .iter()
            .any(|e| e.to_string() == "ip:203.0.113.66"),
        "{:?}",
        shared.entities
    );
}

/// The scenario's threat-intel list (plain text) makes the attacker's calls a detection; the
/// same address on a trusted list takes every detection of its calls away, and stderr says how
/// many events that was.
#[test]
fn threat_lists_detect_and_trusted_lists_suppress() {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/demo/iam-credential-chain"
    ));
    let ds = hunt_jsonl(
        dir,
        &["--trail", "cloudtrail", "--intel", "threat-intel.txt"],
    );
    let hit = ds
        .iter()
        .find(|d| d.rule == "intel:threat-intel")
        .expect("calls from a listed address");
    assert_eq!(hit.group, vec!["ip=203.0.113.66", "list=threat-intel"]);
    assert!(hit.events.len() > 10, "{}", hit.events.len());
    assert!(
        hit.entities
            .iter()
            .any(|e| e.to_string() == "ip:203.0.113.66")
    );

    let tmp = tempfile::tempdir().unwrap();
    let trusted = tmp.path().join("vpn.csv");
    std::fs::write(
        &trusted,
        "indicator,comment\n203.0.113.66,\"our VPN, really\"\n",
    )
    .unwrap();
    let out = vigil()
        .args([
            "hunt",
            "--trail",
            "cloudtrail",
            "--intel",
            "threat-intel.txt",
            "--format",
            "jsonl",
        ])
        .arg("--trusted")
        .arg(&trusted)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{} event(s) from addresses on the trusted list vpn not hunted",
            hit.events.len()
        )),
        "{stderr}"
    );
    let after: Vec<Detection> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(after.iter().all(|d| d.rule != "intel:threat-intel"));
    assert!(after.iter().all(|d| {
        !d.entities
            .iter()
            .any(|e| e.to_string() == "ip:203.0.113.66")
    }));
}

/// The golden table: the bundled rules over the Stratus detonations, as a responder reads it.
#[test]
fn hunt_table_golden() {
    let out = vigil()
        .args([
            "hunt",
            "--trail",
            "stratus-red-team/detonation-logs",
            "--format",
            "table",
        ])
        .current_dir(FIX)
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!("hunt_stratus_table", String::from_utf8(out.stdout).unwrap());
}

/// CloudTrail Insights events (the User Guide's examples: no caller of their own, the API under
/// `insightDetails`) become one detection per insight, its Start and End joined.
#[test]
fn insights_events_become_rate_detections() {
    let ds = hunt_jsonl(
        Path::new(FIX),
        &[
            "--trail",
            "aws-docs/cloudtrail-user-guide/cloudtrail-log-file-examples__block09.json",
            "aws-docs/cloudtrail-user-guide/cloudtrail-event-reference__block01.json",
        ],
    );
    let ssm = ds
        .iter()
        .find(|d| {
            d.rule == "insight:ApiCallRateInsight"
                && d.title.starts_with("UpdateInstanceInformation")
        })
        .expect("the SSM insight");
    // 664 calls a minute against a baseline of 85.42.
    assert_eq!(ssm.title, "UpdateInstanceInformation call rate 8× baseline");
    assert_eq!(ssm.events.len(), 2);
    assert!(
        ssm.group.contains(&"state=Start→End".to_string()),
        "{:?}",
        ssm.group
    );
    assert!(
        ssm.entities
            .iter()
            .any(|e| e.to_string() == "account:123456789012")
    );
    let asg = ds
        .iter()
        .find(|d| d.title.starts_with("CompleteLifecycleAction"))
        .expect("the Auto Scaling insight");
    assert!(
        asg.entities
            .iter()
            .any(|e| e.to_string() == "ua:codedeploy.amazonaws.com"),
        "{:?}",
        asg.entities
    );
}

/// `vigil open --rules DIR` with a rule that cannot be read refuses to open the console, naming
/// the file and line (the terminal is never taken over).
#[test]
fn a_bad_rule_stops_the_console_before_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yml"),
        "title: Bad\nlogsource:\n  product: aws\ndetection:\n  sel:\n    eventName: X\n  condition: sel and (\n",
    )
    .unwrap();
    let trail = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/demo/iam-credential-chain/cloudtrail"
    );
    let out = vigil()
        .args(["open", "--trail", trail, "--rules"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yml:7"), "{stderr}");
    assert!(out.stdout.is_empty(), "no terminal setup written");
}

/// Threat lists over network logs (the dns-c2-exfil scenario's flow logs and Resolver query
/// logs, with its ISAC list): traffic to each listed C2 address is a detection with its records
/// and bytes; the tunnel's hundreds of names under the listed zone are one detection of the
/// zone; a trusted list naming one C2 address takes its traffic away, and stderr says so.
#[test]
fn threat_lists_over_flow_logs_and_dns_logs() {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/dns-c2-exfil"));
    let args = [
        "--flows",
        "flowlogs",
        "--dns",
        "dns",
        "--intel",
        "threat-intel.txt",
    ];
    let ds = hunt_jsonl(dir, &args);
    let by = |g: &'static str| ds.iter().filter(move |d| d.group.iter().any(|x| x == g));
    for ip in ["ip=203.0.113.77", "ip=203.0.113.78"] {
        let flows: Vec<_> = by(ip)
            .filter(|d| d.group.iter().any(|g| g == "source=flow-logs"))
            .collect();
        assert_eq!(flows.len(), 1, "{ip}: {ds:#?}");
        assert!(flows[0].records > 10, "{:?}", flows[0]);
        assert!(flows[0].events.is_empty());
        assert!(
            flows[0]
                .entities
                .iter()
                .any(|e| e.kind == vigil::model::EntityKind::Instance)
        );
    }
    let zone: Vec<_> = by("domain=cdn-updates-sync.example").collect();
    assert_eq!(zone.len(), 1, "{ds:#?}");
    let names: usize = zone[0]
        .group
        .iter()
        .find_map(|g| g.strip_prefix("names="))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(names > 100, "the tunnel's names: {names}");
    assert_eq!(zone[0].records as usize, names, "one query per tunnel name");
    assert!(ds.iter().all(|d| d.rule == "intel:threat-intel"));

    let trusted = tempfile::tempdir().unwrap();
    let list = trusted.path().join("partner.txt");
    std::fs::write(&list, "203.0.113.77 # a partner's proxy\n").unwrap();
    let out = vigil()
        .arg("hunt")
        .args(args)
        .arg("--trusted")
        .arg(&list)
        .args(["--format", "jsonl"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("ip=203.0.113.77"), "{stdout}");
    assert!(stdout.contains("ip=203.0.113.78"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("of the trusted list partner not reported"),
        "{stderr}"
    );
}

/// A team's sequence rule whose group is an alias (a field per rule, as the Sigma correlation
/// specification has it): a user's login profile created and then that user logging in. The
/// detection holds that user's two events only, not those of other users in the same hour.
#[test]
fn an_aliased_group_holds_its_own_events() {
    let rules = r#"
title: Login Profile Created
name: team_profile_created
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: CreateLoginProfile}
    condition: sel
level: informational
---
title: Console Login
name: team_console_login
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventName: ConsoleLogin}
    condition: sel
level: informational
---
title: Login Profile Then Login
id: 3f0c0d5e-5a8b-4b43-9a57-0d1d8f8f0a11
correlation:
    type: temporal_ordered
    rules: [team_profile_created, team_console_login]
    aliases:
        user:
            team_profile_created: requestParameters.userName
            team_console_login: userIdentity.userName
    group-by: [user]
    timespan: 1h
level: high
"#;
    let mut set = RuleSet::default();
    set.add("team.yml", rules);
    let hunter = Hunter::new(&set);
    assert!(hunter.errors.is_empty(), "{:?}", hunter.errors);
    assert_eq!(hunter.correlations, 1);
    let created = |n, secs, user: &str| {
        event(
            n,
            secs,
            &with(
                call("iam", "CreateLoginProfile"),
                &[("requestParameters.userName", json!(user))],
            ),
        )
    };
    let login = |n, secs, user: &str| {
        let mut e = event(n, secs, &call("signin", "ConsoleLogin"));
        e["userIdentity"]["userName"] = json!(user);
        e["userIdentity"]["arn"] = json!(format!("arn:aws:iam::111122223333:user/{user}"));
        e
    };
    let events = vec![
        created(1, 0, "alice"),
        created(2, 60, "bob"),
        login(3, 120, "carol"),
        login(4, 600, "alice"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.json");
    std::fs::write(&path, json!({ "Records": events }).to_string()).unwrap();
    let m = hunter.scan(&[path], Window::all()).unwrap();
    let found: Vec<Detection> = hunter
        .correlate(m)
        .detections
        .into_iter()
        .filter(|d| d.title == "Login Profile Then Login")
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].group, vec!["user=alice"]);
    assert_eq!(
        found[0].events,
        vec![
            "00000000-0000-4000-8000-000000000001",
            "00000000-0000-4000-8000-000000000004"
        ]
    );
}

/// Rules that read only what was called and how it ended are evaluated once per combination of
/// those values; a rule that reads anything else (a user agent, every value) on every record.
/// Both kinds answer for each record as if evaluated alone.
#[test]
fn remembered_and_per_record_rules_answer_alike() {
    let rules = r#"
title: Called X
id: 7a1e3c52-8d3f-4c8e-9f1a-1b2c3d4e5f01
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {eventSource: example.amazonaws.com, eventName: X}
    filter: {errorCode|exists: true}
    condition: sel and not filter
level: low
---
title: Pentest Agent
id: 7a1e3c52-8d3f-4c8e-9f1a-1b2c3d4e5f02
logsource: {product: aws, service: cloudtrail}
detection:
    sel: {userAgent|contains: kali}
    condition: sel
level: low
---
title: Keyword
id: 7a1e3c52-8d3f-4c8e-9f1a-1b2c3d4e5f03
logsource: {product: aws, service: cloudtrail}
detection:
    keywords: [needle-value]
    condition: keywords
level: low
---
title: Mallory From The Documentation Range
id: 7a1e3c52-8d3f-4c8e-9f1a-1b2c3d4e5f04
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        userIdentity.arn|endswith: /mallory
        sourceIPAddress|startswith: '203.0.113.'
    condition: sel
level: low
"#;
    let mut set = RuleSet::default();
    set.add("team.yml", rules);
    let hunter = Hunter::new(&set);
    assert!(hunter.errors.is_empty(), "{:?}", hunter.errors);
    // The agent rule and the address rule select no call but read named fields: each is
    // remembered by its fields' values, so repeated values below must answer as the first did.
    assert_eq!(hunter.keyed_rules, 2);
    let ua = |n, name: &str, agent: &str, more: &[(&'static str, Value)]| {
        event(
            n,
            n as i64,
            &with(
                with(call("example", name), &[("userAgent", json!(agent))]),
                more,
            ),
        )
    };
    let events = vec![
        ua(1, "X", "aws-cli/2 kali", &[]),
        ua(2, "X", "boto3", &[]),
        ua(3, "Y", "kali", &[]),
        ua(4, "X", "boto3", &[("errorCode", json!("AccessDenied"))]),
        ua(
            5,
            "X",
            "boto3",
            &[("requestParameters.name", json!("needle-value"))],
        ),
        ua(6, "X", "boto3", &[]),
        // The same agents again, with other calls and fields.
        ua(
            7,
            "Z",
            "aws-cli/2 kali",
            &[("errorCode", json!("AccessDenied"))],
        ),
        ua(
            8,
            "Z",
            "boto3",
            &[("sourceIPAddress", json!("203.0.113.9"))],
        ),
        ua(9, "X", "kali", &[("sourceIPAddress", json!("203.0.113.9"))]),
        // An object where the agent should be: read on the spot, never remembered.
        ua(10, "Z", "boto3", &[("userAgent", json!({"name": "kali"}))]),
        ua(
            11,
            "Z",
            "boto3",
            &[("sourceIPAddress", json!("198.51.100.9"))],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.json");
    std::fs::write(&path, json!({ "Records": events }).to_string()).unwrap();
    let m = hunter.scan(&[path], Window::all()).unwrap();
    let found = hunter.correlate(m).detections;
    let events_of = |title: &str| -> Vec<String> {
        let mut ids: Vec<String> = found
            .iter()
            .filter(|d| d.title == title)
            .flat_map(|d| {
                d.events.iter().map(|e| {
                    e.rsplit('-')
                        .next()
                        .unwrap()
                        .trim_start_matches('0')
                        .to_string()
                })
            })
            .collect();
        ids.sort_by_key(|n| n.parse::<u32>().unwrap());
        ids
    };
    assert_eq!(events_of("Called X"), ["1", "2", "5", "6", "9"]);
    assert_eq!(events_of("Pentest Agent"), ["1", "3", "7", "9"]);
    assert_eq!(events_of("Keyword"), ["5"]);
    assert_eq!(
        events_of("Mallory From The Documentation Range"),
        ["8", "9"]
    );
}

/// A malformed record in a hunted trail is reported with its place and costs only itself:
/// one broken at its top level, and one broken below it that a rule matches (a detection is
/// never made of a record that is not JSON). The records around them are still hunted.
#[test]
fn a_malformed_record_is_reported_and_the_rest_hunted() {
    let stop = |n: usize| event(n, n as i64, &call("cloudtrail", "StopLogging")).to_string();
    let good = [stop(1), stop(4)];
    let top_broken = stop(2).replacen("\"readOnly\":false", "\"readOnly\":fals", 1);
    let nested_broken = stop(3).replacen("\"userName\":\"mallory\"", "\"userName\":mallory", 1);
    assert_ne!(top_broken, stop(2));
    assert_ne!(nested_broken, stop(3));
    let text = format!(
        "{{\"Records\":[{},\n{top_broken},\n{nested_broken},\n{}]}}",
        good[0], good[1]
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.json");
    std::fs::write(&path, text).unwrap();
    let hunter = Hunter::new(&RuleSet::bundled());
    let m = hunter.scan(&[path], Window::all()).unwrap();
    let res = hunter.correlate(m);
    let mut places: Vec<(Option<u64>, Option<u64>)> =
        res.errors.iter().map(|e| (e.line, e.index)).collect();
    places.sort();
    // A record in a list is placed by its list's line and its index in the list.
    assert_eq!(
        places,
        [(Some(1), Some(1)), (Some(1), Some(2))],
        "{:?}",
        res.errors
    );
    for e in &res.errors {
        assert!(
            e.reason.starts_with("invalid CloudTrail record: expected"),
            "{e}"
        );
    }
    let stopped: Vec<&Detection> = res
        .detections
        .iter()
        .filter(|d| d.events.iter().any(|e| e.ends_with("000000000001")))
        .collect();
    assert!(!stopped.is_empty(), "{:?}", res.detections);
    for d in &res.detections {
        let mut ids: Vec<&str> = d.events.iter().map(|e| &e[e.len() - 1..]).collect();
        ids.sort();
        assert!(
            ids.iter().all(|i| *i == "1" || *i == "4"),
            "{}: {:?}",
            d.title,
            d.events
        );
    }
}

/// A detection's targets come from the entity model for its own first events in a file: one
/// principal's flood of matches (2 100 PutBucketLogging calls, each on its own bucket) does not
/// use them up for another principal's detection of the same rule, and the flood's detection
/// names the buckets of its first 32 events of the file only.
#[test]
fn a_busy_principal_leaves_the_others_their_targets() {
    let put = |n: usize, user: &str, bucket: &str| {
        let mut e = event(
            n,
            n as i64,
            &with(
                call("s3", "PutBucketLogging"),
                &[("requestParameters.bucketName", json!(bucket))],
            ),
        );
        e["userIdentity"]["arn"] = json!(format!("arn:aws:iam::111122223333:user/{user}"));
        e["userIdentity"]["userName"] = json!(user);
        e
    };
    let mut events: Vec<Value> = (0..2_100)
        .map(|i| put(i, "busy", &format!("busy-bucket-{i}")))
        .collect();
    events.push(put(2_100, "quiet", "quiet-bucket"));
    let ds = detections(&events);
    let of = |user: &str| {
        ds.iter()
            .find(|d| {
                d.title == "AWS S3 Data Management Tampering"
                    && d.group == [format!("principal=arn:aws:iam::111122223333:user/{user}")]
            })
            .unwrap_or_else(|| {
                panic!(
                    "{user}: {:?}",
                    ds.iter().map(|d| &d.group).collect::<Vec<_>>()
                )
            })
    };
    let buckets = |d: &Detection| {
        d.entities
            .iter()
            .filter(|e| e.to_string().starts_with("bucket:"))
            .count()
    };
    let quiet = of("quiet");
    assert!(
        quiet
            .entities
            .iter()
            .any(|e| e.to_string() == "bucket:quiet-bucket"),
        "{:?}",
        quiet.entities
    );
    let busy = of("busy");
    assert_eq!(busy.events.len(), 2_100);
    assert_eq!(buckets(busy), 32, "{:?}", busy.entities);
}
