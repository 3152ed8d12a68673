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
}

pub struct TrailIndex {
    rows: Vec<EventRow>,
    strings: Interner,
    entity_sym: HashMap<EntityId, u32>,
    /// Per entity symbol: row numbers (pre-sort until `finish`, then ascending in pivot order).
    postings: Vec<Vec<u32>>,
    sorted: bool,
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
        let row_no = self.rows.len() as u32;
        for e in &ev.entities {
            let next = self.entity_sym.len() as u32;
            let s = *self.entity_sym.entry(e.clone()).or_insert(next);
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
        };
        self.rows.push(row);
        self.sorted = false;
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
