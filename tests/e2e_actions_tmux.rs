//! End to end, the real binary in tmux: response actions from the keyboard in `vigil demo` (plan,
//! confirm screen, a wrong confirmation, the right one, the actions screen, snapshot progress) and
//! the refusal in `vigil open` (read-only). Fails (does not skip) when tmux is missing.

use std::process::Command;
use std::time::{Duration, Instant};

/// Each test has its own tmux server (`-L`): servers started at once by parallel tests race.
struct Tmux {
    socket: String,
    session: String,
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .expect("tmux must be installed (scripts/test.sh installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Tmux {
    fn start(name: &str, cmd: &str) -> Tmux {
        let session = format!("vigil-e2e-act-{name}-{}", std::process::id());
        let socket = session.clone();
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                &session,
            ])
            .args(["-x", "100", "-y", "30", "sh", "-c", cmd])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux must be installed");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket, session }
    }

    fn capture(&self) -> String {
        tmux(&self.socket, &["capture-pane", "-p", "-t", &self.session])
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            tmux(&self.socket, &["send-keys", "-t", &self.session, k]);
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            let screen = self.capture();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        tmux(&self.socket, &["kill-server"]);
    }
}

#[test]
fn demo_quarantine_and_snapshot_from_the_keyboard() {
    let bin = env!("CARGO_BIN_EXE_vigil");
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let t = Tmux::start(
        "demo",
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
    let screen = t.wait_for("› confirm quarantine");
    assert!(screen.contains("Blast radius"), "{screen}");
    assert!(screen.contains("ec2:ModifyInstanceAttribute"), "{screen}");
    assert!(screen.contains("shop-web-asg"), "{screen}");
    // A wrong confirmation does nothing.
    t.keys(&["n", "o", "p", "e", "Enter"]);
    t.wait_for("does not match: nothing was done");
    assert!(!audit.exists(), "nothing was written before a confirmation");
    // The last four characters of i-0c0f89991ec24aa09 go ahead.
    t.keys(&["a", "a", "0", "9", "Enter"]);
    let screen = t.wait_for("done: quarantine i-0c0f89991ec24aa09");
    assert!(screen.contains("› actions"), "{screen}");
    assert!(screen.contains("12/12"), "{screen}");
    let log = std::fs::read_to_string(&audit).expect("audit log written");
    assert!(log.lines().count() > 20, "{log}");
    assert!(log.lines().all(|l| l.contains("\"demo\":true")), "{log}");
    // A snapshot, followed to completion in the background.
    t.keys(&["Escape", "S"]);
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
    t.wait_for("READ-ONLY session: no responder");
    t.keys(&["q"]);
    t.wait_for("VIGIL-EXIT=0");
}
