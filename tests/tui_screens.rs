//! Every screen rendered into a TestBackend at 80×24 and 120×40 from the fixed incident in
//! tests/fixtures/tui/, snapshot-tested; colours and selection asserted on the styled buffer.

use crate::tui_support;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use tui_support::*;
use vigil::app::state::{Options, State, View};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Keys from the home screen to each screen (default keymap).
const SCREENS: &[(&str, &str)] = &[
    ("findings", ""),
    // The credential-exfiltration finding is third by severity then time.
    ("detail", "down down enter"),
    ("detail_raw", "down down enter r"),
    ("graph", "g"),
    ("graph_depth2", "g d"),
    ("profile_instance", "p"),
    ("profile_actor", "down down I"),
    ("trail_actor", "down down i"),
    ("trail_before", "down down b"),
    ("event", "down down i enter"),
    ("help_findings", "?"),
    ("help_graph", "g ?"),
    ("group_view", "G"),
    ("group_graph", "w"),
];

fn at(name: &str, w: u16, h: u16, opts: Options) -> Harness {
    let mut s = state_with(opts, w, h);
    let seq = SCREENS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, k)| *k)
        .unwrap_or_else(|| panic!("no screen {name}"));
    keys(&mut s, seq);
    s
}

#[test]
fn every_screen_snapshots() {
    for (name, _) in SCREENS {
        for (w, h) in SIZES {
            let s = at(name, w, h, Options::default());
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&s));
        }
    }
}

#[test]
fn command_line_and_completion_snapshot() {
    for (w, h) in SIZES {
        let mut s = state(w, h);
        keys(&mut s, ":");
        type_text(&mut s, "trail ip:203");
        keys(&mut s, "tab");
        insta::assert_snapshot!(format!("command_line_{w}x{h}"), text(&s));
        keys(&mut s, "enter");
        assert!(matches!(s.view(), Some(View::Trail(t)) if t.rows.len() == 8));
    }
}

#[test]
fn ascii_and_no_color_variants() {
    for (name, ascii, color) in [("ascii", true, true), ("nocolor", false, false)] {
        for screen in ["findings", "detail", "graph", "trail_actor"] {
            let opts = Options {
                ascii,
                color,
                ..Options::default()
            };
            let s = at(screen, 80, 24, opts);
            let t = draw(&s);
            let buf = t.backend().buffer();
            if ascii {
                for c in buf.content() {
                    assert!(
                        c.symbol().is_ascii(),
                        "{screen}: non-ASCII {:?} with --ascii",
                        c.symbol()
                    );
                }
            }
            if !color {
                for c in buf.content() {
                    assert_eq!(c.fg, Color::Reset, "{screen}: colour with NO_COLOR");
                    assert_eq!(c.bg, Color::Reset, "{screen}: colour with NO_COLOR");
                }
            }
            insta::assert_snapshot!(format!("{screen}_{name}_80x24"), t.backend());
        }
    }
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect()
}

fn find_row(buf: &Buffer, needle: &str) -> u16 {
    (0..buf.area.height)
        .find(|y| row_text(buf, *y).contains(needle))
        .unwrap_or_else(|| panic!("no row contains {needle}"))
}

fn badge_cell(buf: &Buffer, y: u16, badge: &str) -> (u16, u16) {
    let row = row_text(buf, y);
    let x = row.find(badge).expect("badge") as u16;
    (x, y)
}

#[test]
fn severity_colours_and_selection_are_styled() {
    let s = state(80, 24);
    let t = draw(&s);
    let buf = t.backend().buffer();
    let high = find_row(buf, "Backdoor:EC2/C&CActivity.B");
    let med = find_row(buf, "Discovery:IAMUser");
    let low = find_row(buf, "i-0fedcba9876543210");
    let c = &buf[badge_cell(buf, high, "HIGH")];
    assert_eq!(c.fg, Color::Red);
    assert!(c.modifier.contains(Modifier::BOLD));
    assert_eq!(buf[badge_cell(buf, med, "MED")].fg, Color::Yellow);
    assert_eq!(buf[badge_cell(buf, low, "LOW")].fg, Color::Cyan);
    // The first row is selected: reverse video across the row; the others are not.
    assert!(buf[(10, high)].modifier.contains(Modifier::REVERSED));
    assert!(!buf[(10, med)].modifier.contains(Modifier::REVERSED));

    // Moving the cursor moves the highlight.
    let mut s = state(80, 24);
    keys(&mut s, "down down down");
    let t = draw(&s);
    let buf = t.backend().buffer();
    let med = find_row(buf, "Discovery:IAMUser");
    assert!(buf[(10, med)].modifier.contains(Modifier::REVERSED));
    assert!(
        !buf[(10, find_row(buf, "Backdoor"))]
            .modifier
            .contains(Modifier::REVERSED)
    );
}

