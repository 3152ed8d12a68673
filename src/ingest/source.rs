//! Opening inputs: directory walks, transparent gzip (by magic bytes, not by name), and a
//! chunked reader that yields one complete top-level JSON value at a time without ever holding
//! more than the current value (plus one read chunk) in memory.

use flate2::bufread::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const READ_CHUNK: usize = 4 << 20;
/// A file whose content is expected to be at most this large is read in one go, so a single
/// top-level value spanning the whole file (a CloudTrail `{"Records":[...]}` file) is parsed once
/// instead of once per refill.
const WHOLE_FILE_MAX: u64 = 48 << 20;

/// Every file under each path (recursively for directories), in sorted order so loads are
/// deterministic. Hidden files (`.DS_Store`, editor swap files) are skipped. Entries that are not
/// regular files (a FIFO, a socket, a device) and entries that cannot be examined (a dangling
/// symlink) stay in the list: [`open`] refuses them, so the load reports each one by its path and
/// goes on. A path given here that does not exist is an error. A file reached twice (a folder
/// given to `--findings` and `--trail` both, or a folder and a file inside it, or a link to it) is
/// listed once, where it was first reached: its records are read once.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, (PathBuf, io::Error)> {
    let mut out = Walk::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| (p.clone(), e))?;
        walk(p, &meta, &mut out).map_err(|e| (p.clone(), e))?;
    }
    Ok(out.files)
}

/// The files listed so far, and what identifies each one on disk.
#[derive(Default)]
struct Walk {
    files: Vec<PathBuf>,
    seen: std::collections::HashSet<FileKey>,
}

/// A file's identity: its device and inode where there are such (a link and its target are one
/// file), else its path.
#[derive(PartialEq, Eq, Hash)]
enum FileKey {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

impl Walk {
    fn push(&mut self, p: &Path, meta: Option<&std::fs::Metadata>) {
        #[cfg(unix)]
        let key = {
            use std::os::unix::fs::MetadataExt;
            match meta {
                Some(m) => FileKey::Inode(m.dev(), m.ino()),
                None => FileKey::Path(p.to_path_buf()),
            }
        };
        #[cfg(not(unix))]
        let key = {
            let _ = meta;
            FileKey::Path(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
        };
        if self.seen.insert(key) {
            self.files.push(p.to_path_buf());
        }
    }
}

fn walk(p: &Path, meta: &std::fs::Metadata, out: &mut Walk) -> io::Result<()> {
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|e| {
                !e.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
            })
            .collect();
        entries.sort();
        for e in entries {
            match std::fs::metadata(&e) {
                Ok(meta) => walk(&e, &meta, out)?,
                Err(_) => out.push(&e, None),
            }
        }
    } else {
        out.push(p, Some(meta));
    }
    Ok(())
}

/// The decompressed content of a file: gzip is recognised by its magic bytes.
pub fn open(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    open_sized(path).map(|(r, _)| r)
}

/// Like [`open`], plus the expected size of the decompressed content when it is cheap to tell: the
/// file's length, or for gzip the size recorded in the trailer of its last member (a hint only: it
/// is modulo 4 GiB and leaves out earlier members of a multi-member file).
pub fn open_sized(path: &Path) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    let mut file = open_regular(path)?;
    let len = file.metadata().ok().map(|m| m.len());
    // The gzip trailer's ISIZE, read before any decoding (then back to the start).
    let isize = match len {
        Some(n) if n >= 18 => {
            let mut trailer = [0u8; 4];
            let read = file
                .seek(SeekFrom::End(-4))
                .and_then(|_| file.read_exact(&mut trailer));
            file.seek(SeekFrom::Start(0))?;
            read.ok().map(|_| u64::from(u32::from_le_bytes(trailer)))
        }
        _ => None,
    };
    let br = BufReader::with_capacity(256 << 10, file);
    decoded(br, len, isize)
}

/// The decompressed content of bytes embedded in the binary (the bundled demo scenarios), with
/// the expected size as [`open_sized`] gives it for a file.
pub fn open_bytes<B: AsRef<[u8]> + Send + 'static>(
    bytes: B,
) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    let b = bytes.as_ref();
    let isize = b
        .last_chunk::<4>()
        .filter(|_| b.len() >= 18)
        .map(|t| u64::from(u32::from_le_bytes(*t)));
    let len = b.len() as u64;
    decoded(std::io::Cursor::new(bytes), Some(len), isize)
}

