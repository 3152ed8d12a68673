//! CloudTrail log file integrity, checked locally from the digest files of a synced bucket.
//!
//! As the CloudTrail User Guide defines it ("CloudTrail digest file structure", "Custom
//! implementations of CloudTrail log file integrity validation"): `logFiles[].hashValue` is the
//! hex-encoded hash (`hashAlgorithm`, always `SHA-256`) of the log file's *uncompressed* content,
//! and `previousDigestHashValue` is the hex SHA-256 of the previous digest file's uncompressed
//! content. A listed `s3Object` key is matched to the loaded files by the longest common path
//! suffix (a sync keeps the key's path under some folder), the file name alone being the
//! fallback; a key is never opened as a path, so a digest cannot make vigil read outside its
//! inputs. Only files a digest names are hashed, in parallel.
//!
//! Not checked here: the digest's own RSA signature (`SHA256withRSA`), which needs the region's
//! public keys from CloudTrail `ListPublicKeys` (the live work).

use crate::ingest::digest::{Digest, DigestLogFile};
use crate::ingest::source;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The only hash algorithm CloudTrail uses for log and digest files.
const SHA256: &str = "SHA-256";

/// What became of one log file a digest lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// The uncompressed content hashes to the digest's value.
    Ok,
    /// It does not: the file was changed after CloudTrail delivered it.
    Tampered,
    /// No loaded file has the key's name.
    Missing,
    /// A matching file could not be read (or unpacked) to hash it.
    Unreadable,
    /// A hash algorithm other than SHA-256: not checked.
    Unsupported,
}

/// The link from a digest to the previous one (`previousDigest*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainStatus {
    /// A starting digest: the previous-digest fields are null.
    Start,
    /// The previous digest is loaded and hashes to `previousDigestHashValue`.
    Ok,
    /// It is loaded and does not: the previous digest file was changed.
    Mismatch,
    /// The previous digest is not among the inputs.
    NotLoaded,
    Unreadable,
    Unsupported,
}

/// One listed log file and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileCheck {
    pub s3_object: String,
    pub status: FileStatus,
    /// The local file(s) it matched (more than one only when copies tie on the longest suffix;
    /// then every copy must match).
    pub paths: Vec<String>,
    pub expected: String,
    /// The hash computed, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Counts over log files, digests and the chain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Totals {
    pub digests: usize,
    pub listed: usize,
    pub ok: usize,
    pub tampered: usize,
    pub missing: usize,
    pub unreadable: usize,
    pub unsupported: usize,
    /// Loaded CloudTrail log files that no loaded digest lists.
    pub uncovered: usize,
    pub chain_ok: usize,
    pub chain_mismatch: usize,
    pub chain_not_loaded: usize,
    pub chain_start: usize,
}

impl Totals {
    /// Evidence that was changed after delivery: a log file or a previous digest.
    pub fn altered(&self) -> bool {
        self.tampered > 0 || self.chain_mismatch > 0
    }

    fn add(&mut self, status: FileStatus) {
        self.listed += 1;
        match status {
            FileStatus::Ok => self.ok += 1,
            FileStatus::Tampered => self.tampered += 1,
            FileStatus::Missing => self.missing += 1,
            FileStatus::Unreadable => self.unreadable += 1,
            FileStatus::Unsupported => self.unsupported += 1,
        }
    }

    fn add_chain(&mut self, status: ChainStatus) {
        match status {
            ChainStatus::Start => self.chain_start += 1,
            ChainStatus::Ok => self.chain_ok += 1,
            ChainStatus::Mismatch => self.chain_mismatch += 1,
            ChainStatus::NotLoaded => self.chain_not_loaded += 1,
            // Neither proves nor disproves the chain; the digest's own report says which.
            ChainStatus::Unreadable | ChainStatus::Unsupported => {}
        }
    }

    /// One line for a status bar, e.g. `23 ok · 1 TAMPERED · 2 missing` (`sep` between parts).
    pub fn summary(&self, sep: &str) -> String {
        let mut parts = vec![format!("{} ok", self.ok)];
        let mut push = |n: usize, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        push(self.tampered, "TAMPERED");
        push(self.chain_mismatch, "DIGEST ALTERED");
        push(self.missing, "missing");
        push(self.unreadable, "unreadable");
        push(self.unsupported, "unchecked");
        parts.join(sep)
    }
}

