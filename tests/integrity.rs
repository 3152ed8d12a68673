//! CloudTrail digest files: recognised and counted apart from events, and used to check the log
//! files they list (tests/fixtures/digest: two chained digests, one tampered log file, one
//! missing, one in no digest; see its make.py).

use crate::tui_support;

use assert_cmd::Command;
use ratatui::style::Color;
use serde_json::Value;
use std::path::{Path, PathBuf};
use vigil::app::{Keymap, Msg, Options, State, update};
use vigil::console::{Bus, FileSources, load_files};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/digest");
const BUCKET: &str = "amzn-s3-demo-bucket";
const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17";
const DIGESTS: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17";
const TAMPERED: &str = "111122223333_CloudTrail_us-east-2_20150817T1450Z_xT2mYpA9c0QeR4sL.json.gz";

fn vigil() -> Command {
    Command::cargo_bin("vigil").expect("binary")
}

fn bucket() -> PathBuf {
    Path::new(FIX).join(BUCKET)
}

fn analyze(trail: &Path, extra: &[&str]) -> std::process::Output {
    vigil()
        .args(["analyze", "--trail"])
        .arg(trail)
        .args(extra)
        .current_dir(FIX)
        .output()
        .expect("run")
}

/// A copy of the fixture bucket without the named files (relative to the bucket).
fn copy_without(skip: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for f in vigil::ingest::source::expand(&[bucket()]).expect("ls") {
        let rel = f.strip_prefix(bucket()).expect("under bucket");
        if skip.iter().any(|s| rel == Path::new(s)) {
            continue;
        }
        let to = dir.path().join(BUCKET).join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&f, &to).expect("copy");
    }
    dir
}

#[test]
fn digests_load_apart_from_events_and_are_not_errors() {
    let l = vigil::ingest::load(&[bucket()]).expect("load");
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(l.digests.len(), 2);
    // 1 + 2 + 1 (the tampered file kept one of its two) + 1; the missing file had 1.
    assert_eq!(l.events.len(), 5);
    assert_eq!(l.trail_files.len(), 4);
    let chained = l
        .digests
        .iter()
        .find(|d| d.previous.is_some())
        .expect("a chained digest");
    assert_eq!(chained.log_files.len(), 3);
    assert!(l.digests.iter().any(|d| d.previous.is_none()));
}

