//! The CloudTrail timeline of the current pivot, with its scope and filter.

use super::Theme;
use crate::app::state::{Align, IndexState, State, TrailView};
use crate::app::{Command, Context};
use crate::model::Ts;
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

pub fn render(state: &State, tv: &TrailView, t: &Theme, frame: &mut Frame, body: Rect) {
    let scope_line = Rect::new(body.x, body.y, body.width, 1);
    let table_area = Rect::new(
        body.x,
        body.y + 1,
        body.width,
        body.height.saturating_sub(1),
    );
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
    frame.render_widget(
        Paragraph::new(Span::styled(t.fit(&info, usize::from(body.width)), t.dim())),
        scope_line,
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
    let w = body.width;
    let wide = w >= 110;
    let time_w: u16 = if wide { 19 } else { 14 };
    let svc_w: u16 = if wide { 10 } else { 0 };
    let ip_w: u16 = 15;
    let err_w: u16 = if wide { 20 } else { 12 };
    let ua_w: u16 = if w >= 150 { 24 } else { 0 };
    let cols = [time_w, svc_w, ip_w, err_w, ua_w]
        .iter()
        .filter(|x| **x > 0)
        .count() as u16
        + 1;
    let rest = w.saturating_sub(time_w + svc_w + ip_w + err_w + ua_w + cols);
    let name_w = (rest / 2 + 2).min(rest);
    let princ_w = rest - name_w;
    let mut widths = vec![Constraint::Length(time_w), Constraint::Length(name_w)];
    let mut header = vec!["TIME", "EVENT"];
    if svc_w > 0 {
        widths.push(Constraint::Length(svc_w));
        header.push("SERVICE");
    }
    widths.push(Constraint::Length(princ_w));
    header.push("PRINCIPAL");
    widths.push(Constraint::Length(ip_w));
    header.push("SOURCE IP");
    widths.push(Constraint::Length(err_w));
    header.push("ERROR");
    if ua_w > 0 {
        widths.push(Constraint::Length(ua_w));
        header.push("USER AGENT");
    }
    let page = usize::from(table_area.height.saturating_sub(1)).max(1);
    let offset = super::window_start(tv.selected, tv.rows.len(), page);
    let mut rows = Vec::new();
    for (n, r) in tv.rows.iter().enumerate().skip(offset).take(page) {
        let Some(row) = ix.row(*r) else { continue };
        let ts = row.time.to_short();
        let time = if wide { ts } else { ts[5..].to_string() };
        let mut cells = vec![
            Cell::from(time),
            Cell::from(t.fit(ix.str(row.name), usize::from(name_w))),
        ];
        if svc_w > 0 {
            let src = ix.str(row.source);
            let svc = src.strip_suffix(".amazonaws.com").unwrap_or(src);
            cells.push(Cell::from(t.fit(svc, usize::from(svc_w))));
        }
        cells.push(Cell::from(
            t.fit(principal_short(ix.str(row.principal)), usize::from(princ_w)),
        ));
        cells.push(Cell::from(t.fit(ix.str(row.source_ip), usize::from(ip_w))));
        let err = ix.str(row.error);
        cells.push(Cell::from(t.fit(err, usize::from(err_w))).style(t.bad()));
        if ua_w > 0 {
            cells.push(Cell::from(t.fit(ix.str(row.user_agent), usize::from(ua_w))).style(t.dim()));
        }
        let mut r = Row::new(cells);
        if n == tv.selected {
            r = r.style(t.selected());
        }
        rows.push(r);
    }
    if tv.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                &match super::hints::key(state, Context::Trail, Command::ScopeAll) {
                    Some(k) => format!(" no events in this scope ({k} widens to all time)"),
                    None => " no events in this scope".to_string(),
                },
                t.dim(),
            ))),
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
