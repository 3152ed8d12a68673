//! The in-memory CloudTrail index: compact rows sorted by (time, eventID), interned strings, and a
//! sorted postings list per entity. Raw JSON stays on disk ([`RawRef`]) and is read back on demand.

use super::window::Window;
use crate::graph::profile::Interner;
use crate::model::{EntityId, RawRef, TrailEvent, Ts};
use std::collections::HashMap;

/// One event, compactly. String fields are symbols in the index's interner (0 = none).
#[derive(Debug, Clone)]
pub struct EventRow {
    pub time: Ts,
    pub event_id: Box<str>,
    pub name: u32,
    pub source: u32,
    pub principal: u32,
    pub source_ip: u32,
    pub user_agent: u32,
    pub error: u32,
    pub region: u32,
    pub raw: RawRef,
    /// Fetched from the LookupEvents API rather than read from a log file.
    pub api: bool,
}

pub struct TrailIndex {
    rows: Vec<EventRow>,
    strings: Interner,
    entity_sym: HashMap<EntityId, u32>,
    /// Per entity symbol: row numbers (pre-sort until `finish`, then ascending in pivot order).
    postings: Vec<Vec<u32>>,
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
            entity_sym: HashMap::new(),
            postings: Vec::new(),
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
        self.push(ev, false);
    }

    fn push(&mut self, mut ev: TrailEvent, api: bool) {
        self.api_rows += usize::from(api);
        let row_no = self.rows.len() as u32;
        // The event's entities are moved in when new and only looked up when known: no copy
        // of an id per event (most entities recur across a trail).
        for e in std::mem::take(&mut ev.entities) {
            let s = match self.entity_sym.get(&e) {
                Some(s) => *s,
                None => {
                    let next = self.entity_sym.len() as u32;
                    self.entity_sym.insert(e, next);
                    next
                }
            };
            if s as usize == self.postings.len() {
                self.postings.push(Vec::new());
            }
            self.postings[s as usize].push(row_no);
        }
        let principal = ev.principal.as_ref().map(|p| p.value.as_str());
        let row = EventRow {
            time: ev.time,
            event_id: ev.event_id.into_boxed_str(),
            name: self.sym(Some(&ev.name)),
            source: self.sym(Some(&ev.source)),
            principal: self.sym(principal),
            source_ip: self.sym(ev.source_ip.as_deref()),
            user_agent: self.sym(ev.user_agent.as_deref()),
            error: self.sym(ev.error_code.as_deref()),
            region: self.sym(ev.region.as_deref()),
            raw: ev.raw,
            api,
        };
        self.rows.push(row);
        self.sorted = false;
    }

    /// Adds every row of `other` (another file's or segment's index): its strings interned here,
    /// its postings renumbered; then back in pivot order. As [`Self::add`] does, an event that
    /// two files both hold is kept twice (the index is the files'; [`Self::merge`] is for
    /// events from elsewhere, deduplicated).
    pub fn absorb(&mut self, other: TrailIndex) {
        self.absorb_all(vec![other]);
    }

    /// [`Self::absorb`] for several indexes at once: one sort at the end, however many.
    pub fn absorb_all(&mut self, others: Vec<TrailIndex>) {
        self.finish();
        for mut other in others {
            other.finish();
            let map: Vec<u32> = (0..other.strings.len() as u32)
                .map(|i| self.strings.intern(other.strings.get(i)))
                .collect();
            let sym = |s: u32| map.get(s as usize).copied().unwrap_or(0);
            // Other's row numbers → ours.
            let mut renumber: Vec<Option<u32>> = Vec::with_capacity(other.rows.len());
            for mut row in std::mem::take(&mut other.rows) {
                row.name = sym(row.name);
                row.source = sym(row.source);
                row.principal = sym(row.principal);
                row.source_ip = sym(row.source_ip);
                row.user_agent = sym(row.user_agent);
                row.error = sym(row.error);
                row.region = sym(row.region);
                self.api_rows += usize::from(row.api);
                renumber.push(Some(self.rows.len() as u32));
                self.rows.push(row);
            }
            for (entity, s) in other.entity_sym {
                let Some(list) = other.postings.get(s as usize) else {
                    continue;
                };
                let n = self.entity_sym.len() as u32;
                let mine = *self.entity_sym.entry(entity).or_insert(n);
                if mine as usize == self.postings.len() {
                    self.postings.push(Vec::new());
                }
                self.postings[mine as usize].extend(
                    list.iter()
                        .filter_map(|r| renumber.get(*r as usize).copied().flatten()),
                );
            }
        }
        self.sorted = false;
        self.finish();
    }

    /// Whether an event with this id and time is indexed (the same event has the same time, and
    /// rows are sorted by both).
    pub fn has_event(&self, time: Ts, event_id: &str) -> bool {
        debug_assert!(self.sorted || self.rows.is_empty());
        self.rows
            .binary_search_by(|r| (r.time, &*r.event_id).cmp(&(time, event_id)))
            .is_ok()
    }

    /// Adds the events not already indexed (by event id) and puts the index back in pivot order;
    /// `on_new` sees each added event first. Returns how many were added. The rows are sorted
    /// with two sorted runs (the index, then the new rows), which the sort merges in one pass.
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
            self.push(ev, api);
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
            .filter_map(|r| match &r.raw {
                RawRef::Inline(s) => Some(s.to_string()),
                RawRef::File { .. } => None,
            })
            .collect()
    }

    /// How many rows came from the LookupEvents API.
    pub fn api_rows(&self) -> usize {
        self.api_rows
    }

    /// Sorts rows into pivot order and renumbers the postings.
    pub fn finish(&mut self) {
        if self.sorted {
            return;
        }
        let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
        order.sort_by(|a, b| {
            let (x, y) = (&self.rows[*a as usize], &self.rows[*b as usize]);
            (x.time, &x.event_id).cmp(&(y.time, &y.event_id))
        });
        let mut new_pos = vec![0u32; order.len()];
        for (new, old) in order.iter().enumerate() {
            new_pos[*old as usize] = new as u32;
        }
        let mut old_rows: Vec<Option<EventRow>> = std::mem::take(&mut self.rows)
            .into_iter()
            .map(Some)
            .collect();
        self.rows = order
            .iter()
            .filter_map(|o| old_rows[*o as usize].take())
            .collect();
        for p in &mut self.postings {
            for r in p.iter_mut() {
                *r = new_pos[*r as usize];
            }
            p.sort_unstable();
            p.dedup();
        }
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
