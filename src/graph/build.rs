//! Feeding evidence into the graph. Each `add_*` is incremental, so a live feed or a streaming
//! load can grow the graph record by record.

use super::{Edge, EntityGraph, Profile, Relation};
use crate::ingest::{InputError, Loaded, load_streaming_with};
use crate::model::entity::{is_non_routable, parse_ip};
use crate::model::{DnsQuery, EntityId, EntityKind, Finding, FlowRecord, TrailEvent, Ts};
use petgraph::graph::NodeIndex;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use smallvec::SmallVec;
use std::borrow::Cow;
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
    /// A part of input `i`, with the graph of its events ([`EntityGraph::of_part`]).
    pub fn part(&mut self, i: usize, (part, g): (Loaded, EntityGraph)) {
        self.g.merge(g);
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
        load_streaming_with(paths, EntityGraph::of_part, |i, part| fold.part(i, part))?;
        Ok(fold.finish())
    }

    /// The graph of a part's CloudTrail events, which it then drops (counting them as folded):
    /// made on the loader's thread, so that the thread the loaders hand their parts to only
    /// [merges](Self::merge) one node per entity of the part, not one per entity of each event.
    pub fn of_part(mut part: Loaded) -> (Loaded, EntityGraph) {
        let mut g = EntityGraph::default();
        for e in &part.events {
            g.add_event(e);
        }
        part.events_folded += part.events.len();
        part.events = Vec::new();
        (part, g)
    }

    /// Adds a graph of CloudTrail events built apart, as if its events had been added here
    /// after everything before: an event's part of the graph does not depend on what came
    /// before it (counts add up, times are min/max, nodes and edges are added in the order the
    /// other graph made them). Flow logs and DNS queries are attributed through what came
    /// before them (the addresses of known instances): add those here, in order, instead.
    pub fn merge(&mut self, other: EntityGraph) {
        let EntityGraph {
            graph,
            profiles,
            address_owner,
            interface_owner,
            ..
        } = other;
        let (nodes, edges) = graph.into_nodes_edges();
        let mut profiles = profiles.into_iter();
        let mut at: Vec<NodeIndex> = Vec::with_capacity(nodes.len());
        for node in nodes {
            let n = self.intern_with(node.weight, |id| id);
            at.push(n);
            if let Some(p) = profiles.next().filter(Profile::counted) {
                self.profile_mut(n).absorb(&p);
            }
        }
        for e in edges {
            let (Some(&a), Some(&b)) = (at.get(e.source().index()), at.get(e.target().index()))
            else {
                continue;
            };
            self.absorb_edge(a, b, e.weight);
        }
        self.address_owner.extend(address_owner);
        self.interface_owner.extend(interface_owner);
    }

    pub fn add_finding(&mut self, f: &Finding) {
        let fid = f.entity_id();
        let t = f.time();
        self.intern(&fid);
        for e in &f.entities {
            self.link(&fid, e, Relation::Involves, t);
            let n = self.intern(e);
            let p = self.profile_mut(n);
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
        // The event's links join its own entities: their nodes are kept here as they are
        // found, rather than hashed and looked up again in a table of a million nodes for each
        // link. (What each entity did is the index's to answer: `TrailIndex::activity`.)
        let nodes: SmallVec<[NodeIndex; 16]> = ev.entities.iter().map(|e| self.intern(e)).collect();
        event_links(&mut Interned { g: self, nodes }, ev);
    }

    /// Adds a part's graph made as [`Linked::of_events`] made it, as [`Self::merge`] adds an
    /// [`Self::of_part`] graph (the same nodes and edges in the same order). `at` is this
    /// graph's node of each number met so far (the caller keeps it for as long as the
    /// numbering lives: a load); `entity` is the entity of a number. A number this graph has
    /// met costs an array read here, where an entity cost a hash and a comparison of its text,
    /// on the one thread a load's parts are joined on.
    pub fn merge_linked(
        &mut self,
        part: Linked,
        at: &mut Vec<u32>,
        entity: impl Fn(u32) -> Option<EntityId>,
    ) {
        let mut node = |g: &mut EntityGraph, s: u32| -> Option<NodeIndex> {
            let i = s as usize;
            if let Some(&n) = at.get(i).filter(|n| **n != UNMET) {
                return Some(NodeIndex::new(n as usize));
            }
            let n = g.intern_with(entity(s)?, |id| id);
            if i >= at.len() {
                at.resize(i + 1, UNMET);
            }
            at[i] = n.index() as u32;
            Some(n)
        };
        for s in part.nodes {
            node(self, s);
        }
        for (a, b, w) in part.edges {
            if let (Some(a), Some(b)) = (node(self, a), node(self, b)) {
                self.absorb_edge(a, b, w);
            }
        }
    }

    /// Adds what `w` (an edge of another graph) counted to this graph's edge of its relation
    /// from `a` to `b`, made when new.
    fn absorb_edge(&mut self, a: NodeIndex, b: NodeIndex, w: Edge) {
        let rel = w.relation;
        let i = *self
            .edges
            .entry((a, b, rel))
            .or_insert_with(|| self.graph.add_edge(a, b, Edge::new(rel)));
        self.graph[i].absorb(w);
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
        let p = self.profile_mut(n);
        p.queries += 1;
        if let Some(t) = q.time {
            p.seen(t);
        }
        if let Some(inst) = &instance {
            self.link(inst, &domain, Relation::Queried, q.time);
            if let Some(src) = q.srcaddr.as_deref().and_then(EntityId::ip) {
                if parse_ip(&src.value).is_some_and(|ip| is_non_routable(&ip)) {
                    self.address_owner
                        .insert(src.value.to_string(), inst.clone());
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
                .insert(local_ip.value.to_string(), instance.clone());
        }
        let e = self.link(&instance, &remote_ip, Relation::Connected, t);
        let w = self.graph[e].traffic_mut();
        w.bytes += r.bytes;
        w.packets += r.packets;
        if let Some(p) = if local == src { r.dstport } else { r.srcport } {
            w.port(p);
        }
        for id in [&instance, &remote_ip] {
            let n = self.intern(id);
            let p = self.profile_mut(n);
            p.flows += 1;
            if let Some(t) = t {
                p.seen(t);
            }
        }
    }
}

/// No node yet, in [`EntityGraph::merge_linked`]'s table.
const UNMET: u32 = u32::MAX;

/// One end of a link an event makes: the `i`th of its own (sorted) entities, or an entity it
/// names outside them.
enum End<'e> {
    Own(usize),
    Other(Cow<'e, EntityId>),
}

impl<'e> End<'e> {
    fn of(ev: &TrailEvent, id: Cow<'e, EntityId>) -> End<'e> {
        match ev.entities.binary_search(&id) {
            Ok(i) => End::Own(i),
            Err(_) => End::Other(id),
        }
    }
}

/// What an event's links are made into: an [`EntityGraph`], or a load's part numbered by the
/// load's entity symbols ([`Linked`]).
trait Links {
    type Node: Copy;
    fn node(&mut self, end: End<'_>) -> Self::Node;
    fn link(&mut self, from: Self::Node, to: Self::Node, rel: Relation, t: Option<Ts>);
}

/// The links of an event (section 3 of the entity model), in the order a graph makes their
/// nodes and edges; the nodes of the event's own entities are made before.
fn event_links<L: Links>(g: &mut L, ev: &TrailEvent) {
    fn end<'e>(ev: &TrailEvent, id: &'e EntityId) -> End<'e> {
        End::of(ev, Cow::Borrowed(id))
    }
    let t = Some(ev.time);
    let Some(principal) = &ev.principal else {
        return;
    };
    let p = g.node(end(ev, principal));
    let link = |g: &mut L, from: L::Node, to: End<'_>, rel: Relation| {
        let to = g.node(to);
        g.link(from, to, rel, t);
    };
    if let Some(ip) = &ev.caller_ip {
        link(g, p, end(ev, ip), Relation::CalledFrom);
    }
    if principal.kind == EntityKind::Session
        && let Some(issuer) = &ev.issuer
    {
        link(g, p, end(ev, issuer), Relation::SessionOf);
    }
    if let Some(i) = &ev.instance {
        let i = g.node(end(ev, i));
        g.link(i, p, Relation::Assumed, t);
    }
    if let Some(k) = &ev.access_key {
        let key = match ev
            .entities
            .iter()
            .position(|e| e.kind == EntityKind::Key && e.value == *k)
        {
            Some(i) => End::Own(i),
            None => End::Other(Cow::Owned(EntityId::new(EntityKind::Key, k.clone()))),
        };
        let key = g.node(key);
        g.link(key, p, Relation::KeyOf, t);
    }
    if let Some(user) = &ev.on_behalf_of {
        link(g, p, end(ev, user), Relation::OnBehalfOf);
    }
    if let Some(name) = &ev.known_as {
        link(g, p, end(ev, name), Relation::KnownAs);
    }
    if let Some(s) = &ev.started {
        link(g, p, end(ev, &s.session), Relation::Started);
        if let Some(issuer) = &s.issuer {
            let session = g.node(end(ev, &s.session));
            link(g, session, end(ev, issuer), Relation::SessionOf);
        }
        if let Some(i) = instance_of_session(&s.session) {
            let i = g.node(End::of(ev, Cow::Owned(i)));
            let session = g.node(end(ev, &s.session));
            g.link(i, session, Relation::Assumed, t);
        }
    }
    for target in &ev.targets {
        link(g, p, end(ev, target), Relation::ActedOn);
    }
}

/// An [`EntityGraph`] taking one event's links, with the nodes of its entities.
struct Interned<'g> {
    g: &'g mut EntityGraph,
    nodes: SmallVec<[NodeIndex; 16]>,
}

