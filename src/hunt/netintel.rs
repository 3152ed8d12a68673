//! Threat lists over network logs: flow-log records with an address on a threat list (either
//! side: a beacon out or a connection in) and DNS queries for a listed domain, or answered with a
//! listed address, become detections (`intel:<list>`), one per list and indicator. A record
//! with an address (or a query for a domain) on a trusted list is suppressed and counted.

use super::intel::{Intel, ListKind};
use crate::model::{Detection, DnsQuery, EntityId, EntityKind, FlowRecord, Ts};
use std::collections::{BTreeMap, BTreeSet};

/// Where an indicator was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Channel {
    Flows,
    Dns,
}

#[derive(Default)]
struct Agg {
    /// The names queried (DNS), counted.
    names: BTreeSet<String>,
    records: u64,
    bytes: u64,
    first: Option<Ts>,
    last: Option<Ts>,
    entities: BTreeSet<EntityId>,
}

impl Agg {
    fn add(&mut self, at: Option<Ts>, bytes: u64, entities: impl IntoIterator<Item = EntityId>) {
        self.records += 1;
        self.bytes += bytes;
        if let Some(t) = at {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        self.entities.extend(entities);
    }
}

/// The network logs of a load, checked against the lists as they arrive (part by part).
pub struct NetIntel {
    intel: Intel,
    found: BTreeMap<(usize, String, Channel), Agg>,
    /// Records not checked because an address or domain in them is on a trusted list, by list.
    pub suppressed: BTreeMap<String, u64>,
}

impl NetIntel {
    pub fn new(intel: Intel) -> NetIntel {
        NetIntel {
            intel,
            found: BTreeMap::new(),
            suppressed: BTreeMap::new(),
        }
    }

    /// The threat list holding the address, by number.
    fn threat_ip(&self, addr: &str) -> Option<usize> {
        let l = self.intel.ip_on(addr, ListKind::Threat)?;
        self.intel.lists.iter().position(|x| std::ptr::eq(x, l))
    }

    /// The threat list holding the domain, by number, and its entry (the domain itself or the
    /// one it is under: a tunnel's thousand names are one detection of its zone).
    fn threat_domain(&self, domain: &str) -> Option<(usize, String)> {
        let l = self.intel.domain_on(domain, ListKind::Threat)?;
        let entry = l.domain_entry(domain)?.to_string();
        Some((
            self.intel.lists.iter().position(|x| std::ptr::eq(x, l))?,
            entry,
        ))
    }

    fn trusted_ip(&self, addr: &str) -> Option<String> {
        self.intel
            .ip_on(addr, ListKind::Trusted)
            .map(|l| l.name.clone())
    }

    fn suppress(&mut self, list: String) {
        *self.suppressed.entry(list).or_default() += 1;
    }

