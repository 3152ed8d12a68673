//! An entity's activity in the trail, Detective's questions (when, how much, which APIs, from
//! where, with what, by whom), answered from its postings when its profile is opened. Counting
//! them for every entity of every event as a trail loads cost a fifth of the console's load and
//! a map per busy entity, for a screen that shows one entity at a time.

use super::TrailIndex;
use crate::model::entity::caller_address_text;
use crate::model::{EntityId, Ts};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;

/// What the indexed trail says of one entity: every count over the events that name it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    pub first: Option<Ts>,
    pub last: Option<Ts>,
    /// CloudTrail events naming the entity, and how many of them failed (`errorCode`).
    pub events: u64,
    pub errors: u64,
    /// `service:EventName` with (succeeded, failed), most called first, ties by name.
    pub apis: Vec<(String, u64, u64)>,
    /// Start of UTC hour → events, in time order.
    pub by_hour: Vec<(Ts, u64)>,
    /// Where the calls came from as the graph names an address (`002.045.195.105` is
    /// 2.45.195.105; of a list, the caller's), a service's name as written; sorted.
    pub source_ips: Vec<String>,
    /// User agents with the events that carried them, most used first, ties by name.
    pub user_agents: Vec<(String, u64)>,
    /// The acting principals, sorted.
    pub principals: Vec<String>,
}

/// Rows a share of a busy entity's postings is counted in: the account of ten million events
/// took 0.4 s on the thread that draws, counted on one core.
const SHARE: usize = 1 << 16;

/// The counts of some of an entity's rows, by symbol: turned into text once per distinct value.
#[derive(Default)]
struct Counts {
    first: Option<Ts>,
    last: Option<Ts>,
    events: u64,
    errors: u64,
    /// (source, name) → (succeeded, failed).
    apis: HashMap<(u32, u32), (u64, u64)>,
    /// Start of hour (ms) → events; postings are in time order, so an hour's rows are
    /// consecutive (sorted again at the end, in case they were not).
    hours: Vec<(i64, u64)>,
    ips: HashSet<u32>,
    agents: HashMap<u32, u64>,
    principals: HashSet<u32>,
}

impl Counts {
    fn of(ix: &TrailIndex, rows: &[u32]) -> Counts {
        let mut c = Counts::default();
        for r in rows {
            let Some(row) = ix.rows.get(*r as usize) else {
                continue;
            };
            c.first = Some(c.first.map_or(row.time, |f| f.min(row.time)));
            c.last = Some(c.last.map_or(row.time, |l| l.max(row.time)));
            c.events += 1;
            let failed = row.error != 0;
            c.errors += u64::from(failed);
            let api = c.apis.entry((row.source, row.name)).or_default();
            if failed {
                api.1 += 1;
            } else {
                api.0 += 1;
            }
            // Within the last row's hour, no division.
            match c.hours.last_mut() {
                Some((h, n)) if (*h..*h + Ts::HOUR_MS).contains(&row.time.0) => *n += 1,
                _ => c.hours.push((row.time.hour_floor().0, 1)),
            }
            // Symbol 0 is the absent field.
            if row.source_ip != 0 {
                c.ips.insert(row.source_ip);
            }
            if row.user_agent != 0 {
                *c.agents.entry(row.user_agent).or_default() += 1;
            }
            if row.principal != 0 {
                c.principals.insert(row.principal);
            }
        }
        c
    }

    /// The counts of both shares' rows.
    fn join(mut self, o: Counts) -> Counts {
        self.first = self.first.into_iter().chain(o.first).min();
        self.last = self.last.into_iter().chain(o.last).max();
        self.events += o.events;
        self.errors += o.errors;
        for (k, (ok, failed)) in o.apis {
            let n = self.apis.entry(k).or_default();
            n.0 += ok;
            n.1 += failed;
        }
        self.hours.extend(o.hours);
        self.ips.extend(o.ips);
        for (k, n) in o.agents {
            *self.agents.entry(k).or_default() += n;
        }
        self.principals.extend(o.principals);
        self
    }
}

impl TrailIndex {
    /// The activity of `e` over everything indexed; `None` when no event names it.
    pub fn activity(&self, e: &EntityId) -> Option<Activity> {
        let rows = self.postings_of(e).filter(|r| !r.is_empty())?;
        Some(self.activity_of(rows, SHARE))
    }

