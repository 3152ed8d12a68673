//! CloudTrail read straight from S3 (moto's S3, the real SDK): a bucket laid out as CloudTrail
//! writes it — two accounts, two regions, five days, digests and flow logs beside — is listed
//! only where the question can be answered (the list calls are counted), the pivot from S3 equals
//! the pivot over the same files on disk, and an unreadable object is reported by its key while
//! the rest is read.

use crate::moto_support::*;
use assert_cmd::Command;
use std::io::Write;
use std::path::Path;
use vigil::model::Ts;

const BUCKET: &str = "org-trail";
const KEY: &str = "AKIAW9X2Q2U25SK79UCX";

fn gz(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// The Stratus events (one access key) moved to `day` (YYYY-MM-DD), order and spacing kept.
fn events_on(day: &str, account: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/public/stratus-red-team/detonation-logs/aws.execution.ssm-send-command.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let records = v
        .as_array()
        .cloned()
        .unwrap_or_else(|| v["Records"].as_array().unwrap().clone());
    let t = |r: &serde_json::Value| Ts::parse(r["eventTime"].as_str().unwrap()).unwrap().0;
    let first = records.iter().map(t).min().unwrap();
    let base = Ts::parse(&format!("{day}T12:00:00Z")).unwrap().0;
    let moved: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["eventTime"] = Ts(base + t(&r) - first).to_rfc3339_secs().into();
            r["eventID"] = format!("{}-{day}-{account}", r["eventID"].as_str().unwrap()).into();
            r["recipientAccountId"] = account.into();
            r
        })
        .collect();
    serde_json::json!({ "Records": moved }).to_string()
}

/// Uploads the layout to moto and writes the same objects under `dir`; the keys.
fn layout(s3: &aws_sdk_s3::Client, rt: &tokio::runtime::Runtime, dir: &Path) -> Vec<String> {
    rt.block_on(s3.create_bucket().bucket(BUCKET).send())
        .unwrap();
    let mut keys = Vec::new();
    for account in ["111111111111", "222222222222"] {
        for region in ["us-east-1", "eu-west-1"] {
            for d in 1..=5 {
                let day = format!("2024-05-{d:02}");
                let folder = format!("AWSLogs/{account}/CloudTrail/{region}/2024/05/{d:02}");
                let key = format!(
                    "{folder}/{account}_CloudTrail_{region}_202405{d:02}T1215Z_abc{d}.json.gz"
                );
                keys.push(key.clone());
                let body = gz(&events_on(&day, account));
                let local = dir.join(&key);
                std::fs::create_dir_all(local.parent().unwrap()).unwrap();
                std::fs::write(&local, &body).unwrap();
                put(rt, s3, BUCKET, &key, body);
            }
        }
        // What pruning must not list: digests and another service's logs.
        for other in [
            format!("AWSLogs/{account}/CloudTrail-Digest/us-east-1/2024/05/02/digest.json.gz"),
            format!("AWSLogs/{account}/vpcflowlogs/us-east-1/2024/05/02/flows.log.gz"),
        ] {
            put(rt, s3, BUCKET, &other, gz("{}"));
        }
    }
    keys
}

fn s3_client(url: &str) -> (tokio::runtime::Runtime, aws_sdk_s3::Client) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = sdk_config(&rt, url, "us-east-1");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    (rt, s3)
}

/// Puts `body` at `key` of `bucket`.
fn put(
    rt: &tokio::runtime::Runtime,
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
) {
    rt.block_on(
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send(),
    )
    .unwrap();
}

fn pivot(args: &[&str]) -> (String, String) {
    let mut all = vec!["pivot"];
    all.extend_from_slice(args);
    run(&all)
}

/// `vigil ARGS` with one attempt per AWS call: its stdout and stderr (it must succeed).
fn run(args: &[&str]) -> (String, String) {
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(args)
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{o}\n{e}");
    (o, e)
}

