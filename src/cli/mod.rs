//! The command line: its types ([`Cli`] and the argument structs, clap derive) and one module per
//! command, each a `run` function that main.rs dispatches to. A command writes its output to the
//! writer it is given, reports unreadable input on stderr, and returns the exit status or a
//! [`CliError`] (main prints it on one line and exits 2).

pub mod act;
mod act_follow;
pub mod analyze;
mod args;
mod aws;
pub mod case;
pub mod demo;
pub mod doctor;
mod error;
pub mod graph;
pub mod hunt;
mod inputs;
pub mod keymap;
pub mod live;
pub mod open;
pub mod pivot;
pub mod replay;
mod respond;
mod s3;
pub mod train;
mod ui;

pub use args::*;
pub use error::CliError;
