//! `vigil live` against GuardDuty on moto's server (the launcher adds ListFindings/GetFindings in
//! the API's wire shape and serves the findings a test seeds): two regions merge, a second poll
//! asks only for what changed, an updated finding comes back as such, a failing region is said
//! while the other goes on.

use crate::moto_support::moto;
use assert_cmd::Command;
use std::path::Path;
use vigil::console::Poller;

/// The tui fixture's findings (API shape), `n` of them in `region`, `m` in `other`.
fn seed(file: &Path, regions: &[(&str, std::ops::Range<usize>)]) -> Vec<serde_json::Value> {
    let all: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui/findings.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut by_region = serde_json::Map::new();
    for (region, range) in regions {
        let list: Vec<serde_json::Value> = all[range.clone()]
            .iter()
            .map(|f| {
                let mut f = f.clone();
                f["region"] = serde_json::Value::from(*region);
                f
            })
            .collect();
        by_region.insert(region.to_string(), serde_json::Value::from(list));
    }
    std::fs::write(file, serde_json::Value::Object(by_region).to_string()).unwrap();
    all
}

fn create_detector(url: &str, region: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = crate::moto_support::sdk_config(&rt, url, region);
    let gd = aws_sdk_guardduty::Client::new(&conf);
    rt.block_on(gd.create_detector().enable(true).send())
        .unwrap();
}

fn endpoint(url: &str) -> vigil::aws::AwsOptions {
    vigil::aws::AwsOptions {
        endpoint_url: Some(url.to_string()),
        ..Default::default()
    }
}

/// `vigil live --headless --once ARGS --endpoint-url URL`, which must succeed; its output.
fn headless_once(url: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::cargo_bin("vigil").unwrap();
    cmd.args(["live", "--headless", "--once"])
        .args(args)
        .args(["--endpoint-url", url]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// What the vigil binary needs in a tmux shell to talk to moto.
const TEST_ENV: &str = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_MAX_ATTEMPTS=1 \
                        AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
                        AWS_EC2_METADATA_DISABLED=true";

fn calls(findings: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(findings.with_extension("json.calls")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(serde_json::json!({}))
}

#[test]
fn two_regions_merge_in_the_headless_stream() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    create_detector(&url, "eu-west-1");
    let all = seed(&m.findings, &[("us-east-1", 0..4), ("eu-west-1", 4..6)]);
    let stdout = headless_once(
        &url,
        &["--region", "us-east-1", "--region", "eu-west-1"],
        &[],
    );
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("new ")).collect();
    assert_eq!(lines.len(), 6, "{stdout}");
    for (i, f) in all[..6].iter().enumerate() {
        let id = f["id"].as_str().unwrap();
        let line = lines.iter().find(|l| l.ends_with(id)).expect(id);
        let region = if i < 4 { "us-east-1" } else { "eu-west-1" };
        assert!(line.contains(region), "{line}");
    }
    assert!(
        stdout.starts_with(
            "# live: default/us-east-1 (123456789012 as arn:aws:sts::123456789012:user/moto), \
             default/eu-west-1"
        ),
        "{stdout}"
    );
}

#[test]
fn a_second_poll_fetches_only_what_changed() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    let mut all = seed(&m.findings, &[("us-east-1", 0..4)]);
    let mut p = Poller::connect(&[], &["us-east-1".into()], &endpoint(&url), None).unwrap();
    let first = p.poll();
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert_eq!(first.findings.len(), 4);
    // ListDetectors, ListMembers (is it an administrator?), one ListFindings page, one
    // GetFindings batch.
    assert_eq!(first.calls, 4);
    // Nothing changed: one ListFindings, no GetFindings.
    let second = p.poll();
    assert_eq!((second.findings.len(), second.calls), (0, 1));
    // One finding updated (count and time): only it comes back, with the new values.
    all[2]["updatedAt"] = "2030-01-01T00:00:00.000Z".into();
    all[2]["service"]["count"] = 99.into();
    let updated = all[2]["id"].as_str().unwrap().to_string();
    let mut regions = serde_json::Map::new();
    regions.insert(
        "us-east-1".into(),
        serde_json::Value::from(all[..4].to_vec()),
    );
    std::fs::write(&m.findings, serde_json::Value::Object(regions).to_string()).unwrap();
    let third = p.poll();
    assert_eq!(third.findings.len(), 1, "{:?}", third.findings);
    assert_eq!(third.findings[0].id, updated);
    assert_eq!(third.findings[0].count, 99);
    assert_eq!(third.calls, 2);
    let c = calls(&m.findings);
    assert_eq!(c["ListFindings"], 3, "{c}");
    assert_eq!(c["GetFindings"], 2, "{c}");
}

