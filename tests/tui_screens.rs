//! Every screen rendered into a TestBackend at 80×24 and 120×40 from the fixed incident in
//! tests/fixtures/tui/, snapshot-tested; colours and selection asserted on the styled buffer.

mod tui_support;

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

fn at(name: &str, w: u16, h: u16, opts: Options) -> State {
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
