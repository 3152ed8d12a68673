//! Keymaps: TOML files with one table per context, each binding a key (or a chord of keys
//! separated by spaces) to a typed [`Command`] with a description. The default map is embedded;
//! a user file overrides or unbinds (`noop`) per context without copying the rest.
//!
//! ```toml
//! [findings]
//! enter = { cmd = "open", desc = "Open the selected finding" }
//! "g g" = { cmd = "top", desc = "First row" }
//! ```
//!
//! Resolution happens inside the reducer ([`Keymap::lookup`]) so a replay exercises the keymap too.

use serde::Deserialize;
use std::collections::BTreeMap;

pub use super::command::{Command, Context};
pub use super::key::{Key, KeyCode, chord_string, parse_chord};

/// The embedded default keymap.
pub const DEFAULT_TOML: &str = include_str!("../../keymaps/default.toml");
/// The vim-flavoured keymap shipped alongside.
pub const VIM_TOML: &str = include_str!("../../keymaps/vim.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub keys: Vec<Key>,
    pub command: Command,
    pub description: String,
    /// Where the binding was defined: `file:line`.
    pub origin: String,
}

/// Keymap errors, each with the file and line, reported before the terminal is taken over.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeymapError {
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: unknown context `{context}`; use one of {known}")]
    UnknownContext {
        file: String,
        line: usize,
        context: String,
        known: String,
    },
    #[error(
        "{file}:{line}: unknown command `{command}` for key `{key}`; `vigil keymap print` lists the commands"
    )]
    UnknownCommand {
        file: String,
        line: usize,
        key: String,
        command: String,
    },
    #[error(
        "{file}:{line}: cannot parse key `{key}` (write keys like q, Q, ?, enter, esc, ctrl-c, shift-tab, f1, space, or a chord `g g`)"
    )]
    BadKey {
        file: String,
        line: usize,
        key: String,
    },
    #[error(
        "{file}:{line}: `{key}` is bound twice in [{context}] (also at line {other_line}); remove one"
    )]
    Duplicate {
        file: String,
        line: usize,
        key: String,
        context: String,
        other_line: usize,
    },
    #[error(
        "{file}:{line}: `{key}` in [{context}] is a prefix of the chord `{chord}` (line {other_line}); a key cannot be both"
    )]
    Prefix {
        file: String,
        line: usize,
        key: String,
        chord: String,
        context: String,
        other_line: usize,
    },
    #[error("cannot read keymap {file}: {message}")]
    Read { file: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    cmd: String,
    #[serde(default)]
    desc: Option<String>,
}

type RawMap = BTreeMap<String, toml::Spanned<BTreeMap<String, toml::Spanned<Spec>>>>;

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// The active keymap: bindings per context in file order (help lists them that way).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keymap {
    pub contexts: BTreeMap<Context, Vec<Binding>>,
}

/// What a key sequence means in a context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Command(Command),
    /// A prefix of at least one chord: wait for the next key. The candidates are for the hint.
    Pending(Vec<(String, String)>),
    Unbound,
}

impl Keymap {
    /// The embedded default keymap (validated by tests; an error here is a build defect).
    pub fn default_map() -> Result<Keymap, KeymapError> {
        Keymap::parse("keymaps/default.toml", DEFAULT_TOML)
    }

