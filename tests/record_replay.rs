//! Recorded sessions: a scripted session of each demo scenario, recorded by the console loop,
//! replays to the same frames twice and ends on the frame the session ended on; a recording
//! killed mid-session (SIGKILL) replays up to its last whole message; redaction leaves no
//! original identifier and keeps the graph's shape; the real binary records in tmux and exports
//! a valid asciicast v2 file and an after-action report; a drill ends with a score card.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::sync::Arc;
use vigil::app::state::{Mode, Options, State};
use vigil::app::{Key, Keymap, Msg};
use vigil::console::{Console, FixedClock, Player, frames, index_scenario};
use vigil::demo::Scenario;
use vigil::model::Ts;

const NOW: Ts = Ts(1_741_687_200_000);

/// Drives the console loop over a scenario (read-only), recording to `path`; its last frame.
fn record_session(scenario: &str, path: &Path) -> String {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let opts = Options {
            mode: Mode::Demo,
            label: scenario.into(),
            ..Options::default()
        };
        let state = State::new(opts, Keymap::default_map().unwrap());
        let mut console = Console::new(
            state,
            TestBackend::new(80, 24),
            None,
            Arc::new(FixedClock(NOW)),
        )
        .unwrap();
        console.keep_log(Some((path, false)));
        let bus = console.bus();
        let sc = Arc::new(Scenario::load(scenario).unwrap());
        bus.send(Msg::Resize {
            width: 80,
            height: 24,
        })
        .await;
        bus.send(Msg::Tick { now: NOW }).await;
        bus.send(Msg::Findings(sc.all_findings())).await;
        let (loader, s2) = (bus.clone(), sc.clone());
        tokio::task::spawn_blocking(move || index_scenario(&loader, &s2))
            .await
            .unwrap();
        console.settle().await.unwrap();
        // Look around: a finding, its raw JSON, the actor's trail and an event, the graph, a
        // profile, back home, the help.
        for k in [
            "j", "j", "enter", "r", "r", "esc", "i", "enter", "esc", "esc", "g", "j", "esc", "p",
            "esc", "?", "esc",
        ] {
            bus.send(Msg::Key(Key::parse(k).unwrap())).await;
            console.settle().await.unwrap();
        }
        bus.send(Msg::Tick {
            now: Ts(NOW.0 + 61_000),
        })
        .await;
        console.settle().await.unwrap();
        console.terminal().backend().to_string()
    })
}

fn replay_frames(path: &Path) -> Vec<String> {
    let mut player = Player::open(path).unwrap();
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut out = Vec::new();
    frames(&mut player, &mut term, |t| {
        out.push(t.backend().to_string())
    })
    .unwrap();
    assert!(player.warnings.is_empty(), "{:?}", player.warnings);
    assert_eq!(player.applied, player.total);
    out
}

#[test]
fn every_scenario_replays_to_identical_frames() {
    for sc in ["log4shell-c2", "iam-credential-chain", "dns-c2-exfil"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{sc}.jsonl"));
        let last = record_session(sc, &path);
        let first = replay_frames(&path);
        let second = replay_frames(&path);
        assert!(first.len() > 20, "{sc}: {} frames", first.len());
        assert_eq!(first, second, "{sc}: two replays differ");
        assert_eq!(
            first.last().unwrap(),
            &last,
            "{sc}: the replay ends on another frame than the session"
        );
        // The pivots happened: the replay went through a finding and the graph.
        assert!(first.iter().any(|f| f.contains("› finding ")), "{sc}");
        assert!(first.iter().any(|f| f.contains("› graph ")), "{sc}");
    }
}

/// A redacted copy: none of the scenario's account id, attacker addresses or key ids is left
/// anywhere in the file (the evidence is carried in it, redacted too), and the replay builds a
/// graph of the same shape with the same findings.
#[test]
fn redaction_replaces_identifiers_and_keeps_the_shape() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    record_session("log4shell-c2", &path);
    let red = dir.path().join("r.redacted.jsonl.gz");
    let out = assert_cmd::Command::cargo_bin("vigil")
        .unwrap()
        .args(["record", "redact"])
        .arg(&path)
        .arg(&red)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("replaced:"), "{said}");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&red).unwrap()),
        &mut text,
    )
    .unwrap();
    let sc = Scenario::load("log4shell-c2").unwrap();
    let key = &sc.manifest.answer_key;
    let mut originals = vec![sc.manifest.account_id.clone()];
    originals.extend(key.attacker_ips.iter().cloned());
    originals.extend(
        key.compromised
            .iter()
            .filter_map(|c| c.strip_prefix("key:"))
            .map(str::to_string),
    );
    for o in &originals {
        assert!(
            !text.contains(o.as_str()),
            "{o} is still in the redacted recording"
        );
    }
    assert!(text.contains("\"redacted\":true"));
    let shape = |p: &Path| {
        let mut player = Player::open(p).unwrap();
        while player.step(None) {}
        assert!(player.warnings.is_empty(), "{:?}", player.warnings);
        let s = &player.state;
        (
            s.findings.len(),
            s.graph.node_count(),
            s.graph.edge_count(),
            s.index.as_ref().map(|i| i.len()),
        )
    };
    let (a, b) = (shape(&path), shape(&red));
    assert_eq!(a, b, "the redacted recording's shape differs");
    assert!(a.1 > 50, "{a:?}");
}

