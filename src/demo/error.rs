//! What loading a demo scenario can fail with.

use crate::ingest::InputError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("no demo scenario named `{0}`; `vigil demo --list` shows them")]
    Unknown(String),
    #[error("cannot read demo scenario file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("demo scenario manifest {path} is invalid: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error(transparent)]
    Input(#[from] InputError),
}
