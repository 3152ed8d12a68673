//! Where vigil keeps its files: the one place that reads the XDG base-directory variables.
//!
//! `etcetera`'s XDG strategy on every platform (a terminal tool's users expect `~/.config` on macOS
//! too, not `~/Library`): a variable is used when it is set to an absolute path (the spec says a
//! relative one is to be ignored), else the default under the home directory.

use etcetera::base_strategy::{BaseStrategy, Xdg};
use std::path::PathBuf;

/// The folder every vigil file goes in, under each base directory.
const APP: &str = "vigil";

/// `$XDG_CONFIG_HOME/vigil`, else `~/.config/vigil`; `None` without a home directory.
pub fn config_dir() -> Option<PathBuf> {
    Xdg::new().ok().map(|x| x.config_dir().join(APP))
}

/// `$XDG_STATE_HOME/vigil`, else `~/.local/state/vigil`; `None` without a home directory.
pub fn state_dir() -> Option<PathBuf> {
    Xdg::new()
        .ok()
        .and_then(|x| x.state_dir())
        .map(|d| d.join(APP))
}

/// The user's keymap, laid over the default when it exists: `<config>/keymap.toml`.
pub fn user_keymap() -> Option<PathBuf> {
    config_dir().map(|d| d.join("keymap.toml"))
}

/// The console's log file: `<state>/vigil.log`.
pub fn log_file() -> Option<PathBuf> {
    state_dir().map(|d| d.join("vigil.log"))
}

/// The default audit log, `<state>/audit.jsonl`. Without a home directory it falls back to the
/// temporary directory: an action must always have somewhere to be recorded.
pub fn audit_log() -> PathBuf {
    state_dir()
        .unwrap_or_else(|| std::env::temp_dir().join(APP))
        .join("audit.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults, when no variable is set (the tests do not change the environment: another
    /// test may read it at the same time).
    #[test]
    fn files_sit_in_the_vigil_folder() {
        if let Some(d) = config_dir() {
            assert!(d.ends_with("vigil"));
            assert_eq!(user_keymap(), Some(d.join("keymap.toml")));
        }
        if let Some(d) = state_dir() {
            assert_eq!(log_file(), Some(d.join("vigil.log")));
            assert_eq!(audit_log(), d.join("audit.jsonl"));
        }
    }
}
