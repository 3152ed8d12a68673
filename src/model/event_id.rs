//! An `eventID` held compactly. CloudTrail's are lowercase UUIDs: kept as their 16 bytes, whose
//! order is the text's (hex digits and hyphens at fixed places), they need no allocation of their
//! own. The index keeps its rows' ids so, and a hunt its matches' (a string each was a fifth of
//! a ten-million-record hunt's peak, and an allocation per match).

use std::cmp::Ordering;
use std::fmt;

/// The 16 bytes of `id` if it is a canonical (lowercase) UUID: only those round-trip exactly.
pub fn uuid_bytes(id: &str) -> Option<[u8; 16]> {
    let b = id.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut i = 0;
    while i < 36 {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        let (hi, lo) = (nibble(b[i])?, nibble(b[i + 1])?);
        out[n] = hi << 4 | lo;
        n += 1;
        i += 2;
    }
    Some(out)
}

/// A lowercase hex digit's value (uppercase would not round-trip).
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// The text of a UUID's bytes: lowercase hex, hyphens at 8, 13, 18 and 23 (ASCII only).
pub fn uuid_text(b: &[u8; 16]) -> [u8; 36] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(byte >> 4)];
        out[at + 1] = HEX[usize::from(byte & 15)];
        at += 2;
    }
    out
}

/// An event id: a UUID's bytes, or any other id's text. Ordered as the texts are, so a list
/// sorted by it is sorted by the ids as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventId {
    Uuid([u8; 16]),
    Text(Box<str>),
}

impl EventId {
    pub fn new(id: &str) -> EventId {
        uuid_bytes(id).map_or_else(|| EventId::Text(id.into()), EventId::Uuid)
    }

    /// Calls `f` with the id's text, without allocating for a UUID.
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            EventId::Uuid(b) => {
                let t = uuid_text(b);
                f(std::str::from_utf8(&t).unwrap_or_default())
            }
            EventId::Text(s) => f(s),
        }
    }
}

impl Ord for EventId {
    fn cmp(&self, other: &EventId) -> Ordering {
        match (self, other) {
            (EventId::Uuid(a), EventId::Uuid(b)) => a.cmp(b),
            (EventId::Text(a), EventId::Text(b)) => a.cmp(b),
            _ => self.with_text(|a| other.with_text(|b| a.cmp(b))),
        }
    }
}

impl PartialOrd for EventId {
    fn partial_cmp(&self, other: &EventId) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_text(|t| f.write_str(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 9] = [
        "4d6aeb3f-511c-450b-9f05-6cdabab19f67",
        "4d6aeb3f-511c-450b-9f05-6cdabab19f6a",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        // Not canonical: kept as text.
        "4D6AEB3F-511C-450B-9F05-6CDABAB19F67",
        "4d6aeb3f511c450b9f056cdabab19f67",
        "vigil-00000000deadbeef",
        "4d6aeb3f-511c-450b-9f05-6cdabab19f6",
        "",
    ];

    #[test]
    fn an_id_writes_back_as_it_was_written() {
        for id in IDS {
            assert_eq!(EventId::new(id).to_string(), id);
        }
        assert!(matches!(EventId::new(IDS[0]), EventId::Uuid(_)));
        assert!(matches!(EventId::new(IDS[4]), EventId::Text(_)));
    }

    #[test]
    fn ids_sort_as_their_texts_do() {
        let mut texts: Vec<&str> = IDS.to_vec();
        texts.sort();
        let mut ids: Vec<EventId> = IDS.iter().map(|t| EventId::new(t)).collect();
        ids.sort();
        let back: Vec<String> = ids.iter().map(EventId::to_string).collect();
        assert_eq!(back, texts);
    }
}
