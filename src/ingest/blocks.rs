//! JSON's brackets found 64 bytes at a time, as simdjson's first stage finds them: one pass of
//! byte comparisons gives a block's quotes, backslashes and brackets as bit masks, a prefix XOR
//! of the quotes says which bytes are inside strings, and only the brackets outside strings are
//! looked at one by one. Finding each record's end this way, rather than string by string, was a
//! tenth of an index build and a quarter of a pivot (a record's hundred-odd short strings each
//! cost a search call). A block with a backslash is walked byte by byte (escapes are rare in
//! CloudTrail), as is the tail shorter than a block.

/// One 64-byte block's bytes of interest, bit `k` for byte `k`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// `{` and `[`.
    pub open: u64,
    /// `}` and `]`.
    pub close: u64,
}

/// The masks of `block`, sixteen bytes per comparison (SSE2: every x86-64 has it).
#[cfg(target_arch = "x86_64")]
pub(super) fn masks(block: &[u8; 64]) -> Masks {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    // `[`/`{` and `]`/`}` differ only in 0x20: one comparison finds both of a pair.
    let case = set_splat_i8_m128i(0x20);
    let bits = |v: m128i, c: u8| {
        u64::from(move_mask_i8_m128i(cmp_eq_mask_i8_m128i(v, set_splat_i8_m128i(c as i8))) as u16)
    };
    let mut m = Masks::default();
    for (k, chunk) in block.as_chunks::<16>().0.iter().enumerate() {
        let v = load_unaligned_m128i(chunk);
        let folded = bitor_m128i(v, case);
        let shift = 16 * k;
        m.quote |= bits(v, b'"') << shift;
        m.backslash |= bits(v, b'\\') << shift;
        m.open |= bits(folded, b'{') << shift;
        m.close |= bits(folded, b'}') << shift;
    }
    m
}

/// The masks of `block`, a byte at a time (other architectures; the reference in tests).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn masks_bytewise(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (k, c) in block.iter().enumerate() {
        let bit = 1u64 << k;
        match c {
            b'"' => m.quote |= bit,
            b'\\' => m.backslash |= bit,
            b'{' | b'[' => m.open |= bit,
            b'}' | b']' => m.close |= bit,
            _ => {}
        }
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) use masks_bytewise as masks;

/// Where a text's quotes and backslashes are, a bit per byte: a checked scan of a record asks
/// for the next one after each of its hundred-odd strings, and a search call per string cost
/// more than the masks of the whole record.
pub(crate) struct Specials {
    bits: Vec<u64>,
}

impl Specials {
    pub(crate) fn new(b: &[u8]) -> Specials {
        let specials = |m: Masks| m.quote | m.backslash;
        let (blocks, rest) = b.as_chunks::<64>();
        let mut bits: Vec<u64> = Vec::with_capacity(blocks.len() + 1);
        bits.extend(blocks.iter().map(|block| specials(masks(block))));
        if !rest.is_empty() {
            let mut last = [0u8; 64];
            last[..rest.len()].copy_from_slice(rest);
            bits.push(specials(masks(&last)));
        }
        Specials { bits }
    }

    /// The first quote or backslash at or after `i`.
    pub(crate) fn next(&self, i: usize) -> Option<usize> {
        let mut word = i / 64;
        let mut m = self.bits.get(word)? & (u64::MAX << (i % 64));
        while m == 0 {
            word += 1;
            m = *self.bits.get(word)?;
        }
        Some(word * 64 + m.trailing_zeros() as usize)
    }
}

/// Bit `k` of the result is the parity of bits `0..=k` of `x`: over a block's quotes, the bytes
/// from an opening quote up to (not including) its closing one.
pub(super) fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_masks_are_the_bytes_masks() {
        let text =
            r#"{"a":"b\"}","c":[1,{"d":"]["}],"e":"\\"}  {"f":[]} "ünï" \u0022 }]"#.as_bytes();
        let mut block = [b' '; 64];
        block[..text.len().min(64)].copy_from_slice(&text[..text.len().min(64)]);
        assert_eq!(masks(&block), masks_bytewise(&block));
        // Every byte value, in every position.
        for start in 0..=255u8 {
            let block: [u8; 64] = std::array::from_fn(|k| start.wrapping_add(k as u8 * 4));
            assert_eq!(masks(&block), masks_bytewise(&block), "from {start}");
        }
    }

    #[test]
    fn specials_are_found_as_a_search_finds_them() {
        let text = format!(
            "{}\"a\\\"b{}\"{}\\",
            "x".repeat(61),
            "y".repeat(70),
            "z".repeat(5)
        );
        let b = text.as_bytes();
        let sp = Specials::new(b);
        for i in 0..=b.len() + 70 {
            let theirs = b
                .get(i..)
                .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                .map(|at| i + at);
            assert_eq!(sp.next(i), theirs, "from {i}");
        }
        assert_eq!(Specials::new(b"").next(0), None);
    }

    #[test]
    fn prefix_xor_marks_the_inside_of_strings() {
        // Quotes at 2 and 5: bytes 2, 3 and 4 are inside.
        assert_eq!(prefix_xor(0b100100), 0b011100);
        assert_eq!(prefix_xor(0), 0);
        assert_eq!(prefix_xor(1), u64::MAX);
        assert_eq!(prefix_xor(1 << 63), 1 << 63);
    }
}
