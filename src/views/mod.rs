//! Drawing, and nothing else: every function here reads the [`State`] and writes a frame. One
//! file per screen; this one holds the frame layout (header, title, body, status) and the theme.

pub(crate) mod actions;
pub(crate) mod confirm;
pub(crate) mod detail;
mod detective;
pub(crate) mod event;
pub(crate) mod findings;
pub(crate) mod graph;
pub(crate) mod help;
mod hints;
mod objectives;
pub(crate) mod profile;
pub(crate) mod status;
mod theme;
pub(crate) mod trail;
pub(crate) mod world;
pub(crate) mod wrap;

pub use theme::{Theme, window_start};

use crate::app::state::{State, View};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Draws the whole console for `state`.
pub fn render(state: &State, frame: &mut Frame) {
    let t = Theme::of(state);
    let area = frame.area();
    if area.height < 4 || area.width < 20 {
        frame.render_widget(Paragraph::new("vigil: window too small"), area);
        return;
    }
    let header = Rect::new(area.x, area.y, area.width, 1);
    let title = Rect::new(area.x, area.y + 1, area.width, 1);
    let body = Rect::new(area.x, area.y + 2, area.width, area.height - 3);
    let status = Rect::new(area.x, area.y + area.height - 1, area.width, 1);
    header_line(state, &t, frame, header);
    match state.view() {
        None => findings::render(state, &t, frame, title, body),
        Some(v) => {
            breadcrumb(state, &t, frame, title);
            match v {
                View::Detail(d) => detail::render(state, d, &t, frame, body),
                View::Graph(g) => graph::render(state, g, &t, frame, body),
                View::Profile(p) => profile::render(state, p, &t, frame, body),
                View::Trail(tr) => trail::render(state, tr, &t, frame, body),
                View::Event(e) => event::render(state, e, &t, frame, body),
                View::Help(h) => help::render(state, h, &t, frame, body),
                View::Confirm(c) => confirm::render(state, c, &t, frame, body),
                View::Actions(a) => actions::render(state, a, &t, frame, body),
                View::World(wv) => world::render(state, wv, &t, frame, body),
                View::Detective(d) => detective::render(state, d, &t, frame, body),
                View::Objectives { scroll } => objectives::render(state, *scroll, &t, frame, body),
            }
        }
    }
    status::render(state, &t, frame, status);
}

