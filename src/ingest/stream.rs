//! Reading one top-level JSON value too large to hold whole (a 400 MB `{"Records":[…]}` file, a
//! bare array of a million findings): its record list is read one record at a time, so memory
//! follows one record (at most [`MAX_RECORD_BYTES`]) plus one read chunk, not the file. Each
//! record keeps its exact offset in the decompressed file, its line and its index in the list.
//! A record that is malformed or too large is reported and stepped over; the list goes on.

use super::envelope::{Ctx, List, Sink, is_ws};
use super::errors::IngestError;
use super::limits::{MAX_RECORD_BYTES, too_large};
use super::source::Window;
use serde::de::IgnoredAny;
use std::path::PathBuf;
use std::sync::Arc;

/// What the caller does after [`big_value`].
pub(super) enum Next {
    /// The value is done; carry on after it.
    Value,
    /// The value's structure is broken (reported): resynchronise on a later line.
    Resync,
    /// The input ended inside the value (reported).
    End,
}

/// Why one value at the cursor could not be read whole.
enum Bad {
    /// More than [`MAX_RECORD_BYTES`] without reaching its end.
    TooLarge,
    Invalid(serde_json::Error),
    /// The input ends inside it.
    Truncated,
}

/// Reads the value at `w.buf()[*pos..]`, which is larger than one record can be, leaving `*pos`
/// after it. An array is a list of records; an object is read for its record list (`Records`,
/// `findings`, `Findings`, `Events`) and its other members are skipped, as they are when the
/// object is read whole. Anything else is refused as too large.
pub(super) fn big_value<S: Sink>(
    path: &Arc<PathBuf>,
    w: &mut Window,
    pos: &mut usize,
    sink: &mut S,
) -> Next {
    let mut c = Cursor {
        w,
        pos: *pos,
        path,
        sink,
    };
    let line = c.line();
    let next = match c.peek() {
        Some(b'[') => {
            c.pos += 1;
            c.list(List::Bare)
        }
        Some(b'{') => {
            c.pos += 1;
            c.object(line)
        }
        _ => {
            c.error(line, None, too_large());
            c.skip_or_end()
        }
    };
    *pos = c.pos;
    next
}

struct Cursor<'a, S: Sink> {
    w: &'a mut Window,
    /// Position in `w.buf()`; everything before it has been read.
    pos: usize,
    path: &'a Arc<PathBuf>,
    sink: &'a mut S,
}

