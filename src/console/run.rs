//! The edge of the console: the terminal, the tokio runtime, the message sources (keyboard,
//! ticks, signals, file loads) and the effect executor. Everything here feeds the one channel;
//! only the loop in [`event_loop`] calls the reducer and draws.

use super::state::{Options, State};
use super::{Effect, Envelope, Indexed, Key, KeyCode, Keymap, Msg, Progress, update};
use crate::graph::EntityGraph;
use crate::ingest;
use crate::integrity::{self, FileStatus};
use crate::model::{Finding, Ts};
use crate::pivot::TrailIndex;
use crate::views;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// Capacity of the message channel; sources wait when the reducer falls behind.
const CHANNEL: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("terminal error: {0} (is this an interactive terminal?)")]
    Terminal(#[from] std::io::Error),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
}

/// Sends messages into the channel, stamping each with its sequence number and time offset.
#[derive(Clone)]
pub struct Bus {
    tx: mpsc::Sender<Envelope>,
    seq: Arc<AtomicU64>,
    start: Instant,
}

impl Bus {
    pub fn new(tx: mpsc::Sender<Envelope>) -> Bus {
        Bus {
            tx,
            seq: Arc::new(AtomicU64::new(0)),
            start: Instant::now(),
        }
    }

    fn envelope(&self, msg: Msg) -> Envelope {
        Envelope {
            seq: self.seq.fetch_add(1, Ordering::Relaxed),
            t_ms: self.start.elapsed().as_millis() as u64,
            msg,
        }
    }

    /// From async code. False when the console has gone.
    pub async fn send(&self, msg: Msg) -> bool {
        self.tx.send(self.envelope(msg)).await.is_ok()
    }

    /// From a blocking thread. False when the console has gone.
    pub fn blocking_send(&self, msg: Msg) -> bool {
        self.tx.blocking_send(self.envelope(msg)).is_ok()
    }
}

/// What `vigil open` reads.
#[derive(Debug, Clone, Default)]
pub struct FileSources {
    pub findings: Vec<PathBuf>,
    /// CloudTrail, flow logs and DNS logs (the content decides which is which).
    pub evidence: Vec<PathBuf>,
}

fn now() -> Ts {
    Ts(SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64))
}

/// crossterm's key event as the reducer's [`Key`]; releases and repeats are dropped.
pub fn key_of(ev: &crossterm::event::KeyEvent) -> Option<Key> {
    use crossterm::event::{KeyCode as C, KeyEventKind, KeyModifiers as M};
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let code = match ev.code {
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Delete => KeyCode::Delete,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::F(n) => KeyCode::F(n),
        _ => return None,
    };
    let ctrl = ev.modifiers.contains(M::CONTROL);
    let code = match code {
        KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
        c => c,
    };
    Some(Key {
        code,
        ctrl,
        alt: ev.modifiers.contains(M::ALT),
    })
}

/// What an armed console acts with: the responder and how to describe and record its work.
pub struct Arming {
    pub responder: Box<dyn crate::actions::Responder + Send>,
    /// Shown on the actions screen: "demo world log4shell-c2", "AWS us-east-1 as arn:…".
    pub label: String,
    /// The audit log (default: the user's state directory).
    pub audit_log: Option<PathBuf>,
    /// Notify also posts here; the URL stays with the responder, the screen shows its host.
    pub webhook: Option<crate::actions::webhook::WebhookUrl>,
    pub topic_arn: Option<String>,
    pub case: Option<String>,
    /// The command a notification tells the team to run to see the same view.
    pub open_command: Option<String>,
}

/// Arms the console's state with `a` and returns the responder's handle for the runtime.
fn arm(state: &mut State, a: Arming) -> super::respond::Armed {
    let path = a
        .audit_log
        .unwrap_or_else(crate::paths::audit_log);
    let acts = &mut state.actions;
    acts.armed = true;
    acts.responder = a.label;
    acts.audit_path = path.display().to_string();
    acts.topic_arn = a.topic_arn;
    acts.case = a.case;
    acts.open_command = a.open_command;
    acts.webhook = a.webhook.as_ref().map(|u| u.redacted());
    let responder = match a.webhook {
        Some(url) => Box::new(crate::actions::webhook::WebhookResponder::new(
            a.responder,
            url,
        )),
        None => a.responder,
    };
    let armed = super::respond::Armed::new(responder, path);
    state.actions.account = armed.account_view();
    armed
}

