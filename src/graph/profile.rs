//! Per-entity profiles: Detective's questions (when, how much, what, from where, by whom).

use crate::model::Ts;
// Fx: a profile's maps are updated for every entity of every event of a load.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

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
    pub by_api: HashMap<u32, (u64, u64)>,
    /// Start of UTC hour (ms) → events.
    pub by_hour: HashMap<i64, u64>,
    pub source_ips: HashSet<u32>,
    /// User agent → events that carried it.
    pub user_agents: HashMap<u32, u64>,
    pub principals: HashSet<u32>,
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
        let (Some(f), Some(l)) = (self.by_hour.keys().min(), self.by_hour.keys().max()) else {
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

    pub fn sorted_names<'a>(set: &HashSet<u32>, strings: &'a Interner) -> Vec<&'a str> {
        let mut v: Vec<&str> = set.iter().map(|i| strings.get(*i)).collect();
        v.sort_unstable();
        v
    }
}
