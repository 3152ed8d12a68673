//! The reducer driven by message sequences, as the runtime and a replay would drive it.

use crate::tui_support;

use tui_support::*;
use vigil::app::state::{Align, Scope, View};
use vigil::app::{Effect, Msg, update};
use vigil::model::{EntityId, EntityKind};

fn top(s: &vigil::app::State) -> &str {
    match s.view() {
        None => "findings",
        Some(View::Detail(_)) => "detail",
        Some(View::Graph(_)) => "graph",
        Some(View::Profile(_)) => "profile",
        Some(View::Trail(_)) => "trail",
        Some(View::Event(_)) => "event",
        Some(View::Help(_)) => "help",
        Some(View::Confirm(_)) => "confirm",
        Some(View::Actions(_)) => "actions",
        Some(View::World(_)) => "world",
        Some(View::Detective(_)) => "detective",
        Some(View::Objectives { .. }) => "objectives",
    }
}

#[test]
fn open_finding_pivot_to_ip_trail_and_back() {
    let mut s = state(80, 24);
    // Third row: the credential exfiltration finding.
    keys(&mut s, "down down enter");
    let Some(View::Detail(d)) = s.view() else {
        panic!("detail expected, got {}", top(&s))
    };
    assert!(
        s.findings[d.finding]
            .finding_type
            .contains("InstanceCredentialExfiltration")
    );
    // Select the attacker's address in the entity list, then pivot to its trail.
    let pos = d
        .entities
        .iter()
        .position(|e| e.to_string() == "ip:203.0.113.50")
        .expect("actor ip among entities");
    for _ in 0..pos {
        keys(&mut s, "down");
    }
    keys(&mut s, "t");
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail expected, got {}", top(&s))
    };
    assert_eq!(t.entity.to_string(), "ip:203.0.113.50");
    assert_eq!(t.rows.len(), 8, "eight API calls came from the attacker");
    assert_eq!(t.total, 8);
    keys(&mut s, "esc");
    assert_eq!(top(&s), "detail");
    keys(&mut s, "esc");
    assert_eq!(top(&s), "findings");
    keys(&mut s, "esc");
    assert_eq!(top(&s), "findings");
}

#[test]
fn seed_questions_take_at_most_three_keys() {
    // Which API calls came from this IP: `i` (from the findings table or the detail).
    let mut s = state(80, 24);
    keys(&mut s, "down down i");
    assert!(
        matches!(s.view(), Some(View::Trail(t)) if t.entity.to_string() == "ip:203.0.113.50" && t.rows.len() == 8)
    );

    // Which credentials were used: `I`, the actor's profile lists the principals.
    let mut s = state(80, 24);
    keys(&mut s, "down down I");
    let out = text(&s);
    assert!(out.contains("Principals"), "{out}");
    assert!(
        out.contains("assumed-role/web-tier/i-0a1b2c3d4e5f60718"),
        "{out}"
    );

    // Which IPs talked to this instance: `p` on an instance finding (or `g` for the graph).
    let mut s = state(80, 24);
    keys(&mut s, "p");
    let out = text(&s);
    assert!(out.contains("Talked to"), "{out}");
    assert!(out.contains("198.51.100.23"), "{out}");

    // What this user agent called: `i` then `u` on any of the actor's events.
    let mut s = state(80, 24);
    keys(&mut s, "down down i u");
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail")
    };
    assert_eq!(t.entity.kind, EntityKind::Ua);
    assert_eq!(t.rows.len(), 8);

    // What happened before this finding: `b`, the resource's last 24 h up to the finding.
    let mut s = state(80, 24);
    keys(&mut s, "down down b");
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail")
    };
    assert_eq!(t.scope, Scope::Day);
    assert!(matches!(t.align, Align::Before(_)));
    assert_eq!(t.entity.to_string(), "key:ASIAZ4SI7REXAMPLE001");
    assert!(!t.rows.is_empty());
}

#[test]
fn trail_scopes_centre_and_filter() {
    let mut s = state(80, 24);
    keys(&mut s, "down down i");
    keys(&mut s, "1");
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail")
    };
    // The last hour of the pivot ends at 11:20: all eight events are within it.
    assert_eq!(t.rows.len(), 8);
    keys(&mut s, "c");
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail")
    };
    assert!(matches!(t.align, Align::Centre(_)));
    keys(&mut s, "0 /");
    type_text(&mut s, "getobject");
    keys(&mut s, "enter");
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail")
    };
    assert_eq!(t.rows.len(), 2);
    keys(&mut s, "x");
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail")
    };
    assert_eq!(t.rows.len(), 8);
}

