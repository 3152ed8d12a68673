//! Help, generated from the active keymap for the screen underneath, so it is never stale.

use super::theme::Theme;
use crate::app::keymap::{Context, chord_string};
use crate::app::state::{HelpView, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn lines_for<'a>(state: &State, ctx: Context, t: &Theme) -> Vec<Line<'a>> {
    let mut v = Vec::new();
    for c in [ctx, Context::Global] {
        let list = state.keymap.bindings(c);
        if list.is_empty() {
            continue;
        }
        if !v.is_empty() {
            v.push(Line::from(""));
        }
        v.push(Line::from(Span::styled(format!(" [{c}]"), t.title())));
        // One line per command: its keys joined, then the description.
        let mut seen: Vec<(String, String)> = Vec::new();
        for b in list {
            let k = chord_string(&b.keys);
            match seen.iter_mut().find(|(_, d)| *d == b.description) {
                Some(entry) => {
                    entry.0.push_str(", ");
                    entry.0.push_str(&k);
                }
                None => seen.push((k, b.description.clone())),
            }
        }
        for (keys, desc) in seen {
            v.push(Line::from(vec![
                Span::styled(format!("   {keys:<14} "), t.accent()),
                Span::raw(desc),
            ]));
        }
    }
    v
}

pub fn render(state: &State, h: &HelpView, t: &Theme, frame: &mut Frame, body: Rect) {
    let lines = lines_for(state, h.context, t);
    let rows = usize::from(body.height);
    let max = lines.len().saturating_sub(rows);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(h.scroll.min(max))
        .take(rows)
        .collect();
    frame.render_widget(Paragraph::new(shown), body);
}
