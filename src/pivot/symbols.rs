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
//! shard's lock back and forth between the threads' caches: each thread remembers the symbols it
//! met last ([`Recent`]) and finds those without a lock.

use crate::model::EntityId;
use hashbrown::HashTable;
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex};

const SHARD_BITS: u32 = 4;
pub(super) const SHARDS: usize = 1 << SHARD_BITS;

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

impl<K: Hash> Shard<K> {
    /// The shard's table of numbers. A poisoned lock means another loader panicked mid-insert;
    /// the table is still whole (a value is pushed before its number), so go on with it.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashTable<u32>> {
        self.lookup
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The local number of `q` (whose hash is `h`), numbering it (`own` makes the stored value)
    /// when it is new; `lookup` is this shard's, locked.
    fn find_or_push<Q>(
        &self,
        lookup: &mut HashTable<u32>,
        h: u64,
        q: &Q,
        own: impl FnOnce(&Q) -> K,
    ) -> u32
    where
        Q: Hash + ?Sized + PartialEq,
        K: std::borrow::Borrow<Q>,
    {
        let values = &self.values;
        let same = |i: &u32| values.get(*i as usize).is_some_and(|v| v.borrow() == q);
        if let Some(i) = lookup.find(h, same) {
            return *i;
        }
        let i = values.push(own(q)) as u32;
        lookup.insert_unique(h, i, |j| values.get(*j as usize).map_or(0, hash));
        i
    }
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
    /// The symbols of the values `asks` name (each `(hash, value, where its symbol goes in
    /// out)`), numbering those that are new (`own` makes a stored value). Each shard is locked
    /// once, and its values found one after another with no lock between them: a load's new
    /// values are mostly new to the caches too, and the processor can wait for several at a
    /// time only when no lock stands between the lookups.
    fn intern_many<Q>(&self, asks: &mut [(u64, &Q, u32)], out: &mut [u32], own: impl Fn(&Q) -> K)
    where
        Q: Hash + ?Sized + PartialEq,
        K: std::borrow::Borrow<Q>,
    {
        asks.sort_unstable_by_key(|a| shard_of(a.0));
        for run in asks.chunk_by(|a, b| shard_of(a.0) == shard_of(b.0)) {
            let Some(first) = run.first() else {
                continue;
            };
            let s = shard_of(first.0);
            let shard = &self.shards[s];
            let mut lookup = shard.lock();
            for &(h, q, at) in run {
                let i = shard.find_or_push(&mut lookup, h, q, &own);
                if let Some(o) = out.get_mut(at as usize) {
                    *o = i << SHARD_BITS | s as u32;
                }
            }
        }
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
        let lookup = shard.lock();
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

/// The symbols a thread met last, by hash (a slot holds `(hash, symbol + 1)`, 0 when empty).
/// A hit is checked against the table's value, so a collision, or a symbol another load's table
/// gave, only costs a lookup. One per thread rather than per builder: a load makes a builder per
/// part of 512 records, and each started cold (and allocated its slots again).
struct Recent {
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

thread_local! {
    static THREAD_RECENT: std::cell::RefCell<Recent> = std::cell::RefCell::new(Recent::default());
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
    pub(super) fn string(&self, s: &str) -> u32 {
        let mut out = Vec::with_capacity(1);
        self.strings_of(&[s], &mut out);
        out.first().copied().unwrap_or(0)
    }

    /// The symbols of `values`, as [`Self::string`] gives them, into `out` (cleared first):
    /// those this thread met lately found without a lock, the rest with one lock per shard.
    pub(super) fn strings_of(&self, values: &[&str], out: &mut Vec<u32>) {
        out.clear();
        out.resize(values.len(), 0);
        let mut asks: Vec<(u64, &str, u32)> = Vec::new();
        THREAD_RECENT.with_borrow_mut(|recent| {
            for (at, v) in values.iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                let h = hash(*v);
                match recent.strings.get(slot(h)) {
                    Some((ch, sym)) if *ch == h && *sym != 0 && self.str(*sym) == *v => {
                        out[at] = *sym;
                    }
                    _ => asks.push((h, v, at as u32)),
                }
            }
            self.strings
                .intern_many(&mut asks, out, |s: &str| Arc::from(s));
            for (h, _, at) in &asks {
                out[*at as usize] += 1;
                if let Some(c) = recent.strings.get_mut(slot(*h)) {
                    *c = (*h, out[*at as usize]);
                }
            }
        });
    }

    /// The symbol of `s` if some index numbered it.
    pub(super) fn find_string(&self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(0);
        }
        self.strings.lookup(s).map(|i| i + 1)
    }

    /// Adds every string numbered since the last call to `out`, at its symbol: what a finished
    /// index reads its rows' strings from. Reading through the shards and their append-only
    /// vectors made a pivot that resolves thirty thousand rows three to five times slower than
    /// reading a plain vector. `seen` is how far each shard was copied (a console load finishes
    /// its index twenty times: each copies only what is new).
    pub(super) fn strings_into(&self, out: &mut Vec<Arc<str>>, seen: &mut [usize; SHARDS]) {
        if out.is_empty() {
            out.push(Arc::from(""));
        }
        for (s, shard) in self.strings.shards.iter().enumerate() {
            // A slot another thread is still writing reads as absent: copied next time (and
            // read through the shard meanwhile).
            while let Some(v) = shard.values.get(seen[s]) {
                let sym = (seen[s] << SHARD_BITS | s) + 1;
                if sym >= out.len() {
                    out.resize(sym + 1, out[0].clone());
                }
                out[sym] = v.clone();
                seen[s] += 1;
            }
        }
    }

    /// The text of a string symbol ("" for one this table did not give).
    pub(super) fn str(&self, sym: u32) -> &str {
        match sym.checked_sub(1) {
            Some(i) => self.strings.get(i).map_or("", |s| s),
            None => "",
        }
    }

    /// The symbol of `e`.
    pub(super) fn entity(&self, e: &EntityId) -> u32 {
        let mut out = Vec::with_capacity(1);
        self.entities_of(&[e], &mut out);
        out.first().copied().unwrap_or(0)
    }

    /// The symbols of `values`, as [`Self::entity`] gives them, into `out` (cleared first).
    pub(super) fn entities_of(&self, values: &[&EntityId], out: &mut Vec<u32>) {
        out.clear();
        out.resize(values.len(), 0);
        let mut asks: Vec<(u64, &EntityId, u32)> = Vec::new();
        THREAD_RECENT.with_borrow_mut(|recent| {
            for (at, e) in values.iter().enumerate() {
                let h = hash(*e);
                let hit = recent
                    .entities
                    .get(slot(h))
                    .filter(|(ch, _)| *ch == h)
                    .and_then(|(_, sym)| sym.checked_sub(1))
                    .filter(|sym| self.entity_of(*sym) == Some(*e));
                match hit {
                    Some(sym) => out[at] = sym,
                    None => asks.push((h, e, at as u32)),
                }
            }
            self.entities
                .intern_many(&mut asks, out, |e: &EntityId| e.clone());
            for (h, _, at) in &asks {
                if let Some(c) = recent.entities.get_mut(slot(*h)) {
                    *c = (*h, out[*at as usize] + 1);
                }
            }
        });
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
                        // Each thread meets the words in its own order.
                        let mut v: Vec<(usize, u32)> = words
                            .iter()
                            .enumerate()
                            .rev()
                            .skip(t * 100)
                            .chain(words.iter().enumerate().rev().take(t * 100))
                            .map(|(i, w)| (i, symbols.string(w)))
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
        assert_eq!(symbols.string(""), 0);
        assert_eq!(symbols.str(0), "");
        assert_eq!(symbols.find_string("never"), None);
        assert_eq!(symbols.str(u32::MAX), "");
    }

    #[test]
    fn values_numbered_together_get_the_symbols_they_get_one_by_one() {
        let (one, many) = (Symbols::default(), Symbols::default());
        let words: Vec<String> = (0..3000).map(|i| format!("w{}", i % 900)).collect();
        let mut values: Vec<&str> = words.iter().map(String::as_str).collect();
        values.insert(17, "");
        let entities: Vec<EntityId> = words
            .iter()
            .map(|w| EntityId::new(EntityKind::Ua, w.as_str()))
            .collect();
        let refs: Vec<&EntityId> = entities.iter().collect();
        // In batches, as parts are built: a value new in one batch recurs in the next, and
        // within a batch.
        let (mut got, mut got_e) = (Vec::new(), Vec::new());
        let (mut out, mut out_e) = (Vec::new(), Vec::new());
        for (chunk, chunk_e) in values.chunks(700).zip(refs.chunks(700)) {
            many.strings_of(chunk, &mut out);
            got.extend_from_slice(&out);
            many.entities_of(chunk_e, &mut out_e);
            got_e.extend_from_slice(&out_e);
        }
        let want: Vec<u32> = values.iter().map(|v| one.string(v)).collect();
        let want_e: Vec<u32> = entities.iter().map(|e| one.entity(e)).collect();
        for (v, (g, w)) in values.iter().zip(got.iter().zip(&want)) {
            assert_eq!(many.str(*g), *v);
            assert_eq!(one.str(*w), *v);
        }
        assert_eq!(got[17], 0);
        for (e, g) in entities.iter().zip(&got_e) {
            assert_eq!(many.entity_of(*g), Some(e));
            assert_eq!(many.find_entity(e), Some(*g));
        }
        // The same value, the same symbol; different values, different symbols.
        let distinct = |v: &[u32]| v.iter().collect::<std::collections::BTreeSet<_>>().len();
        assert_eq!(distinct(&got), distinct(&want));
        assert_eq!(distinct(&got_e), 900);
        assert_eq!(distinct(&want_e), 900);
    }

    #[test]
    fn entities_are_numbered_by_kind_and_value() {
        let symbols = Symbols::default();
        let other = Symbols::default();
        let ip = EntityId::new(EntityKind::Ip, "203.0.113.9");
        let account = EntityId::new(EntityKind::Account, "203011300009");
        let elsewhere =
            |f: &(dyn Fn() -> u32 + Sync)| std::thread::scope(|t| t.spawn(f).join().unwrap());
        let a = symbols.entity(&ip);
        let b = elsewhere(&|| symbols.entity(&account));
        assert_ne!(a, b);
        // Found again whether this thread met it or another did.
        assert_eq!(symbols.entity(&ip), a);
        assert_eq!(elsewhere(&|| symbols.entity(&ip)), a);
        assert_eq!(symbols.entity(&account), b);
        assert_eq!(symbols.find_entity(&account), Some(b));
        // A thread's memory of another table's symbols is not taken for this one's.
        let c = other.entity(&account);
        assert_eq!(other.entity_of(c), Some(&account));
        let d = other.entity(&ip);
        assert_ne!(c, d);
        assert_eq!(other.entity_of(d), Some(&ip));
        assert_eq!(symbols.entity_of(a), Some(&ip));
        assert_eq!(
            symbols.find_entity(&EntityId::new(EntityKind::Ua, "203.0.113.9")),
            None
        );
    }
}
