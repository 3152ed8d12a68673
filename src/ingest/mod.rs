//! Ingest: files or directories in, typed records out. Format is detected from content, gzip is
//! read transparently, files are processed in parallel, and a malformed record or file is
//! reported with its location while the rest of the load goes on.

mod casing;
pub mod cloudtrail;
pub mod dns;
pub mod errors;
pub mod flow;
pub mod guardduty;
mod lenient;
pub mod source;
pub mod walk;

use crate::model::text::Escaped;
use crate::model::{DnsQuery, Finding, FlowRecord, Origin, RawRef, TrailEvent};
use rayon::prelude::*;
use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use walk::{Kind, Rec, Sink};

/// A record or file that could not be loaded, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestError {
    pub path: String,
    /// 1-based line; `None` when the whole file is at fault.
    pub line: Option<u64>,
    /// Index of the record inside its container (`Records[i]`), when it has one.
    pub index: Option<u64>,
    pub reason: String,
}

impl IngestError {
    pub fn file(path: &Path, reason: impl Into<String>) -> Self {
        IngestError {
            path: path.display().to_string(),
            line: None,
            index: None,
            reason: reason.into(),
        }
    }

    pub fn record(path: &Path, line: u64, index: Option<u64>, reason: impl Into<String>) -> Self {
        IngestError {
            path: path.display().to_string(),
            line: Some(line),
            index,
            reason: reason.into(),
        }
    }
}

/// Escaped: the file name (inside a directory) and the reason (it may quote a value) are input
/// text, and this is what stderr, the markdown report and the console show.
impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Escaped(&self.path))?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(i) = self.index {
            write!(f, " (record {i})")?;
        }
        write!(f, ": {}", Escaped(&self.reason))
    }
}

/// A path given on the command line that does not exist or cannot be listed: a usage error,
/// unlike a bad record inside a file.
#[derive(Debug, thiserror::Error)]
#[error("cannot read input {path}: {source}")]
pub struct InputError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Everything a load produced, in deterministic order (file order, then position in file).
#[derive(Debug, Default)]
pub struct Loaded {
    pub findings: Vec<Finding>,
    pub events: Vec<TrailEvent>,
    pub flows: Vec<FlowRecord>,
    pub dns: Vec<DnsQuery>,
    pub errors: Vec<IngestError>,
    pub files: usize,
}

impl Loaded {
    /// A copy of the evidence without the findings (they stream in separately).
    pub fn clone_without_findings(&self) -> Loaded {
        Loaded {
            findings: Vec::new(),
            events: self.events.clone(),
            flows: self.flows.clone(),
            dns: self.dns.clone(),
            errors: self.errors.clone(),
            files: self.files,
        }
    }

    pub fn extend(&mut self, other: Loaded) {
        self.findings.extend(other.findings);
        self.events.extend(other.events);
        self.flows.extend(other.flows);
        self.dns.extend(other.dns);
        self.errors.extend(other.errors);
        self.files += other.files;
    }
}

/// Loads every file under `paths`, in parallel across files, into one [`Loaded`] in file order.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, InputError> {
    let mut parts: Vec<(usize, Loaded)> = Vec::new();
    load_streaming(paths, |i, part| parts.push((i, part)))?;
    parts.sort_by_key(|(i, _)| *i);
    let mut out = Loaded::default();
    for (_, p) in parts {
        out.extend(p);
    }
    Ok(out)
}

/// Loads files on all cores and hands each file's records to `on_file` on the calling thread as
/// soon as the file is done (in completion order, with the file's index for re-ordering). A
/// bounded channel keeps at most a few parsed files in memory, so a million events stream
/// through the consumer (graph, index) instead of piling up.
pub fn load_streaming(
    paths: &[PathBuf],
    mut on_file: impl FnMut(usize, Loaded),
) -> Result<usize, InputError> {
    let files = source::expand(paths).map_err(|(path, source)| InputError { path, source })?;
    let n = files.len();
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Loaded)>(4);
    std::thread::scope(|scope| {
        let files = &files;
        scope.spawn(move || {
            files
                .par_iter()
                .enumerate()
                .for_each_with(tx, |tx, (i, f)| {
                    // A closed receiver means the consumer is gone; nothing left to do.
                    let _ = tx.send((i, load_file(f)));
                });
        });
        for (i, part) in rx {
            on_file(i, part);
        }
    });
    Ok(n)
}

