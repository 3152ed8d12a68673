//! The reducer: `update(&mut State, Msg) -> Vec<Effect>`. Pure: no IO, no clock, no randomness.
//! Keys are resolved to commands here, through the keymap held in the state.

use super::keymap::{Command, Context, Key, KeyCode, Lookup, chord_string};
use super::state::*;
use super::{Effect, Msg};
use crate::graph::{EntityGraph, Relation, groups};
use crate::model::entity::caller_address;
use crate::model::{EntityId, EntityKind, Finding, SeverityLabel, Ts};
use crate::pivot::{TrailIndex, Window};
use std::collections::{BTreeMap, HashSet};

/// Neighbours of one relation and kind listed before they collapse into a count.
pub const COLLAPSE_AT: usize = 8;
const COLLAPSE_AT_DEPTH2: usize = 4;
const SPARK_BUCKETS: usize = 24;
const DAY_MS: i64 = 86_400_000;

pub fn update(s: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(k) => on_key(s, k),
        Msg::Resize { width, height } => {
            s.width = width;
            s.height = height;
            Vec::new()
        }
        Msg::Tick { now } => {
            s.now = Some(now);
            Vec::new()
        }
        Msg::Findings(batch) => {
            // The wait a skip shortened is over.
            s.quiet_skipped = None;
            add_findings(s, batch);
            Vec::new()
        }
        Msg::QuietSkipped(d) => {
            s.quiet_skipped = Some(d);
            Vec::new()
        }
        Msg::LoadErrors { count, first } => {
            s.load_errors += count;
            if count > 0 {
                // One status line for the whole load, however many files fail: the running total
                // and the latest file's first error (already escaped); the log has the rest.
                let total = crate::model::text::thousands(s.load_errors);
                let text = match first {
                    Some(f) => {
                        format!("{total} record(s) could not be read (see the log); latest: {f}")
                    }
                    None => format!("{total} record(s) could not be read (see the log)"),
                };
                warn(s, text);
            }
            Vec::new()
        }
        Msg::Progress(p) => {
            s.index_state = IndexState::Loading(p);
            Vec::new()
        }
        Msg::Indexed(ix) => {
            let ix = *ix;
            s.graph = ix.graph;
            s.graph_findings = ix.findings.min(s.findings.len());
            for f in &s.findings[s.graph_findings..] {
                s.graph.add_finding(f);
            }
            s.graph_findings = s.findings.len();
            s.index = Some(ix.index);
            s.index_state = IndexState::Ready {
                events: ix.events,
                elapsed_ms: ix.elapsed_ms,
            };
            refresh_views(s);
            Vec::new()
        }
        Msg::Integrity(totals) => {
            s.integrity = Some(totals);
            Vec::new()
        }
        Msg::RawLoaded { row, text } => {
            for v in s.stack.iter_mut() {
                if let View::Event(e) = v
                    && e.row == row
                {
                    e.raw = Some(text.clone().map(|t| pretty_lines(&t)));
                }
            }
            Vec::new()
        }
        Msg::Signal(name) => {
            s.quit = true;
            info(s, format!("{name}: quitting"));
            vec![Effect::Quit]
        }
        m @ (Msg::PlanReady { .. }
        | Msg::Audit { .. }
        | Msg::ActionDone { .. }
        | Msg::SnapshotProgress { .. }
        | Msg::Account(_)) => super::actions::on_msg(s, m),
    }
}

fn info(s: &mut State, text: impl Into<String>) {
    s.status = Some(Status {
        level: StatusLevel::Info,
        text: text.into(),
    });
}

fn warn(s: &mut State, text: impl Into<String>) {
    s.status = Some(Status {
        level: StatusLevel::Warn,
        text: text.into(),
    });
}

fn error(s: &mut State, text: impl Into<String>) {
    s.status = Some(Status {
        level: StatusLevel::Error,
        text: text.into(),
    });
}

// ---------------------------------------------------------------------------------------------
// Findings

