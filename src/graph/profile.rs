//! Per-entity profiles: Detective's questions (when, how much, what, from where, by whom).

use crate::model::Ts;
// Fx: a profile's maps are updated for every entity of every event of a load.
use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::hash::Hash;

/// Interned strings (API names, addresses, user agents, principals) so a million events do not
/// hold a million copies of `DescribeInstances`. Each string is stored once: its symbol is its
/// position in the set. Fx hashing: the keys are log text hashed tens of millions of times per
/// load, and a hash-flooded interner costs time, not correctness.
#[derive(Default, Debug)]
pub struct Interner {
    set: indexmap::IndexSet<Box<str>, rustc_hash::FxBuildHasher>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(i) = self.set.get_index_of(s) {
            return i as u32;
        }
        self.set.insert_full(s.into()).0 as u32
    }

    pub fn get(&self, i: u32) -> &str {
        self.set.get_index(i as usize).map_or("", |s| s)
    }

    /// Every string, by symbol.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.set.iter().map(|s| &**s)
    }

    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.set.get_index_of(s).map(|i| i as u32)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

#[derive(Debug, Default, Clone)]
pub struct Profile {
    pub first_seen: Option<Ts>,
    pub last_seen: Option<Ts>,
    /// CloudTrail events naming this entity.
    pub events: u64,
    pub errors: u64,
    /// `service:EventName` symbol → (succeeded, failed).
    pub by_api: Tally<u32, (u64, u64)>,
    /// Start of UTC hour (ms) → events.
    pub by_hour: Tally<i64, u64>,
    pub source_ips: Tally<u32, ()>,
    /// User agent → events that carried it.
    pub user_agents: Tally<u32, u64>,
    pub principals: Tally<u32, ()>,
    /// Findings that involve this entity.
    pub findings: u64,
    /// Flow-log records and DNS queries attributed to this entity.
    pub flows: u64,
    pub queries: u64,
}

impl Profile {
    pub fn seen(&mut self, t: Ts) {
        self.first_seen = Some(self.first_seen.map_or(t, |f| f.min(t)));
        self.last_seen = Some(self.last_seen.map_or(t, |l| l.max(t)));
    }

    /// Anything counted: the profile of an entity only a finding's node names is not.
    pub(super) fn counted(&self) -> bool {
        self.events + self.findings + self.flows + self.queries > 0
    }

    /// Adds what `o` counted of the same entity in another graph, whose string `s` is `syms[s]`
    /// here.
    pub(super) fn absorb(&mut self, o: &Profile, syms: &[u32]) {
        for t in [o.first_seen, o.last_seen].into_iter().flatten() {
            self.seen(t);
        }
        self.events += o.events;
        self.errors += o.errors;
        self.findings += o.findings;
        self.flows += o.flows;
        self.queries += o.queries;
        // A symbol is always below the other interner's length; one that were not would keep
        // its number rather than panic.
        let sym = |s: u32| syms.get(s as usize).copied().unwrap_or(s);
        self.by_api.add_from(&o.by_api, sym, |a, b| {
            a.0 += b.0;
            a.1 += b.1;
        });
        self.by_hour.add_from(&o.by_hour, |h| h, |a, b| *a += b);
        self.source_ips.add_from(&o.source_ips, sym, |_, _| {});
        self.user_agents
            .add_from(&o.user_agents, sym, |a, b| *a += b);
        self.principals.add_from(&o.principals, sym, |_, _| {});
    }