/// One digest's findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DigestCheck {
    pub path: String,
    pub s3_object: Option<String>,
    pub end_time: Option<String>,
    pub previous: ChainStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_s3_object: Option<String>,
    pub totals: Totals,
    pub files: Vec<FileCheck>,
}

/// The whole check, per digest and in total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntegrityReport {
    pub totals: Totals,
    pub digests: Vec<DigestCheck>,
    /// Loaded CloudTrail log files that no loaded digest lists, in path order.
    pub uncovered: Vec<String>,
}

/// The loaded files, indexed by file name, for matching digest keys.
struct Candidates<'a> {
    by_name: HashMap<&'a str, Vec<&'a Path>>,
}

impl<'a> Candidates<'a> {
    fn new(files: &'a [PathBuf]) -> Self {
        let mut by_name: HashMap<&str, Vec<&Path>> = HashMap::new();
        for f in files {
            if let Some(name) = f.file_name().and_then(|n| n.to_str()) {
                by_name.entry(name).or_default().push(f);
            }
        }
        Candidates { by_name }
    }

    /// The files whose path shares the longest suffix with `bucket/key` (at least the file
    /// name). A key without a match as delivered is tried without `.gz`, for a sync that
    /// unpacked the files (the hash is over the uncompressed content either way).
    fn best(&self, bucket: Option<&str>, key: &str) -> Vec<&'a Path> {
        let mut want: Vec<&str> = bucket.into_iter().collect();
        want.extend(key.split('/').filter(|c| !c.is_empty()));
        let Some(&name) = want.last() else {
            return Vec::new();
        };
        let found = self.by_suffix(&want, name);
        if !found.is_empty() {
            return found;
        }
        match name.strip_suffix(".gz") {
            Some(plain) if !plain.is_empty() => {
                if let Some(last) = want.last_mut() {
                    *last = plain;
                }
                self.by_suffix(&want, plain)
            }
            _ => Vec::new(),
        }
    }

    fn by_suffix(&self, want: &[&str], name: &str) -> Vec<&'a Path> {
        let Some(files) = self.by_name.get(name) else {
            return Vec::new();
        };
        let scored: Vec<(usize, &Path)> =
            files.iter().map(|f| (common_suffix(f, want), *f)).collect();
        let best = scored.iter().map(|(n, _)| *n).max().unwrap_or(0);
        scored
            .into_iter()
            .filter(|(n, _)| *n == best)
            .map(|(_, f)| f)
            .collect()
    }
}

/// How many trailing path components of `path` equal the trailing items of `want`.
fn common_suffix(path: &Path, want: &[&str]) -> usize {
    path.components()
        .rev()
        .map(|c| c.as_os_str().to_str())
        .zip(want.iter().rev())
        .take_while(|(have, want)| *have == Some(**want))
        .count()
}

/// Hex SHA-256 of a file's uncompressed content (gzip is recognised by its magic bytes).
/// The SHA-256 of content in memory, uncompressed first when it is gzip (as CloudTrail hashes).
pub fn sha256_uncompressed_bytes(bytes: &[u8]) -> std::io::Result<String> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        sha256_of(flate2::read::MultiGzDecoder::new(bytes)).map(|(h, _)| h)
    } else {
        sha256_of(bytes).map(|(h, _)| h)
    }
}

pub fn sha256_uncompressed(path: &Path) -> std::io::Result<String> {
    sha256_of(source::open(path)?).map(|(hash, _)| hash)
}

/// Hex SHA-256 of everything `r` reads, and how many bytes that was.
pub fn sha256_of(mut r: impl Read) -> std::io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut bytes = 0u64;
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                bytes += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((hex::encode(h.finalize()), bytes))
}

fn is_sha256(algorithm: Option<&str>) -> bool {
    algorithm.is_some_and(|a| a.eq_ignore_ascii_case(SHA256))
}

type Hashes = HashMap<PathBuf, Result<String, String>>;

/// Checks every log file the digests list against the `files` loaded (every file under the
/// inputs), and each digest against the previous one when that is loaded too. `trail_files` are
/// the files that held CloudTrail records, for the "in no digest" count.
pub fn verify(
    digests: &[Digest],
    files: &[PathBuf],
    trail_files: &[Arc<PathBuf>],
) -> IntegrityReport {
    verify_with(digests, files, trail_files, &|p| {
        sha256_uncompressed(p).map_err(|e| e.to_string())
    })
}

