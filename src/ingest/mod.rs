//! Ingest: files or directories in, typed records out. Format is detected from content, gzip is
//! read transparently, files are processed in parallel, and a malformed record or file is
//! reported with its location while the rest of the load goes on.

pub(crate) mod asff;
mod blocks;
mod casing;
pub(crate) mod cloudtrail;
pub(crate) mod digest;
pub(crate) mod dns;
mod envelope;
pub mod errors;
pub(crate) mod flow;
pub(crate) mod guardduty;
mod identity;
pub(crate) mod lenient;
pub(crate) mod limits;
mod sequence;
pub mod source;
pub(crate) mod split;
mod stream;
pub(crate) mod walk;

pub use errors::IngestError;

use crate::model::{DnsQuery, Finding, FlowRecord, Origin, RawRef, TrailEvent};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use walk::{Kind, Rec, Sink};

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
    /// CloudTrail digest files: counted apart from events, checked by [`crate::integrity`].
    pub digests: Vec<digest::Digest>,
    /// The files that held CloudTrail records (what a digest should cover).
    pub trail_files: Vec<Arc<PathBuf>>,
    pub errors: Vec<IngestError>,
    pub files: usize,
    /// CloudTrail events folded into a graph as they were read and not kept
    /// ([`crate::graph::EntityGraph::from_paths`]); [`Loaded::event_count`] counts them too.
    pub events_folded: usize,
}

impl Loaded {
    /// Every CloudTrail event read: those kept and those folded into a graph and dropped.
    pub fn event_count(&self) -> usize {
        self.events.len() + self.events_folded
    }

    /// A copy of the evidence without the findings (they stream in separately).
    pub fn clone_without_findings(&self) -> Loaded {
        Loaded {
            findings: Vec::new(),
            events: self.events.clone(),
            flows: self.flows.clone(),
            dns: self.dns.clone(),
            digests: self.digests.clone(),
            trail_files: self.trail_files.clone(),
            errors: self.errors.clone(),
            files: self.files,
            events_folded: self.events_folded,
        }
    }

    pub fn extend(&mut self, other: Loaded) {
        self.findings.extend(other.findings);
        self.events.extend(other.events);
        self.flows.extend(other.flows);
        self.dns.extend(other.dns);
        self.digests.extend(other.digests);
        self.trail_files.extend(other.trail_files);
        self.errors.extend(other.errors);
        self.files += other.files;
        self.events_folded += other.events_folded;
    }
}

/// A file embedded in the binary (a bundled demo scenario's), loaded from its bytes as a file on
/// disk is: same formats, same gzip detection, same streaming parse.
#[derive(Debug, Clone)]
pub struct EmbeddedFile {
    /// What its records and errors say they come from.
    pub name: PathBuf,
    pub bytes: &'static [u8],
}

/// Loads every file under `paths`, in parallel across files, into one [`Loaded`] in file order.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, InputError> {
    let mut parts: Vec<(usize, Loaded)> = Vec::new();
    load_streaming(paths, |i, part| parts.push((i, part)))?;
    Ok(assemble(parts))
}

/// Loads embedded files, in parallel across files, into one [`Loaded`] in the order given. The
/// CloudTrail records keep their raw text in memory ([`RawRef::Inline`]): there is no file to
/// read them back from, and a bundled scenario's logs are a few MB.
pub fn load_embedded(files: &[EmbeddedFile]) -> Loaded {
    let mut parts: Vec<(usize, Loaded)> = Vec::new();
    stream_parts(
        files,
        |f, flush| load_parts(true, flush, |sink| walk::walk_bytes(&f.name, f.bytes, sink)),
        |l| l,
        |i, part| parts.push((i, part)),
    );
    assemble(parts)
}

/// Loads bytes that are not a file (an API response's body) exactly as a file with that content;
/// `name` is what its records and errors say they come from.
pub fn load_bytes(name: &Path, bytes: Vec<u8>) -> Loaded {
    let mut parts = Loaded::default();
    let last = load_parts(true, &mut |p| parts.extend(p), |sink| {
        walk::walk_bytes(name, bytes, sink)
    });
    parts.extend(last);
    parts
}

/// The parts of a load in file order.
fn assemble(mut parts: Vec<(usize, Loaded)>) -> Loaded {
    // Stable: a file's parts arrive in order and stay in it.
    parts.sort_by_key(|(i, _)| *i);
    let mut out = Loaded::default();
    for (_, p) in parts {
        out.extend(p);
    }
    dedup_findings(&mut out.findings);
    out
}