#[test]
fn no_color_keeps_selection_visible() {
    let s = state_with(
        Options {
            color: false,
            ..Options::default()
        },
        80,
        24,
    );
    let t = draw(&s);
    let buf = t.backend().buffer();
    let high = find_row(buf, "Backdoor");
    assert!(buf[(10, high)].modifier.contains(Modifier::REVERSED));
    // Severity still reads without colour: the badge text and bold for High.
    assert!(
        buf[badge_cell(buf, high, "HIGH")]
            .modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn new_findings_are_marked_until_seen() {
    let mut s = state(80, 24);
    let extra = vigil::ingest::load(&[fixture("findings.json")]).expect("load");
    let mut f = extra.findings[0].clone();
    f.id = "0new0000000000000000000000000000".into();
    f.severity = 9.5;
    f.finding_type = "AttackSequence:EC2/CompromisedInstanceGroup".into();
    send(&mut s, vigil::app::Msg::Findings(vec![f]));
    let out = text(&s);
    let line = out
        .lines()
        .find(|l| l.contains("AttackSequence"))
        .expect("new row");
    assert!(line.contains('●'), "new finding is marked: {line}");
    assert!(out.contains("CRIT 1"));
    // The cursor stayed on the finding it was on; moving onto the new one marks it seen.
    keys(&mut s, "home");
    let out = text(&s);
    let line = out
        .lines()
        .find(|l| l.contains("AttackSequence"))
        .expect("row");
    assert!(!line.contains('●'));
}

/// The actor's fixture events again, `copies` times, a minute apart after the originals and with
/// their own ids: a trail busier than the screen is tall.
fn busy_actor_trail(
    copies: usize,
    user_agent: impl Fn(usize) -> Option<String>,
) -> Vec<vigil::model::TrailEvent> {
    let trail = vigil::ingest::load(&[fixture("trail.json")]).expect("trail");
    let actor = vigil::model::EntityId::parse("ip:203.0.113.50").expect("id");
    let mine: Vec<_> = trail
        .events
        .into_iter()
        .filter(|e| e.entities.contains(&actor))
        .collect();
    assert!(!mine.is_empty());
    (0..copies)
        .map(|i| {
            let mut e = mine[i % mine.len()].clone();
            e.event_id = format!("busy-{i:04}");
            e.time = vigil::model::Ts(NOW.0 + 60_000 * (i as i64 + 1));
            if let Some(ua) = user_agent(i) {
                e.user_agent = Some(ua);
            }
            e
        })
        .collect()
}

fn screen_rows(s: &State) -> Vec<String> {
    let t = draw(s);
    let buf = t.backend().buffer();
    (0..buf.area.height).map(|y| row_text(buf, y)).collect()
}

#[test]
fn trail_table_stays_full_when_there_are_more_events_than_rows() {
    let mut s = state(80, 24);
    reindex_with(&mut s, busy_actor_trail(60, |_| None));
    keys(&mut s, "down down i");
    let Some(View::Trail(tv)) = s.view() else {
        panic!("trail expected")
    };
    let (n, page) = (tv.rows.len(), 24 - 5);
    assert!(n > page, "{n} events, {page} rows");
    insta::assert_snapshot!("trail_busy_80x24", text(&s));
    // From the latest event (where the trail opens) up to the first: every table row is drawn,
    // and the selected one is on screen.
    for step in 0..n {
        let t = draw(&s);
        let buf = t.backend().buffer();
        let table: Vec<u16> = (4..4 + page as u16).collect();
        for y in &table {
            assert!(
                !row_text(buf, *y).trim().is_empty(),
                "step {step}: row {y} blank"
            );
        }
        let selected = table
            .iter()
            .filter(|y| buf[(2, **y)].modifier.contains(Modifier::REVERSED))
            .count();
        assert_eq!(selected, 1, "step {step}: the selection is on screen");
        keys(&mut s, "up");
    }
}

#[test]
fn profile_tells_similar_user_agents_apart_and_counts_them() {
    let base = "aws-cli/2.15.30 Python/3.11.8 Linux/5.15.0-1051-aws exe/x86_64.ubuntu.22 prompt/off command/";
    let tails = ["s3.cp", "sts.get-caller-identity", "ec2.describe-instances"];
    // 7, 4 and 2 events: index i gets the tail whose share it falls in.
    let which = |i: usize| match i {
        0..7 => 0,
        7..11 => 1,
        _ => 2,
    };
    let mut s = state(80, 24);
    reindex_with(
        &mut s,
        busy_actor_trail(13, |i| Some(format!("{base}{}", tails[which(i)]))),
    );
    keys(&mut s, "down down I");
    insta::assert_snapshot!("profile_user_agents_80x24", text(&s));
    let rows = screen_rows(&s);
    for (tail, n) in tails.iter().zip([7, 4, 2]) {
        let row = rows
            .iter()
            .find(|r| r.contains(&format!("command/{tail}")))
            .unwrap_or_else(|| panic!("no row tells {tail} apart:\n{}", rows.join("\n")));
        let count: u64 = row
            .split_whitespace()
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("no count in {row}"));
        assert_eq!(count, n, "{row}");
        assert!(
            row.trim_start().contains("aws-cli/2.15.30"),
            "the head stays: {row}"
        );
    }
    // The fixture's own agent (8 events) is listed first.
    let first = rows
        .iter()
        .position(|r| r.contains("User agents"))
        .expect("heading");
    assert!(rows[first].contains("User agents (4"), "{}", rows[first]);
    assert!(
        rows[first + 1].trim_start().starts_with("8 "),
        "{}",
        rows[first + 1]
    );
}

fn demo_opts(label: &str) -> Options {
    Options {
        mode: vigil::app::Mode::Demo,
        read_only: false,
        label: label.to_string(),
        ..Options::default()
    }
}

#[test]
fn header_never_cuts_account_region_or_badge_at_80x24() {
    for label in [
        "log4shell-c2",
        "a-scenario-with-a-name-far-too-long-for-the-header-line",
    ] {
        let s = state_with(demo_opts(label), 80, 24);
        let header = &screen_rows(&s)[0];
        for whole in ["123456789012", "us-east-1", "ARMED", "12:00:00Z"] {
            assert!(header.contains(whole), "{whole} in {header:?}");
        }
        assert!(header.contains("DEMO"), "{header:?}");
    }
    // A window wide enough keeps the date and the brand.
    let s = state_with(demo_opts("log4shell-c2"), 120, 40);
    assert!(screen_rows(&s)[0].contains(" vigil │ DEMO log4shell-c2"));
    assert!(screen_rows(&s)[0].contains("2024-05-01 12:00:00Z"));
}

#[test]
fn status_line_says_how_much_quiet_the_demo_skipped() {
    let mut s = state_with(demo_opts("log4shell-c2"), 80, 24);
    assert!(!screen_rows(&s)[23].contains("quiet"));
    send(
        &mut s,
        vigil::app::Msg::QuietSkipped(std::time::Duration::from_secs(2 * 3600 + 14 * 60)),
    );
    insta::assert_snapshot!("status_quiet_skipped_80x24", text(&s));
    // (The glyph is two columns wide: the buffer holds it and a blank cell.)
    let status = &screen_rows(&s)[23];
    for whole in ["⏩", "2 h 14 m of quiet", "13 events", "? help", "q quit"] {
        assert!(status.contains(whole), "{whole} in {status:?}");
    }
    // The next skip replaces it.
    send(
        &mut s,
        vigil::app::Msg::QuietSkipped(std::time::Duration::from_secs(36 * 60)),
    );
    let status = &screen_rows(&s)[23];
    assert!(
        status.contains("36 m of quiet") && !status.contains("2 h"),
        "{status:?}"
    );
    // The finding the wait was for arrives: the wait is over, and so is the notice.
    let more = vigil::ingest::load(&[fixture("findings.json")]).expect("load");
    send(
        &mut s,
        vigil::app::Msg::Findings(vec![more.findings[0].clone()]),
    );
    let status = &screen_rows(&s)[23];
    assert!(!status.contains("quiet"), "{status:?}");
}

#[test]
fn a_long_status_message_comes_before_the_event_count() {
    use vigil::app::state::{Status, StatusLevel};
    let mut s = state(80, 24);
    let say = |s: &mut State, text: &str| {
        s.status = Some(Status {
            level: StatusLevel::Info,
            text: text.to_string(),
        })
    };
    say(&mut s, "cancelled: nothing was done");
    let status = &screen_rows(&s)[23];
    assert!(status.contains("cancelled: nothing was done") && status.contains("13 events"));
    let prompt = "type i-0c0f89991ec24aa09 (or its last 4) and enter to go ahead";
    say(&mut s, prompt);
    let status = &screen_rows(&s)[23];
    assert!(status.contains(prompt), "{status:?}");
    assert!(
        status.contains("? help") && !status.contains("events"),
        "{status:?}"
    );
}

/// Hints on the screens come from the keymap in force: rebinding a key changes what they say.
#[test]
fn hints_follow_the_keymap_in_force() {
    let mut s = state(120, 40);
    let user = vigil::app::Keymap::parse(
        "mine.toml",
        r#"
[detail]
r = { cmd = "noop", desc = "unbound" }
R = { cmd = "toggle_raw", desc = "raw" }
[graph]
enter = { cmd = "noop", desc = "unbound" }
x = { cmd = "recenter", desc = "re-centre" }
"#,
    )
    .expect("user keymap");
    s.keymap = vigil::app::Keymap::default_map()
        .expect("default")
        .merged(user);
    keys(&mut s, "enter");
    let screen = text(&s);
    assert!(screen.contains("finding (R: raw JSON)"), "{screen}");
    keys(&mut s, "R");
    let screen = text(&s);
    assert!(
        screen.contains("raw JSON (R hides, pgup/pgdn scroll)"),
        "{screen}"
    );
    keys(&mut s, "esc esc g");
    let screen = text(&s);
    assert!(screen.contains(" x re-centre  backspace back"), "{screen}");
    assert!(!screen.contains("enter re-centre"), "{screen}");
}

/// Findings from more than one region (a `vigil live` over several) keep the account/region column
/// at 80 columns, in the group column's place; one place needs neither.
#[test]
fn several_regions_show_the_account_and_region_at_80_columns() {
    let mut s = state(80, 24);
    assert!(!text(&s).contains("ACCOUNT/REGION"));
    let mut other = s.findings[0].clone();
    other.id = "f-in-another-region".into();
    other.region = Some("eu-west-1".into());
    send(&mut s, vigil::app::Msg::Findings(vec![other]));
    let screen = text(&s);
    assert!(screen.contains("ACCOUNT/REGION"), "{screen}");
    assert!(screen.contains("eu-west-1"), "{screen}");
    assert!(screen.contains("us-east-1"), "{screen}");
}

/// A live poll where a region failed: the header counts the failing sources, the status line says
/// which and why; the next poll that succeeds clears it.
#[test]
fn a_failing_live_source_is_counted_in_the_header_until_it_recovers() {
    let mut s = state(80, 24);
    let failed = vec![vigil::app::SourceFailure {
        source: "prod/eu-west-1".into(),
        reason: "AccessDeniedException: not authorized".into(),
        throttled: false,
    }];
    send(
        &mut s,
        vigil::app::Msg::Polled {
            failed,
            administrators: Vec::new(),
        },
    );
    let screen = text(&s);
    let rows: Vec<&str> = screen.lines().collect();
    assert!(rows[0].contains("1 FAILING"), "{}", rows[0]);
    assert!(
        screen.contains("live: prod/eu-west-1: AccessDenied"),
        "{screen}"
    );
    // A throttled source is told apart: it backs off and comes back by itself.
    let failed = vec![vigil::app::SourceFailure {
        source: "prod/us-east-1".into(),
        reason: "TooManyRequestsException: Rate exceeded".into(),
        throttled: true,
    }];
    send(
        &mut s,
        vigil::app::Msg::Polled {
            failed,
            administrators: Vec::new(),
        },
    );
    let top = text(&s).lines().next().unwrap().to_string();
    assert!(
        top.contains("1 THROTTLED") && !top.contains("FAILING"),
        "{top}"
    );
    send(
        &mut s,
        vigil::app::Msg::Polled {
            failed: Vec::new(),
            administrators: Vec::new(),
        },
    );
    assert!(!text(&s).lines().next().unwrap().contains("FAILING"));
}

/// A delegated administrator: the header says so and every row shows its account, even while
/// the findings so far come from one account.
#[test]
fn an_administrator_shows_the_member_account_on_each_row() {
    let mut s = state(80, 24);
    assert!(!text(&s).contains("ACCOUNT/REGION"));
    send(
        &mut s,
        vigil::app::Msg::Polled {
            failed: Vec::new(),
            administrators: vec![vigil::app::Administrator {
                source: "security/us-east-1".into(),
                members: 12,
            }],
        },
    );
    let screen = text(&s);
    assert!(
        screen.lines().next().unwrap().contains("ADMIN 12 members"),
        "{screen}"
    );
    assert!(screen.contains("ACCOUNT/REGION"), "{screen}");
}

/// A live session's screens, driven through the pure reducer with Detective's and LookupEvents'
/// answers as the executor would send them (a fixed clock, so the frames do not move): the trail
/// filled by two API pages, an address trail the API cannot answer, the Detective panel.
#[test]
fn live_screens_snapshot() {
    use vigil::app::{Key, Keymap, LookupProgress, LookupUpdate, Msg, update};
    use vigil::model::Ts;
    use vigil::model::detective::{DetectiveReport, Indicator, Investigation};
    let now = Ts::parse("2026-11-30T12:00:00Z").unwrap();
    let (events, _) = stratus_lookup_events(now);
    for (w, h) in SIZES {
        let mut s = State::new(
            Options {
                mode: vigil::app::Mode::Live,
                label: "AdminRole".into(),
                ..Options::default()
            },
            Keymap::default_map().unwrap(),
        );
        update(
            &mut s,
            Msg::Resize {
                width: w,
                height: h,
            },
        );
        update(&mut s, Msg::Tick { now });
        let press = |s: &mut State, text: &str| {
            let mut fx = Vec::new();
            for c in text.chars() {
                let k = match c {
                    '\n' => Key::parse("enter").unwrap(),
                    c => Key::plain(vigil::app::KeyCode::Char(c)),
                };
                fx.extend(update(s, Msg::Key(k)));
            }
            fx
        };
        let fx = press(&mut s, ":trail key:AKIAW9X2Q2U25SK79UCX\n");
        let id = match fx.as_slice() {
            [vigil::app::Effect::Lookup { id, .. }] => *id,
            other => panic!("{other:?}"),
        };
        let source = "default/us-east-1".to_string();
        for (page, chunk) in events.chunks(50).enumerate() {
            let body = serde_json::json!({ "Events": chunk }).to_string();
            let progress = LookupProgress::Page {
                page: page as u32 + 1,
                body,
            };
            update(
                &mut s,
                Msg::Lookup(LookupUpdate {
                    id,
                    source: source.clone(),
                    progress,
                }),
            );
            if page == 0 {
                insta::assert_snapshot!(format!("trail_lookup_running_{w}x{h}"), text(&s));
            }
        }
        for progress in [
            LookupProgress::SourceDone {
                pages: 2,
                capped: false,
            },
            LookupProgress::Finished,
        ] {
            update(
                &mut s,
                Msg::Lookup(LookupUpdate {
                    id,
                    source: source.clone(),
                    progress,
                }),
            );
        }
        insta::assert_snapshot!(format!("trail_lookup_done_{w}x{h}"), text(&s));

        let fx = press(&mut s, ":trail ip:203.0.113.7\n");
        assert!(
            fx.iter()
                .all(|e| !matches!(e, vigil::app::Effect::Lookup { .. })),
            "{fx:?}"
        );
        insta::assert_snapshot!(format!("trail_lookup_ip_{w}x{h}"), text(&s));

        let fx = press(
            &mut s,
            ":trail role:arn:aws:iam::123456789012:role/WebServerRole\nV",
        );
        let panel = fx
            .iter()
            .find_map(|e| match e {
                vigil::app::Effect::Investigate { id, .. } => Some(*id),
                _ => None,
            })
            .expect("V asks Detective");
        let ind = |kind: &str, detail: &str, ip: &str| Indicator {
            kind: kind.into(),
            detail: detail.into(),
            pivot: vigil::model::EntityId::ip(ip),
        };
        let report = DetectiveReport {
            graph: Some("arn:aws:detective:us-east-1:123456789012:graph:0123456789abcdef".into()),
            investigations: vec![Investigation {
                id: "001122334455667788990".into(),
                entity_arn: "arn:aws:iam::123456789012:role/WebServerRole".into(),
                status: "SUCCESSFUL".into(),
                severity: "HIGH".into(),
                state: "ACTIVE".into(),
                created: Some(Ts(now.0 - 3_600_000)),
            }],
            shown: Some("001122334455667788990".into()),
            indicators: vec![
                ind(
                    "TTP_OBSERVED",
                    "Discovery / T1580: Cloud infrastructure discovery — DescribeInstances from 198.51.100.23 (12 ok, 3 failed)",
                    "198.51.100.23",
                ),
                ind(
                    "FLAGGED_IP_ADDRESS",
                    "203.0.113.7 flagged: AWS_THREAT_INTELLIGENCE",
                    "203.0.113.7",
                ),
                ind(
                    "IMPOSSIBLE_TRAVEL",
                    "Frankfurt, DE (192.0.2.10) → Sao Paulo, BR (203.0.113.7) in 1 h",
                    "203.0.113.7",
                ),
            ],
        };
        update(
            &mut s,
            Msg::Detective {
                id: panel,
                report: Ok(report),
            },
        );
        update(&mut s, Msg::Key(Key::parse("j").unwrap()));
        insta::assert_snapshot!(format!("detective_{w}x{h}"), text(&s));
    }
}

/// A drill's objectives screen after one hint, with the DRILL time left and REC in the header;
/// and a replay's banner.
#[test]
fn drill_and_replay_screens_snapshot() {
    use vigil::app::state::{DrillState, ReplayInfo};
    use vigil::model::Ts;
    for (w, h) in SIZES {
        let mut s = state(w, h);
        let now = Ts::parse("2026-11-30T12:00:00Z").unwrap();
        s.drill = Some(DrillState {
            scenario: "log4shell-c2".into(),
            time_limit_s: Some(1800),
            objectives: vec![
                "Find the finding that matters among the noise, and open it.".into(),
                "Contain 1 compromised instance(s) — and nothing healthy.".into(),
            ],
            hints: vec![
                "The finding that matters: Execution:Runtime/ReverseShell.".into(),
                "One attacker address is 203.0.113.45: pivot on it.".into(),
            ],
            hints_used: 0,
            started: None,
        });
        send(&mut s, vigil::app::Msg::Tick { now });
        send(
            &mut s,
            vigil::app::Msg::Recording {
                path: Some("/tmp/drill.jsonl.gz".into()),
                error: None,
            },
        );
        send(
            &mut s,
            vigil::app::Msg::Tick {
                now: Ts(now.0 + 95_000),
            },
        );
        keys(&mut s, "O h");
        let screen = text(&s);
        assert!(screen.contains("DRILL 28:25 left"), "{screen}");
        assert!(screen.contains("● REC"), "{screen}");
        assert!(screen.contains("Hints 1 of 2"), "{screen}");
        insta::assert_snapshot!(format!("drill_objectives_{w}x{h}"), screen);
        s.replay = Some(ReplayInfo {
            at_ms: 83_000,
            total_ms: 190_000,
            paused: true,
            speed_pct: 200,
        });
        let top = text(&s).lines().next().unwrap().to_string();
        assert!(top.contains("REPLAY 1:23/3:10 paused 2×"), "{top}");
        assert!(
            !top.contains("REC"),
            "a replay shows its banner, not REC: {top}"
        );
    }
}

/// A threat list naming the fixture's caller (203.0.113.50), its instance's peer
/// (198.51.100.23) and its DNS zone, and the hunt's detections (the bundled rules over the
/// fixture trail, the list over its flows and queries), as the loader sends them: every screen
/// marks what is on the list, and the trail marks the events a rule matched.
#[test]
fn intel_and_hunt_marks_on_every_screen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed.txt");
    std::fs::write(&path, "203.0.113.50\n198.51.100.23\nexample-bad.net\n").unwrap();
    let (feed, _) =
        vigil::hunt::IntelList::load(&path, vigil::hunt::ListKind::Threat, None).unwrap();
    let intel = vigil::hunt::Intel { lists: vec![feed] };
    let hunter =
        vigil::hunt::Hunter::new(&vigil::hunt::RuleSet::bundled()).with_intel(intel.clone());
    let matches = hunter
        .scan(&[fixture("trail.json")], vigil::pivot::Window::all())
        .unwrap();
    let mut found = hunter.correlate(matches).detections;
    let logs = vigil::ingest::load(&[fixture("flows.log"), fixture("dns.json")]).unwrap();
    let mut net = vigil::hunt::NetIntel::new(intel.clone());
    net.add_flows(&logs.flows);
    net.add_dns(&logs.dns);
    found.extend(net.detections());
    assert!(found.iter().any(|d| d.records > 0), "{found:#?}");

    // The findings list names a detection's principal by its ARN's resource part: the account
    // is in its own column, and a whole ARN cut to the column showed only `arn:aws:sts::1111…`.
    let mut s = state(80, 24);
    send(&mut s, vigil::app::Msg::Detections(found.clone()));
    let list = text(&s);
    let principal = found
        .iter()
        .find_map(|d| {
            d.to_finding()
                .resource
                .strip_prefix("arn:")
                .map(|_| d.to_finding())
        })
        .expect("a detection about a principal");
    let short = vigil::model::arn::short_name(&principal.resource);
    assert_ne!(short, principal.resource);
    assert!(
        list.contains(&short[..short.len().min(18)]),
        "{short}: {list}"
    );
    assert!(!list.contains("arn:aws:"), "{list}");

    for (name, seq, expect) in [
        ("trail_actor", "down down i", "[intel:feed]"),
        ("event", "down down i enter", "[intel:feed]"),
        ("graph", "g", "[intel:feed]"),
        ("profile_instance", "p", "[intel:feed]"),
        ("detail", "down down enter", "[intel:feed]"),
    ] {
        let mut s = state(80, 24);
        send(&mut s, vigil::app::Msg::Intel(intel.clone()));
        send(&mut s, vigil::app::Msg::Detections(found.clone()));
        keys(&mut s, seq);
        let screen = text(&s);
        assert!(screen.contains(expect), "{name}: {screen}");
        insta::assert_snapshot!(format!("intel_{name}_80x24"), screen);
    }
}

