//! Finding detail: what, where, who, how, the ATT&CK tactic, the group, the entities to pivot
//! to, and the raw JSON.

use super::theme::Theme;
use crate::app::select::actor_ip;
use crate::app::state::{DetailView, State};
use crate::app::{Command, Context};
use crate::model::Finding;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn render(state: &State, d: &DetailView, t: &Theme, frame: &mut Frame, body: Rect) {
    let Some(f) = state.findings.get(d.finding) else {
        return;
    };
    let wide = body.width >= 110;
    let (info_area, ent_area) = if wide {
        let lw = body.width * 3 / 5;
        (
            Rect::new(body.x, body.y, lw, body.height),
            Rect::new(body.x + lw, body.y, body.width - lw, body.height),
        )
    } else {
        let eh = (d.entities.len() as u16 + 2).clamp(3, body.height / 2);
        (
            Rect::new(body.x, body.y, body.width, body.height - eh),
            Rect::new(body.x, body.y + body.height - eh, body.width, eh),
        )
    };
    if d.show_raw {
        let h = usize::from(info_area.height.saturating_sub(2));
        let lines: Vec<Line> = d
            .raw_lines
            .iter()
            .skip(d.raw_scroll)
            .take(h)
            .map(|l| Line::from(l.as_str()))
            .collect();
        let ctx = Context::Detail;
        let hides = super::hints::line(state, ctx, &[(Command::ToggleRaw, "hides")], "");
        let scroll = super::hints::pair(state, ctx, Command::PageUp, Command::PageDown, "scroll");
        let title = format!(
            " raw JSON ({}) ",
            [hides, scroll]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        );
        frame.render_widget(
            Paragraph::new(lines).block(t.block(title.as_str())),
            info_area,
        );
    } else {
        let title = match super::hints::key(state, Context::Detail, Command::ToggleRaw) {
            Some(k) => format!(" finding ({k}: raw JSON) "),
            None => " finding ".to_string(),
        };
        frame.render_widget(
            Paragraph::new(info_lines(state, d, f, t))
                .wrap(Wrap { trim: false })
                .block(t.block(title.as_str())),
            info_area,
        );
    }
    entities(state, d, t, frame, ent_area);
}

fn field<'a>(t: &Theme, name: &'a str, value: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{name:<9}"), t.dim()),
        Span::raw(value),
    ])
}

fn info_lines<'a>(state: &'a State, d: &DetailView, f: &'a Finding, t: &Theme) -> Vec<Line<'a>> {
    let label = f.label();
    let mut v = vec![
        Line::from(vec![
            Span::styled(
                format!(" {} {:.1} ", Theme::badge(label), f.severity),
                t.severity(label),
            ),
            Span::raw(" "),
            Span::styled(f.finding_type.as_str(), t.title()),
        ]),
        Line::from(Span::styled(f.title.as_str(), t.title())),
        Line::from(f.description.as_str()),
    ];
    let kind = f.resource_type.as_deref().unwrap_or("resource");
    let role = match f
        .resource_role
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("ACTOR") => Some("the actor: it did this".to_string()),
        Some("TARGET") => Some("the target".to_string()),
        Some(other) => Some(format!("role {other}")),
        None => None,
    };
    // A resource named only by its type (a sample finding's placeholder id) is not named twice.
    let about: Vec<&str> = [Some(kind).filter(|k| *k != f.resource), role.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let resource = if about.is_empty() {
        f.resource.clone()
    } else {
        format!("{} ({})", f.resource, about.join(", "))
    };
    v.push(field(t, "resource", resource));
    let actor = match (&f.action.remote, actor_ip(f)) {
        (Some(r), _) => Some((r.describe(), state.intel.mark_ip(&r.ip))),
        (None, Some(ip)) => Some((ip.value.to_string(), state.intel.mark(&ip))),
        (None, None) => None,
    };
    if let Some((text, list)) = actor {
        let mut line = field(t, "actor", text);
        line.spans.extend(list.map(|l| t.list_tag(l)));
        v.push(line);
    }
    if let Some(domain) = &f.action.domain
        && let Some(l) = state.intel.mark_domain(domain)
    {
        let mut line = field(t, "domain", domain.clone());
        line.spans.push(t.list_tag(l));
        v.push(line);
    }
    let how = action_summary(&f.action);
    if !how.is_empty() {
        v.push(field(t, "action", how.join(", ")));
    }
    if !f.action.probes.is_empty() {
        let a = &f.action;
        let list: Vec<String> = a
            .probes
            .iter()
            .take(4)
            .map(|(p, r)| match p {
                Some(p) => format!("{}:{p}", r.describe()),
                None => r.describe(),
            })
            .collect();
        let more = a.probes.len().saturating_sub(4);
        let mut s = list.join("; ");
        if more > 0 {
            s.push_str(&format!(" (+{more})"));
        }
        v.push(field(t, "probes", s));
    }
    v.push(field(t, "tactic", format!("{} (MITRE ATT&CK)", f.tactic())));
    if let Some(g) = state
        .group_of
        .get(d.finding)
        .and_then(|g| state.groups.get(*g as usize))
    {
        v.push(field(
            t,
            "group",
            format!("{} ({} finding(s))", g.id, g.findings.len()),
        ));
    }
    let when = |x: Option<crate::model::Ts>| x.map_or("-".to_string(), |x| x.to_short());
    v.push(field(
        t,
        "seen",
        format!(
            "{} .. {}  x{}",
            when(f.first_seen),
            when(f.last_seen),
            f.count
        ),
    ));
    v.push(field(
        t,
        "account",
        format!(
            "{} {}",
            f.account_id.as_deref().unwrap_or("-"),
            f.region.as_deref().unwrap_or("-")
        ),
    ));
    v.push(field(t, "id", f.id.clone()));
    if f.sample {
        v.push(Line::from(Span::styled(
            "sample finding (generated by GuardDuty)",
            t.warn(),
        )));
    }
    v
}

