//! Feeding evidence into the graph. Each `add_*` is incremental, so a live feed or a streaming
//! load can grow the graph record by record.

use super::{EntityGraph, MAX_PORTS, Relation};
use crate::ingest::{InputError, Loaded, load_streaming};
use crate::model::entity::{is_non_routable, parse_ip};
use crate::model::{DnsQuery, EntityId, EntityKind, Finding, FlowRecord, TrailEvent};
use std::path::PathBuf;

/// Builds a graph from a streaming load as [`EntityGraph::from_paths`] does, from parts of any
/// source (files, S3 objects): each part's events are folded in and dropped; the rest is kept,
/// put back in input order, and added at the end as [`EntityGraph::from_loaded`] adds it.
#[derive(Default)]
pub struct Fold {
    g: EntityGraph,
    rest: Vec<(usize, Loaded)>,
}

impl Fold {
    pub fn part(&mut self, i: usize, mut part: Loaded) {
        for e in &part.events {
            self.g.add_event(e);
        }
        part.events_folded += part.events.len();
        part.events = Vec::new();
        self.rest.push((i, part));
    }

    pub fn finish(mut self) -> (Loaded, EntityGraph) {
        // Stable: parts of one input arrive in order; inputs are put back in input order.
        self.rest.sort_by_key(|(i, _)| *i);
        let mut kept = Loaded::default();
        for (_, p) in self.rest {
            kept.extend(p);
        }
        crate::ingest::dedup_findings(&mut kept.findings);
        for f in &kept.findings {
            self.g.add_finding(f);
        }
        self.g.add_network(&kept);
        (kept, self.g)
    }
}

impl EntityGraph {
    /// The graph of everything in a load.
    pub fn from_loaded(l: &Loaded) -> EntityGraph {
        let mut g = EntityGraph::default();
        for f in &l.findings {
            g.add_finding(f);
        }
        for e in &l.events {
            g.add_event(e);
        }
        g.add_network(l);
        g
    }

    /// DNS queries, then flow records (a flow is attributed through the addresses that findings
    /// and DNS logs gave their instances).
    fn add_network(&mut self, l: &Loaded) {
        for q in &l.dns {
            self.add_dns(q);
        }
        for r in &l.flows {
            self.add_flow(r);
        }
    }

    /// The graph of everything under `paths`, for a one-shot report over more CloudTrail than is
    /// worth holding: each file's events are folded into the graph as soon as the file is read and
    /// then dropped, so memory follows the graph, not the trail. The rest of the load (findings,
    /// flows, DNS, digests, errors) is kept, in file order, and added as [`Self::from_loaded`]
    /// adds it. The result is the same graph: an event's contribution does not depend on what
    /// was added before it (outputs are sorted, counts add up, times are min/max).
    pub fn from_paths(paths: &[PathBuf]) -> Result<(Loaded, EntityGraph), InputError> {
        let mut fold = Fold::default();
        load_streaming(paths, |i, part| fold.part(i, part))?;
        Ok(fold.finish())
    }

    pub fn add_finding(&mut self, f: &Finding) {
        let fid = f.entity_id();
        let t = f.time();
        self.intern(&fid);
        for e in &f.entities {
            self.link(&fid, e, Relation::Involves, t);
            let n = self.intern(e);
            let p = self.profiles.entry(n).or_default();
            p.findings += 1;
            if let Some(t) = t {
                p.seen(t);
            }
        }
        let s = &f.subject;
        if let Some(inst) = &s.instance {
            for eni in &s.interfaces {
                self.interface_owner.insert(eni.clone(), inst.clone());
            }
            for a in &s.addresses {
                self.link(inst, a, Relation::HasAddress, t);
                if let Some(ip) = parse_ip(&a.value).filter(is_non_routable) {
                    self.address_owner.insert(ip.to_string(), inst.clone());
                }
            }
            for r in &s.remotes {
                self.link(inst, r, Relation::Connected, t);
            }
            if let Some(dom) = f.action.domain.as_deref().and_then(EntityId::domain) {
                self.link(inst, &dom, Relation::Queried, t);
            }
        }
        if let (Some(k), Some(p)) = (&s.key, &s.principal) {
            self.link(k, p, Relation::KeyOf, t);
        }
        if s.instance.is_none()
            && let Some(p) = s.principal.as_ref().or(s.key.as_ref())
        {
            for r in &s.remotes {
                self.link(p, r, Relation::CalledFrom, t);
            }
        }
    }