/// One finding per id, as the console keeps them:
/// - the same GuardDuty finding read directly and through Security Hub is one finding: the
///   Security Hub copy is dropped (the direct one carries GuardDuty's action details);
/// - a finding's updates are one finding, the newest (`updatedAt`; the later one read when
///   equal), where its first copy was. GuardDuty's S3 export writes a recurring finding again
///   each time it is updated (its count and last-seen time grown), so an export folder holds
///   every version of it, as does a folder of `get-findings` runs.
pub fn dedup_findings(findings: &mut Vec<crate::model::Finding>) {
    let from_hub = |f: &crate::model::Finding| f.raw.contains("\"ProductArn\"");
    let direct: std::collections::HashSet<String> = findings
        .iter()
        .filter(|f| !from_hub(f))
        .map(|f| f.id.clone())
        .collect();
    findings.retain(|f| !(from_hub(f) && direct.contains(&f.id)));
    let mut first: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut keep = vec![true; findings.len()];
    for i in 0..findings.len() {
        match first.get(&findings[i].id) {
            Some(&j) => {
                if findings[i].updated_at >= findings[j].updated_at {
                    findings.swap(i, j);
                }
                keep[i] = false;
            }
            None => {
                first.insert(findings[i].id.clone(), i);
            }
        }
    }
    let mut kept = keep.into_iter();
    findings.retain(|_| kept.next().unwrap_or(true));
}

/// Records (and errors) a part holds before it is handed on: a huge file reaches the consumer in
/// parts of this size, so a consumer that folds records into a graph or index and drops them keeps
/// memory flat within one file too, not only across files. With two parts waiting in the channel
/// this bounds what is in flight. Small parts also keep a part's parsed events (forty-odd
/// allocations each) within the core's caches until they are indexed and freed: the 1M-event
/// index build (examples/bench/index.rs) peaked at 248-266 MiB with parts of 4,096 records and
/// 224-236 MiB with 512, its speed the same within a noisy machine's spread.
const PART_RECORDS: usize = 512;

/// Loads files on all cores and hands their records to `on_part` on the calling thread as soon as
/// they are read, with the file's index for re-ordering. A file comes in one part or, when it
/// holds more than [`PART_RECORDS`] records, in several, in order; its last part has `files == 1`.
/// Parts of different files interleave in completion order. A bounded channel keeps at most a few
/// parts in memory, so a million events stream through the consumer (graph, index) instead of
/// piling up.
pub fn load_streaming(
    paths: &[PathBuf],
    on_part: impl FnMut(usize, Loaded),
) -> Result<usize, InputError> {
    load_streaming_with(paths, |l| l, on_part)
}

/// [`load_streaming`] with `map` applied to each part on the loader's threads, before it is
/// handed over: what a consumer can do per part in parallel (build that part's index) it does
/// there, and the calling thread only joins the results.
pub fn load_streaming_with<T: Send>(
    paths: &[PathBuf],
    map: impl Fn(Loaded) -> T + Sync,
    on_part: impl FnMut(usize, T),
) -> Result<usize, InputError> {
    let files = source::expand(paths).map_err(|(path, source)| InputError { path, source })?;
    stream_parts(&files, |f, flush| load_file_parts(f, flush), map, on_part);
    Ok(files.len())
}

/// [`load_streaming`] over objects that are not files (an S3 bucket's, as they arrive): each is
/// `(name, content or why it could not be read)`, parsed on all cores as they come, with raw
/// CloudTrail records kept in memory (there is no file to read them back from). Indices start at
/// `first`, so parts of files and objects can be told apart; returns how many objects.
pub fn load_objects_streaming<T: Send>(
    objects: impl Iterator<Item = (PathBuf, Result<Vec<u8>, String>)> + Send,
    first: usize,
    map: impl Fn(Loaded) -> T + Sync,
    mut on_part: impl FnMut(usize, T),
) -> usize {
    use rayon::iter::ParallelBridge;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, T)>(2);
    let mut count = 0;
    std::thread::scope(|scope| {
        let map = &map;
        scope.spawn(move || {
            on_loaders(|| {
                objects.enumerate().par_bridge().for_each_with(
                    tx,
                    |tx, (i, (name, got))| match got {
                        Ok(bytes) => {
                            let last = load_parts(
                                true,
                                &mut |part| {
                                    let _ = tx.send((i, map(part)));
                                },
                                |sink| walk::walk_bytes(&name, bytes, sink),
                            );
                            let _ = tx.send((i, map(last)));
                        }
                        Err(why) => {
                            let mut l = Loaded::default();
                            l.errors.push(IngestError::file(&name, why));
                            l.files = 1;
                            let _ = tx.send((i, map(l)));
                        }
                    },
                );
            })
        });
        for (i, part) in rx {
            count = count.max(i + 1);
            on_part(first + i, part);
        }
    });
    count
}

