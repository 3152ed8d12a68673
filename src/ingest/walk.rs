//! Format detection and envelope unwrapping. Each file is read through a [`Window`]; each
//! top-level JSON value is classified by its keys and its records are handed to a [`Sink`] as raw
//! slices with their location. Typed parsing happens in the sink, so the same walk serves a full
//! load and a pivot scan that only parses candidate records.

use super::limits::{MAX_RECORD_BYTES, too_large};
use super::source::{self, Window};
use super::{IngestError, flow, stream};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Finding,
    /// A finding from the CLI / boto3 `{"Findings":[...]}` shape, PascalCase keys.
    FindingPascal,
    Trail,
    Dns,
    /// A CloudTrail digest file (log file integrity validation): not an event, one per hour.
    Digest,
}

/// One record, not yet parsed.
pub struct Rec<'a> {
    pub kind: Kind,
    pub raw: &'a str,
    /// Offset of `raw` in the decompressed file; `None` when it was decoded from a JSON string.
    pub offset: Option<u64>,
    pub line: u64,
    pub index: Option<u64>,
}

pub trait Sink {
    fn record(&mut self, path: &Arc<std::path::PathBuf>, rec: Rec<'_>);
    fn flow(
        &mut self,
        path: &Arc<std::path::PathBuf>,
        layout: &flow::Layout,
        line: &str,
        line_no: u64,
    );
    fn error(&mut self, err: IngestError);
}

/// The keys that identify a top-level object. Containers are borrowed raw, unparsed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Top<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    findings: Option<Vec<&'a RawValue>>,
    #[serde(rename = "Findings", borrow)]
    findings_pascal: Option<Vec<&'a RawValue>>,
    #[serde(rename = "Events", borrow)]
    lookup_events: Option<Vec<&'a RawValue>>,
    #[serde(rename = "detail-type", borrow)]
    detail_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
    /// Panther rule tests wrap the event in `log`; MozDef fixtures in `mozdef_event`.
    #[serde(borrow)]
    log: Option<&'a RawValue>,
    #[serde(borrow)]
    mozdef_event: Option<&'a RawValue>,
    /// MozDef's own event: the finding under `details`, with `source: "guardduty"`.
    #[serde(borrow)]
    details: Option<&'a RawValue>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(rename = "eventTime")]
    event_time: Option<IgnoredAny>,
    #[serde(rename = "eventName")]
    event_name: Option<IgnoredAny>,
    #[serde(rename = "eventSource")]
    event_source: Option<IgnoredAny>,
    #[serde(rename = "eventVersion")]
    event_version: Option<IgnoredAny>,
    #[serde(rename = "userIdentity")]
    user_identity: Option<IgnoredAny>,
    #[serde(rename = "schemaVersion")]
    schema_version: Option<IgnoredAny>,
    #[serde(rename = "type")]
    finding_type: Option<IgnoredAny>,
    resource: Option<IgnoredAny>,
    service: Option<IgnoredAny>,
    #[serde(rename = "SchemaVersion")]
    schema_version_p: Option<IgnoredAny>,
    #[serde(rename = "Type")]
    finding_type_p: Option<IgnoredAny>,
    #[serde(rename = "Resource")]
    resource_p: Option<IgnoredAny>,
    #[serde(rename = "Service")]
    service_p: Option<IgnoredAny>,
    query_name: Option<IgnoredAny>,
    #[serde(rename = "digestStartTime")]
    digest_start_time: Option<IgnoredAny>,
    #[serde(rename = "logFiles")]
    log_files: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct LookupEvent<'a> {
    #[serde(rename = "CloudTrailEvent", borrow, default)]
    cloudtrail_event: Option<Cow<'a, str>>,
}

const MAX_DEPTH: u8 = 4;

