//! The findings (home) screen: severity summary with an arrivals sparkline, and the table.

use super::theme::Theme;
use crate::app::select::relative;
use crate::app::state::{ListRow, State};
use crate::model::{Finding, SeverityLabel};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// Column widths for a table `w` wide; optional columns collapse by priority (account/region
/// first, then group, then count). When the findings come from more than one account or region
/// (`vigil live` over several), account/region stays from 72 columns, in the group's place.
struct Cols {
    ty: u16,
    resource: u16,
    acct: u16,
    count: u16,
    last: u16,
    group: u16,
}

fn columns(w: u16, several_places: bool) -> Cols {
    let mut c = Cols {
        ty: 0,
        resource: 20,
        acct: 23,
        count: 5,
        last: 5,
        group: 10,
    };
    if w < 110 && several_places && w >= 72 {
        c.group = 0;
    } else if w < 110 {
        c.acct = 0;
    }
    if w < 72 {
        c.group = 0;
    }
    if w < 60 {
        c.count = 0;
        c.resource = 14;
    }
    // marker + badge + the gaps between the visible columns
    let gaps = [c.resource, c.acct, c.count, c.last, c.group]
        .iter()
        .filter(|x| **x > 0)
        .count() as u16
        + 2;
    let fixed = 1 + 4 + c.resource + c.acct + c.count + c.last + c.group + gaps;
    c.ty = w.saturating_sub(fixed).max(8);
    c
}

/// Whether the findings come from more than one account or region, or through a GuardDuty
/// administrator (whose member accounts' findings share its detector).
/// (The reducer's summary already holds them: no scan of the findings per frame.)
fn several_places(state: &State) -> bool {
    state.summary.accounts.len() > 1
        || state.summary.regions.len() > 1
        || !state.administrators.is_empty()
}

pub fn render(state: &State, t: &Theme, frame: &mut Frame, title: Rect, body: Rect) {
    summary(state, t, frame, title);
    let cols = columns(body.width, several_places(state));
    let page = usize::from(body.height.saturating_sub(1)).max(1);
    let rows = &state.list.rows;
    let offset = (state.list.selected / page) * page;
    let end = (offset + page).min(rows.len());
    let mut widths = vec![Constraint::Length(1), Constraint::Length(4)];
    let mut header: Vec<&str> = vec!["", "SEV"];
    widths.push(Constraint::Length(cols.ty));
    header.push("TYPE");
    widths.push(Constraint::Length(cols.resource));
    header.push("RESOURCE");
    if cols.acct > 0 {
        widths.push(Constraint::Length(cols.acct));
        header.push("ACCOUNT/REGION");
    }
    if cols.count > 0 {
        widths.push(Constraint::Length(cols.count));
        header.push("COUNT");
    }
    widths.push(Constraint::Length(cols.last));
    header.push("LAST");
    if cols.group > 0 {
        widths.push(Constraint::Length(cols.group));
        header.push("GROUP");
    }
    let mut out: Vec<Row> = Vec::with_capacity(end - offset);
    for (n, r) in rows[offset..end].iter().enumerate() {
        let selected = offset + n == state.list.selected;
        let row = match r {
            ListRow::Finding(i) => finding_row(state, t, &cols, *i as usize),
            ListRow::Group(g) => group_row(state, t, &cols, *g as usize),
        };
        out.push(if selected {
            row.style(t.selected())
        } else {
            row
        });
    }
    if rows.is_empty() {
        let msg = if state.findings.is_empty() {
            "waiting for findings…"
        } else {
            "no findings match the filter (c clears it)"
        };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {msg}"), t.dim())),
            Rect::new(body.x, body.y + 1, body.width, 1),
        );
    }
    let table = Table::new(out, widths)
        .header(Row::new(header).style(t.title()))
        .column_spacing(1);
    frame.render_widget(table, body);
}