impl Links for Interned<'_> {
    /// `None` for an entity of the event that has no node: none, the nodes are made first.
    type Node = Option<NodeIndex>;
    fn node(&mut self, end: End<'_>) -> Option<NodeIndex> {
        match end {
            End::Own(i) => self.nodes.get(i).copied(),
            End::Other(id) => Some(self.g.intern(&id)),
        }
    }
    fn link(&mut self, from: Self::Node, to: Self::Node, rel: Relation, t: Option<Ts>) {
        if let (Some(a), Some(b)) = (from, to) {
            self.g.link_nodes(a, b, rel, t);
        }
    }
}

/// The graph of a part of a load's CloudTrail events with each entity named by its number in
/// the load's one numbering (the index's entity symbols, which the part's index has just
/// given them): made on the loader's thread without hashing an entity again or copying one,
/// and joined by [`EntityGraph::merge_linked`] with an array read per entity.
#[derive(Debug, Default)]
pub struct Linked {
    /// The part's entities, in the order the part met them.
    nodes: Vec<u32>,
    /// Links, in the order they were first made, with what they counted.
    edges: Vec<(u32, u32, Edge)>,
}

impl Linked {
    /// The links of `events`, whose entities are numbered `numbers` (each event's `entities`
    /// in turn, flat); `number` numbers an entity an event names outside its entities.
    pub fn of_events(
        events: &[TrailEvent],
        numbers: &[u32],
        number: impl FnMut(&EntityId) -> u32,
    ) -> Linked {
        let mut b = LinkedBuilder {
            part: Linked::default(),
            met: HashSet::default(),
            edge_at: HashMap::default(),
            own: &[],
            number,
        };
        let mut rest = numbers;
        for ev in events {
            let (own, after) = rest.split_at(ev.entities.len().min(rest.len()));
            rest = after;
            b.own = own;
            for &s in own {
                b.meet(s);
            }
            event_links(&mut b, ev);
        }
        b.part
    }
}

