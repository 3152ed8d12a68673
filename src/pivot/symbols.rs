//! The strings and entities of a CloudTrail index, numbered once for the whole load.
//!
//! A load builds one index per part of a file on the loader's threads and joins them on the
//! calling thread. When each part numbered its own strings, every distinct value of a part was
//! allocated and hashed there, then hashed again to be renumbered into the joined index: a seventh
//! of a million-event build, on the one thread the loaders wait for. Parts that share one
//! [`Symbols`] number every value once, whichever thread meets it first, and join by copying rows.
//!
//! Each table is split into shards by hash, so two loader threads rarely wait on each other's
//! lock; values live in append-only vectors ([`boxcar`]), so reading a symbol's value never locks.
//! The values every record repeats (its account, region, common calls) would still send one
//! shard's lock back and forth between the threads' caches: each builder remembers the symbols it
//! met last ([`Recent`]) and finds those without a lock.

use crate::model::EntityId;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex};

const SHARD_BITS: u32 = 4;
const SHARDS: usize = 1 << SHARD_BITS;

/// One table of distinct values: a symbol is `local << SHARD_BITS | shard`.
struct Table<K> {
    shards: Vec<Shard<K>>,
}

struct Shard<K> {
    /// The local numbers of the shard's values, by their hash.
    lookup: Mutex<HashTable<u32>>,
    values: boxcar::Vec<K>,
}

fn hash<Q: Hash + ?Sized>(q: &Q) -> u64 {
    rustc_hash::FxBuildHasher.hash_one(q)
}

/// The shard of a hash: bits the table's own use leaves alone (its buckets take the low bits,
/// its control bytes the top seven).
fn shard_of(h: u64) -> usize {
    (h >> 40) as usize & (SHARDS - 1)
}

impl<K> Default for Table<K> {
    fn default() -> Table<K> {
        Table {
            shards: (0..SHARDS)
                .map(|_| Shard {
                    lookup: Mutex::new(HashTable::new()),
                    values: boxcar::Vec::new(),
                })
                .collect(),
        }
    }
}

impl<K: Hash> Table<K> {
    /// The symbol of `q` (whose hash is `h`), numbering it (`own` makes the stored value) when
    /// it is new.
    fn intern<Q>(&self, h: u64, q: &Q, own: impl FnOnce(&Q) -> K) -> u32
    where
        Q: Hash + ?Sized,
        K: std::borrow::Borrow<Q>,
        Q: PartialEq,
    {
        let s = shard_of(h);
        let shard = &self.shards[s];
        // A poisoned lock means another loader panicked mid-insert; the table is still whole
        // (the value is pushed before its number), so go on with it.
        let mut lookup = shard
            .lookup
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let values = &shard.values;
        let same = |i: &u32| values.get(*i as usize).is_some_and(|v| v.borrow() == q);
        if let Some(i) = lookup.find(h, same) {
            return *i << SHARD_BITS | s as u32;
        }
        let i = values.push(own(q)) as u32;
        lookup.insert_unique(h, i, |j| values.get(*j as usize).map_or(0, hash));
        i << SHARD_BITS | s as u32
    }

    /// The symbol of `q` if it is numbered.
    fn lookup<Q>(&self, q: &Q) -> Option<u32>
    where
        Q: Hash + ?Sized + PartialEq,
        K: std::borrow::Borrow<Q>,
    {
        let h = hash(q);
        let s = shard_of(h);
        let shard = self.shards.get(s)?;
        let lookup = shard
            .lookup
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let values = &shard.values;
        lookup
            .find(h, |i| {
                values.get(*i as usize).is_some_and(|v| v.borrow() == q)
            })
            .map(|i| *i << SHARD_BITS | s as u32)
    }

    fn get(&self, sym: u32) -> Option<&K> {
        self.shards
            .get(sym as usize & (SHARDS - 1))?
            .values
            .get((sym >> SHARD_BITS) as usize)
    }
}

/// Slots of [`Recent`]: a part of 512 records meets a few hundred distinct values.
const RECENT: usize = 1024;

/// The symbols a builder met last, by hash (a slot holds `(hash, symbol + 1)`, 0 when empty).
/// A hit is checked against the shared value, so a collision only costs a lookup.
pub(super) struct Recent {
    strings: Box<[(u64, u32)]>,
    entities: Box<[(u64, u32)]>,
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            strings: vec![(0, 0); RECENT].into_boxed_slice(),
            entities: vec![(0, 0); RECENT].into_boxed_slice(),
        }
    }
}

/// The slot of a hash in [`Recent`].
fn slot(h: u64) -> usize {
    h as usize & (RECENT - 1)
}

/// The strings (API names, addresses, user agents, principals, event ids that are not UUIDs)
/// and entities of one or more indexes. String symbol 0 is the empty string (an absent field).
#[derive(Default)]
pub struct Symbols {
    strings: Table<Arc<str>>,
    entities: Table<EntityId>,
}

