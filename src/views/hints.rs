//! Key hints drawn from the keymap in force, so a custom keymap shows its own keys: `key(..)` is
//! the first key bound to a command in a screen's context (or globally), `all(..)` every one.

use crate::app::{Command, Context, State};

/// The first key for `cmd` in `ctx`, else global.
pub(crate) fn key(state: &State, ctx: Context, cmd: Command) -> Option<String> {
    state.keymap.key_for(ctx, cmd)
}

/// Every key bound to `cmd` in `ctx` (else global), joined by `/`.
pub(crate) fn all(state: &State, ctx: Context, cmd: Command) -> Option<String> {
    let keys = state.keymap.keys_for(ctx, cmd);
    (!keys.is_empty()).then(|| keys.join("/"))
}

/// `"{keys} {what}"` for each bound command, joined by `sep`; unbound commands are left out.
pub(crate) fn line(state: &State, ctx: Context, items: &[(Command, &str)], sep: &str) -> String {
    items
        .iter()
        .filter_map(|(c, what)| key(state, ctx, *c).map(|k| format!("{k} {what}")))
        .collect::<Vec<_>>()
        .join(sep)
}

/// `"{up}/{down} {what}"` for a pair (page up and down), or whichever is bound.
pub(crate) fn pair(state: &State, ctx: Context, a: Command, b: Command, what: &str) -> String {
    match (key(state, ctx, a), key(state, ctx, b)) {
        (Some(a), Some(b)) => format!("{a}/{b} {what}"),
        (Some(k), None) | (None, Some(k)) => format!("{k} {what}"),
        (None, None) => String::new(),
    }
}
