//! The CloudTrail timeline of the current pivot, with its scope and filter.

use super::theme::Theme;
use crate::app::state::{Align, IndexState, State, TrailView};
use crate::app::{Command, Context};
use crate::model::Ts;
use crate::pivot::{EventRow, TrailIndex};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

/// What tells principals apart in a narrow column.
fn principal_short(p: &str) -> &str {
    // arn:aws:sts::123:assumed-role/Role/Session → Role/Session; other ARNs → user/name, root
    if let Some((_, rest)) = p.split_once(":assumed-role/") {
        return rest;
    }
    if p.starts_with("arn:") {
        return p.rsplit(':').next().unwrap_or(p);
    }
    // An Identity Center user (`STORE/USERID`, `ACCOUNT/NAME`): the store or account is the same
    // on every row; the user is what differs. (An `idp-user` NAME@PROVIDER stays whole: the
    // provider's id may hold a `/`.)
    match p.split_once('/') {
        Some((head, user))
            if head.starts_with("d-") || head.bytes().all(|b| b.is_ascii_digit()) =>
        {
            user
        }
        _ => p,
    }
}

/// The scope line: window, alignment, counts, filter.
fn scope_info(tv: &TrailView, t: &Theme) -> String {
    let fmt = |ts: Option<Ts>| ts.map_or("".to_string(), |x| x.to_short()[5..16].to_string());
    let window = match tv.scope.millis() {
        None => "all time".to_string(),
        Some(_) => format!("{} .. {}", fmt(tv.window.from), fmt(tv.window.to)),
    };
    let align = match tv.align {
        Align::Latest => "",
        Align::Centre(_) => " centred on finding",
        Align::Before(_) => " before finding",
    };
    let mut info = format!(
        " scope {}{align}: {window} {} {} of {} events",
        tv.scope.as_str(),
        t.sep(),
        tv.rows.len(),
        tv.total
    );
    if !tv.filter.is_empty() {
        info.push_str(&format!(" {} /{}", t.sep(), tv.filter));
    }
    info
}

/// Column widths for a screen `w` wide: the service from 110 columns, the user agent from 150.
struct Cols {
    wide: bool,
    time: u16,
    name: u16,
    svc: u16,
    princ: u16,
    ip: u16,
    err: u16,
    ua: u16,
}

impl Cols {
    fn new(w: u16) -> Cols {
        let wide = w >= 110;
        let time: u16 = if wide { 19 } else { 14 };
        let svc: u16 = if wide { 10 } else { 0 };
        let ip: u16 = 15;
        let err: u16 = if wide { 20 } else { 12 };
        let ua: u16 = if w >= 150 { 24 } else { 0 };
        let gaps = [time, svc, ip, err, ua].iter().filter(|x| **x > 0).count() as u16 + 1;
        let rest = w.saturating_sub(time + svc + ip + err + ua + gaps);
        let name = (rest / 2 + 2).min(rest);
        Cols {
            wide,
            time,
            name,
            svc,
            princ: rest - name,
            ip,
            err,
            ua,
        }
    }

    fn widths_and_header(&self) -> (Vec<Constraint>, Vec<&'static str>) {
        let mut widths = vec![Constraint::Length(self.time), Constraint::Length(self.name)];
        let mut header = vec!["TIME", "EVENT"];
        if self.svc > 0 {
            widths.push(Constraint::Length(self.svc));
            header.push("SERVICE");
        }
        widths.push(Constraint::Length(self.princ));
        header.push("PRINCIPAL");
        widths.push(Constraint::Length(self.ip));
        header.push("SOURCE IP");
        widths.push(Constraint::Length(self.err));
        header.push("ERROR");
        if self.ua > 0 {
            widths.push(Constraint::Length(self.ua));
            header.push("USER AGENT");
        }
        (widths, header)
    }

    /// One event's row; `hunted`: a rule matched it, `listed`: its source address is on a
    /// threat list.
    fn row(
        &self,
        ix: &TrailIndex,
        row: &EventRow,
        t: &Theme,
        marked: bool,
        (hunted, listed): (bool, bool),
    ) -> Row<'static> {
        let ts = row.time.to_short();
        let time = if self.wide { ts } else { ts[5..].to_string() };
        let mut cells = Vec::new();
        if marked {
            // A: from the LookupEvents API; blank: from a log file.
            cells.push(Cell::from(if row.api { "A" } else { " " }).style(t.dim()));
        }
        let name = if hunted {
            format!("{} {}", t.hunt_mark(), ix.str(row.name))
        } else {
            ix.str(row.name).to_string()
        };
        let name = Cell::from(t.fit(&name, usize::from(self.name)));
        cells.extend([
            Cell::from(time),
            if hunted { name.style(t.bad()) } else { name },
        ]);
        if self.svc > 0 {
            let src = ix.str(row.source);
            let svc = src.strip_suffix(".amazonaws.com").unwrap_or(src);
            cells.push(Cell::from(t.fit(svc, usize::from(self.svc))));
        }
        cells.push(Cell::from(t.fit(
            principal_short(ix.str(row.principal)),
            usize::from(self.princ),
        )));
        let ip = Cell::from(t.fit(ix.str(row.source_ip), usize::from(self.ip)));
        cells.push(if listed {
            ip.style(t.bad().add_modifier(ratatui::style::Modifier::BOLD))
        } else {
            ip
        });
        let err = ix.str(row.error);
        cells.push(Cell::from(t.fit(err, usize::from(self.err))).style(t.bad()));
        if self.ua > 0 {
            cells.push(
                Cell::from(t.fit(ix.str(row.user_agent), usize::from(self.ua))).style(t.dim()),
            );
        }
        Row::new(cells)
    }
}

