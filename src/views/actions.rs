//! The actions screen: this session's actions with the status of work in flight (calls made,
//! snapshot progress), and the session's audit log as written to disk.

use super::theme::Theme;
use crate::app::Command;
use crate::app::state::{ActionsView, JobStatus, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn status_style(t: &Theme, s: &JobStatus) -> Style {
    match s {
        JobStatus::Done | JobStatus::WouldSucceed | JobStatus::NoOp => t.good(),
        JobStatus::Failed | JobStatus::PlanFailed => t.bad(),
        JobStatus::Planning | JobStatus::Running | JobStatus::Confirming => t.warn(),
        JobStatus::Cancelled => t.dim(),
    }
}

fn bar(t: &Theme, pct: u8, width: usize) -> String {
    let filled = usize::from(pct.min(100)) * width / 100;
    let (on, off) = if t.ascii { ("#", ".") } else { ("█", "░") };
    format!("{}{}", on.repeat(filled), off.repeat(width - filled))
}

/// The jobs table: a header, a row per job, its snapshots' progress and its error.
fn job_lines(state: &State, v: &ActionsView, t: &Theme, w: usize) -> Vec<Line<'static>> {
    let a = &state.actions;
    let mut top: Vec<Line> = Vec::new();
    top.push(Line::from(Span::styled(
        t.fit(
            &format!(
                " {:>3}  {:<16} {:<24} {:<22} {}",
                "#", "action", "target", "status", "calls"
            ),
            w,
        ),
        t.title(),
    )));
    if a.jobs.is_empty() {
        let keys = super::hints::line(
            state,
            crate::app::Context::Actions,
            &[
                (Command::Quarantine, "quarantine"),
                (Command::Snapshot, "snapshot"),
                (Command::Notify, "notify"),
                (Command::Playbook, "playbook"),
            ],
            ", ",
        );
        top.push(Line::from(Span::styled(
            format!("   no actions yet ({keys})"),
            t.dim(),
        )));
    }
    for (i, j) in a.jobs.iter().enumerate() {
        let target = t.fit(&crate::app::select::short_target(&j.action), 24);
        let status = format!(
            "{}{}",
            if j.dry_run && j.status != JobStatus::WouldSucceed {
                "dry run: "
            } else {
                ""
            },
            j.status.as_str()
        );
        let calls = if j.calls_total > 0 {
            format!("{}/{}", j.calls_done, j.calls_total)
        } else {
            "-".to_string()
        };
        let left = format!(" {:>3}  {:<16} {:<24} ", j.id, j.action.verb(), target);
        let row_style = if i == v.selected {
            t.selected()
        } else {
            Style::new()
        };
        top.push(
            Line::from(vec![
                Span::raw(left),
                Span::styled(
                    format!("{:<22} ", t.fit(&status, 22)),
                    status_style(t, &j.status),
                ),
                Span::raw(calls),
            ])
            .style(row_style),
        );
        top.extend(j.snapshots.iter().map(|p| snapshot_line(t, p, w)));
        top.extend(evidence_lines(j, t, w));
        if let Some(e) = &j.error {
            top.push(Line::from(Span::styled(
                t.fit(&format!("        {e}"), w),
                t.bad(),
            )));
        }
    }
    top
}

/// A collect's Run Command under its job, and what of the job the evidence store holds: each
/// object with the start of its SHA-256, and the manifest record listing them.
fn evidence_lines(j: &crate::app::state::Job, t: &Theme, w: usize) -> Vec<Line<'static>> {
    use crate::model::text::Escaped;
    let mut out = Vec::new();
    if let Some(run) = &j.command {
        let style = match run.state.status.as_str() {
            "Success" => t.good(),
            _ if run.state.is_final() => t.bad(),
            _ => t.warn(),
        };
        let mut line = format!("        command {} {}", run.id, run.state.status);
        if !run.state.details.is_empty() && run.state.details != run.state.status {
            line.push_str(&format!(" ({})", Escaped(&run.state.details)));
        }
        out.push(Line::from(Span::styled(t.fit(&line, w), style)));
    }
    for e in &j.evidence {
        match e {
            Ok(note) if note.artefacts.is_empty() => out.push(Line::from(Span::styled(
                t.fit(
                    "        evidence: no output in the store (instance role lacks s3:PutObject?)",
                    w,
                ),
                t.warn(),
            ))),
            Ok(note) => {
                for a in &note.artefacts {
                    // The file's name; SSM's stdout/stderr with the plugin step they are of.
                    let mut parts = a.key.rsplit('/');
                    let name = parts.next().unwrap_or_default();
                    let name = match (name, parts.next()) {
                        ("stdout" | "stderr", Some(step)) => format!("{step}/{name}"),
                        _ => name.to_string(),
                    };
                    let line = format!(
                        "        sha256 {} {:>8} B  {}",
                        &a.sha256[..a.sha256.len().min(16)],
                        a.size,
                        Escaped(&name)
                    );
                    out.push(Line::from(Span::styled(t.fit(&line, w), t.good())));
                }
                let line = format!("        manifest {}", Escaped(&note.manifest));
                out.push(Line::from(Span::styled(t.fit(&line, w), t.dim())));
            }
            Err(e) => {
                let line = format!("        evidence not recorded: {}", Escaped(e));
                out.push(Line::from(Span::styled(t.fit(&line, w), t.bad())));
            }
        }
    }
    out
}

