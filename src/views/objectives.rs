//! A drill's objectives (from the scenario's answer key), the time left, and the hints taken so
//! far (each costs points). Draws only.

use super::theme::Theme;
use crate::app::{Command, Context, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

pub fn render(state: &State, scroll: usize, t: &Theme, frame: &mut Frame, body: Rect) {
    let Some(d) = &state.drill else {
        return;
    };
    let mut v = vec![Line::from(Span::styled(
        format!(" Drill: {}", d.scenario),
        t.title(),
    ))];
    v.push(Line::from(Span::styled(" Objectives", t.title())));
    for (i, o) in d.objectives.iter().enumerate() {
        v.push(Line::from(format!("  {}. {o}", i + 1)));
    }
    let hint_key = super::hints::key(state, Context::Objectives, Command::Hint);
    v.push(Line::from(Span::styled(
        format!(
            " Hints {} of {}{}",
            d.hints_used,
            d.hints.len(),
            match (&hint_key, d.hints_used < d.hints.len()) {
                (Some(k), true) => format!(" ({k} takes the next: -5 points)"),
                _ => String::new(),
            }
        ),
        t.title(),
    )));
    for h in d.hints.iter().take(d.hints_used) {
        v.push(Line::from(Span::styled(format!("  • {h}"), t.warn())));
    }
    frame.render_widget(
        Paragraph::new(v)
            .wrap(Wrap { trim: false })
            .scroll((scroll.min(usize::from(u16::MAX)) as u16, 0)),
        body,
    );
}