/// The console's load of the S3 prefix `uri` of `service`'s layout (the files loader, as
/// `vigil open` runs it) against moto at `url`: every message it sent.
fn console_load(
    url: &str,
    uri: &str,
    service: &str,
    hunt: Option<vigil::console::HuntSetup>,
) -> Vec<vigil::app::Msg> {
    let sources = vigil::console::FileSources {
        findings: Vec::new(),
        evidence: Vec::new(),
        s3: vec![vigil::console::S3Source {
            uri: vigil::pivot::s3layout::S3Uri::parse(uri).unwrap(),
            opts: vigil::aws::AwsOptions {
                region: Some("us-east-1".into()),
                endpoint_url: Some(url.to_string()),
                max_attempts: Some(1),
                ..Default::default()
            },
            prune: vigil::pivot::s3layout::Prune {
                service: Some(service.into()),
                ..Default::default()
            },
        }],
        hunt,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    vigil::console::load_files(&vigil::console::Bus::new(tx), sources);
    let mut msgs = Vec::new();
    while let Ok(env) = rx.try_recv() {
        msgs.push(env.msg);
    }
    msgs
}

/// `vigil analyze --trail TRAIL --format json` against moto at `url`: its JSON answer.
fn analyze_trail(url: &str, trail: &str) -> serde_json::Value {
    let (stdout, _) = run(&[
        "analyze",
        "--trail",
        trail,
        "--format",
        "json",
        "--endpoint-url",
        url,
    ]);
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn an_s3_trail_is_listed_only_where_it_can_answer() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    let dir = tempfile::tempdir().unwrap();
    layout(&s3, &rt, dir.path());
    let key = format!("key:{KEY}");
    let window = [
        "--from",
        "2024-05-02T00:00:00Z",
        "--to",
        "2024-05-03T00:00:00Z",
    ];
    let s3_uri = format!("s3://{BUCKET}/");
    let mut args = vec![key.as_str(), "--trail", &s3_uri, "--format", "jsonl"];
    args.extend(window);
    args.extend([
        "--account",
        "111111111111",
        "--region",
        "us-east-1",
        "--endpoint-url",
        &url,
    ]);
    let (from_s3, stderr) = pivot(&args);
    // The bucket's top, AWSLogs/, the account's CloudTrail/ and CloudTrail-Insight/ regions
    // (none here), then two day folders (the window's day and the next, where late deliveries
    // land).
    assert!(
        stderr.contains("2 object(s),") && stderr.contains("in 6 list call(s)"),
        "{stderr}"
    );
    assert_eq!(from_s3.lines().count(), 56, "{stderr}");
    // The same files on disk, the same question: the same answer.
    let local_root = dir.path().join("AWSLogs/111111111111/CloudTrail/us-east-1");
    let local = local_root.to_string_lossy().to_string();
    let mut args = vec![key.as_str(), "--trail", &local, "--format", "jsonl"];
    args.extend(window);
    let (from_disk, _) = pivot(&args);
    assert_eq!(from_s3, from_disk);

    // No window, no account: every account and region of the trail, never the digests or
    // another service's logs.
    let args = [
        key.as_str(),
        "--trail",
        &s3_uri,
        "--format",
        "table",
        "--endpoint-url",
        &url,
    ];
    let (_, stderr) = pivot(&args);
    assert!(stderr.contains("20 object(s),"), "{stderr}");
}

#[test]
fn an_unreadable_object_is_named_by_its_key() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    let dir = tempfile::tempdir().unwrap();
    let keys = layout(&s3, &rt, dir.path());
    // One object is not gzip at all any more.
    put(&rt, &s3, BUCKET, &keys[0], b"\x1f\x8bnot gzip".to_vec());
    let key = format!("key:{KEY}");
    let s3_uri = format!("s3://{BUCKET}/AWSLogs/111111111111/CloudTrail/us-east-1/");
    let (stdout, stderr) = run(&[
        "pivot",
        &key,
        "--trail",
        &s3_uri,
        "--format",
        "jsonl",
        "--endpoint-url",
        &url,
    ]);
    assert!(
        stderr.contains(&format!("s3://{BUCKET}/{}", keys[0])),
        "the error names the object: {stderr}"
    );
    // The other four days of that account and region are read.
    assert_eq!(stdout.lines().count(), 4 * 56);
}

/// `vigil analyze` over an S3 prefix builds the same entities and edges as over the same files
/// on disk.
#[test]
fn analyze_reads_an_s3_trail_as_it_reads_files() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    let dir = tempfile::tempdir().unwrap();
    layout(&s3, &rt, dir.path());
    let run = |trail: &str| analyze_trail(&url, trail);
    let from_s3 = run(&format!("s3://{BUCKET}/AWSLogs/222222222222/CloudTrail/"));
    let local = dir.path().join("AWSLogs/222222222222/CloudTrail");
    let from_disk = run(&local.to_string_lossy());
    assert_eq!(from_s3["entities"], from_disk["entities"]);
    assert_eq!(from_s3["edges"], from_disk["edges"]);
    assert!(
        from_s3["entities"].as_array().unwrap().len() > 3,
        "{from_s3}"
    );
}

