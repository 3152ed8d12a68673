//! What an index row holds of an event's id, and the in-place permutation that puts rows in
//! pivot order: the plain parts of [`super::index`], apart from its tables.

/// An `eventID`: CloudTrail's are lowercase UUIDs, kept as their 16 bytes (whose order is the
/// text's: hex digits and hyphens at fixed places); anything else is a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum EventKey {
    Uuid([u8; 16]),
    Sym(u32),
}

impl EventKey {
    /// The key of `id` if it is a canonical UUID.
    pub(super) fn uuid(id: &str) -> Option<EventKey> {
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
        Some(EventKey::Uuid(out))
    }
}

/// A lowercase hex digit's value (uppercase would not round-trip).
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// An event id as text, without allocating for a UUID.
pub(super) enum IdText<'a> {
    Uuid([u8; 36]),
    Str(&'a str),
}

impl IdText<'_> {
    /// A UUID key's text: lowercase hex, hyphens at 8, 13, 18 and 23.
    pub(super) fn uuid(b: &[u8; 16]) -> IdText<'static> {
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
        IdText::Uuid(out)
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