#[test]
fn graph_recentre_breadcrumbs_marks_and_path() {
    let mut s = state(120, 40);
    keys(&mut s, "g");
    let Some(View::Graph(g)) = s.view() else {
        panic!("graph")
    };
    assert_eq!(g.center.to_string(), "instance:i-0a1b2c3d4e5f60718");
    let c2 = g
        .rows
        .iter()
        .position(|r| r.entity().is_some_and(|e| e.value == "198.51.100.23"))
        .expect("C2 ip is a neighbour");
    for _ in 0..c2 {
        keys(&mut s, "down");
    }
    keys(&mut s, "enter");
    let Some(View::Graph(g)) = s.view() else {
        panic!("graph")
    };
    assert_eq!(g.center.to_string(), "ip:198.51.100.23");
    assert_eq!(g.crumbs.len(), 1);
    keys(&mut s, "backspace");
    let Some(View::Graph(g)) = s.view() else {
        panic!("graph")
    };
    assert_eq!(g.center.to_string(), "instance:i-0a1b2c3d4e5f60718");
    // Mark the centre and the C2 address: the path between them is one hop.
    keys(&mut s, "m");
    for _ in 0..c2 {
        keys(&mut s, "down");
    }
    keys(&mut s, "m");
    let Some(View::Graph(g)) = s.view() else {
        panic!("graph")
    };
    let (nodes, _) = g.path.as_ref().expect("path");
    assert_eq!(nodes.len(), 2);
    // Backspace with no crumbs leaves the graph.
    keys(&mut s, "backspace");
    assert_eq!(top(&s), "findings");
}

#[test]
fn many_neighbours_collapse_by_kind_and_expand() {
    let mut s = state(80, 24);
    let base = vigil::ingest::load(&[fixture("findings.json")]).expect("load");
    // A prober finding with forty probing addresses on the bastion.
    let mut f = base.findings[4].clone();
    f.id = "f0000000000000000000000000000040".into();
    for i in 0..40 {
        f.entities.push(EntityId::new(
            EntityKind::Ip,
            format!("192.0.2.{}", 100 + i),
        ));
    }
    f.entities.sort();
    send(&mut s, Msg::Findings(vec![f]));
    vigil::app::update::run_command_line(&mut s, "graph finding:f0000000000000000000000000000040");
    let Some(View::Graph(g)) = s.view() else {
        panic!("graph")
    };
    let collapsed = g
        .rows
        .iter()
        .position(|r| matches!(r, vigil::app::state::GraphRow::Collapsed { n, .. } if *n > 40))
        .expect("ips collapse into one row");
    let before = g.rows.len();
    assert!(before < 12, "collapsed view is short: {before} rows");
    for _ in 0..collapsed {
        keys(&mut s, "down");
    }
    keys(&mut s, "space");
    let Some(View::Graph(g)) = s.view() else {
        panic!("graph")
    };
    assert!(g.rows.len() > 40);
}

/// The findings screen's help is taller than 24 rows: it pages, and its last keys come into view.
#[test]
fn help_pages_at_80_by_24() {
    let mut s = state(80, 24);
    keys(&mut s, "?");
    assert_eq!(top(&s), "help");
    let first = text(&s);
    assert!(!first.contains("Run the playbook"), "{first}");
    keys(&mut s, "pgdn");
    let Some(View::Help(h)) = s.view() else {
        panic!("help")
    };
    assert!(h.scroll > 1, "a page, not a line: {}", h.scroll);
    let paged = text(&s);
    assert_ne!(first, paged);
    assert!(!paged.contains("is not bound"), "{paged}");
    keys(&mut s, "pgup");
    assert_eq!(text(&s), first);
    for _ in 0..10 {
        keys(&mut s, "pgdn");
    }
    assert!(
        text(&s).contains("Run the playbook"),
        "the last keys come into view"
    );
}

#[test]
fn chords_are_pending_state_with_a_hint() {
    let user =
        vigil::app::Keymap::parse("keymaps/vim.toml", vigil::app::keymap::VIM_TOML).expect("vim");
    let mut s = state(80, 24);
    s.keymap = vigil::app::Keymap::default_map()
        .expect("default")
        .merged(user);
    keys(&mut s, "end");
    assert_eq!(s.list.selected, 5);
    keys(&mut s, "g");
    assert_eq!(s.pending.len(), 1);
    let out = text(&s);
    assert!(out.contains("g g: First finding"), "which-key hint: {out}");
    keys(&mut s, "g");
    assert!(s.pending.is_empty());
    assert_eq!(s.list.selected, 0);
    keys(&mut s, "g r");
    assert_eq!(top(&s), "graph");
}

#[test]
fn action_keys_are_refused_in_a_read_only_session() {
    // `vigil open` is read-only: no responder, and the reducer emits nothing for an action key.
    let mut s = state(80, 24);
    let effects = update(&mut s, Msg::Key(vigil::app::Key::char('X')));
    assert!(effects.is_empty());
    let st = s.status.as_ref().expect("status");
    assert!(st.text.contains("read-only session"), "{}", st.text);
    assert_eq!(top(&s), "findings");
}

#[test]
fn quit_and_signals_end_the_loop() {
    let mut s = state(80, 24);
    assert!(matches!(
        update(&mut s, Msg::Key(vigil::app::Key::char('q')))[..],
        [Effect::Quit]
    ));
    let mut s = state(80, 24);
    assert!(matches!(
        update(&mut s, Msg::Signal(vigil::app::Signal::Term))[..],
        [Effect::Quit]
    ));
    assert!(s.quit);
}

