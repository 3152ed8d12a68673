//! The in-memory CloudTrail index: compact rows sorted by (time, eventID), interned strings, and a
//! sorted postings list per entity. Raw JSON stays on disk ([`RawRef`]) and is read back on demand.

use super::window::Window;
use crate::graph::profile::Interner;
use crate::model::{EntityId, RawRef, TrailEvent, Ts};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One event, compactly: 80 bytes, no heap. String fields are symbols in the index's interner
/// (0 = none); the event id and the raw record are read through the index
/// ([`TrailIndex::event_id`], [`TrailIndex::raw`]).
#[derive(Debug, Clone)]
pub struct EventRow {
    pub time: Ts,
    id: EventKey,
    pub name: u32,
    pub source: u32,
    pub principal: u32,
    pub source_ip: u32,
    pub user_agent: u32,
    pub error: u32,
    pub region: u32,
    raw: RawSlot,
    /// Fetched from the LookupEvents API rather than read from a log file.
    pub api: bool,
}

/// An `eventID`: CloudTrail's are lowercase UUIDs, kept as their 16 bytes (whose order is the
/// text's: hex digits and hyphens at fixed places); anything else is a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKey {
    Uuid([u8; 16]),
    Sym(u32),
}

impl EventKey {
    /// The key of `id` if it is a canonical UUID.
    fn uuid(id: &str) -> Option<EventKey> {
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
enum IdText<'a> {
    Uuid([u8; 36]),
    Str(&'a str),
}

impl IdText<'_> {
    fn as_str(&self) -> &str {
        match self {
            // Only ASCII hex digits and hyphens are written into the buffer.
            IdText::Uuid(b) => std::str::from_utf8(b).unwrap_or_default(),
            IdText::Str(s) => s,
        }
    }
}

/// Puts `v[order[i]]` at `i` for every `i`, in place (a million rows are not copied twice):
/// each cycle of the permutation is followed once, `order` marked as it goes.
fn permute<T>(v: &mut [T], order: &mut [u32]) {
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

/// Where the raw record is: a byte range of `files[file]`, or (`file == INLINE`) the `offset`th
/// record kept in memory.
#[derive(Debug, Clone, Copy)]
struct RawSlot {
    offset: u64,
    file: u32,
    len: u32,
}

const INLINE: u32 = u32::MAX;

pub struct TrailIndex {
    rows: Vec<EventRow>,
    strings: Interner,
    entity_sym: HashMap<EntityId, u32>,
    /// Per entity symbol: row numbers (in push order until `finish`, then ascending in pivot
    /// order).
    postings: Vec<Vec<u32>>,
    /// The files raw records are read back from, and the records kept in memory (API answers,
    /// S3 objects, embedded scenarios).
    files: Vec<Arc<PathBuf>>,
    file_ids: HashMap<Arc<PathBuf>, u32>,
    inline: Vec<Arc<str>>,
    sorted: bool,
    /// Rows fetched from the API.
    api_rows: usize,
}

/// Symbol 0 is the empty string (absent fields), so there is no derived default.
impl Default for TrailIndex {
    fn default() -> TrailIndex {
        TrailIndex::new()
    }
}

impl TrailIndex {
    pub fn new() -> TrailIndex {
        let mut t = TrailIndex {
            rows: Vec::new(),
            strings: Interner::default(),
            entity_sym: HashMap::default(),
            postings: Vec::new(),
            files: Vec::new(),
            file_ids: HashMap::default(),
            inline: Vec::new(),
            sorted: false,
            api_rows: 0,
        };
        t.strings.intern("");
        t
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn sym(&mut self, s: Option<&str>) -> u32 {
        s.map_or(0, |s| self.strings.intern(s))
    }

    /// Adds one event; call [`TrailIndex::finish`] before querying.
    pub fn add(&mut self, ev: TrailEvent) {
        self.push(&ev, false);
    }

    /// [`Self::add`] for an event that is kept elsewhere too (the graph's loader hands it on).
    pub fn add_ref(&mut self, ev: &TrailEvent) {
        self.push(ev, false);
    }

    fn push(&mut self, ev: &TrailEvent, api: bool) {
        self.api_rows += usize::from(api);
        let row_no = self.rows.len() as u32;
        // Entities are cloned only when new here: most recur across a trail.
        for e in &ev.entities {
            let s = match self.entity_sym.get(e) {
                Some(s) => *s,
                None => {
                    let next = self.entity_sym.len() as u32;
                    self.entity_sym.insert(e.clone(), next);
                    next
                }
            };
            if s as usize == self.postings.len() {
                self.postings.push(Vec::new());
            }
            self.postings[s as usize].push(row_no);
        }
        let principal = ev.principal.as_ref().map(|p| p.value.as_str());
        let id = EventKey::uuid(&ev.event_id)
            .unwrap_or_else(|| EventKey::Sym(self.strings.intern(&ev.event_id)));
        let raw = self.raw_slot(&ev.raw);
        let row = EventRow {
            time: ev.time,
            id,
            name: self.sym(Some(&ev.name)),
            source: self.sym(Some(&ev.source)),
            principal: self.sym(principal),
            source_ip: self.sym(ev.source_ip.as_deref()),
            user_agent: self.sym(ev.user_agent.as_deref()),
            error: self.sym(ev.error_code.as_deref()),
            region: self.sym(ev.region.as_deref()),
            raw,
            api,
        };
        self.rows.push(row);
        self.sorted = false;
    }

    fn raw_slot(&mut self, raw: &RawRef) -> RawSlot {
        match raw {
            RawRef::Inline(text) => {
                self.inline.push(text.clone());
                RawSlot {
                    offset: self.inline.len() as u64 - 1,
                    file: INLINE,
                    len: 0,
                }
            }
            RawRef::File { path, offset, len } => {
                // A file's events come together: the last file is the likely one.
                let file = match self.files.last() {
                    Some(last) if Arc::ptr_eq(last, path) => self.files.len() as u32 - 1,
                    _ => self.file_id(path),
                };
                RawSlot {
                    offset: *offset,
                    file,
                    len: *len,
                }
            }
        }
    }

    fn file_id(&mut self, path: &Arc<PathBuf>) -> u32 {
        if let Some(id) = self.file_ids.get(path) {
            return *id;
        }
        let id = self.files.len() as u32;
        self.files.push(path.clone());
        self.file_ids.insert(path.clone(), id);
        id
    }

    /// The row's `eventID`.
    pub fn event_id(&self, row: &EventRow) -> String {
        self.id_text(row.id).as_str().to_string()
    }

    fn id_text(&self, id: EventKey) -> IdText<'_> {
        match id {
            EventKey::Sym(s) => IdText::Str(self.strings.get(s)),
            EventKey::Uuid(b) => {
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
        }
    }

    /// Pivot order: time, then the event id as text.
    fn order(&self, a: &EventRow, b: &EventRow) -> std::cmp::Ordering {
        a.time.cmp(&b.time).then_with(|| match (a.id, b.id) {
            (EventKey::Uuid(x), EventKey::Uuid(y)) => x.cmp(&y),
            (x, y) => self.id_text(x).as_str().cmp(self.id_text(y).as_str()),
        })
    }

    /// Where the row's raw record is.
    pub fn raw(&self, row: &EventRow) -> RawRef {
        if row.raw.file == INLINE {
            let text = self.inline.get(row.raw.offset as usize).cloned();
            return RawRef::Inline(text.unwrap_or_else(|| Arc::from("")));
        }
        match self.files.get(row.raw.file as usize) {
            Some(path) => RawRef::File {
                path: path.clone(),
                offset: row.raw.offset,
                len: row.raw.len,
            },
            None => RawRef::Inline(Arc::from("")),
        }
    }

    /// Adds every row of `other` (another file's or segment's index) and puts the index back in
    /// pivot order. As [`Self::add`] does, an event that two files both hold is kept twice (the
    /// index is the files'; [`Self::merge`] is for events from elsewhere, deduplicated).
    pub fn absorb(&mut self, other: TrailIndex) {
        self.absorb_all(vec![other]);
    }

    /// [`Self::absorb`] for several indexes at once: one sort at the end, however many.
    pub fn absorb_all(&mut self, others: Vec<TrailIndex>) {
        for other in others {
            self.append(other);
        }
        self.finish();
    }

    /// Adds every row of `other` without sorting (call [`Self::finish`] once after the last):
    /// its strings, entities and files are mapped into this index's, its postings renumbered.
    /// Only `other`'s distinct values are hashed, so indexes built in parallel (one per part of
    /// a load, on the loader's threads) join at the cost of a copy.
    pub fn append(&mut self, other: TrailIndex) {
        let map: Vec<u32> = (0..other.strings.len() as u32)
            .map(|i| self.strings.intern(other.strings.get(i)))
            .collect();
        let sym = |s: u32| map.get(s as usize).copied().unwrap_or(0);
        let files: Vec<u32> = other.files.iter().map(|f| self.file_id(f)).collect();
        let inline_base = self.inline.len() as u64;
        self.inline.extend(other.inline);
        let base = self.rows.len() as u32;
        self.rows.reserve(other.rows.len());
        for mut row in other.rows {
            row.name = sym(row.name);
            row.source = sym(row.source);
            row.principal = sym(row.principal);
            row.source_ip = sym(row.source_ip);
            row.user_agent = sym(row.user_agent);
            row.error = sym(row.error);
            row.region = sym(row.region);
            if let EventKey::Sym(s) = row.id {
                row.id = EventKey::Sym(sym(s));
            }
            row.raw = match row.raw.file {
                INLINE => RawSlot {
                    offset: inline_base + row.raw.offset,
                    ..row.raw
                },
                f => RawSlot {
                    file: files.get(f as usize).copied().unwrap_or(INLINE),
                    ..row.raw
                },
            };
            self.api_rows += usize::from(row.api);
            self.rows.push(row);
        }
        let mut postings = other.postings;
        for (entity, s) in other.entity_sym {
            let Some(list) = postings.get_mut(s as usize).map(std::mem::take) else {
                continue;
            };
            let n = self.entity_sym.len() as u32;
            let mine = *self.entity_sym.entry(entity).or_insert(n);
            if mine as usize == self.postings.len() {
                self.postings.push(Vec::new());
            }
            self.postings[mine as usize].extend(list.into_iter().map(|r| base + r));
        }
        self.sorted = false;
    }

    /// Whether an event with this id and time is indexed (the same event has the same time, and
    /// rows are sorted by both).
    pub fn has_event(&self, time: Ts, event_id: &str) -> bool {
        debug_assert!(self.sorted || self.rows.is_empty());
        let id = match EventKey::uuid(event_id) {
            Some(id) => id,
            None => match self.strings.lookup(event_id) {
                Some(s) => EventKey::Sym(s),
                // Every id that is not a UUID is interned: an unknown one is not here.
                None => return false,
            },
        };
        let probe = EventRow {
            time,
            id,
            name: 0,
            source: 0,
            principal: 0,
            source_ip: 0,
            user_agent: 0,
            error: 0,
            region: 0,
            raw: RawSlot {
                offset: 0,
                file: INLINE,
                len: 0,
            },
            api: false,
        };
        self.rows
            .binary_search_by(|r| self.order(r, &probe))
            .is_ok()
    }

    /// Adds the events not already indexed (by event id) and puts the index back in pivot order;
    /// `on_new` sees each added event first. Returns how many were added.
    pub fn merge(
        &mut self,
        events: Vec<TrailEvent>,
        api: bool,
        mut on_new: impl FnMut(&TrailEvent),
    ) -> usize {
        self.finish();
        let mut fresh: Vec<TrailEvent> = events
            .into_iter()
            .filter(|e| !self.has_event(e.time, &e.event_id))
            .collect();
        fresh.sort_by(|a, b| (a.time, &a.event_id).cmp(&(b.time, &b.event_id)));
        fresh.dedup_by(|a, b| a.time == b.time && a.event_id == b.event_id);
        let added = fresh.len();
        for ev in fresh {
            on_new(&ev);
            self.push(&ev, api);
        }
        self.finish();
        added
    }

    /// The raw records of the rows that came from the API (kept in memory), to carry them into
    /// an index built later.
    pub fn api_records(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.api)
            .filter_map(|r| match self.raw(r) {
                RawRef::Inline(s) => Some(s.to_string()),
                RawRef::File { .. } => None,
            })
            .collect()
    }

    /// How many rows came from the LookupEvents API.
    pub fn api_rows(&self) -> usize {
        self.api_rows
    }

    /// Sorts rows into pivot order and renumbers the postings. The rows usually arrive as
    /// sorted runs (files, segments, pages), which the stable sort merges.
    pub fn finish(&mut self) {
        if self.sorted {
            return;
        }
        // On all cores: a million rows' sort and their postings' renumbering are the part of a
        // load no loader thread shares.
        let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
        order.par_sort_by(|a, b| self.order(&self.rows[*a as usize], &self.rows[*b as usize]));
        let mut new_pos = vec![0u32; order.len()];
        for (new, old) in order.iter().enumerate() {
            new_pos[*old as usize] = new as u32;
        }
        permute(&mut self.rows, &mut order);
        let new_pos = &new_pos;
        self.postings
            .par_iter_mut()
            .with_min_len(1 << 10)
            .for_each(|p| {
                for r in p.iter_mut() {
                    *r = new_pos[*r as usize];
                }
                p.sort_unstable();
                p.dedup();
                p.shrink_to_fit();
            });
        self.sorted = true;
    }

    pub fn strings(&self) -> &Interner {
        &self.strings
    }

    pub fn row(&self, i: u32) -> Option<&EventRow> {
        self.rows.get(i as usize)
    }

    pub fn str(&self, sym: u32) -> &str {
        self.strings.get(sym)
    }

    /// Row numbers of the pivot of `e` within `w`, in pivot order.
    pub fn pivot(&self, e: &EntityId, w: Window) -> &[u32] {
        let Some(s) = self.entity_sym.get(e) else {
            return &[];
        };
        let list = &self.postings[*s as usize];
        let lo = w.from.map_or(0, |f| {
            list.partition_point(|r| self.rows[*r as usize].time < f)
        });
        let hi = w.to.map_or(list.len(), |t| {
            list.partition_point(|r| self.rows[*r as usize].time < t)
        });
        &list[lo..hi.max(lo)]
    }

    /// Rows in `w` regardless of entity (the whole timeline), in order.
    pub fn range(&self, w: Window) -> std::ops::Range<u32> {
        let lo = w
            .from
            .map_or(0, |f| self.rows.partition_point(|r| r.time < f));
        let hi = w.to.map_or(self.rows.len(), |t| {
            self.rows.partition_point(|r| r.time < t)
        });
        lo as u32..hi.max(lo) as u32
    }

    /// How many events name `e` in total.
    pub fn count(&self, e: &EntityId) -> usize {
        self.entity_sym
            .get(e)
            .map_or(0, |s| self.postings[*s as usize].len())
    }

    /// Every entity of row `i` (after [`TrailIndex::finish`]), sorted: a binary search per posting
    /// list, so an event's entities are available without keeping a list per row.
    pub fn entities_of(&self, i: u32) -> Vec<EntityId> {
        let mut v: Vec<EntityId> = self
            .entity_sym
            .iter()
            .filter(|(_, s)| self.postings[**s as usize].binary_search(&i).is_ok())
            .map(|(e, _)| e.clone())
            .collect();
        v.sort();
        v
    }

    pub fn entities(&self) -> impl Iterator<Item = &EntityId> {
        self.entity_sym.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest;
    use std::path::Path;

    /// Records at the same second whose ids are UUIDs (lower and upper case) and other text, so
    /// the order of keys must be the order of the text.
    fn events() -> Vec<TrailEvent> {
        let ids = [
            "f0000000-0000-4000-8000-000000000000",
            "0aaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            "0AAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEF",
            "0aaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeee9",
            "abc",
            "0aaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee-x",
            "zzz",
        ];
        let records: Vec<String> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                format!(
                    r#"{{"eventVersion":"1.08","eventTime":"2026-01-0{}T00:00:00Z","eventID":"{id}","eventName":"GetObject","eventSource":"s3.amazonaws.com","sourceIPAddress":"203.0.113.{i}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u{}"}}}}"#,
                    1 + i % 2,
                    i % 3
                )
            })
            .collect();
        let body = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        ingest::load_bytes(Path::new("t.json"), body.into_bytes()).events
    }

    fn ids(ix: &TrailIndex) -> Vec<String> {
        (0..ix.len() as u32)
            .map(|i| ix.event_id(ix.row(i).unwrap()))
            .collect()
    }

    #[test]
    fn rows_are_in_time_then_id_text_order_whatever_the_id_shape() {
        let evs = events();
        let mut ix = TrailIndex::new();
        for e in evs.iter().rev() {
            ix.add_ref(e);
        }
        ix.finish();
        let mut want: Vec<(Ts, String)> =
            evs.iter().map(|e| (e.time, e.event_id.clone())).collect();
        want.sort();
        assert_eq!(ids(&ix), want.into_iter().map(|w| w.1).collect::<Vec<_>>());
        for e in &evs {
            assert!(ix.has_event(e.time, &e.event_id), "{}", e.event_id);
        }
        assert!(!ix.has_event(evs[0].time, "0aaaaaaa-bbbb-4ccc-8ddd-000000000000"));
        assert!(!ix.has_event(evs[0].time, "never-seen"));
    }

    #[test]
    fn parts_appended_in_any_order_make_the_same_index() {
        let evs = events();
        let mut whole = TrailIndex::new();
        for e in &evs {
            whole.add_ref(e);
        }
        whole.finish();
        let mut joined = TrailIndex::new();
        for chunk in evs.chunks(3).rev() {
            let mut part = TrailIndex::new();
            for e in chunk {
                part.add_ref(e);
            }
            joined.append(part);
        }
        joined.finish();
        assert_eq!(ids(&joined), ids(&whole));
        for e in whole.entities() {
            let a: Vec<String> = whole
                .pivot(e, Window::all())
                .iter()
                .map(|r| whole.event_id(whole.row(*r).unwrap()))
                .collect();
            let b: Vec<String> = joined
                .pivot(e, Window::all())
                .iter()
                .map(|r| joined.event_id(joined.row(*r).unwrap()))
                .collect();
            assert_eq!(a, b, "{e}");
        }
        // Raw records still point at their own text.
        for i in 0..joined.len() as u32 {
            let row = joined.row(i).unwrap();
            let text = joined.raw(row).text().unwrap_or_default();
            assert!(text.contains(&joined.event_id(row)), "{text}");
        }
    }

    #[test]
    fn permute_follows_every_cycle() {
        let mut v = vec!['a', 'b', 'c', 'd', 'e', 'f'];
        let mut order = vec![3u32, 0, 1, 2, 5, 4];
        permute(&mut v, &mut order);
        assert_eq!(v, vec!['d', 'a', 'b', 'c', 'f', 'e']);
    }
}
