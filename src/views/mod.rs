//! Drawing, and nothing else: every function here reads the [`State`] and writes a frame. One
//! file per screen; this one holds the frame layout (header, title, body, status) and the theme.

pub mod actions;
pub mod confirm;
pub mod detail;
pub mod event;
pub mod findings;
pub mod graph;
pub mod help;
mod hints;
pub mod profile;
pub mod status;
pub mod trail;
pub mod world;
pub mod wrap;

use crate::app::state::{State, View};
use crate::model::{EntityKind, SeverityLabel};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// Colours and glyphs, honouring `--no-color`/`NO_COLOR` and `--ascii`. 16 colours only.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    pub ascii: bool,
}

const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

impl Theme {
    pub fn of(state: &State) -> Theme {
        Theme {
            color: state.opts.color,
            ascii: state.opts.ascii,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn severity(&self, l: SeverityLabel) -> Style {
        if !self.color {
            return match l {
                SeverityLabel::Critical | SeverityLabel::High => {
                    Style::new().add_modifier(Modifier::BOLD)
                }
                _ => Style::new(),
            };
        }
        match l {
            SeverityLabel::Critical => Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD),
            SeverityLabel::High => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            SeverityLabel::Medium => Style::new().fg(Color::Yellow),
            SeverityLabel::Low => Style::new().fg(Color::Cyan),
        }
    }

    pub fn badge(l: SeverityLabel) -> &'static str {
        match l {
            SeverityLabel::Critical => "CRIT",
            SeverityLabel::High => "HIGH",
            SeverityLabel::Medium => "MED",
            SeverityLabel::Low => "LOW",
        }
    }

    /// The cursor row: reverse video, which survives NO_COLOR and monochrome terminals.
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn header(&self) -> Style {
        if self.color {
            Style::new().fg(Color::White).bg(Color::Blue)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn title(&self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn bad(&self) -> Style {
        self.fg(Color::Red)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }

    pub fn kind(&self, k: EntityKind) -> Style {
        self.fg(match k {
            EntityKind::Finding => Color::Red,
            EntityKind::Account => Color::Gray,
            EntityKind::Ip => Color::Yellow,
            EntityKind::Domain => Color::Magenta,
            EntityKind::Instance => Color::Green,
            EntityKind::Role | EntityKind::Session => Color::Cyan,
            EntityKind::User => Color::LightCyan,
            EntityKind::Key => Color::LightMagenta,
            EntityKind::Bucket => Color::LightGreen,
            EntityKind::Ua => Color::Gray,
            EntityKind::Service => Color::Blue,
            EntityKind::SsoUser | EntityKind::IdpUser => Color::LightBlue,
        })
    }

    pub fn symbol(&self, k: EntityKind) -> &'static str {
        if self.ascii {
            return match k {
                EntityKind::Finding => "!",
                EntityKind::Account => "A",
                EntityKind::Ip => "@",
                EntityKind::Domain => "~",
                EntityKind::Instance => "#",
                EntityKind::Role => "R",
                EntityKind::Session => "s",
                EntityKind::User => "U",
                EntityKind::Key => "K",
                EntityKind::Bucket => "B",
                EntityKind::Ua => "u",
                EntityKind::Service => "S",
                EntityKind::SsoUser => "I",
                EntityKind::IdpUser => "F",
            };
        }
        match k {
            EntityKind::Finding => "!",
            EntityKind::Account => "⌂",
            EntityKind::Ip => "◆",
            EntityKind::Domain => "◇",
            EntityKind::Instance => "■",
            EntityKind::Role => "◉",
            EntityKind::Session => "○",
            EntityKind::User => "●",
            EntityKind::Key => "¤",
            EntityKind::Bucket => "▤",
            EntityKind::Ua => "≡",
            EntityKind::Service => "◈",
            EntityKind::SsoUser => "◎",
            EntityKind::IdpUser => "◍",
        }
    }

    pub fn border(&self) -> border::Set<'static> {
        if self.ascii {
            ASCII_BORDER
        } else {
            border::PLAIN
        }
    }

    pub fn block<'a>(&self, title: impl Into<Line<'a>>) -> Block<'a> {
        Block::new()
            .borders(Borders::ALL)
            .border_set(self.border())
            .border_style(self.dim())
            .title(title)
    }

    pub fn new_mark(&self) -> &'static str {
        if self.ascii { "*" } else { "●" }
    }

    pub fn sep(&self) -> &'static str {
        if self.ascii { "|" } else { "│" }
    }

    pub fn arrow(&self, outgoing: bool) -> &'static str {
        match (self.ascii, outgoing) {
            (true, true) => "->",
            (true, false) => "<-",
            (false, true) => "→",
            (false, false) => "←",
        }
    }

    pub fn tree(&self, last: bool) -> &'static str {
        match (self.ascii, last) {
            (true, false) => "|-",
            (true, true) => "`-",
            (false, false) => "├─",
            (false, true) => "└─",
        }
    }

    pub fn ellipsis(&self) -> &'static str {
        if self.ascii { "~" } else { "…" }
    }

    pub fn crumb(&self) -> &'static str {
        if self.ascii { " > " } else { " › " }
    }

    /// A sparkline as text: one glyph per value, scaled to the maximum.
    pub fn spark(&self, values: &[u64]) -> String {
        let ramp: &[char] = if self.ascii {
            &[' ', '.', ':', '-', '=', '+', '*', '#', '@']
        } else {
            &[' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█']
        };
        let max = values.iter().copied().max().unwrap_or(0).max(1);
        values
            .iter()
            .map(|v| {
                if *v == 0 {
                    ramp[0]
                } else {
                    ramp[(((*v * 7) / max) as usize + 1).min(8)]
                }
            })
            .collect()
    }

    /// Cuts `s` to `w` columns, marking the cut.
    pub fn fit(&self, s: &str, w: usize) -> String {
        if s.chars().count() <= w {
            return s.to_string();
        }
        if w == 0 {
            return String::new();
        }
        let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
        out.push_str(self.ellipsis());
        out
    }

    /// Cuts `s` to `w` columns so that what tells it apart from similar strings (from char
    /// `distinct` on, e.g. after a prefix they share) stays in view. Where that is within the
    /// first columns, a cut at the end does; otherwise the cut is in the middle: the head, an
    /// ellipsis, then the tail from `distinct` (itself cut at the end if even that is too long).
    pub fn fit_middle(&self, s: &str, w: usize, distinct: usize) -> String {
        // Chars after the first difference that an end cut must still show.
        const CONTEXT: usize = 8;
        let n = s.chars().count();
        if n <= w {
            return s.to_string();
        }
        // The head says what the string is (a user agent's product/version): keep a little.
        let min_head = (w / 4).min(16);
        let room = w.saturating_sub(1);
        if distinct + CONTEXT <= room || room < min_head + 1 {
            return self.fit(s, w);
        }
        let tail_len = n.saturating_sub(distinct.min(n));
        let head_len = room.saturating_sub(tail_len).max(min_head);
        let head: String = s.chars().take(head_len).collect();
        let tail: String = s.chars().skip(n - tail_len).collect();
        format!(
            "{head}{}{}",
            self.ellipsis(),
            self.fit(&tail, w - head_len - 1)
        )
    }
}

