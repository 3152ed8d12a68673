//! Where a record came from, and a stable content hash for ids the data left out.

use std::path::PathBuf;
use std::sync::Arc;

/// Where a record came from: the file and the 1-based line (JSON Lines, flow logs) or the 0-based
/// record index inside a container (`Records[17]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    pub path: Arc<PathBuf>,
    pub line: u64,
    pub index: Option<u64>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)?;
        if let Some(i) = self.index {
            write!(f, " record {i}")?;
        }
        Ok(())
    }
}

/// FNV-1a, 64-bit: a stable content hash for ids that AWS left out (a finding without `id`, a
/// Panther test event without `eventID`). Deterministic across runs, unlike `DefaultHasher`.
pub fn content_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
