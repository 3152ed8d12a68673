//! Everything the screens show, owned by the reducer. Views read it; only `update` writes it.

use super::keymap::{Context, Key, Keymap};
use crate::graph::{EntityGraph, Group};
use crate::model::{EntityId, Finding, SeverityLabel, Ts};
use crate::pivot::{TrailIndex, Window};
use std::collections::HashMap;

mod screens;
pub use screens::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Demo,
    Files,
    Live,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Demo => "DEMO",
            Mode::Files => "FILES",
            Mode::Live => "LIVE",
        }
    }
}

/// How the console was started and how it draws.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    pub color: bool,
    pub ascii: bool,
    /// The one read-only fact: no responder, no action (see [`State::armed`]).
    pub read_only: bool,
    /// Shown in the header (scenario name, profile, input description).
    pub label: String,
    /// Where collect writes (`s3://BUCKET/PREFIX`): `VIGIL_EVIDENCE`, or the demo's own.
    pub evidence: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Files,
            color: true,
            ascii: false,
            read_only: true,
            label: String::new(),
            evidence: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Severity,
    Time,
    Type,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Severity => "severity",
            SortKey::Time => "time",
            SortKey::Type => "type",
        }
    }
}

/// One row of the findings table: a finding, or a group header in group view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListRow {
    Finding(u32),
    Group(u32),
}

/// The findings screen's table state.
#[derive(Debug, Clone)]
pub struct FindingsList {
    pub rows: Vec<ListRow>,
    pub selected: usize,
    pub sort: SortKey,
    pub filter: String,
    pub min_severity: Option<SeverityLabel>,
    /// Only this group (its id).
    pub group_only: Option<String>,
    pub group_view: bool,
    pub show_archived: bool,
}

impl Default for FindingsList {
    fn default() -> Self {
        FindingsList {
            rows: Vec::new(),
            selected: 0,
            sort: SortKey::Severity,
            filter: String::new(),
            min_severity: None,
            group_only: None,
            group_view: false,
            show_archived: false,
        }
    }
}

/// Severity counts and arrivals for the summary line.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Critical, High, Medium, Low (unarchived).
    pub counts: [usize; 4],
    /// Findings per time bucket across the incident's span, oldest first.
    pub spark: Vec<u64>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusLevel {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone)]
pub struct Status {
    pub level: StatusLevel,
    pub text: String,
}

/// The state of the `:` command line or a `/` filter prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    Command,
    FindingsFilter,
    TrailFilter,
}

#[derive(Debug, Clone)]
pub struct Input {
    pub kind: InputKind,
    pub text: String,
    /// Completion candidates of the last Tab and which one is shown.
    pub completions: Vec<String>,
    pub completion: usize,
}

/// Where an action is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobStatus {
    /// Reading the account and planning.
    Planning,
    /// The plan is on the confirm screen.
    Confirming,
    Cancelled,
    /// Planning failed (the reason is in `error`).
    PlanFailed,
    Running,
    Done,
    NoOp,
    WouldSucceed,
    Failed,
}

impl JobStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            JobStatus::Planning => "planning",
            JobStatus::Confirming => "awaiting confirmation",
            JobStatus::Cancelled => "cancelled",
            JobStatus::PlanFailed => "plan failed",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::NoOp => "nothing to do",
            JobStatus::WouldSucceed => "dry run: would succeed",
            JobStatus::Failed => "FAILED",
        }
    }

    pub fn in_flight(&self) -> bool {
        matches!(self, JobStatus::Planning | JobStatus::Running)
    }
}

/// One action of this session, from key press to result.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub action: crate::actions::Action,
    pub dry_run: bool,
    pub status: JobStatus,
    /// Calls made so far (result records seen) and calls planned.
    pub calls_done: usize,
    pub calls_total: usize,
    pub error: Option<String>,
    pub report: Option<crate::actions::Report>,
    /// Snapshots created by this job and their last known progress.
    pub snapshots: Vec<crate::actions::SnapshotProgress>,
    /// Polls answered so far (the poller gives up after a bound).
    pub polls: u32,
    /// The Run Command this job started (collect), followed to its end.
    pub command: Option<CommandRun>,
    /// What was recorded of it in the evidence store (a collect's output, a snapshot's ids),
    /// or why not.
    pub evidence: Vec<Result<crate::app::msg::EvidenceNote, String>>,
}