/// Loads one file (sequentially).
pub fn load_file(path: &Path) -> Loaded {
    let mut sink = LoadSink {
        out: Loaded {
            files: 1,
            ..Loaded::default()
        },
    };
    walk::walk_file(path, &mut sink);
    sink.out
}

struct LoadSink {
    out: Loaded,
}

pub(crate) fn origin(path: &Arc<PathBuf>, line: u64, index: Option<u64>) -> Origin {
    Origin {
        path: path.clone(),
        line,
        index,
    }
}

pub(crate) fn parse_finding(
    kind: Kind,
    raw: &str,
) -> Result<guardduty::WireFinding, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let wire = match kind {
        Kind::FindingPascal => casing::from_pascal(&mut de)?,
        _ => serde::Deserialize::deserialize(&mut de)?,
    };
    de.end()?;
    Ok(wire)
}

/// The typed event of a raw CloudTrail record, with the given way to fetch it back.
pub(crate) fn parse_event(path: &Arc<PathBuf>, rec: &Rec<'_>) -> Result<TrailEvent, String> {
    let wire: cloudtrail::WireEvent =
        serde_json::from_str(rec.raw).map_err(|e| format!("invalid CloudTrail record: {e}"))?;
    let raw_ref = match rec.offset {
        Some(offset) => RawRef::File {
            path: path.clone(),
            offset,
            len: rec.raw.len() as u32,
        },
        None => RawRef::Inline(Arc::from(rec.raw)),
    };
    wire.into_event(rec.raw, raw_ref, origin(path, rec.line, rec.index))
        .map_err(|e| e.to_string())
}

impl Sink for LoadSink {
    fn record(&mut self, path: &Arc<PathBuf>, rec: Rec<'_>) {
        let loc = |reason: String| IngestError::record(path, rec.line, rec.index, reason);
        match rec.kind {
            Kind::Finding | Kind::FindingPascal => match parse_finding(rec.kind, rec.raw) {
                Ok(w) => match w.into_finding(rec.raw, origin(path, rec.line, rec.index)) {
                    Ok(f) => self.out.findings.push(f),
                    Err(e) => self.out.errors.push(loc(e.to_string())),
                },
                Err(e) => self
                    .out
                    .errors
                    .push(loc(format!("invalid GuardDuty finding: {e}"))),
            },
            Kind::Trail => match parse_event(path, &rec) {
                Ok(ev) => self.out.events.push(ev),
                Err(e) => self.out.errors.push(loc(e)),
            },
            Kind::Dns => {
                let parsed: Result<dns::WireQuery, _> = serde_json::from_str(rec.raw);
                match parsed {
                    Ok(w) => match w.into_query(origin(path, rec.line, rec.index)) {
                        Ok(q) => self.out.dns.push(q),
                        Err(e) => self.out.errors.push(loc(e.to_string())),
                    },
                    Err(e) => self
                        .out
                        .errors
                        .push(loc(format!("invalid Resolver query record: {e}"))),
                }
            }
        }
    }

    fn flow(&mut self, path: &Arc<PathBuf>, layout: &flow::Layout, line: &str, line_no: u64) {
        match flow::parse_line(layout, line, origin(path, line_no, None)) {
            Ok(r) => self.out.flows.push(r),
            Err(e) => self
                .out
                .errors
                .push(IngestError::record(path, line_no, None, e.to_string())),
        }
    }

    fn error(&mut self, err: IngestError) {
        self.out.errors.push(err);
    }
}

impl RawRef {
    /// The original record's JSON text.
    pub fn text(&self) -> std::io::Result<String> {
        match self {
            RawRef::Inline(s) => Ok(s.to_string()),
            RawRef::File { path, offset, len } => {
                let bytes = source::read_range(path, *offset, *len as usize)?;
                String::from_utf8(bytes)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
            }
        }
    }
}
