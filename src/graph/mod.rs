//! The entity graph (petgraph): one node per entity and per finding, typed edges that know their
//! first/last time and count, finding groups, what a profile counts besides the trail, and
//! shortest paths.

mod build;
pub use build::{Fold, Linked};
pub mod groups;
pub(crate) mod profile;

pub use groups::Group;
pub use profile::Profile;

use crate::model::{EntityId, EntityKind, Ts};
use petgraph::Directed;
use petgraph::graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// finding → entity
    Involves,
    /// session → the role (or, for a federated user, the IAM user) that issued it
    SessionOf,
    /// key → principal
    KeyOf,
    /// principal → ip
    CalledFrom,
    /// instance → session (the session is named after the instance)
    Assumed,
    /// instance → ip
    HasAddress,
    /// instance → domain
    Queried,
    /// domain → ip (Resolver answers)
    ResolvedTo,
    /// instance ↔ remote ip (network findings, flow logs)
    Connected,
    /// principal → resource (CloudTrail)
    ActedOn,
    /// principal → the session its `AssumeRole*`/`GetFederationToken` call started: the role
    /// chain (Detective's "role sessions started from this session")
    Started,
    /// principal → the Identity Center user it acted for (`onBehalfOf`)
    OnBehalfOf,
    /// Identity Center user by id → the same user by name
    KnownAs,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Involves => "involves",
            Relation::SessionOf => "session_of",
            Relation::KeyOf => "key_of",
            Relation::CalledFrom => "called_from",
            Relation::Assumed => "assumed",
            Relation::HasAddress => "has_address",
            Relation::Queried => "queried",
            Relation::ResolvedTo => "resolved_to",
            Relation::Connected => "connected",
            Relation::ActedOn => "acted_on",
            Relation::Started => "started",
            Relation::OnBehalfOf => "on_behalf_of",
            Relation::KnownAs => "known_as",
        }
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Edge {
    pub relation: Relation,
    /// The first and last time the relation was seen; `NEVER_FIRST`/`NEVER_LAST` until one is
    /// (a finding may have no time), so that taking the earlier and the later needs no branch
    /// and an edge no tags: 16 bytes of each of a 10M load's millions of edges ([`Self::first`]).
    first: Ts,
    last: Ts,
    pub count: u64,
    /// Traffic totals of a `connected` edge from flow logs. None on every other edge (nearly
    /// all of a trail's graph), which so does not carry them: 32 bytes less per edge.
    pub traffic: Option<Box<Traffic>>,
}

/// What flow logs counted on a `connected` edge.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    pub bytes: u64,
    pub packets: u64,
    /// Remote ports seen (kept small: at most [`MAX_PORTS`]).
    pub ports: BTreeSet<u32>,
}

pub const MAX_PORTS: usize = 16;

impl Traffic {
    /// Adds one port while there is room.
    fn port(&mut self, p: u32) {
        if self.ports.len() < MAX_PORTS {
            self.ports.insert(p);
        }
    }
}

impl Edge {
    fn new(relation: Relation) -> Edge {
        Edge {
            relation,
            first: NEVER_FIRST,
            last: NEVER_LAST,
            count: 0,
            traffic: None,
        }
    }

    /// When the relation was first seen, if any time was given.
    pub fn first(&self) -> Option<Ts> {
        (self.first != NEVER_FIRST).then_some(self.first)
    }

    /// When the relation was last seen, if any time was given.
    pub fn last(&self) -> Option<Ts> {
        (self.last != NEVER_LAST).then_some(self.last)
    }

    /// Bytes flow logs counted on the edge (0 on edges they did not).
    pub fn bytes(&self) -> u64 {
        self.traffic.as_ref().map_or(0, |t| t.bytes)
    }

    fn traffic_mut(&mut self) -> &mut Traffic {
        self.traffic.get_or_insert_with(Box::default)
    }

    /// Adds what `o`, the same edge counted apart, counted. Ports are added in order while
    /// there is room: a part's flows counted apart may keep other ports than one count would.
    fn absorb(&mut self, o: Edge) {
        self.count += o.count;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        if let Some(o) = o.traffic {
            let w = self.traffic_mut();
            w.bytes += o.bytes;
            w.packets += o.packets;
            for p in o.ports {
                w.port(p);
            }
        }
    }

    fn touch(&mut self, t: Option<Ts>) {
        self.count += 1;
        if let Some(t) = t {
            self.seen(t);
        }
    }

    fn seen(&mut self, t: Ts) {
        self.first = self.first.min(t);
        self.last = self.last.max(t);
    }
}