/// `br` decoded when it starts with gzip's magic bytes (then `gz_size` is the hint), else as it
/// is (`plain_size`).
fn decoded<R: BufRead + Send + 'static>(
    mut br: R,
    plain_size: Option<u64>,
    gz_size: Option<u64>,
) -> io::Result<(Box<dyn Read + Send>, Option<u64>)> {
    let gz = br.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        (Box::new(MultiGzDecoder::new(br)), gz_size)
    } else {
        (Box::new(br), plain_size)
    })
}

/// A file that is not a regular file (nor a symlink to one), refused because reading it could
/// block the load forever (a FIFO with no writer) or never end (a device).
#[derive(Debug, thiserror::Error)]
#[error("skipped: {kind}, not a regular file (vigil reads only regular files, which cannot block)")]
pub struct NotRegular {
    pub kind: &'static str,
}

/// Opens a regular file for reading, refusing anything else with a [`NotRegular`] error. The file
/// is opened without blocking and then examined, so a FIFO that replaced a file after the
/// directory walk cannot hang the open either.
fn open_regular(path: &Path) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // No effect on a regular file; makes opening a FIFO return at once instead of waiting
        // for a writer.
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    let ft = file.metadata()?.file_type();
    if ft.is_file() {
        return Ok(file);
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        NotRegular {
            kind: file_kind(&ft),
        },
    ))
}

fn file_kind(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
    }
    if ft.is_dir() {
        return "a directory";
    }
    "a special file"
}

