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
    let bad_identity = GOOD
        .replace(
            "\"eventVersion\"",
            "\"userIdentity\":\"alice\",\"eventVersion\"",
        )
        .replace("good", "badidentity");
    let ok = GOOD.replace("good", "fine");
    let text = format!(r#"{{"Records":[{ok},{bad_time},{bad_name},{bad_identity}]}}"#);
    let l = load_one("types.json", text.as_bytes());
    assert!(l.events.iter().any(|e| e.event_id == "fine"));
    let idx: Vec<Option<u64>> = l.errors.iter().map(|e| e.index).collect();
    assert_eq!(idx, vec![Some(1), Some(2), Some(3)], "{:?}", l.errors);
    assert!(
        l.errors[2]
            .reason
            .starts_with("invalid CloudTrail record: invalid type: string \"alice\""),
        "{}",
        l.errors[2]
    );
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

// ---------------------------------------------------------------- huge and odd input

/// GOOD with another event id.
/// A CloudTrail file with one record that is not JSON (a hand-edited or damaged file) loses that
/// record, reported with its index, and keeps the others: before, the whole file was one
/// "invalid JSON" error and none of its records loaded. Offsets still read each record back.
#[test]
fn a_broken_record_in_a_cloudtrail_file_costs_that_record() {
    let text = format!(
        "{{\"Records\":[{},{{\"eventTime\": tru, \"eventName\":\"x\"}},{}]}}",
        good("before"),
        good("after")
    );
    let (_dir, l) = load_gz("broken.json.gz", &text);
    assert_eq!(event_ids(&l), ["before", "after"]);
    assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
    assert_eq!(l.errors[0].index, Some(1));
    assert_eq!(l.errors[0].line, Some(1));
    assert!(
        l.errors[0].reason.starts_with("invalid CloudTrail record"),
        "{}",
        l.errors[0]
    );
    for e in &l.events {
        let raw = e.raw.text().unwrap();
        assert!(raw.contains(&format!("\"{}\"", e.event_id)), "{raw}");
        assert!(raw.starts_with('{') && raw.ends_with('}'), "{raw}");
    }
}

fn good(id: &str) -> String {
    GOOD.replace("\"good\"", &format!("\"{id}\""))
}

/// Blanks enough that a file holding them is read window by window rather than in one go.
fn blanks() -> String {
    " \n".repeat(25 << 20)
}

fn load_gz(name: &str, text: &str) -> (tempfile::TempDir, ingest::Loaded) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), gz(text.as_bytes())).unwrap();
    let l = ingest::load(&[dir.path().to_path_buf()]).unwrap();
    (dir, l)
}

fn event_ids(l: &ingest::Loaded) -> Vec<&str> {
    l.events.iter().map(|e| e.event_id.as_str()).collect()
}

#[test]
fn gzip_with_a_long_blank_start_is_not_empty() {
    let records: Vec<String> = (0..3).map(|i| good(&format!("r{i}"))).collect();
    let mut text = blanks();
    text.push_str(&format!("{{\"Records\":[{}]}}", records.join(",")));
    let (_dir, l) = load_gz("late.json.gz", &text);
    let errors: Vec<String> = l.errors.iter().map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(event_ids(&l), ["r0", "r1", "r2"]);
    for (i, e) in l.events.iter().enumerate() {
        assert_eq!(e.origin.line, (25 << 20) + 1);
        assert_eq!(e.origin.index, Some(i as u64));
        assert_eq!(
            e.raw.text().unwrap(),
            records[i],
            "the raw record is fetched back"
        );
    }
    // Blanks alone are still an empty file, however many.
    let (_dir, l) = load_gz("blank.json.gz", &blanks());
    assert_eq!(l.errors.len(), 1);
    assert!(l.errors[0].reason.contains("empty"), "{}", l.errors[0]);
}

/// A record list of the given shape whose records are separated by so many blanks (one line
/// break each) that the whole is larger than a file read in one go and than one record may be.
fn big_list(open: &str, items: &[String], close: &str) -> String {
    let sep = format!(",{}\n", " ".repeat((50 << 20) / (items.len() - 1)));
    format!("{open}{}{close}", items.join(&sep))
}

