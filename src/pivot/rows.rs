//! What an index row holds of an event's id, and the in-place permutation that puts rows in
//! pivot order: the plain parts of [`super::index`], apart from its tables.

use crate::model::event_id::{uuid_bytes, uuid_text};

/// An `eventID`: a canonical UUID as its 16 bytes ([`uuid_bytes`]), anything else a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKey {
    Uuid([u8; 16]),
    Sym(u32),
}

impl EventKey {
    /// The key of `id` if it is a canonical UUID.
    pub(super) fn uuid(id: &str) -> Option<EventKey> {
        uuid_bytes(id).map(EventKey::Uuid)
    }
}

/// An event id as text, without allocating for a UUID.
pub(super) enum IdText<'a> {
    Uuid([u8; 36]),
    Str(&'a str),
}

impl IdText<'_> {
    /// A UUID key's text.
    pub(super) fn uuid(b: &[u8; 16]) -> IdText<'static> {
        IdText::Uuid(uuid_text(b))
    }

    pub(super) fn as_str(&self) -> &str {
        match self {
            // Only ASCII hex digits and hyphens are written into the buffer.
            IdText::Uuid(b) => std::str::from_utf8(b).unwrap_or_default(),
            IdText::Str(s) => s,
        }
    }
}

/// Puts `v[order[i]]` at `i` for every `i`, in place (a million rows are not copied twice):
/// each cycle of the permutation is followed once, `order` marked as it goes.
pub(super) fn permute<T>(v: &mut [T], order: &mut [u32]) {
    for i in 0..v.len() {
        let mut j = i;
        loop {
            let k = order[j] as usize;
            order[j] = j as u32;
            if k == i || k == j {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permute_follows_every_cycle() {
        let mut v = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        let mut order = vec![3u32, 0, 1, 2, 5, 4];
        permute(&mut v, &mut order);
        assert_eq!(v, vec!['d', 'a', 'b', 'c', 'f', 'e']);
    }
}
