//! The one effect executor: performs what the reducer asked for and answers with messages. It is
//! the only console code that holds a responder. Each effect is a tokio task; a responder call or a
//! file read runs on tokio's blocking pool (the AWS responder blocks on its own runtime), and the
//! snapshot poll waits on the injected clock, so tests run it with a fixed clock and no waiting.
//!
//! A read-only console has no [`Armed`] at all: every action effect is answered with a refusal
//! and nothing is touched.

use super::bus::Bus;
use super::clock::Clock;
use super::detective::Detective;
use super::history::{History, HistoryEvent};
use crate::actions::{self, AuditLog, ExecOptions, Responder, ResponderSession};
use crate::app::{
    CommandState, Effect, EffectError, EvidenceNote, LookupProgress, LookupUpdate, Msg,
};
use crate::model::Ts;
use crate::pivot::lookup::LookupAttr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;

/// A console that may act: the responder (one call at a time) and the audit log's path.
#[derive(Clone)]
pub struct Armed {
    session: Arc<Mutex<ResponderSession>>,
    audit_path: PathBuf,
    /// The account and region each job's plan acts in, for the calls that follow it (its
    /// snapshots' progress, its Run Command's status).
    places: Arc<Mutex<std::collections::HashMap<u64, JobPlace>>>,
}

/// The account a job's plan acts in (its operator's) and its region (`None`: the session's).
type JobPlace = (String, Option<String>);

impl Armed {
    pub fn new(responder: Box<dyn Responder + Send>, audit_path: PathBuf) -> Armed {
        Armed {
            session: Arc::new(Mutex::new(ResponderSession::new(responder))),
            audit_path,
            places: Arc::default(),
        }
    }

    /// The session, reading and acting in the account and region of `job`'s plan.
    fn lock_for(&self, job: u64) -> Result<MutexGuard<'_, ResponderSession>, EffectError> {
        let (account, region) = self
            .places
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&job)
            .cloned()
            .unwrap_or_default();
        let mut s = self.lock();
        s.responder()
            .act_at(
                Some(account.as_str()).filter(|a| !a.is_empty()),
                region.as_deref(),
            )
            .map_err(|e| EffectError::Responder(e.plain()))?;
        Ok(s)
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
                let plan = actions::gather_and_plan(&action, s.responder(), &ctx)
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
                self.places
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(job, (plan.operator.account.clone(), plan.region.clone()));
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
            Effect::FollowCommand {
                job,
                command_id,
                instance,
                ..
            } => {
                let status = self.lock_for(job).and_then(|mut s| {
                    s.responder()
                        .command_status(&command_id, &instance)
                        .map(|(status, details)| CommandState { status, details })
                        .map_err(|e| EffectError::Responder(format!("{}: {}", e.code, e.plain())))
                });
                bus.blocking_send(Msg::CommandStatus { job, status });
            }
            Effect::StoreEvidence { job, action, ctx } => {
                let result = self.store_evidence(bus, &action, &ctx);
                bus.blocking_send(Msg::EvidenceRecorded { job, result });
            }
            Effect::RecordCollect {
                job,
                store,
                instance,
                command_id,
                ctx,
            } => {
                let result = self.record_collect(bus, &store, &instance, &command_id, &ctx);
                bus.blocking_send(Msg::EvidenceRecorded { job, result });
            }
            Effect::PollSnapshots { job, ids, .. } => {
                let snapshots = self.lock_for(job).and_then(|mut s| {
                    s.responder()
                        .snapshots(&ids)
                        .map_err(|e| EffectError::Responder(e.plain()))
                });
                bus.blocking_send(Msg::SnapshotProgress { job, snapshots });
                self.send_account(bus);
            }
            Effect::Quit
            | Effect::LoadRaw { .. }
            | Effect::Lookup { .. }
            | Effect::CancelLookup { .. }
            | Effect::Query { .. }
            | Effect::Record { .. }
            | Effect::Investigate { .. } => {}
        }
    }
}

