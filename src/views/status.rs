//! The bottom line: the command line or filter prompt when typing, the which-key hint while a
//! chord is pending, otherwise the last status message, indexing progress and key hints.

use super::theme::Theme;
use crate::app::keymap::Command;
use crate::app::state::{IndexState, InputKind, State, StatusLevel};
use crate::model::text::span;
use crate::model::text::thousands;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, t: &Theme, frame: &mut Frame, area: Rect) {
    let w = usize::from(area.width);
    if let Some(input) = &state.input {
        let prompt = match input.kind {
            InputKind::Command => ":",
            InputKind::FindingsFilter | InputKind::TrailFilter => "/",
        };
        let cursor = if t.ascii { "_" } else { "█" };
        let text = format!("{prompt}{}", input.text);
        let keep = w.saturating_sub(2);
        let n = text.chars().count();
        let text: String = text.chars().skip(n.saturating_sub(keep)).collect();
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::raw(text),
                Span::styled(cursor, t.accent()),
            ])),
            area,
        );
        return;
    }
    if !state.pending.is_empty() {
        let keys: Vec<String> = state.pending.iter().map(|k| k.to_string()).collect();
        let mut s = format!("{}- ", keys.join(" "));
        for (k, d) in &state.pending_hint {
            s.push_str(&format!(" {k}: {d} "));
        }
        frame.render_widget(Paragraph::new(Span::styled(t.fit(&s, w), t.accent())), area);
        return;
    }
    let ctx = state.context();
    let key = |c: Command| state.keymap.key_for(ctx, c);
    let mut quiet = String::new();
    if let Some(d) = state.quiet_skipped {
        let ff = if t.ascii { ">>" } else { "⏩" };
        quiet = format!("{ff} {} of quiet {} ", span(d), t.sep());
    }
    let index = match state.index_state {
        IndexState::Loading(p) => {
            let rate = (p.events as u64 * 1000)
                .checked_div(p.elapsed_ms)
                .unwrap_or(0);
            format!(
                "indexing {}/{} files {} ev {}/s ",
                p.files_done,
                p.files_total,
                thousands(p.events),
                thousands(rate as usize)
            )
        }
        IndexState::Ready { events, .. } => format!("{} events ", thousands(events)),
        IndexState::None => String::new(),
    };
    let mut hints = String::new();
    if let Some(k) = key(Command::Help) {
        hints.push_str(&format!("{k} help "));
    }
    if let Some(k) = key(Command::Quit) {
        hints.push_str(&format!("{k} quit "));
    }
    let (text, style) = match &state.status {
        Some(s) => (
            s.text.clone(),
            match s.level {
                StatusLevel::Info => t.dim(),
                StatusLevel::Warn => t.warn(),
                StatusLevel::Error => t.bad(),
            },
        ),
        None => (String::new(), t.dim()),
    };
    // The message (what to type on the confirm screen, an error) comes before the event count:
    // when both do not fit, the count gives way.
    let cols = |s: &str| Span::raw(s).width();
    let msg_w = cols(&text) + 2;
    let mut right = if !text.is_empty() && msg_w + cols(&quiet) + cols(&index) + cols(&hints) > w {
        format!("{quiet}{hints}")
    } else {
        format!("{quiet}{index}{hints}")
    };
    if state.integrity.is_some() {
        right.insert_str(0, if t.ascii { "| " } else { "│ " });
    }
    let (integrity, integrity_style) = integrity_span(state, t, w.saturating_sub(cols(&right)));
    // Display columns, not chars: the fast-forward glyph is two columns wide.
    let rw = cols(&right) + cols(&integrity);
    let lw = w.saturating_sub(rw + 1);
    let left = t.fit(&format!(" {text}"), lw);
    let pad = w.saturating_sub(left.chars().count() + rw);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(left, style),
            Span::raw(" ".repeat(pad)),
            Span::styled(integrity, integrity_style),
            Span::styled(right, t.dim()),
        ])),
        area,
    );
}

/// Columns the status message keeps before the integrity summary drops its `integrity:` label.
const MIN_MESSAGE: usize = 12;

/// The log file integrity summary (e.g. `integrity: 23 ok · 1 TAMPERED · 2 missing`), red when
/// a file or digest was changed after delivery; empty until the loader has checked digests.
fn integrity_span(state: &State, t: &Theme, room: usize) -> (String, ratatui::style::Style) {
    let Some(totals) = state.integrity else {
        return (String::new(), t.dim());
    };
    let summary = totals.summary(if t.ascii { " | " } else { " · " });
    let full = format!("integrity: {summary} ");
    let text = if full.chars().count() + MIN_MESSAGE <= room {
        full
    } else {
        format!("{summary} ")
    };
    let style = if totals.altered() {
        t.bad()
    } else if totals.missing + totals.unreadable > 0 {
        t.warn()
    } else {
        t.dim()
    };
    (text, style)
}