fn add_findings(s: &mut State, batch: Vec<Finding>) {
    if batch.is_empty() {
        return;
    }
    // The first batch of a file load is the starting point, not news.
    let news = !(s.findings.is_empty() && s.opts.mode == Mode::Files);
    let mut added = 0usize;
    for f in batch {
        if let Some(&i) = s.by_id.get(&f.id) {
            // An update of a finding we have (a poller re-reading it): replace in place.
            let newer = f.updated_at >= s.findings[i].updated_at;
            if newer {
                s.findings[i] = f;
                s.unseen[i] = news;
            }
            continue;
        }
        let i = s.findings.len();
        s.by_id.insert(f.id.clone(), i);
        s.findings.push(f);
        s.unseen.push(news);
        added += 1;
    }
    // Keep the graph in step (the indexer replaces it with a fuller one later).
    for f in &s.findings[s.graph_findings..] {
        s.graph.add_finding(f);
    }
    s.graph_findings = s.findings.len();
    s.groups = groups::compute(&s.findings);
    let gi = groups::index(&s.groups);
    s.group_of = s
        .findings
        .iter()
        .map(|f| gi.get(f.id.as_str()).map_or(0, |g| *g as u32))
        .collect();
    recompute_summary(s);
    recompute_list(s);
    if news && added > 0 {
        info(s, format!("{added} new finding(s)"));
    }
}

fn recompute_summary(s: &mut State) {
    let mut counts = [0usize; 4];
    let mut times: Vec<i64> = Vec::new();
    for f in s.findings.iter().filter(|f| !f.archived) {
        let slot = match f.label() {
            SeverityLabel::Critical => 0,
            SeverityLabel::High => 1,
            SeverityLabel::Medium => 2,
            SeverityLabel::Low => 3,
        };
        counts[slot] += 1;
        if let Some(t) = f.time() {
            times.push(t.0);
        }
    }
    let mut spark = vec![0u64; SPARK_BUCKETS];
    if let (Some(lo), Some(hi)) = (times.iter().min(), times.iter().max()) {
        let span = (hi - lo).max(1);
        for t in &times {
            let b = ((t - lo) as i128 * (SPARK_BUCKETS as i128 - 1) / span as i128) as usize;
            spark[b.min(SPARK_BUCKETS - 1)] += 1;
        }
    }
    let mut accounts: Vec<String> = s
        .findings
        .iter()
        .filter_map(|f| f.account_id.clone())
        .collect();
    accounts.sort();
    accounts.dedup();
    let mut regions: Vec<String> = s.findings.iter().filter_map(|f| f.region.clone()).collect();
    regions.sort();
    regions.dedup();
    s.summary = Summary {
        counts,
        spark,
        accounts,
        regions,
    };
}

fn finding_matches(s: &State, i: usize, needle: &str) -> bool {
    let f = &s.findings[i];
    if f.archived && !s.list.show_archived {
        return false;
    }
    if let Some(min) = s.list.min_severity
        && f.label() < min
    {
        return false;
    }
    if let Some(g) = &s.list.group_only
        && s.group_id_of(i) != Some(g.as_str())
    {
        return false;
    }
    if needle.is_empty() {
        return true;
    }
    let hay = [
        f.finding_type.as_str(),
        f.title.as_str(),
        f.resource.as_str(),
        f.id.as_str(),
        f.account_id.as_deref().unwrap_or(""),
        f.region.as_deref().unwrap_or(""),
        s.group_id_of(i).unwrap_or(""),
    ];
    hay.iter().any(|h| h.to_lowercase().contains(needle))
}

pub(crate) fn recompute_list(s: &mut State) {
    let keep = s.list.rows.get(s.list.selected).copied();
    let needle = s.list.filter.to_lowercase();
    let mut idx: Vec<u32> = (0..s.findings.len())
        .filter(|i| finding_matches(s, *i, &needle))
        .map(|i| i as u32)
        .collect();
    let fs = &s.findings;
    let time = |i: u32| fs[i as usize].time().unwrap_or(Ts(i64::MIN));
    match s.list.sort {
        SortKey::Severity => idx.sort_by(|a, b| {
            let (x, y) = (&fs[*a as usize], &fs[*b as usize]);
            y.severity
                .total_cmp(&x.severity)
                .then(time(*b).cmp(&time(*a)))
                .then(x.id.cmp(&y.id))
        }),
        SortKey::Time => idx.sort_by(|a, b| {
            time(*b)
                .cmp(&time(*a))
                .then(fs[*a as usize].id.cmp(&fs[*b as usize].id))
        }),
        SortKey::Type => idx.sort_by(|a, b| {
            let (x, y) = (&fs[*a as usize], &fs[*b as usize]);
            x.finding_type
                .cmp(&y.finding_type)
                .then(y.severity.total_cmp(&x.severity))
                .then(x.id.cmp(&y.id))
        }),
    }
    let rows: Vec<ListRow> = if s.list.group_view {
        let mut per: Vec<Vec<u32>> = vec![Vec::new(); s.groups.len()];
        for i in idx {
            if let Some(g) = s.group_of.get(i as usize) {
                per[*g as usize].push(i);
            }
        }
        per.into_iter()
            .enumerate()
            .filter(|(_, m)| !m.is_empty())
            .flat_map(|(g, m)| {
                std::iter::once(ListRow::Group(g as u32)).chain(m.into_iter().map(ListRow::Finding))
            })
            .collect()
    } else {
        idx.into_iter().map(ListRow::Finding).collect()
    };
    // On the top row the cursor follows the top (the most severe finding as they stream in);
    // once the operator has moved it, it stays on the finding they chose.
    s.list.selected = if s.list.selected == 0 {
        0
    } else {
        keep.and_then(|k| rows.iter().position(|r| *r == k))
            .unwrap_or_else(|| s.list.selected.min(rows.len().saturating_sub(1)))
    };
    s.list.rows = rows;
}

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

