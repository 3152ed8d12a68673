//! Commands (from keys or the `:` line) by what they act on: the screens, the findings list,
//! pivots, the graph, the trail; response actions go to [`super::actions`].

use super::actions;
use super::findings::mark_seen;
use super::findings::move_cursor;
use super::findings::recompute_list;
use super::graph::graph_mark;
use super::graph::graph_recenter;
use super::graph::open_graph;
use super::graph::open_group_graph;
use super::graph::rebuild_graph;
use super::screens::open_event;
use super::screens::open_profile;
use super::screens::open_selected;
use super::status::{info, warn};
use super::trail::open_trail;
use super::trail::refresh_top_trail;
use super::trail::trail_repivot;
use crate::app::keymap::{Command, Context};
use crate::app::msg::Effect;
use crate::app::select::{actor_ip, current_finding, focus_entity};
use crate::app::state::*;
use crate::model::SeverityLabel;

pub(crate) fn run_command(s: &mut State, c: Command) -> Vec<Effect> {
    use Command as C;
    match c {
        C::Sort
        | C::Filter
        | C::ClearFilter
        | C::SeverityMin
        | C::GroupFilter
        | C::GroupView
        | C::ToggleArchived => list_command(s, c),
        C::ActorTrail
        | C::ActorProfile
        | C::Before
        | C::Trail
        | C::Graph
        | C::Profile
        | C::ToggleRaw => pivot_command(s, c),
        C::Recenter | C::GraphBack | C::Mark | C::Depth | C::Expand | C::ShowGroup => {
            graph_command(s, c)
        }
        C::Scope1h
        | C::Scope24h
        | C::Scope7d
        | C::ScopeAll
        | C::Centre
        | C::UaTrail
        | C::IpTrail
        | C::PrincipalTrail => trail_command(s, c),
        C::Investigate | C::NewInvestigation => super::detective::command(s, c),
        C::Record => vec![Effect::Record {
            on: s.recording.is_none(),
        }],
        C::Objectives | C::Hint => {
            drill_command(s, c);
            Vec::new()
        }
        c if c.is_action() => actions::on_action_key(s, c),
        C::DryRun => {
            actions::toggle_dry_run(s);
            Vec::new()
        }
        C::ActionsScreen => {
            actions::open_actions(s);
            Vec::new()
        }
        C::WorldScreen => {
            actions::open_world(s);
            Vec::new()
        }
        C::ConfirmYes | C::ConfirmNo => {
            info(s, "nothing to confirm");
            Vec::new()
        }
        _ => screen_command(s, c),
    }
}

/// Moving around: help, the command line, back, home, the cursor, open.
fn screen_command(s: &mut State, c: Command) -> Vec<Effect> {
    let ctx = s.context();
    match c {
        Command::Noop => {}
        Command::Quit => {
            s.quit = true;
            return vec![Effect::Quit];
        }
        Command::Help => {
            if matches!(s.view(), Some(View::Help(_))) {
                s.stack.pop();
            } else {
                s.stack.push(View::Help(HelpView {
                    context: ctx,
                    scroll: 0,
                }));
            }
        }
        Command::CommandLine => {
            s.input = Some(Input {
                kind: InputKind::Command,
                text: String::new(),
                completions: Vec::new(),
                completion: 0,
            });
        }
        Command::Back if s.stack.pop().is_none() => s.status = None,
        Command::Back => {}
        Command::Home => s.stack.clear(),
        Command::Up
        | Command::Down
        | Command::PageUp
        | Command::PageDown
        | Command::Top
        | Command::Bottom => move_cursor(s, c),
        Command::Open => match s.view() {
            None => open_selected(s),
            Some(View::Trail(_)) => return open_event(s),
            Some(View::Detective(_)) => super::detective::open_indicator(s),
            _ => {}
        },
        _ => {}
    }
    Vec::new()
}

