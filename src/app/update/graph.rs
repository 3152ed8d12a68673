use super::status::warn;
use crate::app::state::*;
use crate::graph::{EntityGraph, Relation};
use crate::model::{EntityId, EntityKind};
use std::collections::{BTreeMap, HashSet};

/// Neighbours of one relation and kind listed before they collapse into a count.
pub const COLLAPSE_AT: usize = 8;
const COLLAPSE_AT_DEPTH2: usize = 4;

pub fn open_graph(s: &mut State, e: EntityId) {
    let mut g = GraphView {
        center: e,
        depth: 1,
        crumbs: Vec::new(),
        rows: Vec::new(),
        selected: 0,
        expanded: Default::default(),
        marks: Vec::new(),
        path: None,
        group: None,
        missing: false,
    };
    rebuild_graph(&s.graph, &mut g);
    s.stack.push(View::Graph(g));
}

pub(crate) fn open_group_graph(s: &mut State, group: &str) {
    let rows = group_rows(&s.graph, &s.groups, group);
    let center = rows
        .iter()
        .find_map(|r| r.entity().cloned())
        .unwrap_or_else(|| EntityId::new(EntityKind::Finding, group));
    s.stack.push(View::Graph(GraphView {
        center,
        depth: 1,
        crumbs: Vec::new(),
        rows,
        selected: 0,
        expanded: Default::default(),
        marks: Vec::new(),
        path: None,
        group: Some(group.to_string()),
        missing: false,
    }));
}

pub(crate) fn group_rows(
    graph: &EntityGraph,
    groups: &[crate::graph::Group],
    id: &str,
) -> Vec<GraphRow> {
    let Some(g) = groups.iter().find(|g| g.id == id) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for fid in &g.findings {
        let fe = EntityId::new(EntityKind::Finding, fid.clone());
        rows.push(GraphRow::Center(fe.clone()));
        for (other, e) in graph.edges_of(&fe) {
            rows.push(GraphRow::Node {
                id: other,
                depth: 1,
                relation: e.relation,
                outgoing: e.from == fe,
                count: e.count,
                parent: fe.clone(),
            });
        }
    }
    rows
}

pub(crate) fn graph_recenter(s: &mut State) {
    let Some(View::Graph(g)) = s.stack.last_mut() else {
        return;
    };
    let Some(target) = g.rows.get(g.selected).and_then(|r| r.entity()).cloned() else {
        return;
    };
    if target == g.center && g.group.is_none() {
        return;
    }
    let prev = std::mem::replace(&mut g.center, target);
    if g.group.take().is_none() {
        g.crumbs.push(prev);
    }
    g.selected = 0;
    rebuild_graph(&s.graph, g);
}

pub(crate) fn graph_mark(s: &mut State) {
    let Some(View::Graph(g)) = s.stack.last_mut() else {
        return;
    };
    let Some(e) = g.rows.get(g.selected).and_then(|r| r.entity()).cloned() else {
        return;
    };
    if let Some(p) = g.marks.iter().position(|m| *m == e) {
        g.marks.remove(p);
    } else {
        g.marks.push(e);
        if g.marks.len() > 2 {
            g.marks.remove(0);
        }
    }
    g.path = None;
    if let [a, b] = g.marks.as_slice() {
        g.path = s.graph.shortest_path(a, b);
        if g.path.is_none() {
            let text = format!("no path between {a} and {b}");
            warn(s, text);
        }
    }
}

/// Lays out the neighbourhood of `g.center` as rows: neighbours grouped by (relation, kind),
/// collapsed to a count when there are many, depth-2 neighbours indented under their parent.
pub fn rebuild_graph(graph: &EntityGraph, g: &mut GraphView) {
    g.missing = !graph.contains(&g.center);
    let mut rows = vec![GraphRow::Center(g.center.clone())];
    let first = graph.edges_of(&g.center);
    let mut shown: HashSet<EntityId> = first.iter().map(|(o, _)| o.clone()).collect();
    shown.insert(g.center.clone());
    add_children(graph, g, &g.center.clone(), first, 1, &shown, &mut rows);
    g.rows = rows;
    g.selected = g.selected.min(g.rows.len().saturating_sub(1));
}

pub(crate) fn add_children(
    graph: &EntityGraph,
    g: &GraphView,
    parent: &EntityId,
    edges: Vec<(EntityId, crate::graph::EdgeView)>,
    depth: u8,
    shown: &HashSet<EntityId>,
    rows: &mut Vec<GraphRow>,
) {
    let mut by: BTreeMap<(Relation, EntityKind), Vec<(EntityId, crate::graph::EdgeView)>> =
        BTreeMap::new();
    for (other, e) in edges {
        if depth > 1 && shown.contains(&other) {
            continue;
        }
        by.entry((e.relation, other.kind))
            .or_default()
            .push((other, e));
    }
    let limit = if depth == 1 {
        COLLAPSE_AT
    } else {
        COLLAPSE_AT_DEPTH2
    };
    for ((relation, kind), mut members) in by {
        if members.len() > limit && !g.expanded.contains(&(parent.clone(), relation, kind)) {
            rows.push(GraphRow::Collapsed {
                depth,
                parent: parent.clone(),
                relation,
                kind,
                n: members.len(),
            });
            continue;
        }
        members.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
        for (other, e) in members {
            rows.push(GraphRow::Node {
                id: other.clone(),
                depth,
                relation,
                outgoing: e.from == *parent,
                count: e.count,
                parent: parent.clone(),
            });
            if u32::from(depth) < g.depth {
                let sub = graph.edges_of(&other);
                add_children(graph, g, &other, sub, depth + 1, shown, rows);
            }
        }
    }
}
