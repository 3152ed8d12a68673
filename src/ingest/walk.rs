//! Reading files: each is opened (gzip by its magic bytes) and read through a [`Window`], one
//! top-level JSON value at a time (JSON Lines, concatenated or pretty-printed documents, a value too
//! large to hold read record by record through [`stream`]), or line by line for a VPC flow log.
//! What each value is and which records it holds is [`super::envelope`]'s business.

pub use super::envelope::{Kind, Rec, Sink};

use super::envelope::{Ctx, is_ws, parse_top};
use super::errors::IngestError;
use super::flow;
use super::limits::MAX_RECORD_BYTES;
use super::source::{self, Window};
use super::split::records_only;
use super::stream;
use serde_json::value::RawValue;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::Path;
use std::sync::Arc;

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
pub fn walk_bytes<S: Sink, B: AsRef<[u8]> + Send + 'static>(name: &Path, bytes: B, sink: &mut S) {
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
    if w.buf().starts_with(&[0xef, 0xbb, 0xbf]) {
        w.consume(3);
    }
    // The file is empty only if all of it is whitespace, however long: a window of blanks is
    // dropped and the next one read, so memory stays one window.
    let first = loop {
        match w.buf().iter().position(|b| !is_ws(*b)) {
            Some(i) => break Some(w.buf()[i]),
            None if w.eof => break None,
            None => {
                w.consume(w.buf().len());
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
        while pos < w.buf().len() && is_ws(w.buf()[pos]) {
            pos += 1;
        }
        if pos >= w.buf().len() {
            if w.eof {
                break;
            }
            w.consume(pos);
            pos = 0;
            w.fill();
            continue;
        }
        let line = w.line_at(pos);
        let slice = &w.buf()[pos..];
        let mut ctx = Ctx::over(&mut *sink, path, w, line);
        // The commonest case, a CloudTrail log file, is split by its brackets.
        if let Some((raw, records)) = records_only(slice) {
            ctx.records(&records);
            pos += raw.len();
            continue;
        }
        // The common case, an object that is complete in the buffer, is parsed in one pass.
        if let Some((top, raw)) = parse_top(slice) {
            let end = raw.len();
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
            if w.buf().len() - pos > MAX_RECORD_BYTES {
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
                let mut ctx = Ctx::over(&mut *sink, path, w, line);
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
        let line = w.line_at(w.buf().len());
        sink.error(IngestError::record(
            path,
            line,
            None,
            format!("read error (truncated or corrupt gzip?): {e}"),
        ));
    }
}

/// Moves `pos` past the current line, then past any lines that cannot start a JSON value, so a
/// broken pretty-printed document reports once rather than once per line. Returns false at EOF.
fn skip_line(w: &mut Window, pos: &mut usize) -> bool {
    loop {
        match memchr::memchr(b'\n', &w.buf()[*pos..]) {
            Some(nl) => {
                *pos += nl + 1;
                let rest = &w.buf()[*pos..];
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
                *pos = w.buf().len();
                return false;
            }
            None => {
                w.consume(*pos);
                *pos = 0;
                w.fill();
                if w.buf().is_empty() {
                    return false;
                }
            }
        }
    }
}

fn walk_text<S: Sink>(path: &Arc<std::path::PathBuf>, mut w: Window, sink: &mut S) {
    // Leading blanks already dropped from the window still count as lines.
    let first_line_no = w.line_at(0);
    let head_end = memchr::memchr(b'\n', w.buf()).unwrap_or(w.buf().len());
    let head = &w.buf()[..head_end];
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

#[cfg(test)]
mod tests {
    //! Values larger than one record may be: read record by record through [`stream`].

    use super::*;
    use crate::ingest::limits::MAX_RECORD_BYTES;
    use std::io;
    use std::path::PathBuf;

    const PREFIX: &[u8] = b"{\"Records\":[";

    /// `{"Records":[r0,r1,…]}` made as it is read, never held whole: each record is `len` bytes.
    struct Records {
        n: usize,
        len: usize,
        next: usize,
        chunk: Vec<u8>,
        at: usize,
    }

    impl Records {
        fn record(&self, i: usize) -> Vec<u8> {
            let head = format!(
                "{{\"eventID\":\"r{i:08}\",\"eventTime\":\"2024-05-01T10:00:00Z\",\"pad\":\""
            );
            let mut r = head.into_bytes();
            r.resize(self.len - 2, b'x');
            r.extend_from_slice(b"\"}");
            r
        }
    }

    impl Read for Records {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.at == self.chunk.len() {
                self.at = 0;
                self.chunk = match self.next {
                    0 => PREFIX.to_vec(),
                    i if i <= self.n => {
                        let mut r = if i > 1 { b",".to_vec() } else { Vec::new() };
                        r.extend(self.record(i - 1));
                        r
                    }
                    i if i == self.n + 1 => b"]}".to_vec(),
                    _ => return Ok(0),
                };
                self.next += 1;
            }
            let n = out.len().min(self.chunk.len() - self.at);
            out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// Checks each record's index, offset and length as it comes.
    #[derive(Default)]
    struct Check {
        len: usize,
        seen: u64,
        errors: Vec<IngestError>,
    }

    impl Sink for Check {
        fn record(&mut self, _: &Arc<PathBuf>, rec: Rec<'_>) {
            let i = self.seen;
            assert_eq!(rec.kind, Kind::Trail);
            assert_eq!(rec.index, Some(i));
            assert_eq!(rec.line, 1);
            assert_eq!(rec.raw.len(), self.len);
            let offset = PREFIX.len() as u64 + i * (self.len as u64 + 1);
            assert_eq!(rec.offset, Some(offset), "record {i}");
            assert!(rec.raw.starts_with(&format!("{{\"eventID\":\"r{i:08}\"")));
            self.seen += 1;
        }
        fn flow(&mut self, _: &Arc<PathBuf>, _: &flow::Layout, _: &str, _: u64) {}
        fn error(&mut self, err: IngestError) {
            self.errors.push(err);
        }
    }

    /// Every record (index, line, event id) and error (line, index, reason) of a walk.
    #[derive(Default)]
    struct Collect {
        records: Vec<(Option<u64>, u64, String)>,
        errors: Vec<(Option<u64>, Option<u64>, String)>,
    }

    impl Sink for Collect {
        fn record(&mut self, _: &Arc<PathBuf>, rec: Rec<'_>) {
            let v: serde_json::Value = serde_json::from_str(rec.raw).unwrap_or_default();
            let id = v["eventID"].as_str().unwrap_or_default().to_string();
            self.records.push((rec.index, rec.line, id));
        }
        fn flow(&mut self, _: &Arc<PathBuf>, _: &flow::Layout, _: &str, _: u64) {}
        fn error(&mut self, err: IngestError) {
            self.errors.push((err.line, err.index, err.reason));
        }
    }

    fn walk(text: String) -> Collect {
        let mut w = Window::new(Box::new(io::Cursor::new(text.into_bytes())));
        let mut sink = Collect::default();
        walk_json(&Arc::new(PathBuf::from("t.json")), &mut w, &mut sink);
        sink
    }

    fn rec(id: &str) -> String {
        format!(r#"{{"eventID":"{id}","eventTime":"2024-05-01T10:00:00Z"}}"#)
    }

    /// More than twice the most one record may take, so the walk cannot hold it whole.
    fn big(c: &str) -> String {
        c.repeat(20 << 20)
    }

    #[test]
    fn huge_values_that_are_not_record_lists_are_refused_and_reading_goes_on() {
        let huge_record = rec("huge").replace("}", &format!(",\"pad\":\"{}\"}}", big("x")));
        let text = format!(
            "\"{}\"\n{huge_record}\n{}\n{}\n",
            big("s"),
            big("7"),
            rec("after")
        );
        let out = walk(text);
        assert_eq!(out.records, [(None, 4, "after".to_string())]);
        let where_: Vec<_> = out.errors.iter().map(|(l, i, _)| (*l, *i)).collect();
        assert_eq!(where_, [(Some(1), None), (Some(2), None), (Some(3), None)]);
        assert!(
            out.errors[0].2.contains("larger than 8 MiB"),
            "{:?}",
            out.errors
        );
        assert!(
            out.errors[1].2.contains("no record list"),
            "{:?}",
            out.errors
        );
        assert!(
            out.errors[2].2.contains("larger than 8 MiB"),
            "{:?}",
            out.errors
        );
    }

    #[test]
    fn a_truncated_record_list_keeps_its_records_and_reports_the_end_once() {
        let text = format!("{{\"Records\":[{},{}\n{},", rec("a"), big(" "), rec("b"));
        let out = walk(text);
        let ids: Vec<_> = out
            .records
            .iter()
            .map(|r| (r.0, r.1, r.2.as_str()))
            .collect();
        assert_eq!(ids, [(Some(0), 1, "a"), (Some(1), 2, "b")]);
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert!(out.errors[0].2.contains("truncated"), "{:?}", out.errors);
    }

    #[test]
    fn a_broken_record_list_resumes_on_the_next_line() {
        let text = format!(
            "{{\"Records\":[{}{}x\n{}\n",
            rec("a"),
            big(" "),
            rec("after")
        );
        let out = walk(text);
        let ids: Vec<_> = out
            .records
            .iter()
            .map(|r| (r.0, r.1, r.2.as_str()))
            .collect();
        assert_eq!(ids, [(Some(0), 1, "a"), (None, 2, "after")]);
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert_eq!((out.errors[0].0, out.errors[0].1), (Some(1), None));
        assert!(
            out.errors[0]
                .2
                .contains("expected `,` or `]` after record 1"),
            "{:?}",
            out.errors
        );
    }

    #[test]
    fn a_record_list_streams_through_a_bounded_window() {
        // 64 MiB in one value, eight times the most one record may take.
        let (n, len) = (1024, 64 << 10);
        let reader = Records {
            n,
            len,
            next: 0,
            chunk: Vec::new(),
            at: 0,
        };
        let mut w = Window::new(Box::new(reader));
        let mut sink = Check {
            len,
            ..Check::default()
        };
        walk_json(&Arc::new(PathBuf::from("big.json")), &mut w, &mut sink);
        assert!(sink.errors.is_empty(), "{:?}", sink.errors);
        assert_eq!(sink.seen, n as u64);
        // The window's buffer never shrinks: its capacity is the most it ever held.
        let held = w.held();
        assert!(
            held <= 4 * MAX_RECORD_BYTES,
            "the window held {} MiB for a {} MiB value",
            held >> 20,
            (n * len) >> 20
        );
    }
}
