//! The console's application core (the Elm architecture): every input is a [`Msg`] on one
//! channel of [`Envelope`]s, [`update`] is a pure reducer over [`State`] that returns
//! [`Effect`]s, and the executor in [`crate::console`] performs them and feeds results back as
//! messages.
//!
//! Pure: nothing here does IO, reads a clock, spawns or draws. The edge is [`crate::console`].

mod command;
mod key;
pub mod keymap;
mod msg;
pub(crate) mod select;
pub mod state;
pub mod update;

pub use msg::*;

pub use keymap::{Command, Context, Key, KeyCode, Keymap, KeymapError};
pub use state::{Mode, Options, State, View};
pub use update::update;