/// The console's runtime: two workers (the UI loop and the sources; blocking work has its pool).
fn console_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// Runs the console over files until the operator quits or a signal arrives. Read-only unless
/// `arming` gives it a responder (`vigil open --respond`).
pub fn open(
    opts: Options,
    keymap: Keymap,
    sources: FileSources,
    arming: Option<Arming>,
) -> Result<(), RunError> {
    let mut state = State::new(
        Options {
            read_only: arming.is_none(),
            ..opts
        },
        keymap,
    );
    let armed = arming.map(|a| arm(&mut state, a));
    let rt = console_runtime()?;
    rt.block_on(async move {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let bus = Bus::new(tx);
        let loader = bus.clone();
        tokio::task::spawn_blocking(move || load_files(&loader, sources));
        run_console_with(state, bus, rx, armed).await
    })
}

/// How a demo console acts: on the scenario's world through the demo responder (unless
/// `opts.read_only`), writing the audit log at `audit_log` (default: the user's state directory).
#[derive(Debug, Clone, Default)]
pub struct DemoActions {
    pub audit_log: Option<PathBuf>,
    /// Notify also posts here (for real: a trainee's team channel).
    pub webhook: Option<crate::actions::webhook::WebhookUrl>,
}

/// When a demo's play starts and how it is paced.
#[derive(Debug, Clone, Copy)]
pub struct Play {
    pub pacing: crate::demo::Pacing,
    /// The start of play: when the command started, before the scenario loaded, so the time it
    /// takes to load counts towards the wait for the first finding.
    pub started: Instant,
}

/// Runs the console over a demo scenario: the evidence is indexed in the background while the
/// findings arrive on the scenario's timeline, paced as `play` says.
pub fn demo(
    opts: Options,
    keymap: Keymap,
    scenario: crate::demo::Scenario,
    play: Play,
    acts: DemoActions,
) -> Result<(), RunError> {
    let Play { pacing, started } = play;
    let mut state = State::new(opts, keymap);
    let armed = if state.opts.read_only {
        None
    } else {
        let mut responder = crate::demo::responder::DemoResponder::for_scenario(&scenario)?;
        // Isolation is recorded in scenario time (the playback clock), so the world knows which
        // later flow-log lines of an isolated ENI say REJECT.
        if let Some(start) = crate::model::Ts::parse(&scenario.manifest.start) {
            let playback = scenario.playback(pacing);
            responder.clock = Some(Box::new(move || {
                let at = playback.scenario_at(started.elapsed());
                crate::model::Ts(start.0 + at.as_millis() as i64)
            }));
        }
        let topic_arn = responder.world.sns_topics.first().map(|t| t.arn.clone());
        let name = &scenario.manifest.name;
        Some(arm(
            &mut state,
            Arming {
                responder: Box::new(responder),
                label: format!("demo world {name}"),
                audit_log: acts.audit_log,
                webhook: acts.webhook,
                topic_arn,
                case: None,
                open_command: Some(format!("vigil demo {name}")),
            },
        ))
    };
    let rt = console_runtime()?;
    rt.block_on(async move {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let bus = Bus::new(tx);
        let scenario = Arc::new(scenario);
        let (indexer, sc) = (bus.clone(), scenario.clone());
        tokio::task::spawn_blocking(move || index_loaded(&indexer, &sc.evidence));
        let (timeline, sc) = (bus.clone(), scenario.clone());
        tokio::spawn(async move {
            let started = tokio::time::Instant::from_std(started);
            for (due, cue) in sc.schedule(pacing) {
                tokio::time::sleep_until(started + due).await;
                let msg = match cue {
                    crate::demo::Cue::Quiet(d) => Msg::QuietSkipped(d),
                    crate::demo::Cue::Finding(f) => Msg::Findings(vec![f.clone()]),
                };
                if !timeline.send(msg).await {
                    break;
                }
            }
        });
        run_console_with(state, bus, rx, armed).await
    })
}

