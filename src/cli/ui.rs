//! What the two console commands (`demo`, `open`) share: the options and keymap, checked before
//! the terminal is taken over.

use super::args::UiArgs;
use super::error::CliError;
use super::keymap::user_keymap;
use crate::app::{Keymap, Mode, Options};

/// Console options and the keymap, validated before the terminal is taken over (exit 2 on a
/// keymap error, with its file and line). `start_logging` (main's: the log goes to a file, as
/// the console owns the terminal) runs once the keymap is known good, so a keymap error is the
/// only thing such a run does.
pub(crate) fn setup(
    ui: &UiArgs,
    mode: Mode,
    start_logging: fn(),
) -> Result<(Options, Keymap), CliError> {
    let keymap = crate::console::load_keymap(user_keymap(ui.keymap.as_deref()).as_deref())?;
    start_logging();
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let opts = Options {
        mode,
        color: !(ui.no_color || no_color_env),
        ascii: ui.ascii,
        read_only: true,
        label: String::new(),
        // Read here, at the edge: the reducer never reads the environment.
        evidence: std::env::var("VIGIL_EVIDENCE")
            .ok()
            .filter(|s| !s.is_empty()),
    };
    Ok((opts, keymap))
}

/// `--record FILE [--redact]`.
pub(crate) fn record_to(ui: &UiArgs) -> Option<crate::console::RecordTo> {
    ui.record.clone().map(|path| crate::console::RecordTo {
        path,
        redact: ui.redact,
    })
}