/// Runs `f` on the loaders' own threads (made once; the global pool if they cannot be). A
/// loader blocks while the consumer has not taken its last two parts, and the consumer may use
/// the global pool meanwhile (a segment's sort, a hunt's correlation): were the loaders that
/// pool's threads, it would wait for them and they for it.
fn on_loaders<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("vigil-load-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// The engine of [`load_streaming`] for any kind of file: `load` reads one, handing full parts to
/// its flush and returning the last.
fn stream_parts<F: Sync, T: Send>(
    files: &[F],
    load: impl Fn(&F, &mut dyn FnMut(Loaded)) -> Loaded + Sync,
    map: impl Fn(Loaded) -> T + Sync,
    mut on_part: impl FnMut(usize, T),
) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, T)>(2);
    std::thread::scope(|scope| {
        let (load, map) = (&load, &map);
        scope.spawn(move || {
            on_loaders(|| {
                files
                    .par_iter()
                    .enumerate()
                    .for_each_with(tx, |tx, (i, f)| {
                        // A closed receiver means the consumer is gone; nothing left to do.
                        let last = load(f, &mut |part| {
                            let _ = tx.send((i, map(part)));
                        });
                        let _ = tx.send((i, map(last)));
                    });
            })
        });
        for (i, part) in rx {
            on_part(i, part);
        }
    });
}

/// Loads one file (sequentially).
pub fn load_file(path: &Path) -> Loaded {
    let mut parts = Loaded::default();
    let last = load_file_parts(path, &mut |p| parts.extend(p));
    parts.extend(last);
    parts
}

/// Loads one file, handing full parts to `flush` as it goes, and returns the last part.
fn load_file_parts(path: &Path, flush: &mut dyn FnMut(Loaded)) -> Loaded {
    load_parts(false, flush, |sink| walk::walk_file(path, sink))
}

/// Runs `walk` into a fresh sink (`inline`: raw records kept in memory), handing full parts to
/// `flush`, and returns the last part.
fn load_parts(
    inline: bool,
    flush: &mut dyn FnMut(Loaded),
    walk: impl FnOnce(&mut LoadSink<'_>),
) -> Loaded {
    let mut sink = LoadSink {
        out: Loaded::default(),
        trail_file: false,
        inline,
        flush,
    };
    walk(&mut sink);
    let mut last = sink.out;
    last.files = 1;
    last
}

struct LoadSink<'f> {
    out: Loaded,
    /// Whether this file is already listed among the CloudTrail log files.
    trail_file: bool,
    /// Raw CloudTrail records are kept in memory instead of as a byte range of the file (an
    /// embedded file is not on disk to be read back).
    inline: bool,
    flush: &'f mut dyn FnMut(Loaded),
}

impl LoadSink<'_> {
    /// Hands the part on once it is full.
    fn maybe_flush(&mut self) {
        let o = &self.out;
        let held = o.events.len() + o.findings.len() + o.flows.len() + o.dns.len() + o.errors.len();
        if held >= PART_RECORDS {
            (self.flush)(std::mem::take(&mut self.out));
        }
    }
}

pub(crate) fn origin(path: &Arc<PathBuf>, line: u64, index: Option<u64>) -> Origin {
    Origin {
        path: path.clone(),
        line,
        index,
    }
}

/// A Security Hub (ASFF) finding's wire form.
pub(crate) fn parse_asff(raw: &str) -> Result<asff::WireAsff, String> {
    limits::check_nesting(raw)?;
    serde_json::from_str(raw).map_err(|e| format!("invalid Security Hub (ASFF) finding: {e}"))
}

/// A finding's wire form. Errors are the reason, to be located by the caller.
pub(crate) fn parse_finding(kind: Kind, raw: &str) -> Result<guardduty::WireFinding, String> {
    limits::check_nesting(raw)?;
    parse_wire_finding(kind, raw).map_err(|e| format!("invalid GuardDuty finding: {e}"))
}

fn parse_wire_finding(kind: Kind, raw: &str) -> Result<guardduty::WireFinding, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let wire = match kind {
        Kind::FindingPascal => casing::from_pascal(&mut de)?,
        _ => serde::Deserialize::deserialize(&mut de)?,
    };
    de.end()?;
    Ok(wire)
}

