//! The console's own loop (`Console::run`, what `vigil demo` and `vigil open` run over crossterm)
//! driven headless, as gitui's `gitui_starts` drives its app: a TestBackend, a fixed clock, the
//! real sources' messages on the real bus, until the quit key ends it.

use ratatui::backend::TestBackend;
use std::sync::Arc;
use vigil::app::state::{IndexState, Mode, Options, State};
use vigil::app::{Key, Keymap, Msg};
use vigil::console::{Console, FixedClock, index_scenario};
use vigil::demo::Scenario;
use vigil::model::Ts;

#[test]
fn the_real_loop_runs_headless_until_the_quit_key() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = rt.block_on(async {
        let opts = Options {
            mode: Mode::Demo,
            label: "log4shell-c2".into(),
            ..Options::default()
        };
        let state = State::new(opts, Keymap::default_map().unwrap());
        let now = Ts(1_714_564_800_000);
        let console = Console::new(
            state,
            TestBackend::new(80, 24),
            None,
            Arc::new(FixedClock(now)),
        )
        .unwrap();
        let bus = console.bus();
        let run = tokio::spawn(console.run());
        let sc = Arc::new(Scenario::load("log4shell-c2").unwrap());
        bus.send(Msg::Resize {
            width: 80,
            height: 24,
        })
        .await;
        bus.send(Msg::Tick { now }).await;
        bus.send(Msg::Findings(sc.all_findings())).await;
        // The scenario's evidence, indexed by the real loader on the blocking pool.
        let (loader, scenario) = (bus.clone(), sc.clone());
        tokio::task::spawn_blocking(move || index_scenario(&loader, &scenario))
            .await
            .unwrap();
        for k in ["j", "j", "q"] {
            bus.send(Msg::Key(Key::parse(k).unwrap())).await;
        }
        run.await.unwrap().unwrap()
    });
    let sc = Scenario::load("log4shell-c2").unwrap();
    assert!(state.quit);
    assert_eq!(state.findings.len(), sc.all_findings().len());
    assert_eq!(state.list.selected, 2, "the two `j`s moved the cursor");
    assert!(
        matches!(state.index_state, IndexState::Ready { events, .. } if events == sc.evidence.events.len()),
        "{:?}",
        state.index_state
    );
    assert!(matches!(
        state.evidence,
        Some(vigil::app::EvidenceRef::Demo { ref scenario, .. }) if scenario == "log4shell-c2"
    ));
}

/// Findings among the evidence (a GuardDuty export in the case folder given as the trail) reach
/// the findings list and the graph, as part of the load (not announced as new), with the trail's
/// events indexed beside them; the folder given as both findings and trail is read once, and
/// hunted.
#[test]
fn findings_among_the_evidence_join_the_list() {
    use vigil::console::{Bus, FileSources, load_files};
    let dir = crate::case_folder::mixed();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    load_files(
        &Bus::new(tx),
        FileSources {
            findings: Vec::new(),
            evidence: vec![dir.path().to_path_buf()],
            s3: Vec::new(),
            hunt: None,
        },
    );
    let mut s = State::new(Options::default(), Keymap::default_map().unwrap());
    while let Ok(env) = rx.try_recv() {
        vigil::app::update(&mut s, env.msg);
    }
    let ids: Vec<&str> = s.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, vec!["1ab92989eaf0e742df4a014d5example"]);
    assert!(s.unseen.iter().all(|u| !u), "part of the load, not news");
    let trail_events = match s.index_state {
        IndexState::Ready { events, .. } => events,
        _ => panic!("not indexed"),
    };
    assert!(trail_events > 0);
    let finding = s.findings[0].entity_id();
    assert!(s.graph.contains(&finding), "the graph holds the finding");

    // The same folder as findings and as trail: each file read once, the trail hunted.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    load_files(
        &Bus::new(tx),
        FileSources {
            findings: vec![dir.path().to_path_buf()],
            evidence: vec![dir.path().to_path_buf()],
            s3: Vec::new(),
            hunt: Some(vigil::console::HuntSetup::bundled()),
        },
    );
    let mut s = State::new(Options::default(), Keymap::default_map().unwrap());
    while let Ok(env) = rx.try_recv() {
        vigil::app::update(&mut s, env.msg);
    }
    assert!(
        matches!(s.index_state, IndexState::Ready { events, .. } if events == trail_events),
        "{:?}",
        s.index_state
    );
    let gd = s
        .findings
        .iter()
        .filter(|f| f.id == "1ab92989eaf0e742df4a014d5example")
        .count();
    assert_eq!(gd, 1);
    assert!(
        s.findings
            .iter()
            .any(|f| f.title.contains("CloudTrail Important Change")),
        "the trail was hunted: {:?}",
        s.findings.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
}