    pub fn add_event(&mut self, ev: &TrailEvent) {
        let t = Some(ev.time);
        // One buffer for every event's `service:EventName`: a million events, a million
        // allocations saved.
        let mut api = std::mem::take(&mut self.api_text);
        api.clear();
        api.push_str(ev.service_short());
        api.push(':');
        api.push_str(&ev.name);
        let api_sym = self.strings.intern(&api);
        self.api_text = api;
        let ip_sym = ev.source_ip.as_deref().map(|s| self.strings.intern(s));
        let ua_sym = ev.user_agent.as_deref().map(|s| self.strings.intern(s));
        let principal_sym = ev.principal.as_ref().map(|p| self.strings.intern(&p.value));
        for e in &ev.entities {
            let n = self.intern(e);
            let p = self.profiles.entry(n).or_default();
            p.seen(ev.time);
            p.events += 1;
            let slot = p.by_api.entry(api_sym).or_default();
            if ev.failed() {
                slot.1 += 1;
                p.errors += 1;
            } else {
                slot.0 += 1;
            }
            *p.by_hour.entry(ev.time.hour_floor().0).or_default() += 1;
            if let Some(s) = ip_sym {
                p.source_ips.insert(s);
            }
            if let Some(s) = ua_sym {
                *p.user_agents.entry(s).or_default() += 1;
            }
            if let Some(s) = principal_sym {
                p.principals.insert(s);
            }
        }
        let Some(principal) = &ev.principal else {
            return;
        };
        if let Some(ip) = &ev.caller_ip {
            self.link(principal, ip, Relation::CalledFrom, t);
        }
        if principal.kind == EntityKind::Session
            && let Some(issuer) = &ev.issuer
        {
            self.link(principal, issuer, Relation::SessionOf, t);
        }
        if let Some(i) = &ev.instance {
            self.link(i, principal, Relation::Assumed, t);
        }
        if let Some(k) = &ev.access_key {
            let key = EntityId::new(EntityKind::Key, k.clone());
            self.link(&key, principal, Relation::KeyOf, t);
        }
        if let Some(user) = &ev.on_behalf_of {
            self.link(principal, user, Relation::OnBehalfOf, t);
        }
        if let Some(name) = &ev.known_as {
            self.link(principal, name, Relation::KnownAs, t);
        }
        if let Some(s) = &ev.started {
            self.link(principal, &s.session, Relation::Started, t);
            if let Some(issuer) = &s.issuer {
                self.link(&s.session, issuer, Relation::SessionOf, t);
            }
            if let Some(i) = instance_of_session(&s.session) {
                self.link(&i, &s.session, Relation::Assumed, t);
            }
        }
        for target in &ev.targets {
            self.link(principal, target, Relation::ActedOn, t);
        }
    }

    pub fn add_dns(&mut self, q: &DnsQuery) {
        let Some(domain) = EntityId::domain(&q.query_name) else {
            return;
        };
        let instance = q
            .instance_id
            .as_ref()
            .map(|i| EntityId::new(EntityKind::Instance, i.clone()))
            .or_else(|| {
                q.srcaddr
                    .as_ref()
                    .and_then(|a| self.address_owner.get(a).cloned())
            });
        let n = self.intern(&domain);
        let p = self.profiles.entry(n).or_default();
        p.queries += 1;
        if let Some(t) = q.time {
            p.seen(t);
        }
        if let Some(inst) = &instance {
            self.link(inst, &domain, Relation::Queried, q.time);
            if let Some(src) = q.srcaddr.as_deref().and_then(EntityId::ip) {
                if parse_ip(&src.value).is_some_and(|ip| is_non_routable(&ip)) {
                    self.address_owner.insert(src.value.clone(), inst.clone());
                }
                self.link(inst, &src, Relation::HasAddress, q.time);
            }
        }
        for a in &q.answers {
            if let Some(ip) = EntityId::ip(a) {
                self.link(&domain, &ip, Relation::ResolvedTo, q.time);
            }
        }
    }

    /// Attributes a flow record to an instance (by its `instance-id` field, or by the private
    /// address of a known instance) and links it to the peer address.
    pub fn add_flow(&mut self, r: &FlowRecord) {
        if r.log_status.as_deref().is_some_and(|s| s != "OK") {
            return;
        }
        let (Some(src), Some(dst)) = (&r.srcaddr, &r.dstaddr) else {
            return;
        };
        let owner_of = |a: &str| self.address_owner.get(a).cloned();
        let by_field = r
            .instance_id
            .as_ref()
            .map(|i| EntityId::new(EntityKind::Instance, i.clone()))
            .or_else(|| {
                r.interface_id
                    .as_ref()
                    .and_then(|eni| self.interface_owner.get(eni).cloned())
            });
        let (src_owner, dst_owner) = (owner_of(src), owner_of(dst));
        let Some(instance) = by_field
            .or_else(|| src_owner.clone())
            .or_else(|| dst_owner.clone())
        else {
            return;
        };
        // Which side is the instance: its own address first, then the record's direction, then
        // the private side.
        let src_is_local = if src_owner.as_ref() == Some(&instance) {
            true
        } else if dst_owner.as_ref() == Some(&instance) {
            false
        } else {
            match r.flow_direction.as_deref() {
                Some("egress") => true,
                Some("ingress") => false,
                _ => parse_ip(src).is_some_and(|ip| is_non_routable(&ip)),
            }
        };
        let (local, remote) = if src_is_local { (src, dst) } else { (dst, src) };
        let (Some(local_ip), Some(remote_ip)) = (EntityId::ip(local), EntityId::ip(remote)) else {
            return;
        };
        let t = r.start;
        self.link(&instance, &local_ip, Relation::HasAddress, t);
        if parse_ip(&local_ip.value).is_some_and(|ip| is_non_routable(&ip)) {
            self.address_owner
                .insert(local_ip.value.clone(), instance.clone());
        }
        let e = self.link(&instance, &remote_ip, Relation::Connected, t);
        let w = &mut self.graph[e];
        w.bytes += r.bytes;
        w.packets += r.packets;
        let port = if local == src { r.dstport } else { r.srcport };
        if let Some(p) = port
            && w.ports.len() < MAX_PORTS
        {
            w.ports.insert(p);
        }
        for id in [&instance, &remote_ip] {
            let n = self.intern(id);
            let p = self.profiles.entry(n).or_default();
            p.flows += 1;
            if let Some(t) = t {
                p.seen(t);
            }
        }
    }
}

/// The instance a session is named after: EC2 names its instance-role sessions by instance id.
fn instance_of_session(session: &EntityId) -> Option<EntityId> {
    if session.kind != EntityKind::Session {
        return None;
    }
    crate::model::arn::session_name(&session.value)
        .filter(|n| crate::model::entity::is_instance_id(n))
        .map(|n| EntityId::new(EntityKind::Instance, n))
}
