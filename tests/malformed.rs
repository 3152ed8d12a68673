//! Bad input gets a clear, located error and loses nothing: each broken file sits beside good
//! records, nothing panics, and the good records still load.

use std::io::Write;
use std::path::PathBuf;
use vigil::ingest;

const GOOD: &str = r#"{"eventVersion":"1.08","eventID":"good","eventTime":"2024-05-01T10:00:00Z","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","sourceIPAddress":"203.0.113.9"}"#;

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn load_one(name: &str, bytes: &[u8]) -> ingest::Loaded {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    std::fs::write(dir.path().join("zz-good.json"), GOOD).unwrap();
    let l = ingest::load(&[dir.path().to_path_buf()]).unwrap();
    assert!(
        l.events.iter().any(|e| e.event_id == "good"),
        "{name}: the good file still loads"
    );
    assert!(!l.errors.is_empty(), "{name}: an error is reported");
    for e in &l.errors {
        assert!(e.path.ends_with(name), "{name}: error names the file: {e}");
        assert!(!e.reason.is_empty());
    }
    l
}

#[test]
fn truncated_gzip_keeps_what_was_decoded() {
    let lines: String = (0..2000)
        .map(|i| GOOD.replace("\"good\"", &format!("\"r{i}\"")) + "\n")
        .collect();
    let full = gz(lines.as_bytes());
    let cut = &full[..full.len() * 2 / 3];
    let l = load_one("cut.json.gz", cut);
    let loaded = l
        .events
        .iter()
        .filter(|e| e.event_id.starts_with('r'))
        .count();
    assert!(
        loaded > 100 && loaded < 2000,
        "records before the cut load: {loaded}"
    );
    assert!(
        l.errors
            .iter()
            .any(|e| e.reason.contains("gzip") || e.reason.contains("truncated")),
        "{:?}",
        l.errors
    );
}

#[test]
fn truncated_json_in_jsonl_costs_one_line() {
    let text = format!(
        "{GOOD}\n{}\n{}\n",
        &GOOD[..60],
        GOOD.replace("good", "third")
    );
    let l = load_one("lines.jsonl", text.as_bytes());
    assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
    assert_eq!(l.errors[0].line, Some(2));
    assert!(l.events.iter().any(|e| e.event_id == "third"));
}

#[test]
fn truncated_document_reports_the_end() {
    let text = format!(r#"{{"Records":[{GOOD},{GOOD}"#);
    let l = load_one("records.json", text.as_bytes());
    assert_eq!(l.errors.len(), 1);
    assert!(l.errors[0].reason.contains("truncated"), "{}", l.errors[0]);
}

#[test]
fn wrong_types_are_located_per_record() {
    let bad_time = GOOD
        .replace("\"2024-05-01T10:00:00Z\"", "{\"not\":\"a time\"}")
        .replace("good", "badtime");
    let bad_name = GOOD
        .replace("\"ListBuckets\"", "[1,2]")
        .replace("good", "badname");
    let ok = GOOD.replace("good", "fine");
    let text = format!(r#"{{"Records":[{ok},{bad_time},{bad_name}]}}"#);
    let l = load_one("types.json", text.as_bytes());
    assert!(l.events.iter().any(|e| e.event_id == "fine"));
    let idx: Vec<Option<u64>> = l.errors.iter().map(|e| e.index).collect();
    assert_eq!(idx, vec![Some(1), Some(2)], "{:?}", l.errors);
    let findings = r#"[{"id":"x","type":"T","severity":{"high":true},"service":"nope"}]"#;
    let l = load_one("finding-types.json", findings.as_bytes());
    assert_eq!(l.errors.len(), 1);
    assert!(l.errors[0].reason.contains("GuardDuty"), "{}", l.errors[0]);
}

#[test]
fn huge_line_is_one_error() {
    let mut text = String::from("{\"eventTime\":\"");
    text.push_str(&"x".repeat(20 << 20));
    text.push_str("\"}\n");
    text.push_str(&GOOD.replace("good", "after"));
    let l = load_one("huge.jsonl", text.as_bytes());
    assert_eq!(
        l.errors.len(),
        1,
        "{:?}",
        l.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    assert!(l.events.iter().any(|e| e.event_id == "after"));
}

#[test]
fn empty_file_and_whitespace_only() {
    let l = load_one("empty.json", b"");
    assert!(l.errors[0].reason.contains("empty"));
    let l = load_one("blank.json", b"\n\n  \n");
    assert!(l.errors[0].reason.contains("empty"));
    assert_eq!(l.errors[0].line, None);
}

#[test]
fn binary_garbage() {
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let l = load_one("garbage.bin", &bytes);
    assert_eq!(l.errors.len(), 1);
    assert!(l.errors[0].reason.contains("unrecognised format"));
    // Garbage inside a gzip member, too.
    let l = load_one("garbage.gz", &gz(&bytes));
    assert_eq!(l.errors.len(), 1);
}

#[test]
fn bad_flow_log_lines_are_located() {
    let text = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
                2 123456789010 eni-1 10.0.0.1 203.0.113.5 443 49152 6 10 840 1620140661 1620140721 ACCEPT OK\n\
                2 123456789010 eni-1 10.0.0.1 203.0.113.5 443\n\
                2 123456789010 eni-1 10.0.0.1 203.0.113.5 443 notaport 6 10 840 1620140661 1620140721 ACCEPT OK\n\
                2 123456789010 eni-1 - - - - - - - 1620140661 1620140721 - NODATA\n";
    let l = load_one("flows.log", text.as_bytes());
    assert_eq!(l.flows.len(), 2);
    let lines: Vec<Option<u64>> = l.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![Some(3), Some(4)]);
}

#[test]
fn missing_path_is_an_input_error() {
    let err = ingest::load(&[PathBuf::from("/definitely/not/here")]).unwrap_err();
    assert!(err.to_string().contains("/definitely/not/here"));
}