/// One snapshot's progress under its job.
fn snapshot_line(t: &Theme, p: &crate::actions::SnapshotProgress, w: usize) -> Line<'static> {
    let pct = if p.state == "completed" {
        100
    } else {
        p.percent
    };
    let line = format!(
        "        {} {} {:<9} {:>3}% {}",
        p.snapshot_id,
        if p.volume_id.is_empty() {
            "-"
        } else {
            p.volume_id.as_str()
        },
        p.state,
        pct,
        bar(t, pct, 10)
    );
    let style = match p.state.as_str() {
        "completed" => t.good(),
        "pending" => t.warn(),
        _ => t.bad(),
    };
    Line::from(Span::styled(t.fit(&line, w), style))
}

/// Armed or read-only, with the responder, dry run and case.
fn session_line(state: &State, t: &Theme) -> String {
    let a = &state.actions;
    if state.armed() {
        format!(
            " ARMED {} {} {} dry run {} {} case {}",
            t.sep(),
            if a.responder.is_empty() {
                "responder"
            } else {
                a.responder.as_str()
            },
            t.sep(),
            if a.dry_run { "ON" } else { "off" },
            t.sep(),
            a.case.clone().unwrap_or_else(|| "(by date)".to_string()),
        )
    } else {
        format!(
            " READ-ONLY: no responder, action keys are refused ({})",
            match state.opts.mode {
                crate::app::state::Mode::Demo => "drop --read-only to act",
                _ => "vigil open --respond arms it",
            }
        )
    }
}

pub fn render(state: &State, v: &ActionsView, t: &Theme, frame: &mut Frame, body: Rect) {
    let w = usize::from(body.width);
    let a = &state.actions;
    let mut top: Vec<Line> = Vec::new();
    top.push(Line::from(Span::styled(
        t.fit(&session_line(state, t), w),
        t.title(),
    )));
    if !a.audit_path.is_empty() {
        top.push(Line::from(Span::styled(
            t.fit(&format!(" audit log: {}", a.audit_path), w),
            t.dim(),
        )));
    }
    top.extend(job_lines(state, v, t, w));
    let top_h = (top.len() as u16).min(body.height / 2).max(1);
    // Keep the selected job visible when the list is long.
    let skip = top.len().saturating_sub(usize::from(top_h));
    let shown_top: Vec<Line> = if skip == 0 {
        top
    } else {
        let head: Vec<Line> = top.iter().take(3).cloned().collect();
        head.into_iter()
            .chain(top.into_iter().skip(skip + 3))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(shown_top),
        Rect::new(body.x, body.y, body.width, top_h),
    );

    let log_area = Rect::new(
        body.x,
        body.y + top_h,
        body.width,
        body.height.saturating_sub(top_h),
    );
    let mut lines: Vec<Line> = vec![Line::from(Span::styled(
        format!(
            " Audit log, this session ({} record(s), newest last)",
            a.log.len()
        ),
        t.title(),
    ))];
    let rows = usize::from(log_area.height).saturating_sub(1);
    let n = a.log.len();
    let end = n.saturating_sub(v.scroll.min(n));
    let start = end.saturating_sub(rows);
    for r in &a.log[start..end] {
        let time: String = r.time.chars().skip(11).take(8).collect();
        let step = r
            .step
            .map(|n| format!("{n:>2}"))
            .unwrap_or_else(|| "  ".into());
        let mut text = format!(
            " {time} {}{:<8} {step} {:<36} {}",
            if r.demo { "demo " } else { "" },
            r.kind,
            r.api
                .clone()
                .unwrap_or_else(|| format!("{} {}", r.action, r.target)),
            r.outcome.clone().unwrap_or_default()
        );
        if let Some(id) = &r.request_id {
            text.push_str(&format!(" [{id}]"));
        }
        if !r.created.is_empty() {
            text.push_str(&format!(" → {}", r.created.join(",")));
        }
        let style = match r.outcome.as_deref() {
            Some("error") | Some("failed") => t.bad(),
            Some(_) => t.good(),
            None => t.dim(),
        };
        lines.push(Line::from(Span::styled(t.fit(&text, w), style)));
    }
    frame.render_widget(Paragraph::new(lines), log_area);
}