/// The findings list: sort, filters, grouping, archived.
fn list_command(s: &mut State, c: Command) -> Vec<Effect> {
    match c {
        Command::Sort => {
            s.list.sort = match s.list.sort {
                SortKey::Severity => SortKey::Time,
                SortKey::Time => SortKey::Type,
                SortKey::Type => SortKey::Severity,
            };
            recompute_list(s);
            info(s, format!("sorted by {}", s.list.sort.as_str()));
        }
        Command::Filter => {
            let (kind, text) = match s.view() {
                Some(View::Trail(t)) => (InputKind::TrailFilter, t.filter.clone()),
                _ => (InputKind::FindingsFilter, s.list.filter.clone()),
            };
            s.input = Some(Input {
                kind,
                text,
                completions: Vec::new(),
                completion: 0,
            });
        }
        Command::ClearFilter => match s.stack.last_mut() {
            Some(View::Trail(t)) => {
                t.filter.clear();
                refresh_top_trail(s);
            }
            _ => {
                s.list.filter.clear();
                s.list.min_severity = None;
                s.list.group_only = None;
                recompute_list(s);
                info(s, "filters cleared");
            }
        },
        Command::SeverityMin => {
            s.list.min_severity = match s.list.min_severity {
                None => Some(SeverityLabel::Low),
                Some(SeverityLabel::Low) => Some(SeverityLabel::Medium),
                Some(SeverityLabel::Medium) => Some(SeverityLabel::High),
                Some(SeverityLabel::High) => Some(SeverityLabel::Critical),
                Some(SeverityLabel::Critical) => None,
            };
            recompute_list(s);
        }
        Command::GroupFilter => {
            if s.list.group_only.is_some() {
                s.list.group_only = None;
            } else if let Some(g) = current_finding(s).and_then(|i| s.group_id_of(i)) {
                s.list.group_only = Some(g.to_string());
            }
            recompute_list(s);
        }
        Command::GroupView => {
            s.list.group_view = !s.list.group_view;
            recompute_list(s);
        }
        Command::ToggleArchived => {
            s.list.show_archived = !s.list.show_archived;
            recompute_list(s);
            let shown = if s.list.show_archived {
                "shown"
            } else {
                "hidden"
            };
            info(s, format!("archived findings {shown}"));
        }
        _ => {}
    }
    Vec::new()
}

