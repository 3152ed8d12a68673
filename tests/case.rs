//! `vigil case export|verify` end to end: actions taken on a demo world (quarantine, block-ip)
//! into an audit log, the case exported with the scenario's evidence, the bundle verified, then
//! tampered with in each way the check must catch.

use assert_cmd::Command;
use std::path::Path;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/log4shell-c2");
const INSTANCE: &str = "i-0c0f89991ec24aa09";

fn vigil(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_case_bundle_is_exported_verified_and_tampering_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let audit = audit.to_str().unwrap();
    for act in [
        vec!["act", "quarantine", INSTANCE],
        vec!["act", "block-ip", "203.0.113.45", "--instance", INSTANCE],
    ] {
        let args = [
            &act[..],
            &[
                "--demo",
                "log4shell-c2",
                "--case",
                "IR-42",
                "--yes",
                "--audit-log",
                audit,
            ],
        ]
        .concat();
        let (code, _, err) = vigil(&args);
        assert_eq!(code, 0, "{err}");
    }
    // Another case's action stays out of this bundle.
    let (code, _, _) = vigil(&[
        "act",
        "snapshot",
        "i-0ec577b5a8c8a478f",
        "--demo",
        "log4shell-c2",
        "--case",
        "IR-7",
        "--yes",
        "--audit-log",
        audit,
    ]);
    assert_eq!(code, 0);

    let bundle = dir.path().join("bundle");
    let b = bundle.to_str().unwrap();
    let (code, out, err) = vigil(&[
        "case",
        "export",
        "IR-42",
        "--out",
        b,
        "--audit-log",
        audit,
        "--findings",
        &format!("{SCENARIO}/findings"),
        "--trail",
        &format!("{SCENARIO}/cloudtrail"),
        "--flows",
        &format!("{SCENARIO}/flowlogs"),
        "--dns",
        &format!("{SCENARIO}/dns"),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let digest = out
        .split_whitespace()
        .skip_while(|w| *w != "sha256")
        .nth(1)
        .unwrap()
        .to_string();
    assert_eq!(digest.len(), 64, "{out}");

    let actions: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(bundle.join("actions/actions.json")).unwrap(),
    )
    .unwrap();
    let verbs: Vec<&str> = actions
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(verbs, ["quarantine", "block-ip"]);
    let audit_lines = lines(&bundle.join("actions/audit.jsonl"));
    assert!(audit_lines.iter().all(|r| r["case"] == "IR-42"));
    assert!(
        audit_lines
            .iter()
            .any(|r| r["api"] == "ec2:CreateNetworkAclEntry")
    );
    // The findings about the instance, and CloudTrail events naming the case's entities.
    let findings = lines(&bundle.join("findings.jsonl"));
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f.to_string().contains(INSTANCE) || f.to_string().contains("203.0.113.45")),
    );
    let events = lines(&bundle.join("cloudtrail.jsonl"));
    assert!(!events.is_empty());
    let ids: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), events.len(), "each event once");
    assert!(
        bundle
            .join("graph")
            .read_dir()
            .unwrap()
            .any(|f| { f.unwrap().file_name().to_string_lossy().contains(INSTANCE) })
    );

    let (code, out, _) = vigil(&["case", "verify", b, "--manifest-sha256", &digest]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("all as the manifest says"), "{out}");

    // A changed file, a removed one, an added one: each named, exit 3.
    let f = bundle.join("findings.jsonl");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(&f, text.replacen("HIGH", "LOW ", 1).replacen('7', "3", 1)).unwrap();
    std::fs::remove_file(bundle.join("actions/actions.json")).unwrap();
    std::fs::write(bundle.join("note.txt"), "planted").unwrap();
    let (code, out, _) = vigil(&["case", "verify", b]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("CHANGED findings.jsonl"), "{out}");
    assert!(out.contains("MISSING actions/actions.json"), "{out}");
    assert!(out.contains("EXTRA   note.txt"), "{out}");

    // The manifest rewritten to match: only the recorded digest tells.
    let m = bundle.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    manifest["case"] = "IR-43".into();
    std::fs::write(&m, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let (code, out, _) = vigil(&["case", "verify", b, "--manifest-sha256", &digest]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("MANIFEST changed"), "{out}");

    // An existing bundle is not overwritten; an unknown case is said.
    let (code, _, err) = vigil(&["case", "export", "IR-42", "--out", b, "--audit-log", audit]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not empty"), "{err}");
    let other = dir.path().join("none");
    let (code, _, err) = vigil(&[
        "case",
        "export",
        "IR-999",
        "--out",
        other.to_str().unwrap(),
        "--audit-log",
        audit,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no audit record of case IR-999"), "{err}");
}
