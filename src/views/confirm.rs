//! The confirm screen: the plan of an action exactly as it will run (API calls with their
//! parameters, resources touched, blast radius, notes) and the confirmation it needs.

use super::theme::Theme;
use super::wrap::wrap;
use crate::actions::Confirm;
use crate::app::keymap::{Command, Context, KeyCode, chord_string};
use crate::app::state::{ConfirmView, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// What stays on screen above the scrolling plan: dry run or not, the action on its target (and
/// the region it acts in), the case, and who acts. The target and the operator are never cut: one line when it all fits,
/// else the action and case, then who acts, each wrapped.
fn head_lines<'a>(c: &ConfirmView, t: &Theme, w: usize) -> Vec<Line<'a>> {
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
    let operator = if p.operator.arn.is_empty() {
        "?"
    } else {
        p.operator.arn.as_str()
    };
    let action = format!(
        " {} {}{} {} case {}",
        p.action.verb(),
        p.action.target(),
        p.region
            .as_deref()
            .map(|r| format!(" in {r}"))
            .unwrap_or_default(),
        t.sep(),
        p.case
    );
    let who = format!(" as {operator}");
    let one = format!("{action} {}{who}", t.sep());
    let head = if one.chars().count() <= w {
        vec![one]
    } else {
        let mut head = wrap(&action, w, "   ");
        head.extend(wrap(&who, w, "    "));
        head
    };
    v.extend(
        head.into_iter()
            .map(|l| Line::from(Span::styled(l, t.title()))),
    );
    v
}

/// The plan itself (blast radius, notes, calls, resources), which scrolls.
fn plan_lines<'a>(c: &ConfirmView, t: &Theme, w: usize) -> Vec<Line<'a>> {
    let p = &c.plan;
    let mut v: Vec<Line> = Vec::new();
    if !p.blast_radius.is_empty() {
        v.push(Line::from(Span::styled(" Blast radius", t.title())));
        // What the action does beyond its target is part of deciding: wrapped, never cut.
        for b in &p.blast_radius {
            for l in wrap(&format!("   - {b}"), w, "     ") {
                v.push(Line::from(Span::styled(l, t.warn())));
            }
        }
    }
    for n in &p.notes {
        for l in wrap(&format!(" note: {n}"), w, "       ") {
            v.push(Line::from(l));
        }
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

/// Key names for `cmds` on the confirm screen, from the keymap. While an id is being typed,
/// plain characters go into the id, so only the other keys (esc, enter…) do anything.
fn keys_for(state: &State, cmds: &[Command], typing: bool) -> String {
    let keys: Vec<String> = state
        .keymap
        .bindings(Context::Confirm)
        .iter()
        .filter(|b| cmds.contains(&b.command))
        .filter(|b| {
            !typing
                || !matches!(b.keys.as_slice(), [k] if matches!(k.code, KeyCode::Char(_)) && !k.ctrl && !k.alt)
        })
        .map(|b| chord_string(&b.keys))
        .collect();
    keys.join(" or ")
}

/// `down / pgdn scrolls`, from the keymap.
fn scroll_hint(state: &State) -> String {
    let ctx = Context::Confirm;
    let keys: Vec<String> = [Command::Down, Command::PageDown]
        .iter()
        .filter_map(|c| super::hints::key(state, ctx, *c))
        .collect();
    format!("{} scrolls", keys.join(" / "))
}

/// What to type and how to cancel, whole: the fullest wording that fits on one line, else the
/// shorter one wrapped.
fn ask_lines(state: &State, c: &ConfirmView, w: usize) -> Vec<String> {
    const CANCEL: &[Command] = &[Command::ConfirmNo, Command::Cancel, Command::Back];
    let typing = matches!(c.plan.confirm, Confirm::TypeId { .. });
    let cancel = match keys_for(state, CANCEL, typing) {
        k if k.is_empty() => String::new(),
        k => format!("; {k} cancels"),
    };
    let variants = match &c.plan.confirm {
        Confirm::TypeId { id } => {
            let n = id.chars().count();
            let last4: String = id.chars().skip(n.saturating_sub(4)).collect();
            let enter = keys_for(state, &[Command::Submit], true);
            vec![
                format!(" Destructive: type {id} (or its last 4, {last4}) and {enter}{cancel}"),
                format!(" Destructive: type {id} (or {last4}) and {enter}{cancel}"),
            ]
        }
        Confirm::Yes => {
            let yes = keys_for(state, &[Command::ConfirmYes], false);
            vec![
                format!(" Go ahead? {yes} confirms{cancel}"),
                format!(" {yes} goes ahead{cancel}"),
            ]
        }
    };
    if let Some(one) = variants.iter().find(|v| v.chars().count() <= w) {
        return vec![one.clone()];
    }
    let last = variants.last().map_or("", String::as_str);
    wrap(last, w, " ")
}

pub fn render(state: &State, c: &ConfirmView, t: &Theme, frame: &mut Frame, body: Rect) {
    let w = usize::from(body.width);
    let ask = ask_lines(state, c, w);
    let typing = matches!(c.plan.confirm, Confirm::TypeId { .. });
    // The head, the rule, what to type and the typed line are kept whole; the plan scrolls
    // between them.
    let want = 1 + ask.len() + usize::from(typing);
    let prompt_h = u16::try_from(want).unwrap_or(u16::MAX).min(body.height);
    let head = head_lines(c, t, w);
    let head_h = u16::try_from(head.len())
        .unwrap_or(u16::MAX)
        .min(body.height - prompt_h);
    frame.render_widget(
        Paragraph::new(head),
        Rect::new(body.x, body.y, body.width, head_h),
    );
    let plan_area = Rect::new(
        body.x,
        body.y + head_h,
        body.width,
        body.height - prompt_h - head_h,
    );
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
                " {} {} more line(s): {}",
                t.ellipsis(),
                max - skip + 1,
                scroll_hint(state)
            ),
            t.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(shown), plan_area);

    let rule = if t.ascii { "-" } else { "─" };
    let cursor = if t.ascii { "_" } else { "█" };
    let mut p: Vec<Line> = vec![Line::from(Span::styled(rule.repeat(w), t.dim()))];
    p.extend(
        ask.into_iter()
            .map(|l| Line::from(Span::styled(l, t.bad()))),
    );
    if typing {
        p.push(Line::from(vec![
            Span::raw(" > "),
            Span::raw(t.fit(&c.typed, w.saturating_sub(5))),
            Span::styled(cursor, t.accent()),
        ]));
    }
    frame.render_widget(Paragraph::new(p), prompt_area);
}