/// A list of records and what its elements are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum List {
    /// CloudTrail's `{"Records":[…]}`.
    Records,
    /// `{"findings":[…]}`.
    Findings,
    /// The CLI's `{"Findings":[…]}` (PascalCase).
    FindingsPascal,
    /// The CLI's `lookup-events` output, `{"Events":[…]}`.
    Events,
    /// A bare top-level array: each element is classified on its own.
    Bare,
}

impl List {
    /// The record list an object key names, if any.
    pub(super) fn of_key(key: &str) -> Option<List> {
        match key {
            "Records" => Some(List::Records),
            "findings" => Some(List::Findings),
            "Findings" => Some(List::FindingsPascal),
            "Events" => Some(List::Events),
            _ => None,
        }
    }
}

/// Where records are being read: the sink, the file, and how to turn a slice of the window's
/// buffer into a file offset and a line.
pub(super) struct Ctx<'s, 'b, S: Sink> {
    pub(super) sink: &'s mut S,
    pub(super) path: &'b Arc<std::path::PathBuf>,
    /// Start of the window buffer, to turn borrowed slices into file offsets.
    pub(super) buf_ptr: usize,
    pub(super) base: u64,
    pub(super) line: u64,
}

impl<S: Sink> Ctx<'_, '_, S> {
    fn offset_of(&self, s: &str) -> u64 {
        self.base + (s.as_ptr() as usize - self.buf_ptr) as u64
    }

    pub(super) fn err(&mut self, index: Option<u64>, reason: impl Into<String>) {
        self.sink
            .error(IngestError::record(self.path, self.line, index, reason));
    }

    /// Hands one record to the sink, unless it is beyond [`MAX_RECORD_BYTES`].
    fn emit(&mut self, kind: Kind, raw: &str, index: Option<u64>) {
        if raw.len() > MAX_RECORD_BYTES {
            return self.err(index, too_large());
        }
        let offset = Some(self.offset_of(raw));
        self.sink.record(
            self.path,
            Rec {
                kind,
                raw,
                offset,
                line: self.line,
                index,
            },
        );
    }

    /// Emits element `i` of a record list found at envelope depth `depth`.
    pub(super) fn list_item(&mut self, list: List, raw: &str, i: u64, depth: u8) {
        match list {
            List::Records => self.emit(Kind::Trail, raw, Some(i)),
            List::Findings => self.emit(Kind::Finding, raw, Some(i)),
            List::FindingsPascal => self.emit(Kind::FindingPascal, raw, Some(i)),
            List::Bare => self.value(raw, Some(i), depth + 1),
            List::Events => self.lookup_event(raw, i, depth),
        }
    }

    /// One `lookup-events` entry: it nests the record as a JSON string; Insights lookups inline it.
    fn lookup_event(&mut self, raw: &str, i: u64, depth: u8) {
        match serde_json::from_str::<LookupEvent>(raw) {
            Ok(LookupEvent {
                cloudtrail_event: Some(s),
            }) if s.len() > MAX_RECORD_BYTES => self.err(Some(i), too_large()),
            Ok(LookupEvent {
                cloudtrail_event: Some(s),
            }) => self.sink.record(
                self.path,
                Rec {
                    kind: Kind::Trail,
                    raw: &s,
                    offset: None,
                    line: self.line,
                    index: Some(i),
                },
            ),
            Ok(_) => self.value(raw, Some(i), depth + 1),
            Err(e) => self.err(Some(i), format!("invalid lookup-events entry: {e}")),
        }
    }

