//! The closed sets keymaps name: the contexts (screens) and the commands keys ask for.

use std::fmt;

macro_rules! contexts {
    ($($v:ident => $s:literal),* $(,)?) => {
        /// Where a key is pressed. `global` applies under every other context.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Context { $($v),* }
        impl Context {
            pub const ALL: &[Context] = &[$(Context::$v),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Context::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Context> {
                match s { $($s => Some(Context::$v),)* _ => None }
            }
        }
    };
}

contexts! {
    Global => "global",
    Findings => "findings",
    Detail => "detail",
    Graph => "graph",
    Profile => "profile",
    Trail => "trail",
    Event => "event",
    Help => "help",
    Confirm => "confirm",
    Actions => "actions",
    World => "world",
    Detective => "detective",
    Objectives => "objectives",
    Input => "input",
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! commands {
    ($($v:ident => $s:literal),* $(,)?) => {
        /// Everything a key can ask for. A closed set: keymaps name these, the reducer matches them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Command { $($v),* }
        impl Command {
            pub const ALL: &[Command] = &[$(Command::$v),*];
            pub fn as_str(self) -> &'static str {
                match self { $(Command::$v => $s),* }
            }
            pub fn parse(s: &str) -> Option<Command> {
                match s { $($s => Some(Command::$v),)* _ => None }
            }
        }
    };
}

commands! {
    Noop => "noop",
    Quit => "quit",
    Help => "help",
    CommandLine => "command_line",
    Back => "back",
    Home => "home",
    Up => "up",
    Down => "down",
    PageUp => "page_up",
    PageDown => "page_down",
    Top => "top",
    Bottom => "bottom",
    Open => "open",
    Sort => "sort",
    Filter => "filter",
    ClearFilter => "clear_filter",
    SeverityMin => "severity_min",
    GroupFilter => "group_filter",
    GroupView => "group_view",
    ToggleArchived => "toggle_archived",
    ActorTrail => "actor_trail",
    ActorProfile => "actor_profile",
    Before => "before",
    Trail => "trail",
    Graph => "graph",
    Profile => "profile",
    ToggleRaw => "toggle_raw",
    Recenter => "recenter",
    GraphBack => "graph_back",
    Mark => "mark",
    Depth => "depth",
    Expand => "expand",
    ShowGroup => "show_group",
    Scope1h => "scope_1h",
    Scope24h => "scope_24h",
    Scope7d => "scope_7d",
    ScopeAll => "scope_all",
    Centre => "centre",
    UaTrail => "ua_trail",
    IpTrail => "ip_trail",
    PrincipalTrail => "principal_trail",
    Quarantine => "quarantine",
    Snapshot => "snapshot",
    Notify => "notify",
    RevokeSessions => "revoke_sessions",
    DisableKey => "disable_key",
    DetachProfile => "detach_profile",
    BlockIp => "block_ip",
    Collect => "collect",
    BlockDomain => "block_domain",
    Release => "release",
    Playbook => "playbook",
    Archive => "archive",
    Investigate => "investigate",
    NewInvestigation => "new_investigation",
    Record => "record",
    Objectives => "objectives",
    Hint => "hint",
    DryRun => "dry_run",
    ActionsScreen => "actions_screen",
    WorldScreen => "world_screen",
    ConfirmYes => "confirm_yes",
    ConfirmNo => "confirm_no",
    Submit => "submit",
    Cancel => "cancel",
    Complete => "complete",
    DeleteBack => "delete_back",
}

impl Command {
    /// Response actions: bound from day one, run by the actions module once it exists.
    pub fn is_action(self) -> bool {
        matches!(
            self,
            Command::Quarantine
                | Command::Snapshot
                | Command::Notify
                | Command::RevokeSessions
                | Command::DisableKey
                | Command::DetachProfile
                | Command::BlockIp
                | Command::Collect
                | Command::BlockDomain
                | Command::Release
                | Command::Playbook
                | Command::Archive
        )
    }
}
