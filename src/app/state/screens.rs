//! The screens on the navigation stack and what each remembers of itself (selection, scroll,
//! scope): the part of [`super::State`] a screen owns.

use crate::app::keymap::Context;
use crate::graph::{EdgeView, Relation};
use crate::model::{EntityId, EntityKind, Ts};
use crate::pivot::Window;
use std::collections::BTreeSet;

/// A screen on the navigation stack (the findings screen is underneath them all).
#[derive(Debug, Clone)]
pub enum View {
    Detail(DetailView),
    Graph(GraphView),
    Profile(ProfileView),
    Trail(TrailView),
    Event(EventView),
    Help(HelpView),
    Confirm(ConfirmView),
    Actions(ActionsView),
    World(WorldView),
    Detective(DetectiveView),
    /// A drill's objectives and the hints taken.
    Objectives {
        scroll: usize,
    },
}

/// The Detective panel of an IAM user or role: its investigations and the indicators of the
/// newest that succeeded, each pivotable.
#[derive(Debug, Clone)]
pub struct DetectiveView {
    /// The panel's id: Detective's answers name it.
    pub id: u64,
    pub entity: EntityId,
    /// The ARN Detective investigates (a session's role).
    pub arn: String,
    /// Nothing yet, what Detective said, or why it could not.
    pub report: Option<Result<crate::model::detective::DetectiveReport, String>>,
    /// When a new investigation was asked for (its scope ends there).
    pub started: Option<Ts>,
    pub selected: usize,
}

impl View {
    pub fn context(&self) -> Context {
        match self {
            View::Detail(_) => Context::Detail,
            View::Graph(_) => Context::Graph,
            View::Profile(_) => Context::Profile,
            View::Trail(_) => Context::Trail,
            View::Event(_) => Context::Event,
            View::Help(_) => Context::Help,
            View::Confirm(_) => Context::Confirm,
            View::Actions(_) => Context::Actions,
            View::World(_) => Context::World,
            View::Detective(_) => Context::Detective,
            View::Objectives { .. } => Context::Objectives,
        }
    }

    pub fn title(&self) -> String {
        match self {
            View::Detail(d) => format!("finding {}", short_id(&d.finding_id)),
            View::Graph(g) => match &g.group {
                Some(id) => format!("graph {id}"),
                None => format!("graph {}", g.center),
            },
            View::Profile(p) => format!("profile {}", p.entity),
            View::Trail(t) => format!("trail {}", t.entity),
            View::Event(e) => format!("event {}", e.event_id),
            View::Help(_) => "help".to_string(),
            View::Confirm(c) => format!("confirm {}", c.plan.action.verb()),
            View::Actions(_) => "actions".to_string(),
            View::World(_) => "world".to_string(),
            View::Detective(d) => format!("detective {}", d.entity),
            View::Objectives { .. } => "objectives".to_string(),
        }
    }
}

pub fn short_id(id: &str) -> String {
    id.chars().take(12).collect()
}

#[derive(Debug, Clone)]
pub struct DetailView {
    pub finding: usize,
    pub finding_id: String,
    pub entities: Vec<EntityId>,
    pub selected: usize,
    pub show_raw: bool,
    pub raw_lines: Vec<String>,
    pub raw_scroll: usize,
}

/// One line of the graph screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphRow {
    Center(EntityId),
    Node {
        id: EntityId,
        depth: u8,
        relation: Relation,
        /// The edge points from the parent to this node.
        outgoing: bool,
        count: u64,
        parent: EntityId,
    },
    /// A kind with too many neighbours to list, shown as a count until expanded.
    Collapsed {
        depth: u8,
        parent: EntityId,
        relation: Relation,
        kind: EntityKind,
        n: usize,
    },
    /// A heading (group view: one per finding).
    Heading(String),
}

impl GraphRow {
    pub fn entity(&self) -> Option<&EntityId> {
        match self {
            GraphRow::Center(id) | GraphRow::Node { id, .. } => Some(id),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct GraphView {
    pub center: EntityId,
    pub depth: u32,
    /// Where Backspace goes: previously centred entities.
    pub crumbs: Vec<EntityId>,
    pub rows: Vec<GraphRow>,
    pub selected: usize,
    pub expanded: BTreeSet<(EntityId, Relation, EntityKind)>,
    pub marks: Vec<EntityId>,
    pub path: Option<(Vec<EntityId>, Vec<EdgeView>)>,
    /// Showing a whole finding group rather than a neighbourhood.
    pub group: Option<String>,
    /// The centre is not in the graph (yet).
    pub missing: bool,
}

#[derive(Debug, Clone)]
pub struct ProfileView {
    pub entity: EntityId,
    pub scroll: usize,
    /// What the trail indexed so far says of the entity: counted when the profile opens and
    /// again as the index grows (`None`: no event names it).
    pub activity: Option<crate::pivot::Activity>,
    /// The index grew since `activity` was counted: it is counted again when the profile is
    /// the screen on top.
    pub stale: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Hour,
    Day,
    Week,
    All,
}

impl Scope {
    pub fn millis(self) -> Option<i64> {
        match self {
            Scope::Hour => Some(3_600_000),
            Scope::Day => Some(86_400_000),
            Scope::Week => Some(7 * 86_400_000),
            Scope::All => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Hour => "1h",
            Scope::Day => "24h",
            Scope::Week => "7d",
            Scope::All => "all",
        }
    }
}

/// Where a scoped window sits in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Ending at the pivot's latest event.
    Latest,
    /// Centred on an instant (a finding's time).
    Centre(Ts),
    /// Ending at an instant (what happened before a finding).
    Before(Ts),
}

#[derive(Debug, Clone)]
pub struct TrailView {
    pub entity: EntityId,
    pub scope: Scope,
    pub align: Align,
    /// The finding this pivot started from, for `centre`.
    pub finding_time: Option<Ts>,
    pub window: Window,
    /// Row numbers in the index, in time order, after scope and filter.
    pub rows: Vec<u32>,
    /// Events of the entity in any time.
    pub total: usize,
    pub selected: usize,
    pub filter: String,
}

#[derive(Debug, Clone)]
pub struct EventView {
    pub row: u32,
    pub event_id: String,
    pub entities: Vec<EntityId>,
    pub selected: usize,
    pub raw: Option<Result<Vec<String>, String>>,
    pub raw_scroll: usize,
}

#[derive(Debug, Clone)]
pub struct HelpView {
    pub context: Context,
    pub scroll: usize,
}

/// The confirm screen: a plan, and what the operator has typed so far.
#[derive(Debug, Clone)]
pub struct ConfirmView {
    pub job: u64,
    pub plan: crate::actions::Plan,
    pub dry_run: bool,
    pub typed: String,
    pub scroll: usize,
}

/// The actions screen: the session's jobs and audit log.
#[derive(Debug, Clone, Default)]
pub struct ActionsView {
    pub selected: usize,
    pub scroll: usize,
}

/// The world screen: the account as the responder shows it.
#[derive(Debug, Clone, Default)]
pub struct WorldView {
    pub scroll: usize,
}
