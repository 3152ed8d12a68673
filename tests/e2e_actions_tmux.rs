//! End to end, the real binary in tmux: response actions from the keyboard in `vigil demo` (plan,
//! confirm screen, a wrong confirmation, the right one, the actions screen, snapshot progress) and
//! the refusal in `vigil open` (read-only). Fails (does not skip) when tmux is missing.

use crate::tmux;
use tmux::Tmux;

#[test]
fn demo_quarantine_and_snapshot_from_the_keyboard() {
    let bin = env!("CARGO_BIN_EXE_vigil");
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let t = Tmux::start(
        "demo",
        (100, 30),
        &format!(
            "{bin} demo --speed 1000 --audit-log {}; echo VIGIL-EXIT=$?; sleep 30",
            audit.display()
        ),
    );
    t.wait_for("ARMED");
    // Every finding in and the evidence indexed; then the top row (web-1's C&C finding).
    t.wait_for("8/8 by severity");
    t.wait_for(" events ? help");
    for _ in 0..10 {
        t.keys(&["k"]);
    }
    t.keys(&["X"]);
    // The plan's calls, not its title: the title is drawn first, and a capture taken while the
    // rest of the frame is being written shows the screen before it.
    let screen = t.wait_for("ec2:ModifyInstanceAttribute");
    assert!(screen.contains("› confirm quarantine"), "{screen}");
    assert!(screen.contains("Blast radius"), "{screen}");
    assert!(screen.contains("shop-web-asg"), "{screen}");
    // A wrong confirmation does nothing.
    t.keys(&["n", "o", "p", "e", "Enter"]);
    t.wait_for("does not match: nothing was done");
    assert!(!audit.exists(), "nothing was written before a confirmation");
    // The last four characters of i-0c0f89991ec24aa09 go ahead.
    t.keys(&["a", "a", "0", "9", "Enter"]);
    let screen = t.wait_for("done: quarantine i-0c0f89991ec24aa09");
    assert!(screen.contains("› actions"), "{screen}");
    assert!(screen.contains("13/13"), "{screen}");
    let log = std::fs::read_to_string(&audit).expect("audit log written");
    assert!(log.lines().count() > 20, "{log}");
    assert!(log.lines().all(|l| l.contains("\"demo\":true")), "{log}");
    // A snapshot, followed to completion in the background.
    // Escape and S sent together can arrive as one Alt-S: back to the list first.
    t.keys(&["Escape"]);
    t.wait_for("SEV  TYPE");
    t.keys(&["S"]);
    t.wait_for("› confirm snapshot");
    t.keys(&["y"]);
    let screen = t.wait_for("completed 100%");
    assert!(screen.contains("snap-"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}

#[test]
fn open_is_read_only() {
    let bin = env!("CARGO_BIN_EXE_vigil");
    let fx = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tui");
    let t = Tmux::start(
        "open",
        (100, 30),
        &format!(
            "{bin} open --findings {fx}/findings.json --trail {fx}/trail.json; echo VIGIL-EXIT=$?; sleep 30"
        ),
    );
    t.wait_for("READ-ONLY");
    t.wait_for("SEV  TYPE");
    t.keys(&["X"]);
    let screen = t.wait_for("read-only session");
    assert!(!screen.contains("confirm"), "{screen}");
    t.keys(&["A"]);
    t.wait_for("READ-ONLY: no responder");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}
