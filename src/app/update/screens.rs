use super::findings::mark_seen;
use super::graph::open_group_graph;
use super::status::warn;
use crate::app::msg::Effect;
use crate::app::select::actor_ip;
use crate::app::state::*;
use crate::model::EntityId;

pub fn open_detail(s: &mut State, i: usize) {
    mark_seen(s, i);
    let f = &s.findings[i];
    let mut entities: Vec<EntityId> = Vec::new();
    for e in f
        .primary_entity()
        .into_iter()
        .chain(actor_ip(f))
        .chain(f.entities.iter().cloned())
    {
        if !entities.contains(&e) {
            entities.push(e);
        }
    }
    let view = DetailView {
        finding: i,
        finding_id: f.id.clone(),
        entities,
        selected: 0,
        show_raw: false,
        raw_lines: pretty_lines(&f.raw),
        raw_scroll: 0,
    };
    s.stack.push(View::Detail(view));
}

pub(crate) fn pretty_lines(raw: &str) -> Vec<String> {
    let text = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string());
    text.lines().map(str::to_string).collect()
}

pub(crate) fn open_profile(s: &mut State, e: EntityId) {
    if !s.graph.contains(&e) {
        warn(
            s,
            format!("{e} does not appear in the evidence loaded so far"),
        );
    }
    let activity = s.index.as_ref().and_then(|ix| ix.activity(&e));
    s.stack.push(View::Profile(ProfileView {
        entity: e,
        scroll: 0,
        activity,
        stale: false,
    }));
}

pub(crate) fn open_event(s: &mut State) -> Vec<Effect> {
    let Some(View::Trail(t)) = s.view() else {
        return Vec::new();
    };
    let Some(&row) = t.rows.get(t.selected) else {
        return Vec::new();
    };
    let Some(ix) = s.index.as_ref() else {
        return Vec::new();
    };
    let Some(r) = ix.row(row) else {
        return Vec::new();
    };
    let raw = ix.raw(r);
    let event_id = ix.event_id(r);
    let entities = ix.entities_of(row);
    s.stack.push(View::Event(EventView {
        row,
        event_id,
        entities,
        selected: 0,
        raw: None,
        raw_scroll: 0,
    }));
    vec![Effect::LoadRaw { row, raw }]
}

/// Enter on the findings list: a group's graph, or the finding's detail.
pub(crate) fn open_selected(s: &mut State) {
    if let Some(ListRow::Group(g)) = s.list.rows.get(s.list.selected).copied() {
        if let Some(id) = s.groups.get(g as usize).map(|g| g.id.clone()) {
            open_group_graph(s, &id);
        }
        return;
    }
    let Some(i) = s.selected_finding() else {
        return;
    };
    open_detail(s, i);
}
