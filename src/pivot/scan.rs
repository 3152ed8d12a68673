//! The one-shot pivot: stream every file once, on all cores, and fully parse only the records
//! that can contain the entity. The prefilter never drops a match: for an address it reads each
//! `sourceIPAddress` value and canonicalises it (the only place CloudTrail addresses come from);
//! for anything else it looks for the value's JSON text, which every field naming the entity
//! must contain. Candidates then go through the same extraction as the index.

use super::window::Window;
use crate::ingest::walk::{self, Kind, Rec, Sink};
use crate::ingest::{self, IngestError, InputError, flow, source};
use crate::model::entity::{parse_ip, source_addresses};
use crate::model::{EntityId, EntityKind, TrailEvent, Ts};
use memchr::memmem;
use rayon::prelude::*;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// A matching event and its original JSON (made compact, one line).
#[derive(Debug)]
pub struct ScanHit {
    pub event: HitEvent,
    pub raw: HitRaw,
}

/// A match's JSON: in memory, or — once a pivot's matches hold more than [`Spill::BUDGET`] —
/// in the pivot's spill file, so a pivot that matches a third of a 10-million-event day holds
/// its sort keys, not its gigabytes of JSON.
#[derive(Debug)]
pub enum HitRaw {
    Mem(Box<str>),
    Spilled {
        spill: Arc<SpillFile>,
        offset: u64,
        len: u32,
    },
}

impl From<String> for HitRaw {
    fn from(s: String) -> HitRaw {
        HitRaw::Mem(s.into_boxed_str())
    }
}

impl HitRaw {
    /// The JSON text (read back from the spill file when it was spilled).
    pub fn text(&self) -> std::io::Result<std::borrow::Cow<'_, str>> {
        match self {
            HitRaw::Mem(s) => Ok(std::borrow::Cow::Borrowed(s)),
            HitRaw::Spilled { spill, offset, len } => {
                spill.read(*offset, *len).map(std::borrow::Cow::Owned)
            }
        }
    }
}

/// An unnamed temporary file (gone when closed) that matches' JSON is appended to.
#[derive(Debug)]
pub struct SpillFile {
    file: std::sync::Mutex<std::fs::File>,
}

impl SpillFile {
    fn append(&self, text: &str) -> std::io::Result<u64> {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let at = f.seek(SeekFrom::End(0))?;
        f.write_all(text.as_bytes())?;
        Ok(at)
    }

    fn read(&self, offset: u64, len: u32) -> std::io::Result<String> {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf)?;
        String::from_utf8(buf).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}

/// Where a pivot keeps its matches' JSON: memory up to [`Spill::BUDGET`] bytes, then a
/// temporary file (created on first need; if it cannot be, memory it is, and said once).
#[derive(Default)]
pub struct Spill {
    used: std::sync::atomic::AtomicUsize,
    file: std::sync::OnceLock<Option<Arc<SpillFile>>>,
}

impl Spill {
    /// Matches' JSON held in memory before the rest goes to disk.
    pub const BUDGET: usize = 32 << 20;

    pub fn keep(&self, text: String) -> HitRaw {
        use std::sync::atomic::Ordering;
        let before = self.used.fetch_add(text.len(), Ordering::Relaxed);
        if before + text.len() <= Self::BUDGET {
            return HitRaw::from(text);
        }
        let file = self.file.get_or_init(|| match tempfile::tempfile() {
            Ok(f) => Some(Arc::new(SpillFile {
                file: std::sync::Mutex::new(f),
            })),
            Err(e) => {
                tracing::warn!(error = %e, "no temporary file for a large pivot; kept in memory");
                None
            }
        });
        let Some(spill) = file else {
            return HitRaw::from(text);
        };
        match spill.append(&text) {
            Ok(offset) => HitRaw::Spilled {
                spill: spill.clone(),
                offset,
                len: text.len() as u32,
            },
            Err(_) => HitRaw::from(text),
        }
    }
}

/// What the pivot's outputs need of a matching event: the sort key and the table's columns,
/// in one allocation. The rest of the typed event (entities, targets, origin) is dropped
/// as soon as it has matched, so a pivot that matches a third of a large trail holds little
/// more than its matches' keys.
#[derive(Debug)]
pub struct HitEvent {
    pub time: Ts,
    /// `eventID`, name, service (without `.amazonaws.com`), principal, source IP, error code,
    /// one after the other; `ends` says where each ends.
    packed: Box<str>,
    ends: [u32; 6],
}

impl HitEvent {
    fn field(&self, n: usize) -> &str {
        let start = n.checked_sub(1).map_or(0, |p| self.ends[p] as usize);
        let end = self.ends.get(n).map_or(start, |e| *e as usize);
        self.packed.get(start..end).unwrap_or("")
    }