/// Indexes evidence that is already in memory (a demo scenario's logs).
pub fn index_loaded(bus: &Bus, loaded: &ingest::Loaded) {
    let start = Instant::now();
    let mut graph = EntityGraph::default();
    let mut index = TrailIndex::new();
    for e in &loaded.events {
        graph.add_event(e);
        index.add(e.clone());
    }
    for q in &loaded.dns {
        graph.add_dns(q);
    }
    for r in &loaded.flows {
        graph.add_flow(r);
    }
    index.finish();
    bus.blocking_send(Msg::Indexed(Box::new(Indexed {
        index,
        graph,
        findings: 0,
        events: loaded.events.len(),
        elapsed_ms: start.elapsed().as_millis() as u64,
    })));
}

/// Sets up the terminal, starts the common sources, runs the loop, and restores the terminal
/// whatever happened. `ratatui::try_init` installs a panic hook that restores it on panic.
pub async fn run_console(
    state: State,
    bus: Bus,
    rx: mpsc::Receiver<Envelope>,
) -> Result<(), RunError> {
    run_console_with(state, bus, rx, None).await
}

/// [`run_console`] with the responder of an armed session (`None`: read-only, no responder).
pub async fn run_console_with(
    state: State,
    bus: Bus,
    rx: mpsc::Receiver<Envelope>,
    armed: Option<super::respond::Armed>,
) -> Result<(), RunError> {
    let mut terminal = ratatui::try_init()?;
    let result = async {
        let size = terminal.size()?;
        spawn_common_sources(&bus);
        bus.send(Msg::Resize {
            width: size.width,
            height: size.height,
        })
        .await;
        bus.send(Msg::Tick { now: now() }).await;
        event_loop(state, &bus, rx, &mut terminal, armed.as_ref()).await
    }
    .await;
    ratatui::restore();
    result
}

fn spawn_common_sources(bus: &Bus) {
    // Keyboard and resizes: a blocking reader thread.
    let keys = bus.clone();
    std::thread::spawn(move || {
        use crossterm::event::{Event, read};
        loop {
            let msg = match read() {
                Ok(Event::Key(k)) => key_of(&k).map(Msg::Key),
                Ok(Event::Resize(width, height)) => Some(Msg::Resize { width, height }),
                Ok(_) => None,
                Err(_) => break,
            };
            if let Some(m) = msg
                && !keys.blocking_send(m)
            {
                break;
            }
        }
    });
    // The clock: a tick per second carrying its own time.
    let ticks = bus.clone();
    tokio::spawn(async move {
        let mut iv = tokio::time::interval(Duration::from_secs(1));
        loop {
            iv.tick().await;
            if !ticks.send(Msg::Tick { now: now() }).await {
                break;
            }
        }
    });
    // SIGTERM / SIGHUP: quit through the reducer so the terminal is restored.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let sigs = bus.clone();
        tokio::spawn(async move {
            let (Ok(mut term), Ok(mut hup)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) else {
                return;
            };
            let name = tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = hup.recv() => "SIGHUP",
            };
            sigs.send(Msg::Signal(name)).await;
        });
    }
}

async fn event_loop<B: ratatui::backend::Backend>(
    mut state: State,
    bus: &Bus,
    mut rx: mpsc::Receiver<Envelope>,
    terminal: &mut ratatui::Terminal<B>,
    armed: Option<&super::respond::Armed>,
) -> Result<(), RunError>
where
    RunError: From<B::Error>,
{
    terminal.draw(|f| views::render(&state, f))?;
    while let Some(env) = rx.recv().await {
        let mut effects = update(&mut state, env.msg);
        // Apply everything already queued before drawing once.
        while !state.quit {
            match rx.try_recv() {
                Ok(env) => effects.extend(update(&mut state, env.msg)),
                Err(_) => break,
            }
        }
        for e in effects {
            execute(e, bus, armed);
        }
        if state.quit {
            break;
        }
        terminal.draw(|f| views::render(&state, f))?;
    }
    Ok(())
}

/// The effect executor: performs IO the reducer asked for and answers with messages.
fn execute(effect: Effect, bus: &Bus, armed: Option<&super::respond::Armed>) {
    match effect {
        Effect::Quit => {}
        e @ (Effect::PlanAction { .. }
        | Effect::RunAction { .. }
        | Effect::PollSnapshots { .. }) => super::respond::perform(armed, e, bus),
        Effect::LoadRaw { row, raw } => {
            let bus = bus.clone();
            tokio::task::spawn_blocking(move || {
                let text = raw.text().map_err(|e| e.to_string());
                bus.blocking_send(Msg::RawLoaded { row, text });
            });
        }
    }
}