// ---------------------------------------------------------------------------------------------
// Keys

fn on_key(s: &mut State, key: Key) -> Vec<Effect> {
    if s.input.is_some() {
        return on_input_key(s, key);
    }
    if matches!(s.view(), Some(View::Confirm(_)))
        && s.pending.is_empty()
        && let Some(effects) = super::actions::on_confirm_key(s, key)
    {
        return effects;
    }
    let ctx = s.context();
    let mut keys = std::mem::take(&mut s.pending);
    keys.push(key);
    s.pending_hint.clear();
    match s.keymap.lookup(ctx, &keys) {
        Lookup::Command(c) => run_command(s, c),
        Lookup::Pending(hint) => {
            s.pending = keys;
            s.pending_hint = hint;
            Vec::new()
        }
        Lookup::Unbound => {
            let help = s
                .keymap
                .key_for(ctx, Command::Help)
                .unwrap_or_else(|| "?".into());
            warn(
                s,
                format!(
                    "`{}` is not bound in {ctx}; {help} lists the keys",
                    chord_string(&keys)
                ),
            );
            Vec::new()
        }
    }
}

fn on_input_key(s: &mut State, key: Key) -> Vec<Effect> {
    let cmd = match s.keymap.lookup(Context::Input, &[key]) {
        Lookup::Command(c) => Some(c),
        _ => None,
    };
    let Some(input) = s.input.as_mut() else {
        return Vec::new();
    };
    match cmd {
        Some(Command::Submit) => {
            let input = s.input.take();
            if let Some(input) = input {
                return submit_input(s, input);
            }
        }
        Some(Command::Cancel) => {
            let kind = input.kind.clone();
            s.input = None;
            // Cancelling a filter prompt drops the filter typed so far.
            match kind {
                InputKind::FindingsFilter => {
                    s.list.filter.clear();
                    recompute_list(s);
                }
                InputKind::TrailFilter => {
                    if let Some(View::Trail(t)) = s.stack.last_mut() {
                        t.filter.clear();
                    }
                    refresh_top_trail(s);
                }
                InputKind::Command => {}
            }
        }
        Some(Command::Complete) => complete(s),
        Some(Command::DeleteBack) => {
            input.text.pop();
            input.completions.clear();
            live_filter(s);
        }
        _ => {
            if let KeyCode::Char(c) = key.code
                && !key.ctrl
                && !key.alt
            {
                input.text.push(c);
                input.completions.clear();
                live_filter(s);
            }
        }
    }
    Vec::new()
}

/// Filters apply as they are typed.
fn live_filter(s: &mut State) {
    let Some(input) = &s.input else { return };
    let text = input.text.clone();
    match input.kind {
        InputKind::FindingsFilter => {
            s.list.filter = text;
            recompute_list(s);
        }
        InputKind::TrailFilter => {
            if let Some(View::Trail(t)) = s.stack.last_mut() {
                t.filter = text;
            }
            refresh_top_trail(s);
        }
        InputKind::Command => {}
    }
}

const COMMAND_WORDS: [&str; 7] = ["findings", "graph", "trail", "profile", "help", "q", "quit"];

