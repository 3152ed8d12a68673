//! One CloudTrail event: its entities to pivot to, and its raw JSON.

use super::theme::Theme;
use crate::app::state::{EventView, State};
use crate::app::{Command, Context};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, e: &EventView, t: &Theme, frame: &mut Frame, body: Rect) {
    let wide = body.width >= 110;
    // A hunting rule matched this event: what it found, above the entities.
    let mark = state.hunt_marks.get(&e.event_id).map(|m| {
        let more = if m.detections > 1 {
            format!(" (+{} more)", m.detections - 1)
        } else {
            String::new()
        };
        format!(
            "{} {} {}{more}",
            t.hunt_mark(),
            crate::model::text::escape(&m.technique),
            crate::model::text::escape(&m.title)
        )
    });
    let extra = u16::from(mark.is_some());
    let (ent, raw) = if wide {
        let lw = body.width * 2 / 5;
        (
            Rect::new(body.x, body.y, lw, body.height),
            Rect::new(body.x + lw, body.y, body.width - lw, body.height),
        )
    } else {
        let eh = (e.entities.len() as u16 + 2 + extra).clamp(3, body.height / 2);
        (
            Rect::new(body.x, body.y, body.width, eh),
            Rect::new(body.x, body.y + eh, body.width, body.height - eh),
        )
    };
    let h = usize::from(ent.height.saturating_sub(2 + extra)).max(1);
    let offset = (e.selected / h) * h;
    let w = usize::from(ent.width.saturating_sub(4));
    let mut lines: Vec<Line> = mark
        .map(|m| Line::from(Span::styled(t.fit(&m, w + 2), t.bad())))
        .into_iter()
        .collect();
    lines.extend(
        e.entities
            .iter()
            .enumerate()
            .skip(offset)
            .take(h)
            .map(|(i, id)| {
                let l = t.entity_line(&state.intel, id, w);
                if i == e.selected {
                    l.style(t.selected())
                } else {
                    l
                }
            }),
    );
    let ctx = Context::Event;
    let pivots = [
        (Command::Trail, "trail"),
        (Command::Graph, "graph"),
        (Command::Profile, "profile"),
    ];
    let title = format!(
        " entities ({}) ",
        super::hints::line(state, ctx, &pivots, ", ")
    );
    frame.render_widget(Paragraph::new(lines).block(t.block(title.as_str())), ent);
    let rh = usize::from(raw.height.saturating_sub(2));
    let body_lines: Vec<Line> = match &e.raw {
        None => vec![Line::from(Span::styled("reading…", t.dim()))],
        Some(Err(msg)) => vec![Line::from(Span::styled(
            format!("cannot read the raw event: {msg}"),
            t.bad(),
        ))],
        Some(Ok(lines)) => lines
            .iter()
            .skip(e.raw_scroll)
            .take(rh)
            .map(|l| Line::from(l.as_str()))
            .collect(),
    };
    let scroll = super::hints::pair(state, ctx, Command::PageUp, Command::PageDown, "scroll");
    let title = format!(" raw JSON ({scroll}) ");
    frame.render_widget(
        Paragraph::new(body_lines).block(t.block(title.as_str())),
        raw,
    );
}