/// The typed event of a raw CloudTrail record, with the given way to fetch it back. A record
/// nested beyond [`limits::MAX_NESTING`] is refused here, where the load and the pivot scan (which
/// prints the raw record) both come, even where the nesting is in fields the parse skips.
pub(crate) fn parse_event(path: &Arc<PathBuf>, rec: &Rec<'_>) -> Result<TrailEvent, String> {
    if !rec.shallow {
        limits::check_nesting(rec.raw)?;
    }
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

impl Sink for LoadSink<'_> {
    fn record(&mut self, path: &Arc<PathBuf>, rec: Rec<'_>) {
        self.maybe_flush();
        // Without an offset the event keeps its raw text (`RawRef::Inline`).
        let rec = if self.inline {
            Rec {
                offset: None,
                ..rec
            }
        } else {
            rec
        };
        let loc = |reason: String| IngestError::record(path, rec.line, rec.index, reason);
        match rec.kind {
            Kind::Finding | Kind::FindingPascal => match parse_finding(rec.kind, rec.raw) {
                Ok(w) => match w.into_finding(rec.raw, origin(path, rec.line, rec.index)) {
                    Ok(f) => self.out.findings.push(f),
                    Err(e) => self.out.errors.push(loc(e.to_string())),
                },
                Err(e) => self.out.errors.push(loc(e)),
            },
            Kind::Asff => match parse_asff(rec.raw) {
                Ok(w) => match w.into_finding(rec.raw, origin(path, rec.line, rec.index)) {
                    Ok(f) => self.out.findings.push(f),
                    Err(e) => self.out.errors.push(loc(e)),
                },
                Err(e) => self.out.errors.push(loc(e)),
            },
            Kind::Trail => {
                // One sink per file: the first record marks the file as a CloudTrail log file.
                if !self.trail_file {
                    self.trail_file = true;
                    self.out.trail_files.push(path.clone());
                }
                match parse_event(path, &rec) {
                    Ok(ev) => {
                        // A big file's part fills to PART_RECORDS: past the first doublings it
                        // is made that size once, not copied at every doubling on the way.
                        let events = &mut self.out.events;
                        if events.len() == events.capacity() && events.len() >= 64 {
                            events.reserve_exact(PART_RECORDS.saturating_sub(events.len()));
                        }
                        events.push(ev);
                    }
                    Err(e) => self.out.errors.push(loc(e)),
                }
            }
            Kind::Digest => match digest::parse(path, rec.raw) {
                Ok(d) => self.out.digests.push(d),
                Err(e) => self.out.errors.push(loc(e)),
            },
            Kind::Dns => {
                if let Err(e) = limits::check_nesting(rec.raw) {
                    return self.out.errors.push(loc(e));
                }
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
        self.maybe_flush();
        match flow::parse_line(layout, line, origin(path, line_no, None)) {
            Ok(r) => self.out.flows.push(r),
            Err(e) => self
                .out
                .errors
                .push(IngestError::record(path, line_no, None, e.to_string())),
        }
    }

    fn error(&mut self, err: IngestError) {
        self.maybe_flush();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A consumer that uses the global pool while loaders wait for it to take their parts: the
    /// console does (a segment's sort, a hunt's correlation). When the loaders were the global
    /// pool's threads, this waited for ever.
    #[test]
    fn a_consumer_may_use_the_global_pool_while_loaders_wait() {
        let dir = tempfile::tempdir().unwrap();
        let record = |f: usize, i: usize| {
            format!(
                r#"{{"eventTime":"2024-05-01T10:00:00Z","eventID":"f{f}-{i}","eventName":"GetCallerIdentity","eventSource":"sts.amazonaws.com","sourceIPAddress":"203.0.113.{}"}}"#,
                i % 250
            )
        };
        let files = 2 * rayon::current_num_threads() + 2;
        for f in 0..files {
            let records: Vec<String> = (0..2000).map(|i| record(f, i)).collect();
            let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
            std::fs::write(dir.path().join(format!("{f}.json")), text).unwrap();
        }
        let paths = vec![dir.path().to_path_buf()];
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut events = 0usize;
            let got = load_streaming_with(
                &paths,
                |part| part.events.len(),
                |_, n| {
                    // Slow enough that every loader fills the hand-over channel and waits.
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    events += (0..n).into_par_iter().map(|_| 1usize).sum::<usize>();
                },
            );
            let _ = done_tx.send((got.ok(), events));
        });
        let finished = done.recv_timeout(std::time::Duration::from_secs(60));
        assert_eq!(finished, Ok((Some(files), files * 2000)));
    }
}
