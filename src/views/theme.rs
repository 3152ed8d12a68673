//! Colours and glyphs for every screen, honouring `--no-color`/`NO_COLOR` and `--ascii`, and the
//! fitting of text to a width.

use crate::app::state::State;
use crate::hunt::{Intel, IntelList, ListKind};
use crate::model::{EntityId, EntityKind, SeverityLabel};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

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

    /// Before a CloudTrail event a hunting rule matched.
    pub fn hunt_mark(&self) -> &'static str {
        if self.ascii { "!" } else { "◆" }
    }

    /// The tag of something on a threat-intel list (` [intel:feed]`, bold in the bad colour)
    /// or a trusted one (` [trusted:office]`): text, so it shows without colour too.
    pub fn list_tag(&self, l: &IntelList) -> Span<'static> {
        let name = crate::model::text::escape(&l.name);
        match l.kind {
            ListKind::Threat => Span::styled(
                format!(" [intel:{name}]"),
                self.bad().add_modifier(Modifier::BOLD),
            ),
            ListKind::Trusted => Span::styled(format!(" [trusted:{name}]"), self.good()),
        }
    }

    /// [`Self::list_tag`] of the list `e` is on, if any.
    pub fn intel_tag(&self, intel: &Intel, e: &EntityId) -> Option<Span<'static>> {
        intel.mark(e).map(|l| self.list_tag(l))
    }

    /// An entity as a line of a list: its kind's symbol, its text fitted to `w` columns (less
    /// its list tag), the tag.
    pub fn entity_line(&self, intel: &Intel, e: &EntityId, w: usize) -> Line<'static> {
        let tag = self.intel_tag(intel, e);
        let room = w.saturating_sub(tag.as_ref().map_or(0, |t| t.content.chars().count()));
        let mut spans = vec![
            Span::styled(format!("{} ", self.symbol(e.kind)), self.kind(e.kind)),
            Span::raw(self.fit(&e.to_string(), room)),
        ];
        spans.extend(tag);
        Line::from(spans)
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