/// [`verify`] with the content hashes from `hash` (the SHA-256 of a file's uncompressed content,
/// or why not): objects that are not files on disk (an S3 bucket's) were hashed as they arrived.
pub fn verify_with(
    digests: &[Digest],
    files: &[PathBuf],
    trail_files: &[Arc<PathBuf>],
    hash: &(dyn Fn(&Path) -> Result<String, String> + Sync),
) -> IntegrityReport {
    let candidates = Candidates::new(files);
    let mut digests: Vec<&Digest> = digests.iter().collect();
    digests.sort_by(|a, b| a.path.cmp(&b.path));
    // Where each listed file and each named previous digest is, before hashing anything.
    let matched: Vec<Vec<Vec<&Path>>> = digests
        .iter()
        .map(|d| {
            d.log_files
                .iter()
                .map(|f| candidates.best(f.s3_bucket.as_deref(), &f.s3_object))
                .collect()
        })
        .collect();
    // The previous digest is found by where it is, like a log file, not by what it says about
    // itself: an altered digest cannot step out of the chain by renaming its own key.
    let digest_paths: Vec<PathBuf> = digests.iter().map(|d| d.path.to_path_buf()).collect();
    let digest_files = Candidates::new(&digest_paths);
    let previous: Vec<Vec<&Path>> = digests
        .iter()
        .map(|d| match &d.previous {
            Some(p) => digest_files.best(p.s3_bucket.as_deref(), &p.s3_object),
            None => Vec::new(),
        })
        .collect();
    let mut to_hash: BTreeSet<&Path> = BTreeSet::new();
    for (d, m) in digests.iter().zip(&matched) {
        for (f, paths) in d.log_files.iter().zip(m) {
            if is_sha256(f.hash_algorithm.as_deref()) {
                to_hash.extend(paths.iter().copied());
            }
        }
    }
    to_hash.extend(previous.iter().flatten().copied());
    let hashes: Hashes = to_hash
        .into_par_iter()
        .map(|p| (p.to_path_buf(), hash(p)))
        .collect();

    let mut totals = Totals {
        digests: digests.len(),
        ..Totals::default()
    };
    let mut covered: BTreeSet<&Path> = BTreeSet::new();
    let mut checks = Vec::with_capacity(digests.len());
    for ((d, m), prev) in digests.iter().zip(&matched).zip(&previous) {
        let mut t = Totals {
            digests: 1,
            ..Totals::default()
        };
        let files: Vec<FileCheck> = d
            .log_files
            .iter()
            .zip(m)
            .map(|(f, paths)| {
                covered.extend(paths.iter().copied());
                let c = check_file(f, paths, &hashes);
                t.add(c.status);
                totals.add(c.status);
                c
            })
            .collect();
        let chain = check_chain(d, prev, &hashes);
        t.add_chain(chain);
        totals.add_chain(chain);
        checks.push(DigestCheck {
            path: d.path.display().to_string(),
            s3_object: d.s3_object.clone(),
            end_time: d.end_time.clone(),
            previous: chain,
            previous_s3_object: d.previous.as_ref().map(|p| p.s3_object.clone()),
            totals: t,
            files,
        });
    }
    let uncovered: BTreeSet<String> = trail_files
        .iter()
        .filter(|p| !covered.contains(p.as_path()))
        .map(|p| p.display().to_string())
        .collect();
    totals.uncovered = uncovered.len();
    IntegrityReport {
        totals,
        digests: checks,
        uncovered: uncovered.into_iter().collect(),
    }
}

