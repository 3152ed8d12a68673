//! Hostile input through the real binary: control characters in every field an attacker writes
//! reach no output raw, impossible times are refused, and a flood of malformed lines is reported
//! as the first few of each kind with counts.

use assert_cmd::Command;
use std::path::Path;
use vigil::model::text::has_raw_control;

fn vigil() -> Command {
    Command::cargo_bin("vigil").unwrap()
}

/// ESC[2J (clear screen), BEL, BS, NUL, CSI as one C1 character, DEL: C0 written as JSON escapes,
/// DEL and C1 as raw characters (valid JSON either way).
const NASTY: &str = "\\u001b[2J\\u0007\\b\\u0000\u{9b}31m\u{7f}";

fn nasty_inputs(dir: &Path) {
    let finding = format!(
        r#"{{"schemaVersion":"2.0","id":"f{NASTY}1","type":"Recon:EC2/Port{NASTY}Probe","severity":8,"title":"Title {NASTY} here","accountId":"123456789012","region":"us-east-1","createdAt":"2024-05-01T12:00:00Z","updatedAt":"2024-05-01T12:00:00Z","resource":{{"resourceType":"Instance","instanceDetails":{{"instanceId":"i-0123456789abcdef0"}}}},"service":{{"action":{{"actionType":"DNS_REQUEST","dnsRequestAction":{{"domain":"evil{NASTY}.example.com"}}}},"eventFirstSeen":"2024-05-01T11:00:00Z","eventLastSeen":"2024-05-01T12:00:00Z","count":1}}}}"#
    );
    std::fs::write(dir.join("findings.jsonl"), format!("{finding}\n")).unwrap();
    let event = format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-05-01T11:30:00Z","eventSource":"s3{NASTY}.amazonaws.com","eventName":"Get{NASTY}Object","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"curl{NASTY}/8","errorCode":"Denied{NASTY}","eventID":"e{NASTY}1","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/mallory{NASTY}","accountId":"123456789012","userName":"mallory{NASTY}","accessKeyId":"AKIAEXAMPLE{NASTY}"}},"requestParameters":{{"bucketName":"bucket{NASTY}"}}}}"#
    );
    let bridge = format!(r#"{{"detail-type":"Weird{NASTY}","detail":{{}}}}"#);
    std::fs::write(dir.join("trail.jsonl"), format!("{event}\n{bridge}\n")).unwrap();
    let dns = format!(
        r#"{{"version":"1.100000","query_timestamp":"2024-05-01T11:40:00Z","query_name":"c2{NASTY}.example.net.","query_type":"A","srcaddr":"10.0.0.5","srcids":{{"instance":"i-0123456789abcdef0"}},"rcode":"NOERROR","answers":[]}}"#
    );
    std::fs::write(dir.join("dns.jsonl"), format!("{dns}\n")).unwrap();
    // A file name inside a directory is input text too.
    std::fs::write(dir.join("bad\u{1b}[2J\u{7}\u{9b}.jsonl"), "{broken\n").unwrap();
}

