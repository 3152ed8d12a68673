//! The console in a real terminal: `vigil open` and `vigil demo`. Builds the runtime, arms the
//! state with a responder (or not), starts the sources and runs [`Console`] over crossterm,
//! restoring the terminal whatever happens.

use super::bus::Bus;
use super::clock::{Clock, SystemClock};
use super::error::RunError;
use super::event_loop::Console;
use super::executor::Armed;
use super::load;
use super::sources;
use crate::app::{Keymap, Msg, Options, State};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Where a session is recorded from its start (`--record FILE [--redact]`).
#[derive(Debug, Clone)]
pub struct RecordTo {
    pub path: PathBuf,
    pub redact: bool,
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

/// Arms the console's state with `a` and returns the responder's handle for the executor. The
/// state's `armed` flag is the one read-only fact; the executor has a responder exactly when it
/// is set.
pub fn arm(state: &mut State, a: Arming) -> Armed {
    let path = a.audit_log.unwrap_or_else(crate::paths::audit_log);
    state.opts.read_only = false;
    let acts = &mut state.actions;
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
    let armed = Armed::new(responder, path);
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
    files: load::FileSources,
    arming: Option<Arming>,
    record: Option<RecordTo>,
) -> Result<(), RunError> {
    let (state, armed) = armed_state(opts, keymap, arming);
    console_runtime()?.block_on(in_terminal(state, armed, None, record, move |bus| {
        let loader = bus.clone();
        tokio::task::spawn_blocking(move || load::load_files(&loader, files));
    }))
}

/// The state of a session that is read-only unless `arming` arms it (`arm` lifts the flag), and
/// the responder's handle for the executor.
fn armed_state(opts: Options, keymap: Keymap, arming: Option<Arming>) -> (State, Option<Armed>) {
    let mut state = State::new(
        Options {
            read_only: true,
            ..opts
        },
        keymap,
    );
    let armed = arming.map(|a| arm(&mut state, a));
    (state, armed)
}

/// Runs the console over GuardDuty, live: `poller` is polled every `interval` on the blocking
/// pool (its AWS clients block), each poll's findings arrive as one batch (an updated finding
/// replaces its row), a target that fails says so on the status line and the others go on.
/// A trail also asks CloudTrail's LookupEvents, and the Detective panel Detective, through `apis`. Read-only unless `arming`
/// gives it a responder (`vigil live --respond`).
pub fn live(
    opts: Options,
    keymap: Keymap,
    session: LiveSession,
    arming: Option<Arming>,
    record: Option<RecordTo>,
) -> Result<(), RunError> {
    let LiveSession {
        poller,
        apis,
        evidence,
        interval,
        query_tier,
    } = session;
    let (mut state, armed) = armed_state(opts, keymap, arming);
    state.query_tier = query_tier;
    let lookups = Some(apis);
    console_runtime()?.block_on(in_terminal(state, armed, lookups, record, move |bus| {
        if !evidence.evidence.is_empty() {
            let loader = bus.clone();
            tokio::task::spawn_blocking(move || load::load_files(&loader, evidence));
        }
        sources::spawn_live(bus, poller, interval, Arc::new(SystemClock));
    }))
}

/// What a live console reads: the GuardDuty poller (polled every `interval`), the other AWS
/// APIs (LookupEvents, Detective), and local evidence files for the index.
pub struct LiveSession {
    pub poller: super::live::Poller,
    pub apis: super::executor::Lookups,
    pub evidence: load::FileSources,
    pub interval: std::time::Duration,
    /// The query engine's label when `apis` has one (the trail asks it instead of
    /// LookupEvents).
    pub query_tier: Option<String>,
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
    record: Option<RecordTo>,
    drill: Option<crate::app::state::DrillState>,
) -> Result<(), RunError> {
    let read_only = opts.read_only;
    let mut state = State::new(opts, keymap);
    state.drill = drill;
    let armed = if read_only {
        None
    } else {
        Some(arm(&mut state, demo_arming(&scenario, play, acts)?))
    };
    console_runtime()?.block_on(in_terminal(state, armed, None, record, move |bus| {
        let scenario = Arc::new(scenario);
        let (indexer, sc) = (bus.clone(), scenario.clone());
        tokio::task::spawn_blocking(move || load::index_scenario(&indexer, &sc));
        sources::spawn_demo_timeline(bus, scenario, play.pacing, play.started);
    }))
}

/// The demo responder over the scenario's world, on the playback clock.
fn demo_arming(
    scenario: &crate::demo::Scenario,
    play: Play,
    acts: DemoActions,
) -> Result<Arming, RunError> {
    let mut responder = crate::demo::responder::DemoResponder::for_scenario(scenario)?;
    // Isolation is recorded in scenario time (the playback clock), so the world knows which
    // later flow-log lines of an isolated ENI say REJECT.
    if let Some(start) = crate::model::Ts::parse(&scenario.manifest.start) {
        let playback = scenario.playback(play.pacing);
        let started = play.started;
        responder.clock = Some(Box::new(move || {
            let at = playback.scenario_at(started.elapsed());
            crate::model::Ts(start.0 + at.as_millis() as i64)
        }));
    }
    let topic_arn = responder.world.sns_topics.first().map(|t| t.arn.clone());
    let name = &scenario.manifest.name;
    Ok(Arming {
        responder: Box::new(responder),
        label: format!("demo world {name}"),
        audit_log: acts.audit_log,
        webhook: acts.webhook,
        topic_arn,
        case: None,
        open_command: Some(format!("vigil demo {name}")),
    })
}

/// Takes the terminal, starts the sources (`extra` adds the session's own), runs the console,
/// and restores the terminal whatever happened. `ratatui::try_init` installs a panic hook that
/// restores it on panic.
async fn in_terminal(
    state: State,
    armed: Option<Armed>,
    lookups: Option<super::executor::Lookups>,
    record: Option<RecordTo>,
    extra: impl FnOnce(&Bus),
) -> Result<(), RunError> {
    let clock = Arc::new(SystemClock);
    let terminal = ratatui::try_init()?;
    let result = async {
        let size = terminal.size()?;
        let mut console = Console::with_terminal(state, terminal, armed, clock.clone());
        if let Some(l) = lookups {
            console.set_lookups(l);
        }
        // Every session keeps its log, so recording can start from a key at any time.
        console.keep_log(record.as_ref().map(|r| (r.path.as_path(), r.redact)));
        let bus = console.bus();
        sources::spawn_keys(&bus);
        sources::spawn_ticks(&bus, clock.clone());
        sources::spawn_signals(&bus);
        extra(&bus);
        bus.send(Msg::Resize {
            width: size.width,
            height: size.height,
        })
        .await;
        bus.send(Msg::Tick {
            now: Clock::now(&*clock),
        })
        .await;
        console.run().await.map(|_| ())
    }
    .await;
    ratatui::restore();
    result
}
