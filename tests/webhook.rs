//! The webhook notifier over real HTTP: a tiny listener on 127.0.0.1 started here receives what
//! `vigil act notify --webhook URL` POSTs.

use assert_cmd::Command;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread::JoinHandle;

/// Accepts one connection, reads one request (headers and Content-Length body), answers `status`.
fn listener(status: &str) -> (String, JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let status = status.to_string();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len: usize = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break;
                }
            }
        }
        s.write_all(
            format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .as_bytes(),
        )
        .unwrap();
        String::from_utf8(buf).unwrap()
    });
    (
        format!("http://127.0.0.1:{port}/services/T000/B000/SECRETTOKEN"),
        h,
    )
}

fn finding() -> vigil::model::Finding {
    let sc = vigil::demo::Scenario::load("log4shell-c2").unwrap();
    sc.all_findings()
        .into_iter()
        .find(|f| f.finding_type.contains("C&CActivity"))
        .unwrap()
}

#[test]
fn notify_posts_slack_json_to_the_webhook() {
    let (url, server) = listener("200 OK");
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let f = finding();
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(["act", "notify", &f.id, "--demo", "log4shell-c2", "--yes"])
        .args(["--webhook", &url, "--format", "json", "--audit-log"])
        .arg(&audit)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let req = server.join().unwrap();
    let (head, body) = req.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("POST /services/T000/B000/SECRETTOKEN HTTP/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains("Content-Type: application/json"), "{head}");
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(text.contains("Backdoor:EC2/C&CActivity.B"), "{text}");
    assert!(text.contains("Case: "), "{text}");
    assert!(
        text.contains("Open in vigil: vigil demo log4shell-c2"),
        "{text}"
    );
    assert_eq!(v["content"], v["text"], "Discord reads `content`");
    // The report names both notifications; the audit log never holds the URL's secret path.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let apis: Vec<&str> = report["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["api"].as_str().unwrap())
        .collect();
    assert_eq!(apis, ["webhook:Post", "sns:Publish"]);
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("webhook:Post"), "{log}");
    assert!(log.contains("127.0.0.1"), "{log}");
    assert!(
        !log.contains("SECRETTOKEN"),
        "the webhook URL is a secret: {log}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("SECRETTOKEN"));
}

#[test]
fn a_failing_webhook_is_reported_and_audited() {
    let (url, server) = listener("500 Internal Server Error");
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let f = finding();
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(["act", "notify", &f.id, "--demo", "log4shell-c2", "--yes"])
        .args(["--webhook", &url, "--audit-log"])
        .arg(&audit)
        .output()
        .unwrap();
    server.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("HTTP500"), "{stdout}");
    assert!(!stdout.contains("SECRETTOKEN"), "{stdout}");
    let records = vigil::actions::audit::read(&audit).unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.kind == "result" && r.outcome.as_deref() == Some("error"))
    );
}

#[test]
fn an_unreachable_webhook_names_the_host_not_the_secret() {
    // Bind and drop: nothing listens on the port any more.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = vigil::actions::webhook::WebhookUrl::parse(&format!(
        "http://127.0.0.1:{port}/hook/SECRETTOKEN"
    ))
    .unwrap();
    let e = vigil::actions::webhook::post(&url, "hello").unwrap_err();
    assert_eq!(e.code, "vigil.WebhookUnreachable");
    assert!(e.message.contains("127.0.0.1"), "{e}");
    assert!(!e.plain().contains("SECRETTOKEN"), "{e}");
}