/// Reads `len` bytes at `offset` of a file's decompressed content (to fetch one raw record back).
pub fn read_range(path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut r = open(path)?;
    io::copy(&mut (&mut r).take(offset), &mut io::sink())?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// A spare buffer per thread, larger than this is not kept.
const SPARE_MAX: usize = 64 << 20;

thread_local! {
    /// The buffer of the last window this thread dropped. A file is read whole into its window
    /// (10 MB for a typical CloudTrail file); memory fresh from the system is zeroed by the
    /// kernel page by page, which cost a tenth of a hunt's time until windows reused it.
    static SPARE: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Window {
    fn drop(&mut self) {
        // Kept as it is, zeroed or written: the next window reads into it without zeroing it.
        let buf = std::mem::take(&mut self.store);
        if buf.capacity() <= SPARE_MAX {
            // `try_with`: a window dropped while the thread itself ends keeps nothing.
            let _ = SPARE.try_with(|s| {
                if let Ok(mut s) = s.try_borrow_mut()
                    && buf.capacity() > s.capacity()
                {
                    *s = buf;
                }
            });
        }
    }
}

/// A growable window over a reader. [`Window::buf`] holds unconsumed bytes starting at file
/// offset `base`; `line_at` maps a buffer position to its 1-based line number.
pub struct Window {
    reader: Box<dyn Read + Send>,
    /// The bytes read, `store[..filled]`, and room already written (zeroed once, or by an
    /// earlier read): reading into it needs no zeroing. `Read::read_to_end` zeroed every byte
    /// before the decompressor wrote it, a gigabyte of `memset` per million events.
    store: Vec<u8>,
    filled: usize,
    pub base: u64,
    pub eof: bool,
    /// An IO error met while reading (truncated gzip, say); reading stops there.
    pub io_error: Option<io::Error>,
    counted_pos: usize,
    counted_line: u64,
    /// The least a refill reads.
    chunk: usize,
}

impl Window {
    pub fn new(reader: Box<dyn Read + Send>) -> Window {
        Window::with_size_hint(reader, None)
    }

    /// A window over content expected to be `hint` bytes long: when that is small enough the
    /// first fill reads all of it (and sees the end), otherwise it reads chunk by chunk.
    pub fn with_size_hint(reader: Box<dyn Read + Send>, hint: Option<u64>) -> Window {
        let chunk = match hint {
            // One byte more than expected, so the first fill also meets the end of the input.
            Some(n) if n < WHOLE_FILE_MAX => (n as usize + 1).max(READ_CHUNK),
            _ => READ_CHUNK,
        };
        Window {
            reader,
            store: SPARE
                .try_with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)))
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default(),
            filled: 0,
            base: 0,
            eof: false,
            io_error: None,
            counted_pos: 0,
            counted_line: 1,
            chunk,
        }
    }

    /// The unconsumed bytes.
    pub fn buf(&self) -> &[u8] {
        self.store.get(..self.filled).unwrap_or_default()
    }

    /// The memory the window holds (its buffer's capacity).
    pub fn held(&self) -> usize {
        self.store.capacity()
    }

    /// Reads more: at least a chunk, and at least as much as is buffered, so re-parsing a value
    /// that spans many refills costs O(n) overall.
    pub fn fill(&mut self) {
        if self.eof {
            return;
        }
        let want = self.chunk.max(self.filled);
        let end = self.filled + want;
        while self.filled < end {
            if self.filled == self.store.len() {
                // Room zeroed as it is needed, doubling: only memory this thread's windows
                // never had is zeroed, and a size hint larger than the content touches no more
                // memory than the content.
                let grow = self.store.len().max(64 << 10);
                self.store.resize((self.store.len() + grow).min(end), 0);
            }
            let stop = end.min(self.store.len());
            let Some(room) = self.store.get_mut(self.filled..stop) else {
                break;
            };
            match self.reader.read(room) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // What was read before the error is kept.
                Err(e) => {
                    self.io_error = Some(e);
                    self.eof = true;
                    break;
                }
            }
        }
    }

    /// The buffered bytes, the rest of the reader, and any IO error already met.
    pub fn into_parts(mut self) -> (Vec<u8>, Box<dyn Read + Send>, Option<io::Error>) {
        let reader = std::mem::replace(&mut self.reader, Box::new(io::empty()));
        let mut buf = std::mem::take(&mut self.store);
        buf.truncate(self.filled);
        (buf, reader, self.io_error.take())
    }

    /// Drops the first `pos` bytes (already consumed).
    pub fn consume(&mut self, pos: usize) {
        let pos = pos.min(self.filled);
        self.line_at(pos);
        self.store.copy_within(pos..self.filled, 0);
        self.filled -= pos;
        self.base += pos as u64;
        self.counted_pos -= pos;
    }

    /// 1-based line of buffer position `pos` (positions must not go backwards across calls by
    /// more than the current window; counting is incremental).
    pub fn line_at(&mut self, pos: usize) -> u64 {
        let pos = pos.min(self.filled);
        let buf = self.store.as_slice();
        if pos >= self.counted_pos {
            self.counted_line +=
                memchr::memchr_iter(b'\n', buf.get(self.counted_pos..pos).unwrap_or_default())
                    .count() as u64;
        } else {
            self.counted_line -=
                memchr::memchr_iter(b'\n', buf.get(pos..self.counted_pos).unwrap_or_default())
                    .count() as u64;
        }
        self.counted_pos = pos;
        self.counted_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reuses_the_buffer_the_last_one_on_its_thread_dropped() {
        // A thread of its own: the spare is per thread, and other tests read files.
        std::thread::spawn(|| {
            let content = vec![b' '; 3 << 20];
            let mut w = Window::with_size_hint(Box::new(io::Cursor::new(content)), Some(3 << 20));
            w.fill();
            assert!(w.eof);
            let used = w.buf().as_ptr();
            drop(w);
            let mut next =
                Window::with_size_hint(Box::new(io::Cursor::new(b"{\"a\":1}".to_vec())), Some(8));
            assert!(next.buf().is_empty(), "it starts empty");
            assert!(next.held() >= 3 << 20);
            assert_eq!(next.buf().as_ptr(), used, "the same memory");
            // Read into without zeroing: what it holds is exactly what was read.
            next.fill();
            assert_eq!(next.buf(), b"{\"a\":1}");
            assert!(next.eof);
            next.consume(2);
            assert_eq!(next.buf(), b"a\":1}");
            // A window's buffer taken away by `into_parts` is not also kept as the spare.
            let (buf, _, _) = next.into_parts();
            assert_eq!(buf.as_ptr(), used);
            assert_eq!(buf, b"a\":1}");
            assert_eq!(Window::new(Box::new(io::empty())).held(), 0);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_file_reached_twice_is_listed_once_where_first_reached() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("trail");
        std::fs::create_dir(&sub).unwrap();
        let (a, b) = (sub.join("a.json"), sub.join("b.json"));
        std::fs::write(&a, "{}").unwrap();
        std::fs::write(&b, "{}").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let got = expand(&[
            b.clone(),
            dir.path().to_path_buf(),
            sub.clone(),
            link.clone(),
        ])
        .unwrap();
        // b first (given first), then the walk of the folder, which meets the link (a's other
        // name) before a itself: a is already listed.
        assert_eq!(got, vec![b, link]);
        // Two different files with the same content are two files.
        let c = dir.path().join("c.json");
        std::fs::write(&c, "{}").unwrap();
        assert_eq!(expand(&[c.clone(), sub.join("a.json")]).unwrap().len(), 2);
    }
}