/// The first row of a `page`-row window over `len` rows that keeps `selected` in view: centred on
/// it where it can be, and never past the end, so the window is full whenever there are at least
/// `page` rows (flipping whole pages leaves a last page of a few rows and a blank screen).
pub fn window_start(selected: usize, len: usize, page: usize) -> usize {
    selected
        .saturating_sub(page / 2)
        .min(len.saturating_sub(page))
}

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
    let mut mid = String::new();
    for part in [acct, region] {
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

#[cfg(test)]
mod tests {
    use super::{Theme, window_start};

    const T: Theme = Theme {
        color: false,
        ascii: false,
    };

    #[test]
    fn fit_middle_keeps_what_differs_in_view() {
        let base = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 command/";
        let a = format!("{base}s3.cp");
        let shown = T.fit_middle(&a, 40, base.len());
        assert_eq!(shown.chars().count(), 40);
        assert!(
            shown.starts_with("aws-cli/2.15.30") && shown.ends_with("…s3.cp"),
            "{shown}"
        );
        // A difference near the start shows in a plain cut at the end.
        let b = "aws-sdk-java/2.25.11 Linux/6.1.79-99.167.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM";
        assert_eq!(T.fit_middle(b, 40, 4), T.fit(b, 40));
        // A distinctive tail longer than the line keeps a short head and the tail's start.
        let c = format!("{base}{}", "x".repeat(60));
        let shown = T.fit_middle(&c, 40, base.len());
        assert_eq!(shown.chars().count(), 40);
        assert!(shown.contains("…xxxx") && shown.ends_with('…'), "{shown}");
    }

    #[test]
    fn window_is_full_and_holds_the_selection() {
        for len in [0, 5, 19, 20, 233] {
            for sel in 0..len {
                let start = window_start(sel, len, 19);
                assert!(start <= sel && sel < start + 19, "{sel} of {len}");
                assert!(len < 19 || start + 19 <= len, "full: {sel} of {len}");
                assert!(len >= 19 || start == 0);
            }
        }
    }
}
