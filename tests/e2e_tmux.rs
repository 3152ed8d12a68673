//! End to end: the real binary in a real terminal (tmux) at 80×24. Plays the bundled demo, waits
//! for findings, opens the top one, pivots to its instance's graph, opens the trail and help,
//! quits, and checks the terminal was restored. Fails (does not skip) when tmux is missing: the
//! test command (scripts/test.sh) installs it.

use crate::tmux;
use std::process::Command;
use tmux::Tmux;

#[test]
fn demo_console_end_to_end_at_80x24() {
    let bin = env!("CARGO_BIN_EXE_vigil");
    let t = Tmux::start(
        "demo",
        (80, 24),
        &format!(
            "printf 'shell before vigil\\n'; {bin} demo --speed 1000; echo VIGIL-EXIT=$?; sleep 30"
        ),
    );
    // Findings arrive: the table fills and the header says DEMO.
    // A table row (the summary line also says HIGH), marked new.
    let screen = t.wait_for("● HIGH ");
    assert!(screen.contains("DEMO"), "{screen}");
    assert!(screen.contains("ARMED"), "{screen}");
    assert!(screen.contains("SEV  TYPE"), "{screen}");
    assert_eq!(
        t.display("#{alternate_on}"),
        "1",
        "the console runs on the alternate screen"
    );
    // Let the indexer finish so the trail is there.
    t.wait_for(" events ? help");

    // Open the top finding.
    for _ in 0..10 {
        t.keys(&["Up"]);
    }
    t.keys(&["Enter"]);
    let screen = t.wait_for("tactic");
    assert!(screen.contains("findings › finding"), "{screen}");
    assert!(screen.contains("entities"), "{screen}");

    // Pivot to its instance's graph: select the instance entity, then g.
    let screen = t.capture();
    let entity_rows: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("entities ("))
        .skip(1)
        .collect();
    let pos = entity_rows
        .iter()
        .position(|l| l.contains("instance:"))
        .unwrap_or_else(|| panic!("the top finding names an instance:\n{screen}"));
    for _ in 0..pos {
        t.keys(&["Down"]);
    }
    t.keys(&["g"]);
    let screen = t.wait_for("› graph instance:");
    assert!(screen.contains("involves"), "{screen}");

    // The instance's CloudTrail timeline.
    t.keys(&["t"]);
    let screen = t.wait_for("› trail instance:");
    assert!(screen.contains("TIME"), "{screen}");
    assert!(screen.contains("scope all"), "{screen}");

    // Help for the trail screen, generated from the keymap.
    t.keys(&["?"]);
    let screen = t.wait_for("[trail]");
    assert!(screen.contains("Scope: 1 hour"), "{screen}");
    assert!(screen.contains("› help"), "{screen}");

    // Quit: the shell comes back, the alternate screen is gone, the exit status is 0.
    t.keys(&["q"]);
    let screen = t.wait_for("VIGIL-EXIT=0");
    assert!(screen.contains("shell before vigil"), "{screen}");
    assert!(!screen.contains("ARMED"), "{screen}");
    assert_eq!(
        t.display("#{alternate_on}"),
        "0",
        "terminal restored to the main screen"
    );
}

#[test]
fn sigterm_restores_the_terminal() {
    let bin = env!("CARGO_BIN_EXE_vigil");
    let fx = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tui");
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("pid");
    let pidfile_s = pidfile.display().to_string();
    let t = Tmux::start(
        "sigterm",
        (80, 24),
        &format!(
            "sh -c 'echo $$ > {pidfile_s}; exec {bin} open --findings {fx}/findings.json --trail {fx}/trail.json'; \
         echo VIGIL-EXIT=$?; stty -a | grep -o -- '-*icanon' | sed 's/^/CANON=/'; sleep 30"
        ),
    );
    t.wait_for("SEV  TYPE");
    let pid = std::fs::read_to_string(&pidfile).expect("pid file");
    let status = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .expect("kill");
    assert!(status.success());
    let screen = t.wait_for("VIGIL-EXIT=");
    assert!(screen.contains("VIGIL-EXIT=0"), "{screen}");
    // Raw mode is off again: canonical input is back (stty prints `-icanon` when it is off, and
    // the flag is printed with its sign after `CANON=`).
    let screen = t.wait_for("CANON=");
    assert!(screen.contains("CANON=icanon"), "{screen}");
    assert_eq!(t.display("#{alternate_on}"), "0");
}
