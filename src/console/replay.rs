//! Replaying a recording: the same reducer and views consume the recorded messages, in order; the
//! effects the reducer asks for are not performed (their answers are in the recording), so no AWS
//! call is made and nothing changes. A load's index and graph are built again from the recorded
//! reference ([`super::rebuild`]). Interactive over crossterm (`vigil replay`), or headless: the
//! frames into an asciicast file, the after-action report, or a test's `TestBackend`.

use super::error::RunError;
use crate::app::state::ReplayInfo;
use crate::app::{Envelope, Msg, State, update};
use crate::record::report::Observer;
use crate::record::{Header, RecordError, Recording};
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A recording being replayed: the state so far and the messages still to apply.
pub struct Player {
    pub header: Header,
    pub state: State,
    queue: std::vec::IntoIter<Envelope>,
    /// Messages applied, and how many there are.
    pub applied: usize,
    pub total: usize,
    /// The offset of the last message applied, and of the last one in the file.
    pub at_ms: u64,
    pub total_ms: u64,
    pub truncated: bool,
    /// Loads whose evidence could not be rebuilt (their files changed or are gone).
    pub warnings: Vec<String>,
}

impl Player {
    pub fn new(rec: Recording) -> Result<Player, ReplayError> {
        let state = rec.header.initial_state()?;
        Ok(Player {
            total: rec.envelopes.len(),
            total_ms: rec.duration_ms(),
            truncated: rec.truncated,
            header: rec.header,
            state,
            queue: rec.envelopes.into_iter(),
            applied: 0,
            at_ms: 0,
            warnings: Vec::new(),
        })
    }

    pub fn open(path: &Path) -> Result<Player, ReplayError> {
        Player::new(crate::record::read(path)?)
    }

    /// The offset of the next message, if any.
    pub fn next_at(&self) -> Option<u64> {
        self.queue.as_slice().first().map(|e| e.t_ms)
    }

    /// Applies the next message (its effects are not performed); false at the end.
    pub fn step(&mut self, observer: Option<&mut Observer>) -> bool {
        let Some(mut env) = self.queue.next() else {
            return false;
        };
        if let Msg::Indexed(ix) | Msg::IndexedPart(ix) = &mut env.msg
            && ix.built.is_none()
        {
            match super::rebuild(&ix.evidence) {
                Ok(b) => ix.built = Some(Box::new(b)),
                Err(e) => self.warnings.push(e.to_string()),
            }
        }
        self.at_ms = self.at_ms.max(env.t_ms);
        let at = self.at_ms;
        match observer {
            Some(o) => {
                o.before(at, &env.msg);
                update(&mut self.state, env.msg);
                o.after(at, &self.state);
            }
            None => {
                update(&mut self.state, env.msg);
            }
        }
        self.applied += 1;
        true
    }

    /// Applies every message up to offset `t_ms`.
    pub fn seek(&mut self, t_ms: u64) {
        while self.next_at().is_some_and(|t| t <= t_ms) {
            self.step(None);
        }
    }

    fn banner(&mut self, paused: bool, speed: f64) {
        self.state.replay = Some(ReplayInfo {
            at_ms: self.at_ms,
            total_ms: self.total_ms,
            paused,
            speed_pct: (speed * 100.0).round() as u32,
        });
    }
}

/// Every frame of a replay, drawn on `terminal` after each message (a test's `TestBackend`), with
/// `frame` called after each draw.
pub fn frames<B: Backend>(
    player: &mut Player,
    terminal: &mut Terminal<B>,
    mut frame: impl FnMut(&Terminal<B>),
) -> Result<(), ReplayError>
where
    RunError: From<B::Error>,
{
    while player.step(None) {
        let state = &player.state;
        terminal
            .draw(|f| crate::views::render(state, f))
            .map_err(RunError::from)?;
        frame(terminal);
    }
    Ok(())
}