fn check_file(f: &DigestLogFile, paths: &[&Path], hashes: &Hashes) -> FileCheck {
    let mut c = FileCheck {
        s3_object: f.s3_object.clone(),
        status: FileStatus::Ok,
        paths: paths.iter().map(|p| p.display().to_string()).collect(),
        expected: f.hash_value.clone(),
        actual: None,
        reason: None,
    };
    if paths.is_empty() {
        c.status = FileStatus::Missing;
        return c;
    }
    if !is_sha256(f.hash_algorithm.as_deref()) {
        c.status = FileStatus::Unsupported;
        c.reason = Some(format!(
            "hash algorithm {:?} is not {SHA256}",
            f.hash_algorithm.as_deref().unwrap_or("")
        ));
        return c;
    }
    for p in paths {
        match hashes.get(*p) {
            Some(Ok(h)) if h.eq_ignore_ascii_case(&f.hash_value) => {}
            Some(Ok(h)) => {
                c.status = FileStatus::Tampered;
                c.actual = Some(h.clone());
                return c;
            }
            Some(Err(e)) => {
                c.status = FileStatus::Unreadable;
                c.reason = Some(e.clone());
            }
            None => {
                c.status = FileStatus::Unreadable;
                c.reason = Some("not hashed".to_string());
            }
        }
    }
    c
}

