//! The user's keymap file, read before the terminal is taken.

use crate::app::{Keymap, KeymapError};

/// Reads `--keymap FILE` (if any) and lays it over the default keymap.
pub fn load_keymap(path: Option<&std::path::Path>) -> Result<Keymap, KeymapError> {
    let base = Keymap::default_map()?;
    let Some(p) = path else { return Ok(base) };
    let file = p.display().to_string();
    let text = std::fs::read_to_string(p).map_err(|e| KeymapError::Read {
        file: file.clone(),
        message: e.to_string(),
    })?;
    Ok(base.merged(Keymap::parse(&file, &text)?))
}