/// What the actor did, as short phrases: the action type, API, error, direction, protocol,
/// ports, domain, blocked, process.
fn action_summary(a: &crate::model::FindingAction) -> Vec<String> {
    let mut how = Vec::new();
    if let Some(x) = &a.action_type {
        how.push(x.clone());
    }
    if let Some(x) = &a.api {
        let svc = a.service_name.as_deref().unwrap_or("");
        how.push(format!(
            "api {}{}{x}",
            svc.trim_end_matches(".amazonaws.com"),
            if svc.is_empty() { "" } else { ":" }
        ));
    }
    if let Some(x) = &a.error_code {
        how.push(format!("error {x}"));
    }
    if let Some(x) = &a.direction {
        how.push(x.to_lowercase());
    }
    if let Some(x) = &a.protocol {
        how.push(x.clone());
    }
    match (a.local_port, a.remote_port) {
        (Some(l), Some(r)) => how.push(format!("port {l}->{r}")),
        (Some(l), None) => how.push(format!("local port {l}")),
        (None, Some(r)) => how.push(format!("remote port {r}")),
        _ => {}
    }
    if let Some(x) = &a.domain {
        how.push(format!("domain {x}"));
    }
    if let Some(b) = a.blocked {
        how.push(if b {
            "blocked".into()
        } else {
            "not blocked".into()
        });
    }
    if let Some(p) = &a.process {
        how.push(format!("process {p}"));
    }
    how
}

fn entities(state: &State, d: &DetailView, t: &Theme, frame: &mut Frame, area: Rect) {
    let h = usize::from(area.height.saturating_sub(2)).max(1);
    let offset = (d.selected / h) * h;
    let w = usize::from(area.width.saturating_sub(4));
    let lines: Vec<Line> = d
        .entities
        .iter()
        .enumerate()
        .skip(offset)
        .take(h)
        .map(|(i, e)| {
            let line = t.entity_line(&state.intel, e, w);
            if i == d.selected {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    let ctx = Context::Detail;
    let mut pivots = Vec::new();
    if let Some(k) = super::hints::all(state, ctx, Command::Graph) {
        pivots.push(format!("{k} graph"));
    }
    let rest = &[(Command::Trail, "trail"), (Command::Profile, "profile")];
    pivots.push(super::hints::line(state, ctx, rest, ", "));
    let title = format!(" entities ({}) ", pivots.join(", "));
    frame.render_widget(Paragraph::new(lines).block(t.block(title.as_str())), area);
}
