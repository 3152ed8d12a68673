//! vigil: a terminal incident-response console for AWS.
//!
//! The rooms, each with one job (arrows point one way: views → app → graph/pivot → ingest → model):
//! - [`model`]: the domain types (entities, findings, events), no IO.
//! - [`ingest`]: files in, typed records out; format detection, envelopes, casing, gzip.
//! - [`graph`]: the entity graph, finding groups, profiles, paths.
//! - [`pivot`]: the CloudTrail index and its queries.
//! - [`report`]: the headless outputs (JSON, markdown, DOT, Mermaid).

pub mod cli;
pub mod demo;
pub mod graph;
pub mod ingest;
pub mod model;
pub mod pivot;
pub mod report;
