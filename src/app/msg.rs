//! The messages the reducer applies and the effects it asks for. Every message is data: it
//! serialises and reads back (a recording is a stream of them); the one message that carries
//! built structures, [`Indexed`], writes a reference to what it was built from instead.

use super::key::Key;
use crate::actions::plan::PlanContext;
use crate::actions::{Action, AuditRecord, Plan, Report, SnapshotProgress};
use crate::graph::EntityGraph;
use crate::model::{Finding, RawRef, Ts};
use crate::pivot::TrailIndex;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What travels on the channel: a message with its sequence number and its time offset (ms since
/// the console started). The recorder (a later issue) taps here.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub t_ms: u64,
    pub msg: Msg,
}

/// Everything the reducer reacts to.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "msg", content = "data", rename_all = "snake_case")]
pub enum Msg {
    Key(Key),
    Resize {
        width: u16,
        height: u16,
    },
    /// The wall clock, read by the tick task (the reducer never reads a clock).
    Tick {
        now: Ts,
    },
    /// New findings from a source (a file load, the demo timeline, a poller).
    Findings(Vec<Finding>),
    /// Detections of a hunt (rules, threat lists, Insights): findings of their own kind
    /// (`Hunt:…`), and marks on the trail events they cover.
    Detections(Vec<crate::model::Detection>),
    /// The threat-intel and trusted lists of the session, for the marks on every screen.
    Intel(crate::hunt::Intel),
    /// The demo skipped this much quiet scenario time (paced playback), for the status line.
    QuietSkipped(std::time::Duration),
    /// Records that could not be read, for the status line.
    LoadErrors {
        count: usize,
        /// The first of them (its text is escaped when shown).
        first: Option<crate::ingest::IngestError>,
    },
    /// Evidence indexing progress.
    Progress(Progress),
    /// The CloudTrail index and the full entity graph, built off the UI thread.
    Indexed(Box<Indexed>),
    /// A segment of a load's index (whole files), sent as they are read so the trail fills
    /// while the load goes on; the load's [`Msg::Indexed`] then brings the graph.
    IndexedPart(Box<Indexed>),
    /// The loaded log files checked against the loaded CloudTrail digest files.
    Integrity(crate::integrity::Totals),
    /// The raw JSON of a CloudTrail row, read back from disk.
    RawLoaded {
        row: u32,
        text: Result<String, EffectError>,
    },
    /// SIGTERM / SIGHUP: leave cleanly.
    Signal(Signal),
    /// The plan for a requested action (the account was read off the UI thread), or why not.
    PlanReady {
        job: u64,
        plan: Result<Box<Plan>, EffectError>,
    },
    /// An audit record of a running action, once it is on disk.
    Audit {
        job: u64,
        record: Box<AuditRecord>,
    },
    /// An action finished: its report, or why it could not run (e.g. the audit log).
    ActionDone {
        job: u64,
        report: Result<Box<Report>, EffectError>,
    },
    /// DescribeSnapshots for a job's snapshots.
    SnapshotProgress {
        job: u64,
        snapshots: Result<Vec<SnapshotProgress>, EffectError>,
    },
    /// GetCommandInvocation for a job's Run Command (collect): its status and status details.
    CommandStatus {
        job: u64,
        status: Result<CommandState, EffectError>,
    },
    /// A collect's output recorded in the evidence store: the manifest record and what it
    /// lists (empty when SSM wrote nothing there).
    EvidenceRecorded {
        job: u64,
        result: Result<EvidenceNote, EffectError>,
    },
    /// A live poll ended: the sources (profile × region) that failed this time, and why; the
    /// others went on. An empty list clears the failures of the poll before.
    Polled {
        failed: Vec<SourceFailure>,
        /// The sources whose detector is a GuardDuty administrator: their rows include the member
        /// accounts' findings.
        #[serde(default)]
        administrators: Vec<Administrator>,
    },
    /// The account as the responder shows it, after an action or a poll (the demo world).
    Account(Box<crate::actions::AccountView>),
    /// A page (or the end) of a CloudTrail LookupEvents run the reducer asked for.
    Lookup(LookupUpdate),
    /// Recording started (its file), stopped, or failed (why).
    Recording {
        path: Option<String>,
        error: Option<String>,
    },
    /// What Detective knows of the entity of panel `id` (sent again as an investigation runs).
    Detective {
        id: u64,
        report: Result<crate::model::detective::DetectiveReport, EffectError>,
    },
}

/// Progress of LookupEvents run `id` from one source (`profile/region`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupUpdate {
    pub id: u64,
    pub source: String,
    pub progress: LookupProgress,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LookupProgress {
    /// One page: the API's response body as it came, which the reducer reads as the ingest reads
    /// a saved `lookup-events` output (so a recording replays it without AWS).
    Page { page: u32, body: String },
    /// This source has no more pages, or stopped at the page cap.
    SourceDone { pages: u32, capped: bool },
    /// This source failed; the others go on.
    Failed { reason: String },
    /// Every source is done (or the run was cancelled).
    Finished,
}

/// A live source that failed a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFailure {
    /// `profile/region`.
    pub source: String,
    pub reason: String,
    /// Throttled by the API: the source backs off and comes back by itself.
    #[serde(default)]
    pub throttled: bool,
}

/// A live source whose GuardDuty detector administers member accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administrator {
    /// `profile/region`.
    pub source: String,
    pub members: usize,
}

/// The signals that end a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    Term,
    Hup,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }
}

/// Why an effect could not deliver what was asked, by where it failed; the text is the
/// underlying error's, as the status line and the actions screen show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum EffectError {
    #[error("read-only session: no responder; nothing was done")]
    ReadOnly,
    /// The account could not be read, or the action cannot be planned on it.
    #[error("{0}")]
    Plan(String),
    /// The audit log could not be opened: nothing ran.
    #[error("{0}")]
    AuditLog(String),
    #[error("{0}")]
    Responder(String),
    /// A file could not be read back.
    #[error("{0}")]
    Read(String),
}

