#![allow(dead_code)] // each test crate uses a different part of this helper
//! Builds the console state for the small fixed incident in tests/fixtures/tui/ and drives it
//! through the reducer exactly as the runtime would.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;
use vigil::app::state::{Options, State};
use vigil::app::{Effect, Indexed, Key, KeyCode, Keymap, Msg, update};
use vigil::graph::EntityGraph;
use vigil::model::Ts;
use vigil::pivot::TrailIndex;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tui")
        .join(name)
}

/// 2024-05-01T12:00:00Z: the console's clock in every test.
pub const NOW: Ts = Ts(1_714_564_800_000);

pub fn state_with(opts: Options, width: u16, height: u16) -> State {
    let mut s = State::new(opts, Keymap::default_map().expect("default keymap"));
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
    let mut graph = EntityGraph::default();
    for f in findings {
        graph.add_finding(f);
    }
    let mut index = TrailIndex::new();
    for e in &evidence.events {
        graph.add_event(e);
        index.add(e.clone());
    }
    for q in &evidence.dns {
        graph.add_dns(q);
    }
    for r in &evidence.flows {
        graph.add_flow(r);
    }
    index.finish();
    Msg::Indexed(Box::new(Indexed {
        index,
        graph,
        findings: findings.len(),
        events: evidence.events.len(),
        elapsed_ms: 12,
    }))
}

/// Re-indexes the fixture's evidence plus `extra` events (a busier trail than the fixture's).
pub fn reindex_with(s: &mut State, extra: Vec<vigil::model::TrailEvent>) {
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

pub fn state(width: u16, height: u16) -> State {
    state_with(Options::default(), width, height)
}

/// Applies a message and runs the effects a test can run synchronously (raw reads).
pub fn send(s: &mut State, msg: Msg) {
    let effects = update(s, msg);
    for e in effects {
        if let Effect::LoadRaw { row, raw } = e {
            let text = raw.text().map_err(|e| e.to_string());
            send(s, Msg::RawLoaded { row, text });
        }
    }
}

/// Types keys written as in a keymap, separated by spaces (`enter`, `down`, `?`, `i`).
pub fn keys(s: &mut State, seq: &str) {
    for k in seq.split_whitespace() {
        let key = Key::parse(k).unwrap_or_else(|| panic!("bad key {k}"));
        send(s, Msg::Key(key));
    }
}

pub fn type_text(s: &mut State, text: &str) {
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