#[test]
fn a_failing_region_is_said_and_the_other_goes_on() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    create_detector(&url, "eu-west-1");
    seed(&m.findings, &[("us-east-1", 0..2), ("eu-west-1", 2..3)]);
    let mut p = Poller::connect(
        &[],
        &["us-east-1".into(), "eu-west-1".into()],
        &vigil::aws::AwsOptions {
            endpoint_url: Some(url.clone()),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    // Every attempt of the first region's ListFindings is throttled (the SDK retries 3 times).
    std::fs::write(&m.faults, r#"{"ListFindings": 3}"#).unwrap();
    let poll = p.poll();
    assert_eq!(poll.failed.len(), 1, "{:?}", poll.failed);
    assert!(
        poll.failed[0].source.contains("us-east-1"),
        "{:?}",
        poll.failed
    );
    assert!(poll.failed[0].throttled, "{:?}", poll.failed);
    assert_eq!(poll.findings.len(), 1, "eu-west-1 still streams");
    assert_eq!(poll.findings[0].region.as_deref(), Some("eu-west-1"));
    // Throttled: the region sits out the next poll (and says so), without asking again.
    let before = calls(&m.findings)["ListFindings"].as_u64().unwrap();
    let backing = p.poll();
    assert_eq!(backing.failed.len(), 1, "{:?}", backing.failed);
    assert!(
        backing.failed[0].reason.contains("backing off"),
        "{:?}",
        backing.failed
    );
    assert_eq!(
        calls(&m.findings)["ListFindings"].as_u64().unwrap(),
        before + 1,
        "only eu-west-1 was asked"
    );
    // The poll after gets the first region's findings.
    let again = p.poll();
    assert!(again.failed.is_empty(), "{:?}", again.failed);
    assert_eq!(again.findings.len(), 2);
}

/// The console, live against moto in tmux at 80×24: the findings there at start fill the list,
/// and a finding created after start appears, marked new, at the next poll.
#[test]
fn the_live_console_shows_a_finding_created_after_start() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    let all = seed(&m.findings, &[("us-east-1", 0..2)]);
    let bin = env!("CARGO_BIN_EXE_vigil");
    let env = TEST_ENV;
    let t = crate::tmux::Tmux::start(
        "live",
        (80, 24),
        &format!(
            "{env} {bin} live --region us-east-1 --endpoint-url {url} --poll-interval 1; \
             echo VIGIL-EXIT=$?; sleep 30"
        ),
    );
    // The header names the account once the first poll's findings are in.
    let screen = t.wait_for("123456789012");
    assert!(screen.contains("LIVE"), "{screen}");
    let first = all[0]["type"].as_str().unwrap();
    t.wait_for(&first[..20]);
    // A new finding, created after start.
    let mut late = all[3].clone();
    late["region"] = "us-east-1".into();
    late["updatedAt"] = "2030-01-01T00:00:00.000Z".into();
    let mut list = all[..2].to_vec();
    for f in &mut list {
        f["region"] = "us-east-1".into();
    }
    list.push(late.clone());
    let mut regions = serde_json::Map::new();
    regions.insert("us-east-1".into(), serde_json::Value::from(list));
    std::fs::write(&m.findings, serde_json::Value::Object(regions).to_string()).unwrap();
    let late_type = late["type"].as_str().unwrap();
    let screen = t.wait_for(&late_type[..20]);
    assert!(screen.contains("1 new finding(s)"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}

/// No credentials anywhere: said in one line before anything else (no terminal taken), with the
/// command that fixes it, exit 2.
#[test]
fn missing_credentials_are_said_first_with_the_fix() {
    let (_m, url) = moto();
    let home = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(["live", "--region", "us-east-1", "--endpoint-url", &url])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty(), "nothing drawn");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("default/us-east-1"), "{err}");
    assert!(err.contains("sts:GetCallerIdentity"), "{err}");
    assert!(err.contains("aws configure"), "{err}");
}

/// `--all-regions` reads every region enabled for the account (DescribeRegions) and streams from
/// each that has a detector.
#[test]
fn all_regions_reads_every_enabled_region() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    create_detector(&url, "ap-southeast-2");
    seed(
        &m.findings,
        &[("us-east-1", 0..1), ("ap-southeast-2", 1..3)],
    );
    let stdout = headless_once(&url, &["--all-regions"], &[("AWS_REGION", "us-east-1")]);
    let header = stdout.lines().next().unwrap();
    for r in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        assert!(header.contains(&format!("default/{r} ")), "{header}");
    }
    let new: Vec<&str> = stdout.lines().filter(|l| l.starts_with("new ")).collect();
    assert_eq!(new.len(), 3, "{stdout}");
    assert_eq!(
        new.iter().filter(|l| l.contains("ap-southeast-2")).count(),
        2
    );
}