    pub fn add_flows(&mut self, flows: &[FlowRecord]) {
        if !self.has_threats() {
            return;
        }
        for f in flows {
            let addrs: Vec<&str> = [f.srcaddr.as_deref(), f.dstaddr.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let marks: Vec<(&str, usize)> = addrs
                .iter()
                .filter_map(|a| Some((*a, self.threat_ip(a)?)))
                .collect();
            if marks.is_empty() {
                continue;
            }
            if let Some(t) = addrs.iter().find_map(|a| self.trusted_ip(a)) {
                self.suppress(t);
                continue;
            }
            let mut entities: Vec<EntityId> =
                addrs.iter().filter_map(|a| EntityId::ip(a)).collect();
            entities.extend(
                f.instance_id
                    .iter()
                    .map(|i| EntityId::new(EntityKind::Instance, i.clone())),
            );
            entities.extend(
                f.account_id
                    .iter()
                    .map(|a| EntityId::new(EntityKind::Account, a.clone())),
            );
            for (addr, list) in marks {
                self.found
                    .entry((list, addr.to_string(), Channel::Flows))
                    .or_default()
                    .add(f.start.or(f.end), f.bytes, entities.iter().cloned());
            }
        }
    }

    pub fn add_dns(&mut self, queries: &[DnsQuery]) {
        if !self.has_threats() {
            return;
        }
        for q in queries {
            let name = q.query_name.trim_end_matches('.').to_ascii_lowercase();
            let mut marks: Vec<(String, usize)> = Vec::new();
            if let Some((l, entry)) = self.threat_domain(&name) {
                marks.push((entry, l));
            }
            for a in &q.answers {
                if let Some(l) = self.threat_ip(a) {
                    marks.push((a.clone(), l));
                }
            }
            if marks.is_empty() {
                continue;
            }
            let trusted = self
                .intel
                .domain_on(&name, ListKind::Trusted)
                .map(|l| l.name.clone())
                .or_else(|| q.srcaddr.as_deref().and_then(|a| self.trusted_ip(a)))
                .or_else(|| q.answers.iter().find_map(|a| self.trusted_ip(a)));
            if let Some(t) = trusted {
                self.suppress(t);
                continue;
            }
            // The listed zone, not each name under it (a tunnel's names are thousands).
            let mut entities: Vec<EntityId> = marks
                .iter()
                .filter_map(|(indicator, _)| EntityId::domain(indicator))
                .collect();
            entities.extend(q.srcaddr.as_deref().and_then(EntityId::ip));
            entities.extend(q.answers.iter().filter_map(|a| EntityId::ip(a)));
            entities.extend(
                q.instance_id
                    .iter()
                    .map(|i| EntityId::new(EntityKind::Instance, i.clone())),
            );
            entities.extend(
                q.account_id
                    .iter()
                    .map(|a| EntityId::new(EntityKind::Account, a.clone())),
            );
            for (indicator, list) in marks {
                let agg = self
                    .found
                    .entry((list, indicator, Channel::Dns))
                    .or_default();
                agg.add(q.time, 0, entities.iter().cloned());
                agg.names.insert(name.clone());
            }
        }
    }

    fn has_threats(&self) -> bool {
        self.intel.lists.iter().any(|l| l.kind == ListKind::Threat)
    }

    /// One detection per list, indicator and log kind, in time order.
    pub fn detections(self) -> Vec<Detection> {
        let mut out: Vec<Detection> = self
            .found
            .into_iter()
            .filter_map(|((list, indicator, channel), agg)| {
                let l = self.intel.lists.get(list)?;
                let (title, group) = match channel {
                    Channel::Flows => (
                        format!("Network traffic with an address on {}", l.name),
                        vec![
                            format!("ip={indicator}"),
                            format!("list={}", l.name),
                            format!("bytes={}", agg.bytes),
                            "source=flow-logs".to_string(),
                        ],
                    ),
                    Channel::Dns => (
                        format!("DNS queries for an indicator on {}", l.name),
                        vec![
                            format!(
                                "{}={indicator}",
                                if indicator.parse::<std::net::IpAddr>().is_ok() {
                                    "answer"
                                } else {
                                    "domain"
                                }
                            ),
                            format!("list={}", l.name),
                            format!("names={}", agg.names.len()),
                            "source=dns".to_string(),
                        ],
                    ),
                };
                Some(Detection {
                    rule: format!("intel:{}", l.name),
                    title,
                    level: "high".into(),
                    attack: Vec::new(),
                    events: Vec::new(),
                    entities: agg.entities.into_iter().collect(),
                    first: agg.first.unwrap_or(Ts(0)),
                    last: agg.last.unwrap_or(Ts(0)),
                    group,
                    records: agg.records,
                    // Flow logs name a region only in version 5; the instance is the place.
                    regions: Vec::new(),
                })
            })
            .collect();
        out.sort_by(|a, b| (a.first, &a.group).cmp(&(b.first, &b.group)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::IntelList;

    fn intel(lists: &[(&str, ListKind, &str)]) -> Intel {
        Intel {
            lists: lists
                .iter()
                .map(|(name, kind, text)| {
                    IntelList::parse(name, name.to_string(), text, false, *kind, None)
                        .unwrap()
                        .0
                })
                .collect(),
        }
    }

    fn flow(src: &str, dst: &str, start: i64, bytes: u64) -> FlowRecord {
        FlowRecord {
            srcaddr: Some(src.into()),
            dstaddr: Some(dst.into()),
            instance_id: Some("i-0abc".into()),
            start: Some(Ts(start)),
            bytes,
            ..FlowRecord::default()
        }
    }

    #[test]
    fn flows_either_way_to_a_listed_address_are_one_detection_and_trusted_ones_are_counted() {
        let intel = intel(&[
            ("feed", ListKind::Threat, "203.0.113.0/24\n"),
            ("scanners", ListKind::Trusted, "10.0.9.9\n"),
        ]);
        let mut n = NetIntel::new(intel);
        n.add_flows(&[
            flow("10.0.1.5", "203.0.113.7", 2_000, 100),
            flow("203.0.113.7", "10.0.1.5", 1_000, 50),
            flow("10.0.1.5", "198.51.100.1", 3_000, 10),
            flow("10.0.9.9", "203.0.113.7", 4_000, 10),
        ]);
        assert_eq!(n.suppressed.get("scanners"), Some(&1));
        let d = n.detections();
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].rule, "intel:feed");
        assert_eq!(d[0].records, 2);
        assert_eq!((d[0].first, d[0].last), (Ts(1_000), Ts(2_000)));
        assert!(d[0].group.contains(&"ip=203.0.113.7".to_string()));
        assert!(d[0].group.contains(&"bytes=150".to_string()));
        assert!(
            d[0].entities
                .contains(&EntityId::new(EntityKind::Instance, "i-0abc".to_string()))
        );
        assert_eq!(d[0].to_finding().count, 2);
    }

    #[test]
    fn dns_queries_under_a_listed_domain_or_answered_with_a_listed_address() {
        let intel = intel(&[("feed", ListKind::Threat, "evil.example\n192.0.2.66\n")]);
        let q = |name: &str, answers: &[&str]| DnsQuery {
            query_name: name.into(),
            answers: answers.iter().map(|a| a.to_string()).collect(),
            srcaddr: Some("10.0.1.5".into()),
            time: Some(Ts(5)),
            ..DnsQuery::default()
        };
        let mut n = NetIntel::new(intel);
        n.add_dns(&[
            q("X1.C2.Evil.Example.", &[]),
            q("cdn.good.example.", &["192.0.2.66"]),
            q("notevil.example.", &["192.0.2.1"]),
        ]);
        let d = n.detections();
        assert_eq!(d.len(), 2, "{d:#?}");
        assert!(d.iter().any(|d| d.group[0] == "domain=evil.example"));
        assert!(d.iter().any(|d| d.group[0] == "answer=192.0.2.66"));
    }

    #[test]
    fn no_threat_list_no_work() {
        let mut n = NetIntel::new(intel(&[("ok", ListKind::Trusted, "10.0.0.0/8\n")]));
        n.add_flows(&[flow("10.0.1.5", "203.0.113.7", 1, 1)]);
        assert!(n.detections().is_empty());
    }
}
