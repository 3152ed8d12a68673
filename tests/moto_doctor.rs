//! `vigil doctor` against moto's server through the real SDK: with every permission it says who
//! and how, that the detector administers a member account, that LookupEvents and Detective
//! answer and the responder's DryRun calls are allowed; under moto's IAM enforcement, as a user
//! whose policy lacks some of vigil's actions, it names the missing permissions and the policy
//! that grants them. Exit 0 either way.

use crate::moto_support::*;
use assert_cmd::Command;

fn doctor(url: &str, env: &[(&str, &str)], format: &str) -> String {
    let mut cmd = Command::cargo_bin("vigil").unwrap();
    cmd.args([
        "doctor",
        "--region",
        "us-east-1",
        "--endpoint-url",
        url,
        "--format",
        format,
    ])
    .env("AWS_MAX_ATTEMPTS", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "doctor exits 0 when it ran: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn setup(url: &str) {
    detector_with_member(url, "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = sdk_config(&rt, url, "us-east-1");
    let dt = aws_sdk_detective::Client::new(&conf);
    rt.block_on(dt.create_graph().send()).unwrap();
}

#[test]
fn doctor_says_what_the_identity_can_do() {
    let (_m, url) = moto();
    setup(&url);
    // moto's default identity has no IAM user behind it: a real user with vigil's responder
    // policy, so the simulation has a principal to read.
    let s = sdk(&url);
    let policy = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/iam/vigil-responder.json"),
    )
    .unwrap();
    let (id, secret) = user_with_policy(&s, "responder", &policy);
    let env = [
        ("AWS_ACCESS_KEY_ID", id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];
    let table = doctor(&url, &env, "table");
    assert!(
        table.contains("arn:aws:iam::123456789012:user/responder (123456789012)"),
        "{table}"
    );
    assert!(table.contains("✓ credentials"), "{table}");
    assert!(
        table.contains("from environment variables; they do not expire"),
        "{table}"
    );
    assert!(
        table.contains("administrator of 1 member account(s)"),
        "{table}"
    );
    assert!(table.contains("✓ CloudTrail LookupEvents"), "{table}");
    assert!(
        table.contains("✓ Detective                graph arn:aws:detective:us-east-1"),
        "{table}"
    );
    assert!(table.contains("✓ EC2 responder (DryRun)"), "{table}");
    assert!(table.contains("✓ IAM simulation"), "{table}");
    assert!(!table.contains('✗'), "{table}");

    let json: serde_json::Value = serde_json::from_str(&doctor(&url, &env, "json")).unwrap();
    let checks = json[0]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 7, "{json}");
    assert!(checks.iter().all(|c| c["outcome"] == "pass"), "{json}");
}

/// Under IAM enforcement, a user allowed to read but not to act: the EC2 DryRun calls and the
/// simulation name what is missing, and the policy that grants it.
#[test]
fn doctor_names_a_missing_permission() {
    let (g, url) = moto();
    setup(&url);
    let s = sdk(&url);
    let readonly = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/iam/vigil-readonly.json"),
    )
    .unwrap();
    let (id, secret) = user_with_policy(&s, "reader", &readonly);
    let _enforced = Enforced::on(g.port);
    let env = [
        ("AWS_ACCESS_KEY_ID", id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];
    let table = doctor(&url, &env, "table");
    assert!(table.contains("✓ credentials"), "{table}");
    assert!(table.contains("✗ EC2 responder (DryRun)"), "{table}");
    assert!(
        table.contains("missing: ec2:CreateSecurityGroup, ec2:ModifyNetworkInterfaceAttribute, ec2:CreateSnapshots, ec2:CreateTags (granted by docs/iam/vigil-responder.json)"),
        "{table}"
    );
    assert!(table.contains("✗ IAM simulation"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&doctor(&url, &env, "json")).unwrap();
    let sim = json[0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "IAM simulation")
        .unwrap()
        .clone();
    let missing: Vec<&str> = sim["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(missing.contains(&"ec2:CreateSnapshots"), "{sim}");
    assert!(missing.contains(&"guardduty:ArchiveFindings"), "{sim}");
    assert!(
        !missing.contains(&"ec2:DescribeInstances"),
        "a read is allowed: {sim}"
    );
    assert_eq!(sim["policy"], "docs/iam/vigil-responder.json");
}

/// No credentials: the first row says so with the fix, the rest are skipped, exit 0.
#[test]
fn doctor_without_credentials_still_reports() {
    let (_m, url) = moto();
    let mut cmd = Command::cargo_bin("vigil").unwrap();
    let out = cmd
        .args(["doctor", "--region", "us-east-1", "--endpoint-url", &url])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("✗ credentials"), "{table}");
    assert!(table.contains("– GuardDuty read"), "{table}");
}