    /// Parses one keymap file. `noop` bindings are kept (they unbind when merged).
    pub fn parse(file: &str, text: &str) -> Result<Keymap, KeymapError> {
        let raw: RawMap = toml::from_str(text).map_err(|e| KeymapError::Syntax {
            file: file.to_string(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().to_string(),
        })?;
        let mut km = Keymap::default();
        for (ctx_name, table) in raw {
            let ctx_line = line_of(text, table.span().start);
            let ctx = Context::parse(&ctx_name).ok_or_else(|| KeymapError::UnknownContext {
                file: file.to_string(),
                line: ctx_line,
                context: ctx_name.clone(),
                known: Context::ALL
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            let mut entries: Vec<(usize, String, Spec)> = table
                .into_inner()
                .into_iter()
                .map(|(k, v)| (line_of(text, v.span().start), k, v.into_inner()))
                .collect();
            entries.sort_by_key(|e| e.0);
            let mut list: Vec<(usize, Binding)> = Vec::new();
            for (line, key, spec) in entries {
                let keys = parse_chord(&key).ok_or_else(|| KeymapError::BadKey {
                    file: file.to_string(),
                    line,
                    key: key.clone(),
                })?;
                let command =
                    Command::parse(&spec.cmd).ok_or_else(|| KeymapError::UnknownCommand {
                        file: file.to_string(),
                        line,
                        key: key.clone(),
                        command: spec.cmd.clone(),
                    })?;
                for (other_line, b) in &list {
                    if b.keys == keys {
                        return Err(KeymapError::Duplicate {
                            file: file.to_string(),
                            line,
                            key: key.clone(),
                            context: ctx_name.clone(),
                            other_line: *other_line,
                        });
                    }
                    let (short, long) = if b.keys.len() < keys.len() {
                        (&b.keys, &keys)
                    } else {
                        (&keys, &b.keys)
                    };
                    if long.starts_with(short) {
                        return Err(KeymapError::Prefix {
                            file: file.to_string(),
                            line,
                            key: chord_string(short),
                            chord: chord_string(long),
                            context: ctx_name.clone(),
                            other_line: *other_line,
                        });
                    }
                }
                list.push((
                    line,
                    Binding {
                        keys,
                        command,
                        description: spec
                            .desc
                            .unwrap_or_else(|| spec.cmd.replace('_', " ").to_string()),
                        origin: format!("{file}:{line}"),
                    },
                ));
            }
            km.contexts
                .insert(ctx, list.into_iter().map(|(_, b)| b).collect());
        }
        Ok(km)
    }

    /// The default map with `user` laid over it: per context, a user binding replaces any default
    /// binding of the same keys (or one it would be ambiguous with) and comes first; `noop` unbinds.
    pub fn merged(mut self, user: Keymap) -> Keymap {
        for (ctx, user_list) in user.contexts {
            let base = self.contexts.entry(ctx).or_default();
            base.retain(|b| {
                !user_list
                    .iter()
                    .any(|u| u.keys.starts_with(&b.keys) || b.keys.starts_with(&u.keys))
            });
            let mut out: Vec<Binding> = user_list
                .into_iter()
                .filter(|u| u.command != Command::Noop)
                .collect();
            out.append(base);
            *base = out;
        }
        self
    }

    pub fn bindings(&self, ctx: Context) -> &[Binding] {
        self.contexts.get(&ctx).map_or(&[], |v| v.as_slice())
    }

    /// Resolves `keys` (pending chord plus the new key) in `ctx`, then in `global`.
    pub fn lookup(&self, ctx: Context, keys: &[Key]) -> Lookup {
        let mut pending: Vec<(String, String)> = Vec::new();
        let layers: &[Context] = if ctx == Context::Global || ctx == Context::Input {
            std::slice::from_ref(&ctx)
        } else {
            &[ctx, Context::Global]
        };
        // The screen's own table shadows global, chords included.
        for c in layers {
            for b in self.bindings(*c) {
                if b.keys == keys {
                    return Lookup::Command(b.command);
                }
                if b.keys.len() > keys.len() && b.keys.starts_with(keys) {
                    pending.push((chord_string(&b.keys), b.description.clone()));
                }
            }
            if !pending.is_empty() {
                return Lookup::Pending(pending);
            }
        }
        Lookup::Unbound
    }

    /// The first key bound to `cmd` in `ctx` or global, for hints (`? help`).
    pub fn key_for(&self, ctx: Context, cmd: Command) -> Option<String> {
        self.keys_for(ctx, cmd).into_iter().next()
    }

    /// Every key bound to `cmd` in `ctx`, else every one bound globally.
    pub fn keys_for(&self, ctx: Context, cmd: Command) -> Vec<String> {
        [ctx, Context::Global]
            .iter()
            .map(|c| {
                self.bindings(*c)
                    .iter()
                    .filter(|b| b.command == cmd)
                    .map(|b| chord_string(&b.keys))
                    .collect::<Vec<_>>()
            })
            .find(|keys| !keys.is_empty())
            .unwrap_or_default()
    }

    /// `vigil keymap print`: a TOML listing that `vigil keymap check` accepts.
    pub fn print(&self, only: Option<Context>) -> String {
        let mut out = String::new();
        for (ctx, list) in &self.contexts {
            if only.is_some_and(|o| o != *ctx) {
                continue;
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("[{ctx}]\n"));
            for b in list {
                out.push_str(&format!(
                    "{:<12} = {{ cmd = {:<20} desc = {} }}\n",
                    toml_key(&chord_string(&b.keys)),
                    format!("\"{}\",", b.command.as_str()),
                    toml_string(&b.description)
                ));
            }
        }
        out
    }
}

fn toml_string(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        toml_string(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_print() {
        for (s, shown) in [
            ("q", "q"),
            ("Q", "Q"),
            ("?", "?"),
            ("Enter", "enter"),
            ("ctrl-C", "ctrl-c"),
            ("shift-tab", "shift-tab"),
            ("space", "space"),
            ("f5", "f5"),
            ("pgdn", "pgdn"),
        ] {
            assert_eq!(Key::parse(s).map(|k| k.to_string()).as_deref(), Some(shown));
        }
        assert_eq!(Key::parse("hyper-x"), None);
        assert_eq!(Key::parse("f99"), None);
        assert_eq!(parse_chord("g g").map(|c| c.len()), Some(2));
    }

    #[test]
    fn chords_are_pending_until_complete() {
        let km = Keymap::parse(
            "t.toml",
            "[findings]\n\"g g\" = { cmd = \"top\", desc = \"First\" }\n",
        )
        .unwrap();
        let g = Key::char('g');
        assert!(matches!(
            km.lookup(Context::Findings, &[g]),
            Lookup::Pending(_)
        ));
        assert_eq!(
            km.lookup(Context::Findings, &[g, g]),
            Lookup::Command(Command::Top)
        );
        assert_eq!(
            km.lookup(Context::Findings, &[g, Key::char('x')]),
            Lookup::Unbound
        );
    }

    #[test]
    fn user_map_overrides_and_unbinds() {
        let base = Keymap::default_map().unwrap();
        let user = Keymap::parse(
            "u.toml",
            "[findings]\nenter = { cmd = \"noop\" }\nx = { cmd = \"open\", desc = \"Open\" }\n",
        )
        .unwrap();
        let km = base.merged(user);
        assert_eq!(
            km.lookup(Context::Findings, &[Key::plain(KeyCode::Enter)]),
            Lookup::Unbound
        );
        assert_eq!(
            km.lookup(Context::Findings, &[Key::char('x')]),
            Lookup::Command(Command::Open)
        );
    }
}
