//! The loop every console runs, over any ratatui backend.

use super::bus::Bus;
use super::clock::Clock;
use super::error::RunError;
use super::executor::{Armed, Executor};
use crate::app::{Effect, Envelope, Msg, State, update};
use ratatui::Terminal;
use ratatui::backend::Backend;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TryRecvError;

/// Capacity of the message channel; sources wait when the reducer falls behind.
const CHANNEL: usize = 4096;

/// The loop: receives envelopes, applies them with the reducer, hands effects to the executor
/// and draws. The only code that calls [`update`] and `views::render` at run time.
pub struct Console<B: Backend> {
    state: State,
    terminal: Terminal<B>,
    rx: mpsc::Receiver<Envelope>,
    bus: Bus,
    exec: Executor,
    observer: Option<EffectObserver>,
    tap: Option<EnvelopeTap>,
    /// Every applied envelope, for recording (see [`Console::keep_log`]).
    log: Option<super::record::SessionLog>,
    clock: Arc<dyn Clock>,
}

type EffectObserver = Box<dyn FnMut(&Effect) + Send>;
type EnvelopeTap = Box<dyn FnMut(&Envelope) + Send>;

impl<B: Backend> Console<B>
where
    RunError: From<B::Error>,
{
    /// A console drawing on `backend`, acting through `armed` (none: read-only), timed by `clock`.
    pub fn new(
        state: State,
        backend: B,
        armed: Option<Armed>,
        clock: Arc<dyn Clock>,
    ) -> Result<Console<B>, RunError> {
        Ok(Console::with_terminal(
            state,
            Terminal::new(backend)?,
            armed,
            clock,
        ))
    }

    pub fn with_terminal(
        state: State,
        terminal: Terminal<B>,
        armed: Option<Armed>,
        clock: Arc<dyn Clock>,
    ) -> Console<B> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let bus = Bus::new(tx);
        let exec = Executor::new(bus.clone(), armed, clock.clone());
        Console {
            state,
            terminal,
            rx,
            bus,
            exec,
            observer: None,
            tap: None,
            log: None,
            clock,
        }
    }

    /// Gives the console CloudTrail's API (a live session): trails ask LookupEvents too.
    pub fn set_lookups(&mut self, lookups: super::executor::Lookups) {
        self.exec.set_lookups(lookups);
    }

    /// Keeps every applied envelope from now on (call before the first message), so the session
    /// can be recorded — from the start with `record`, or later from a key — and replayed.
    pub fn keep_log(&mut self, record: Option<(&std::path::Path, bool)>) {
        let mut log = super::record::SessionLog::new(&self.state, self.clock.now());
        if let Some((path, redact)) = record {
            let answer = log.start(path, redact);
            self.bus.try_send(answer);
        }
        self.log = Some(log);
    }

    /// Where the session is being recorded, if it is.
    pub fn recording(&self) -> Option<&std::path::Path> {
        self.log.as_ref().and_then(|l| l.recording())
    }

    /// A sender for sources (and tests) to feed the console.
    pub fn bus(&self) -> Bus {
        self.bus.clone()
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// For a test that sets up a situation the keys would take long to reach.
    pub fn state_mut(&mut self) -> &mut State {
        &mut self.state
    }

    /// The state, when the console is done with it.
    pub fn into_state(self) -> State {
        self.state
    }

    /// Calls `f` with every effect the reducer asks for, before it runs: an observer for tests
    /// and recordings.
    pub fn on_effect(&mut self, f: impl FnMut(&Effect) + Send + 'static) {
        self.observer = Some(Box::new(f));
    }

    /// Calls `f` with every envelope (sequence number, time offset, message) just before the
    /// reducer applies it: where a recording taps the one channel.
    pub fn on_applied(&mut self, f: impl FnMut(&Envelope) + Send + 'static) {
        self.tap = Some(Box::new(f));
    }

    pub fn terminal(&self) -> &Terminal<B> {
        &self.terminal
    }

    pub fn terminal_mut(&mut self) -> &mut Terminal<B> {
        &mut self.terminal
    }

    pub fn draw(&mut self) -> Result<(), RunError> {
        let state = &self.state;
        self.terminal
            .draw(|f| crate::views::render(state, f))
            .map(|_| ())
            .map_err(RunError::from)
    }

    /// Applies one message and starts the effects it asks for.
    fn apply(&mut self, env: Envelope) {
        if let Some(f) = self.tap.as_mut() {
            f(&env);
        }
        if let Some(log) = self.log.as_mut()
            && let Some(failed) = log.keep(&env)
        {
            self.bus.try_send(failed);
        }
        for e in update(&mut self.state, env.msg) {
            if let Some(f) = self.observer.as_mut() {
                f(&e);
            }
            if let Effect::Record { on } = e {
                self.toggle_recording(on);
                continue;
            }
            self.exec.execute(e);
        }
    }

    fn toggle_recording(&mut self, on: bool) {
        let mode = self.state.opts.mode;
        let now = self.clock.now();
        let answer = match self.log.as_mut() {
            None => Msg::Recording {
                path: None,
                error: Some("this session keeps no log to record".into()),
            },
            Some(log) if on => log.start(&super::record::default_path(mode, now), false),
            Some(log) => log.stop(),
        };
        self.bus.try_send(answer);
    }

    /// Runs until the operator quits or a signal arrives; returns the final state.
    pub async fn run(mut self) -> Result<State, RunError> {
        self.draw()?;
        while let Some(env) = self.rx.recv().await {
            self.apply(env);
            // Apply everything already queued before drawing once.
            while !self.state.quit {
                match self.rx.try_recv() {
                    Ok(env) => self.apply(env),
                    Err(_) => break,
                }
            }
            if self.state.quit {
                break;
            }
            self.draw()?;
        }
        Ok(self.state)
    }

    /// Applies messages until the console is idle: nothing queued and no effect running (their
    /// answers applied too); then draws. For headless drivers: tests and replays.
    pub async fn settle(&mut self) -> Result<(), RunError> {
        loop {
            // Idle is read before the queue: a finished effect's answers are queued before it
            // counts as finished, so idle + empty means nothing more is coming.
            let idle = self.exec.idle();
            match self.rx.try_recv() {
                Ok(env) => self.apply(env),
                Err(TryRecvError::Empty) if idle => break,
                Err(TryRecvError::Empty) => {
                    let next = tokio::select! {
                        env = self.rx.recv() => env,
                        () = self.exec.finished() => None,
                    };
                    if let Some(env) = next {
                        self.apply(env);
                    }
                }
                Err(TryRecvError::Disconnected) => break,
            }
        }
        self.draw()
    }
}
