//! What a command can fail with. main.rs prints it on one line as `vigil: <error>: <source>...`
//! and exits 2, so each message names the argument or path at fault. The wrapped module errors
//! are transparent: the line reads as it did when main printed them itself.

use crate::model::EntityId;
use crate::model::entity::EntityParseError;
use crate::model::time::TimeError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("no inputs: give --findings, --trail, --flows or --dns paths")]
    NoInputs,
    #[error("no inputs: give --findings and --trail (and optionally --flows, --dns) paths")]
    NoConsoleInputs,
    /// A path given on the command line that does not exist or cannot be listed. The reason is
    /// part of the message (not a source), as the console commands have always printed it.
    #[error("cannot read input {}: {reason}", path.display())]
    MissingInput {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{text}: {reason}")]
    Entity {
        text: String,
        reason: EntityParseError,
    },
    /// `--from`/`--to` that names no real instant.
    #[error("--{flag} {text}: {reason}")]
    Time {
        flag: &'static str,
        text: String,
        reason: TimeError,
    },
    /// A threat-intel or trusted list that cannot be read at all.
    #[error("intel: {0}")]
    Intel(String),
    /// A rules directory that cannot be listed.
    #[error("rules: {0}")]
    Rules(String),
    /// A CloudTrail Lake query could not be run, failed, or was cancelled.
    #[error("CloudTrail Lake: {0}")]
    Lake(String),
    /// An Athena query could not be run, failed, or was cancelled.
    #[error("Athena: {0}")]
    Athena(String),
    /// An S3 source could not be listed or read.
    #[error("{0}")]
    S3(String),
    /// A case bundle could not be made or read.
    #[error("case: {0}")]
    Case(String),
    /// A recording could not be replayed, exported or redacted.
    #[error("{0}")]
    Replay(String),
    /// The MFA code could not be had, or the role could not be assumed with it.
    #[error("--mfa-serial: {0}")]
    Mfa(String),
    /// `pivot --live` without log files, on an entity LookupEvents cannot filter by.
    #[error("{0}")]
    NotLookupable(&'static str),
    #[error("{0} does not appear in the inputs")]
    NotInInputs(EntityId),
    #[error("unknown context `{0}`")]
    UnknownContext(String),
    #[error("cannot read keymap {}", path.display())]
    KeymapFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `open --respond` whose credentials do not answer sts:GetCallerIdentity.
    #[error("--respond: cannot reach AWS as the given identity: {0}")]
    Unreachable(String),
    /// Flushing the command's output at the end.
    #[error("writing output")]
    Output(#[source] std::io::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Input(#[from] crate::ingest::InputError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    #[error(transparent)]
    Keymap(#[from] crate::app::keymap::KeymapError),
    #[error(transparent)]
    Webhook(#[from] crate::actions::webhook::WebhookError),
    #[error(transparent)]
    Aws(#[from] crate::aws::AwsError),
    #[error(transparent)]
    Console(#[from] crate::console::RunError),
    #[error(transparent)]
    Live(#[from] crate::console::LiveError),
    #[error(transparent)]
    Act(#[from] super::act::ActError),
}