/// 120 findings: ListFindings pages with nextToken (50, 50, 20) and GetFindings goes 50 at a
/// time; the poll's cost is 1 + 3 + 3 calls, all 120 arrive once.
#[test]
fn many_findings_page_through_next_token() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    let all = seed(&m.findings, &[("us-east-1", 0..1)]);
    let many: Vec<serde_json::Value> = (0..120)
        .map(|i| {
            let mut f = all[i % all.len()].clone();
            f["id"] = format!("f{i:031}").into();
            f["region"] = "us-east-1".into();
            f["updatedAt"] = format!("2024-05-01T10:{:02}:{:02}.000Z", i / 60, i % 60).into();
            f
        })
        .collect();
    let mut regions = serde_json::Map::new();
    regions.insert("us-east-1".into(), serde_json::Value::from(many));
    std::fs::write(&m.findings, serde_json::Value::Object(regions).to_string()).unwrap();
    let mut p = Poller::connect(&[], &["us-east-1".into()], &endpoint(&url), None).unwrap();
    let poll = p.poll();
    assert!(poll.failed.is_empty(), "{:?}", poll.failed);
    let mut ids: Vec<&str> = poll.findings.iter().map(|f| f.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 120);
    // ListDetectors, ListMembers, three ListFindings pages, three GetFindings batches.
    assert_eq!(poll.calls, 8);
    let c = calls(&m.findings);
    assert_eq!(
        (c["ListFindings"].as_u64(), c["GetFindings"].as_u64()),
        (Some(3), Some(3)),
        "{c}"
    );
}