    /// Top APIs by total calls, ties by name, as (name, ok, failed).
    pub fn top_apis<'a>(
        &self,
        strings: &'a super::profile::Interner,
        n: usize,
    ) -> Vec<(&'a str, u64, u64)> {
        let mut v: Vec<(&str, u64, u64)> = self
            .by_api
            .iter()
            .map(|(k, (ok, f))| (strings.get(*k), *ok, *f))
            .collect();
        v.sort_by(|a, b| (b.1 + b.2).cmp(&(a.1 + a.2)).then(a.0.cmp(b.0)));
        v.truncate(n);
        v
    }

    /// Hourly counts from the first to the last hour seen (gaps as zeros), at most `max` buckets
    /// (the most recent ones).
    pub fn hourly(&self, max: usize) -> Vec<(Ts, u64)> {
        let hours = || self.by_hour.iter().map(|(h, _)| *h);
        let (Some(f), Some(l)) = (hours().min(), hours().max()) else {
            return Vec::new();
        };
        let hours = ((l - f) / 3_600_000 + 1) as usize;
        let skip = hours.saturating_sub(max);
        (skip..hours)
            .map(|h| {
                let t = f + h as i64 * 3_600_000;
                (Ts(t), self.by_hour.get(&t).copied().unwrap_or(0))
            })
            .collect()
    }

    /// User agents with their event counts, most used first, ties by name.
    pub fn user_agents_by_use<'a>(&self, strings: &'a Interner) -> Vec<(&'a str, u64)> {
        let mut v: Vec<(&str, u64)> = self
            .user_agents
            .iter()
            .map(|(k, n)| (strings.get(*k), *n))
            .collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v
    }

    pub fn sorted_names<'a>(set: &Tally<u32, ()>, strings: &'a Interner) -> Vec<&'a str> {
        let mut v: Vec<&str> = set.iter().map(|(i, ())| strings.get(*i)).collect();
        v.sort_unstable();
        v
    }
}

/// Counts (or, with `()`, a set) by key. Most entities of a trail are seen in a handful of calls
/// (a role session, an address) and many with one key: that key is held inline, a few more in a
/// short list, and only an entity with many keys (the account, a busy role) gets a map. A
/// million role sessions each made five maps, the most of the graph's memory and of its time in
/// `malloc`; and a profile holds five tallies, so the inline case is kept as small as its key
/// and value (a set of symbols: 16 bytes), with the rest behind one pointer.
#[derive(Debug, Clone, Default)]
pub enum Tally<K, V> {
    #[default]
    Empty,
    One(K, V),
    Spilled(Box<Spill<K, V>>),
}

/// A [`Tally`] of more than one key.
#[derive(Debug, Clone)]
pub enum Spill<K, V> {
    Few(SmallVec<[(K, V); 4]>),
    Many(HashMap<K, V>),
}

/// Keys of a [`Tally`] searched one by one before it becomes a map.
const FEW: usize = 8;

impl<K: Copy + Eq + Hash, V: Default> Tally<K, V> {
    /// The value of `k`, made (default) when it is new.
    pub fn slot(&mut self, k: K) -> &mut V {
        if let Tally::One(x, _) = self
            && *x != k
            && let Tally::One(x, v) = std::mem::take(self)
        {
            let mut few = SmallVec::new();
            few.push((x, v));
            *self = Tally::Spilled(Box::new(Spill::Few(few)));
        }
        match self {
            Tally::Empty => {
                *self = Tally::One(k, V::default());
                self.slot(k)
            }
            Tally::One(_, v) => v,
            Tally::Spilled(s) => s.slot(k),
        }
    }

    /// Adds every key of `o` (renamed by `key`) with `add`.
    pub fn add_from(&mut self, o: &Tally<K, V>, key: impl Fn(K) -> K, add: impl Fn(&mut V, &V)) {
        for (k, v) in o.iter() {
            add(self.slot(key(*k)), v);
        }
    }
}

impl<K: Copy + Eq + Hash, V: Default> Spill<K, V> {
    fn slot(&mut self, k: K) -> &mut V {
        // Where `k` is in the list, searched once (this runs for every entity of every event).
        let found = match self {
            Spill::Few(few) => few.iter().position(|(x, _)| *x == k),
            Spill::Many(_) => None,
        };
        if let Spill::Few(few) = self
            && found.is_none()
            && few.len() >= FEW
        {
            let many = few.drain(..).collect();
            *self = Spill::Many(many);
        }
        match self {
            Spill::Few(few) => {
                let i = found.unwrap_or_else(|| {
                    few.push((k, V::default()));
                    few.len() - 1
                });
                &mut few[i].1
            }
            Spill::Many(many) => many.entry(k).or_default(),
        }
    }
}

