#![allow(dead_code)] // each test crate uses a different part of this helper
//! The real binary in a real terminal: a tmux session of its own, its own server (`-L`, because
//! servers started at once by parallel tests race), killed on drop. Fails (does not skip) when
//! tmux is missing: the test command (scripts/test.sh) installs it.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    session: String,
}

fn tmux(socket: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-L", socket])
        .args(args)
        .output()
        .expect("tmux must be installed for the end-to-end tests (scripts/test.sh installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Tmux {
    /// Runs `cmd` (through `sh -c`) in a `width`×`height` pane.
    pub fn start(name: &str, (width, height): (u16, u16), cmd: &str) -> Tmux {
        // Unique within the one test process too: two tests may start sessions of the same name.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let session = format!("vigil-e2e-{name}-{}-{n}", std::process::id());
        let socket = session.clone();
        let (w, h) = (width.to_string(), height.to_string());
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-s", &session, "-x", &w, "-y", &h, "sh", "-c", cmd])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux must be installed for the end-to-end tests");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket, session }
    }

    pub fn capture(&self) -> String {
        tmux(&self.socket, &["capture-pane", "-p", "-t", &self.session])
    }

    /// A tmux format about the pane, e.g. `#{alternate_on}`.
    pub fn display(&self, format: &str) -> String {
        tmux(
            &self.socket,
            &["display-message", "-p", "-t", &self.session, format],
        )
        .trim()
        .to_string()
    }

    /// tmux key names ("Enter", "Escape", "C-c") or literal keys.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            tmux(&self.socket, &["send-keys", "-t", &self.session, k]);
        }
    }

    /// Waits until the pane shows `needle`, or fails with the last screen.
    pub fn wait_for(&self, needle: &str) -> String {
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