/// The detail screen says whether the resource did it (GuardDuty's resourceRole ACTOR) or had it
/// done to it, and a resource named only by its type (a sample's placeholder instance) is not
/// named twice.
#[test]
fn the_detail_says_whether_the_resource_is_the_actor() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/public/mozdef/guardduty_findings_reconstructed.jsonl");
    let l = vigil::ingest::load(&[path]).unwrap();
    let mut s = state(80, 24);
    send(&mut s, vigil::app::Msg::Findings(l.findings));
    for (filter, line) in [
        (
            "DenialOfService.Tcp",
            "resource Instance (the actor: it did this)",
        ),
        (
            "i-0618726e20846a8dc",
            "resource i-0618726e20846a8dc (Instance, the target)",
        ),
    ] {
        keys(&mut s, "esc c /");
        type_text(&mut s, filter);
        keys(&mut s, "enter enter");
        let out = text(&s);
        assert!(out.contains(line), "{filter}: {out}");
    }
}

/// A profile open while the trail grows (a segment, a LookupEvents page, a new index) counts
/// what the index holds now, not what it held when the profile opened.
#[test]
fn an_open_profile_follows_the_index_as_it_grows() {
    let mut s = state(80, 24);
    keys(&mut s, "down down I");
    let calls = |s: &State| {
        screen_rows(s)
            .into_iter()
            .find(|r| r.contains(" API calls, "))
            .unwrap_or_default()
    };
    assert!(
        calls(&s).starts_with(" 8 API calls, 2 failed, 2 findings"),
        "{}",
        calls(&s)
    );
    reindex_with(&mut s, busy_actor_trail(13, |_| None));
    assert!(matches!(s.view(), Some(View::Profile(_))));
    assert!(calls(&s).starts_with(" 21 API calls, "), "{}", calls(&s));

    // Under another screen it is not counted at each growth, but when it is back on top.
    keys(&mut s, "t");
    assert!(matches!(s.view(), Some(View::Trail(_))));
    reindex_with(&mut s, busy_actor_trail(20, |_| None));
    let Some(View::Profile(under)) = s.stack.iter().rev().nth(1) else {
        panic!("the profile is under the trail")
    };
    assert!(under.stale);
    assert_eq!(under.activity.as_ref().map(|a| a.events), Some(21));
    keys(&mut s, "esc");
    assert!(matches!(s.view(), Some(View::Profile(p)) if !p.stale));
    assert!(calls(&s).starts_with(" 28 API calls, "), "{}", calls(&s));
}