fn complete(s: &mut State) {
    let Some(input) = s.input.as_mut() else {
        return;
    };
    if input.kind != InputKind::Command {
        return;
    }
    if input.completions.is_empty() {
        let text = input.text.clone();
        let cands: Vec<String> = match text.split_once(' ') {
            None => COMMAND_WORDS
                .iter()
                .filter(|w| w.starts_with(text.as_str()))
                .map(|w| format!("{w} "))
                .collect(),
            Some((cmd, arg)) => {
                let arg = arg.trim_start();
                let mut ids: Vec<String> = s
                    .graph
                    .entity_ids()
                    .into_iter()
                    .map(|e| e.to_string())
                    .filter(|e| e.starts_with(arg) || (!arg.contains(':') && e.contains(arg)))
                    .take(500)
                    .map(|e| format!("{cmd} {e}"))
                    .collect();
                ids.sort();
                ids
            }
        };
        if cands.is_empty() {
            warn(s, "no completions");
            return;
        }
        let Some(input) = s.input.as_mut() else {
            return;
        };
        input.completions = cands;
        input.completion = 0;
    } else {
        input.completion = (input.completion + 1) % input.completions.len();
    }
    let Some(input) = s.input.as_mut() else {
        return;
    };
    if let Some(c) = input.completions.get(input.completion) {
        input.text = c.clone();
    }
    let n = input.completions.len();
    if n > 1 {
        let shown = input.completion + 1;
        info(s, format!("completion {shown}/{n} (tab for the next)"));
    }
}

fn submit_input(s: &mut State, input: Input) -> Vec<Effect> {
    match input.kind {
        InputKind::FindingsFilter => {
            s.list.filter = input.text;
            recompute_list(s);
            Vec::new()
        }
        InputKind::TrailFilter => {
            if let Some(View::Trail(t)) = s.stack.last_mut() {
                t.filter = input.text;
            }
            refresh_top_trail(s);
            Vec::new()
        }
        InputKind::Command => run_command_line(s, input.text.trim()),
    }
}

