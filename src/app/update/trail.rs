use super::graph::group_rows;
use super::graph::rebuild_graph;
use super::status::warn;
use crate::app::keymap::Command;
use crate::app::state::*;
use crate::model::entity::caller_address;
use crate::model::{EntityId, EntityKind, Ts};
use crate::pivot::{TrailIndex, Window};

pub fn open_trail(s: &mut State, e: EntityId, scope: Scope, align: Align, ft: Option<Ts>) {
    let mut tv = TrailView {
        entity: e,
        scope,
        align,
        finding_time: ft,
        window: Window::all(),
        rows: Vec::new(),
        total: 0,
        selected: 0,
        filter: String::new(),
    };
    refresh_trail(&mut tv, s.index.as_ref());
    // Start at the end of the timeline: the most recent events are the likeliest question.
    tv.selected = match align {
        Align::Latest => tv.rows.len().saturating_sub(1),
        _ => tv.rows.len().saturating_sub(1),
    };
    let live = s.opts.mode == Mode::Live;
    let answerable = match &s.query_tier {
        Some(_) => crate::pivot::lake::condition(&tv.entity, &crate::pivot::lake::LAKE).map(|_| ()),
        None => crate::pivot::lookup::attribute_for(&tv.entity).map(|_| ()),
    };
    if live && let Err(why) = answerable {
        // The API cannot answer this one: say so rather than show an empty API answer.
        warn(s, why);
    } else if live {
        // LookupEvents answers (see `lookup::sync`); the trail's second line shows its progress.
    } else if s.index.is_none() {
        let msg = match s.index_state {
            IndexState::None => "no CloudTrail loaded (give --trail)".to_string(),
            _ => {
                "CloudTrail is still being indexed; the trail fills in when it is done".to_string()
            }
        };
        warn(s, msg);
    }
    s.stack.push(View::Trail(tv));
}

pub(crate) fn row_matches(ix: &TrailIndex, r: u32, needle: &str) -> bool {
    let Some(row) = ix.row(r) else { return false };
    [
        row.name,
        row.source,
        row.principal,
        row.source_ip,
        row.user_agent,
        row.error,
        row.region,
    ]
    .iter()
    .any(|sym| ix.str(*sym).to_lowercase().contains(needle))
}

pub fn refresh_trail(tv: &mut TrailView, index: Option<&TrailIndex>) {
    let Some(ix) = index else {
        tv.rows.clear();
        tv.total = 0;
        tv.selected = 0;
        return;
    };
    tv.total = ix.count(&tv.entity);
    let time_of = |r: &u32| ix.row(*r).map(|row| row.time);
    tv.window = match (tv.scope.millis(), tv.align) {
        (None, _) => Window::all(),
        (Some(ms), Align::Latest) => {
            match ix.pivot(&tv.entity, Window::all()).last().and_then(time_of) {
                Some(last) => Window {
                    from: Some(Ts(last.0 - ms + 1)),
                    to: Some(Ts(last.0 + 1)),
                },
                None => Window::all(),
            }
        }
        (Some(ms), Align::Centre(t)) => Window {
            from: Some(Ts(t.0 - ms / 2)),
            to: Some(Ts(t.0 + ms / 2)),
        },
        (Some(ms), Align::Before(t)) => Window {
            from: Some(Ts(t.0 - ms)),
            to: Some(Ts(t.0 + 1)),
        },
    };
    let needle = tv.filter.to_lowercase();
    tv.rows = ix
        .pivot(&tv.entity, tv.window)
        .iter()
        .copied()
        .filter(|r| needle.is_empty() || row_matches(ix, *r, &needle))
        .collect();
    tv.selected = tv.selected.min(tv.rows.len().saturating_sub(1));
}

pub(crate) fn refresh_top_trail(s: &mut State) {
    if let Some(View::Trail(t)) = s.stack.last_mut() {
        refresh_trail(t, s.index.as_ref());
    }
}

/// After the index or graph changes: recompute every screen on the stack.
pub(crate) fn refresh_views(s: &mut State) {
    for v in s.stack.iter_mut() {
        match v {
            View::Trail(t) => {
                refresh_trail(t, s.index.as_ref());
                t.selected = t.rows.len().saturating_sub(1);
            }
            View::Graph(g) => {
                if let Some(group) = g.group.clone() {
                    g.rows = group_rows(&s.graph, &s.groups, &group);
                } else {
                    rebuild_graph(&s.graph, g);
                }
            }
            View::Profile(p) => p.stale = true,
            _ => {}
        }
    }
}

/// Counts the profile on top again if the index grew since it was counted. A profile under
/// other screens is counted when it is back on top, not at every segment of a load: the account
/// of ten million events takes a third of a second, on the thread that answers the keys.
pub(crate) fn refresh_top_profile(s: &mut State) {
    if let Some(View::Profile(p)) = s.stack.last_mut()
        && p.stale
    {
        p.activity = s.index.as_ref().and_then(|ix| ix.activity(&p.entity));
        p.stale = false;
    }
}

pub(crate) fn trail_repivot(s: &mut State, c: Command) {
    let Some(View::Trail(t)) = s.view() else {
        return;
    };
    let (Some(&row), Some(ix)) = (t.rows.get(t.selected), s.index.as_ref()) else {
        warn(s, "no event selected");
        return;
    };
    let ft = t.finding_time;
    let Some(r) = ix.row(row) else { return };
    let target = match c {
        Command::UaTrail => {
            let ua = ix.str(r.user_agent);
            (!ua.is_empty()).then(|| EntityId::new(EntityKind::Ua, ua))
        }
        Command::IpTrail => caller_address(ix.str(r.source_ip))
            .map(|ip| EntityId::new(EntityKind::Ip, ip.to_string())),
        // Another account calling (`AWSAccount`) is the one principal that is an account.
        _ => ix.entities_of(row).into_iter().find(|e| {
            e.value == ix.str(r.principal)
                && (e.kind.is_principal() || e.kind == EntityKind::Account)
        }),
    };
    match target {
        Some(e) => open_trail(s, e, Scope::All, Align::Latest, ft),
        None => warn(s, "this event has no such entity"),
    }
}
