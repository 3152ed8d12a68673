//! The edge for response actions: the only console code that holds a responder. Plans and runs
//! happen on their own threads (the AWS responder blocks on its own tokio runtime, so never inside
//! an async task); results go back on the bus as messages.
//!
//! A read-only console has no [`Armed`] at all: [`perform`] with `None` answers every action
//! effect with a refusal and touches nothing.

use super::run::Bus;
use super::{Effect, Msg};
use crate::actions::{self, AuditLog, ExecOptions, Responder, ResponderSession};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Where an effect's answers go (the bus in the console, a vector in tests).
pub type Sender = Arc<dyn Fn(Msg) + Send + Sync>;

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

    pub fn audit_path(&self) -> &std::path::Path {
        &self.audit_path
    }

    fn lock(&self) -> MutexGuard<'_, ResponderSession> {
        // A panic in another action thread must not stop the console from acting or recording.
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account as the responder shows it (the demo world), for the world screen.
    pub fn account_view(&self) -> Option<actions::AccountView> {
        self.lock().responder().account_view()
    }

    fn send_account(&self, send: &Sender) {
        if let Some(v) = self.account_view() {
            send(Msg::Account(Box::new(v)));
        }
    }

    /// Performs one action effect synchronously, calling `send` with each answer (audit records
    /// as they reach the disk). The runtime calls this on a fresh thread; tests call it directly.
    pub fn perform_blocking(&self, effect: Effect, send: Sender) {
        match effect {
            Effect::PlanAction { job, action, ctx } => {
                let mut s = self.lock();
                let plan = actions::gather(&action, s.responder())
                    .and_then(|facts| actions::plan(&action, &facts, &ctx))
                    .map(Box::new)
                    .map_err(|e| e.to_string());
                drop(s);
                send(Msg::PlanReady { job, plan });
            }
            Effect::RunAction { job, plan, dry_run } => {
                let tap = send.clone();
                let log = match AuditLog::open(&self.audit_path) {
                    Ok(l) => l.with_tap(Box::new(move |r| {
                        tap(Msg::Audit {
                            job,
                            record: Box::new(r.clone()),
                        })
                    })),
                    Err(e) => {
                        send(Msg::ActionDone {
                            job,
                            report: Err(e.to_string()),
                        });
                        return;
                    }
                };
                let mut log = log;
                let mut s = self.lock();
                let res =
                    actions::execute(&plan, s.responder(), &mut log, &ExecOptions { dry_run });
                drop(s);
                drop(log);
                send(Msg::ActionDone {
                    job,
                    report: res.map(Box::new).map_err(|e| e.to_string()),
                });
                self.send_account(&send);
            }
            Effect::PollSnapshots { job, ids, .. } => {
                let snapshots = self
                    .lock()
                    .responder()
                    .snapshots(&ids)
                    .map_err(|e| e.plain());
                send(Msg::SnapshotProgress { job, snapshots });
                self.send_account(&send);
            }
            Effect::Quit | Effect::LoadRaw { .. } => {}
        }
    }
}

/// Runs an action effect off the UI thread; with no responder, refuses it.
pub fn perform(armed: Option<&Armed>, effect: Effect, bus: &Bus) {
    let (armed, bus) = (armed.cloned(), bus.clone());
    // A plain thread: blocking_send must not run inside the tokio runtime's async tasks.
    std::thread::spawn(move || {
        let send: Sender = Arc::new(move |m| {
            bus.blocking_send(m);
        });
        let Some(armed) = armed else {
            refuse(effect, send);
            return;
        };
        if let Effect::PollSnapshots { after_ms, .. } = &effect {
            std::thread::sleep(Duration::from_millis(*after_ms));
        }
        armed.perform_blocking(effect, send);
    });
}

/// The answer of a console with no responder.
pub fn refuse(effect: Effect, send: Sender) {
    let why = "read-only session: no responder; nothing was done".to_string();
    match effect {
        Effect::PlanAction { job, .. } => send(Msg::PlanReady {
            job,
            plan: Err(why),
        }),
        Effect::RunAction { job, .. } => send(Msg::ActionDone {
            job,
            report: Err(why),
        }),
        Effect::PollSnapshots { job, .. } => send(Msg::SnapshotProgress {
            job,
            snapshots: Err(why),
        }),
        Effect::Quit | Effect::LoadRaw { .. } => {}
    }
}