#[test]
fn analyze_json_reports_ok_tampered_missing_and_uncovered() {
    let out = analyze(Path::new(BUCKET), &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(0));
    let t = &v["integrity"]["totals"];
    let n = |k: &str| t[k].as_u64().unwrap_or(u64::MAX);
    assert_eq!(
        [
            n("digests"),
            n("listed"),
            n("ok"),
            n("tampered"),
            n("missing"),
            n("uncovered")
        ],
        [2, 4, 2, 1, 1, 1],
        "{t}"
    );
    assert_eq!(
        [n("chain_ok"), n("chain_start"), n("chain_mismatch")],
        [1, 1, 0]
    );

    let digests = v["integrity"]["digests"].as_array().expect("digests");
    let first = &digests[0];
    assert_eq!(first["previous"], "start");
    assert_eq!(first["totals"]["ok"], 1);
    let second = &digests[1];
    assert_eq!(second["previous"], "ok");
    let statuses: Vec<&str> = second["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["status"].as_str())
        .collect();
    assert_eq!(statuses, ["ok", "tampered", "missing"]);
    let bad = &second["files"][1];
    assert!(
        bad["s3_object"]
            .as_str()
            .is_some_and(|k| k.ends_with(TAMPERED))
    );
    assert_ne!(bad["actual"], bad["expected"]);
    let uncovered = v["integrity"]["uncovered"].as_array().expect("uncovered");
    assert_eq!(uncovered.len(), 1);
    assert!(
        uncovered[0]
            .as_str()
            .is_some_and(|p| p.contains("20150817T1505Z"))
    );
}

#[test]
fn analyze_markdown_has_an_integrity_section() {
    let out = analyze(Path::new(BUCKET), &["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let md = String::from_utf8(out.stdout).expect("utf-8");
    // Digests are not events: the summary counts the 5 records of the 4 log files only.
    assert!(md.contains("5 CloudTrail events"), "{md}");
    let section = md
        .split_once("\n## Log file integrity")
        .map(|(_, s)| format!("## Log file integrity{s}"))
        .expect("section");
    insta::assert_snapshot!("integrity_markdown", section);
}

#[test]
fn no_digests_no_integrity_report() {
    let dir = copy_without(&[
        &format!(
            "{DIGESTS}/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz"
        ),
        &format!(
            "{DIGESTS}/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz"
        ),
    ]);
    let out = analyze(&dir.path().join(BUCKET), &["--format", "json", "--strict"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v.get("integrity").is_none(), "{v}");
}

#[test]
fn strict_fails_with_3_on_tampering_only() {
    // The fixture as delivered: one file was changed after delivery.
    let out = analyze(&bucket(), &["--format", "json", "--strict"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 log file(s) differ from their digest"),
        "{err}"
    );
    // Without --strict the report is the answer, not the exit status.
    assert_eq!(
        analyze(&bucket(), &["--format", "json"]).status.code(),
        Some(0)
    );

    // The tampered file deleted as well: two missing files, nothing proven altered.
    let dir = copy_without(&[&format!("{DAY}/{TAMPERED}")]);
    let out = analyze(&dir.path().join(BUCKET), &["--format", "json", "--strict"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["integrity"]["totals"]["missing"], 2);
    assert_eq!(v["integrity"]["totals"]["tampered"], 0);
}

#[test]
fn an_altered_digest_breaks_the_chain() {
    let dir = copy_without(&[]);
    let first = dir.path().join(BUCKET).join(format!(
        "{DIGESTS}/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz"
    ));
    // Rewritten (as plain JSON) with one field changed: the second digest's hash no longer agrees.
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&first).expect("open")),
        &mut text,
    )
    .expect("gunzip");
    std::fs::write(
        &first,
        text.replace("2015-08-17T13:01:31Z", "2015-08-17T13:01:32Z"),
    )
    .expect("write");
    let out = analyze(&dir.path().join(BUCKET), &["--format", "json", "--strict"]);
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["integrity"]["totals"]["chain_mismatch"], 1);
    assert_eq!(v["integrity"]["digests"][1]["previous"], "mismatch");
}

#[test]
fn pivot_over_a_bucket_with_digests_is_not_an_error() {
    let out = vigil()
        .args(["pivot", "ip:198.51.100.77", "--trail", BUCKET, "--strict"])
        .args(["--format", "jsonl"])
        .current_dir(FIX)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 5);
}

/// The loader's messages, applied to a console at 80×24 as the runtime would.
fn console_after_load(width: u16) -> (State, Option<vigil::integrity::Totals>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    load_files(
        &Bus::new(tx),
        FileSources {
            findings: Vec::new(),
            evidence: vec![bucket()],
            s3: Vec::new(),
            hunt: None,
        },
    );
    let mut s = State::new(Options::default(), Keymap::default_map().expect("keymap"));
    update(&mut s, Msg::Resize { width, height: 24 });
    let mut sent = None;
    while let Ok(env) = rx.try_recv() {
        if let Msg::Integrity(t) = &env.msg {
            sent = Some(*t);
        }
        update(&mut s, env.msg);
    }
    (s, sent)
}

#[test]
fn the_console_status_line_shows_integrity_from_state() {
    let (s, sent) = console_after_load(80);
    let t = sent.expect("the loader sends the integrity check");
    assert_eq!((t.ok, t.tampered, t.missing), (2, 1, 1));
    assert_eq!(s.integrity, Some(t));

    let term = tui_support::draw(&s);
    let buf = term.backend().buffer();
    let last: String = (0..buf.area.width)
        .map(|x| buf[(x, buf.area.height - 1)].symbol().to_string())
        .collect();
    assert!(
        last.contains("integrity: 2 ok · 1 TAMPERED · 1 missing"),
        "{last:?}"
    );
    insta::assert_snapshot!("status_line_80", last);
    let at = last
        .chars()
        .collect::<Vec<_>>()
        .windows(8)
        .position(|w| w.iter().collect::<String>() == "TAMPERED")
        .expect("TAMPERED on the line");
    assert_eq!(buf[(at as u16, buf.area.height - 1)].fg, Color::Red);
}

#[test]
fn a_narrow_status_line_keeps_the_counts_and_drops_the_label() {
    let (s, _) = console_after_load(60);
    let text = tui_support::text(&s);
    let last = text.lines().last().unwrap_or_default();
    assert!(last.contains("2 ok · 1 TAMPERED · 1 missing"), "{last:?}");
    assert!(!last.contains("integrity:"), "{last:?}");
}