pub fn render(state: &State, tv: &TrailView, t: &Theme, frame: &mut Frame, body: Rect) {
    let scope_line = Rect::new(body.x, body.y, body.width, 1);
    let mut info = scope_info(tv, t);
    // The load goes on: these are the files indexed so far.
    if let IndexState::Loading(p) = state.index_state {
        info.push_str(&format!(
            " {} indexing {}/{} files",
            t.sep(),
            p.files_done,
            p.files_total
        ));
    }
    frame.render_widget(
        Paragraph::new(Span::styled(t.fit(&info, usize::from(body.width)), t.dim())),
        scope_line,
    );
    // A live session: what LookupEvents did for this pivot, on a line of its own.
    let api_line = crate::app::select::lookup_line(state, &tv.entity);
    let top = u16::from(api_line.is_some());
    if let Some(line) = api_line {
        frame.render_widget(
            Paragraph::new(Span::styled(
                t.fit(&format!(" {line}"), usize::from(body.width)),
                t.dim(),
            )),
            Rect::new(body.x, body.y + 1, body.width, 1),
        );
    }
    let body = Rect::new(
        body.x,
        body.y + top,
        body.width,
        body.height.saturating_sub(top),
    );
    let table_area = Rect::new(
        body.x,
        body.y + 1,
        body.width,
        body.height.saturating_sub(1),
    );
    let Some(ix) = state.index.as_ref() else {
        let msg = match state.index_state {
            IndexState::None => " no CloudTrail loaded: start with --trail PATH",
            _ => " indexing CloudTrail… (progress on the status line)",
        };
        frame.render_widget(
            Paragraph::new(Span::styled(msg, t.warn())),
            Rect::new(body.x, body.y + 2, body.width, 1),
        );
        return;
    };
    // Which rows the API brought, once it brought any: a one-letter column.
    let marked = ix.api_rows() > 0;
    let cols = Cols::new(body.width.saturating_sub(if marked { 2 } else { 0 }));
    let (mut widths, mut header) = cols.widths_and_header();
    if marked {
        widths.insert(0, Constraint::Length(1));
        header.insert(0, "");
    }
    // Rules or lists in this session: the last line says what marks the selected row.
    let marks_line = !state.hunt_marks.is_empty() || !state.intel.is_empty();
    let table_area = Rect {
        height: table_area.height.saturating_sub(u16::from(marks_line)),
        ..table_area
    };
    let page = usize::from(table_area.height.saturating_sub(1)).max(1);
    let offset = super::theme::window_start(tv.selected, tv.rows.len(), page);
    let mut rows = Vec::new();
    let mut selected_marks = Vec::new();
    for (n, r) in tv.rows.iter().enumerate().skip(offset).take(page) {
        let Some(row) = ix.row(*r) else { continue };
        let hunt = if state.hunt_marks.is_empty() {
            None
        } else {
            state.hunt_marks.get(&ix.event_id(row))
        };
        let list = state.intel.mark_ip(ix.str(row.source_ip));
        let mut r = cols.row(ix, row, t, marked, (hunt.is_some(), list.is_some()));
        if n == tv.selected {
            r = r.style(t.selected());
            selected_marks = row_marks(hunt, list, ix.str(row.source_ip), t);
        }
        rows.push(r);
    }
    if marks_line {
        frame.render_widget(
            Paragraph::new(Line::from(selected_marks)),
            Rect::new(body.x, table_area.y + table_area.height, body.width, 1),
        );
    }
    if tv.rows.is_empty() {
        let empty = match super::hints::key(state, Context::Trail, Command::ScopeAll) {
            Some(k) => format!(" no events in this scope ({k} widens to all time)"),
            None => " no events in this scope".to_string(),
        };
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(empty, t.dim()))),
            Rect::new(body.x, body.y + 2, body.width, 1),
        );
    }
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(t.title()))
            .column_spacing(1),
        table_area,
    );
}

/// What marks the selected event: the rule that matched it (ATT&CK technique and title) and
/// the list its source address is on.
fn row_marks(
    hunt: Option<&crate::app::state::HuntMark>,
    list: Option<&crate::hunt::IntelList>,
    ip: &str,
    t: &Theme,
) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    if let Some(m) = hunt {
        let more = if m.detections > 1 {
            format!(" (+{} more)", m.detections - 1)
        } else {
            String::new()
        };
        spans.push(Span::styled(
            format!(
                " {} {} {}{more}",
                t.hunt_mark(),
                crate::model::text::escape(&m.technique),
                crate::model::text::escape(&m.title)
            ),
            t.bad(),
        ));
    }
    if let Some(l) = list {
        spans.push(Span::raw(format!(" {ip}")));
        spans.push(t.list_tag(l));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::principal_short;

    #[test]
    fn principals_keep_what_tells_them_apart() {
        for (id, short) in [
            (
                "arn:aws:sts::123456789012:assumed-role/Web/i-0abc",
                "Web/i-0abc",
            ),
            ("arn:aws:iam::123456789012:user/alice", "user/alice"),
            ("arn:aws:iam::123456789012:root", "root"),
            (
                "d-9067642ac7/544894e8-80c1-707f-60e3-3ba6510dfac1",
                "544894e8-80c1-707f-60e3-3ba6510dfac1",
            ),
            ("123456789012/jane.doe", "jane.doe"),
            (
                "SamlExample@bdGOnTesti4+ExamplexL/jEvs=",
                "SamlExample@bdGOnTesti4+ExamplexL/jEvs=",
            ),
            ("ec2.amazonaws.com", "ec2.amazonaws.com"),
            ("123456789012", "123456789012"),
        ] {
            assert_eq!(principal_short(id), short, "{id}");
        }
    }
}