/// Loads findings first (the screen fills at once), then indexes the evidence with progress.
pub fn load_files(bus: &Bus, sources: FileSources) {
    let start = Instant::now();
    let mut graph = EntityGraph::default();
    let mut index = TrailIndex::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut events = 0usize;
    let mut digests = Digests::default();
    if !sources.findings.is_empty() {
        match ingest::load(&sources.findings) {
            Ok(mut l) => {
                report_errors(bus, &l.errors);
                for f in &l.findings {
                    graph.add_finding(f);
                }
                findings = std::mem::take(&mut l.findings);
                digests.take(&mut l);
                events += absorb(&mut graph, &mut index, l);
            }
            Err(e) => report_errors(bus, &[ingest::IngestError::file(&e.path, e.to_string())]),
        }
        if !bus.blocking_send(Msg::Findings(findings.clone())) {
            return;
        }
    }
    if sources.evidence.is_empty() && events == 0 {
        return;
    }
    let evidence_files = ingest::source::expand(&sources.evidence).unwrap_or_default();
    let files_total = evidence_files.len();
    let mut files_done = 0usize;
    let mut last_progress = Instant::now();
    bus.blocking_send(Msg::Progress(Progress {
        files_done,
        files_total,
        events,
        elapsed_ms: 0,
    }));
    // A file's errors are summarised when its last part arrives (first few of each kind per
    // file, as the CLI does), not part by part.
    let mut file_errors: HashMap<usize, Vec<ingest::IngestError>> = HashMap::new();
    let res = ingest::load_streaming(&sources.evidence, |i, mut part| {
        file_errors.entry(i).or_default().append(&mut part.errors);
        if part.files > 0 {
            report_errors(bus, &file_errors.remove(&i).unwrap_or_default());
        }
        digests.take(&mut part);
        files_done += part.files;
        events += absorb(&mut graph, &mut index, part);
        if last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            bus.blocking_send(Msg::Progress(Progress {
                files_done,
                files_total,
                events,
                elapsed_ms: start.elapsed().as_millis() as u64,
            }));
        }
    });
    if let Err(e) = res {
        report_errors(bus, &[ingest::IngestError::file(&e.path, e.to_string())]);
    }
    index.finish();
    bus.blocking_send(Msg::Indexed(Box::new(Indexed {
        index,
        graph,
        findings: findings.len(),
        events,
        elapsed_ms: start.elapsed().as_millis() as u64,
    })));
    // After the index: the console is usable while the named files are hashed.
    if !digests.digests.is_empty() {
        let mut files = ingest::source::expand(&sources.findings).unwrap_or_default();
        files.extend(evidence_files);
        let report = integrity::verify(&digests.digests, &files, &digests.trail_files);
        for c in &report.digests {
            for f in c.files.iter().filter(|f| f.status == FileStatus::Tampered) {
                tracing::warn!(digest = %c.path, paths = ?f.paths, "log file differs from its digest");
            }
        }
        bus.blocking_send(Msg::Integrity(report.totals));
    }
}

/// The digest files a load found and the CloudTrail log files they should cover.
#[derive(Default)]
struct Digests {
    digests: Vec<ingest::digest::Digest>,
    trail_files: Vec<Arc<PathBuf>>,
}

impl Digests {
    fn take(&mut self, l: &mut ingest::Loaded) {
        self.digests.append(&mut l.digests);
        self.trail_files.append(&mut l.trail_files);
    }
}

/// Feeds a load's evidence into the graph and the index; returns how many events it held.
fn absorb(graph: &mut EntityGraph, index: &mut TrailIndex, l: ingest::Loaded) -> usize {
    let n = l.events.len();
    for e in l.events {
        graph.add_event(&e);
        index.add(e);
    }
    for q in &l.dns {
        graph.add_dns(q);
    }
    for r in &l.flows {
        graph.add_flow(r);
    }
    n
}

fn report_errors(bus: &Bus, errors: &[ingest::IngestError]) {
    if errors.is_empty() {
        return;
    }
    tracing::warn!(count = errors.len(), "input records could not be read");
    // The first few of each kind per file, as the CLI prints them; never 300,000 lines.
    for line in ingest::errors::ErrorSummary::new(errors, false).lines() {
        tracing::warn!("{line}");
    }
    bus.blocking_send(Msg::LoadErrors {
        count: errors.len(),
        first: errors.first().map(|e| e.to_string()),
    });
}