    fn opt(&self, n: usize) -> Option<&str> {
        Some(self.field(n)).filter(|s| !s.is_empty())
    }

    pub fn event_id(&self) -> &str {
        self.field(0)
    }

    pub fn name(&self) -> &str {
        self.field(1)
    }

    pub fn service(&self) -> &str {
        self.field(2)
    }

    /// The acting principal's value (an ARN, mostly).
    pub fn principal(&self) -> Option<&str> {
        self.opt(3)
    }

    pub fn source_ip(&self) -> Option<&str> {
        self.opt(4)
    }

    pub fn error_code(&self) -> Option<&str> {
        self.opt(5)
    }
}

impl From<TrailEvent> for HitEvent {
    fn from(ev: TrailEvent) -> HitEvent {
        let fields = [
            ev.event_id.as_str(),
            &ev.name,
            ev.service_short(),
            ev.principal.as_ref().map_or("", |p| p.value.as_str()),
            ev.source_ip.as_deref().unwrap_or(""),
            ev.error_code.as_deref().unwrap_or(""),
        ];
        let mut packed = String::with_capacity(fields.iter().map(|f| f.len()).sum());
        let mut ends = [0u32; 6];
        for (f, end) in fields.iter().zip(ends.iter_mut()) {
            packed.push_str(f);
            *end = packed.len() as u32;
        }
        HitEvent {
            time: ev.time,
            packed: packed.into_boxed_str(),
            ends,
        }
    }
}

/// Matching events in pivot order, and what went wrong.
#[derive(Debug, Default)]
pub struct ScanResult {
    pub events: Vec<ScanHit>,
    pub errors: Vec<IngestError>,
    pub records: u64,
    pub files: usize,
}

enum Needle {
    Ip(IpAddr, Box<memmem::Finder<'static>>),
    /// Any of these texts (an entity spelled more than one way in records).
    Text(Vec<memmem::Finder<'static>>),
    Never,
}

impl Needle {
    fn for_entity(e: &EntityId) -> Needle {
        match e.kind {
            // A value that is not an address never matches (events hold canonical addresses).
            EntityKind::Ip => match parse_ip(&e.value) {
                Some(ip) => Needle::Ip(ip, Box::new(memmem::Finder::new(SOURCE_IP_KEY))),
                None => Needle::Never,
            },
            EntityKind::Domain | EntityKind::Finding => Needle::Never,
            _ => Needle::Text(
                e.record_texts()
                    .into_iter()
                    .map(|text| {
                        let json = serde_json::to_string(text).unwrap_or_default();
                        let inner = json.get(1..json.len().saturating_sub(1)).unwrap_or("");
                        memmem::Finder::new(inner.as_bytes()).into_owned()
                    })
                    .collect(),
            ),
        }
    }

    fn may_match(&self, raw: &str) -> bool {
        match self {
            Needle::Never => false,
            Needle::Text(any) => any.iter().any(|f| f.find(raw.as_bytes()).is_some()),
            Needle::Ip(want, key) => {
                let b = raw.as_bytes();
                key.find_iter(b).any(|at| {
                    string_value_after(b, at + SOURCE_IP_KEY.len())
                        .is_some_and(|v| source_addresses(v).any(|ip| ip == *want))
                })
            }
        }
    }
}

/// The string value after a key: skips `\s*:\s*"` and returns up to the closing quote.
fn string_value_after(b: &[u8], mut i: usize) -> Option<&str> {
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    if b.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let end = start + memchr::memchr(b'"', &b[start..])?;
    std::str::from_utf8(&b[start..end]).ok()
}

const SOURCE_IP_KEY: &[u8] = b"\"sourceIPAddress\"";

struct ScanSink<'n> {
    needle: &'n Needle,
    spill: &'n Spill,
    target: &'n EntityId,
    window: Window,
    out: ScanResult,
}

impl Sink for ScanSink<'_> {
    fn record(&mut self, path: &Arc<PathBuf>, rec: Rec<'_>) {
        if rec.kind != Kind::Trail {
            return;
        }
        self.out.records += 1;
        if !self.needle.may_match(rec.raw) {
            return;
        }
        match ingest::parse_event(path, &rec) {
            Ok(ev) => {
                if self.window.contains(ev.time) && ev.entities.binary_search(self.target).is_ok() {
                    self.out.events.push(ScanHit {
                        event: HitEvent::from(ev),
                        raw: self.spill.keep(minify_json(rec.raw)),
                    });
                }
            }
            Err(e) => self
                .out
                .errors
                .push(IngestError::record(path, rec.line, rec.index, e)),
        }
    }