/// `--cache DIR`: the first run keeps what it fetched under DIR/BUCKET/KEY, the second reads it
/// from there and answers the same.
#[test]
fn a_cache_keeps_fetched_objects_for_the_next_run() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    let dir = tempfile::tempdir().unwrap();
    let keys = layout(&s3, &rt, dir.path());
    let cache = dir.path().join("cache");
    let key = format!("key:{KEY}");
    let s3_uri = format!("s3://{BUCKET}/AWSLogs/111111111111/CloudTrail/eu-west-1/");
    let args = [
        key.as_str(),
        "--trail",
        &s3_uri,
        "--format",
        "jsonl",
        "--cache",
        cache.to_str().unwrap(),
        "--endpoint-url",
        &url,
    ];
    let (first, stderr) = pivot(&args);
    assert!(
        stderr.contains("0 object(s) from the cache, 5 to fetch"),
        "{stderr}"
    );
    let kept = keys
        .iter()
        .find(|k| k.contains("/eu-west-1/") && k.starts_with("AWSLogs/111111111111"))
        .unwrap();
    assert!(cache.join(BUCKET).join(kept).is_file());
    let (second, stderr) = pivot(&args);
    assert!(
        stderr.contains("5 object(s) from the cache, 0 to fetch"),
        "{stderr}"
    );
    assert_eq!(first, second);
    assert_eq!(first.lines().count(), 5 * 56);
}

/// GuardDuty's findings export in the same bucket (`AWSLogs/ACCOUNT/GuardDuty/REGION/…`):
/// `--findings s3://BUCKET/` walks to the GuardDuty folders only, and the findings are read.
#[test]
fn a_guardduty_export_in_s3_is_read_as_findings() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    let dir = tempfile::tempdir().unwrap();
    layout(&s3, &rt, dir.path());
    let findings: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui/findings.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let lines: String = findings.iter().map(|f| format!("{f}\n")).collect();
    let key = "AWSLogs/111111111111/GuardDuty/us-east-1/2024/05/02/export-1.jsonl.gz";
    put(&rt, &s3, BUCKET, key, gz(&lines));
    let (stdout, stderr) = run(&[
        "analyze",
        "--findings",
        &format!("s3://{BUCKET}/"),
        "--format",
        "json",
        "--endpoint-url",
        &url,
    ]);
    assert!(
        stderr.contains("1 object(s),"),
        "only the GuardDuty folder: {stderr}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), findings.len());
}

/// The console reads a GuardDuty export from S3 too (`open --findings s3://…`): the findings
/// arrive on the bus as the objects are read.
#[test]
fn the_console_reads_a_guardduty_export_from_s3() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    rt.block_on(s3.create_bucket().bucket("gd-export").send())
        .unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui/findings.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let lines: String = findings.iter().map(|f| format!("{f}\n")).collect();
    let key = "AWSLogs/111111111111/GuardDuty/us-east-1/2024/05/02/export-1.jsonl.gz";
    put(&rt, &s3, "gd-export", key, gz(&lines));
    let msgs = console_load(&url, "s3://gd-export/", "GuardDuty", None);
    let mut got = Vec::new();
    for msg in msgs {
        if let vigil::app::Msg::Findings(f) = msg {
            got.extend(f);
        }
    }
    let mut want: Vec<String> = findings
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let mut ids: Vec<String> = got.iter().map(|f| f.id.clone()).collect();
    want.sort();
    ids.sort();
    assert_eq!(ids, want);
}

/// A trail's Insights events are delivered beside its log files, under `CloudTrail-Insight/`:
/// `hunt --trail s3://…` reads them there and makes them rate detections.
#[test]
fn an_s3_trail_brings_its_insights_events() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    rt.block_on(s3.create_bucket().bucket("insight-trail").send())
        .unwrap();
    let insights = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/public/aws-docs/cloudtrail-user-guide/cloudtrail-log-file-examples__block09.json",
    ))
    .unwrap();
    let key = "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2019/11/14/123456789012_CloudTrail-Insight_us-east-1_20191114T2035Z_a.json.gz";
    put(&rt, &s3, "insight-trail", key, gz(&insights));
    let (stdout, stderr) = run(&[
        "hunt",
        "--trail",
        "s3://insight-trail/",
        "--format",
        "jsonl",
        "--endpoint-url",
        &url,
    ]);
    let rules: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["rule"].to_string())
        .collect();
    assert!(
        rules
            .iter()
            .any(|r| r.contains("insight:ApiCallRateInsight")),
        "{rules:?} {stderr}"
    );
}