/// Writes an asciicast v2 file of the recording: each message's frame, as the terminal output a
/// real terminal would have received, at the message's time (× `1/speed`).
pub fn export_cast(from: &Path, to: &Path, speed: f64) -> Result<(), ReplayError> {
    let mut player = Player::open(from)?;
    let wr = |source| ReplayError::Write {
        path: to.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(to).map_err(wr)?;
    let (mut w, mut h) = (player.header.width.max(1), player.header.height.max(1));
    let title = format!(
        "vigil {} {}",
        player.header.mode.as_str(),
        player.header.label
    );
    let mut cast = crate::record::cast::CastWriter::new(
        std::io::BufWriter::new(file),
        w,
        h,
        player.header.started.0 / 1000,
        &title,
    )
    .map_err(wr)?;
    let out = SharedBuf::default();
    let mut term = cast_terminal(w, h, &out)?;
    cast.output(0.0, "\u{1b}[?25l\u{1b}[2J\u{1b}[H")
        .map_err(wr)?;
    let speed = if speed > 0.0 { speed } else { 1.0 };
    while player.step(None) {
        let t = player.at_ms as f64 / 1000.0 / speed;
        if (player.state.width, player.state.height) != (w, h) {
            (w, h) = (player.state.width.max(1), player.state.height.max(1));
            cast.resize(t, w, h).map_err(wr)?;
            term = cast_terminal(w, h, &out)?;
            cast.output(t, "\u{1b}[2J\u{1b}[H").map_err(wr)?;
        }
        let state = &player.state;
        term.draw(|f| crate::views::render(state, f))
            .map_err(|e| wr(std::io::Error::other(e)))?;
        cast.output(t, &String::from_utf8_lossy(&out.take()))
            .map_err(wr)?;
    }
    cast.output(player.at_ms as f64 / 1000.0 / speed, "\u{1b}[?25h")
        .map_err(wr)?;
    cast.finish().map_err(wr)?;
    Ok(())
}

/// Where the cast's terminal writes: taken after each frame.
#[derive(Clone, Default)]
struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl SharedBuf {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A terminal that writes escape sequences into memory, `w`×`h`, never asking a real terminal
/// its size.
fn cast_terminal(
    w: u16,
    h: u16,
    out: &SharedBuf,
) -> Result<Terminal<ratatui::backend::CrosstermBackend<SharedBuf>>, ReplayError> {
    Terminal::with_options(
        ratatui::backend::CrosstermBackend::new(out.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )
    .map_err(|e| ReplayError::Run(RunError::from(e)))
}

/// The after-action report of a recording (with the drill's score when it is one).
pub fn report(from: &Path) -> Result<String, ReplayError> {
    let mut player = Player::open(from)?;
    let mut o = Observer::default();
    while player.step(Some(&mut o)) {}
    let score = player.header.drill.as_ref().and_then(|d| {
        crate::demo::Scenario::load(&d.scenario)
            .ok()
            .map(|sc| crate::record::report::score(&o, &sc.manifest.answer_key, d.time_limit_s))
    });
    Ok(crate::record::report::markdown(
        &player.header,
        &o,
        player.truncated,
        score.as_ref(),
    ))
}

/// How `vigil replay` plays.
#[derive(Debug, Clone, Copy)]
pub struct PlayOptions {
    pub speed: f64,
    /// Start paused, advancing a message per key.
    pub step: bool,
    /// Skip to this offset first.
    pub from_ms: u64,
}

/// Plays a recording in the terminal: space pauses, `n` (or →) steps one message, `+`/`-`
/// change speed, `]`/`[` seek 10 s, `q` quits. Restores the terminal whatever happens.
pub fn play(path: &Path, opts: PlayOptions) -> Result<Vec<String>, ReplayError> {
    let mut player = Player::open(path)?;
    player.seek(opts.from_ms);
    let mut terminal = ratatui::try_init().map_err(RunError::from)?;
    let result = play_in(&mut terminal, &mut player, path, opts);
    ratatui::restore();
    result.map(|()| player.warnings)
}

fn play_in(
    terminal: &mut ratatui::DefaultTerminal,
    player: &mut Player,
    path: &Path,
    opts: PlayOptions,
) -> Result<(), ReplayError> {
    use crossterm::event::{self, Event, KeyCode, KeyEventKind};
    let mut speed = if opts.speed > 0.0 { opts.speed } else { 1.0 };
    let mut paused = opts.step;
    // Wall-clock instant that corresponds to `player.at_ms` while playing.
    let mut anchor = (Instant::now(), player.at_ms);
    loop {
        player.banner(paused || player.next_at().is_none(), speed);
        let state = &player.state;
        terminal
            .draw(|f| crate::views::render(state, f))
            .map_err(RunError::from)?;
        let wait = match (paused, player.next_at()) {
            (false, Some(next)) => {
                let due = anchor.0
                    + Duration::from_secs_f64(
                        next.saturating_sub(anchor.1) as f64 / 1000.0 / speed,
                    );
                due.saturating_duration_since(Instant::now())
            }
            _ => Duration::from_secs(3600),
        };
        if event::poll(wait).map_err(RunError::from)? {
            let Event::Key(k) = event::read().map_err(RunError::from)? else {
                continue;
            };
            if k.kind != KeyEventKind::Press {
                continue;
            }
            match k.code {
                KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                KeyCode::Char(' ') => {
                    paused = !paused;
                    anchor = (Instant::now(), player.at_ms);
                }
                KeyCode::Char('n') | KeyCode::Right => {
                    paused = true;
                    player.step(None);
                }
                KeyCode::Char('+') => {
                    speed = (speed * 2.0).min(256.0);
                    anchor = (Instant::now(), player.at_ms);
                }
                KeyCode::Char('-') => {
                    speed = (speed / 2.0).max(0.125);
                    anchor = (Instant::now(), player.at_ms);
                }
                KeyCode::Char(']') => {
                    player.seek(player.at_ms + 10_000);
                    anchor = (Instant::now(), player.at_ms);
                }
                KeyCode::Char('[') => {
                    // Back: the reducer only goes forward, so fold again from the start.
                    let target = player.at_ms.saturating_sub(10_000);
                    *player = Player::open(path)?;
                    player.seek(target);
                    anchor = (Instant::now(), player.at_ms);
                }
                _ => {}
            }
            continue;
        }
        // The next message is due.
        if !paused {
            player.step(None);
        }
    }
}

/// Writes a redacted copy of a recording: the evidence it references is carried in it (the
/// original files hold the identifiers being replaced), then every string of every line — the
/// header included — goes through one [`crate::record::redact::Redactor`], so a value gets the
/// same pseudonym everywhere. Returns how many distinct values of each kind were replaced.
pub fn redact_recording(from: &Path, to: &Path) -> Result<Vec<(&'static str, usize)>, ReplayError> {
    let rec = crate::record::read(from)?;
    let wr = |source| ReplayError::Write {
        path: to.to_path_buf(),
        source,
    };
    let mut red =
        crate::record::redact::Redactor::new().map_err(|e| wr(std::io::Error::other(e)))?;
    let mut header = serde_json::to_value(&rec.header).map_err(|e| wr(e.into()))?;
    red.value(&mut header);
    let mut header: Header = serde_json::from_value(header).map_err(|e| wr(e.into()))?;
    header.redacted = true;
    let mut out = crate::record::Recorder::create(to, &header)?;
    for mut env in rec.envelopes {
        if let Msg::Indexed(ix) | Msg::IndexedPart(ix) = &mut env.msg {
            match super::rebuild::embed(&ix.evidence) {
                Ok(e) => ix.evidence = e,
                Err(e) => {
                    return Err(wr(std::io::Error::other(format!(
                        "the recording's evidence cannot be carried into the redacted copy: {e}"
                    ))));
                }
            }
        }
        let mut v = serde_json::to_value(&env).map_err(|e| wr(e.into()))?;
        red.value(&mut v);
        let line = serde_json::to_string(&v).map_err(|e| wr(e.into()))?;
        out.append(&crate::record::scrub_secrets(&line))
            .map_err(wr)?;
    }
    Ok(red.counts().to_vec())
}
