#![allow(dead_code)] // each test crate uses a different part of this helper
//! Builds the console for the small fixed incident in tests/fixtures/tui/ and drives it through
//! the real console loop (`vigil::console::Console`) headless: a TestBackend, a fixed clock, the
//! real effect executor. A [`Harness`] reads as the console's state.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;
use std::sync::Arc;
use vigil::app::state::{Options, State};
use vigil::app::{Key, KeyCode, Keymap, Msg};
use vigil::console::{Console, EvidenceBuilder, FixedClock};
use vigil::model::Ts;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tui")
        .join(name)
}

/// 2024-05-01T12:00:00Z: the console's clock in every test.
pub const NOW: Ts = Ts(1_714_564_800_000);

/// The console loop over a TestBackend, read-only (no responder), on the fixed clock [`NOW`].
pub struct Harness {
    rt: tokio::runtime::Runtime,
    console: Console<TestBackend>,
}

impl Harness {
    pub fn new(state: State) -> Harness {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let backend = TestBackend::new(state.width, state.height);
        let console =
            Console::new(state, backend, None, Arc::new(FixedClock(NOW))).expect("console");
        Harness { rt, console }
    }

    /// Sends a message and runs the console until it is idle (effects answered and applied).
    pub fn send(&mut self, msg: Msg) {
        let Harness { rt, console } = self;
        rt.block_on(async {
            console.bus().send(msg).await;
            console.settle().await.expect("settle");
        });
    }

    /// What the loop drew last, at the console's size.
    pub fn screen(&mut self) -> String {
        let (w, h) = (self.console.state().width, self.console.state().height);
        self.console.terminal_mut().backend_mut().resize(w, h);
        self.console.draw().expect("draw");
        self.console.terminal().backend().to_string()
    }
}

impl std::ops::Deref for Harness {
    type Target = State;
    fn deref(&self) -> &State {
        self.console.state()
    }
}

impl std::ops::DerefMut for Harness {
    fn deref_mut(&mut self) -> &mut State {
        self.console.state_mut()
    }
}

pub fn state_with(opts: Options, width: u16, height: u16) -> Harness {
    let mut s = Harness::new(State::new(
        opts,
        Keymap::default_map().expect("default keymap"),
    ));
    let findings = vigil::ingest::load(&[fixture("findings.json")]).expect("findings");
    let evidence = vigil::ingest::load(&[
        fixture("trail.json"),
        fixture("flows.log"),
        fixture("dns.json"),
    ])
    .expect("evidence");
    assert!(findings.errors.is_empty() && evidence.errors.is_empty());
    send(&mut s, Msg::Resize { width, height });
    send(&mut s, Msg::Tick { now: NOW });
    send(&mut s, Msg::Findings(findings.findings.clone()));
    send(&mut s, index_msg(&findings.findings, &evidence));
    s
}

/// The fixture's evidence indexed with its findings, as the runtime's loader sends it.
pub fn index_msg(findings: &[vigil::model::Finding], evidence: &vigil::ingest::Loaded) -> Msg {
    let mut b = EvidenceBuilder::default();
    b.add_findings(findings);
    b.absorb_ref(evidence);
    Msg::Indexed(Box::new(b.finish(
        vigil::app::EvidenceRef::Inline {
            label: "tui fixture".into(),
        },
        findings.len(),
        12,
    )))
}

/// Stratus Red Team's ssm-send-command events (56, one IAM user's access key) as LookupEvents
/// returns them: newest first, each record as the `CloudTrailEvent` string, moved to end a day
/// before `now`. Also the records themselves, in the same times, oldest first.
pub fn stratus_lookup_events(
    now: vigil::model::Ts,
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    use vigil::model::Ts;
    let path =
        fixture("../public/stratus-red-team/detonation-logs/aws.execution.ssm-send-command.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json");
    let records = v
        .as_array()
        .cloned()
        .unwrap_or_else(|| v["Records"].as_array().expect("records").clone());
    let time =
        |r: &serde_json::Value| Ts::parse(r["eventTime"].as_str().expect("time")).expect("ts");
    let newest = records.iter().map(|r| time(r).0).max().expect("events");
    let moved: Vec<serde_json::Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let t = time(&r).0;
            r["eventTime"] = Ts(now.0 - 86_400_000 - (newest - t))
                .to_rfc3339_secs()
                .into();
            r
        })
        .collect();
    let events = moved
        .iter()
        .rev()
        .map(|r| serde_json::json!({"EventId": r["eventID"], "CloudTrailEvent": r.to_string()}))
        .collect();
    (events, moved)
}

/// Re-indexes the fixture's evidence plus `extra` events (a busier trail than the fixture's).
pub fn reindex_with(s: &mut Harness, extra: Vec<vigil::model::TrailEvent>) {
    let mut evidence = vigil::ingest::load(&[
        fixture("trail.json"),
        fixture("flows.log"),
        fixture("dns.json"),
    ])
    .expect("evidence");
    evidence.events.extend(extra);
    let findings = s.findings.clone();
    send(s, index_msg(&findings, &evidence));
}

pub fn state(width: u16, height: u16) -> Harness {
    state_with(Options::default(), width, height)
}

/// Applies a message through the console loop; its effects (raw reads) run and answer.
pub fn send(s: &mut Harness, msg: Msg) {
    s.send(msg);
}

/// Types keys written as in a keymap, separated by spaces (`enter`, `down`, `?`, `i`).
pub fn keys(s: &mut Harness, seq: &str) {
    for k in seq.split_whitespace() {
        let key = Key::parse(k).unwrap_or_else(|| panic!("bad key {k}"));
        send(s, Msg::Key(key));
    }
}

pub fn type_text(s: &mut Harness, text: &str) {
    for c in text.chars() {
        send(s, Msg::Key(Key::plain(KeyCode::Char(c))));
    }
}

pub fn draw(s: &State) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(s.width, s.height)).expect("terminal");
    t.draw(|f| vigil::views::render(s, f)).expect("draw");
    t
}

pub fn text(s: &State) -> String {
    draw(s).backend().to_string()
}