/// `:findings`, `:graph ENTITY`, `:trail ENTITY`, `:profile ENTITY`, `:help`, `:q`.
pub fn run_command_line(s: &mut State, line: &str) -> Vec<Effect> {
    let line = line.trim_start_matches(':').trim();
    let (cmd, arg) = match line.split_once(char::is_whitespace) {
        Some((c, a)) => (c, Some(a.trim())),
        None => (line, None),
    };
    match cmd {
        "" => Vec::new(),
        "q" | "quit" => run_command(s, Command::Quit),
        "findings" | "f" => {
            s.stack.clear();
            Vec::new()
        }
        "help" => run_command(s, Command::Help),
        "graph" | "trail" | "profile" => {
            let Some(arg) = arg.filter(|a| !a.is_empty()) else {
                error(
                    s,
                    format!(
                        ":{cmd} needs an entity id, e.g. :{cmd} ip:203.0.113.7 (tab completes)"
                    ),
                );
                return Vec::new();
            };
            match EntityId::parse(arg) {
                Ok(e) => {
                    match cmd {
                        "graph" => open_graph(s, e),
                        "trail" => open_trail(s, e, Scope::All, Align::Latest, None),
                        _ => open_profile(s, e),
                    }
                    Vec::new()
                }
                Err(e) => {
                    error(s, format!("{arg}: {e}"));
                    Vec::new()
                }
            }
        }
        other => {
            error(
                s,
                format!(
                    "unknown command :{other}; try :findings, :graph, :trail, :profile, :help, :q"
                ),
            );
            Vec::new()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Commands

/// The finding the current screen is about: the detail's, or the table's selection.
pub(crate) fn current_finding(s: &State) -> Option<usize> {
    for v in s.stack.iter().rev() {
        if let View::Detail(d) = v {
            return Some(d.finding);
        }
    }
    s.selected_finding()
}

/// The entity a pivot key acts on in the current screen.
pub(crate) fn focus_entity(s: &State) -> Option<EntityId> {
    match s.view() {
        None => s
            .selected_finding()
            .and_then(|i| s.findings[i].primary_entity()),
        Some(View::Detail(d)) => d.entities.get(d.selected).cloned(),
        Some(View::Graph(g)) => g.rows.get(g.selected).and_then(|r| r.entity()).cloned(),
        Some(View::Profile(p)) => Some(p.entity.clone()),
        Some(View::Trail(t)) => Some(t.entity.clone()),
        Some(View::Event(e)) => e.entities.get(e.selected).cloned(),
        Some(View::Help(_))
        | Some(View::Confirm(_))
        | Some(View::Actions(_))
        | Some(View::World(_)) => None,
    }
}

fn run_command(s: &mut State, c: Command) -> Vec<Effect> {
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
            _ => {}
        },
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
        c if c.is_action() => return super::actions::on_action_key(s, c),
        Command::DryRun => super::actions::toggle_dry_run(s),
        Command::ActionsScreen => super::actions::open_actions(s),
        Command::WorldScreen => super::actions::open_world(s),
        Command::ConfirmYes | Command::ConfirmNo => info(s, "nothing to confirm"),
        Command::Submit | Command::Cancel | Command::Complete | Command::DeleteBack => {}
        _ => {}
    }
    Vec::new()
}

fn mark_seen(s: &mut State, i: usize) {
    if let Some(u) = s.unseen.get_mut(i) {
        *u = false;
    }
}

fn step(cur: usize, len: usize, c: Command, page: usize) -> usize {
    if len == 0 {
        return 0;
    }
    let last = len - 1;
    match c {
        Command::Up => cur.saturating_sub(1),
        Command::Down => (cur + 1).min(last),
        Command::PageUp => cur.saturating_sub(page),
        Command::PageDown => (cur + page).min(last),
        Command::Top => 0,
        Command::Bottom => last,
        _ => cur.min(last),
    }
}

fn move_cursor(s: &mut State, c: Command) {
    let page = s.page();
    match s.stack.last_mut() {
        None => {
            s.list.selected = step(s.list.selected, s.list.rows.len(), c, page);
            if let Some(i) = s.selected_finding() {
                mark_seen(s, i);
            }
        }
        Some(View::Detail(d)) => match c {
            Command::PageUp | Command::PageDown => {
                d.show_raw = true;
                d.raw_scroll = step(d.raw_scroll, d.raw_lines.len(), c, page / 2);
            }
            _ => d.selected = step(d.selected, d.entities.len(), c, page),
        },
        Some(View::Graph(g)) => g.selected = step(g.selected, g.rows.len(), c, page),
        Some(View::Profile(p)) => p.scroll = step(p.scroll, 200, c, page),
        Some(View::Trail(t)) => t.selected = step(t.selected, t.rows.len(), c, page),
        Some(View::Event(e)) => match c {
            Command::PageUp | Command::PageDown => {
                let n = e
                    .raw
                    .as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .map_or(0, Vec::len);
                e.raw_scroll = step(e.raw_scroll, n, c, page / 2);
            }
            _ => e.selected = step(e.selected, e.entities.len(), c, page),
        },
        Some(View::Help(h)) => h.scroll = step(h.scroll, 200, c, page),
        Some(View::Confirm(cv)) => cv.scroll = step(cv.scroll, 200, c, page),
        Some(View::Actions(a)) => match c {
            Command::PageUp | Command::PageDown => {
                a.scroll = step(a.scroll, s.actions.log.len(), c, page / 2)
            }
            _ => a.selected = step(a.selected, s.actions.jobs.len(), c, page),
        },
        Some(View::World(w)) => w.scroll = step(w.scroll, 500, c, page),
    }
}

// ---------------------------------------------------------------------------------------------
// Screens

fn open_selected(s: &mut State) {
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

fn pretty_lines(raw: &str) -> Vec<String> {
    let text = serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| raw.to_string());
    text.lines().map(str::to_string).collect()
}

fn open_profile(s: &mut State, e: EntityId) {
    if !s.graph.contains(&e) {
        warn(
            s,
            format!("{e} does not appear in the evidence loaded so far"),
        );
    }
    s.stack.push(View::Profile(ProfileView {
        entity: e,
        scroll: 0,
    }));
}

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
    if s.index.is_none() {
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

fn row_matches(ix: &TrailIndex, r: u32, needle: &str) -> bool {
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

fn refresh_top_trail(s: &mut State) {
    if let Some(View::Trail(t)) = s.stack.last_mut() {
        refresh_trail(t, s.index.as_ref());
    }
}

/// After the index or graph changes: recompute every screen on the stack.
fn refresh_views(s: &mut State) {
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
            _ => {}
        }
    }
}

fn open_event(s: &mut State) -> Vec<Effect> {
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
    let raw = r.raw.clone();
    let event_id = r.event_id.to_string();
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

fn trail_repivot(s: &mut State, c: Command) {
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

fn open_group_graph(s: &mut State, group: &str) {
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

fn group_rows(graph: &EntityGraph, groups: &[crate::graph::Group], id: &str) -> Vec<GraphRow> {
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

fn graph_recenter(s: &mut State) {
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

fn graph_mark(s: &mut State) {
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

fn add_children(
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