impl Symbols {
    /// The symbol of `s`: 0 for the empty string, else a table symbol plus one.
    pub(super) fn string(&self, s: &str, recent: &mut Recent) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let h = hash(s);
        let cached = recent.strings.get_mut(slot(h));
        if let Some((ch, sym)) = cached.as_deref()
            && *ch == h
            && *sym != 0
            && self.str(*sym) == s
        {
            return *sym;
        }
        let sym = self.strings.intern(h, s, |s: &str| Arc::from(s)) + 1;
        if let Some(c) = cached {
            *c = (h, sym);
        }
        sym
    }

    /// The symbol of `s` if some index numbered it.
    pub(super) fn find_string(&self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(0);
        }
        self.strings.lookup(s).map(|i| i + 1)
    }

    /// Every string so far, at its symbol: what a finished index reads its rows' strings from.
    /// Reading through the shards and their append-only vectors made a pivot that resolves
    /// thirty thousand rows three to five times slower than reading a plain vector.
    pub(super) fn strings(&self) -> Vec<Arc<str>> {
        let empty: Arc<str> = Arc::from("");
        let mut out: Vec<Arc<str>> = Vec::new();
        for (s, shard) in self.strings.shards.iter().enumerate() {
            for (i, v) in shard.values.iter() {
                let sym = (i << SHARD_BITS | s) + 1;
                if sym >= out.len() {
                    out.resize(sym + 1, empty.clone());
                }
                out[sym] = v.clone();
            }
        }
        if out.is_empty() {
            out.push(empty);
        }
        out
    }

    /// The text of a string symbol ("" for one this table did not give).
    pub(super) fn str(&self, sym: u32) -> &str {
        match sym.checked_sub(1) {
            Some(i) => self.strings.get(i).map_or("", |s| s),
            None => "",
        }
    }

    /// The symbol of `e`.
    pub(super) fn entity(&self, e: &EntityId, recent: &mut Recent) -> u32 {
        let h = hash(e);
        let cached = recent.entities.get_mut(slot(h));
        if let Some((ch, sym)) = cached.as_deref()
            && *ch == h
            && let Some(sym) = sym.checked_sub(1)
            && self.entity_of(sym) == Some(e)
        {
            return sym;
        }
        let sym = self.entities.intern(h, e, EntityId::clone);
        if let Some(c) = cached {
            *c = (h, sym + 1);
        }
        sym
    }

    pub(super) fn find_entity(&self, e: &EntityId) -> Option<u32> {
        self.entities.lookup(e)
    }

    pub(super) fn entity_of(&self, sym: u32) -> Option<&EntityId> {
        self.entities.get(sym)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entity::EntityKind;

    #[test]
    fn a_value_gets_one_symbol_whichever_thread_meets_it_first() {
        let symbols = Symbols::default();
        let words: Vec<String> = (0..2000).map(|i| format!("w{}", i % 700)).collect();
        let got: Vec<Vec<u32>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let (symbols, words) = (&symbols, &words);
                    s.spawn(move || {
                        let mut recent = Recent::default();
                        // Each thread meets the words in its own order.
                        let mut v: Vec<(usize, u32)> = words
                            .iter()
                            .enumerate()
                            .rev()
                            .skip(t * 100)
                            .chain(words.iter().enumerate().rev().take(t * 100))
                            .map(|(i, w)| (i, symbols.string(w, &mut recent)))
                            .collect();
                        v.sort();
                        v.into_iter().map(|(_, s)| s).collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for g in &got[1..] {
            assert_eq!(g, &got[0]);
        }
        let mut distinct = got[0].clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 700);
        for (w, s) in words.iter().zip(&got[0]) {
            assert_eq!(symbols.str(*s), w);
            assert_eq!(symbols.find_string(w), Some(*s));
        }
        assert_eq!(symbols.string("", &mut Recent::default()), 0);
        assert_eq!(symbols.str(0), "");
        assert_eq!(symbols.find_string("never"), None);
        assert_eq!(symbols.str(u32::MAX), "");
    }

    #[test]
    fn entities_are_numbered_by_kind_and_value() {
        let symbols = Symbols::default();
        let (mut mine, mut theirs) = (Recent::default(), Recent::default());
        let ip = EntityId::new(EntityKind::Ip, "203.0.113.9");
        let account = EntityId::new(EntityKind::Account, "203011300009");
        let a = symbols.entity(&ip, &mut mine);
        let b = symbols.entity(&account, &mut theirs);
        assert_ne!(a, b);
        // Found again whether this builder met it or another did.
        assert_eq!(symbols.entity(&ip, &mut mine), a);
        assert_eq!(symbols.entity(&ip, &mut theirs), a);
        assert_eq!(symbols.entity(&account, &mut mine), b);
        assert_eq!(symbols.find_entity(&account), Some(b));
        assert_eq!(symbols.entity_of(a), Some(&ip));
        assert_eq!(
            symbols.find_entity(&EntityId::new(EntityKind::Ua, "203.0.113.9")),
            None
        );
    }
}