/// Flow logs delivered with Hive-compatible prefixes (`aws-account-id=…/aws-service=vpcflowlogs/
/// aws-region=…/year=…/month=…/day=…/`) are walked as the plain layout is (the day folders a
/// window keeps: `s3layout`'s unit tests).
#[test]
fn hive_compatible_flow_logs_are_listed_by_day() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    rt.block_on(s3.create_bucket().bucket("hive-flows").send())
        .unwrap();
    let log = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/public/aws-docs/vpc-flow-logs/default-format-v2.log"),
    )
    .unwrap();
    let lines = log.lines().filter(|l| !l.trim().is_empty()).count() - 1;
    for day in ["02", "04"] {
        let key = format!(
            "AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=05/day={day}/111111111111_vpcflowlogs_us-east-1_fl-0123456789abcdef0_202405{day}T1200Z_abc.log.gz"
        );
        put(&rt, &s3, "hive-flows", &key, gz(&log));
    }
    let (stdout, stderr) = run(&[
        "analyze",
        "--flows",
        "s3://hive-flows/",
        "--endpoint-url",
        &url,
    ]);
    // Walked down the Hive prefixes to both day folders (the plain layout's
    // `ACCOUNT/vpcflowlogs/` does not exist here).
    assert!(stderr.contains("2 object(s),"), "{stderr}");
    assert!(
        stdout.contains(&format!(" {} flow records", 2 * lines)),
        "every line of both objects: {stdout}"
    );
}

/// The digest checks apply to S3 sources: the digest fixture (a bucket as CloudTrail writes it,
/// with one log file altered, one missing and one no digest lists) uploaded to moto gives the
/// same integrity verdict from S3 as from disk.
#[test]
fn digests_are_checked_on_s3_sources_too() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/digest/amzn-s3-demo-bucket");
    rt.block_on(s3.create_bucket().bucket("amzn-s3-demo-bucket").send())
        .unwrap();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let key = p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
            put(
                &rt,
                &s3,
                "amzn-s3-demo-bucket",
                &key,
                std::fs::read(&p).unwrap(),
            );
        }
    }
    let totals = |trail: &str| analyze_trail(&url, trail)["integrity"]["totals"].clone();
    let from_disk = totals(&root.to_string_lossy());
    let from_s3 = totals("s3://amzn-s3-demo-bucket/");
    assert_eq!(from_s3, from_disk);
    assert_eq!(from_s3["tampered"], 1, "{from_s3}");
    assert_eq!(from_s3["ok"], 2, "{from_s3}");
    assert_eq!(from_s3["chain_ok"], 1, "{from_s3}");
}

/// The console over a trail's bucket, the real binary in tmux at 80×24: the objects are indexed
/// as they arrive and the trail answers from them.
#[test]
fn the_console_opens_an_s3_trail() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    let dir = tempfile::tempdir().unwrap();
    layout(&s3, &rt, dir.path());
    let bin = env!("CARGO_BIN_EXE_vigil");
    let env = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_CONFIG_FILE=/dev/null \
               AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true";
    let t = crate::tmux::Tmux::start(
        "open-s3",
        (80, 24),
        &format!(
            "{env} {bin} open --trail s3://{BUCKET}/AWSLogs/111111111111/CloudTrail/ \
             --region us-east-1 --endpoint-url {url}; echo VIGIL-EXIT=$?; sleep 30"
        ),
    );
    t.wait_for("560 events");
    t.keys(&[":", &format!("trail key:{KEY}"), "Enter"]);
    // (The layout's two regions hold the same event ids: a file's events are all kept, as
    // files on disk are.)
    let screen = t.wait_for("of 560 events");
    assert!(screen.contains("560 of 560 events"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}

/// The console hunts an S3 trail too: the objects are hunted as they arrive (there is no file to
/// read again), and the detection of a StopLogging call (Stratus's detonation, in an object laid
/// out as CloudTrail writes it) reaches the console with the rest of the load's messages.
#[test]
fn the_console_hunts_an_s3_trail_as_it_arrives() {
    let (_m, url) = moto();
    let (rt, s3) = s3_client(&url);
    rt.block_on(s3.create_bucket().bucket("hunt-trail").send())
        .unwrap();
    let stop = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "tests/fixtures/public/stratus-red-team/detonation-logs/aws.defense-evasion.cloudtrail-stop.json",
    ))
    .unwrap();
    let records: serde_json::Value = serde_json::from_str(&stop).unwrap();
    let body = gz(&serde_json::json!({ "Records": records }).to_string());
    let key = "AWSLogs/111111111111/CloudTrail/us-east-1/2024/07/31/111111111111_CloudTrail_us-east-1_20240731T1310Z_a.json.gz";
    put(&rt, &s3, "hunt-trail", key, body);
    let msgs = console_load(
        &url,
        "s3://hunt-trail/AWSLogs/",
        "CloudTrail",
        Some(vigil::console::HuntSetup::bundled()),
    );
    let mut detections = Vec::new();
    let mut events = 0;
    for msg in msgs {
        match msg {
            vigil::app::Msg::Detections(d) => detections.extend(d),
            vigil::app::Msg::Indexed(i) => events = i.events,
            _ => {}
        }
    }
    assert!(events > 0, "the object was indexed");
    assert!(
        detections
            .iter()
            .any(|d| d.title == "AWS CloudTrail Important Change"),
        "{:?}",
        detections.iter().map(|d| &d.title).collect::<Vec<_>>()
    );
}