    /// Classifies one JSON value (an object expected) and emits its records.
    pub(super) fn value(&mut self, raw: &str, index: Option<u64>, depth: u8) {
        if depth > MAX_DEPTH {
            return self.err(index, "envelopes nested too deeply");
        }
        let first = raw.as_bytes().first().copied();
        if first == Some(b'[') {
            match serde_json::from_str::<Vec<&RawValue>>(raw) {
                Ok(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.list_item(List::Bare, item.get(), i as u64, depth);
                    }
                }
                Err(e) => self.err(index, format!("invalid JSON array: {e}")),
            }
            return;
        }
        if first != Some(b'{') {
            return self.err(
                index,
                "expected a JSON object (a finding, CloudTrail record or Resolver query)",
            );
        }
        let top: Top = match serde_json::from_str(raw) {
            Ok(t) => t,
            Err(e) => return self.err(index, format!("invalid JSON: {e}")),
        };
        self.classify(raw, top, index, depth)
    }

    /// Emits the records of an object whose identifying keys are `top`.
    fn classify(&mut self, raw: &str, top: Top<'_>, index: Option<u64>, depth: u8) {
        let list = [
            (List::Records, &top.records),
            (List::Findings, &top.findings),
            (List::FindingsPascal, &top.findings_pascal),
            (List::Events, &top.lookup_events),
        ]
        .into_iter()
        .find_map(|(list, items)| items.as_ref().map(|items| (list, items)));
        if let Some((list, items)) = list {
            for (i, r) in items.iter().enumerate() {
                self.list_item(list, r.get(), i as u64, depth);
            }
        } else if let Some(detail) = top.detail {
            match top.detail_type.as_deref() {
                Some("GuardDuty Finding") => self.emit(Kind::Finding, detail.get(), index),
                Some(t) if t.contains("CloudTrail") => self.emit(Kind::Trail, detail.get(), index),
                Some(t) => self.err(index, format!("unsupported EventBridge detail-type `{t}`")),
                // A truncated envelope (only `detail`): classify what it holds.
                None => self.value(detail.get(), index, depth + 1),
            }
        } else if let Some(inner) = top.log.or(top.mozdef_event) {
            self.value(inner.get(), index, depth + 1)
        } else if let (Some(details), Some("guardduty")) = (top.details, top.source.as_deref()) {
            self.emit(Kind::Finding, details.get(), index)
        } else if top.event_time.is_some()
            || top.event_name.is_some()
            || top.event_source.is_some()
            || top.event_version.is_some()
            || top.user_identity.is_some()
        {
            self.emit(Kind::Trail, raw, index)
        } else if top.schema_version.is_some()
            || (top.finding_type.is_some() && (top.resource.is_some() || top.service.is_some()))
        {
            self.emit(Kind::Finding, raw, index)
        } else if top.schema_version_p.is_some()
            || (top.finding_type_p.is_some()
                && (top.resource_p.is_some() || top.service_p.is_some()))
        {
            self.emit(Kind::FindingPascal, raw, index)
        } else if top.query_name.is_some() {
            self.emit(Kind::Dns, raw, index)
        } else if top.digest_start_time.is_some() && top.log_files.is_some() {
            self.emit(Kind::Digest, raw, index)
        } else {
            self.err(
                index,
                "unrecognised record: not a GuardDuty finding, CloudTrail event or Route 53 Resolver query",
            )
        }
    }
}

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// Walks one file, sending its records and errors to `sink`. Never panics on input.
pub fn walk_file<S: Sink>(path: &Path, sink: &mut S) {
    let path = Arc::new(path.to_path_buf());
    match source::open_sized(&path) {
        Ok((reader, size_hint)) => walk_reader(&path, reader, size_hint, sink),
        Err(e) => {
            let reason = match e
                .get_ref()
                .and_then(|e| e.downcast_ref::<source::NotRegular>())
            {
                Some(not_regular) => not_regular.to_string(),
                None => format!("cannot open: {e}"),
            };
            sink.error(IngestError::file(&path, reason));
        }
    }
}

/// Walks a file embedded in the binary exactly as [`walk_file`] walks one on disk; `name` is what
/// its records and errors say they come from.
pub fn walk_bytes<S: Sink>(name: &Path, bytes: &'static [u8], sink: &mut S) {
    let path = Arc::new(name.to_path_buf());
    match source::open_bytes(bytes) {
        Ok((reader, size_hint)) => walk_reader(&path, reader, size_hint, sink),
        Err(e) => sink.error(IngestError::file(&path, format!("cannot open: {e}"))),
    }
}