    /// The activity of `rows`, counted in shares of `share` rows on the index's threads.
    fn activity_of(&self, rows: &[u32], share: usize) -> Activity {
        use rayon::prelude::*;
        let count = || {
            rows.par_chunks(share.max(1))
                .map(|part| Counts::of(self, part))
                .reduce(Counts::default, Counts::join)
        };
        let c = match super::pool() {
            Some(pool) if rows.len() > share => pool.install(count),
            _ => count(),
        };
        let mut a = Activity {
            first: c.first,
            last: c.last,
            events: c.events,
            errors: c.errors,
            ..Activity::default()
        };
        // Two sources may name one service (`ec2.amazonaws.com`, `ec2`): counted under the
        // name shown.
        let mut by_name: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for ((source, name), (ok, failed)) in c.apis {
            let source = self.str(source);
            let service = source.strip_suffix(".amazonaws.com").unwrap_or(source);
            let n = by_name
                .entry(format!("{service}:{}", self.str(name)))
                .or_default();
            n.0 += ok;
            n.1 += failed;
        }
        a.apis = by_name.into_iter().map(|(k, (o, f))| (k, o, f)).collect();
        a.apis
            .sort_by(|x, y| (y.1 + y.2).cmp(&(x.1 + x.2)).then_with(|| x.0.cmp(&y.0)));
        let mut hours = c.hours;
        hours.sort_by_key(|(h, _)| *h);
        for (h, n) in hours {
            match a.by_hour.last_mut() {
                Some((at, total)) if at.0 == h => *total += n,
                _ => a.by_hour.push((Ts(h), n)),
            }
        }
        let mut ips: Vec<String> = c
            .ips
            .into_iter()
            .map(|s| {
                let written = self.str(s);
                caller_address_text(written).unwrap_or_else(|| written.to_string())
            })
            .collect();
        ips.sort_unstable();
        ips.dedup();
        a.source_ips = ips;
        a.user_agents = c
            .agents
            .into_iter()
            .map(|(s, n)| (self.str(s).to_string(), n))
            .collect();
        a.user_agents
            .sort_unstable_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        a.principals = c
            .principals
            .into_iter()
            .map(|s| self.str(s).to_string())
            .collect();
        a.principals.sort_unstable();
        a
    }
}