#[test]
fn a_huge_record_list_streams_with_exact_offsets_lines_and_indexes() {
    let pretty = "{\n  \"eventVersion\": \"1.08\",\n  \"eventID\": \"r1\",\n  \"eventTime\": \"2024-05-01T10:00:01Z\",\n  \"eventName\": \"GetObject\",\n  \"eventSource\": \"s3.amazonaws.com\"\n}";
    let too_large = GOOD.replace(
        "\"good\"",
        &format!("\"r2\",\"userAgent\":\"{}\"", "x".repeat(9 << 20)),
    );
    let items = vec![
        good("r0"),
        pretty.to_string(),
        too_large,
        r#"{"eventID": , "broken": [1, 2]}"#.to_string(),
        good("r4"),
    ];
    let text = big_list("{\"Records\": [", &items, "], \"findings\": []}\n");
    let (_dir, l) = load_gz("big.json.gz", &text);
    assert_eq!(event_ids(&l), ["r0", "r1", "r4"]);
    // Each record starts on the line after the previous separator; the pretty one spans 7 lines.
    for (e, (index, line)) in l.events.iter().zip([(0, 1), (1, 2), (4, 11)]) {
        assert_eq!(e.origin.index, Some(index), "{}", e.event_id);
        assert_eq!(e.origin.line, line, "{}", e.event_id);
        assert_eq!(e.raw.text().unwrap(), items[index as usize]);
    }
    let errors: Vec<(Option<u64>, Option<u64>, &str)> = l
        .errors
        .iter()
        .map(|e| (e.line, e.index, e.reason.as_str()))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert_eq!((errors[0].0, errors[0].1), (Some(9), Some(2)));
    assert!(errors[0].2.contains("larger than 8 MiB"), "{errors:?}");
    assert_eq!((errors[1].0, errors[1].1), (Some(10), Some(3)));
    // Found by its brackets and refused by the record's own parse, as in a file read whole.
    assert!(
        errors[1].2.starts_with("invalid CloudTrail record"),
        "{errors:?}"
    );
    assert_eq!((errors[2].0, errors[2].1), (Some(11), None));
    assert!(
        errors[2].2.contains("second record list `findings`"),
        "{errors:?}"
    );
}

#[test]
fn every_record_list_shape_streams() {
    let finding = |id: &str| {
        format!(
            r#"{{"schemaVersion":"2.0","id":"{id}","type":"Recon:EC2/PortProbeUnprotectedPort","severity":5}}"#
        )
    };
    let pascal = |id: &str| {
        format!(
            r#"{{"SchemaVersion":"2.0","Id":"{id}","Type":"Recon:EC2/PortProbeUnprotectedPort","Severity":5}}"#
        )
    };
    let finding_ids =
        |l: &ingest::Loaded| -> Vec<String> { l.findings.iter().map(|f| f.id.clone()).collect() };
    let no_errors = |l: &ingest::Loaded| {
        let errors: Vec<String> = l.errors.iter().map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    };

    let (_d, l) = load_gz(
        "bare.json.gz",
        &big_list("[", &[finding("f0"), good("b1")], "]"),
    );
    no_errors(&l);
    assert_eq!(finding_ids(&l), ["f0"]);
    assert_eq!(event_ids(&l), ["b1"]);
    assert_eq!(l.events[0].origin.index, Some(1));

    let text = big_list("{\"findings\": [", &[finding("f0"), finding("f1")], "]}");
    let (_d, l) = load_gz("findings.json.gz", &text);
    no_errors(&l);
    assert_eq!(finding_ids(&l), ["f0", "f1"]);

    let text = big_list("{\"Findings\": [", &[pascal("p0"), pascal("p1")], "]}");
    let (_d, l) = load_gz("pascal.json.gz", &text);
    no_errors(&l);
    assert_eq!(finding_ids(&l), ["p0", "p1"]);

    // lookup-events nests the record as a string; an inline record is classified as it is.
    let nested = serde_json::to_string(&good("e0")).unwrap();
    let lookup = format!(r#"{{"EventId":"x","CloudTrailEvent":{nested}}}"#);
    let text = big_list(
        r#"{"NextToken":"t","Events":["#,
        &[lookup, good("e1")],
        "]}",
    );
    let (_d, l) = load_gz("events.json.gz", &text);
    no_errors(&l);
    assert_eq!(event_ids(&l), ["e0", "e1"]);
    assert_eq!(l.events[0].raw.text().unwrap(), good("e0"));
    assert_eq!(l.events[1].raw.text().unwrap(), good("e1"));
}

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs a load on another thread, so that a load blocked on a FIFO fails the test instead of
/// hanging it (a guard against a hang, not a measure of speed).
fn without_blocking<T: Send + 'static>(load: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load());
    });
    rx.recv_timeout(std::time::Duration::from_secs(120))
        .expect("the load blocked on a FIFO")
}

