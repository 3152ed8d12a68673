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
    pub raw: String,
}

/// What the pivot's outputs need of a matching event: the sort key and the table's columns. The
/// rest of the typed event (entities, targets, origin) is dropped as soon as it has matched, so
/// a pivot that matches most of a large trail holds little more than the matches' JSON.
#[derive(Debug)]
pub struct HitEvent {
    pub event_id: String,
    pub time: Ts,
    pub name: String,
    /// The service without `.amazonaws.com`.
    pub service: String,
    pub principal: Option<EntityId>,
    pub source_ip: Option<String>,
    pub error_code: Option<String>,
}

impl From<TrailEvent> for HitEvent {
    fn from(ev: TrailEvent) -> HitEvent {
        HitEvent {
            service: ev.service_short().to_string(),
            event_id: ev.event_id,
            time: ev.time,
            name: ev.name,
            principal: ev.principal,
            source_ip: ev.source_ip,
            error_code: ev.error_code,
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
    Text(Box<memmem::Finder<'static>>),
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
            _ => {
                let json = serde_json::to_string(e.record_text()).unwrap_or_default();
                let inner = json
                    .get(1..json.len().saturating_sub(1))
                    .unwrap_or("")
                    .to_string();
                Needle::Text(Box::new(memmem::Finder::new(inner.as_bytes()).into_owned()))
            }
        }
    }

    fn may_match(&self, raw: &str) -> bool {
        match self {
            Needle::Never => false,
            Needle::Text(f) => f.find(raw.as_bytes()).is_some(),
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
                        raw: minify_json(rec.raw),
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
    let parts: Vec<ScanResult> = files
        .par_iter()
        .map(|f| {
            let mut sink = ScanSink {
                needle: &needle,
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
    for p in parts {
        out.events.extend(p.events);
        out.errors.extend(p.errors);
        out.records += p.records;
    }
    out.events
        .sort_by(|a, b| (a.event.time, &a.event.event_id).cmp(&(b.event.time, &b.event.event_id)));
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
    let parts: Vec<ScanResult> = objects
        .par_bridge()
        .map(|(name, got)| {
            let mut sink = ScanSink {
                needle: &needle,
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
    for p in parts {
        out.files += p.files;
        out.events.extend(p.events);
        out.errors.extend(p.errors);
        out.records += p.records;
    }
    out.events
        .sort_by(|a, b| (a.event.time, &a.event.event_id).cmp(&(b.event.time, &b.event.event_id)));
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
    fn minify_keeps_strings_intact() {
        assert_eq!(
            minify_json("{\n  \"a b\": \"x  y\",\n  \"c\": [1, 2]\n}"),
            r#"{"a b":"x  y","c":[1,2]}"#
        );
    }
}