#[test]
fn the_reducer_is_deterministic() {
    let run = || {
        let mut s = state(120, 40);
        keys(&mut s, "down down enter down t enter esc esc g d ?");
        text(&s)
    };
    assert_eq!(run(), run());
}

#[test]
fn cursor_on_top_follows_the_top_and_a_moved_cursor_stays_on_its_finding() {
    use vigil::app::{Keymap, Msg, Options, State, update};
    let base = vigil::ingest::load(&[std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tui/findings.json")])
    .unwrap();
    let mut fs = base.findings.clone();
    fs.sort_by(|a, b| a.severity.total_cmp(&b.severity));
    let (low, rest) = fs.split_at(1);
    let mut s = State::new(Options::default(), Keymap::default_map().unwrap());
    update(&mut s, Msg::Findings(low.to_vec()));
    update(&mut s, Msg::Findings(rest.to_vec()));
    let top = |s: &State| match s.list.rows[s.list.selected] {
        vigil::app::state::ListRow::Finding(i) => s.findings[i as usize].id.clone(),
        _ => String::new(),
    };
    // Never moved: the selection is the most severe finding, not the first to arrive.
    let most = rest
        .iter()
        .max_by(|a, b| a.severity.total_cmp(&b.severity))
        .unwrap();
    assert_eq!(
        s.findings
            .iter()
            .find(|f| f.id == top(&s))
            .unwrap()
            .severity,
        most.severity
    );
    // Moved down one: a new arrival does not move it off its finding.
    update(
        &mut s,
        Msg::Key(vigil::app::keymap::Key::parse("down").unwrap()),
    );
    let chosen = top(&s);
    let mut extra = most.clone();
    extra.id = "zzzz-new".into();
    extra.severity = 9.9;
    update(&mut s, Msg::Findings(vec![extra]));
    assert_eq!(top(&s), chosen);
}

#[test]
fn load_errors_keep_one_status_line_with_the_running_total() {
    let mut s = state(80, 24);
    let bad = vigil::ingest::IngestError::record(
        std::path::Path::new("logs/evil\u{1b}[2J\u{9b}.json"),
        3,
        None,
        "invalid JSON: expected value",
    );
    send(
        &mut s,
        Msg::LoadErrors {
            count: 299_999,
            first: Some(bad.clone()),
        },
    );
    send(
        &mut s,
        Msg::LoadErrors {
            count: 1,
            first: Some(vigil::ingest::IngestError::record(
                std::path::Path::new("other.json"),
                1,
                None,
                "invalid JSON",
            )),
        },
    );
    assert_eq!(s.load_errors, 300_000);
    let status = s.status.as_ref().expect("a status line").text.clone();
    assert_eq!(
        status,
        "300,000 record(s) could not be read (see the log); latest: other.json:1: invalid JSON"
    );
    // The file name reaches the status line escaped, as the CLI prints it.
    assert_eq!(
        bad.to_string(),
        "logs/evil\\x1b[2J\\u{9b}.json:3: invalid JSON: expected value"
    );
}

/// A live session whose trail got events from LookupEvents before the local files finished
/// indexing: the new index holds both, each event once, and the API's rows stay marked.
#[test]
fn lookup_events_survive_the_local_index_arriving_later() {
    use vigil::app::{Key, KeyCode, Keymap, LookupProgress, LookupUpdate, Mode, Options, State};
    use vigil::model::Ts;
    let now = Ts::parse("2026-11-30T12:00:00Z").unwrap();
    let (events, records) = stratus_lookup_events(now);
    let mut s = State::new(
        Options {
            mode: Mode::Live,
            ..Options::default()
        },
        Keymap::default_map().unwrap(),
    );
    update(&mut s, Msg::Tick { now });
    let mut fx = Vec::new();
    for c in ":trail key:AKIAW9X2Q2U25SK79UCX".chars() {
        fx.extend(update(&mut s, Msg::Key(Key::plain(KeyCode::Char(c)))));
    }
    fx.extend(update(&mut s, Msg::Key(Key::parse("enter").unwrap())));
    let id = fx
        .iter()
        .find_map(|e| match e {
            Effect::Lookup { id, .. } => Some(*id),
            _ => None,
        })
        .expect("the trail asks LookupEvents");
    let body = serde_json::json!({ "Events": events }).to_string();
    update(
        &mut s,
        Msg::Lookup(LookupUpdate {
            id,
            source: "default/us-east-1".into(),
            progress: LookupProgress::Page { page: 1, body },
        }),
    );
    let ix = s.index.as_ref().unwrap();
    assert_eq!((ix.len(), ix.api_rows()), (56, 56));
    // The local files: the older half of the same events.
    let local = serde_json::json!({ "Records": records[..28] }).to_string();
    let loaded = vigil::ingest::load_bytes(std::path::Path::new("local.json"), local.into_bytes());
    update(&mut s, index_msg(&[], &loaded));
    let ix = s.index.as_ref().unwrap();
    assert_eq!(
        (ix.len(), ix.api_rows()),
        (56, 28),
        "each event once; the API's own stay marked"
    );
    let Some(View::Trail(t)) = s.view() else {
        panic!("trail")
    };
    assert_eq!(t.rows.len(), 56);
}
