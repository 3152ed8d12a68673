//! The one effect executor: performs what the reducer asked for and answers with messages. It is
//! the only console code that holds a responder. Each effect is a tokio task; a responder call or a
//! file read runs on tokio's blocking pool (the AWS responder blocks on its own runtime), and the
//! snapshot poll waits on the injected clock, so tests run it with a fixed clock and no waiting.
//!
//! A read-only console has no [`Armed`] at all: every action effect is answered with a refusal
//! and nothing is touched.

use super::bus::Bus;
use super::clock::Clock;
use crate::actions::{self, AuditLog, ExecOptions, Responder, ResponderSession};
use crate::app::{Effect, EffectError, Msg};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// A console that may act: the responder (one call at a time) and the audit log's path.
#[derive(Clone)]
pub struct Armed {
    session: Arc<Mutex<ResponderSession>>,
    audit_path: PathBuf,
}

impl Armed {
    pub fn new(responder: Box<dyn Responder + Send>, audit_path: PathBuf) -> Armed {
        Armed {
            session: Arc::new(Mutex::new(ResponderSession::new(responder))),
            audit_path,
        }
    }

    fn lock(&self) -> MutexGuard<'_, ResponderSession> {
        // A panic in another action must not stop the console from acting or recording.
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account as the responder shows it (the demo world), for the world screen.
    pub fn account_view(&self) -> Option<actions::AccountView> {
        self.lock().responder().account_view()
    }

    fn send_account(&self, bus: &Bus) {
        if let Some(v) = self.account_view() {
            bus.blocking_send(Msg::Account(Box::new(v)));
        }
    }

    /// Performs one action effect, blocking, sending each answer (audit records as they reach
    /// the disk).
    fn perform(&self, effect: Effect, bus: &Bus) {
        match effect {
            Effect::PlanAction { job, action, ctx } => {
                let mut s = self.lock();
                let plan = actions::gather(&action, s.responder())
                    .and_then(|facts| actions::plan(&action, &facts, &ctx))
                    .map(Box::new)
                    .map_err(|e| EffectError::Plan(e.to_string()));
                drop(s);
                bus.blocking_send(Msg::PlanReady { job, plan });
            }
            Effect::RunAction { job, plan, dry_run } => {
                let tap = bus.clone();
                let mut log = match AuditLog::open(&self.audit_path) {
                    Ok(l) => l.with_tap(Box::new(move |r| {
                        tap.blocking_send(Msg::Audit {
                            job,
                            record: Box::new(r.clone()),
                        });
                    })),
                    Err(e) => {
                        let report = Err(EffectError::AuditLog(e.to_string()));
                        bus.blocking_send(Msg::ActionDone { job, report });
                        return;
                    }
                };
                let mut s = self.lock();
                let res =
                    actions::execute(&plan, s.responder(), &mut log, &ExecOptions { dry_run });
                drop(s);
                drop(log);
                let report = res
                    .map(Box::new)
                    .map_err(|e| EffectError::Responder(e.to_string()));
                bus.blocking_send(Msg::ActionDone { job, report });
                self.send_account(bus);
            }
            Effect::PollSnapshots { job, ids, .. } => {
                let snapshots = self
                    .lock()
                    .responder()
                    .snapshots(&ids)
                    .map_err(|e| EffectError::Responder(e.plain()));
                bus.blocking_send(Msg::SnapshotProgress { job, snapshots });
                self.send_account(bus);
            }
            Effect::Quit | Effect::LoadRaw { .. } => {}
        }
    }
}

/// The answer to an action effect that could not run (`why`): a read-only console, a panic.
fn failure(effect: &Effect, why: EffectError) -> Option<Msg> {
    match *effect {
        Effect::PlanAction { job, .. } => Some(Msg::PlanReady {
            job,
            plan: Err(why),
        }),
        Effect::RunAction { job, .. } => Some(Msg::ActionDone {
            job,
            report: Err(why),
        }),
        Effect::PollSnapshots { job, .. } => Some(Msg::SnapshotProgress {
            job,
            snapshots: Err(why),
        }),
        Effect::Quit | Effect::LoadRaw { .. } => None,
    }
}

/// Runs effects as tasks and knows how many are still running (so a headless driver can wait
/// until the console is idle).
pub struct Executor {
    bus: Bus,
    armed: Option<Armed>,
    clock: Arc<dyn Clock>,
    running: Arc<AtomicUsize>,
    finished: Arc<Notify>,
}

impl Executor {
    pub fn new(bus: Bus, armed: Option<Armed>, clock: Arc<dyn Clock>) -> Executor {
        Executor {
            bus,
            armed,
            clock,
            running: Arc::new(AtomicUsize::new(0)),
            finished: Arc::new(Notify::new()),
        }
    }

    /// True when no effect is running (its answers, if any, are all on the bus).
    pub fn idle(&self) -> bool {
        self.running.load(Ordering::SeqCst) == 0
    }

    /// Resolves when an effect finishes.
    pub async fn finished(&self) {
        self.finished.notified().await;
    }

    /// Starts `effect`; must be called inside the tokio runtime.
    pub fn execute(&self, effect: Effect) {
        if matches!(effect, Effect::Quit) {
            return;
        }
        let (bus, armed, clock) = (self.bus.clone(), self.armed.clone(), self.clock.clone());
        let (running, finished) = (self.running.clone(), self.finished.clone());
        running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            run(effect, bus, armed, clock).await;
            // After the answers are on the bus: a driver that sees zero finds them queued.
            running.fetch_sub(1, Ordering::SeqCst);
            finished.notify_one();
        });
    }
}

async fn run(effect: Effect, bus: Bus, armed: Option<Armed>, clock: Arc<dyn Clock>) {
    if let Effect::LoadRaw { row, raw } = effect {
        let answer = tokio::task::spawn_blocking(move || {
            let text = raw.text().map_err(|e| EffectError::Read(e.to_string()));
            Msg::RawLoaded { row, text }
        })
        .await;
        if let Ok(m) = answer {
            bus.send(m).await;
        }
        return;
    }
    let Some(armed) = armed else {
        if let Some(m) = failure(&effect, EffectError::ReadOnly) {
            bus.send(m).await;
        }
        return;
    };
    if let Effect::PollSnapshots { after_ms, .. } = &effect {
        clock.sleep(Duration::from_millis(*after_ms)).await;
    }
    // A panic inside a responder call ends only this effect, and its job says so.
    let on_panic = failure(
        &effect,
        EffectError::Responder("the responder failed".into()),
    );
    let b = bus.clone();
    if tokio::task::spawn_blocking(move || armed.perform(effect, &b))
        .await
        .is_err()
        && let Some(m) = on_panic
    {
        bus.send(m).await;
    }
}