impl Activity {
    /// Hourly counts from the first to the last hour seen (gaps as zeros), at most `max` buckets
    /// (the most recent ones).
    pub fn hourly(&self, max: usize) -> Vec<(Ts, u64)> {
        let (Some((f, _)), Some((l, _))) = (self.by_hour.first(), self.by_hour.last()) else {
            return Vec::new();
        };
        let hours = ((l.0 - f.0) / Ts::HOUR_MS + 1) as usize;
        let skip = hours.saturating_sub(max);
        let mut counts = self.by_hour.iter().peekable();
        (0..hours)
            .map(|h| {
                let t = f.0 + h as i64 * Ts::HOUR_MS;
                let n = match counts.peek() {
                    Some((at, n)) if at.0 == t => {
                        counts.next();
                        *n
                    }
                    _ => 0,
                };
                (Ts(t), n)
            })
            .skip(skip)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest;
    use crate::model::{EntityKind, TrailEvent};
    use std::collections::BTreeSet;
    use std::path::Path;

    fn indexed(events: &[TrailEvent]) -> TrailIndex {
        let mut ix = TrailIndex::new();
        for e in events {
            ix.add_ref(e);
        }
        ix.finish();
        ix
    }

    /// What the activity of `id` must be, counted event by event from the events themselves.
    fn counted(events: &[TrailEvent], id: &EntityId) -> Option<Activity> {
        let mine: Vec<&TrailEvent> = events.iter().filter(|e| e.entities.contains(id)).collect();
        if mine.is_empty() {
            return None;
        }
        let mut apis: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut hours: BTreeMap<i64, u64> = BTreeMap::new();
        let mut agents: BTreeMap<String, u64> = BTreeMap::new();
        let (mut ips, mut principals) = (BTreeSet::new(), BTreeSet::new());
        for e in &mine {
            let api = apis
                .entry(format!("{}:{}", e.service_short(), e.name))
                .or_default();
            if e.failed() {
                api.1 += 1;
            } else {
                api.0 += 1;
            }
            *hours.entry(e.time.hour_floor().0).or_default() += 1;
            if let Some(ip) = e.caller_ip.as_ref().map(|i| i.value.to_string()) {
                ips.insert(ip);
            } else if let Some(s) = &e.source_ip {
                ips.insert(s.clone());
            }
            if let Some(ua) = &e.user_agent {
                *agents.entry(ua.clone()).or_default() += 1;
            }
            if let Some(p) = &e.principal {
                principals.insert(p.value.to_string());
            }
        }
        let mut apis: Vec<(String, u64, u64)> =
            apis.into_iter().map(|(k, (o, f))| (k, o, f)).collect();
        apis.sort_by(|x, y| (y.1 + y.2).cmp(&(x.1 + x.2)).then_with(|| x.0.cmp(&y.0)));
        let mut user_agents: Vec<(String, u64)> = agents.into_iter().collect();
        user_agents.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        Some(Activity {
            first: mine.iter().map(|e| e.time).min(),
            last: mine.iter().map(|e| e.time).max(),
            events: mine.len() as u64,
            errors: mine.iter().filter(|e| e.failed()).count() as u64,
            apis,
            by_hour: hours.into_iter().map(|(h, n)| (Ts(h), n)).collect(),
            source_ips: ips.into_iter().collect(),
            user_agents,
            principals: principals.into_iter().collect(),
        })
    }

    /// Every entity's activity, read from its postings, is what counting the events that name
    /// it gives: public CloudTrail (Stratus Red Team detonations, Panther's rule tests, the AWS
    /// documentation's examples), with failures, lists of addresses and services as callers.
    #[test]
    fn an_entitys_activity_is_the_count_of_the_events_that_name_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/public");
        let paths: Vec<std::path::PathBuf> = ["stratus-red-team", "panther-analysis", "aws-docs"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        let l = ingest::load(&paths).unwrap();
        assert!(l.events.len() > 500, "{} events", l.events.len());
        let ix = indexed(&l.events);
        let all: BTreeSet<&EntityId> = l.events.iter().flat_map(|e| &e.entities).collect();
        assert!(all.len() > 300, "{} entities", all.len());
        let (mut failed, mut several_apis) = (0, 0);
        for id in all {
            let a = ix.activity(id);
            assert_eq!(a, counted(&l.events, id), "{id}");
            let a = a.unwrap();
            failed += usize::from(a.errors > 0);
            several_apis += usize::from(a.apis.len() > 1);
        }
        assert!(failed > 10 && several_apis > 50, "{failed} {several_apis}");
        // Counted in shares of a few rows (as a busy entity's are, on all cores), the same.
        let busiest = l
            .events
            .iter()
            .flat_map(|e| &e.entities)
            .max_by_key(|id| ix.count(id))
            .unwrap();
        let rows = ix.postings_of(busiest).unwrap();
        assert!(rows.len() > 100, "{busiest}: {}", rows.len());
        for share in [1, 3, 64] {
            let a = ix.activity_of(rows, share);
            assert_eq!(
                Some(a),
                counted(&l.events, busiest),
                "{busiest} in shares of {share}"
            );
        }
        let nobody = EntityId::new(EntityKind::Ip, "192.0.2.255");
        assert_eq!(ix.activity(&nobody), None);
    }

    /// A profile's source addresses are the addresses, however the records wrote them: one
    /// address written with and without leading zeros is one; of a list, the caller's; a
    /// service's name as written.
    #[test]
    fn each_source_address_counts_once() {
        let record = |ip: &str| {
            format!(
                r#"{{"eventTime":"2024-01-01T00:00:00Z","eventName":"GetCallerIdentity","eventSource":"sts.amazonaws.com","sourceIPAddress":"{ip}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}}}}"#
            )
        };
        let records: Vec<String> = [
            "002.045.195.105",
            "2.45.195.105",
            "192.168.10.10, 81.2.69.142",
            "ec2.amazonaws.com",
        ]
        .iter()
        .map(|ip| record(ip))
        .collect();
        let body = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        let l = ingest::load_bytes(Path::new("t.json"), body.into_bytes());
        assert_eq!(l.events.len(), 4);
        let alice = EntityId::new(EntityKind::User, "arn:aws:iam::111122223333:user/alice");
        let a = indexed(&l.events).activity(&alice).unwrap();
        assert_eq!(
            a.source_ips,
            ["2.45.195.105", "81.2.69.142", "ec2.amazonaws.com"]
        );
        assert_eq!((a.events, a.errors), (4, 0));
        assert_eq!(a.apis, [("sts:GetCallerIdentity".to_string(), 4, 0)]);
    }

    /// The hours from the first to the last, gaps as zeros, the most recent `max` of them.
    #[test]
    fn hourly_counts_fill_the_gaps_and_keep_the_latest() {
        let h = |n: i64| Ts(n * 3_600_000);
        let a = Activity {
            by_hour: vec![(h(10), 2), (h(12), 5), (h(13), 1)],
            ..Activity::default()
        };
        assert_eq!(
            a.hourly(10),
            [(h(10), 2), (h(11), 0), (h(12), 5), (h(13), 1)]
        );
        assert_eq!(a.hourly(2), [(h(12), 5), (h(13), 1)]);
        assert_eq!(Activity::default().hourly(5), []);
    }
}
