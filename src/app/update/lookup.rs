//! CloudTrail through the API in a live session: the trail on top of the stack decides what to
//! ask LookupEvents (its entity over its scope, within the last 90 days), and each page that comes
//! back is merged into the index (deduplicated by event id) and the graph, so the trail fills in
//! as pages arrive. The local index stays the first answer; the UI never waits on the API.

use super::status::warn;
use super::trail::refresh_views;
use crate::app::msg::{Effect, LookupProgress, LookupUpdate};
use crate::app::state::*;
use crate::pivot::TrailIndex;
use crate::pivot::lookup::{api_window, attribute_for};

/// The entity and window of the trail on top, if the top screen is a trail.
fn top_trail(s: &State) -> Option<(crate::model::EntityId, crate::pivot::Window)> {
    match s.view() {
        Some(View::Trail(t)) => Some((t.entity.clone(), t.window)),
        _ => None,
    }
}

fn within(inner: crate::pivot::Window, outer: crate::pivot::Window) -> bool {
    let starts = match (inner.from, outer.from) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => a >= b,
    };
    let ends = match (inner.to, outer.to) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(a), Some(b)) => a <= b,
    };
    starts && ends
}

/// After every message: start a run for the trail on top when the API has not been asked for it,
/// and stop the running one when no trail of its entity is left on the stack.
pub(crate) fn sync(s: &mut State) -> Vec<Effect> {
    if s.opts.mode != Mode::Live {
        return Vec::new();
    }
    let mut fx = Vec::new();
    if let Some(run) = &s.lookups.active {
        let (id, entity) = (run.id, run.entity.clone());
        let open = s
            .stack
            .iter()
            .any(|v| matches!(v, View::Trail(t) if t.entity == entity));
        if !open {
            fx.push(Effect::CancelLookup { id });
            finish(s);
        }
    }
    let (Some((entity, window)), Some(now)) = (top_trail(s), s.now) else {
        return fx;
    };
    // With a query engine the trail asks it (any entity its columns name, IPs included);
    // otherwise LookupEvents, for what it can filter.
    let tier = s.query_tier.clone();
    let label = match &tier {
        Some(t) => match crate::pivot::lake::condition(&entity, &crate::pivot::lake::LAKE) {
            Ok(_) => t.clone(),
            Err(_) => return fx,
        },
        None => match attribute_for(&entity) {
            Ok(attr) => format!("LookupEvents {attr}"),
            Err(_) => return fx,
        },
    };
    // What was asked is the trail's own scope (an open end stays open as the clock moves); the
    // API is asked the part of it that is at most 90 days old.
    let asked = s
        .lookups
        .covered
        .iter()
        .any(|(e, w)| *e == entity && within(window, *w))
        || s.lookups
            .active
            .as_ref()
            // A run for this entity goes on to its end even if the scope moved meanwhile (a
            // "latest" scope follows the newest event, which the run itself may bring).
            .is_some_and(|r| r.entity == entity);
    if asked {
        return fx;
    }
    // LookupEvents answers 90 days; an engine answers the scope as it is.
    let api = match &tier {
        Some(_) => window,
        None => match api_window(window, now) {
            Some(w) => w,
            None => return fx,
        },
    };
    if let Some(id) = s.lookups.active.as_ref().map(|r| r.id) {
        fx.push(Effect::CancelLookup { id });
        finish(s);
    }
    s.lookups.next_id += 1;
    let id = s.lookups.next_id;
    s.lookups.active = Some(LookupRun {
        id,
        entity: entity.clone(),
        label,
        scope: window,
        pages: 0,
        events: 0,
        added: 0,
        unreadable: 0,
        failed: Vec::new(),
        capped: false,
        stopped: false,
        done: false,
    });
    match tier {
        Some(_) => fx.push(Effect::Query {
            id,
            entity,
            window: api,
        }),
        None => {
            if let Ok(attr) = attribute_for(&entity) {
                fx.push(Effect::Lookup {
                    id,
                    attr,
                    window: api,
                });
            }
        }
    }
    fx
}

/// Ends the active run: it becomes its entity's last run; a complete one covers its window.
fn finish(s: &mut State) {
    let Some(mut run) = s.lookups.active.take() else {
        return;
    };
    let complete = run.done && run.failed.is_empty() && !run.capped;
    if complete {
        s.lookups.covered.push((run.entity.clone(), run.scope));
    }
    run.stopped = !run.done;
    run.done = true;
    s.lookups.last.insert(run.entity.clone(), run);
}

/// A page or the end of a run. Pages of a run that was replaced still go into the index (they
/// are real events); only the active run's counters move.
pub(crate) fn on_update(s: &mut State, u: LookupUpdate) -> Vec<Effect> {
    let active = s.lookups.active.as_ref().is_some_and(|r| r.id == u.id);
    match u.progress {
        LookupProgress::Page { page, body } => {
            let name = std::path::PathBuf::from(format!("cloudtrail:LookupEvents/{}", u.source));
            let loaded = crate::ingest::load_bytes(&name, body.into_bytes());
            let events = loaded.events.len();
            let unreadable = loaded.errors.len();
            let ix = s.index.get_or_insert_with(TrailIndex::new);
            let graph = &mut s.graph;
            let added = ix.merge(loaded.events, true, |ev| graph.add_event(ev));
            if let Some(first) = loaded.errors.first() {
                warn(
                    s,
                    format!("LookupEvents: {unreadable} record(s) could not be read: {first}"),
                );
            }
            if active && let Some(run) = s.lookups.active.as_mut() {
                run.pages = run.pages.max(page);
                run.events += events;
                run.added += added;
                run.unreadable += unreadable;
            }
            if added > 0 {
                refresh_views(s);
            }
        }
        LookupProgress::SourceDone { capped, .. } => {
            if active && let Some(run) = s.lookups.active.as_mut() {
                run.capped |= capped;
            }
        }
        LookupProgress::Failed { reason } => {
            warn(s, format!("LookupEvents {}: {reason}", u.source));
            if active && let Some(run) = s.lookups.active.as_mut() {
                run.failed.push((u.source, reason));
            }
        }
        LookupProgress::Finished => {
            if active {
                if let Some(run) = s.lookups.active.as_mut() {
                    run.done = true;
                }
                finish(s);
            }
        }
    }
    Vec::new()
}
