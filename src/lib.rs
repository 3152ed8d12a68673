//! vigil: a terminal incident-response console for AWS.
//!
//! The rooms, each with one job (arrows point one way: views → app → graph/pivot → ingest → model):
//! - [`model`]: the domain types (entities, findings, events), no IO.
//! - [`ingest`]: files in, typed records out; format detection, envelopes, casing, gzip.
//! - [`graph`]: the entity graph, finding groups, profiles, paths.
//! - [`pivot`]: the CloudTrail index and its queries.
//! - [`integrity`]: CloudTrail log files checked against the digest files loaded with them.
//! - [`app`]: the console's messages, state, pure reducer and keymaps (no IO).
//! - [`console`]: the console's edge: the bus, sources, effect executor, terminal and loop.
//! - [`views`]: drawing the console's screens (read-only over the app state).
//! - [`record`]: recorded sessions: the file format, redaction, asciicast, the after-action report.
//! - [`report`]: the headless outputs (JSON, markdown, DOT, Mermaid).
//! - [`actions`]: response actions: plans, the executor, the audit log (the only room that changes an
//!   account, through a responder).
//! - [`aws`]: the AWS SDK clients behind the responder (the only room that imports the SDK).
//! - [`cli`]: the command line, one module per command (main.rs parses and dispatches).
//! - [`paths`]: where vigil keeps its files (XDG config and state directories).
//! - [`process`]: process-wide settings the binaries make first (memory).

pub mod actions;
pub mod app;
pub mod aws;
pub mod case;
pub mod cli;
pub mod console;
pub mod demo;
pub mod graph;
pub mod hunt;
pub mod ingest;
pub mod integrity;
pub mod model;
pub mod paths;
pub mod pivot;
pub mod process;
pub mod record;
pub mod report;
pub mod views;