struct LinkedBuilder<'n, F> {
    part: Linked,
    met: HashSet<u32>,
    edge_at: HashMap<(u32, u32, Relation), usize>,
    /// The numbers of the current event's entities.
    own: &'n [u32],
    number: F,
}

impl<F> LinkedBuilder<'_, F> {
    fn meet(&mut self, s: u32) {
        if self.met.insert(s) {
            self.part.nodes.push(s);
        }
    }
}

impl<F: FnMut(&EntityId) -> u32> Links for LinkedBuilder<'_, F> {
    type Node = u32;
    fn node(&mut self, end: End<'_>) -> u32 {
        let s = match end {
            End::Own(i) => match self.own.get(i) {
                Some(&s) => s,
                None => return UNMET,
            },
            End::Other(id) => (self.number)(&id),
        };
        self.meet(s);
        s
    }
    fn link(&mut self, from: u32, to: u32, rel: Relation, t: Option<Ts>) {
        let edges = &mut self.part.edges;
        let i = *self.edge_at.entry((from, to, rel)).or_insert_with(|| {
            edges.push((from, to, Edge::new(rel)));
            edges.len() - 1
        });
        if let Some((_, _, e)) = edges.get_mut(i) {
            e.touch(t);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest;

    /// An edge's times are the earliest and latest it was seen with, none before it is seen
    /// with one (a finding may have no time), and so again once merged; in 40 bytes.
    #[test]
    fn an_edge_keeps_its_first_and_last_time_and_none_without_one() {
        let a = EntityId::new(EntityKind::Instance, "i-0123456789abcdef0");
        let b = EntityId::new(EntityKind::Domain, "example.com");
        let times = |g: &EntityGraph| {
            let e = g.graph.edge_indices().next().unwrap();
            let w = &g.graph[e];
            (w.first(), w.last(), w.count)
        };
        let mut g = EntityGraph::default();
        g.link(&a, &b, Relation::Queried, None);
        assert_eq!(times(&g), (None, None, 1));
        let mut merged = EntityGraph::default();
        let mut timeless = EntityGraph::default();
        timeless.link(&a, &b, Relation::Queried, None);
        merged.merge(timeless);
        assert_eq!(times(&merged), (None, None, 1));
        g.link(&a, &b, Relation::Queried, Some(Ts(5_000)));
        g.link(&a, &b, Relation::Queried, Some(Ts(2_000)));
        assert_eq!(times(&g), (Some(Ts(2_000)), Some(Ts(5_000)), 3));
        merged.merge(g);
        assert_eq!(times(&merged), (Some(Ts(2_000)), Some(Ts(5_000)), 4));
        assert_eq!(std::mem::size_of::<Edge>(), 40);
    }

    /// The graph of a load's events merged from graphs of its parts is the graph of the events
    /// added one by one: the same nodes and edges in the same order, the same counts and times.
    /// Public CloudTrail (Stratus Red Team detonations, Panther's rule tests, the AWS
    /// documentation's examples), in parts of a few events, so that parts share entities.
    #[test]
    fn a_graph_merged_from_parts_is_the_graph_of_the_whole() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/public");
        let paths: Vec<PathBuf> = ["stratus-red-team", "panther-analysis", "aws-docs"]
            .iter()
            .map(|d| root.join(d))
            .collect();
        let l = ingest::load(&paths).unwrap();
        assert!(l.events.len() > 500, "{} events", l.events.len());
        // And an event whose links name entities outside its own list (the model puts every
        // one there, but the graph does not rely on it): a key, and its caller's address.
        let mut events = l.events.clone();
        let mut odd = events
            .iter()
            .find(|e| e.principal.is_some() && e.caller_ip.is_some())
            .cloned()
            .unwrap();
        odd.access_key = Some("AKIAIOSFODNN7OUTSIDE".into());
        let ip = odd.caller_ip.clone();
        odd.entities.retain(|e| Some(e) != ip.as_ref());
        events.insert(3, odd);
        let l = Loaded {
            events,
            ..Loaded::default()
        };
        let mut whole = EntityGraph::default();
        for e in &l.events {
            whole.add_event(e);
        }
        let mut merged = EntityGraph::default();
        for chunk in l.events.chunks(7) {
            let part = Loaded {
                events: chunk.to_vec(),
                ..Loaded::default()
            };
            let (part, g) = EntityGraph::of_part(part);
            assert!(part.events.is_empty());
            assert_eq!(part.events_folded, chunk.len());
            merged.merge(g);
        }
        let nodes = |g: &EntityGraph| g.graph.node_weights().cloned().collect::<Vec<_>>();
        assert_eq!(nodes(&merged), nodes(&whole));
        let edges = |g: &EntityGraph| {
            g.graph
                .edge_indices()
                .map(|e| {
                    let (a, b) = g.graph.edge_endpoints(e).unwrap();
                    let w = &g.graph[e];
                    (a, b, w.relation, w.count, w.first(), w.last())
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(edges(&merged), edges(&whole));
        assert!(whole.edge_count() > 300, "{} edges", whole.edge_count());
        // Found by their own hash once merged.
        for id in whole.entity_ids() {
            assert_eq!(merged.node(id), whole.node(id), "{id}");
        }

        // The same parts made as a load makes them, each entity named by a number of one
        // numbering (sparse, and not in the order the graph meets them), joined by number.
        #[derive(Default)]
        struct Numbering {
            of: HashMap<EntityId, u32>,
            by: HashMap<u32, EntityId>,
        }
        impl Numbering {
            fn number(&mut self, e: &EntityId) -> u32 {
                let next = (self.of.len() as u32).reverse_bits() >> 12;
                let n = *self.of.entry(e.clone()).or_insert(next);
                self.by.insert(n, e.clone());
                n
            }
        }
        let mut numbering = Numbering::default();
        let mut linked = EntityGraph::default();
        let mut at = Vec::new();
        for chunk in l.events.chunks(7) {
            let numbers: Vec<u32> = chunk
                .iter()
                .flat_map(|e| &e.entities)
                .map(|e| numbering.number(e))
                .collect();
            let part = Linked::of_events(chunk, &numbers, |e| numbering.number(e));
            linked.merge_linked(part, &mut at, |n| numbering.by.get(&n).cloned());
        }
        assert_eq!(nodes(&linked), nodes(&whole));
        assert_eq!(edges(&linked), edges(&whole));
        for id in whole.entity_ids() {
            assert_eq!(linked.node(id), whole.node(id), "{id}");
        }
        // Some events name an entity outside their own (a session's instance, a bare key).
        assert!(
            numbering.of.len()
                > l.events
                    .iter()
                    .flat_map(|e| &e.entities)
                    .collect::<HashSet<_>>()
                    .len()
        );
    }
}