/// A collect's Run Command as the console follows it.
#[derive(Debug, Clone)]
pub struct CommandRun {
    pub id: String,
    pub instance: String,
    /// Where its output goes (`s3://BUCKET/PREFIX/CASE/collect/INSTANCE/`), if a store is set.
    pub store: Option<String>,
    pub state: crate::app::msg::CommandState,
    pub polls: u32,
}

/// Response actions in the console. Whether the session may act at all is one fact,
/// [`Options::read_only`] ([`State::armed`]).
#[derive(Debug, Clone, Default)]
pub struct ActionsState {
    pub dry_run: bool,
    /// Case id for tags and the audit log (default: vigil-YYYYMMDD of the console's clock).
    pub case: Option<String>,
    pub topic_arn: Option<String>,
    /// The notify webhook's redacted endpoint, when one is configured.
    pub webhook: Option<String>,
    /// Describes the responder in the actions screen ("demo world log4shell-c2", "AWS profile x").
    pub responder: String,
    pub audit_path: String,
    /// The command a notification gives the team to open the same view.
    pub open_command: Option<String>,
    /// The account as the responder last showed it (the demo world after each action).
    pub account: Option<crate::actions::AccountView>,
    pub jobs: Vec<Job>,
    /// This session's audit records, in the order written.
    pub log: Vec<crate::actions::AuditRecord>,
}

/// Evidence indexing, for the status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexState {
    /// No evidence source (findings only).
    None,
    Loading(super::msg::Progress),
    Ready {
        events: usize,
        elapsed_ms: u64,
    },
}

/// The whole console state.
pub struct State {
    pub opts: Options,
    pub keymap: Keymap,
    pub now: Option<Ts>,
    pub width: u16,
    pub height: u16,
    pub findings: Vec<Finding>,
    pub by_id: HashMap<String, usize>,
    /// Per finding (arrival order): not yet looked at.
    pub unseen: Vec<bool>,
    pub groups: Vec<Group>,
    /// Per finding: its group's index.
    pub group_of: Vec<u32>,
    pub graph: EntityGraph,
    /// How many findings (in arrival order) the graph holds.
    pub graph_findings: usize,
    pub index: Option<TrailIndex>,
    /// Live sources that failed their last poll (the header says how many).
    pub failing: Vec<super::msg::SourceFailure>,
    /// Live sources whose detector is a GuardDuty administrator (its member accounts' findings
    /// come through it: the findings list shows the account on every row).
    pub administrators: Vec<super::msg::Administrator>,
    /// What the index and graph were built from (a recording's reference to the data).
    pub evidence: Option<super::msg::EvidenceRef>,
    pub index_state: IndexState,
    pub list: FindingsList,
    pub summary: Summary,
    pub stack: Vec<View>,
    pub input: Option<Input>,
    /// Keys of a chord typed so far, and the which-key hint for them.
    pub pending: Vec<Key>,
    pub pending_hint: Vec<(String, String)>,
    pub status: Option<Status>,
    pub load_errors: usize,
    /// CloudTrail log file integrity, once the loader has checked the digests it found.
    pub integrity: Option<crate::integrity::Totals>,
    /// The quiet a paced demo skipped to shorten the wait for the next finding: on the status
    /// line while that wait lasts (the finding's arrival clears it).
    pub quiet_skipped: Option<std::time::Duration>,
    pub actions: ActionsState,
    /// CloudTrail LookupEvents runs of a live session.
    pub lookups: Lookups,
    /// Where this session is being recorded (the header shows it).
    pub recording: Option<String>,
    /// A training drill: objectives and hints (`vigil train`).
    pub drill: Option<DrillState>,
    /// The query engine a live session's trail asks instead of LookupEvents (`--lake`,
    /// `--athena`): its label; set at start.
    pub query_tier: Option<String>,
    /// Set by a replay's player (not by a message): the header's REPLAY banner.
    pub replay: Option<ReplayInfo>,
    /// Threat-intel and trusted lists: every screen marks the addresses and domains on them.
    pub intel: crate::hunt::Intel,
    /// CloudTrail events a hunting rule matched, by `eventID`: the trail marks them.
    pub hunt_marks: HashMap<String, HuntMark>,
    pub quit: bool,
}

/// What the trail says of an event a rule matched: the most severe detection's technique (or
/// its kind, for a list or Insights), title and level (0 informational … 4 critical), and how
/// many detections cover it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuntMark {
    pub technique: String,
    pub title: String,
    pub level: u8,
    pub detections: usize,
}

