//! The Detective panel: the behaviour graph, the entity's investigations (status, severity, when),
//! and the indicators of the newest that succeeded, one per line with the selected one marked.
//! Draws only.

use super::theme::Theme;
use crate::app::state::{DetectiveView, State};
use crate::app::{Command, Context};
use crate::model::detective::DetectiveReport;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, d: &DetectiveView, t: &Theme, frame: &mut Frame, body: Rect) {
    let w = usize::from(body.width);
    let line = |text: String, style: Style| Line::from(Span::styled(t.fit(&text, w), style));
    let mut v = vec![line(format!(" investigates {}", d.arn), t.title())];
    let new_key = super::hints::key(state, Context::Detective, Command::NewInvestigation);
    match &d.report {
        None => v.push(line(" asking Detective…".into(), t.dim())),
        Some(Err(e)) => v.push(line(format!(" Detective: {e}"), t.bad())),
        Some(Ok(DetectiveReport { graph: None, .. })) => v.push(line(
            " no Detective behaviour graph in this region: Detective is not enabled here".into(),
            t.warn(),
        )),
        Some(Ok(r)) => {
            v.push(line(
                format!(" graph {}", r.graph.as_deref().unwrap_or_default()),
                t.dim(),
            ));
            let start = match &new_key {
                Some(k) => format!(" ({k} starts one over the last 7 days)"),
                None => String::new(),
            };
            v.push(line(
                format!(" INVESTIGATIONS {}{start}", r.investigations.len()),
                t.title(),
            ));
            if r.investigations.is_empty() {
                v.push(line("  none for this entity".into(), t.dim()));
            }
            for i in r.investigations.iter().take(4) {
                let created = i.created.map(|c| c.to_short()).unwrap_or_default();
                let style = if i.running() {
                    t.warn()
                } else {
                    Style::default()
                };
                v.push(line(
                    format!(
                        "  {:<24} {:<10} {:<13} {created}",
                        t.fit(&i.id, 24),
                        i.status,
                        i.severity
                    ),
                    style,
                ));
            }
            match &r.shown {
                None => v.push(line(
                    " no finished investigation: no indicators yet".into(),
                    t.dim(),
                )),
                Some(id) => {
                    v.push(line(
                        format!(" INDICATORS {} of {id}", r.indicators.len()),
                        t.title(),
                    ));
                    let room = usize::from(body.height).saturating_sub(v.len()).max(1);
                    let first = super::theme::window_start(d.selected, r.indicators.len(), room);
                    for (n, i) in r.indicators.iter().enumerate().skip(first).take(room) {
                        let text = format!("  {:<19} {}", i.kind, i.detail);
                        let style = if n == d.selected {
                            t.selected()
                        } else {
                            Style::default()
                        };
                        v.push(line(text, style));
                    }
                }
            }
        }
    }
    frame.render_widget(Paragraph::new(v), body);
}
