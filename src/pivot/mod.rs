//! Pivoting through CloudTrail: the pivot of entity E is every event whose entity set contains E,
//! optionally within `[from, to)` on eventTime, sorted by (eventTime, eventID).
//!
//! Two ways to answer it, sharing the same entity extraction:
//! - [`TrailIndex`]: index once (postings per entity over compact, time-sorted rows), then query
//!   many times in microseconds. The TUI keeps one.
//! - [`scan`]: a one-shot streaming pass for the CLI that only fully parses records which could
//!   match, so `vigil pivot` over a gigabyte of logs runs at decompression speed.

pub mod athena;
mod index;
pub mod lake;
pub mod lookup;
mod rows;
pub mod s3layout;
mod scan;
mod symbols;
mod window;

pub use index::{Activity, EventRow, TrailIndex};
pub use scan::{HitEvent, ScanHit, ScanResult, minify_json, scan, scan_objects};
pub use window::Window;