fn check_chain(d: &Digest, prev: &[&Path], hashes: &Hashes) -> ChainStatus {
    let Some(p) = &d.previous else {
        return ChainStatus::Start;
    };
    if prev.is_empty() {
        return ChainStatus::NotLoaded;
    }
    if !is_sha256(p.hash_algorithm.as_deref()) {
        return ChainStatus::Unsupported;
    }
    let want = p.hash_value.as_deref().unwrap_or("");
    let mut status = ChainStatus::Ok;
    for o in prev {
        match hashes.get(*o) {
            Some(Ok(h)) if h.eq_ignore_ascii_case(want) => {}
            Some(Ok(_)) => return ChainStatus::Mismatch,
            Some(Err(_)) | None => status = ChainStatus::Unreadable,
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::digest::PreviousDigest;
    use std::io::Write;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).expect("gzip");
        e.finish().expect("gzip")
    }

    fn sha(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn put(root: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, bytes).expect("write");
        p
    }

    fn listed(key: &str, content: &[u8]) -> DigestLogFile {
        DigestLogFile {
            s3_bucket: Some("bkt".into()),
            s3_object: key.into(),
            hash_value: sha(content),
            hash_algorithm: Some("SHA-256".into()),
        }
    }

    fn digest(path: &Path, key: &str, files: Vec<DigestLogFile>) -> Digest {
        Digest {
            path: Arc::new(path.to_path_buf()),
            account: Some("111122223333".into()),
            start_time: None,
            end_time: None,
            s3_bucket: Some("bkt".into()),
            s3_object: Some(key.into()),
            previous: None,
            log_files: files,
        }
    }

    const KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/log1.json.gz";

    #[test]
    fn the_hash_is_over_the_uncompressed_content_in_hex() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = put(dir.path(), "a.json.gz", &gz(b"abc"));
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            sha256_uncompressed(&p).expect("hash"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn the_longest_path_suffix_wins_and_the_file_name_is_the_fallback() {
        let dir = tempfile::tempdir().expect("tmp");
        let good = b"{\"Records\":[]}";
        let full = put(dir.path(), &format!("sync/bkt/{KEY}"), &gz(good));
        // Same name, shorter common suffix, different content: must not be the one checked.
        put(dir.path(), "elsewhere/log1.json.gz", &gz(b"other"));
        let d = digest(&dir.path().join("d.json"), "d", vec![listed(KEY, good)]);
        let files = crate::ingest::source::expand(&[dir.path().to_path_buf()]).expect("ls");
        let r = verify(std::slice::from_ref(&d), &files, &[]);
        assert_eq!(r.totals.ok, 1, "{r:?}");
        assert_eq!(
            r.digests[0].files[0].paths,
            vec![full.display().to_string()]
        );

        // A flat folder of downloads: only the name matches.
        let flat = tempfile::tempdir().expect("tmp");
        let only = put(flat.path(), "log1.json.gz", &gz(good));
        let r = verify(std::slice::from_ref(&d), &[only], &[]);
        assert_eq!(r.totals.ok, 1, "{r:?}");

        // A sync that unpacked the file: the hash is over the uncompressed content anyway.
        let plain = put(flat.path(), "x/log1.json", good);
        let r = verify(&[d], &[plain], &[]);
        assert_eq!(r.totals.ok, 1, "{r:?}");
    }

    #[test]
    fn tampered_missing_and_uncovered_are_counted_per_digest_and_in_total() {
        let dir = tempfile::tempdir().expect("tmp");
        let k = |n: &str| format!("AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/{n}");
        let a = put(dir.path(), &k("a.json.gz"), &gz(b"A"));
        let b = put(dir.path(), &k("b.json.gz"), &gz(b"B changed"));
        let extra = put(dir.path(), &k("c.json.gz"), &gz(b"C"));
        let d = digest(
            &dir.path().join("d.json"),
            "d",
            vec![
                listed(&k("a.json.gz"), b"A"),
                listed(&k("b.json.gz"), b"B"),
                listed(&k("gone.json.gz"), b"G"),
            ],
        );
        let trail: Vec<Arc<PathBuf>> = [&a, &b, &extra].map(|p| Arc::new(p.clone())).into();
        let files = vec![a.clone(), b.clone(), extra.clone()];
        let r = verify(&[d], &files, &trail);
        let t = r.totals;
        assert_eq!(
            (t.listed, t.ok, t.tampered, t.missing),
            (3, 1, 1, 1),
            "{r:?}"
        );
        assert_eq!(t.uncovered, 1);
        assert_eq!(r.uncovered, vec![extra.display().to_string()]);
        assert_eq!(r.digests[0].totals.tampered, 1);
        let bad = &r.digests[0].files[1];
        assert_eq!(bad.status, FileStatus::Tampered);
        assert_eq!(bad.actual.as_deref(), Some(sha(b"B changed").as_str()));
        assert!(t.altered());
        assert_eq!(t.summary(" · "), "1 ok · 1 TAMPERED · 1 missing");
    }

    #[test]
    fn an_unknown_hash_algorithm_is_not_checked() {
        let dir = tempfile::tempdir().expect("tmp");
        let a = put(dir.path(), "a.json.gz", &gz(b"A"));
        let mut f = listed("a.json.gz", b"A");
        f.hash_algorithm = Some("MD5".into());
        let r = verify(&[digest(&dir.path().join("d"), "d", vec![f])], &[a], &[]);
        assert_eq!((r.totals.unsupported, r.totals.ok), (1, 0));
        assert!(!r.totals.altered());
    }

    #[test]
    fn the_chain_checks_the_previous_digest_when_it_is_loaded() {
        let dir = tempfile::tempdir().expect("tmp");
        let first_text = b"{\"digestStartTime\":\"t0\",\"logFiles\":[]}\n";
        let first = put(dir.path(), "d1.json.gz", &gz(first_text));
        let d1 = digest(&first, "k/d1.json.gz", vec![]);
        let link = |hash: String, key: &str| PreviousDigest {
            s3_bucket: Some("bkt".into()),
            s3_object: key.into(),
            hash_value: Some(hash),
            hash_algorithm: Some("SHA-256".into()),
        };
        let mut d2 = digest(&dir.path().join("d2.json.gz"), "k/d2.json.gz", vec![]);
        d2.previous = Some(link(sha(first_text), "k/d1.json.gz"));
        let files = vec![first.clone()];
        let r = verify(&[d1.clone(), d2.clone()], &files, &[]);
        assert_eq!(r.digests[0].previous, ChainStatus::Start);
        assert_eq!(r.digests[1].previous, ChainStatus::Ok);
        assert_eq!((r.totals.chain_ok, r.totals.chain_start), (1, 1));

        // The first digest changed after delivery: the second's hash of it no longer agrees.
        d2.previous = Some(link(sha(b"what was delivered"), "k/d1.json.gz"));
        let r = verify(&[d1.clone(), d2.clone()], &files, &[]);
        assert_eq!(r.digests[1].previous, ChainStatus::Mismatch);
        assert!(r.totals.altered());
        assert_eq!(r.totals.summary(" · "), "0 ok · 1 DIGEST ALTERED");

        // Renaming its own key does not take an altered digest out of the chain.
        let mut renamed = d1.clone();
        renamed.s3_object = Some("k/elsewhere.json.gz".into());
        let r = verify(&[renamed, d2.clone()], &files, &[]);
        assert_eq!(r.digests[1].previous, ChainStatus::Mismatch);

        // The previous digest is not among the inputs: nothing to say about it.
        let r = verify(&[d2], &files, &[]);
        assert_eq!(r.digests[0].previous, ChainStatus::NotLoaded);
        assert!(!r.totals.altered());
    }
}