impl<K: Eq + Hash, V> Tally<K, V> {
    pub fn get(&self, k: &K) -> Option<&V> {
        match self {
            Tally::Empty => None,
            Tally::One(x, v) => (x == k).then_some(v),
            Tally::Spilled(s) => match &**s {
                Spill::Few(few) => few.iter().find(|(x, _)| x == k).map(|(_, v)| v),
                // A busy entity's hours are read one by one for its sparkline: looked up, not
                // searched.
                Spill::Many(many) => many.get(k),
            },
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Tally::Empty => 0,
            Tally::One(..) => 1,
            Tally::Spilled(s) => match &**s {
                Spill::Few(few) => few.len(),
                Spill::Many(many) => many.len(),
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key with its value, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        let (one, few, many) = match self {
            Tally::Empty => (None, None, None),
            Tally::One(k, v) => (Some((k, v)), None, None),
            Tally::Spilled(s) => match &**s {
                Spill::Few(few) => (None, Some(few.iter().map(|(k, v)| (k, v))), None),
                Spill::Many(many) => (None, None, Some(many.iter())),
            },
        };
        one.into_iter()
            .chain(few.into_iter().flatten())
            .chain(many.into_iter().flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tally counts the same whether it still searches its keys one by one or has become a
    /// map, and sets hold each key once.
    #[test]
    fn a_tally_counts_the_same_before_and_after_it_becomes_a_map() {
        let mut t: Tally<u32, u64> = Tally::default();
        let mut set: Tally<u32, ()> = Tally::default();
        // Keys 0..20, key k seen k + 1 times, interleaved.
        for round in 0..20u32 {
            for k in round..20 {
                *t.slot(k) += 1;
                set.slot(k % 5);
            }
        }
        assert!(matches!(&t, Tally::Spilled(s) if matches!(**s, Spill::Many(_))));
        assert!(matches!(&set, Tally::Spilled(s) if matches!(**s, Spill::Few(_))));
        assert_eq!(t.len(), 20);
        for k in 0..20u32 {
            assert_eq!(t.get(&k), Some(&u64::from(k + 1)), "key {k}");
        }
        assert_eq!(t.get(&20), None);
        let mut keys: Vec<u32> = set.iter().map(|(k, ())| *k).collect();
        keys.sort_unstable();
        assert_eq!(keys, [0, 1, 2, 3, 4]);
        let total: u64 = t.iter().map(|(_, n)| n).sum();
        assert_eq!(total, (1..=20).sum::<u64>());
    }

    /// One key, however often counted, is held inline; the second moves both to the list.
    #[test]
    fn a_tally_of_one_key_holds_it_inline() {
        let mut t: Tally<u32, u64> = Tally::default();
        assert!(t.is_empty());
        for _ in 0..3 {
            *t.slot(7) += 1;
        }
        assert!(matches!(t, Tally::One(7, 3)));
        assert_eq!((t.len(), t.get(&7), t.get(&8)), (1, Some(&3), None));
        *t.slot(8) += 1;
        assert!(matches!(&t, Tally::Spilled(s) if matches!(**s, Spill::Few(_))));
        let mut all: Vec<(u32, u64)> = t.iter().map(|(k, v)| (*k, *v)).collect();
        all.sort_unstable();
        assert_eq!(all, [(7, 3), (8, 1)]);
        // What a profile's five tallies cost an entity seen with one key each (64-bit).
        assert!(std::mem::size_of::<Tally<u32, ()>>() <= 16);
        assert!(std::mem::size_of::<Tally<u32, (u64, u64)>>() <= 24);
    }
}