/// The real binary in tmux: `vigil demo --record` for a while, then SIGKILL (no chance to
/// close the file); the recording still reads and replays up to its last whole message.
#[test]
fn a_killed_recording_replays_to_its_last_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.jsonl.gz");
    let bin = env!("CARGO_BIN_EXE_vigil");
    let t = crate::tmux::Tmux::start(
        "rec-kill",
        (80, 24),
        &format!(
            "{bin} demo --read-only --speed 600 --record {}; sleep 30",
            path.display()
        ),
    );
    t.wait_for("REC");
    t.wait_for("HIGH Backdoor");
    t.keys(&["j", "Enter"]);
    t.wait_for("› finding");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let pid = std::process::Command::new("pgrep")
        .args(["-f", &format!("record {}", path.display())])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout)
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let rec = vigil::record::read(&path).unwrap();
    assert!(rec.envelopes.len() > 5, "{} messages", rec.envelopes.len());
    assert!(
        rec.envelopes.iter().any(|e| matches!(e.msg, Msg::Key(_))),
        "the keys were recorded before the kill"
    );
    let total = rec.envelopes.len();
    let mut player = Player::new(rec).unwrap();
    while player.step(None) {}
    assert_eq!(player.applied, total);
    assert!(player.state.findings.len() > 1);
}

/// asciicast v2: a header with version 2, width and height, then `[time, code, data]` events
/// with non-decreasing times, every line valid JSON.
fn assert_valid_cast(text: &str) {
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert!(header["width"].as_u64().unwrap() > 0);
    assert!(header["height"].as_u64().unwrap() > 0);
    let mut last = 0.0;
    let mut n = 0;
    for l in lines {
        let ev: serde_json::Value = serde_json::from_str(l).unwrap();
        let ev = ev.as_array().unwrap();
        assert_eq!(ev.len(), 3, "{l}");
        let t = ev[0].as_f64().unwrap();
        assert!(t >= last, "time went back: {t} < {last}");
        last = t;
        let code = ev[1].as_str().unwrap();
        assert!(code == "o" || code == "r", "{code}");
        assert!(ev[2].is_string());
        n += 1;
    }
    assert!(n > 5, "{n} events");
}

/// The real binary in tmux at 80×24: `vigil demo --record`, a few keys, quit; then `vigil replay
/// --export-cast` gives a valid asciicast v2 with the screens in it, and `--export-report` the
/// after-action timeline.
#[test]
fn a_recorded_demo_exports_a_cast_and_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.jsonl");
    let bin = env!("CARGO_BIN_EXE_vigil");
    let t = crate::tmux::Tmux::start(
        "rec-cast",
        (80, 24),
        &format!(
            "{bin} demo --read-only --speed 600 --record {}; echo VIGIL-EXIT=$?; sleep 30",
            path.display()
        ),
    );
    t.wait_for("● REC");
    t.wait_for("HIGH Backdoor");
    t.keys(&["j", "Enter"]);
    t.wait_for("› finding");
    // Escape and q sent together can arrive as one Alt-q: back to the list first.
    t.keys(&["Escape"]);
    t.wait_for("SEV  TYPE");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
    let cast = dir.path().join("demo.cast");
    let md = dir.path().join("demo.md");
    let out = assert_cmd::Command::cargo_bin("vigil")
        .unwrap()
        .arg("replay")
        .arg(&path)
        .arg("--export-cast")
        .arg(&cast)
        .arg("--export-report")
        .arg(&md)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&cast).unwrap();
    assert_valid_cast(&text);
    assert!(
        text.contains("DEMO log4shell-c2"),
        "the header line is in the cast"
    );
    let report = std::fs::read_to_string(&md).unwrap();
    assert!(
        report.starts_with("# After-action report: demo log4shell-c2"),
        "{report}"
    );
    assert!(report.contains("| finding arrived: "), "{report}");
    assert!(report.contains("| opened finding "), "{report}");
}

/// `vigil train` in tmux: the objectives (O), one hint (h), quit: the score card is printed with
/// the hint's cost, and the recording and the after-action report are where it says.
#[test]
fn a_drill_ends_with_a_score_card() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("drill.jsonl");
    let bin = env!("CARGO_BIN_EXE_vigil");
    let t = crate::tmux::Tmux::start(
        "drill",
        (80, 24),
        &format!(
            "{bin} train log4shell-c2 --speed 600 --time-limit 30 --record {}; echo VIGIL-EXIT=$?; sleep 30",
            path.display(),
        ),
    );
    t.wait_for("DRILL");
    t.keys(&["O"]);
    let screen = t.wait_for("Objectives");
    assert!(
        screen.contains("Contain 1 compromised instance(s)"),
        "{screen}"
    );
    t.keys(&["h"]);
    t.wait_for("Hints 1 of");
    t.keys(&["q"]);
    let printed = t.wait_for("VIGIL-EXIT=0");
    assert!(printed.contains("Score: "), "{printed}");
    assert!(printed.contains("-5 1 hint(s)"), "{printed}");
    assert!(printed.contains("open the key finding"), "{printed}");
    let report = std::fs::read_to_string(path.with_extension("report.md")).unwrap();
    assert!(
        report.starts_with("# After-action report: drill log4shell-c2"),
        "{report}"
    );
    let rec = vigil::record::read(&path).unwrap();
    assert_eq!(
        rec.header.drill.as_ref().map(|d| d.time_limit_s),
        Some(Some(1800))
    );
}
