//! The Detective panel: opened on the focused user or role (a session's role) in a live session,
//! filled as Detective answers; `new_investigation` starts one over the last seven days; opening
//! an indicator pivots to what it points at.

use super::screens::open_detail;
use super::status::warn;
use super::trail::open_trail;
use crate::app::keymap::Command;
use crate::app::msg::{Effect, EffectError};
use crate::app::select::focus_entity;
use crate::app::state::*;
use crate::model::detective::{DetectiveReport, investigation_target};
use crate::model::{EntityKind, Ts};

/// A new investigation looks at the week before it is asked for.
const SCOPE_MS: i64 = 7 * 86_400_000;

pub(crate) fn command(s: &mut State, c: Command) -> Vec<Effect> {
    match c {
        Command::Investigate => {
            let Some(e) = focus_entity(s) else {
                warn(s, "nothing selected to investigate");
                return Vec::new();
            };
            if s.opts.mode != Mode::Live {
                warn(s, "Detective is asked in a live session (vigil live)");
                return Vec::new();
            }
            let arn = match investigation_target(&e) {
                Ok(a) => a,
                Err(why) => {
                    warn(s, why);
                    return Vec::new();
                }
            };
            s.lookups.next_id += 1;
            let id = s.lookups.next_id;
            s.stack.push(View::Detective(DetectiveView {
                id,
                entity: e,
                arn: arn.clone(),
                report: None,
                started: None,
                selected: 0,
            }));
            vec![Effect::Investigate {
                id,
                entity_arn: arn,
                start: None,
            }]
        }
        Command::NewInvestigation => {
            let now = s.now;
            let Some(View::Detective(d)) = s.stack.last_mut() else {
                return Vec::new();
            };
            let no_graph = matches!(&d.report, Some(Ok(DetectiveReport { graph: None, .. })));
            let Some(now) = now.filter(|_| !no_graph) else {
                warn(
                    s,
                    "no behaviour graph in this region: nothing to investigate",
                );
                return Vec::new();
            };
            d.started = Some(now);
            vec![Effect::Investigate {
                id: d.id,
                entity_arn: d.arn.clone(),
                start: Some((Ts(now.0 - SCOPE_MS), now)),
            }]
        }
        _ => Vec::new(),
    }
}

/// Detective's answer for panel `id`, wherever it is on the stack.
pub(crate) fn on_report(
    s: &mut State,
    id: u64,
    report: Result<DetectiveReport, EffectError>,
) -> Vec<Effect> {
    let report = report.map_err(|e| e.to_string());
    if let Err(e) = &report {
        warn(s, format!("Detective: {e}"));
    }
    for v in s.stack.iter_mut() {
        if let View::Detective(d) = v
            && d.id == id
        {
            let n = report.as_ref().map_or(0, |r| r.indicators.len());
            d.selected = d.selected.min(n.saturating_sub(1));
            d.report = Some(report.clone());
        }
    }
    Vec::new()
}

/// Enter on an indicator: its finding when the console has it, else the trail of its entity.
pub(crate) fn open_indicator(s: &mut State) {
    let Some(View::Detective(d)) = s.view() else {
        return;
    };
    let Some(e) = d
        .report
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .and_then(|r| r.indicators.get(d.selected))
        .and_then(|i| i.pivot.clone())
    else {
        warn(s, "this indicator points at nothing to pivot to");
        return;
    };
    if e.kind == EntityKind::Finding {
        match s.by_id.get(e.value.as_str()).copied() {
            Some(i) => open_detail(s, i),
            None => warn(s, format!("finding {} is not in this session", e.value)),
        }
        return;
    }
    open_trail(s, e, Scope::All, Align::Latest, None);
}
