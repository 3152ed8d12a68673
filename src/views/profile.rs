//! Entity profile: Detective's questions in the terminal — when, how much, which APIs (ok/failed),
//! from where, with what, by whom, related findings, and for an instance its peers and lookups.

use super::theme::Theme;
use crate::app::state::{ProfileView, State};
use crate::graph::{Profile, Relation};
use crate::model::{EntityKind, SeverityLabel};
use crate::pivot::Activity;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, p: &ProfileView, t: &Theme, frame: &mut Frame, body: Rect) {
    let w = usize::from(body.width);
    let lines = profile_lines(state, p, t, w);
    let h = usize::from(body.height);
    let max_scroll = lines.len().saturating_sub(h);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(p.scroll.min(max_scroll))
        .take(h)
        .collect();
    frame.render_widget(Paragraph::new(shown), body);
}

fn heading<'a>(t: &Theme, s: String) -> Line<'a> {
    Line::from(Span::styled(s, t.title()))
}

fn profile_lines<'a>(state: &'a State, p: &ProfileView, t: &Theme, w: usize) -> Vec<Line<'a>> {
    let e = &p.entity;
    let tag = t.intel_tag(&state.intel, e);
    let room = w.saturating_sub(4 + tag.as_ref().map_or(0, |s| s.content.chars().count()));
    let mut head = vec![
        Span::styled(format!(" {} ", t.symbol(e.kind)), t.kind(e.kind)),
        Span::styled(t.fit(&e.to_string(), room), t.title()),
    ];
    head.extend(tag);
    let mut v: Vec<Line> = vec![Line::from(head)];
    // The trail's part is the index's (counted when the profile opened); findings, flow
    // records and DNS queries are the graph's.
    let (trail, graph) = (p.activity.as_ref(), state.graph.profile(e));
    if trail.is_none() && graph.is_none() {
        v.push(Line::from(Span::styled(
            " no activity recorded for this entity in the evidence loaded so far",
            t.dim(),
        )));
        related(state, p, t, w, &mut v);
        return v;
    }
    let no_trail = Activity::default();
    let no_graph = Profile::default();
    let (trail, graph) = (trail.unwrap_or(&no_trail), graph.unwrap_or(&no_graph));
    let first = [trail.first, graph.first_seen].into_iter().flatten().min();
    let last = [trail.last, graph.last_seen].into_iter().flatten().max();
    let when = |x: Option<crate::model::Ts>| x.map_or("-".to_string(), |x| x.to_short());
    v.push(Line::from(format!(
        " seen {} .. {}",
        when(first),
        when(last)
    )));
    v.push(Line::from(vec![
        Span::raw(format!(" {} API calls, ", trail.events)),
        Span::styled(
            format!("{} failed", trail.errors),
            if trail.errors > 0 { t.bad() } else { t.dim() },
        ),
        Span::raw(format!(
            ", {} findings, {} flow records, {} DNS queries",
            graph.findings, graph.flows, graph.queries
        )),
    ]));
    let spark_w = w.saturating_sub(14).min(96);
    let hourly = trail.hourly(spark_w);
    if !hourly.is_empty() {
        let vals: Vec<u64> = hourly.iter().map(|(_, n)| *n).collect();
        let peak = vals.iter().max().copied().unwrap_or(0);
        v.push(Line::from(vec![
            Span::styled(" calls/hour ", t.dim()),
            Span::styled(t.spark(&vals), t.accent()),
            Span::styled(format!(" max {peak}"), t.dim()),
        ]));
    }
    for (title, names) in [
        ("Principals (credentials)", &trail.principals),
        ("Source IPs", &trail.source_ips),
    ] {
        if names.is_empty() {
            continue;
        }
        v.push(heading(t, format!(" {title} ({})", names.len())));
        for name in names.iter().take(5) {
            let tag = state.intel.mark_ip(name).map(|l| t.list_tag(l));
            let room = w.saturating_sub(4 + tag.as_ref().map_or(0, |s| s.content.chars().count()));
            let mut spans = vec![Span::raw(format!("   {}", t.fit(name, room)))];
            spans.extend(tag);
            v.push(Line::from(spans));
        }
    }
    user_agents(trail, t, w, &mut v);
    related(state, p, t, w, &mut v);
    let top = &trail.apis[..trail.apis.len().min(10)];
    if !top.is_empty() {
        v.push(heading(
            t,
            " Top API calls                      ok  failed".to_string(),
        ));
        for (name, ok, failed) in top {
            let (ok, failed) = (*ok, *failed);
            v.push(Line::from(vec![
                Span::raw(format!(" {:<32}", t.fit(name, 32))),
                Span::styled(format!("{ok:>5}"), t.good()),
                Span::styled(
                    format!("{failed:>8}"),
                    if failed > 0 { t.bad() } else { t.dim() },
                ),
            ]));
        }
    }
    v
}

