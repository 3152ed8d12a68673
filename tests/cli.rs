//! Golden-output tests of the headless CLI (the contract later checks drive vigil through).

use assert_cmd::Command;
use serde_json::Value;

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/public");

fn vigil() -> Command {
    Command::cargo_bin("vigil").unwrap()
}

fn stdout(args: &[&str]) -> String {
    let out = vigil().args(args).current_dir(FIX).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pivot_jsonl_prints_original_records_in_order() {
    let out = stdout(&[
        "pivot",
        "ip:253.252.51.7",
        "--trail",
        "stratus-red-team",
        "--format",
        "jsonl",
    ]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 56 records carry this address, written with a leading zero (`253.252.51.07`).
    assert_eq!(lines.len(), 56);
    assert!(
        lines
            .iter()
            .all(|v| v["sourceIPAddress"] == "253.252.51.07")
    );
    let keys: Vec<(String, String)> = lines
        .iter()
        .map(|v| {
            (
                v["eventTime"].as_str().unwrap().to_string(),
                v["eventID"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "pivot order is (eventTime, eventID)");
}

/// An anonymous S3 request is logged as an `AWSAccount` caller whose account is `anonymous` (S3
/// today) or `ANONYMOUS_PRINCIPAL` (public trails of 2017-2020): one caller, one pivot, however
/// it is typed.
#[test]
fn the_anonymous_caller_is_one_entity_in_pivots() {
    let dir = tempfile::tempdir().unwrap();
    let record = |id: &str, account: &str, time: &str| {
        format!(
            r#"{{"eventVersion":"1.08","userIdentity":{{"type":"AWSAccount","principalId":"","accountId":"{account}"}},"eventTime":"{time}","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-west-2","sourceIPAddress":"192.0.2.1","requestParameters":{{"bucketName":"public-bucket","key":"k"}},"eventID":"{id}","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"123456789012","eventCategory":"Data"}}"#
        )
    };
    let text = format!(
        r#"{{"Records":[{},{},{}]}}"#,
        record("e-new", "anonymous", "2024-11-28T15:22:39Z"),
        record("e-old", "ANONYMOUS_PRINCIPAL", "2017-02-12T21:30:56Z"),
        record("e-acct", "111122223333", "2024-11-28T15:23:00Z"),
    );
    let file = dir.path().join("anon.json");
    std::fs::write(&file, text).unwrap();
    for typed in ["account:anonymous", "account:ANONYMOUS_PRINCIPAL"] {
        let out = stdout(&[
            "pivot",
            typed,
            "--trail",
            file.to_str().unwrap(),
            "--format",
            "jsonl",
        ]);
        let ids: Vec<String> = out
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["eventID"].to_string())
            .collect();
        assert_eq!(ids, [r#""e-old""#, r#""e-new""#], "{typed}");
    }
}

#[test]
fn pivot_window_and_table() {
    let out = stdout(&[
        "pivot",
        "ip:75.50.255.67",
        "--trail",
        "stratus-red-team",
        "--from",
        "2024-08-01T13:33:28Z",
        "--to",
        "2024-08-01T13:33:29Z",
        "--format",
        "table",
    ]);
    insta::assert_snapshot!("pivot_table_window", out);
}

#[test]
fn analyze_json_contract() {
    let out = stdout(&[
        "analyze",
        "--findings",
        "mozdef/guardduty_findings_reconstructed.jsonl",
        "aws-cli-examples/guardduty-get-findings-output.json",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    for key in [
        "findings",
        "entities",
        "edges",
        "groups",
        "errors",
        "error_counts",
    ] {
        assert!(v.get(key).is_some(), "{key}");
    }
    let f = &v["findings"][0];
    for key in [
        "id",
        "type",
        "severity",
        "severity_label",
        "title",
        "entities",
    ] {
        assert!(f.get(key).is_some(), "finding.{key}");
    }
    let sev: Vec<f64> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_f64().unwrap())
        .collect();
    assert!(sev.windows(2).all(|w| w[0] >= w[1]), "sorted by severity");
    let g = &v["groups"][0];
    for key in ["id", "severity", "findings", "entities"] {
        assert!(g.get(key).is_some(), "group.{key}");
    }
    let e = &v["edges"][0];
    for key in ["from", "to", "relation", "count"] {
        assert!(e.get(key).is_some(), "edge.{key}");
    }
    insta::assert_snapshot!(
        "analyze_mozdef_cli",
        serde_json::to_string_pretty(&v).unwrap()
    );
}

/// A folder given to several flags (findings and trail both) is read once: its events and
/// findings are not counted twice.
#[test]
fn a_folder_given_twice_is_read_once() {
    let dir = crate::case_folder::mixed();
    let d = dir.path().to_str().unwrap();
    // The summary line: "N findings in G groups; E CloudTrail events, …".
    let count = |args: &[&str]| -> (usize, usize) {
        let mut all = vec!["analyze"];
        all.extend_from_slice(args);
        let out = stdout(&all);
        let line = out
            .lines()
            .find(|l| l.contains("CloudTrail events"))
            .unwrap();
        let n = |before: &str| -> usize {
            let head = &line[..line.find(before).unwrap()];
            head.rsplit([' ', ';'])
                .find(|w| !w.is_empty())
                .unwrap()
                .parse()
                .unwrap()
        };
        (n(" findings"), n(" CloudTrail events"))
    };
    let once = count(&["--trail", d]);
    assert_eq!(once.0, 1);
    assert!(once.1 > 0);
    assert_eq!(count(&["--findings", d, "--trail", d]), once);
    assert_eq!(
        count(&["--trail", d, "--trail", &format!("{d}/trail.json")]),
        once
    );
}

/// `analyze` (which folds its inputs part by part) drops the Security Hub copy of a GuardDuty
/// finding it also reads directly, as `open` does: one finding, GuardDuty's own.
#[test]
fn analyze_counts_a_finding_seen_through_security_hub_once() {
    let hub = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/asff/get-findings-output.json"
    );
    let out = stdout(&[
        "analyze",
        "--findings",
        "aws-cli-examples/guardduty-get-findings-output.json",
        hub,
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&out).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "GuardDuty's finding and Inspector's: {ids:?}");
    let gd: Vec<&Value> = findings
        .iter()
        .filter(|f| f["id"] == "1ab92989eaf0e742df4a014d5example")
        .collect();
    assert_eq!(gd.len(), 1, "{ids:?}");
    // GuardDuty's own copy (its title names the CLI example's user, not the ASFF example's).
    assert!(
        gd[0]["title"].as_str().unwrap().contains("testuser"),
        "{}",
        gd[0]
    );
}

#[test]
fn analyze_markdown_summary() {
    let out = stdout(&[
        "analyze",
        "--findings",
        "mozdef/guardduty_findings_reconstructed.jsonl",
        "--format",
        "markdown",
    ]);
    insta::assert_snapshot!("analyze_mozdef_markdown", out);
}

#[test]
fn graph_exports() {
    let args = [
        "graph",
        "instance:i-0618726e20846a8dc",
        "--depth",
        "1",
        "--findings",
        "mozdef/guardduty_findings_reconstructed.jsonl",
        "--format",
    ];
    let dot = stdout(&[&args[..], &["dot"]].concat());
    assert!(dot.starts_with("digraph vigil {"));
    insta::assert_snapshot!("graph_dot", dot);
    let mermaid = stdout(&[&args[..], &["mermaid"]].concat());
    assert!(mermaid.starts_with("graph LR"));
    let json: Value = serde_json::from_str(&stdout(&[&args[..], &["json"]].concat())).unwrap();
    assert_eq!(json["center"], "instance:i-0618726e20846a8dc");
    assert!(json["nodes"].as_array().unwrap().len() > 1);
}

#[test]
fn malformed_records_exit_zero_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventName\":\"X\",\"eventID\":\"1\"}\n{broken\n",
    )
    .unwrap();
    let p = bad.to_str().unwrap();
    let out = vigil()
        .args(["analyze", "--trail", p, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.jsonl:2"), "{err}");
    let out = vigil()
        .args(["analyze", "--trail", p, "--format", "json", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = vigil()
        .args(["pivot", "ip:1.2.3.4", "--trail", p, "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_two_with_one_line() {
    for args in [
        vec!["pivot", "nonsense", "--trail", "stratus-red-team"],
        vec!["pivot", "ip:not-an-ip", "--trail", "stratus-red-team"],
        vec!["pivot", "ip:1.2.3.4", "--trail", "does-not-exist"],
        vec![
            "pivot",
            "ip:1.2.3.4",
            "--trail",
            "stratus-red-team",
            "--from",
            "yesterday",
        ],
        vec!["graph", "ip:1.2.3.4", "--findings", "mozdef"],
        vec!["analyze", "--format", "json"],
    ] {
        let out = vigil().args(&args).current_dir(FIX).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("vigil: "), "{err}");
    }
}

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/log4shell-c2");

#[test]
fn analyze_bundled_incident_markdown() {
    let out = vigil()
        .args([
            "analyze",
            "--findings",
            "findings",
            "--trail",
            "cloudtrail",
            "--flows",
            "flowlogs",
            "--dns",
            "dns",
            "--format",
            "markdown",
            "--strict",
        ])
        .current_dir(DEMO)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(
        "analyze_log4shell_markdown",
        String::from_utf8(out.stdout).unwrap()
    );
}

#[test]
fn pivot_bundled_incident_session() {
    let out = stdout(&[
        "pivot",
        "session:arn:aws:sts::483920174655:assumed-role/web-tier-role/i-0c0f89991ec24aa09",
        "--trail",
        &format!("{DEMO}/cloudtrail"),
        "--format",
        "table",
    ]);
    insta::assert_snapshot!("pivot_log4shell_session", out);
}

#[test]
fn headless_demo_streams_every_finding_in_order() {
    let out = stdout(&["demo", "--headless", "--speed", "1000000"]);
    let lines: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(lines.len(), 8, "{out}");
    let times: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    assert!(out.contains("Backdoor:EC2/C&CActivity.B"));
    let list = stdout(&["demo", "--list"]);
    assert!(list.contains("iam-credential-chain"));
    let bad = vigil()
        .args(["demo", "nope", "--headless"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn keymap_in_the_config_directory_is_used_and_checked_before_the_ui() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = cfg.path().join("vigil");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("keymap.toml"),
        "[findings]\n\"z\" = { cmd = \"nonsense\", desc = \"x\" }\n",
    )
    .unwrap();
    let out = vigil()
        .args(["demo"])
        .env("XDG_CONFIG_HOME", cfg.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("keymap.toml:2") && err.contains("nonsense"),
        "{err}"
    );
    // A valid one shows up in the active map.
    std::fs::write(
        dir.join("keymap.toml"),
        "[findings]\n\"z\" = { cmd = \"noop\", desc = \"unbound\" }\n",
    )
    .unwrap();
    let ok = vigil()
        .args(["keymap", "print", "--context", "findings"])
        .env("XDG_CONFIG_HOME", cfg.path())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn a_fifo_on_the_command_line_is_reported_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // The timeout turns a blocked read into a failure instead of a hung test.
    let out = vigil()
        .args(["analyze", "--format", "json", "--trail"])
        .arg(&fifo)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pipe.json: skipped: a FIFO"), "{err}");
}

#[test]
fn pivot_jsonl_refuses_records_nested_past_the_parser_limit() {
    let rec = |id: &str, extra: &str| {
        format!(
            r#"{{"eventID":"{id}","eventTime":"2024-05-01T10:00:00Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","sourceIPAddress":"203.0.113.9"{extra}}}"#
        )
    };
    let deep = format!(
        ",\"additionalEventData\":{}1{}",
        "{\"a\":".repeat(1000),
        "}".repeat(1000)
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deep.jsonl");
    std::fs::write(
        &file,
        format!("{}\n{}\n", rec("deep", &deep), rec("flat", "")),
    )
    .unwrap();
    let out = vigil()
        .args(["pivot", "ip:203.0.113.9", "--format", "jsonl", "--trail"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["eventID"], "flat");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("deep.jsonl:1: record nested more than 128"),
        "{err}"
    );
}