/// The header: where the console is (mode, scenario or input), which account and region, whether
/// it can act, and the clock. The account, region and badge are what a responder acts on, so they
/// are never cut; when the line is too narrow the less important parts give way first: the
/// clock's date, then the `vigil` brand, then the label (cut), then the clock.
fn header_line(state: &State, t: &Theme, frame: &mut Frame, area: Rect) {
    let w = usize::from(area.width);
    let acct = match state.summary.accounts.as_slice() {
        [] => String::new(),
        [a] => a.clone(),
        [a, rest @ ..] => format!("{a} +{}", rest.len()),
    };
    let region = match state.summary.regions.as_slice() {
        [] => String::new(),
        [r] => r.clone(),
        [r, rest @ ..] => format!("{r} +{}", rest.len()),
    };
    let throttled = state.failing.iter().filter(|f| f.throttled).count();
    let failing = match (state.failing.len() - throttled, throttled) {
        (0, 0) => String::new(),
        (0, t) => format!("{t} THROTTLED"),
        (n, 0) => format!("{n} FAILING"),
        (n, t) => format!("{n} FAILING {t} THROTTLED"),
    };
    // A delegated administrator: its findings are its members' too.
    let admin = match state
        .administrators
        .iter()
        .map(|a| a.members)
        .sum::<usize>()
    {
        0 => String::new(),
        n => format!("ADMIN {n} members"),
    };
    // Recording, a drill's time left, a replay's progress: said where the eye goes first.
    // (A replay shows its own banner, not the recording the session was making.)
    let rec = match &state.recording {
        Some(_) if state.replay.is_some() => String::new(),
        Some(_) if t.ascii => "REC".to_string(),
        Some(_) => "● REC".to_string(),
        None => String::new(),
    };
    let drill = match (&state.drill, state.now) {
        (Some(d), Some(now)) => match (d.time_limit_s, d.started) {
            (Some(limit), Some(start)) => {
                let left = (limit as i64 * 1000 - (now.0 - start.0)).max(0) as u64;
                if left == 0 {
                    "DRILL time up".to_string()
                } else {
                    format!("DRILL {} left", crate::record::report::clock(left))
                }
            }
            _ => "DRILL".to_string(),
        },
        (Some(_), None) => "DRILL".to_string(),
        _ => String::new(),
    };
    let replay = match state.replay {
        Some(r) => format!(
            "REPLAY {}/{} {} {}×",
            crate::record::report::clock(r.at_ms),
            crate::record::report::clock(r.total_ms),
            if r.paused { "paused" } else { "playing" },
            f64::from(r.speed_pct) / 100.0
        ),
        None => String::new(),
    };
    let mut mid = String::new();
    for part in [replay, rec, drill, acct, region, admin, failing] {
        if !part.is_empty() {
            mid.push_str(&format!(" {} {part}", t.sep()));
        }
    }
    let mode = state.opts.mode.as_str();
    let label = state.opts.label.as_str();
    let (long_clock, short_clock) = state.now.map_or((String::new(), String::new()), |n| {
        let full = n.to_short();
        let time: String = full.chars().skip(11).collect();
        (format!("{full}Z "), format!("{time}Z "))
    });
    let badge = if state.opts.read_only {
        " READ-ONLY "
    } else {
        " ARMED "
    };
    let brand = format!(" vigil {} ", t.sep());
    let fits = |left: &str, clock: &str| {
        left.chars().count() + badge.chars().count() + 1 + clock.chars().count() <= w
    };
    let whole = |brand: &str| {
        let sp = if label.is_empty() { "" } else { " " };
        format!("{brand}{mode}{sp}{label}{mid}")
    };
    let (left, clock) = if fits(&whole(&brand), &long_clock) {
        (whole(&brand), long_clock)
    } else if fits(&whole(&brand), &short_clock) {
        (whole(&brand), short_clock)
    } else if fits(&whole(" "), &short_clock) {
        (whole(" "), short_clock)
    } else {
        // Cut the label to what is left; with no room for it, the clock goes too.
        let clock = if fits(&format!(" {mode}{mid}"), &short_clock) {
            short_clock
        } else {
            String::new()
        };
        let fixed = format!(" {mode}{mid}").chars().count()
            + badge.chars().count()
            + 1
            + clock.chars().count();
        let room = w.saturating_sub(fixed + 1);
        let cut = if label.is_empty() || room < 2 {
            String::new()
        } else {
            format!(" {}", t.fit(label, room))
        };
        (format!(" {mode}{cut}{mid}"), clock)
    };
    let fixed = badge.chars().count() + clock.chars().count() + 1;
    // Only in a window narrower than the essentials themselves does anything essential go.
    let lm = t.fit(&left, w.saturating_sub(fixed));
    let pad = w.saturating_sub(lm.chars().count() + fixed);
    let badge_style = if t.color {
        Style::new()
            .fg(Color::Black)
            .bg(Color::Green)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    let line = Line::from(vec![
        Span::raw(lm),
        Span::raw(" ".repeat(pad)),
        Span::styled(badge, badge_style),
        Span::raw(" "),
        Span::raw(clock),
    ])
    .style(t.header());
    frame.render_widget(Paragraph::new(line).style(t.header()), area);
}

fn breadcrumb(state: &State, t: &Theme, frame: &mut Frame, area: Rect) {
    let mut parts: Vec<String> = vec!["findings".into()];
    parts.extend(state.stack.iter().map(View::title));
    let full = parts.join(t.crumb());
    // Keep the end (the current screen) when the trail is too long.
    let w = usize::from(area.width).saturating_sub(1);
    let n = full.chars().count();
    let shown = if n > w {
        let tail: String = full.chars().skip(n - w + 1).collect();
        format!("{}{tail}", t.ellipsis())
    } else {
        full
    };
    frame.render_widget(
        Paragraph::new(Line::from(Span::styled(format!(" {shown}"), t.title()))),
        area,
    );
}