/// A training drill in progress.
#[derive(Debug, Clone, Default)]
pub struct DrillState {
    pub scenario: String,
    pub time_limit_s: Option<u64>,
    /// The objectives, from the scenario's answer key (shown on request).
    pub objectives: Vec<String>,
    /// Hints, in the order they are given; each costs points.
    pub hints: Vec<String>,
    pub hints_used: usize,
    /// The clock at the drill's first tick: the time limit counts from there.
    pub started: Option<Ts>,
}

/// Where a replay is, for the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayInfo {
    pub at_ms: u64,
    pub total_ms: u64,
    pub paused: bool,
    /// Playback speed in hundredths (100 = real time).
    pub speed_pct: u32,
}

/// The LookupEvents runs of a live session: the one running (for the trail on top), what each
/// entity's last run found, and the windows already asked (their events are in the index).
#[derive(Debug, Default)]
pub struct Lookups {
    pub next_id: u64,
    pub active: Option<LookupRun>,
    pub last: HashMap<EntityId, LookupRun>,
    pub covered: Vec<(EntityId, Window)>,
}

/// One run of the trail's API tier (LookupEvents, or the query engine the session was given):
/// an entity over a window, across the session's sources.
#[derive(Debug, Clone)]
pub struct LookupRun {
    pub id: u64,
    pub entity: EntityId,
    /// What was asked, for the trail's line (`LookupEvents AccessKeyId=AKIA…`, `CloudTrail Lake
    /// eds-…`).
    pub label: String,
    /// The trail's scope it answers (the API is asked the last 90 days of it).
    pub scope: Window,
    pub pages: u32,
    /// Events the API returned, and how many of them were not in the index yet.
    pub events: usize,
    pub added: usize,
    /// Records in the answers that could not be read.
    pub unreadable: usize,
    /// Sources that failed, with why.
    pub failed: Vec<(String, String)>,
    /// A source stopped at the page cap.
    pub capped: bool,
    /// Cancelled before its end (the responder left the trail).
    pub stopped: bool,
    pub done: bool,
}

impl State {
    pub fn new(opts: Options, keymap: Keymap) -> State {
        State {
            opts,
            keymap,
            now: None,
            width: 80,
            height: 24,
            findings: Vec::new(),
            by_id: HashMap::new(),
            unseen: Vec::new(),
            groups: Vec::new(),
            group_of: Vec::new(),
            graph: EntityGraph::default(),
            graph_findings: 0,
            index: None,
            evidence: None,
            failing: Vec::new(),
            administrators: Vec::new(),
            intel: crate::hunt::Intel::default(),
            hunt_marks: HashMap::new(),
            index_state: IndexState::None,
            list: FindingsList::default(),
            summary: Summary::default(),
            stack: Vec::new(),
            input: None,
            pending: Vec::new(),
            pending_hint: Vec::new(),
            status: None,
            load_errors: 0,
            integrity: None,
            quiet_skipped: None,
            actions: ActionsState::default(),
            lookups: Lookups::default(),
            recording: None,
            query_tier: None,
            drill: None,
            replay: None,
            quit: false,
        }
    }

    /// May this session change an account? False for a read-only session, whose executor holds
    /// no responder; the reducer refuses action keys before any effect is built.
    pub fn armed(&self) -> bool {
        !self.opts.read_only
    }

    pub fn view(&self) -> Option<&View> {
        self.stack.last()
    }

    /// The keymap context keys are resolved in right now.
    pub fn context(&self) -> Context {
        if self.input.is_some() {
            return Context::Input;
        }
        self.view().map_or(Context::Findings, View::context)
    }

    /// Rows of the table area of a full-screen list (header, status, column titles excluded).
    pub fn page(&self) -> usize {
        usize::from(self.height.saturating_sub(6)).max(1)
    }

    /// The finding under the cursor of the findings table.
    pub fn selected_finding(&self) -> Option<usize> {
        match self.list.rows.get(self.list.selected)? {
            ListRow::Finding(i) => Some(*i as usize),
            ListRow::Group(g) => self
                .groups
                .get(*g as usize)
                .and_then(|g| g.findings.first())
                .and_then(|id| self.by_id.get(id).copied()),
        }
    }

    pub fn group_id_of(&self, finding: usize) -> Option<&str> {
        self.group_of
            .get(finding)
            .and_then(|g| self.groups.get(*g as usize))
            .map(|g| g.id.as_str())
    }
}