impl Armed {
    /// Hashes what a collect wrote to the evidence store and adds a manifest record of it,
    /// through the executor and the audit log like any action (its records are the session's,
    /// not counted as the collect job's calls).
    fn record_collect(
        &self,
        bus: &Bus,
        store: &str,
        instance: &str,
        command_id: &str,
        ctx: &actions::plan::PlanContext,
    ) -> Result<EvidenceNote, EffectError> {
        use crate::actions::evidence;
        let (bucket, prefix) = evidence::store_of(store)
            .ok_or_else(|| EffectError::Plan(format!("{store} is not s3://BUCKET/PREFIX")))?;
        let folder = evidence::collect_folder(&prefix, &ctx.case, instance, command_id);
        // The evidence store is read as the session itself, in its own region, where it was
        // given.
        let objects = {
            let mut s = self.lock();
            let r = s.responder();
            r.act_at(None, None)
                .and_then(|()| r.stored_objects(&bucket, &folder))
                .map_err(|e| EffectError::Responder(e.plain()))?
        };
        let artefacts = evidence::collect_artefacts(objects, instance, command_id);
        if artefacts.is_empty() {
            return Ok(EvidenceNote {
                manifest: String::new(),
                artefacts: Vec::new(),
            });
        }
        let action = actions::Action::StoreEvidence {
            store: store.to_string(),
            label: format!("collect {instance}"),
            artefacts,
        };
        self.store_evidence(bus, &action, ctx)
    }

