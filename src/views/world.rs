//! The world screen: the account as the responder shows it after each action (the demo world):
//! every instance with its ENIs' groups (the contain group once quarantined, and how many later
//! flow-log lines that turned to REJECT), snapshots with progress, the notification outbox and the
//! credentials contained. Draws only; the state holds the last view the responder sent.

use super::theme::Theme;
use crate::actions::AccountView;
use crate::app::state::{State, WorldView};
use crate::app::{Command, Context};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Lines fitted to the screen's width.
struct Out<'t> {
    t: &'t Theme,
    w: usize,
    lines: Vec<Line<'static>>,
}

impl Out<'_> {
    fn push(&mut self, text: String, style: Style) {
        self.lines
            .push(Line::from(Span::styled(self.t.fit(&text, self.w), style)));
    }
}

/// `S on an instance finding`, from the keymap (empty when the command is unbound).
fn how(state: &State, cmd: Command, on: &str) -> String {
    super::hints::key(state, Context::Findings, cmd)
        .map_or_else(String::new, |k| format!(" ({k} {on})"))
}

fn lines_of(state: &State, a: &AccountView, t: &Theme, w: usize) -> Vec<Line<'static>> {
    let mut o = Out {
        t,
        w,
        lines: Vec::new(),
    };
    o.push(
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
    o.push(format!(" Instances ({})", a.instances.len()), t.title());
    for i in &a.instances {
        instance(&mut o, i);
    }
    o.push(format!(" Snapshots ({})", a.snapshots.len()), t.title());
    if a.snapshots.is_empty() {
        o.push(
            format!(
                "   none yet{}",
                how(state, Command::Snapshot, "on an instance finding")
            ),
            o.t.dim(),
        );
    }
    for s in &a.snapshots {
        let style = match s.state.as_str() {
            "completed" => o.t.good(),
            "pending" => o.t.warn(),
            _ => o.t.bad(),
        };
        o.push(
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
    o.push(format!(" Outbox ({})", a.outbox.len()), t.title());
    if a.outbox.is_empty() {
        o.push(
            format!(
                "   nothing sent yet{}",
                how(state, Command::Notify, "on a finding")
            ),
            o.t.dim(),
        );
    }
    for m in &a.outbox {
        o.push(format!("   {} → {}", m.message_id, m.to), o.t.dim());
        o.push(format!("     {}", m.subject), o.t.accent());
        for l in m.body.lines() {
            o.push(format!("     {l}"), Style::new());
        }
    }
    o.push(
        format!(" DNS Firewall block list ({})", a.blocked.len()),
        t.title(),
    );
    if a.blocked.is_empty() {
        o.push(
            format!(
                "   nothing blocked{}",
                how(state, Command::BlockDomain, "on a domain or a DNS finding")
            ),
            o.t.dim(),
        );
    }
    for (d, vpcs) in &a.blocked {
        let scope = if vpcs.is_empty() {
            "not applied to any VPC yet".to_string()
        } else {
            format!("NXDOMAIN in {}", vpcs.join(", "))
        };
        o.push(format!("   {d} {} {scope}", o.t.sep()), o.t.warn());
    }
    o.push(
        format!(" Network ACL denies ({})", a.acl_denies.len()),
        t.title(),
    );
    if a.acl_denies.is_empty() {
        o.push(
            format!(
                "   nothing blocked{}",
                how(state, Command::BlockIp, "on an address or a finding")
            ),
            o.t.dim(),
        );
    }
    for (acl, rule, egress, cidr) in &a.acl_denies {
        o.push(
            format!(
                "   {cidr} {} {acl} rule {rule} {}",
                o.t.sep(),
                if *egress { "outbound" } else { "inbound" }
            ),
            o.t.warn(),
        );
    }
    for (set, blocks) in &a.waf_sets {
        o.push(
            format!(" WAF IP set {set}: {} block(s)", blocks.len()),
            t.title(),
        );
        for b in blocks {
            o.push(format!("   {b}"), o.t.warn());
        }
    }
    for (instance, location, found) in &a.collections {
        o.push(
            format!(" Collected from {instance} → {location}"),
            t.title(),
        );
        if found.is_empty() {
            o.push("   nothing notable".to_string(), o.t.dim());
        }
        for l in found {
            let style = if l.starts_with("==") || l.starts_with("--") {
                o.t.dim()
            } else {
                o.t.warn()
            };
            o.push(format!("   {}", crate::model::text::escape(l)), style);
        }
    }
    o.push(" Credentials".to_string(), t.title());
    for c in &a.credentials {
        o.push(
            format!(
                "   {}: {}{}",
                c.what,
                c.state,
                if c.changed { " (this session)" } else { "" }
            ),
            if c.changed { o.t.warn() } else { o.t.dim() },
        );
    }
    o.lines
}

/// An instance, what vigil did to it, and its ENIs.
fn instance(o: &mut Out<'_>, i: &crate::actions::account::InstanceView) {
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
    if let Some(p) = &i.detached_profile {
        marks.push(format!(
            "profile detached ({})",
            p.rsplit('/').next().unwrap_or(p)
        ));
    }
    let asg = i.asg.as_ref().map(|(g, life)| format!("{g}: {life}"));
    if marks.is_empty() {
        if let Some(a) = asg {
            head.push_str(&format!(" {} {a}", o.t.sep()));
        }
        o.push(head, Style::new());
    } else {
        marks.extend(asg);
        o.push(head, if quarantined { o.t.bad() } else { Style::new() });
        o.push(
            format!("     {}", marks.join(&format!(" {} ", o.t.sep()))),
            if quarantined { o.t.bad() } else { o.t.warn() },
        );
    }
    for e in &i.enis {
        let style = if e.isolated.is_some() {
            o.t.warn()
        } else {
            o.t.dim()
        };
        o.push(
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
            o.push(
                format!(
                    "       isolated {when} {} {} later flow-log line(s) now REJECT",
                    o.t.sep(),
                    e.rejected_lines
                ),
                o.t.warn(),
            );
        }
    }
}

pub fn render(state: &State, v: &WorldView, t: &Theme, frame: &mut Frame, body: Rect) {
    let w = usize::from(body.width);
    let lines = match &state.actions.account {
        Some(a) => lines_of(state, a, t, w),
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
