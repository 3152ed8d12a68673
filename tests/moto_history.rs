//! CloudTrail's LookupEvents through the real SDK against moto's server (the launcher adds
//! LookupEvents in the API's wire shape, with its two-requests-per-second throttle): `vigil pivot
//! --live` merges the API with log files by event id, stays under the rate, and says when the API
//! cannot filter; the live console's trail fills in page by page with the API's rows marked.

use crate::moto_support::moto;
use assert_cmd::Command;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;
use vigil::app::state::{Mode, Options, State};
use vigil::app::{Key, Keymap, Msg};
use vigil::console::{Console, History, Lookups, SystemClock};
use vigil::model::Ts;

/// Stratus Red Team's `ssm-send-command` detonation: 56 events of one IAM user's access key.
const KEY: &str = "AKIAW9X2Q2U25SK79UCX";

fn stratus(name: &str) -> Vec<serde_json::Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/public/stratus-red-team/detonation-logs")
        .join(name);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    match v {
        serde_json::Value::Array(a) => a,
        v => v["Records"].as_array().unwrap().clone(),
    }
}

/// The records moved to the last days (LookupEvents answers 90 days), order and spacing kept;
/// `copies` > 1 repeats them with new event ids, for a run of many pages.
fn recent(records: &[serde_json::Value], copies: usize) -> Vec<serde_json::Value> {
    let now = chrono_now_ms() - 86_400_000;
    let times: Vec<i64> = records
        .iter()
        .map(|r| Ts::parse(r["eventTime"].as_str().unwrap()).unwrap().0)
        .collect();
    let newest = *times.iter().max().unwrap();
    let mut out = Vec::new();
    for c in 0..copies {
        for (r, t) in records.iter().zip(&times) {
            let mut r = r.clone();
            let shifted = Ts(now - (newest - t) - c as i64 * 3_600_000);
            r["eventTime"] = shifted.to_rfc3339_secs().into();
            if c > 0 {
                r["eventID"] = format!("{}-{c}", r["eventID"].as_str().unwrap()).into();
            }
            out.push(r);
        }
    }
    out
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn serve(trail: &Path, region: &str, records: &[serde_json::Value]) {
    let mut m = serde_json::Map::new();
    m.insert(region.into(), records.to_vec().into());
    std::fs::write(trail, serde_json::Value::Object(m).to_string()).unwrap();
}

fn calls(trail: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(trail.with_extension("json.calls")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(serde_json::json!({}))
}

fn pivot(url: &str, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("vigil")
        .unwrap()
        .arg("pivot")
        .args(args)
        .args(["--live", "--region", "us-east-1", "--endpoint-url", url])
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap()
}

/// Half the events in a log file, all of them behind the API: the pivot prints each once, in
/// time order, and says how many only the API had.
#[test]
fn pivot_live_merges_the_api_with_the_log_files() {
    let (m, url) = moto();
    let records = recent(&stratus("aws.execution.ssm-send-command.json"), 1);
    assert_eq!(records.len(), 56);
    serve(&m.trail, "us-east-1", &records);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local.json");
    let half: Vec<_> = records.iter().step_by(2).cloned().collect();
    std::fs::write(&local, serde_json::json!({ "Records": half }).to_string()).unwrap();

    let key = format!("key:{KEY}");
    let out = pivot(
        &url,
        &[
            &key,
            "--trail",
            local.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["eventID"].as_str().unwrap().to_string()
        })
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(ids.len(), 56, "{stderr}");
    assert_eq!(unique.len(), 56, "each event once");
    assert!(
        stderr.contains("2 page(s), 56 event(s), 28 not in the log files (2 call(s))"),
        "{stderr}"
    );
    // Time order, as the file-only pivot prints.
    let times: Vec<Ts> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            Ts::parse(v["eventTime"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(calls(&m.trail)["LookupEvents"], 2);

    // A window narrows what the API is asked: nothing older than --from comes back. (A second
    // process has a bucket of its own: let the first one's second pass at the server.)
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let from = records
        .iter()
        .map(|r| Ts::parse(r["eventTime"].as_str().unwrap()).unwrap())
        .max()
        .unwrap();
    let out = pivot(
        &url,
        &[&key, "--from", &from.to_rfc3339_secs(), "--format", "jsonl"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!((1..56).contains(&n), "{n} events at or after the newest");
}

/// A run of seven pages: every call answered (AWS_MAX_ATTEMPTS=1, so a throttled call would fail
/// the run), none throttled, and never three calls within one second at the server.
#[test]
fn lookups_stay_under_two_per_second() {
    let (m, url) = moto();
    let records = recent(&stratus("aws.execution.ssm-send-command.json"), 6);
    serve(&m.trail, "us-east-1", &records);
    let t = std::time::Instant::now();
    let out = pivot(&url, &[&format!("key:{KEY}"), "--format", "jsonl"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 336);
    let c = calls(&m.trail);
    assert_eq!(c["LookupEvents"], 7, "{c}");
    assert!(c.get("LookupEventsThrottled").is_none(), "{c}");
    let at: Vec<f64> = c["LookupEventsAt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for w in at.windows(3) {
        assert!(w[2] - w[0] >= 1.0, "three calls within a second: {w:?}");
    }
    // Seven calls at 1.8 per second: at least six gaps of 0.55 s.
    assert!(t.elapsed().as_secs_f64() >= 3.3, "{:?}", t.elapsed());
}

/// The launcher's throttle is real: calls made faster than AWS allows are refused, which is what
/// the bucket above keeps vigil from.
#[test]
fn the_emulated_api_throttles_like_aws() {
    let (m, url) = moto();
    serve(&m.trail, "us-east-1", &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = crate::moto_support::sdk_config(&rt, &url, "us-east-1");
    let ct = aws_sdk_cloudtrail::Client::new(&conf);
    let codes: Vec<Option<String>> = (0..4)
        .map(|_| {
            rt.block_on(ct.lookup_events().send()).err().and_then(|e| {
                use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
                e.code().map(str::to_string)
            })
        })
        .collect();
    assert_eq!(codes[0], None);
    assert!(
        codes
            .iter()
            .any(|c| c.as_deref() == Some("ThrottlingException")),
        "{codes:?}"
    );
}

/// An address is not something LookupEvents can filter by: said, and the files still answer.
#[test]
fn an_ip_pivot_says_the_api_cannot_filter_by_it() {
    let (_m, url) = moto();
    let out = pivot(&url, &["ip:203.0.113.7"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot filter by source IP"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("t.json");
    std::fs::write(&local, r#"{"Records":[]}"#).unwrap();
    let out = pivot(
        &url,
        &["ip:203.0.113.7", "--trail", local.to_str().unwrap()],
    );
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot filter by source IP"));
}

fn screen_text(c: &Console<TestBackend>) -> String {
    let buf = c.terminal().backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

/// The live console (the real loop, executor and History against moto) at 80×24: `:trail` on
/// the access key asks LookupEvents, the rows arrive marked `A`, the second line counts pages and
/// new events; an address pivot says why the API cannot answer.
#[test]
fn the_live_trail_fills_from_lookup_events() {
    let (m, url) = moto();
    let records = recent(&stratus("aws.execution.ssm-send-command.json"), 1);
    serve(&m.trail, "us-east-1", &records);
    let history = History::connect(&[(
        "default/us-east-1".to_string(),
        vigil::aws::AwsOptions {
            region: Some("us-east-1".into()),
            endpoint_url: Some(url.clone()),
            ..Default::default()
        },
    )])
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("live.jsonl");
    let (first, second) = rt.block_on(async {
        let opts = Options {
            mode: Mode::Live,
            label: "moto".into(),
            ..Options::default()
        };
        let state = State::new(opts, Keymap::default_map().unwrap());
        let mut console =
            Console::new(state, TestBackend::new(80, 24), None, Arc::new(SystemClock)).unwrap();
        console.set_lookups(Lookups::new(history, None));
        console.keep_log(Some((recording.as_path(), false)));
        let bus = console.bus();
        bus.send(Msg::Tick {
            now: Ts(chrono_now_ms()),
        })
        .await;
        let line = format!(":trail key:{KEY}\n");
        for k in keys_of(&line) {
            bus.send(Msg::Key(k)).await;
        }
        console.settle().await.unwrap();
        let first = screen_text(&console);
        for k in keys_of(":trail ip:203.0.113.7\n") {
            bus.send(Msg::Key(k)).await;
        }
        console.settle().await.unwrap();
        (first, screen_text(&console))
    });
    assert!(
        first.contains("LookupEvents AccessKeyId=AKIAW9X2Q2U25SK79UCX: 2 pages, 56 events,"),
        "{first}"
    );
    assert!(first.contains("56 new"), "{first}");
    assert!(first.contains("56 of 56 events"), "{first}");
    let marked = first.lines().filter(|l| l.starts_with('A')).count();
    assert!(marked >= 15, "the API's rows are marked:\n{first}");
    assert!(second.contains("cannot filter by source IP"), "{second}");
    assert_eq!(calls(&m.trail)["LookupEvents"], 2);
    // The session was recorded: it replays to the same screen with no AWS call (the API's
    // answers are in the recording).
    let mut player = vigil::console::Player::open(&recording).unwrap();
    let mut term = ratatui::Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut last = String::new();
    vigil::console::frames(&mut player, &mut term, |t| {
        let buf = t.backend().buffer();
        last = (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
    })
    .unwrap();
    let shown = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(shown(&last), shown(&second), "the replay ends elsewhere");
    assert_eq!(calls(&m.trail)["LookupEvents"], 2, "the replay called AWS");
}

fn keys_of(text: &str) -> Vec<Key> {
    text.chars()
        .map(|c| match c {
            '\n' => Key::parse("enter").unwrap(),
            ' ' => Key::parse("space").unwrap(),
            c => Key::parse(&c.to_string()).unwrap(),
        })
        .collect()
}

const ROLE: &str = "arn:aws:iam::123456789012:role/WebServerRole";

/// Detective's answer for the role: a flagged address, a new user agent, an observed TTP.
fn seed_detective(file: &Path) {
    let seeded = serde_json::json!({ ROLE: {
        "severity": "HIGH",
        "indicators": [
            {"IndicatorType": "TTP_OBSERVED", "IndicatorDetail": {"TTPsObservedDetail": {
                "Tactic": "Discovery", "Technique": "T1580", "Procedure": "Cloud infrastructure discovery",
                "IpAddress": "198.51.100.23", "APIName": "DescribeInstances",
                "APISuccessCount": 12, "APIFailureCount": 3}}},
            {"IndicatorType": "FLAGGED_IP_ADDRESS", "IndicatorDetail": {"FlaggedIpAddressDetail": {
                "IpAddress": "203.0.113.7", "Reason": "AWS_THREAT_INTELLIGENCE"}}},
            {"IndicatorType": "NEW_USER_AGENT", "IndicatorDetail": {"NewUserAgentDetail": {
                "UserAgent": "python-requests/2.31", "IsNewForEntireAccount": true}}}
        ]
    }});
    std::fs::write(file, seeded.to_string()).unwrap();
}

fn detective_console(url: &str, region: &str) -> (tokio::runtime::Runtime, Console<TestBackend>) {
    let opts = vigil::aws::AwsOptions {
        region: Some(region.into()),
        endpoint_url: Some(url.to_string()),
        ..Default::default()
    };
    let label = format!("default/{region}");
    let history = History::connect(&[(label.clone(), opts.clone())]).unwrap();
    let detective = vigil::console::Detective::connect(&label, &opts).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let state = State::new(
        Options {
            mode: Mode::Live,
            label: "moto".into(),
            ..Options::default()
        },
        Keymap::default_map().unwrap(),
    );
    let mut console = rt.block_on(async {
        Console::new(state, TestBackend::new(80, 24), None, Arc::new(SystemClock)).unwrap()
    });
    console.set_lookups(Lookups::new(history, Some(detective)));
    (rt, console)
}

fn press(rt: &tokio::runtime::Runtime, c: &mut Console<TestBackend>, keys: &[&str]) -> String {
    rt.block_on(async {
        let bus = c.bus();
        bus.send(Msg::Tick {
            now: Ts(chrono_now_ms()),
        })
        .await;
        for k in keys {
            if let Some(line) = k.strip_prefix(':') {
                for key in keys_of(&format!(":{line}\n")) {
                    bus.send(Msg::Key(key)).await;
                }
            } else {
                bus.send(Msg::Key(Key::parse(k).unwrap())).await;
            }
        }
        c.settle().await.unwrap();
    });
    screen_text(c)
}

/// The Detective panel on a role at 80×24: no investigation yet; `n` starts one, which runs, ends
/// HIGH with three indicators; Enter on the flagged address pivots to its trail.
#[test]
fn the_detective_panel_investigates_a_role() {
    let (m, url) = moto();
    seed_detective(&m.detective);
    let rt0 = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = crate::moto_support::sdk_config(&rt0, &url, "us-east-1");
    let dt = aws_sdk_detective::Client::new(&conf);
    rt0.block_on(dt.create_graph().send()).unwrap();

    let (rt, mut c) = detective_console(&url, "us-east-1");
    let trail = format!(":trail role:{ROLE}");
    let screen = press(&rt, &mut c, &[&trail, "V"]);
    assert!(screen.contains(&format!("investigates {ROLE}")), "{screen}");
    assert!(
        screen.contains("INVESTIGATIONS 0 (n starts one"),
        "{screen}"
    );
    assert!(screen.contains("no finished investigation"), "{screen}");
    let screen = press(&rt, &mut c, &["n"]);
    assert!(screen.contains("INVESTIGATIONS 1"), "{screen}");
    assert!(screen.contains("SUCCESSFUL HIGH"), "{screen}");
    assert!(screen.contains("INDICATORS 3"), "{screen}");
    assert!(
        screen.contains("FLAGGED_IP_ADDRESS  203.0.113.7 flagged: AWS_THREAT_INTEL"),
        "{screen}"
    );
    assert!(
        screen.contains("TTP_OBSERVED        Discovery / T1580"),
        "{screen}"
    );
    let screen = press(&rt, &mut c, &["j", "enter"]);
    assert!(screen.contains("cannot filter by source IP"), "{screen}");
    assert!(
        c.state()
            .stack
            .last()
            .is_some_and(|v| v.title() == "trail ip:203.0.113.7"),
        "{:?}",
        c.state().stack.last().map(|v| v.title())
    );
    let calls: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(m.detective.with_extension("json.calls")).unwrap(),
    )
    .unwrap();
    assert_eq!(calls["StartInvestigation"], 1, "{calls}");
    assert!(
        calls["GetInvestigation"].as_u64().unwrap() >= 2,
        "polled until it ended: {calls}"
    );
    assert_eq!(calls["ListIndicators"], 1, "{calls}");
}

/// No behaviour graph in the region: the panel says so and nothing else changes.
#[test]
fn no_behaviour_graph_is_said() {
    let (_m, url) = moto();
    let (rt, mut c) = detective_console(&url, "eu-west-1");
    let trail = format!(":trail role:{ROLE}");
    let screen = press(&rt, &mut c, &[&trail, "V"]);
    assert!(
        screen.contains("no Detective behaviour graph in this region"),
        "{screen}"
    );
    let screen = press(&rt, &mut c, &["n"]);
    assert!(
        screen.contains("no behaviour graph in this region: nothing to"),
        "{screen}"
    );
}

/// The real binary in tmux at 80×24, live against moto: a trail on an access key fills from
/// LookupEvents with its rows marked; the Detective panel on a role starts an investigation and
/// lists its indicators.
#[test]
fn the_live_console_pivots_through_the_apis_in_tmux() {
    let (m, url) = moto();
    let records = recent(&stratus("aws.execution.ssm-send-command.json"), 1);
    serve(&m.trail, "us-east-1", &records);
    seed_detective(&m.detective);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = crate::moto_support::sdk_config(&rt, &url, "us-east-1");
    rt.block_on(aws_sdk_detective::Client::new(&conf).create_graph().send())
        .unwrap();
    rt.block_on(
        aws_sdk_guardduty::Client::new(&conf)
            .create_detector()
            .enable(true)
            .send(),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_vigil");
    let env = "AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_CONFIG_FILE=/dev/null \
               AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true";
    let t = crate::tmux::Tmux::start(
        "live-apis",
        (80, 24),
        &format!(
            "{env} {bin} live --region us-east-1 --endpoint-url {url}; echo VIGIL-EXIT=$?; sleep 30"
        ),
    );
    t.wait_for("LIVE");
    t.keys(&[":", &format!("trail key:{KEY}"), "Enter"]);
    let screen = t.wait_for("2 pages, 56 events, 56 new");
    // Every row came from the API, and says so in its first column (whatever the date).
    let rows: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("user/christophe"))
        .collect();
    assert!(
        !rows.is_empty() && rows.iter().all(|l| l.starts_with("A ")),
        "API rows marked:\n{screen}"
    );
    t.keys(&[":", &format!("trail role:{ROLE}"), "Enter"]);
    t.wait_for("trail role:");
    t.keys(&["V"]);
    t.wait_for("INVESTIGATIONS 0");
    t.keys(&["n"]);
    let screen = t.wait_for("INDICATORS 3");
    assert!(screen.contains("SUCCESSFUL HIGH"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}

/// CloudTrail Lake (the launcher evaluates the SQL vigil sends over the records a test seeds).
fn lake_store(m: &crate::moto_support::Moto, store: serde_json::Value) {
    std::fs::write(
        &m.lake,
        serde_json::json!({ "eds-incident": store }).to_string(),
    )
    .unwrap();
}

fn lake_calls(m: &crate::moto_support::Moto) -> serde_json::Value {
    let text = std::fs::read_to_string(m.lake.with_extension("json.calls")).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(serde_json::json!({}))
}

fn lake_pivot(url: &str, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("vigil")
        .unwrap()
        .arg("pivot")
        .args(args)
        .args([
            "--lake",
            "eds-incident",
            "--region",
            "us-east-1",
            "--endpoint-url",
            url,
        ])
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap()
}

/// An address — which LookupEvents cannot filter by — as one Lake query: the statement sent is
/// the expected one (the value quoted, the window in Lake's time format), its rows come back in
/// pages, are rebuilt into records, and the bytes scanned are said with their cost.
#[test]
fn a_lake_query_answers_an_ip_pivot() {
    let (m, url) = moto();
    let mut records = recent(&stratus("aws.execution.ssm-send-command.json"), 1);
    for r in records.iter_mut().take(30) {
        r["sourceIPAddress"] = "203.0.113.7".into();
    }
    lake_store(&m, serde_json::json!({ "records": records, "_page": 8 }));
    let out = lake_pivot(&url, &["ip:203.0.113.7", "--format", "jsonl"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 30, "{stderr}");
    assert!(lines.iter().all(|r| r["sourceIPAddress"] == "203.0.113.7"));
    assert!(
        lines
            .iter()
            .all(|r| r["userIdentity"]["accessKeyId"] == KEY)
    );
    let c = lake_calls(&m);
    let sql = c["statements"][0].as_str().unwrap();
    assert!(
        sql.starts_with("SELECT eventID AS event_id, eventTime AS event_time,")
            && sql.ends_with(
                "FROM eds-incident WHERE sourceIPAddress = '203.0.113.7' ORDER BY eventTime, eventID"
            ),
        "{sql}"
    );
    // 30 rows at 8 a page.
    assert_eq!(c["GetQueryResults"], 4, "{c}");
    assert!(
        stderr.contains("FINISHED in") && stderr.contains("30 row(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("scanned (≈ $"), "{stderr}");
}

/// A query that fails says why (exit 2); one still running at the timeout is cancelled.
#[test]
fn a_failed_or_slow_lake_query_is_said_and_cancelled() {
    let (m, url) = moto();
    let records = recent(&stratus("aws.execution.ssm-send-command.json"), 1);
    lake_store(
        &m,
        serde_json::json!({ "records": records, "_fail": "Query exceeded the data scan limit" }),
    );
    let key = format!("key:{KEY}");
    let out = lake_pivot(&url, &[&key]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CloudTrail Lake: query")
            && stderr.contains("FAILED: Query exceeded the data scan limit"),
        "{stderr}"
    );
    lake_store(
        &m,
        serde_json::json!({ "records": records, "_running_s": 60 }),
    );
    let out = lake_pivot(&url, &[&key, "--query-timeout", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("after 1 s: cancelled"), "{stderr}");
    assert_eq!(lake_calls(&m)["CancelQuery"], 1);
    // A value with a quote cannot break out of its literal: the query finds no such agent.
    lake_store(&m, serde_json::json!({ "records": records }));
    let out = lake_pivot(&url, &["ua:x' OR '1'='1", "--format", "jsonl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let c = lake_calls(&m);
    let last = c["statements"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert!(last.contains("userAgent = 'x'' OR ''1''=''1'"), "{last}");
}

/// Athena on moto (its own API seeds a query's results and holds an execution RUNNING): the SQL
/// sent is asserted, the rows (under their header) are rebuilt into records, and a query still
/// running at the timeout is stopped.
#[test]
fn athena_answers_a_pivot_and_stops_when_asked() {
    let (m, url) = moto();
    let records = recent(&stratus("aws.execution.ssm-send-command.json"), 1);
    let cols: Vec<&str> = vigil::pivot::athena::COLUMNS
        .iter()
        .map(|(_, a)| *a)
        .collect();
    let cell = |v: Option<String>| match v {
        Some(v) => serde_json::json!({ "VarCharValue": v }),
        None => serde_json::json!({}),
    };
    let mut rows = vec![
        serde_json::json!({ "Data": cols.iter().map(|c| cell(Some(c.to_string()))).collect::<Vec<_>>() }),
    ];
    for r in &records {
        let s = |p: &str| r.pointer(p).and_then(|v| v.as_str()).map(str::to_string);
        let data = vec![
            cell(s("/eventID")),
            cell(s("/eventTime")),
            cell(s("/eventName")),
            cell(s("/eventSource")),
            cell(s("/awsRegion")),
            cell(Some("203.0.113.7".into())),
            cell(s("/userAgent")),
            cell(s("/errorCode")),
            cell(s("/recipientAccountId")),
            cell(s("/userIdentity/type")),
            cell(s("/userIdentity/arn")),
            cell(s("/userIdentity/accountId")),
            cell(s("/userIdentity/accessKeyId")),
            cell(s("/userIdentity/userName")),
            cell(s("/userIdentity/principalId")),
            cell(None),
        ];
        rows.push(serde_json::json!({ "Data": data }));
    }
    let seeded = serde_json::json!({ "results": [{ "rows": rows }] });
    assert!(crate::moto_support::http_post_body(
        m.port,
        "/moto-api/static/athena/query-results",
        &seeded.to_string()
    ));
    let run = |extra: &[&str]| {
        Command::cargo_bin("vigil")
            .unwrap()
            .args(["pivot", "ip:203.0.113.7", "--format", "jsonl"])
            .args([
                "--athena",
                "cloudtrail_logs.org_trail",
                "--athena-output",
                "s3://athena-results/",
            ])
            .args(extra)
            .args(["--region", "us-east-1", "--endpoint-url", &url])
            .env("AWS_MAX_ATTEMPTS", "1")
            .output()
            .unwrap()
    };
    let out = run(&["--from", "2024-05-01T00:00:00Z"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        56,
        "{stderr}"
    );
    assert!(
        stderr.contains("SUCCEEDED in") && stderr.contains("56 row(s)"),
        "{stderr}"
    );
    // The SQL Athena received.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = crate::moto_support::sdk_config(&rt, &url, "us-east-1");
    let athena = aws_sdk_athena::Client::new(&conf);
    let ids = rt
        .block_on(athena.list_query_executions().send())
        .unwrap()
        .query_execution_ids()
        .to_vec();
    let q = rt
        .block_on(
            athena
                .get_query_execution()
                .query_execution_id(&ids[0])
                .send(),
        )
        .unwrap();
    let sql = q.query_execution().unwrap().query().unwrap().to_string();
    assert!(
        sql.ends_with("FROM cloudtrail_logs.org_trail WHERE sourceipaddress = '203.0.113.7' AND \"timestamp\" >= '2024/05/01' AND eventtime >= '2024-05-01T00:00:00Z' ORDER BY eventtime, eventid"),
        "{sql}"
    );
    // An execution held RUNNING (moto's state manager): stopped at the timeout.
    assert!(crate::moto_support::http_post_body(
        m.port,
        "/moto-api/state-manager/set-transition",
        r#"{"model_name": "athena::execution", "transition": {"progression": "manual", "times": 1000}}"#
    ));
    let out = run(&["--query-timeout", "1"]);
    crate::moto_support::http_post_body(
        m.port,
        "/moto-api/state-manager/unset-transition",
        r#"{"model_name": "athena::execution"}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("after 1 s: stopped"), "{stderr}");
    let ids = rt
        .block_on(athena.list_query_executions().send())
        .unwrap()
        .query_execution_ids()
        .to_vec();
    let states: Vec<String> = ids
        .iter()
        .map(|id| {
            rt.block_on(athena.get_query_execution().query_execution_id(id).send())
                .unwrap()
                .query_execution()
                .unwrap()
                .status()
                .unwrap()
                .state()
                .unwrap()
                .as_str()
                .to_string()
        })
        .collect();
    assert!(states.iter().any(|s| s == "CANCELLED"), "{states:?}");
}

/// A live console given a Lake event data store: the trail asks Lake (an address, which
/// LookupEvents cannot filter), the rows come in marked, the line names the engine; leaving
/// the trail of a slow query cancels it.
#[test]
fn the_live_trail_asks_lake_when_given_one() {
    let (m, url) = moto();
    let mut records = recent(&stratus("aws.execution.ssm-send-command.json"), 1);
    for r in records.iter_mut().take(30) {
        r["sourceIPAddress"] = "203.0.113.7".into();
    }
    lake_store(&m, serde_json::json!({ "records": records }));
    let opts = vigil::aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.clone()),
        ..Default::default()
    };
    let history = History::connect(&[("default/us-east-1".to_string(), opts.clone())]).unwrap();
    let engine = vigil::console::QueryEngine::new(
        vigil::console::Engine::Lake {
            store: "eds-incident".into(),
        },
        vigil::aws::connect_read_only(&opts).unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let screen = rt.block_on(async {
        let mut state = State::new(
            Options {
                mode: Mode::Live,
                label: "moto".into(),
                ..Options::default()
            },
            Keymap::default_map().unwrap(),
        );
        state.query_tier = Some(engine.label());
        let mut console =
            Console::new(state, TestBackend::new(80, 24), None, Arc::new(SystemClock)).unwrap();
        console.set_lookups(Lookups::new(history, None).with_engine(engine));
        let bus = console.bus();
        bus.send(Msg::Tick {
            now: Ts(chrono_now_ms()),
        })
        .await;
        for k in keys_of(":trail ip:203.0.113.7\n") {
            bus.send(Msg::Key(k)).await;
        }
        console.settle().await.unwrap();
        let screen = screen_text(&console);
        // A slow query, left: cancelled.
        lake_store(
            &m,
            serde_json::json!({ "records": records, "_running_s": 60 }),
        );
        for k in keys_of(":trail ua:python-requests\n") {
            bus.send(Msg::Key(k)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        bus.send(Msg::Key(Key::parse("esc").unwrap())).await;
        console.settle().await.unwrap();
        screen
    });
    assert_eq!(lake_calls(&m)["CancelQuery"], 1, "{}", lake_calls(&m));
    assert!(
        screen.contains("CloudTrail Lake eds-incident: 1 page, 30 events, 30 new"),
        "{screen}"
    );
    assert!(screen.contains("30 of 30 events"), "{screen}");
    assert!(
        screen.lines().filter(|l| l.starts_with('A')).count() >= 15,
        "{screen}"
    );
    let c = lake_calls(&m);
    assert!(
        c["statements"][0]
            .as_str()
            .unwrap()
            .contains("WHERE sourceIPAddress = '203.0.113.7'"),
        "{c}"
    );
}

/// `vigil flows` on moto's Athena: the flow-log query for an address is the expected SQL, the
/// rows print as flow log lines that `vigil analyze --flows` reads back.
#[test]
fn flows_asks_the_flow_log_table_and_prints_flow_log_lines() {
    let (m, url) = moto();
    let cell = |v: &str| serde_json::json!({ "VarCharValue": v });
    let header: Vec<serde_json::Value> = vigil::pivot::athena::FLOW_COLUMNS
        .iter()
        .map(|c| cell(c.trim_matches('"')))
        .collect();
    let mut rows = vec![serde_json::json!({ "Data": header })];
    for (i, (src, dst, sport, dport)) in [
        ("10.0.1.23", "203.0.113.45", "44523", "1389"),
        ("203.0.113.45", "10.0.1.23", "1389", "44523"),
        ("10.0.1.23", "203.0.113.45", "44530", "4444"),
    ]
    .iter()
    .enumerate()
    {
        let start = (1_714_557_600 + 60 * i).to_string();
        let end = (1_714_557_660 + 60 * i).to_string();
        let data: Vec<serde_json::Value> = [
            "2",
            "111122223333",
            "eni-0abc1234",
            src,
            dst,
            sport,
            dport,
            "6",
            "10",
            "840",
            &start,
            &end,
            "ACCEPT",
            "OK",
        ]
        .iter()
        .map(|v| cell(v))
        .collect();
        rows.push(serde_json::json!({ "Data": data }));
    }
    assert!(crate::moto_support::http_post_body(
        m.port,
        "/moto-api/static/athena/query-results",
        &serde_json::json!({ "results": [{ "rows": rows }] }).to_string()
    ));
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(["flows", "ip:203.0.113.45", "--athena", "vpc_flow_logs"])
        .args([
            "--athena-output",
            "s3://athena-results/",
            "--from",
            "2024-05-01T00:00:00Z",
        ])
        .args(["--region", "us-east-1", "--endpoint-url", &url])
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("FROM vpc_flow_logs WHERE (srcaddr = '203.0.113.45' OR dstaddr = '203.0.113.45') AND start >= 1714521600 ORDER BY start"),
        "{stderr}"
    );
    assert!(stderr.contains("3 flow record(s)"), "{stderr}");
    let log = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(log.lines().count(), 4, "{log}");
    // What analyze reads as flow logs.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("flows.log");
    std::fs::write(&file, &log).unwrap();
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args([
            "analyze",
            "--flows",
            file.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(0), "{v}");
}