fn run(dir: &Path, args: &[&str]) -> (String, String) {
    let out = vigil().args(args).current_dir(dir).output().unwrap();
    assert!(
        out.status.code() == Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !has_raw_control(&out.stdout),
        "{args:?}: raw control on stdout:\n{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !has_raw_control(&out.stderr),
        "{args:?}: raw control on stderr:\n{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn no_output_format_passes_a_control_character_through() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    nasty_inputs(dir);
    let all = ["--findings", "."];
    // Text outputs show the controls escaped; JSON as \u escapes. Each check below also proves
    // that the hostile field did reach the output (escaped), so the test cannot pass by losing it.
    let (md, err) = run(
        dir,
        &[&["analyze"][..], &all, &["--format", "markdown"]].concat(),
    );
    assert!(
        md.contains("Title \\x1b[2J\\x07\\x08\\x00\\u{9b}31m\\x7f here"),
        "{md}"
    );
    assert!(md.contains("Recon:EC2/Port\\x1b[2J"), "{md}");
    assert!(md.contains("bad\\x1b[2J\\x07\\u{9b}.jsonl:1"), "{md}");
    assert!(err.contains("bad\\x1b[2J\\x07\\u{9b}.jsonl:1"), "{err}");
    assert!(err.contains("detail-type `Weird\\x1b[2J"), "{err}");

    let (json, _) = run(
        dir,
        &[&["analyze"][..], &all, &["--format", "json"]].concat(),
    );
    assert!(
        json.contains("Title \\u001b[2J\\u0007\\b\\u0000\\u009b31m\\u007f here"),
        "{json}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v["findings"][0]["title"], "Title \u{1b}[2J\u{7}\u{8}\0\u{9b}31m\u{7f} here",
        "JSON keeps the exact text, escaped"
    );
    assert!(v["entities"].as_array().unwrap().iter().any(|e| {
        e["id"]
            .as_str()
            .is_some_and(|s| s.starts_with("ua:curl\u{1b}"))
    }));

    let pivot = ["pivot", "ip:203.0.113.7", "--trail", "."];
    let (table, _) = run(dir, &[&pivot[..], &["--format", "table"]].concat());
    assert!(
        table.contains("Get\\x1b[2J\\x07\\x08\\x00\\u{9b}31m\\x7fObject"),
        "{table}"
    );
    assert!(table.contains("mallory\\x1b"), "{table}");
    assert!(table.contains("1 event(s)"), "{table}");
    let (jsonl, _) = run(dir, &[&pivot[..], &["--format", "jsonl"]].concat());
    assert!(jsonl.contains("\\u009b31m\\u007f"), "{jsonl}");
    let rec: serde_json::Value = serde_json::from_str(jsonl.trim()).unwrap();
    assert_eq!(
        rec["userAgent"],
        "curl\u{1b}[2J\u{7}\u{8}\0\u{9b}31m\u{7f}/8"
    );

    let graph = ["graph", "instance:i-0123456789abcdef0", "--depth", "2"];
    let (dot, _) = run(dir, &[&graph[..], &all, &["--format", "dot"]].concat());
    assert!(dot.contains("evil\\\\x1b[2j"), "{dot}");
    let (mermaid, _) = run(dir, &[&graph[..], &all, &["--format", "mermaid"]].concat());
    assert!(mermaid.contains("evil\\x1b[2j"), "{mermaid}");
    let (gj, _) = run(dir, &[&graph[..], &all, &["--format", "json"]].concat());
    assert!(gj.contains("\\u009b31m"), "{gj}");
    let ip = ["graph", "ip:203.0.113.7", "--depth", "1"];
    let (dot, _) = run(dir, &[&ip[..], &all, &["--format", "dot"]].concat());
    assert!(dot.contains("user/mallory\\\\x1b[2J\\\\x07"), "{dot}");
}

#[test]
fn usage_errors_escape_what_they_quote() {
    let tmp = tempfile::tempdir().unwrap();
    let out = vigil()
        .args(["pivot", "user:mallory\u{1b}[2J\u{9b}", "--trail", "."])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(!has_raw_control(&out.stderr));
    let missing = vigil()
        .args(["analyze", "--findings", "gone\u{1b}[2J\u{7}"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!has_raw_control(&missing.stderr), "{err:?}");
    assert!(err.contains("gone\\x1b[2J\\x07"), "{err}");
}

#[test]
fn impossible_times_in_the_data_are_located_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = |t: &str, id: &str| {
        format!(
            r#"{{"eventTime":"{t}","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"203.0.113.7","eventID":"{id}"}}"#
        )
    };
    let lines = [
        ev("2024-05-01T11:30:00Z", "ok"),
        ev("2024-02-30T11:30:00Z", "feb30"),
        ev("2024-05-01T11:30:00+99:99", "offset"),
        ev("2024-05-01T24:00:00Z", "hour24"),
        ev("2024-05-01T11:60:00Z", "minute60"),
    ];
    std::fs::write(tmp.path().join("t.jsonl"), lines.join("\n")).unwrap();
    let finding = r#"{"schemaVersion":"2.0","id":"f1","type":"Recon:EC2/PortProbeUnprotectedPort","severity":2,"createdAt":"2023-02-29T00:00:00Z"}"#;
    std::fs::write(tmp.path().join("f.json"), finding).unwrap();
    let dns = r#"{"query_timestamp":"2024-13-01T00:00:00Z","query_name":"example.com."}"#;
    std::fs::write(tmp.path().join("d.json"), dns).unwrap();
    let out = vigil()
        .args(["analyze", "--findings", ".", "--format", "json"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<(String, u64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let find = |path: &str, line: u64| {
        errors
            .iter()
            .find(|(p, l, _)| p.ends_with(path) && *l == line)
            .map(|(_, _, r)| r.as_str())
            .unwrap_or_else(|| panic!("no error at {path}:{line} in {errors:?}"))
    };
    assert!(find("d.json", 1).contains("query_timestamp `2024-13-01T00:00:00Z`"));
    assert!(find("f.json", 1).contains("createdAt `2023-02-29T00:00:00Z` is not a real time"));
    assert!(find("f.json", 1).contains("2023-02 has 28 days"));
    assert!(find("t.jsonl", 2).contains("2024-02 has 29 days"));
    assert!(find("t.jsonl", 3).contains("offset 99:99"));
    assert!(find("t.jsonl", 4).contains("hour 24"));
    assert!(find("t.jsonl", 5).contains("minute 60"));
    assert_eq!(errors.len(), 6, "{errors:?}");
    assert!(v["findings"].as_array().unwrap().is_empty());
    let strict = vigil()
        .args(["analyze", "--findings", ".", "--strict"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
}

#[test]
fn impossible_times_on_the_command_line_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("t.json"),
        r#"{"eventTime":"2024-05-01T11:30:00Z","eventName":"X","eventID":"1","sourceIPAddress":"203.0.113.7"}"#,
    )
    .unwrap();
    for (flag, value, why) in [
        ("--from", "2024-02-30T00:00:00Z", "2024-02 has 29 days"),
        ("--to", "2024-05-01T12:00:00+99:99", "offset 99:99"),
        ("--from", "2024-05-01T24:00:00Z", "hour 24"),
        ("--to", "2024-05-01T23:60:00Z", "minute 60"),
    ] {
        let out = vigil()
            .args(["pivot", "ip:203.0.113.7", "--trail", ".", flag, value])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with(&format!("vigil: {flag} {value}: ")),
            "{err}"
        );
        assert!(err.contains(why), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    let ok = vigil()
        .args([
            "pivot",
            "ip:203.0.113.7",
            "--trail",
            ".",
            "--from",
            "2024-02-29T00:00:00Z",
        ])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0));
}

#[test]
fn a_flood_of_malformed_lines_is_summarised() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 30_000;
    let mut text = String::with_capacity(n * 12);
    for i in 0..n {
        text.push_str(&format!("{{broken {i}\n"));
    }
    text.push_str(r#"{"eventTime":"2024-05-01T11:30:00Z","eventName":"X","eventID":"1","sourceIPAddress":"203.0.113.7"}"#);
    text.push('\n');
    std::fs::write(tmp.path().join("flood.jsonl"), &text).unwrap();
    let analyze = |extra: &[&str]| {
        vigil()
            .args([&["analyze", "--trail", "flood.jsonl"][..], extra].concat())
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    let out = analyze(&["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "exit status rules stay");
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 5 + 1 + 1, "{err}");
    assert!(
        lines[..5].iter().all(|l| l.contains("flood.jsonl:")),
        "{err}"
    );
    assert_eq!(
        lines[5],
        "vigil: … and 29,995 more like this in flood.jsonl (invalid JSON)"
    );
    assert_eq!(
        lines[6],
        "vigil: 30000 record(s) or file(s) could not be read (--verbose lists every one)"
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.contains("## Input errors (30000)"), "{md}");
    assert!(md.contains("- … and 29,995 more like this in flood.jsonl (invalid JSON)"));
    assert_eq!(md.matches("flood.jsonl:").count(), 5);
    assert!(
        md.contains("1 CloudTrail events"),
        "the good record is kept"
    );

    let json = analyze(&["--format", "json", "--strict"]);
    assert_eq!(json.status.code(), Some(2), "--strict still fails");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 5);
    assert_eq!(
        v["error_counts"],
        serde_json::json!([{"path": "flood.jsonl", "kind": "invalid JSON", "count": 30000, "shown": 5}])
    );

    let verbose = analyze(&["--format", "json", "--verbose"]);
    let v: serde_json::Value = serde_json::from_slice(&verbose.stdout).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), n);
    assert_eq!(
        String::from_utf8_lossy(&verbose.stderr).lines().count(),
        n + 1
    );
}

#[test]
fn flow_log_times_beyond_any_instant_are_bad_values() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("flows.log");
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    let line = |start: &str| {
        format!(
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 {start} 1418530070 ACCEPT OK"
        )
    };
    let text = [
        header.to_string(),
        line("1418530010"),
        line("9999999999999999"),
        line("-9223372036854775808"),
    ]
    .join("\n");
    std::fs::write(&path, text).unwrap();
    // Multiplying these into milliseconds overflowed: a panic in a debug build.
    let l = vigil::ingest::load(&[path]).unwrap();
    assert_eq!(l.flows.len(), 1);
    let lines: Vec<Option<u64>> = l.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![Some(3), Some(4)], "{:?}", l.errors);
    assert!(
        l.errors[0]
            .reason
            .contains("`start` has an invalid value `9999999999999999`")
    );
}

/// The console's loader reports a file's errors once, when the whole file is read, even though
/// a big file reaches it in several parts: one report per file, with every error counted.
#[test]
fn the_console_loader_reports_a_flooded_file_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let bad: String = (0..10_000)
        .map(|i| format!("{{\"broken\": {i}\n"))
        .collect();
    std::fs::write(dir.path().join("flood.jsonl"), bad).expect("write");
    std::fs::write(dir.path().join("few.jsonl"), "{\"x\"\n{\"y\"\n").expect("write");
    let (tx, mut rx) = tokio::sync::mpsc::channel(100_000);
    vigil::console::load_files(
        &vigil::console::Bus::new(tx),
        vigil::console::FileSources {
            findings: Vec::new(),
            evidence: vec![dir.path().to_path_buf()],
            s3: Vec::new(),
            hunt: None,
        },
    );
    let mut reports = Vec::new();
    while let Ok(env) = rx.try_recv() {
        if let vigil::app::Msg::LoadErrors { count, .. } = env.msg {
            reports.push(count);
        }
    }
    reports.sort_unstable();
    assert_eq!(reports, [2, 10_000]);
}
