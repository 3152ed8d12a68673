//! The world screen: the account as the responder shows it after each action (the demo world):
//! every instance with its ENIs' groups (the contain group once quarantined, and how many later
//! flow-log lines that turned to REJECT), snapshots with progress, the notification outbox and the
//! credentials contained. Draws only; the state holds the last view the responder sent.

use super::Theme;
use crate::actions::AccountView;
use crate::app::state::{State, WorldView};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn lines_of<'a>(a: &AccountView, t: &Theme, w: usize) -> Vec<Line<'a>> {
    let mut out: Vec<Line> = Vec::new();
    let mut push = |text: String, style: Style| {
        out.push(Line::from(Span::styled(t.fit(&text, w), style)));
    };
    push(
        format!(
            " {} {} account {} {} {}",
            a.label,
            t.sep(),
            a.account,
            t.sep(),
            a.region
        ),
        t.title(),
    );
    push(format!(" Instances ({})", a.instances.len()), t.title());
    for i in &a.instances {
        let quarantined = i.status.as_deref() == Some(crate::actions::STATUS_QUARANTINED);
        let mut head = format!(
            "   {} {} {}",
            i.instance_id,
            i.name.as_deref().unwrap_or("-"),
            i.state
        );
        // What vigil did to it, on a line of its own so it survives 80 columns.
        let mut marks: Vec<String> = Vec::new();
        if let Some(st) = &i.status {
            let case = i
                .case
                .as_ref()
                .map(|c| format!(" (case {c})"))
                .unwrap_or_default();
            marks.push(format!("{}{case}", st.to_uppercase()));
        }
        if i.termination_protection {
            marks.push("protected".to_string());
        }
        let asg = i.asg.as_ref().map(|(g, life)| format!("{g}: {life}"));
        if marks.is_empty() {
            if let Some(a) = asg {
                head.push_str(&format!(" {} {a}", t.sep()));
            }
            push(head, Style::new());
        } else {
            marks.extend(asg);
            push(head, if quarantined { t.bad() } else { Style::new() });
            push(
                format!("     {}", marks.join(&format!(" {} ", t.sep()))),
                if quarantined { t.bad() } else { t.warn() },
            );
        }
        for e in &i.enis {
            let style = if e.isolated.is_some() {
                t.warn()
            } else {
                t.dim()
            };
            push(
                format!(
                    "     {} dev {}  {}",
                    e.eni_id,
                    e.device_index,
                    e.groups.join(", ")
                ),
                style,
            );
            if let Some(at) = e.isolated {
                let when = at.map_or_else(
                    || "from the start".to_string(),
                    |ts| format!("at {}", ts.to_rfc3339_secs()),
                );
                push(
                    format!(
                        "       isolated {when} {} {} later flow-log line(s) now REJECT",
                        t.sep(),
                        e.rejected_lines
                    ),
                    t.warn(),
                );
            }
        }
    }
    push(format!(" Snapshots ({})", a.snapshots.len()), t.title());
    if a.snapshots.is_empty() {
        push(
            "   none yet (S on an instance finding)".to_string(),
            t.dim(),
        );
    }
    for s in &a.snapshots {
        let style = match s.state.as_str() {
            "completed" => t.good(),
            "pending" => t.warn(),
            _ => t.bad(),
        };
        push(
            format!(
                "   {} {} {} {} {:>3}%",
                s.snapshot_id,
                s.volume_id,
                s.instance_id.as_deref().unwrap_or("-"),
                s.state,
                s.percent
            ),
            style,
        );
    }
    push(format!(" Outbox ({})", a.outbox.len()), t.title());
    if a.outbox.is_empty() {
        push("   nothing sent yet (N on a finding)".to_string(), t.dim());
    }
    for m in &a.outbox {
        push(format!("   {} → {}", m.message_id, m.to), t.dim());
        push(format!("     {}", m.subject), t.accent());
        for l in m.body.lines() {
            push(format!("     {l}"), Style::new());
        }
    }
    push(
        format!(" DNS Firewall block list ({})", a.blocked.len()),
        t.title(),
    );
    if a.blocked.is_empty() {
        push(
            "   nothing blocked (B on a domain or a DNS finding)".to_string(),
            t.dim(),
        );
    }
    for (d, vpcs) in &a.blocked {
        let scope = if vpcs.is_empty() {
            "not applied to any VPC yet".to_string()
        } else {
            format!("NXDOMAIN in {}", vpcs.join(", "))
        };
        push(format!("   {d} {} {scope}", t.sep()), t.warn());
    }
    push(" Credentials".to_string(), t.title());
    for c in &a.credentials {
        push(
            format!(
                "   {}: {}{}",
                c.what,
                c.state,
                if c.changed { " (this session)" } else { "" }
            ),
            if c.changed { t.warn() } else { t.dim() },
        );
    }
    out
}

pub fn render(state: &State, v: &WorldView, t: &Theme, frame: &mut Frame, body: Rect) {
    let w = usize::from(body.width);
    let lines = match &state.actions.account {
        Some(a) => lines_of(a, t, w),
        None => vec![Line::from(Span::styled(
            " no world to show: only the demo responder has one",
            t.dim(),
        ))],
    };
    let rows = usize::from(body.height);
    let skip = v.scroll.min(lines.len().saturating_sub(rows));
    let shown: Vec<Line> = lines.into_iter().skip(skip).take(rows).collect();
    frame.render_widget(Paragraph::new(shown), body);
}