/// Walks the (decompressed) content `reader` of the file `path`.
fn walk_reader<S: Sink>(
    path: &Arc<std::path::PathBuf>,
    reader: Box<dyn Read + Send>,
    size_hint: Option<u64>,
    sink: &mut S,
) {
    let mut w = Window::with_size_hint(reader, size_hint);
    w.fill();
    // Skip a UTF-8 byte-order mark and leading whitespace to see what the content is.
    if w.buf.starts_with(&[0xef, 0xbb, 0xbf]) {
        w.consume(3);
    }
    // The file is empty only if all of it is whitespace, however long: a window of blanks is
    // dropped and the next one read, so memory stays one window.
    let first = loop {
        match w.buf.iter().position(|b| !is_ws(*b)) {
            Some(i) => break Some(w.buf[i]),
            None if w.eof => break None,
            None => {
                w.consume(w.buf.len());
                w.fill();
            }
        }
    };
    match first {
        None => {
            let reason = match &w.io_error {
                Some(e) => format!("cannot read: {e}"),
                None => "file is empty".to_string(),
            };
            sink.error(IngestError::file(path, reason));
        }
        Some(b'{') | Some(b'[') => walk_json(path, &mut w, sink),
        Some(_) => walk_text(path, w, sink),
    }
}

/// Reads the JSON values of a file one after another (JSON Lines, concatenated or pretty-printed
/// documents); `w` is left at the end of the input.
pub(super) fn walk_json<S: Sink>(path: &Arc<std::path::PathBuf>, w: &mut Window, sink: &mut S) {
    let mut pos = 0usize;
    loop {
        while pos < w.buf.len() && is_ws(w.buf[pos]) {
            pos += 1;
        }
        if pos >= w.buf.len() {
            if w.eof {
                break;
            }
            w.consume(pos);
            pos = 0;
            w.fill();
            continue;
        }
        let line = w.line_at(pos);
        let slice = &w.buf[pos..];
        // The common case, an object that is complete in the buffer, is parsed in one pass.
        if let Some((top, raw)) = parse_top(slice) {
            let end = raw.len();
            let mut ctx = Ctx {
                sink: &mut *sink,
                path,
                buf_ptr: w.buf.as_ptr() as usize,
                base: w.base,
                line,
            };
            ctx.classify(raw, top, None, 0);
            pos += end;
            continue;
        }
        let mut values = serde_json::Deserializer::from_slice(slice).into_iter::<&RawValue>();
        let next = values.next();
        let end = values.byte_offset();
        let incomplete = !w.eof
            && match &next {
                // A number or literal that ends with the buffer may go on in the next read.
                Some(Ok(raw)) => end == slice.len() && !raw.get().ends_with(['}', ']', '"']),
                Some(Err(e)) => e.is_eof(),
                None => false,
            };
        if incomplete {
            // Past the size of one record, the value can only be a list of records: read it one
            // record at a time rather than buffering all of it.
            if w.buf.len() - pos > MAX_RECORD_BYTES {
                match stream::big_value(path, w, &mut pos, sink) {
                    stream::Next::Value => {}
                    stream::Next::Resync => {
                        if !skip_line(w, &mut pos) {
                            break;
                        }
                    }
                    stream::Next::End => break,
                }
                continue;
            }
            w.consume(pos);
            pos = 0;
            w.fill();
            continue;
        }
        match next {
            Some(Ok(raw)) => {
                let mut ctx = Ctx {
                    sink: &mut *sink,
                    path,
                    buf_ptr: w.buf.as_ptr() as usize,
                    base: w.base,
                    line,
                };
                ctx.value(raw.get(), None, 0);
                pos += end;
            }
            Some(Err(e)) => {
                let reason = if e.is_eof() {
                    "truncated JSON: the file ends inside a value".to_string()
                } else {
                    format!("invalid JSON: {e}")
                };
                let err_line = line + e.line().saturating_sub(1) as u64;
                sink.error(IngestError::record(path, err_line, None, reason));
                if !skip_line(w, &mut pos) {
                    break;
                }
            }
            None => break,
        }
    }
    if let Some(e) = w.io_error.take() {
        let line = w.line_at(w.buf.len());
        sink.error(IngestError::record(
            path,
            line,
            None,
            format!("read error (truncated or corrupt gzip?): {e}"),
        ));
    }
}

