//! The sizes past which input is refused rather than buffered or handed on. Log content is written
//! by the attacker, so each limit turns "as large as the input" into a located error and the load
//! goes on with the next record.

/// The largest single record (or any other single JSON value outside a record list) that is read.
/// A record list (`{"Records":[…]}`, a bare array, `{"findings":[…]}`, `{"Findings":[…]}`,
/// `{"Events":[…]}`) may be any size: it is streamed one record at a time, and this bounds what is
/// buffered for one record. Real records are far below it: EventBridge, which carries GuardDuty
/// findings and CloudTrail events, takes no event over 256 KB, and a CloudTrail record is
/// typically a few KB.
pub const MAX_RECORD_BYTES: usize = 8 << 20;

/// Why a record was refused for its size.
pub fn too_large() -> String {
    format!(
        "record larger than {} MiB (the most read as one record); skipped",
        MAX_RECORD_BYTES >> 20
    )
}

/// Arrays and objects nested this deep are refused: serde_json's own recursion limit, which every
/// typed parse of a record applies, applied here to the parts of a record that are skipped
/// unparsed (unknown fields) or handed on raw (`vigil pivot --format jsonl`).
pub const MAX_NESTING: usize = 128;

/// Why a record was refused by [`check_nesting`].
pub fn nesting_error() -> String {
    format!("record nested more than {MAX_NESTING} arrays/objects deep; skipped")
}

/// Whether `raw` (one JSON value) stays within [`MAX_NESTING`], counting as serde_json does: the
/// value itself is level 1, and reaching level `MAX_NESTING` fails. Brackets inside strings do not
/// count. Most records hold far fewer brackets than the limit, which one fast count rules out.
pub fn check_nesting(raw: &str) -> Result<(), String> {
    let b = raw.as_bytes();
    if memchr::memchr2_iter(b'{', b'[', b).count() < MAX_NESTING {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                // Jump to the closing quote, stepping over escapes.
                i += 1;
                loop {
                    match b
                        .get(i..)
                        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
                    {
                        Some(at) if b[i + at] == b'\\' => i += at + 2,
                        Some(at) => {
                            i += at;
                            break;
                        }
                        // An unterminated string: nothing after it can nest.
                        None => return Ok(()),
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth >= MAX_NESTING {
                    return Err(nesting_error());
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize, inner: &str) -> String {
        format!(
            "{{\"a\":{}{inner}{}}}",
            "[".repeat(depth - 1),
            "]".repeat(depth - 1)
        )
    }

    #[test]
    fn nesting_limit_is_serde_jsons() {
        for depth in MAX_NESTING - 3..MAX_NESTING + 3 {
            let raw = nested(depth, "1");
            let serde = serde_json::from_str::<serde_json::Value>(&raw).is_ok();
            assert_eq!(check_nesting(&raw).is_ok(), serde, "depth {depth}");
        }
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let text = format!("\"{}\\\"{}\"", "[".repeat(300), "{".repeat(300));
        let raw = nested(3, &text);
        assert!(serde_json::from_str::<serde_json::Value>(&raw).is_ok());
        assert_eq!(check_nesting(&raw), Ok(()));
        // An escaped backslash ends before the quote, which then closes the string.
        let raw = format!(
            "{{\"a\":\"\\\\\",\"b\":{}1{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(check_nesting(&raw).is_err());
    }
}