    /// Runs a store-evidence action through the executor and the audit log like any action
    /// (its records are the session's, not counted as the job's calls): what it recorded.
    fn store_evidence(
        &self,
        bus: &Bus,
        action: &actions::Action,
        ctx: &actions::plan::PlanContext,
    ) -> Result<EvidenceNote, EffectError> {
        let tap = bus.clone();
        let mut log = AuditLog::open(&self.audit_path)
            .map_err(|e| EffectError::AuditLog(e.to_string()))?
            .with_tap(Box::new(move |r| {
                tap.blocking_send(Msg::Audit {
                    job: u64::MAX,
                    record: Box::new(r.clone()),
                });
            }));
        let mut s = self.lock();
        let plan = actions::gather_and_plan(action, s.responder(), ctx)
            .map_err(|e| EffectError::Plan(e.to_string()))?;
        let report = actions::execute(
            &plan,
            s.responder(),
            &mut log,
            &ExecOptions { dry_run: false },
        )
        .map_err(|e| EffectError::Responder(e.to_string()))?;
        if let actions::Outcome::Failed { error, .. } = &report.outcome {
            return Err(EffectError::Responder(error.clone()));
        }
        let artefacts = match action {
            actions::Action::StoreEvidence { artefacts, .. } => artefacts
                .iter()
                .map(|a| actions::StoredObject {
                    key: a.key.clone(),
                    size: a.size,
                    sha256: a.sha256.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(EvidenceNote {
            manifest: actions::plan::manifest_of(&plan),
            artefacts,
        })
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
        Effect::FollowCommand { job, .. } => Some(Msg::CommandStatus {
            job,
            status: Err(why),
        }),
        Effect::RecordCollect { job, .. } | Effect::StoreEvidence { job, .. } => {
            Some(Msg::EvidenceRecorded {
                job,
                result: Err(why),
            })
        }
        Effect::PollSnapshots { job, .. } => Some(Msg::SnapshotProgress {
            job,
            snapshots: Err(why),
        }),
        Effect::Quit
        | Effect::LoadRaw { .. }
        | Effect::Lookup { .. }
        | Effect::CancelLookup { .. }
        | Effect::Query { .. }
        | Effect::Record { .. }
        | Effect::Investigate { .. } => None,
    }
}

/// The AWS APIs a live console reads besides its poller: CloudTrail's history (the sources, and
/// the id of the run that may go on: a newer run or a cancel changes it, and the older run stops
/// before its next call) and Detective.
#[derive(Clone)]
pub struct Lookups {
    history: Arc<Mutex<History>>,
    current: Arc<AtomicU64>,
    detective: Option<Arc<Detective>>,
    engine: Option<Arc<super::query::QueryEngine>>,
}

impl Lookups {
    pub fn new(history: History, detective: Option<Detective>) -> Lookups {
        Lookups {
            history: Arc::new(Mutex::new(history)),
            current: Arc::new(AtomicU64::new(0)),
            detective: detective.map(Arc::new),
            engine: None,
        }
    }

    /// The query engine the trail asks instead of LookupEvents.
    pub fn with_engine(mut self, engine: super::query::QueryEngine) -> Lookups {
        self.engine = Some(Arc::new(engine));
        self
    }

    /// Runs query `id` (blocking): its rows as pages, until it ends or a newer run replaces it.
    fn query(
        &self,
        id: u64,
        entity: &crate::model::EntityId,
        window: crate::pivot::Window,
        bus: &Bus,
    ) {
        let send = |source: String, progress: LookupProgress| {
            bus.blocking_send(Msg::Lookup(LookupUpdate {
                id,
                source,
                progress,
            }));
        };
        let Some(engine) = &self.engine else {
            send(
                String::new(),
                LookupProgress::Failed {
                    reason: "no query engine in this session".into(),
                },
            );
            send(String::new(), LookupProgress::Finished);
            return;
        };
        let current = self.current.clone();
        engine.run(
            entity,
            window,
            &|| current.load(Ordering::SeqCst) == id,
            &mut |progress| send(engine.label(), progress),
        );
        send(String::new(), LookupProgress::Finished);
    }

    /// Asks Detective (blocking), sending each report for panel `id`.
    fn investigate(&self, id: u64, arn: &str, start: Option<(Ts, Ts)>, bus: &Bus) {
        let Some(d) = &self.detective else {
            let report = Err(EffectError::Read(
                "no Detective connection in this session".into(),
            ));
            bus.blocking_send(Msg::Detective { id, report });
            return;
        };
        d.investigate(arn, start, &mut |r| {
            bus.blocking_send(Msg::Detective {
                id,
                report: r.map_err(EffectError::Read),
            });
        });
    }

    /// Runs `id` to its end (blocking), sending each page as it comes.
    fn run(&self, id: u64, attr: &LookupAttr, window: crate::pivot::Window, bus: &Bus) {
        let send = |source: String, progress: LookupProgress| {
            bus.blocking_send(Msg::Lookup(LookupUpdate {
                id,
                source,
                progress,
            }));
        };
        let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.current.clone();
        h.fetch(
            attr,
            window,
            &|| current.load(Ordering::SeqCst) == id,
            &mut |ev| match ev {
                HistoryEvent::Page { source, page, body } => send(
                    source,
                    LookupProgress::Page {
                        page,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    },
                ),
                HistoryEvent::SourceDone {
                    source,
                    pages,
                    capped,
                } => send(source, LookupProgress::SourceDone { pages, capped }),
                HistoryEvent::Failed { source, reason } => {
                    send(source, LookupProgress::Failed { reason })
                }
            },
        );
        drop(h);
        send(String::new(), LookupProgress::Finished);
    }

    /// Run `id` is the one that may go on (a run before it stops at its next check). Called
    /// when the effect is dispatched, not when its task starts: a cancel that comes before
    /// the task runs still finds it.
    fn begin(&self, id: u64) {
        self.current.store(id, Ordering::SeqCst);
    }

    fn cancel(&self, id: u64) {
        let _ = self
            .current
            .compare_exchange(id, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Runs effects as tasks and knows how many are still running (so a headless driver can wait
/// until the console is idle).
pub struct Executor {
    bus: Bus,
    armed: Option<Armed>,
    lookups: Option<Lookups>,
    clock: Arc<dyn Clock>,
    running: Arc<AtomicUsize>,
    finished: Arc<Notify>,
}

impl Executor {
    pub fn new(bus: Bus, armed: Option<Armed>, clock: Arc<dyn Clock>) -> Executor {
        Executor {
            bus,
            armed,
            lookups: None,
            clock,
            running: Arc::new(AtomicUsize::new(0)),
            finished: Arc::new(Notify::new()),
        }
    }

    /// Gives the executor CloudTrail's API (a live session).
    pub fn set_lookups(&mut self, lookups: Lookups) {
        self.lookups = Some(lookups);
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
        if let Effect::CancelLookup { id } = effect {
            if let Some(l) = &self.lookups {
                l.cancel(id);
            }
            return;
        }
        if let (Effect::Lookup { id, .. } | Effect::Query { id, .. }, Some(l)) =
            (&effect, &self.lookups)
        {
            l.begin(*id);
        }
        let (bus, armed, clock) = (self.bus.clone(), self.armed.clone(), self.clock.clone());
        let lookups = self.lookups.clone();
        let (running, finished) = (self.running.clone(), self.finished.clone());
        running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            run(effect, bus, armed, lookups, clock).await;
            // After the answers are on the bus: a driver that sees zero finds them queued.
            running.fetch_sub(1, Ordering::SeqCst);
            finished.notify_one();
        });
    }
}

/// A history run (LookupEvents or the query engine), to perform on the blocking pool.
type HistoryRun = Box<dyn FnOnce(&Lookups, &Bus) + Send>;

async fn run(
    effect: Effect,
    bus: Bus,
    armed: Option<Armed>,
    lookups: Option<Lookups>,
    clock: Arc<dyn Clock>,
) {
    if let Effect::Investigate {
        id,
        entity_arn,
        start,
    } = effect
    {
        let Some(l) = lookups else {
            let report = Err(EffectError::Read(
                "Detective needs a live session (vigil live)".into(),
            ));
            bus.send(Msg::Detective { id, report }).await;
            return;
        };
        let b = bus.clone();
        let _ =
            tokio::task::spawn_blocking(move || l.investigate(id, &entity_arn, start, &b)).await;
        return;
    }
    // LookupEvents and the query engine: a run answered page by page; without a live session,
    // or after a panic in the run, it ends at once with why.
    let (id, work): (u64, HistoryRun) = match effect {
        Effect::Query { id, entity, window } => (
            id,
            Box::new(move |l: &Lookups, b: &Bus| l.query(id, &entity, window, b)),
        ),
        Effect::Lookup { id, attr, window } => (
            id,
            Box::new(move |l: &Lookups, b: &Bus| l.run(id, &attr, window, b)),
        ),
        other => {
            run_other(other, bus, armed, clock).await;
            return;
        }
    };
    let end = |progress: Vec<LookupProgress>| {
        let bus = bus.clone();
        async move {
            for progress in progress {
                bus.send(Msg::Lookup(LookupUpdate {
                    id,
                    source: String::new(),
                    progress,
                }))
                .await;
            }
        }
    };
    let Some(l) = lookups else {
        let reason = "no live session: CloudTrail's API is not connected".to_string();
        end(vec![
            LookupProgress::Failed { reason },
            LookupProgress::Finished,
        ])
        .await;
        return;
    };
    let b = bus.clone();
    if tokio::task::spawn_blocking(move || work(&l, &b))
        .await
        .is_err()
    {
        // A panic in the run: end it, so the trail does not say "page…" for ever.
        end(vec![LookupProgress::Finished]).await;
    }
}

/// The effects that are neither a history run nor Detective: raw reads and the actions.
async fn run_other(effect: Effect, bus: Bus, armed: Option<Armed>, clock: Arc<dyn Clock>) {
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
    if let Effect::PollSnapshots { after_ms, .. } | Effect::FollowCommand { after_ms, .. } = &effect
    {
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