/// `vigil live --respond` arms the live console as `open --respond` does: a finding streamed from
/// GuardDuty about moto's two-ENI instance, `X`, its last four characters: quarantined.
#[test]
fn the_live_console_can_respond() {
    let (m, url) = moto();
    let s = crate::moto_support::sdk(&url);
    let f = crate::moto_support::fixture(&s);
    create_detector(&url, "us-east-1");
    let all = seed(&m.findings, &[("us-east-1", 0..1)]);
    let finding = all[0]
        .to_string()
        .replace("i-0a1b2c3d4e5f60718", &f.instance);
    std::fs::write(&m.findings, format!(r#"{{"us-east-1": [{finding}]}}"#)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("audit.jsonl");
    let bin = env!("CARGO_BIN_EXE_vigil");
    let env = TEST_ENV;
    let t = crate::tmux::Tmux::start(
        "live-respond",
        (100, 30),
        &format!(
            "{env} {bin} live --region us-east-1 --endpoint-url {url} --respond --case IR-77 \
             --audit-log {}; echo VIGIL-EXIT=$?; sleep 30",
            audit.display()
        ),
    );
    t.wait_for("ARMED");
    t.wait_for("C&CActivity");
    t.keys(&["X"]);
    t.wait_for("› confirm quarantine");
    for c in f.instance[f.instance.len() - 4..].chars() {
        t.keys(&[&c.to_string()]);
    }
    t.keys(&["Enter"]);
    t.wait_for(&format!("done: quarantine {}", f.instance));
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.lines().all(|l| l.contains("\"case\":\"IR-77\"")),
        "{log}"
    );
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}

/// `--role-arn` assumes the role with the credentials found (STS AssumeRole through the SDK's
/// provider) and everything after acts as the role's session.
#[test]
fn a_role_is_assumed_when_asked() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    seed(&m.findings, &[("us-east-1", 0..1)]);
    let stdout = headless_once(
        &url,
        &[
            "--region",
            "us-east-1",
            "--role-arn",
            "arn:aws:iam::123456789012:role/incident-responder",
            "--external-id",
            "IR-2024",
        ],
        &[],
    );
    let header = stdout.lines().next().unwrap();
    assert!(
        header.contains("assumed-role/incident-responder/vigil"),
        "{header}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("new ")).count(), 1);
}

/// A role whose trust policy asks for MFA: the code is read (from the terminal, here stdin) before
/// anything else, the role is assumed once, and the session runs as it; a code that is not six
/// digits is refused before any call.
#[test]
fn an_mfa_role_asks_for_the_code_first() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    seed(&m.findings, &[("us-east-1", 0..1)]);
    let args = [
        "live",
        "--headless",
        "--once",
        "--region",
        "us-east-1",
        "--endpoint-url",
        &url,
        "--role-arn",
        "arn:aws:iam::123456789012:role/incident-responder",
        "--mfa-serial",
        "arn:aws:iam::123456789012:mfa/alice",
    ];
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(args)
        .write_stdin("123456\n")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.starts_with("MFA code for arn:aws:iam::123456789012:mfa/alice: "),
        "{stderr}"
    );
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .contains("assumed-role/incident-responder/vigil"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("new ")).count(), 1);

    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(args)
        .args(["--mfa-code", "12ab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--mfa-serial: an MFA code is six digits"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

/// Archive through the real SDK: the plan reads the region's detector, ArchiveFindings runs and is
/// audited, and the next poll no longer lists the finding (ListFindings asks for unarchived ones).
#[test]
fn archiving_a_finding_takes_it_out_of_the_stream() {
    use vigil::actions::{self, Action, AuditLog, ExecOptions, Outcome};
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    let all = seed(&m.findings, &[("us-east-1", 0..3)]);
    let mut p = Poller::connect(&[], &["us-east-1".into()], &endpoint(&url), None).unwrap();
    assert_eq!(p.poll().findings.len(), 3);
    let id = all[1]["id"].as_str().unwrap().to_string();
    let opts = vigil::aws::AwsOptions {
        region: Some("us-east-1".into()),
        ..endpoint(&url)
    };
    let mut r = vigil::aws::connect_responder(&opts).unwrap();
    let action = Action::Archive {
        finding: id.clone(),
    };
    let facts = actions::gather(&action, &mut r).unwrap();
    assert_eq!(facts.detectors.len(), 1);
    let plan = actions::plan(&action, &facts, &Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("audit.jsonl")).unwrap();
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).unwrap();
    assert_eq!(report.outcome, Outcome::Done);
    // A fresh session (no `since`) lists the open findings: the archived one is not among them.
    let mut fresh = Poller::connect(&[], &["us-east-1".into()], &endpoint(&url), None).unwrap();
    let ids: Vec<String> = fresh.poll().findings.into_iter().map(|f| f.id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(!ids.contains(&id));
    assert_eq!(calls(&m.findings)["ArchiveFindings"], 1);
}

/// Two regions in the console at 80×24: one list, with the region of each row.
#[test]
fn the_live_console_merges_two_regions_at_80x24() {
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    create_detector(&url, "eu-west-1");
    seed(&m.findings, &[("us-east-1", 0..2), ("eu-west-1", 2..4)]);
    let bin = env!("CARGO_BIN_EXE_vigil");
    let t = crate::tmux::Tmux::start(
        "live-regions",
        (80, 24),
        &format!(
            "{TEST_ENV} {bin} live --region us-east-1 --region eu-west-1 --endpoint-url {url}; \
             echo VIGIL-EXIT=$?; sleep 30"
        ),
    );
    // The column appears once the findings span two regions: one poll brings all four.
    let screen = t.wait_for("ACCOUNT/REGION");
    let rows: Vec<&str> = screen.lines().skip(3).collect();
    for region in ["us-east-1", "eu-west-1"] {
        let n = rows.iter().filter(|r| r.contains(region)).count();
        assert_eq!(n, 2, "two {region} rows in {screen}");
    }
    assert!(screen.lines().next().unwrap().contains("LIVE"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}

/// A delegated administrator's detector (one associated member): the stream says so, and a
/// member's finding comes through the administrator's detector with the member's account.
#[test]
fn an_administrator_streams_its_members_findings() {
    let (m, url) = moto();
    crate::moto_support::detector_with_member(&url, "us-east-1");
    let mut all = seed(&m.findings, &[("us-east-1", 0..2)]);
    all[1]["accountId"] = "111122223333".into();
    all[1]["region"] = "us-east-1".into();
    all[0]["region"] = "us-east-1".into();
    std::fs::write(
        &m.findings,
        serde_json::json!({ "us-east-1": all[..2] }).to_string(),
    )
    .unwrap();
    let stdout = headless_once(&url, &["--region", "us-east-1"], &[]);
    assert!(
        stdout.contains(
            "# default/us-east-1: GuardDuty administrator of 1 member account(s): their findings are included"
        ),
        "{stdout}"
    );
    let member = stdout
        .lines()
        .find(|l| l.ends_with(all[1]["id"].as_str().unwrap()))
        .unwrap();
    assert!(member.contains("111122223333"), "{member}");
}

/// The account's GuardDuty lists (launcher: Create/List/Get ThreatIntelSet and IPSet in the API's
/// wire shape), read from their S3 locations in each documented URL form: the active threat set
/// (TXT) and trusted list become vigil's lists named `guardduty:NAME`; an inactive set is left
/// out; a set whose object is missing is reported by name and the rest still load.
#[test]
fn guardduty_threat_intel_sets_and_trusted_lists_are_read_from_s3() {
    let (_m, url) = moto();
    create_detector(&url, "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = crate::moto_support::sdk_config(&rt, &url, "us-east-1");
    let gd = aws_sdk_guardduty::Client::new(&conf);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf)
            .force_path_style(true)
            .build(),
    );
    rt.block_on(s3.create_bucket().bucket("intel-lists").send())
        .unwrap();
    for (key, body) in [
        (
            "feeds/c2 list.txt",
            "# isac feed\n203.0.113.66\n198.51.100.0/24\nevil.example\n",
        ),
        ("feeds/office.txt", "192.0.2.10\n"),
    ] {
        rt.block_on(
            s3.put_object()
                .bucket("intel-lists")
                .key(key)
                .body(body.as_bytes().to_vec().into())
                .send(),
        )
        .unwrap();
    }
    let detector = rt
        .block_on(gd.list_detectors().send())
        .unwrap()
        .detector_ids()[0]
        .clone();
    use aws_sdk_guardduty::types::{IpSetFormat, ThreatIntelSetFormat};
    for (name, location, active) in [
        (
            "isac",
            "https://s3.amazonaws.com/intel-lists/feeds/c2%20list.txt",
            true,
        ),
        ("old", "s3://intel-lists/feeds/c2 list.txt", false),
        (
            "gone",
            "https://intel-lists.s3.us-east-1.amazonaws.com/feeds/nope.txt",
            true,
        ),
    ] {
        rt.block_on(
            gd.create_threat_intel_set()
                .detector_id(&detector)
                .name(name)
                .format(ThreatIntelSetFormat::Txt)
                .location(location)
                .activate(active)
                .send(),
        )
        .unwrap();
    }
    rt.block_on(
        gd.create_ip_set()
            .detector_id(&detector)
            .name("office")
            .format(IpSetFormat::Txt)
            .location("https://intel-lists.s3.amazonaws.com/feeds/office.txt")
            .activate(true)
            .send(),
    )
    .unwrap();

    let p = Poller::connect(&[], &["us-east-1".into()], &endpoint(&url), None).unwrap();
    let (lists, problems) = p.guardduty_lists();
    let names: Vec<&str> = lists.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?} {problems:?}");
    assert!(names.contains(&"guardduty:isac") && names.contains(&"guardduty:office"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("guardduty:gone"), "{problems:?}");
    let intel = vigil::hunt::Intel { lists };
    let on = |v: &str| intel.mark_ip(v).map(|l| (l.name.clone(), l.kind));
    assert_eq!(
        on("198.51.100.9"),
        Some(("guardduty:isac".into(), vigil::hunt::ListKind::Threat))
    );
    assert_eq!(
        on("192.0.2.10"),
        Some(("guardduty:office".into(), vigil::hunt::ListKind::Trusted))
    );
    assert!(intel.mark_domain("c2.evil.example").is_some());
}

/// Imports ASFF findings into moto's Security Hub (BatchImportFindings, POST /findings/import).
fn import_findings(url: &str, findings: &[serde_json::Value]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let resp = rt
        .block_on(
            reqwest::Client::new()
                .post(format!("{url}/findings/import"))
                .header(
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=testing/20240501/us-east-1/securityhub/aws4_request, SignedHeaders=host, Signature=0",
                )
                .header("Content-Type", "application/json")
                .body(serde_json::json!({ "Findings": findings }).to_string())
                .send(),
        )
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let body: serde_json::Value = serde_json::from_str(&rt.block_on(resp.text()).unwrap()).unwrap();
    assert_eq!(body["FailedCount"], 0, "{body}");
}

/// `live --securityhub`: each region's hub is polled with GetFindings (the launcher restores the
/// API's Filters and SortCriteria, which moto ignores): active findings only, GuardDuty's own
/// copies left out (GuardDuty is polled directly), and a second poll asks only for what was
/// updated since — an updated finding comes back with its new severity.
#[test]
fn securityhub_findings_join_the_live_poll() {
    let (_m, url) = moto();
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/asff/get-findings-output.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let all = fixture["Findings"].as_array().unwrap();
    let guardduty = all
        .iter()
        .find(|f| f["ProductName"] == "GuardDuty")
        .unwrap()
        .clone();
    let mut inspector = all
        .iter()
        .find(|f| f["ProductName"] == "Inspector")
        .unwrap()
        .clone();
    inspector["RecordState"] = "ACTIVE".into();
    let mut archived = inspector.clone();
    archived["Id"] = format!("{}-old", inspector["Id"].as_str().unwrap()).into();
    archived["RecordState"] = "ARCHIVED".into();
    import_findings(&url, &[guardduty, inspector.clone(), archived]);

    let mut p = Poller::connect(&[], &["us-east-1".into()], &endpoint(&url), None).unwrap();
    p.securityhub = true;
    let first = p.poll();
    assert!(first.failed.is_empty(), "{:?}", first.failed);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    assert_eq!(first.findings.len(), 1, "{:?}", first.findings);
    let f = &first.findings[0];
    assert_eq!(f.id, inspector["Id"].as_str().unwrap());
    assert!(!f.archived);

    let second = p.poll();
    assert!(second.findings.is_empty(), "{:?}", second.findings);

    inspector["UpdatedAt"] = "2030-01-01T00:00:00Z".into();
    inspector["Severity"] = serde_json::json!({"Label": "CRITICAL", "Normalized": 90});
    import_findings(&url, &[inspector]);
    let third = p.poll();
    assert_eq!(third.findings.len(), 1, "{:?}", third.findings);
    assert!(
        third.findings[0].severity >= 9.0,
        "{}",
        third.findings[0].severity
    );
}

/// `vigil live` over two profiles, the second signing in to a member account: a finding of the
/// member account is acted on as that profile (its role in the member account), and the member's
/// instance is quarantined, read back with the member's credentials.
#[test]
fn a_live_session_acts_on_a_member_finding_as_that_accounts_profile() {
    use crate::moto_support::{assumed_config, eni_group_names, lone_instance};
    let (m, url) = moto();
    create_detector(&url, "us-east-1");
    let member = "111111111111";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = crate::moto_support::sdk_config(&rt, &url, "us-east-1");
    let ec2 = aws_sdk_ec2::Client::new(&assumed_config(
        &rt,
        &conf,
        &format!("arn:aws:iam::{member}:role/Operations"),
    ));
    let (instance, eni) = lone_instance(&rt, &ec2, "10.8", "us-east-1a");
    let all = seed(&m.findings, &[("us-east-1", 0..1)]);
    let mut finding: serde_json::Value =
        serde_json::from_str(&all[0].to_string().replace("i-0a1b2c3d4e5f60718", &instance))
            .unwrap();
    finding["accountId"] = serde_json::Value::from(member);
    finding["region"] = serde_json::Value::from("us-east-1");
    std::fs::write(&m.findings, format!(r#"{{"us-east-1": [{finding}]}}"#)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (config, credentials) = (dir.path().join("config"), dir.path().join("credentials"));
    std::fs::write(
        &config,
        format!(
            "[profile admin]\nregion = us-east-1\n\n[profile member]\nregion = us-east-1\n\
             role_arn = arn:aws:iam::{member}:role/Operations\nsource_profile = admin\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        "[admin]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let audit = dir.path().join("audit.jsonl");
    let bin = env!("CARGO_BIN_EXE_vigil");
    let t = crate::tmux::Tmux::start(
        "live-profiles",
        (100, 30),
        &format!(
            // The profiles' credentials only: environment keys would win over both profiles.
            "env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
             AWS_CONFIG_FILE={} AWS_SHARED_CREDENTIALS_FILE={} AWS_ENDPOINT_URL={url} \
             AWS_MAX_ATTEMPTS=1 AWS_EC2_METADATA_DISABLED=true {bin} live --profile admin \
             --profile member --region us-east-1 --endpoint-url {url} --respond --case IR-88 \
             --audit-log {}; echo VIGIL-EXIT=$?; sleep 30",
            config.display(),
            credentials.display(),
            audit.display()
        ),
    );
    // Both profiles are polled: the header names both principals.
    t.wait_for("assumed-role/Operations");
    t.wait_for("C&CActivity");
    t.keys(&["X"]);
    let screen = t.wait_for("› confirm quarantine");
    assert!(
        screen.contains(&format!("{member}:assumed-role/Operations/")),
        "{screen}"
    );
    for ch in instance[instance.len() - 4..].chars() {
        t.keys(&[&ch.to_string()]);
    }
    t.keys(&["Enter"]);
    t.wait_for(&format!("done: quarantine {instance}"));
    let groups = eni_group_names(&rt, &ec2, &eni);
    assert!(
        !groups.is_empty() && groups.iter().all(|g| g.starts_with("vigil-contain-")),
        "{groups:?}"
    );
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(
        log.lines()
            .all(|l| l.contains(&format!("\"account\":\"{member}\""))),
        "{log}"
    );
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}
