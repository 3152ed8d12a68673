//! Selectors: what the current screen is about, read from the state. Shared by the reducer and
//! the views, so neither imports the other's helpers.

use super::state::{State, View};
use crate::actions::{Action, role_name};
use crate::model::{EntityId, EntityKind, Finding, Ts};

const DAY_MS: i64 = 86_400_000;

/// The actor's address: the remote IP of the action, else the first prober, else any remote.
pub fn actor_ip(f: &Finding) -> Option<EntityId> {
    f.action
        .remote
        .as_ref()
        .and_then(|r| EntityId::ip(&r.ip))
        .or_else(|| {
            f.action
                .probes
                .iter()
                .find_map(|(_, r)| EntityId::ip(&r.ip))
        })
        .or_else(|| f.subject.remotes.first().cloned())
        .or_else(|| {
            f.entities
                .iter()
                .find(|e| e.kind == EntityKind::Ip && !f.subject.addresses.contains(e))
                .cloned()
        })
}

/// The finding the current screen is about: the detail's, or the table's selection.
pub fn current_finding(s: &State) -> Option<usize> {
    for v in s.stack.iter().rev() {
        if let View::Detail(d) = v {
            return Some(d.finding);
        }
    }
    s.selected_finding()
}

/// The entity a pivot key acts on in the current screen.
pub fn focus_entity(s: &State) -> Option<EntityId> {
    match s.view() {
        None => s
            .selected_finding()
            .and_then(|i| s.findings[i].primary_entity()),
        Some(View::Detail(d)) => d.entities.get(d.selected).cloned(),
        Some(View::Graph(g)) => g.rows.get(g.selected).and_then(|r| r.entity()).cloned(),
        Some(View::Profile(p)) => Some(p.entity.clone()),
        Some(View::Trail(t)) => Some(t.entity.clone()),
        Some(View::Event(e)) => e.entities.get(e.selected).cloned(),
        // The selected indicator's entity, else the investigated one.
        Some(View::Detective(d)) => d
            .report
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .and_then(|r| r.indicators.get(d.selected))
            .and_then(|i| i.pivot.clone())
            .or_else(|| Some(d.entity.clone())),
        Some(View::Help(_))
        | Some(View::Objectives { .. })
        | Some(View::Confirm(_))
        | Some(View::Actions(_))
        | Some(View::World(_)) => None,
    }
}

/// `t` relative to the console's clock, in at most five columns (`42s`, `3m`, `5h`, `2d`, `05-01`).
pub fn relative(now: Option<Ts>, t: Option<Ts>) -> String {
    let (Some(now), Some(t)) = (now, t) else {
        return t.map_or_else(|| "-".to_string(), |t| t.to_short()[5..16].to_string());
    };
    let d = (now.0 - t.0) / 1000;
    if d < 0 {
        return "now".into();
    }
    match d {
        0..60 => format!("{d}s"),
        60..3600 => format!("{}m", d / 60),
        3600..86_400 => format!("{}h", d / 3600),
        _ if d < 7 * DAY_MS / 1000 => format!("{}d", d / 86_400),
        // Older than a week: the date says more than a count of days.
        _ => t.to_short()[5..10].to_string(),
    }
}

/// Short role name for display.
pub fn short_target(a: &Action) -> String {
    match a {
        Action::RevokeSessions { role } => role_name(role).to_string(),
        a => a.target(),
    }
}

/// What CloudTrail's API did for the trail of `e` in a live session, in one line: a run's progress
/// or outcome, or why LookupEvents cannot answer for this entity. `None` outside live sessions.
pub fn lookup_line(s: &State, e: &EntityId) -> Option<String> {
    if s.opts.mode != super::state::Mode::Live {
        return None;
    }
    let answerable = match &s.query_tier {
        Some(_) => crate::pivot::lake::condition(e, &crate::pivot::lake::LAKE).map(|_| ()),
        None => crate::pivot::lookup::attribute_for(e).map(|_| ()),
    };
    if let Err(why) = answerable {
        return Some(why.to_string());
    }
    let run = s
        .lookups
        .active
        .as_ref()
        .filter(|r| r.entity == *e)
        .or_else(|| s.lookups.last.get(e))?;
    let counts = format!(
        "{} events, {} new",
        crate::model::text::thousands(run.events),
        crate::model::text::thousands(run.added)
    );
    let mut line = if run.done {
        format!(
            "{}: {} page{}, {counts}",
            run.label,
            run.pages,
            if run.pages == 1 { "" } else { "s" }
        )
    } else {
        format!("{}: page {}… {counts}", run.label, run.pages + 1)
    };
    if run.capped {
        line.push_str("; stopped at the page cap (narrow the scope)");
    }
    if run.stopped {
        line.push_str("; stopped when the trail was left");
    }
    if let Some((source, why)) = run.failed.first() {
        line.push_str(&format!("; {source} failed: {why}"));
    }
    Some(line)
}
