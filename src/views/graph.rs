//! The entity graph screen: the focused entity's neighbourhood as an indented tree, kinds by
//! symbol and colour, edges by relation, direction and count; marks and the shortest path below.

use super::theme::Theme;
use crate::app::state::{GraphRow, GraphView, State};
use crate::app::{Command, Context};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, g: &GraphView, t: &Theme, frame: &mut Frame, body: Rect) {
    let foot_h: u16 = if g.path.is_some() { 4 } else { 2 };
    let list = Rect::new(
        body.x,
        body.y,
        body.width,
        body.height.saturating_sub(foot_h),
    );
    let foot = Rect::new(
        body.x,
        body.y + list.height,
        body.width,
        body.height - list.height,
    );
    let h = usize::from(list.height).max(1);
    let offset = (g.selected / h) * h;
    let w = usize::from(body.width);
    let mut lines: Vec<Line> = Vec::with_capacity(h);
    if g.missing && g.group.is_none() {
        lines.push(Line::from(Span::styled(
            format!(" {} is not in the evidence loaded so far", g.center),
            t.warn(),
        )));
    }
    for (i, row) in g.rows.iter().enumerate().skip(offset).take(h) {
        let last = g
            .rows
            .get(i + 1)
            .is_none_or(|n| depth_of(n) < depth_of(row) || matches!(n, GraphRow::Center(_)));
        let mut line = row_line(&state.intel, g, row, last, t, w);
        if i == g.selected {
            line = line.style(t.selected());
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), list);
    footer(state, g, t, frame, foot);
}

fn depth_of(r: &GraphRow) -> u8 {
    match r {
        GraphRow::Center(_) | GraphRow::Heading(_) => 0,
        GraphRow::Node { depth, .. } | GraphRow::Collapsed { depth, .. } => *depth,
    }
}

fn row_line<'a>(
    intel: &crate::hunt::Intel,
    g: &GraphView,
    row: &GraphRow,
    last: bool,
    t: &Theme,
    w: usize,
) -> Line<'a> {
    let marked = |id: &crate::model::EntityId| g.marks.contains(id);
    let tag_w = |tag: &Option<Span>| tag.as_ref().map_or(0, |t| t.content.chars().count());
    match row {
        GraphRow::Heading(s) => Line::from(Span::styled(s.clone(), t.title())),
        GraphRow::Center(id) => {
            let tag = t.intel_tag(intel, id);
            let room = w.saturating_sub(6 + tag_w(&tag));
            let mut spans = vec![
                Span::styled(format!("{} ", t.symbol(id.kind)), t.kind(id.kind)),
                Span::styled(t.fit(&id.to_string(), room), t.title()),
                Span::raw(if marked(id) { " [m]" } else { "" }),
            ];
            spans.extend(tag);
            Line::from(spans)
        }
        GraphRow::Node {
            id,
            depth,
            relation,
            outgoing,
            count,
            ..
        } => {
            let indent = "   ".repeat(usize::from(*depth) - 1);
            let rel = format!(
                "{} {}{} ",
                t.tree(last),
                relation.as_str(),
                if *count > 1 {
                    format!(" x{count}")
                } else {
                    String::new()
                }
            );
            let prefix = format!(" {indent}{rel}{} ", t.arrow(*outgoing));
            let tag = t.intel_tag(intel, id);
            let room = w.saturating_sub(prefix.chars().count() + 6 + tag_w(&tag));
            let mut spans = vec![
                Span::styled(prefix, t.dim()),
                Span::styled(format!("{} ", t.symbol(id.kind)), t.kind(id.kind)),
                Span::raw(t.fit(&id.to_string(), room)),
                Span::styled(if marked(id) { " [m]" } else { "" }, t.accent()),
            ];
            spans.extend(tag);
            Line::from(spans)
        }
        GraphRow::Collapsed {
            depth,
            relation,
            kind,
            n,
            ..
        } => {
            let indent = "   ".repeat(usize::from(*depth) - 1);
            Line::from(vec![
                Span::styled(
                    format!(" {indent}{} {} ", t.tree(last), relation.as_str()),
                    t.dim(),
                ),
                Span::styled(format!("{} ", t.symbol(*kind)), t.kind(*kind)),
                Span::raw(format!("{n} {kind} entities (space expands)")),
            ])
        }
    }
}

fn footer(state: &State, g: &GraphView, t: &Theme, frame: &mut Frame, area: Rect) {
    let w = usize::from(area.width);
    let mut lines = Vec::new();
    let sel = g.rows.get(g.selected);
    let detail = match sel {
        Some(GraphRow::Node {
            id,
            relation,
            count,
            parent,
            outgoing,
            ..
        }) => {
            let (a, b) = if *outgoing {
                (parent, id)
            } else {
                (id, parent)
            };
            let edge = state
                .graph
                .edges_of(a)
                .into_iter()
                .find(|(o, e)| o == b && e.relation == *relation)
                .map(|(_, e)| e);
            let when = edge
                .as_ref()
                .map(|e| {
                    let f = e.first.as_deref().map_or("", |s| s.get(..16).unwrap_or(s));
                    let l = e.last.as_deref().map_or("", |s| s.get(..16).unwrap_or(s));
                    let bytes = if e.bytes > 0 {
                        format!(" {} bytes", e.bytes)
                    } else {
                        String::new()
                    };
                    format!(" {f}..{l}{bytes}")
                })
                .unwrap_or_default();
            format!(" {relation} x{count}{when}")
        }
        Some(GraphRow::Collapsed { n, kind, .. }) => format!(" {n} {kind} neighbours collapsed"),
        _ => format!(
            " depth {}  crumbs {}  marks {}",
            g.depth,
            g.crumbs.len(),
            g.marks.len()
        ),
    };
    lines.push(Line::from(Span::styled(t.fit(&detail, w), t.dim())));
    if let Some((nodes, _)) = &g.path {
        let path: Vec<String> = nodes.iter().map(|n| n.to_string()).collect();
        lines.push(Line::from(Span::styled(
            format!(" path ({} hops):", nodes.len().saturating_sub(1)),
            t.title(),
        )));
        let joined = path.join(&format!(" {} ", t.arrow(true)));
        lines.push(Line::from(format!(
            " {}",
            t.fit(&joined, w.saturating_sub(2))
        )));
    }
    let keys = [
        (Command::Recenter, "re-centre"),
        (Command::GraphBack, "back"),
        (Command::Mark, "mark"),
        (Command::Depth, "depth"),
    ];
    let mut hint = format!(
        " {}",
        super::hints::line(state, Context::Graph, &keys, "  ")
    );
    if !g.crumbs.is_empty() {
        let crumbs: Vec<String> = g.crumbs.iter().map(|c| c.value.to_string()).collect();
        hint = format!(" back: {}", crumbs.join(t.crumb()));
    }
    lines.push(Line::from(Span::styled(t.fit(&hint, w), t.dim())));
    frame.render_widget(Paragraph::new(lines), area);
}