/// A top-level object at the start of `slice`, parsed straight into its identifying keys, and its
/// text. `None` for anything else (an array, a value that is incomplete in the buffer, malformed
/// JSON): the caller then takes the general path, which reports exactly as before. The result is
/// what that path would give: the same grammar, and the same UTF-8 check `RawValue` makes.
fn parse_top(slice: &[u8]) -> Option<(Top<'_>, &str)> {
    if slice.first() != Some(&b'{') {
        return None;
    }
    let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<Top>();
    let top = stream.next()?.ok()?;
    let raw = std::str::from_utf8(slice.get(..stream.byte_offset())?).ok()?;
    Some((top, raw))
}

/// Moves `pos` past the current line, then past any lines that cannot start a JSON value, so a
/// broken pretty-printed document reports once rather than once per line. Returns false at EOF.
fn skip_line(w: &mut Window, pos: &mut usize) -> bool {
    loop {
        match memchr::memchr(b'\n', &w.buf[*pos..]) {
            Some(nl) => {
                *pos += nl + 1;
                let rest = &w.buf[*pos..];
                let next = rest
                    .iter()
                    .position(|b| *b != b' ' && *b != b'\t')
                    .map(|i| rest[i]);
                match next {
                    Some(b'{') | Some(b'[') => return true,
                    None if !w.eof => {}
                    None => return false,
                    _ => {}
                }
            }
            None if w.eof => {
                *pos = w.buf.len();
                return false;
            }
            None => {
                w.consume(*pos);
                *pos = 0;
                w.fill();
                if w.buf.is_empty() {
                    return false;
                }
            }
        }
    }
}

fn walk_text<S: Sink>(path: &Arc<std::path::PathBuf>, mut w: Window, sink: &mut S) {
    // Leading blanks already dropped from the window still count as lines.
    let first_line_no = w.line_at(0);
    let head_end = memchr::memchr(b'\n', &w.buf).unwrap_or(w.buf.len());
    let head = &w.buf[..head_end];
    let binary = head.contains(&0) || std::str::from_utf8(head).is_err();
    let first_line = String::from_utf8_lossy(head).trim().to_string();
    if binary || !flow::looks_like_flow_log(&first_line) {
        return sink.error(IngestError::file(
            path,
            "unrecognised format: expected JSON (GuardDuty, CloudTrail, Route 53 Resolver) or a VPC flow log",
        ));
    }
    let (buffered, rest, early_error) = w.into_parts();
    let reader = BufReader::new(Cursor::new(buffered).chain(rest));
    let mut layout = flow::Layout::default_v2();
    let mut line_no = first_line_no - 1;
    for line in reader.split(b'\n') {
        line_no += 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                sink.error(IngestError::record(
                    path,
                    line_no,
                    None,
                    format!("read error (truncated or corrupt gzip?): {e}"),
                ));
                break;
            }
        };
        let Ok(text) = std::str::from_utf8(&line) else {
            sink.error(IngestError::record(
                path,
                line_no,
                None,
                "line is not valid UTF-8",
            ));
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if line_no == first_line_no
            && let Some(l) = flow::Layout::from_header(text)
        {
            layout = l;
            continue;
        }
        sink.flow(path, &layout, text, line_no);
    }
    if let Some(e) = early_error {
        sink.error(IngestError::record(
            path,
            line_no,
            None,
            format!("read error (truncated or corrupt gzip?): {e}"),
        ));
    }
}