/// From a finding or the focused entity to a trail, graph or profile.
fn pivot_command(s: &mut State, c: Command) -> Vec<Effect> {
    let ctx = s.context();
    match c {
        Command::ActorTrail | Command::ActorProfile => {
            let Some(i) = current_finding(s) else {
                warn(s, "no finding selected");
                return Vec::new();
            };
            let f = &s.findings[i];
            let t = f.time();
            match actor_ip(f) {
                Some(ip) if c == Command::ActorTrail => {
                    mark_seen(s, i);
                    open_trail(s, ip, Scope::All, Align::Latest, t)
                }
                Some(ip) => {
                    mark_seen(s, i);
                    open_profile(s, ip)
                }
                None => warn(s, "this finding names no remote IP"),
            }
        }
        Command::Before => {
            let Some(i) = current_finding(s) else {
                warn(s, "no finding selected");
                return Vec::new();
            };
            let f = &s.findings[i];
            let (e, t) = (f.primary_entity(), f.time());
            match (e, t) {
                (Some(e), Some(t)) => {
                    mark_seen(s, i);
                    open_trail(s, e, Scope::Day, Align::Before(t), Some(t))
                }
                _ => warn(s, "this finding has no resource or no time to look before"),
            }
        }
        Command::Trail | Command::Graph | Command::Profile => {
            let Some(e) = focus_entity(s) else {
                warn(s, "nothing selected to pivot to");
                return Vec::new();
            };
            if ctx == Context::Findings
                && let Some(i) = s.selected_finding()
            {
                mark_seen(s, i);
            }
            let ft = current_finding(s).and_then(|i| s.findings[i].time());
            match c {
                Command::Trail => open_trail(s, e, Scope::All, Align::Latest, ft),
                Command::Graph => open_graph(s, e),
                _ => open_profile(s, e),
            }
        }
        Command::ToggleRaw => {
            if let Some(View::Detail(d)) = s.stack.last_mut() {
                d.show_raw = !d.show_raw;
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The graph screen.
fn graph_command(s: &mut State, c: Command) -> Vec<Effect> {
    match c {
        Command::Recenter => graph_recenter(s),
        Command::GraphBack => {
            let g = match s.stack.last_mut() {
                Some(View::Graph(g)) => g,
                _ => return Vec::new(),
            };
            match g.crumbs.pop() {
                Some(prev) => {
                    g.center = prev;
                    g.selected = 0;
                    g.group = None;
                    rebuild_graph(&s.graph, g);
                }
                None => {
                    s.stack.pop();
                }
            }
        }
        Command::Mark => graph_mark(s),
        Command::Depth => {
            if let Some(View::Graph(g)) = s.stack.last_mut() {
                g.depth = if g.depth >= 2 { 1 } else { 2 };
                rebuild_graph(&s.graph, g);
            }
        }
        Command::Expand => {
            if let Some(View::Graph(g)) = s.stack.last_mut()
                && let Some(GraphRow::Collapsed {
                    parent,
                    relation,
                    kind,
                    ..
                }) = g.rows.get(g.selected).cloned()
            {
                let key = (parent, relation, kind);
                if !g.expanded.remove(&key) {
                    g.expanded.insert(key);
                }
                rebuild_graph(&s.graph, g);
            }
        }
        Command::ShowGroup => {
            let Some(i) = current_finding(s) else {
                warn(s, "no finding selected");
                return Vec::new();
            };
            if let Some(g) = s.group_id_of(i).map(str::to_string) {
                open_group_graph(s, &g);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The trail screen: scopes, centring, re-pivots.
fn trail_command(s: &mut State, c: Command) -> Vec<Effect> {
    match c {
        Command::Scope1h | Command::Scope24h | Command::Scope7d | Command::ScopeAll => {
            if let Some(View::Trail(t)) = s.stack.last_mut() {
                t.scope = match c {
                    Command::Scope1h => Scope::Hour,
                    Command::Scope24h => Scope::Day,
                    Command::Scope7d => Scope::Week,
                    _ => Scope::All,
                };
            }
            refresh_top_trail(s);
        }
        Command::Centre => {
            if let Some(View::Trail(t)) = s.stack.last_mut() {
                match t.finding_time {
                    Some(ft) => {
                        t.align = Align::Centre(ft);
                        if t.scope == Scope::All {
                            t.scope = Scope::Hour;
                        }
                    }
                    None => {
                        warn(
                            s,
                            "this trail did not start from a finding; nothing to centre on",
                        );
                        return Vec::new();
                    }
                }
            }
            refresh_top_trail(s);
        }
        Command::UaTrail | Command::IpTrail | Command::PrincipalTrail => trail_repivot(s, c),
        _ => {}
    }
    Vec::new()
}

/// A drill's objectives (from the scenario's answer key) and its hints, each costing points.
fn drill_command(s: &mut State, c: Command) {
    let Some(d) = s.drill.as_mut() else {
        warn(
            s,
            "objectives and hints are for drills (vigil train SCENARIO)",
        );
        return;
    };
    if c == Command::Hint {
        if d.hints_used >= d.hints.len() {
            warn(s, "no more hints");
            return;
        }
        d.hints_used += 1;
        let n = d.hints_used;
        info(
            s,
            format!("hint {n} (it costs 5 points): see the objectives screen"),
        );
    }
    // Both show the objectives screen (a hint is read there).
    if !matches!(s.view(), Some(View::Objectives { .. })) {
        s.stack.push(View::Objectives { scroll: 0 });
    }
}