fn finding_row<'a>(state: &'a State, t: &Theme, c: &Cols, i: usize) -> Row<'a> {
    let f: &Finding = &state.findings[i];
    let label = f.label();
    let mut cells: Vec<Cell> = Vec::with_capacity(8);
    let new = state.unseen.get(i).copied().unwrap_or(false);
    cells.push(Cell::from(if new { t.new_mark() } else { " " }).style(t.accent()));
    cells.push(Cell::from(Theme::badge(label)).style(t.severity(label)));
    let mut ty = f.finding_type.clone();
    if f.sample {
        ty.push_str(" [sample]");
    }
    if f.archived {
        ty.push_str(" [archived]");
    }
    cells.push(Cell::from(t.fit(&ty, usize::from(c.ty))));
    // The account has its own column (and the detail screen the whole ARN).
    let resource = crate::model::arn::short_name(&f.resource);
    cells.push(Cell::from(t.fit(resource, usize::from(c.resource))));
    if c.acct > 0 {
        let ar = format!(
            "{}/{}",
            f.account_id.as_deref().unwrap_or("-"),
            f.region.as_deref().unwrap_or("-")
        );
        cells.push(Cell::from(t.fit(&ar, usize::from(c.acct))));
    }
    if c.count > 0 {
        cells.push(Cell::from(Line::from(f.count.to_string()).right_aligned()));
    }
    cells.push(Cell::from(
        Line::from(relative(state.now, f.time())).right_aligned(),
    ));
    if c.group > 0 {
        cells.push(Cell::from(state.group_id_of(i).unwrap_or("-").to_string()).style(t.dim()));
    }
    Row::new(cells)
}

fn group_row<'a>(state: &'a State, t: &Theme, c: &Cols, g: usize) -> Row<'a> {
    let Some(grp) = state.groups.get(g) else {
        return Row::new(Vec::<Cell>::new());
    };
    let label = SeverityLabel::of(grp.severity);
    let text = format!("group {} ({} findings)", grp.id, grp.findings.len());
    Row::new(vec![
        Cell::from(if t.ascii { ">" } else { "▸" }),
        Cell::from(Theme::badge(label)).style(t.severity(label)),
        Cell::from(t.fit(&text, usize::from(c.ty))).style(t.title()),
        Cell::from(t.fit(
            &format!("{} entities", grp.entities.len()),
            usize::from(c.resource),
        ))
        .style(t.dim()),
    ])
}

fn summary(state: &State, t: &Theme, frame: &mut Frame, area: Rect) {
    let c = &state.summary.counts;
    let mut spans = vec![Span::raw(" ")];
    for (n, label) in SeverityLabel::ALL_DESC.iter().enumerate() {
        spans.push(Span::styled(
            format!("{} {}", Theme::badge(*label), c[n]),
            t.severity(*label),
        ));
        spans.push(Span::raw("  "));
    }
    let shown = state
        .list
        .rows
        .iter()
        .filter(|r| matches!(r, ListRow::Finding(_)))
        .count();
    let mut info = format!("{shown}/{}", state.findings.len());
    let l = &state.list;
    info.push_str(&format!(" by {}", l.sort.as_str()));
    if let Some(m) = l.min_severity {
        info.push_str(&format!(" >={}", Theme::badge(m)));
    }
    if let Some(g) = &l.group_only {
        info.push_str(&format!(" {g}"));
    }
    if !l.filter.is_empty() {
        info.push_str(&format!(" /{}", l.filter));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = usize::from(area.width).saturating_sub(used + info.chars().count() + 2);
    let spark_w = room.min(state.summary.spark.len());
    if spark_w >= 8 {
        let s = &state.summary.spark;
        // Shrink to fit by summing neighbouring buckets.
        let per = s.len().div_ceil(spark_w);
        let squeezed: Vec<u64> = s.chunks(per).map(|c| c.iter().sum()).collect();
        spans.push(Span::styled(t.spark(&squeezed), t.accent()));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(info, t.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