/// An edge's times before any: later and earlier than every time.
const NEVER_FIRST: Ts = Ts::MAX;
const NEVER_LAST: Ts = Ts::MIN;

/// The graph with its lookup tables. Built once from a load; add more with the `add_*` methods.
#[derive(Default)]
pub struct EntityGraph {
    pub graph: petgraph::Graph<EntityId, Edge, Directed>,
    /// Each node by the hash of its entity (the entity itself is the node's weight: one copy).
    nodes: hashbrown::HashTable<NodeIndex>,
    edges: HashMap<(NodeIndex, NodeIndex, Relation), EdgeIndex>,
    /// By node index, up to the last node with something counted; a node only the trail names
    /// has the empty profile.
    profiles: Vec<Profile>,
    /// Private addresses of known instances, to attribute flow-log lines.
    address_owner: HashMap<String, EntityId>,
    /// Network interfaces of known instances, for flow logs without an `instance-id` field.
    interface_owner: HashMap<String, EntityId>,
}

/// A subgraph for display or export.
#[derive(Debug, Clone, Serialize)]
pub struct Neighbourhood {
    pub center: EntityId,
    pub nodes: Vec<NodeView>,
    pub edges: Vec<EdgeView>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeView {
    pub id: EntityId,
    pub kind: EntityKind,
    pub depth: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EdgeView {
    pub from: EntityId,
    pub to: EntityId,
    pub relation: Relation,
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    #[serde(skip_serializing_if = "is_zero")]
    pub bytes: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn hash(id: &EntityId) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

impl EntityGraph {
    pub fn node(&self, id: &EntityId) -> Option<NodeIndex> {
        let graph = &self.graph;
        self.nodes
            .find(hash(id), |n| graph.node_weight(*n) == Some(id))
            .copied()
    }

    pub fn contains(&self, id: &EntityId) -> bool {
        self.node(id).is_some()
    }

    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// All entity ids, sorted.
    pub fn entity_ids(&self) -> Vec<&EntityId> {
        let mut v: Vec<&EntityId> = self.graph.node_weights().collect();
        v.sort();
        v
    }

    /// What was counted of `id`: `None` when nothing was (not loaded, or only a finding's node).
    pub fn profile(&self, id: &EntityId) -> Option<&Profile> {
        self.node(id)
            .and_then(|n| self.profiles.get(n.index()))
            .filter(|p| p.counted())
    }

    /// The profile of node `n`, to count into.
    fn profile_mut(&mut self, n: NodeIndex) -> &mut Profile {
        let i = n.index();
        if i >= self.profiles.len() {
            self.profiles.resize_with(i + 1, Profile::default);
        }
        &mut self.profiles[i]
    }

    fn intern(&mut self, id: &EntityId) -> NodeIndex {
        self.intern_with(id, |id| id.clone())
    }

    /// The node of `id`, added (with the entity `own` makes of it) when new.
    fn intern_with<Q: std::borrow::Borrow<EntityId>>(
        &mut self,
        id: Q,
        own: impl FnOnce(Q) -> EntityId,
    ) -> NodeIndex {
        let h = hash(id.borrow());
        let graph = &mut self.graph;
        match self.nodes.entry(
            h,
            |n| graph.node_weight(*n) == Some(id.borrow()),
            |n| graph.node_weight(*n).map_or(0, hash),
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => *o.get(),
            hashbrown::hash_table::Entry::Vacant(v) => *v.insert(graph.add_node(own(id))).get(),
        }
    }

    fn link(&mut self, from: &EntityId, to: &EntityId, rel: Relation, t: Option<Ts>) -> EdgeIndex {
        let a = self.intern(from);
        let b = self.intern(to);
        self.link_nodes(a, b, rel, t)
    }

    /// [`Self::link`] for nodes already interned.
    fn link_nodes(
        &mut self,
        a: NodeIndex,
        b: NodeIndex,
        rel: Relation,
        t: Option<Ts>,
    ) -> EdgeIndex {
        let e = *self
            .edges
            .entry((a, b, rel))
            .or_insert_with(|| self.graph.add_edge(a, b, Edge::new(rel)));
        self.graph[e].touch(t);
        e
    }

    /// Every edge, sorted by (from, to, relation), for export.
    pub fn all_edges(&self) -> Vec<EdgeView> {
        let mut v: Vec<EdgeView> = self
            .graph
            .edge_references()
            .map(|e| self.edge_view(e.id()))
            .collect();
        v.sort_by(|a, b| (&a.from, &a.to, a.relation).cmp(&(&b.from, &b.to, b.relation)));
        v
    }

    fn edge_view(&self, e: EdgeIndex) -> EdgeView {
        let (a, b) = self.graph.edge_endpoints(e).unwrap_or_default();
        let w = &self.graph[e];
        EdgeView {
            from: self.graph[a].clone(),
            to: self.graph[b].clone(),
            relation: w.relation,
            count: w.count,
            first: w.first().map(Ts::to_rfc3339),
            last: w.last().map(Ts::to_rfc3339),
            bytes: w.bytes(),
        }
    }

    /// Edges touching `id`, either direction, with the entity at the other end.
    pub fn edges_of(&self, id: &EntityId) -> Vec<(EntityId, EdgeView)> {
        let Some(n) = self.node(id) else {
            return Vec::new();
        };
        let mut v: Vec<(EntityId, EdgeView)> = self
            .graph
            .edges_directed(n, petgraph::Direction::Outgoing)
            .chain(self.graph.edges_directed(n, petgraph::Direction::Incoming))
            .map(|e| {
                let other = if e.source() == n {
                    e.target()
                } else {
                    e.source()
                };
                (self.graph[other].clone(), self.edge_view(e.id()))
            })
            .collect();
        v.sort_by(|a, b| (&a.0, a.1.relation).cmp(&(&b.0, b.1.relation)));
        v
    }

    /// Breadth-first neighbourhood up to `depth` hops, ignoring edge direction.
    pub fn neighbourhood(&self, id: &EntityId, depth: u32) -> Option<Neighbourhood> {
        let start = self.node(id)?;
        let mut seen: HashMap<NodeIndex, u32> = HashMap::from_iter([(start, 0)]);
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            let d = seen[&n];
            if d == depth {
                continue;
            }
            for m in self.graph.neighbors_undirected(n) {
                if let std::collections::hash_map::Entry::Vacant(v) = seen.entry(m) {
                    v.insert(d + 1);
                    queue.push_back(m);
                }
            }
        }
        let mut nodes: Vec<NodeView> = seen
            .iter()
            .map(|(n, d)| NodeView {
                id: self.graph[*n].clone(),
                kind: self.graph[*n].kind,
                depth: *d,
            })
            .collect();
        nodes.sort_by(|a, b| (a.depth, &a.id).cmp(&(b.depth, &b.id)));
        let mut edges: Vec<EdgeView> = seen
            .keys()
            .flat_map(|n| self.graph.edges_directed(*n, petgraph::Direction::Outgoing))
            .filter(|e| seen.contains_key(&e.target()))
            .map(|e| self.edge_view(e.id()))
            .collect();
        edges.sort_by(|a, b| (&a.from, &a.to, a.relation).cmp(&(&b.from, &b.to, b.relation)));
        Some(Neighbourhood {
            center: id.clone(),
            nodes,
            edges,
        })
    }

    /// Shortest path between two entities, ignoring edge direction: the entities along it and the
    /// edges between consecutive ones.
    pub fn shortest_path(
        &self,
        from: &EntityId,
        to: &EntityId,
    ) -> Option<(Vec<EntityId>, Vec<EdgeView>)> {
        let (a, b) = (self.node(from)?, self.node(to)?);
        let mut prev: HashMap<NodeIndex, (NodeIndex, EdgeIndex)> = HashMap::default();
        let mut queue = VecDeque::from([a]);
        let mut seen = std::collections::HashSet::from([a]);
        while let Some(n) = queue.pop_front() {
            if n == b {
                break;
            }
            // Deterministic order: visit neighbours sorted by entity id.
            let mut next: Vec<(NodeIndex, EdgeIndex)> = self
                .graph
                .edges_directed(n, petgraph::Direction::Outgoing)
                .map(|e| (e.target(), e.id()))
                .chain(
                    self.graph
                        .edges_directed(n, petgraph::Direction::Incoming)
                        .map(|e| (e.source(), e.id())),
                )
                .collect();
            next.sort_by(|x, y| self.graph[x.0].cmp(&self.graph[y.0]));
            for (m, e) in next {
                if seen.insert(m) {
                    prev.insert(m, (n, e));
                    queue.push_back(m);
                }
            }
        }
        if a != b && !prev.contains_key(&b) {
            return None;
        }
        let mut nodes = vec![b];
        let mut edges = Vec::new();
        let mut cur = b;
        while cur != a {
            let (p, e) = prev[&cur];
            edges.push(self.edge_view(e));
            nodes.push(p);
            cur = p;
        }
        nodes.reverse();
        edges.reverse();
        Some((
            nodes.into_iter().map(|n| self.graph[n].clone()).collect(),
            edges,
        ))
    }
}
