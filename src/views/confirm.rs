//! The confirm screen: the plan of an action exactly as it will run (API calls with their
//! parameters, resources touched, blast radius, notes) and the confirmation it needs.

use super::Theme;
use crate::actions::Confirm;
use crate::app::state::{ConfirmView, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn plan_lines<'a>(c: &ConfirmView, t: &Theme, w: usize) -> Vec<Line<'a>> {
    let p = &c.plan;
    let mut v: Vec<Line> = Vec::new();
    if c.dry_run {
        v.push(Line::from(Span::styled(
            t.fit(
                " DRY RUN: EC2 calls are sent with DryRun=true, the others are only planned; nothing changes",
                w,
            ),
            t.warn(),
        )));
    }
    let head = format!(
        " {} {} {} case {} {} as {}",
        p.action.verb(),
        p.action.target(),
        t.sep(),
        p.case,
        t.sep(),
        if p.operator.arn.is_empty() {
            "?"
        } else {
            p.operator.arn.as_str()
        }
    );
    v.push(Line::from(Span::styled(t.fit(&head, w), t.title())));
    if !p.blast_radius.is_empty() {
        v.push(Line::from(Span::styled(" Blast radius", t.title())));
        for b in &p.blast_radius {
            v.push(Line::from(Span::styled(
                t.fit(&format!("   - {b}"), w),
                t.warn(),
            )));
        }
    }
    for n in &p.notes {
        v.push(Line::from(t.fit(&format!(" note: {n}"), w)));
    }
    v.push(Line::from(Span::styled(
        format!(" API calls ({})", p.steps.len()),
        t.title(),
    )));
    if p.steps.is_empty() {
        v.push(Line::from(Span::styled(
            "   nothing to do: the account is already in the wanted state",
            t.good(),
        )));
    }
    for (i, st) in p.steps.iter().enumerate() {
        let col = if w < 100 { 30 } else { 36 };
        let head = format!("  {:>2}. {:<col$} ", i + 1, st.call.iam_action());
        let room = w.saturating_sub(head.chars().count());
        v.push(Line::from(vec![
            Span::styled(head, t.accent()),
            Span::raw(t.fit(&st.why, room)),
        ]));
        v.push(Line::from(Span::styled(
            t.fit(&format!("      {}", st.call.describe()), w),
            t.dim(),
        )));
    }
    if !p.touches.is_empty() {
        v.push(Line::from(Span::styled(" Resources touched", t.title())));
        v.push(Line::from(
            t.fit(&format!("   {}", p.touches.join(", ")), w),
        ));
    }
    v
}

pub fn render(_state: &State, c: &ConfirmView, t: &Theme, frame: &mut Frame, body: Rect) {
    let w = usize::from(body.width);
    let prompt_h = 3u16.min(body.height);
    let plan_area = Rect::new(body.x, body.y, body.width, body.height - prompt_h);
    let prompt_area = Rect::new(
        body.x,
        body.y + body.height - prompt_h,
        body.width,
        prompt_h,
    );
    let lines = plan_lines(c, t, w);
    let rows = usize::from(plan_area.height);
    let max = lines.len().saturating_sub(rows);
    let skip = c.scroll.min(max);
    let more = lines.len() > rows;
    let mut shown: Vec<Line> = lines.into_iter().skip(skip).take(rows).collect();
    if more && skip < max && !shown.is_empty() {
        let last = shown.len() - 1;
        shown[last] = Line::from(Span::styled(
            format!(
                " {} {} more line(s): down / pgdn scrolls",
                t.ellipsis(),
                max - skip + 1
            ),
            t.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(shown), plan_area);

    let rule = if t.ascii { "-" } else { "─" };
    let ask = match &c.plan.confirm {
        Confirm::TypeId { id } => {
            let n = id.chars().count();
            let last4: String = id.chars().skip(n.saturating_sub(4)).collect();
            format!(" Destructive: type {id} (or its last 4, {last4}) and enter; esc cancels")
        }
        Confirm::Yes => " Go ahead? y confirms, n or esc cancels".to_string(),
    };
    let cursor = if t.ascii { "_" } else { "█" };
    let mut p: Vec<Line> = vec![
        Line::from(Span::styled(rule.repeat(w), t.dim())),
        Line::from(Span::styled(t.fit(&ask, w), t.bad())),
    ];
    if matches!(c.plan.confirm, Confirm::TypeId { .. }) {
        p.push(Line::from(vec![
            Span::raw(" > "),
            Span::raw(t.fit(&c.typed, w.saturating_sub(5))),
            Span::styled(cursor, t.accent()),
        ]));
    }
    frame.render_widget(Paragraph::new(p), prompt_area);
}