#[test]
fn fifos_are_reported_and_skipped_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("a-pipe.json");
    mkfifo(&fifo);
    std::fs::write(dir.path().join("b-good.json"), GOOD).unwrap();
    // A dangling symlink beside them is one more located entry, not the end of the load.
    std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("c-dangling")).unwrap();
    let d = dir.path().to_path_buf();
    let l = without_blocking(move || ingest::load(&[d]).unwrap());
    assert_eq!(event_ids(&l), ["good"]);
    assert_eq!(l.errors.len(), 2, "{:?}", l.errors);
    assert!(l.errors[0].path.ends_with("a-pipe.json"), "{}", l.errors[0]);
    assert!(l.errors[0].reason.contains("FIFO"), "{}", l.errors[0]);
    assert_eq!(l.errors[0].line, None);
    assert!(l.errors[1].path.ends_with("c-dangling"), "{}", l.errors[1]);
    assert!(
        l.errors[1].reason.contains("cannot open"),
        "{}",
        l.errors[1]
    );

    // Named directly or through a symlink, a FIFO is refused too; a symlink to a file is read.
    let to_fifo = dir.path().join("to-pipe");
    let to_good = dir.path().join("to-good");
    std::os::unix::fs::symlink(&fifo, &to_fifo).unwrap();
    std::os::unix::fs::symlink(dir.path().join("b-good.json"), &to_good).unwrap();
    let (link, direct) = (to_fifo.clone(), fifo.clone());
    let l = without_blocking(move || ingest::load(&[link, to_good]).unwrap());
    assert_eq!(event_ids(&l), ["good"]);
    assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
    assert!(l.errors[0].path.ends_with("to-pipe"), "{}", l.errors[0]);
    assert!(l.errors[0].reason.contains("FIFO"), "{}", l.errors[0]);
    // The FIFO and a link to it are one file: refused once, under the name met first.
    let l = without_blocking(move || ingest::load(&[direct, to_fifo]).unwrap());
    let refused: Vec<&str> = l.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(refused.len(), 1, "{:?}", l.errors);
    assert!(refused[0].ends_with("a-pipe.json"), "{refused:?}");
}

#[test]
fn records_nested_past_the_parser_limit_are_located_errors_in_pivot_and_load() {
    // Deep in a field the typed parse skips, which the pivot would print as it is.
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let rec = GOOD.replace(
        "\"good\"",
        &format!("\"deep\",\"additionalEventData\":{deep}"),
    );
    let text = format!("{{\"Records\":[{},{rec}]}}", good("shallow"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.json");
    std::fs::write(&path, text).unwrap();
    let target = vigil::model::EntityId::ip("203.0.113.9").unwrap();
    let res = vigil::pivot::scan(
        std::slice::from_ref(&path),
        &target,
        vigil::pivot::Window::all(),
    )
    .unwrap();
    let hits: Vec<&str> = res.events.iter().map(|h| h.event.event_id()).collect();
    assert_eq!(hits, ["shallow"]);
    assert_eq!(res.errors.len(), 1, "{:?}", res.errors);
    let e = &res.errors[0];
    assert_eq!((e.line, e.index), (Some(1), Some(1)), "{e}");
    assert!(e.reason.contains("nested more than 128"), "{e}");
    let l = ingest::load(&[path]).unwrap();
    assert_eq!(event_ids(&l), ["shallow"]);
    assert_eq!(l.errors, res.errors);
}
