//! Reading the index: an entity's rows in a window, a row's text, id and raw record, and what
//! an index holds.

use super::{EventRow, INLINE, RawSlot, TrailIndex};
use crate::model::{EntityId, RawRef, Ts};
use crate::pivot::rows::{EventKey, IdText};
use crate::pivot::window::Window;
use std::sync::Arc;

impl TrailIndex {
    /// The row's `eventID`.
    pub fn event_id(&self, row: &EventRow) -> String {
        self.id_text(row.id).as_str().to_string()
    }

    pub(super) fn id_text(&self, id: EventKey) -> IdText<'_> {
        match id {
            EventKey::Sym(s) => IdText::Str(self.str(s)),
            EventKey::Uuid(b) => IdText::uuid(&b),
        }
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

    /// Whether an event with this id and time is indexed (the same event has the same time, and
    /// rows are sorted by both).
    pub fn has_event(&self, time: Ts, event_id: &str) -> bool {
        debug_assert!(self.sorted || self.rows.is_empty());
        let id = match EventKey::uuid(event_id) {
            Some(id) => id,
            None => match self.symbols.find_string(event_id) {
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

    pub fn row(&self, i: u32) -> Option<&EventRow> {
        self.rows.get(i as usize)
    }

    pub fn str(&self, sym: u32) -> &str {
        match self.strs.get(sym as usize) {
            // No string is stored empty: an empty slot is one the copy did not have.
            Some(s) if !s.is_empty() => s,
            _ => self.symbols.str(sym),
        }
    }

    /// Row numbers of the pivot of `e` within `w`, in pivot order.
    pub fn pivot(&self, e: &EntityId, w: Window) -> &[u32] {
        let Some(list) = self.postings_of(e) else {
            return &[];
        };
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

    pub(super) fn postings_of(&self, e: &EntityId) -> Option<&Vec<u32>> {
        self.postings.get(self.symbols.find_entity(e)? as usize)
    }

    /// How many events name `e` in total.
    pub fn count(&self, e: &EntityId) -> usize {
        self.postings_of(e).map_or(0, Vec::len)
    }

    /// Every entity of row `i` (after [`TrailIndex::finish`]), sorted: a binary search per posting
    /// list, so an event's entities are available without keeping a list per row.
    pub fn entities_of(&self, i: u32) -> Vec<EntityId> {
        let mut v: Vec<EntityId> = self
            .postings
            .iter()
            .enumerate()
            .filter(|(_, p)| p.binary_search(&i).is_ok())
            .filter_map(|(s, _)| self.symbols.entity_of(s as u32).cloned())
            .collect();
        v.sort();
        v
    }

    /// The entities this index holds events of.
    pub fn entities(&self) -> impl Iterator<Item = &EntityId> {
        self.postings
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .filter_map(|(s, _)| self.symbols.entity_of(s as u32))
    }
}
