//! The in-memory CloudTrail index: compact rows sorted by (time, eventID), interned strings, and a
//! sorted postings list per entity. Raw JSON stays on disk ([`RawRef`]) and is read back on demand.
//! Built here; read through [`query`], and an entity's activity counted from its postings in
//! [`activity`].

mod activity;
mod query;
#[cfg(test)]
mod tests;

pub use activity::Activity;

use super::rows::{EventKey, permute};
use super::symbols::{SHARDS, Symbols};
use crate::model::{EntityId, RawRef, TrailEvent, Ts};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// One event, compactly: 80 bytes, no heap. String fields are symbols in the index's
/// [`Symbols`] (0 = none); the event id and the raw record are read through the index
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

/// The threads [`TrailIndex::finish`] sorts on, made once (`None` if they cannot be: the sort
/// then runs on the global pool).
fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("vigil-index-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// The posting list of entity symbol `e`, made (with those below it) when new.
fn posting(postings: &mut Vec<Vec<u32>>, e: u32) -> &mut Vec<u32> {
    let e = e as usize;
    if e >= postings.len() {
        postings.resize_with(e + 1, Vec::new);
    }
    &mut postings[e]
}

/// An optional field's text, "" when absent.
fn text(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or_default()
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
    /// Strings and entities, shared with the indexes of the same load ([`TrailIndex::part`]).
    symbols: Arc<Symbols>,
    /// The symbols' strings when the index was last finished, at their symbols: rows are read
    /// from here, a plain vector.
    strs: Vec<Arc<str>>,
    /// How far `strs` has copied each shard of the symbols.
    strs_seen: [usize; SHARDS],
    /// Per entity symbol: row numbers (in arrival order until `finish`, then ascending in pivot
    /// order). Empty for entities of the shared symbols that this index does not hold.
    postings: Vec<Vec<u32>>,
    /// (entity symbol, row) pairs not yet in `postings`: a part's, whose postings would be as
    /// long as the whole load's entity symbols.
    pending: Vec<(u32, u32)>,
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
        TrailIndex::with_symbols(Arc::default())
    }

    fn with_symbols(symbols: Arc<Symbols>) -> TrailIndex {
        TrailIndex {
            rows: Vec::new(),
            symbols,
            strs: Vec::new(),
            strs_seen: [0; SHARDS],
            postings: Vec::new(),
            pending: Vec::new(),
            files: Vec::new(),
            file_ids: HashMap::default(),
            inline: Vec::new(),
            sorted: false,
            api_rows: 0,
        }
    }

    /// An empty index numbering strings and entities as this one does, to build on another
    /// thread and [`Self::append`] here by copying its rows: a load's parts are made so.
    pub fn part(&self) -> TrailIndex {
        TrailIndex::with_symbols(self.symbols.clone())
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds one event; call [`TrailIndex::finish`] before querying.
    pub fn add(&mut self, ev: TrailEvent) {
        self.push(std::slice::from_ref(&ev), false);
    }

    /// [`Self::add`] for an event that is kept elsewhere too (the graph's loader hands it on).
    pub fn add_ref(&mut self, ev: &TrailEvent) {
        self.push(std::slice::from_ref(ev), false);
    }

    /// [`Self::add_ref`] for a part's events at once: their strings and entities are numbered
    /// together, each shard of the symbols locked once rather than once per value. Returns the
    /// entity symbols, each event's `entities` in turn: the graph of a load's part names its
    /// nodes by them ([`crate::graph::Linked`]).
    pub fn add_all(&mut self, events: &[TrailEvent]) -> Vec<u32> {
        self.push(events, false)
    }

    /// The symbol of an entity in this index's numbering (numbered now if new), whether or not
    /// an indexed event names it.
    pub fn entity_symbol(&self, e: &EntityId) -> u32 {
        self.symbols.entity(e)
    }

    /// The entity of a symbol of this index's numbering.
    pub fn symbol_entity(&self, sym: u32) -> Option<&EntityId> {
        self.symbols.entity_of(sym)
    }

    /// Adds `events`; returns their entity symbols, each event's `entities` in turn.
    fn push(&mut self, events: &[TrailEvent], api: bool) -> Vec<u32> {
        /// The strings of a row, in [`TrailIndex::push`]'s order.
        const STRINGS: usize = 8;
        let keys: Vec<Option<EventKey>> =
            events.iter().map(|e| EventKey::uuid(&e.event_id)).collect();
        let mut strings: Vec<&str> = Vec::with_capacity(events.len() * STRINGS);
        let mut entities: Vec<&EntityId> = Vec::with_capacity(events.len() * 12);
        for (ev, key) in events.iter().zip(&keys) {
            strings.extend([
                ev.name.as_str(),
                ev.source.as_str(),
                ev.principal.as_ref().map_or("", |p| p.value.as_str()),
                text(&ev.source_ip),
                text(&ev.user_agent),
                text(&ev.error_code),
                text(&ev.region),
                // A UUID is its key; any other id is a string.
                if key.is_some() {
                    ""
                } else {
                    ev.event_id.as_str()
                },
            ]);
            entities.extend(&ev.entities);
        }
        let (mut syms, mut ents) = (Vec::new(), Vec::new());
        self.symbols.strings_of(&strings, &mut syms);
        // Entities are cloned only when new to the symbols: most recur across a trail.
        self.symbols.entities_of(&entities, &mut ents);
        let mut left = ents.iter();
        for ((ev, key), s) in events.iter().zip(keys).zip(syms.chunks_exact(STRINGS)) {
            let row_no = self.rows.len() as u32;
            for e in left.by_ref().take(ev.entities.len()) {
                self.pending.push((*e, row_no));
            }
            let raw = self.raw_slot(&ev.raw);
            self.rows.push(EventRow {
                time: ev.time,
                id: key.unwrap_or(EventKey::Sym(s[7])),
                name: s[0],
                source: s[1],
                principal: s[2],
                source_ip: s[3],
                user_agent: s[4],
                error: s[5],
                region: s[6],
                raw,
                api,
            });
        }
        self.api_rows += usize::from(api) * events.len();
        self.sorted = false;
        ents
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

    /// Pivot order: time, then the event id as text.
    fn order(&self, a: &EventRow, b: &EventRow) -> std::cmp::Ordering {
        a.time.cmp(&b.time).then_with(|| match (a.id, b.id) {
            (EventKey::Uuid(x), EventKey::Uuid(y)) => x.cmp(&y),
            (x, y) => self.id_text(x).as_str().cmp(self.id_text(y).as_str()),
        })
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
    /// its files are mapped into this index's and its postings renumbered. A part made by
    /// [`Self::part`] shares this index's symbols and joins by a copy; any other index's strings
    /// and entities are numbered here first, each distinct value once.
    pub fn append(&mut self, mut other: TrailIndex) {
        let files: Vec<u32> = other.files.iter().map(|f| self.file_id(f)).collect();
        let inline_base = self.inline.len() as u64;
        self.inline.extend(std::mem::take(&mut other.inline));
        let base = self.rows.len() as u32;
        let shared = Arc::ptr_eq(&self.symbols, &other.symbols);
        let (mine, theirs) = (self.symbols.clone(), other.symbols.clone());
        let mut strings: HashMap<u32, u32> = HashMap::default();
        let mut sym = |s: u32| -> u32 {
            if shared || s == 0 {
                return s;
            }
            *strings
                .entry(s)
                .or_insert_with(|| mine.string(theirs.str(s)))
        };
        self.rows.reserve(other.rows.len());
        for mut row in std::mem::take(&mut other.rows) {
            if !shared {
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
        let mut entities: HashMap<u32, u32> = HashMap::default();
        let mut entity = |e: u32| -> Option<u32> {
            if shared {
                return Some(e);
            }
            if let Some(m) = entities.get(&e) {
                return Some(*m);
            }
            let m = mine.entity(theirs.entity_of(e)?);
            entities.insert(e, m);
            Some(m)
        };
        for (e, list) in std::mem::take(&mut other.postings).into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            if let Some(e) = entity(e as u32) {
                posting(&mut self.postings, e).extend(list.into_iter().map(|r| base + r));
            }
        }
        for (e, r) in std::mem::take(&mut other.pending) {
            if let Some(e) = entity(e) {
                posting(&mut self.postings, e).push(base + r);
            }
        }
        self.sorted = false;
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
        for ev in &fresh {
            on_new(ev);
        }
        self.push(&fresh, api);
        self.finish();
        added
    }

    /// Sorts rows into pivot order and renumbers the postings. The rows usually arrive as
    /// sorted runs (files, segments, pages), which the stable sort merges.
    pub fn finish(&mut self) {
        if self.sorted {
            return;
        }
        for (e, r) in std::mem::take(&mut self.pending) {
            posting(&mut self.postings, e).push(r);
        }
        // On all cores: a million rows' sort and their postings' renumbering are the part of a
        // load no loader thread shares. On the index's own threads: a load's consumer finishes a
        // segment between two parts, while loaders wait for it to take their next part; the
        // loaders have their own pool too (`ingest::on_loaders`), but a caller whose global
        // pool is busy with anything it waits for must not hang here either.
        match pool() {
            Some(pool) => pool.install(|| self.sort()),
            None => self.sort(),
        }
        self.symbols
            .strings_into(&mut self.strs, &mut self.strs_seen);
        self.sorted = true;
    }

    /// [`Self::finish`]'s sort and renumbering, on the pool it is called in.
    fn sort(&mut self) {
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
                // A list is a few ascending runs (what was indexed before, each segment or page
                // since): the stable sort merges runs in linear time, where the unstable one
                // sorted a whole account's ten million rows again at every segment of a load.
                p.sort();
                p.dedup();
                p.shrink_to_fit();
            });
    }
}
