//! `vigil keymap check|print`: a keymap file validated, or the keymap in force printed as TOML.

use super::args::KeymapCommand;
use super::error::CliError;
use crate::app::{Context, Keymap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn run(command: KeymapCommand, out: &mut impl Write) -> Result<ExitCode, CliError> {
    match command {
        KeymapCommand::Check { file } => {
            let text = std::fs::read_to_string(&file).map_err(|source| CliError::KeymapFile {
                path: file.clone(),
                source,
            })?;
            let km = Keymap::parse(&file.display().to_string(), &text)?;
            let n: usize = km.contexts.values().map(Vec::len).sum();
            writeln!(out, "{}: ok ({n} bindings)", file.display())?;
        }
        KeymapCommand::Print { context, keymap } => {
            let only = context
                .as_deref()
                .map(|c| Context::parse(c).ok_or_else(|| CliError::UnknownContext(c.to_string())))
                .transpose()?;
            let km = crate::console::load_keymap(user_keymap(keymap.as_deref()).as_deref())?;
            out.write_all(km.print(only).as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--keymap FILE`, else the user's `keymap.toml` in the config directory when there is one.
pub(crate) fn user_keymap(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| crate::paths::user_keymap().filter(|p| p.is_file()))
}
