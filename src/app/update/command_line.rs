//! The `:` command line: words that parse into the same [`Command`]s the keys send (any
//! command's keymap name, e.g. `:dry_run`, plus the short words below), with an entity to act on
//! instead of the screen's focus for the pivots.

use super::commands::run_command;
use super::graph::open_graph;
use super::screens::open_profile;
use super::status::error;
use super::trail::open_trail;
use crate::app::keymap::{Command, Context};
use crate::app::msg::Effect;
use crate::app::state::*;
use crate::model::EntityId;

use crate::model::entity::EntityParseError;

/// A parsed `:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    /// `:graph ENTITY`, `:trail ENTITY`, `:profile ENTITY`: the entity to pivot to.
    pub entity: Option<EntityId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandLineError {
    #[error(":{0} needs an entity id, e.g. :{0} ip:203.0.113.7")]
    NeedsEntity(String),
    #[error(":{0} takes no argument")]
    NoArgument(String),
    #[error("{arg}: {error}")]
    BadEntity {
        arg: String,
        error: EntityParseError,
    },
    #[error("unknown command :{0}; try :findings, :graph, :trail, :profile, :help, :q")]
    Unknown(String),
}

/// The words completion offers first (every command's keymap name parses too).
pub const WORDS: [&str; 7] = ["findings", "graph", "trail", "profile", "help", "q", "quit"];

/// Parses a `:` line; `None` for an empty one.
pub fn parse(line: &str) -> Result<Option<Invocation>, CommandLineError> {
    let line = line.trim_start_matches(':').trim();
    let (word, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let command = match word {
        "" => return Ok(None),
        "q" => Command::Quit,
        "findings" | "f" => Command::Home,
        w => Command::parse(w).ok_or_else(|| CommandLineError::Unknown(w.to_string()))?,
    };
    let takes_entity = matches!(command, Command::Graph | Command::Trail | Command::Profile);
    let entity = match (takes_entity, arg) {
        (true, None) => return Err(CommandLineError::NeedsEntity(word.to_string())),
        (true, Some(a)) => {
            Some(
                EntityId::parse(a).map_err(|error| CommandLineError::BadEntity {
                    arg: a.to_string(),
                    error,
                })?,
            )
        }
        (false, Some(_)) => return Err(CommandLineError::NoArgument(word.to_string())),
        (false, None) => None,
    };
    Ok(Some(Invocation { command, entity }))
}

/// Runs a `:` line as the keys would run its command.
pub fn run_command_line(s: &mut State, line: &str) -> Vec<Effect> {
    match parse(line) {
        Ok(None) => Vec::new(),
        Ok(Some(Invocation {
            command,
            entity: Some(e),
        })) => {
            match command {
                Command::Graph => open_graph(s, e),
                Command::Trail => open_trail(s, e, Scope::All, Align::Latest, None),
                _ => open_profile(s, e),
            }
            Vec::new()
        }
        Ok(Some(Invocation {
            command,
            entity: None,
        })) => run_command(s, command),
        Err(e) => {
            let mut text = e.to_string();
            if let (CommandLineError::NeedsEntity(_), Some(k)) =
                (&e, s.keymap.key_for(Context::Input, Command::Complete))
            {
                text.push_str(&format!(" ({k} completes)"));
            }
            error(s, text);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_parse_into_the_keys_commands() {
        let cmd = |l: &str| parse(l).map(|i| i.map(|i| (i.command, i.entity)));
        assert_eq!(cmd(":q"), Ok(Some((Command::Quit, None))));
        assert_eq!(cmd("quit"), Ok(Some((Command::Quit, None))));
        assert_eq!(cmd(":findings"), Ok(Some((Command::Home, None))));
        assert_eq!(cmd(":dry_run"), Ok(Some((Command::DryRun, None))));
        assert_eq!(cmd("  "), Ok(None));
        let ip = EntityId::parse("ip:203.0.113.7").ok();
        assert_eq!(cmd(":trail ip:203.0.113.7"), Ok(Some((Command::Trail, ip))));
        assert_eq!(
            cmd(":graph"),
            Err(CommandLineError::NeedsEntity("graph".into()))
        );
        assert_eq!(
            cmd(":sort x"),
            Err(CommandLineError::NoArgument("sort".into()))
        );
        assert_eq!(cmd(":nope"), Err(CommandLineError::Unknown("nope".into())));
        assert!(matches!(
            cmd(":profile nokind"),
            Err(CommandLineError::BadEntity { .. })
        ));
    }
}
