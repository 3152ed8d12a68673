//! The console's edge: everything that touches the world around the pure [`crate::app`]. The bus
//! (the one channel), the sources that feed it (keys, ticks, signals, loaders, the demo
//! timeline), the one effect executor (responder and clock injected), and the terminal.
//!
//! [`Console`] is the loop, generic over ratatui's backend: the binary runs it over crossterm
//! ([`open`], [`demo`]); tests run the same loop headless over a `TestBackend` with a
//! [`FixedClock`] and the demo responder, and wait for it with [`Console::settle`].

mod bus;
mod clock;
mod config;
mod detective;
mod error;
mod event_loop;
mod executor;
mod history;
mod hunt;
mod keys;
mod live;
mod load;
mod query;
mod rebuild;
mod record;
mod replay;
mod sources;
mod terminal;

pub use bus::Bus;
pub use clock::{Clock, FixedClock, SystemClock};
pub use config::load_keymap;
pub use detective::Detective;
pub use error::RunError;
pub use event_loop::Console;
pub use executor::{Armed, Executor, Lookups};
pub use history::{History, HistoryEvent, MAX_PAGES};
pub use hunt::HuntSetup;
pub use keys::key_of;
pub use live::{LiveError, Poll, Poller};
pub use load::{EvidenceBuilder, FileSources, S3Source, index_scenario, load_files};
pub use query::{Engine, QueryEnd, QueryEngine, Row};
pub use rebuild::{RebuildError, rebuild};
pub use replay::{
    PlayOptions, Player, ReplayError, export_cast, frames, play, redact_recording, report,
};
pub use terminal::{Arming, DemoActions, LiveSession, Play, RecordTo, arm, demo, live, open};