    fn flow(&mut self, _: &Arc<PathBuf>, _: &flow::Layout, _: &str, _: u64) {}

    fn error(&mut self, err: IngestError) {
        self.out.errors.push(err);
    }
}

/// The pivot of `target` over the CloudTrail files under `paths`, in one streaming pass.
pub fn scan(
    paths: &[PathBuf],
    target: &EntityId,
    window: Window,
) -> Result<ScanResult, InputError> {
    let files = source::expand(paths).map_err(|(path, source)| InputError { path, source })?;
    let needle = Needle::for_entity(target);
    let spill = Spill::default();
    let parts: Vec<ScanResult> = files
        .par_iter()
        .map(|f| {
            let mut sink = ScanSink {
                needle: &needle,
                spill: &spill,
                target,
                window,
                out: ScanResult::default(),
            };
            walk::walk_file(f, &mut sink);
            sink.out
        })
        .collect();
    let mut out = ScanResult {
        files: files.len(),
        ..ScanResult::default()
    };
    // Sized once: growing by doubling would hold up to twice the matches' keys at the end.
    out.events
        .reserve_exact(parts.iter().map(|p| p.events.len()).sum::<usize>());
    for p in parts {
        out.events.extend(p.events);
        out.errors.extend(p.errors);
        out.records += p.records;
    }
    out.events.sort_by(|a, b| {
        (a.event.time, a.event.event_id()).cmp(&(b.event.time, b.event.event_id()))
    });
    Ok(out)
}

/// [`scan`] over objects that are not files (an S3 bucket's, fetched as they come): each is
/// `(name, content or why it could not be read)`; parsed on all cores as they arrive.
pub fn scan_objects(
    objects: impl Iterator<Item = (PathBuf, Result<Vec<u8>, String>)> + Send,
    target: &EntityId,
    window: Window,
) -> ScanResult {
    use rayon::iter::ParallelBridge;
    let needle = Needle::for_entity(target);
    let spill = Spill::default();
    let parts: Vec<ScanResult> = objects
        .par_bridge()
        .map(|(name, got)| {
            let mut sink = ScanSink {
                needle: &needle,
                spill: &spill,
                target,
                window,
                out: ScanResult::default(),
            };
            match got {
                Ok(bytes) => walk::walk_bytes(&name, bytes, &mut sink),
                Err(why) => sink.out.errors.push(IngestError::file(&name, why)),
            }
            sink.out.files = 1;
            sink.out
        })
        .collect();
    let mut out = ScanResult::default();
    out.events
        .reserve_exact(parts.iter().map(|p| p.events.len()).sum::<usize>());
    for p in parts {
        out.files += p.files;
        out.events.extend(p.events);
        out.errors.extend(p.errors);
        out.records += p.records;
    }
    out.events.sort_by(|a, b| {
        (a.event.time, a.event.event_id()).cmp(&(b.event.time, b.event.event_id()))
    });
    out
}

/// Removes insignificant whitespace so a pretty-printed record fits on one JSON Lines line.
/// Key order and every value are kept byte for byte.
pub fn minify_json(s: &str) -> String {
    if !s.contains('\n') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let (mut in_str, mut esc) = (false, false);
    for c in s.chars() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_prefilter_reads_and_canonicalises_the_value() {
        let n = Needle::for_entity(&EntityId::ip("75.50.255.67").unwrap());
        assert!(n.may_match(r#"{"sourceIPAddress" : "075.050.255.67"}"#));
        assert!(!n.may_match(r#"{"sourceIPAddress":"75.50.255.68"}"#));
        assert!(!n.may_match(r#"{"other":"75.50.255.67"}"#));
    }

    #[test]
    fn matches_past_the_budget_are_spilled_and_read_back() {
        let spill = Spill::default();
        let big = "x".repeat(Spill::BUDGET - 3);
        assert!(matches!(spill.keep(big), HitRaw::Mem(_)));
        let kept: Vec<HitRaw> = (0..3)
            .map(|i| spill.keep(format!("{{\"n\":{i}}}")))
            .collect();
        for (i, k) in kept.iter().enumerate() {
            assert!(matches!(k, HitRaw::Spilled { .. }));
            assert_eq!(k.text().unwrap(), format!("{{\"n\":{i}}}"));
        }
    }

    #[test]
    fn minify_keeps_strings_intact() {
        assert_eq!(
            minify_json("{\n  \"a b\": \"x  y\",\n  \"c\": [1, 2]\n}"),
            r#"{"a b":"x  y","c":[1,2]}"#
        );
    }
}