/// Where a Run Command invocation is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandState {
    pub status: String,
    pub details: String,
}

impl CommandState {
    /// An end state of SSM's invocation (its Status values that do not change again).
    pub fn is_final(&self) -> bool {
        crate::actions::command_ended(&self.status)
    }
}

/// What a storing in the evidence store wrote: the manifest record's location and the
/// artefacts it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceNote {
    /// `s3://BUCKET/KEY` of the manifest record; empty when nothing was stored.
    pub manifest: String,
    pub artefacts: Vec<crate::actions::StoredObject>,
}

/// A finished evidence load: what it was built from, its counts, and (in a live session) the
/// built index and graph. `findings` is how many of the state's findings (in arrival order) the
/// graph already holds; the reducer adds the rest.
#[derive(Debug, Serialize, Deserialize)]
pub struct Indexed {
    pub evidence: EvidenceRef,
    pub findings: usize,
    pub events: usize,
    pub elapsed_ms: u64,
    /// How many [`Msg::IndexedPart`]s brought the index before this message (which then brings
    /// the graph only; 0: the index is here).
    #[serde(default)]
    pub parts: usize,
    /// Not written: a recording keeps `evidence`, and a replay builds this again from it
    /// (`console::rebuild`) before the reducer sees the message.
    #[serde(skip)]
    pub built: Option<Box<Built>>,
}

/// The CloudTrail index and the entity graph of a load.
pub struct Built {
    pub index: TrailIndex,
    pub graph: EntityGraph,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("events", &self.index.len())
            .finish_non_exhaustive()
    }
}

/// What a load was built from, precisely enough to build it again and to notice when the data
/// changed: the content hash of every input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvidenceRef {
    /// `vigil open`: the findings files, then the evidence files, as the loader expanded them.
    Files {
        findings: Vec<FileRef>,
        evidence: Vec<FileRef>,
    },
    /// A demo scenario: its name and the SHA-256 over its evidence files.
    Demo { scenario: String, sha256: String },
    /// Built in memory by a caller that keeps nothing to build it from (tests, tools).
    Inline { label: String },
    /// The inputs' content itself (uncompressed text), carried in the recording: what a redacted
    /// recording keeps, since the original files hold the identifiers it replaced.
    Embedded {
        findings: Vec<Blob>,
        evidence: Vec<Blob>,
    },
}

/// One input's name and content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blob {
    pub name: String,
    pub text: String,
}

/// One input file: its path, size and SHA-256 (of the bytes on disk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Progress {
    pub files_done: usize,
    pub files_total: usize,
    pub events: usize,
    pub elapsed_ms: u64,
}

/// What the reducer asks the edge to do.
#[derive(Debug, Clone)]
pub enum Effect {
    Quit,
    /// Read a CloudTrail row's raw JSON and answer with [`Msg::RawLoaded`].
    LoadRaw {
        row: u32,
        raw: RawRef,
    },
    /// Read the account and plan `action` off the UI thread; answer with [`Msg::PlanReady`].
    PlanAction {
        job: u64,
        action: Action,
        ctx: Box<PlanContext>,
    },
    /// Run a confirmed plan through the responder; answer with [`Msg::Audit`]s and
    /// [`Msg::ActionDone`]. Only the reducer's confirm step emits this.
    RunAction {
        job: u64,
        plan: Box<Plan>,
        dry_run: bool,
    },
    /// After `after_ms`, read these snapshots' progress; answer with [`Msg::SnapshotProgress`].
    PollSnapshots {
        job: u64,
        ids: Vec<String>,
        after_ms: u64,
    },
    /// After `after_ms`, ask where a Run Command invocation is; answer with
    /// [`Msg::CommandStatus`].
    FollowCommand {
        job: u64,
        command_id: String,
        instance: String,
        after_ms: u64,
    },
    /// Put these artefacts (a snapshot's record) in the evidence store with a manifest record
    /// (`action` is a store-evidence); answer with [`Msg::EvidenceRecorded`].
    StoreEvidence {
        job: u64,
        action: Action,
        ctx: Box<PlanContext>,
    },
    /// Hash the objects a collect wrote to the evidence store and add a manifest record of them
    /// (planned and audited as store-evidence); answer with [`Msg::EvidenceRecorded`].
    RecordCollect {
        job: u64,
        store: String,
        instance: String,
        command_id: String,
        ctx: Box<PlanContext>,
    },
    /// Ask CloudTrail's LookupEvents for `attr` within `window` in every live source, keeping
    /// under its rate; answer with [`Msg::Lookup`]s. Replaces any run still going.
    Lookup {
        id: u64,
        attr: crate::pivot::lookup::LookupAttr,
        window: crate::pivot::Window,
    },
    /// Ask the session's query engine (CloudTrail Lake or Athena) for `entity`'s events within
    /// `window`; answer with [`Msg::Lookup`]s whose pages are `{"Records": […]}` bodies.
    Query {
        id: u64,
        entity: crate::model::EntityId,
        window: crate::pivot::Window,
    },
    /// Stop run `id` (the responder moved on); its pages so far stay in the index.
    CancelLookup {
        id: u64,
    },
    /// Start or stop recording the session (the loop itself does it: it holds the session's
    /// log); answered with [`Msg::Recording`].
    Record {
        on: bool,
    },
    /// Ask Detective about `entity_arn` (and start an investigation over `start`); answer with
    /// [`Msg::Detective`]s for panel `id`.
    Investigate {
        id: u64,
        entity_arn: String,
        start: Option<(Ts, Ts)>,
    },
}