impl<S: Sink> Cursor<'_, S> {
    /// Drops what has been read and reads more.
    fn refill(&mut self) {
        self.w.consume(self.pos);
        self.pos = 0;
        self.w.fill();
    }

    /// The next byte that is not whitespace (the cursor moves to it), reading more as needed;
    /// `None` at the end of the input.
    fn peek(&mut self) -> Option<u8> {
        loop {
            while let Some(&b) = self.w.buf().get(self.pos) {
                if !is_ws(b) {
                    return Some(b);
                }
                self.pos += 1;
            }
            if self.w.eof {
                return None;
            }
            self.refill();
        }
    }

    fn line(&mut self) -> u64 {
        self.w.line_at(self.pos)
    }

    fn error(&mut self, line: u64, index: Option<u64>, reason: impl Into<String>) {
        self.sink
            .error(IngestError::record(self.path, line, index, reason));
    }

    /// Where the complete JSON value at the cursor ends in the buffer, reading more as needed
    /// (the value stays at the cursor). Refuses to buffer more than [`MAX_RECORD_BYTES`].
    fn value_end(&mut self) -> Result<usize, Bad> {
        loop {
            let slice = &self.w.buf()[self.pos..];
            // A record (an object) is found by its brackets, as in a file read whole: its
            // consumer parses it, and reports it if it is malformed. One that is cut off by the
            // buffer's end, or whose brackets do not match, is left to the parser to say.
            if let Some(end) = super::split::object_end(slice, 0) {
                return Ok(self.pos + end);
            }
            let mut values = serde_json::Deserializer::from_slice(slice).into_iter::<IgnoredAny>();
            let parsed = values.next();
            let end = self.pos + values.byte_offset();
            match parsed {
                // A number that ends with the buffer may go on in the next read.
                Some(Ok(_)) if end < self.w.buf().len() || self.w.eof => return Ok(end),
                Some(Ok(_)) => {}
                Some(Err(e)) if e.is_eof() && !self.w.eof => {}
                Some(Err(e)) if e.is_eof() => return Err(Bad::Truncated),
                Some(Err(e)) => return Err(Bad::Invalid(e)),
                None => return Err(Bad::Truncated),
            }
            if self.w.buf().len() - self.pos > MAX_RECORD_BYTES {
                return Err(Bad::TooLarge);
            }
            self.refill();
        }
    }

    /// Steps over the value at the cursor without holding it: strings and brackets are matched,
    /// nothing else is checked (the list's own syntax is checked after it). False when the input
    /// ends first.
    fn skip_value(&mut self) -> bool {
        let Some(first) = self.peek() else {
            return false;
        };
        // A scalar other than a string ends at the first delimiter.
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let mut depth = 0usize;
        let mut in_str = false;
        loop {
            while let Some(&b) = self.w.buf().get(self.pos) {
                if in_str {
                    let rest = &self.w.buf()[self.pos..];
                    match memchr::memchr2(b'"', b'\\', rest) {
                        Some(at) if rest[at] == b'\\' => {
                            // The escaped byte may be past the buffer: read more first.
                            if self.pos + at + 1 >= self.w.buf().len() && !self.w.eof {
                                self.pos += at;
                                break;
                            }
                            self.pos = (self.pos + at + 2).min(self.w.buf().len());
                        }
                        Some(at) => {
                            self.pos += at + 1;
                            in_str = false;
                            if depth == 0 {
                                return true;
                            }
                        }
                        None => self.pos = self.w.buf().len(),
                    }
                    continue;
                }
                if scalar {
                    if is_ws(b) || matches!(b, b',' | b']' | b'}') {
                        return true;
                    }
                } else {
                    match b {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.pos += 1;
                                return true;
                            }
                        }
                        _ => {}
                    }
                }
                self.pos += 1;
            }
            if self.w.eof {
                // A number or literal may end with the input; anything else is cut short.
                return scalar;
            }
            self.refill();
        }
    }

    /// Steps over the value at the cursor (already reported); at the end of input, says so.
    fn skip_or_end(&mut self) -> Next {
        if self.skip_value() {
            Next::Value
        } else {
            self.truncated()
        }
    }

    fn truncated(&mut self) -> Next {
        let line = self.line();
        self.error(line, None, "truncated JSON: the file ends inside a value");
        Next::End
    }

    /// A syntax error at the cursor, outside any one record.
    fn invalid(&mut self, what: &str) -> Next {
        let line = self.line();
        self.error(line, None, format!("invalid JSON: {what}"));
        Next::Resync
    }

    /// Reports why the value at the cursor could not be read, and steps over it where the
    /// structure allows. Returns `None` when reading goes on after it.
    fn refuse(&mut self, line: u64, index: Option<u64>, bad: Bad) -> Option<Next> {
        match bad {
            Bad::TooLarge => self.error(line, index, too_large()),
            Bad::Invalid(e) => {
                let at = line + e.line().saturating_sub(1) as u64;
                self.error(at, index, format!("invalid JSON: {e}"));
            }
            Bad::Truncated => return Some(self.truncated()),
        }
        match self.skip_or_end() {
            Next::Value => None,
            other => Some(other),
        }
    }

    /// The elements of a record list, after its `[`.
    fn list(&mut self, list: List) -> Next {
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Next::Value;
        }
        let mut i = 0u64;
        loop {
            if self.peek().is_none() {
                return self.truncated();
            }
            let line = self.line();
            match self.value_end() {
                Ok(end) => {
                    let start = std::mem::replace(&mut self.pos, end);
                    match std::str::from_utf8(&self.w.buf()[start..end]) {
                        Ok(raw) => {
                            let mut ctx = Ctx::over(&mut *self.sink, self.path, self.w, line);
                            ctx.list_item(list, raw, i, 0);
                        }
                        Err(_) => self.error(line, Some(i), "record is not valid UTF-8; skipped"),
                    }
                }
                Err(bad) => {
                    if let Some(next) = self.refuse(line, Some(i), bad) {
                        return next;
                    }
                }
            }
            i += 1;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Next::Value;
                }
                None => return self.truncated(),
                Some(_) => return self.invalid(&format!("expected `,` or `]` after record {i}")),
            }
        }
    }

    /// The members of an object, after its `{`: the first record list is read, the rest skipped.
    fn object(&mut self, line: u64) -> Next {
        let mut read: Option<String> = None;
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                match self.member(&mut read) {
                    Next::Value => {}
                    other => return other,
                }
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    None => return self.truncated(),
                    Some(_) => return self.invalid("expected `,` or `}` after an object member"),
                }
            }
        }
        if read.is_none() {
            self.error(
                line,
                None,
                format!(
                    "JSON value larger than {} MiB with no record list (`Records`, `findings`, \
                     `Findings` or `Events`) to read one record at a time; skipped",
                    MAX_RECORD_BYTES >> 20
                ),
            );
        }
        Next::Value
    }

    /// One `"key": value` member; `read` names the record list already read, if any.
    fn member(&mut self, read: &mut Option<String>) -> Next {
        match self.peek() {
            Some(b'"') => {}
            None => return self.truncated(),
            Some(_) => return self.invalid("expected a key"),
        }
        let line = self.line();
        let key = match self.value_end() {
            Ok(end) => {
                let key = serde_json::from_slice::<String>(&self.w.buf()[self.pos..end]);
                self.pos = end;
                match key {
                    Ok(k) => k,
                    Err(e) => return self.invalid(&format!("bad key: {e}")),
                }
            }
            Err(bad) => {
                // A key cannot be stepped over and leave the object readable.
                let _ = self.refuse(line, None, bad);
                return Next::Resync;
            }
        };
        if self.peek() != Some(b':') {
            return self.invalid("expected `:` after a key");
        }
        self.pos += 1;
        let list = List::of_key(&key).filter(|_| self.peek() == Some(b'['));
        match (list, read.as_deref()) {
            (Some(list), None) => {
                self.pos += 1;
                *read = Some(key);
                return self.list(list);
            }
            (Some(_), Some(first)) => {
                let reason = format!("a second record list `{key}` after `{first}`; skipped");
                let line = self.line();
                self.error(line, None, reason);
            }
            (None, _) => {}
        }
        let line = self.line();
        match self.value_end() {
            Ok(end) => {
                self.pos = end;
                Next::Value
            }
            // Members other than the record list are not read, whatever their size.
            Err(Bad::TooLarge) => self.skip_or_end(),
            Err(bad) => self.refuse(line, None, bad).unwrap_or(Next::Value),
        }
    }
}
