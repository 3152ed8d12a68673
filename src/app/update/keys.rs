use super::command_line;
use super::status::{info, warn};
use crate::app::keymap::{Command, Context, Key, KeyCode, Lookup, chord_string};
use crate::app::msg::Effect;
use crate::app::state::*;

use super::command_line::run_command_line;
use super::commands::run_command;
use super::findings::recompute_list;
use super::trail::refresh_top_trail;

// ---------------------------------------------------------------------------------------------
// Keys

pub(crate) fn on_key(s: &mut State, key: Key) -> Vec<Effect> {
    if s.input.is_some() {
        return on_input_key(s, key);
    }
    if matches!(s.view(), Some(View::Confirm(_)))
        && s.pending.is_empty()
        && let Some(effects) = super::actions::on_confirm_key(s, key)
    {
        return effects;
    }
    let ctx = s.context();
    let mut keys = std::mem::take(&mut s.pending);
    keys.push(key);
    s.pending_hint.clear();
    match s.keymap.lookup(ctx, &keys) {
        Lookup::Command(c) => run_command(s, c),
        Lookup::Pending(hint) => {
            s.pending = keys;
            s.pending_hint = hint;
            Vec::new()
        }
        Lookup::Unbound => {
            let help = s
                .keymap
                .key_for(ctx, Command::Help)
                .unwrap_or_else(|| "?".into());
            warn(
                s,
                format!(
                    "`{}` is not bound in {ctx}; {help} lists the keys",
                    chord_string(&keys)
                ),
            );
            Vec::new()
        }
    }
}

pub(crate) fn on_input_key(s: &mut State, key: Key) -> Vec<Effect> {
    let cmd = match s.keymap.lookup(Context::Input, &[key]) {
        Lookup::Command(c) => Some(c),
        _ => None,
    };
    let Some(input) = s.input.as_mut() else {
        return Vec::new();
    };
    match cmd {
        Some(Command::Submit) => {
            let input = s.input.take();
            if let Some(input) = input {
                return submit_input(s, input);
            }
        }
        Some(Command::Cancel) => {
            let kind = input.kind.clone();
            s.input = None;
            // Cancelling a filter prompt drops the filter typed so far.
            match kind {
                InputKind::FindingsFilter => {
                    s.list.filter.clear();
                    recompute_list(s);
                }
                InputKind::TrailFilter => {
                    if let Some(View::Trail(t)) = s.stack.last_mut() {
                        t.filter.clear();
                    }
                    refresh_top_trail(s);
                }
                InputKind::Command => {}
            }
        }
        Some(Command::Complete) => complete(s),
        Some(Command::DeleteBack) => {
            input.text.pop();
            input.completions.clear();
            live_filter(s);
        }
        _ => {
            if let KeyCode::Char(c) = key.code
                && !key.ctrl
                && !key.alt
            {
                input.text.push(c);
                input.completions.clear();
                live_filter(s);
            }
        }
    }
    Vec::new()
}

/// Filters apply as they are typed.
pub(crate) fn live_filter(s: &mut State) {
    let Some(input) = &s.input else { return };
    let text = input.text.clone();
    match input.kind {
        InputKind::FindingsFilter => {
            s.list.filter = text;
            recompute_list(s);
        }
        InputKind::TrailFilter => {
            if let Some(View::Trail(t)) = s.stack.last_mut() {
                t.filter = text;
            }
            refresh_top_trail(s);
        }
        InputKind::Command => {}
    }
}

pub(crate) fn complete(s: &mut State) {
    let Some(input) = s.input.as_mut() else {
        return;
    };
    if input.kind != InputKind::Command {
        return;
    }
    if input.completions.is_empty() {
        let text = input.text.clone();
        let cands: Vec<String> = match text.split_once(' ') {
            None => command_line::WORDS
                .iter()
                .filter(|w| w.starts_with(text.as_str()))
                .map(|w| format!("{w} "))
                .collect(),
            Some((cmd, arg)) => {
                let arg = arg.trim_start();
                let mut ids: Vec<String> = s
                    .graph
                    .entity_ids()
                    .into_iter()
                    .map(|e| e.to_string())
                    .filter(|e| e.starts_with(arg) || (!arg.contains(':') && e.contains(arg)))
                    .take(500)
                    .map(|e| format!("{cmd} {e}"))
                    .collect();
                ids.sort();
                ids
            }
        };
        if cands.is_empty() {
            warn(s, "no completions");
            return;
        }
        let Some(input) = s.input.as_mut() else {
            return;
        };
        input.completions = cands;
        input.completion = 0;
    } else {
        input.completion = (input.completion + 1) % input.completions.len();
    }
    let Some(input) = s.input.as_mut() else {
        return;
    };
    if let Some(c) = input.completions.get(input.completion) {
        input.text = c.clone();
    }
    let n = input.completions.len();
    if n > 1 {
        let shown = input.completion + 1;
        info(s, format!("completion {shown}/{n} (tab for the next)"));
    }
}

pub(crate) fn submit_input(s: &mut State, input: Input) -> Vec<Effect> {
    match input.kind {
        InputKind::FindingsFilter => {
            s.list.filter = input.text;
            recompute_list(s);
            Vec::new()
        }
        InputKind::TrailFilter => {
            if let Some(View::Trail(t)) = s.stack.last_mut() {
                t.filter = input.text;
            }
            refresh_top_trail(s);
            Vec::new()
        }
        InputKind::Command => run_command_line(s, input.text.trim()),
    }
}