/// User agents, most used first, each with its event count. Agents often share a long prefix
/// (SDK, language, OS) and differ at the end (command, framework): each is cut in the middle so
/// what sets it apart from the others stays in view.
fn user_agents(trail: &Activity, t: &Theme, w: usize, v: &mut Vec<Line<'_>>) {
    let all = &trail.user_agents;
    if all.is_empty() {
        return;
    }
    v.push(heading(
        t,
        format!(" User agents ({}, by events)", all.len()),
    ));
    let shown = &all[..all.len().min(MAX_AGENTS)];
    let count_w = shown
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(1);
    let room = w.saturating_sub(count_w + 6);
    for (i, (name, n)) in shown.iter().enumerate() {
        let distinct = shown
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (other, _))| shared_prefix(name, other))
            .max()
            .map_or(0, |d| token_start(name, d));
        v.push(Line::from(vec![
            Span::styled(format!("   {n:>count_w$} "), t.accent()),
            Span::raw(t.fit_middle(name, room, distinct)),
        ]));
    }
    if all.len() > shown.len() {
        v.push(Line::from(Span::styled(
            format!("   {} {} more", t.ellipsis(), all.len() - shown.len()),
            t.dim(),
        )));
    }
}

/// User agents listed on a profile before the rest is counted.
const MAX_AGENTS: usize = 5;

/// How many leading chars `a` and `b` share.
fn shared_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

/// The start of the space-separated token holding char `at` (user agents are `product/version`
/// tokens: `command/s3.cp` reads better than `3.cp`), unless that is far back.
fn token_start(s: &str, at: usize) -> usize {
    let before: Vec<char> = s.chars().take(at).collect();
    match before.iter().rposition(|c| *c == ' ') {
        Some(sp) if at - sp <= 24 => sp + 1,
        _ => at,
    }
}

/// Findings about the entity, and for an instance who it talked to and what it resolved.
fn related<'a>(state: &'a State, p: &ProfileView, t: &Theme, w: usize, v: &mut Vec<Line<'a>>) {
    let edges = state.graph.edges_of(&p.entity);
    let findings: Vec<_> = edges
        .iter()
        .filter(|(o, _)| o.kind == EntityKind::Finding)
        .filter_map(|(o, _)| {
            state
                .by_id
                .get(o.value.as_str())
                .map(|i| &state.findings[*i])
        })
        .collect();
    if !findings.is_empty() {
        v.push(heading(
            t,
            format!(" Related findings ({})", findings.len()),
        ));
        for f in findings.iter().take(5) {
            let l: SeverityLabel = f.label();
            v.push(Line::from(vec![
                Span::raw("   "),
                Span::styled(format!("{:<4}", Theme::badge(l)), t.severity(l)),
                Span::raw(format!(" {}", t.fit(&f.finding_type, w.saturating_sub(9)))),
            ]));
        }
    }
    let mut peers: Vec<_> = edges
        .iter()
        .filter(|(o, e)| e.relation == Relation::Connected && o.kind == EntityKind::Ip)
        .collect();
    if !peers.is_empty() {
        peers.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
        v.push(heading(
            t,
            format!(" Talked to ({} addresses)", peers.len()),
        ));
        for (o, e) in peers.iter().take(5) {
            let mut spans = vec![Span::raw(format!(
                "   {:<40} x{:<5} {} bytes",
                t.fit(&o.value, 40),
                e.count,
                e.bytes
            ))];
            spans.extend(t.intel_tag(&state.intel, o));
            v.push(Line::from(spans));
        }
    }
    let dns: Vec<_> = edges
        .iter()
        .filter(|(_, e)| e.relation == Relation::Queried)
        .collect();
    if !dns.is_empty() {
        v.push(heading(t, format!(" Resolved ({} names)", dns.len())));
        for (o, e) in dns.iter().take(5) {
            let tag = t.intel_tag(&state.intel, o);
            let room = w.saturating_sub(12 + tag.as_ref().map_or(0, |s| s.content.chars().count()));
            let mut spans = vec![Span::raw(format!(
                "   {} x{}",
                t.fit(&o.value, room),
                e.count
            ))];
            spans.extend(tag);
            v.push(Line::from(spans));
        }
    }
}
