//! The after-action report of a recording: what arrived, what the responder looked at, which
//! pivots they made and which actions ran with what outcome — observed while the recording is
//! replayed through the reducer — and, for a drill, the score against the scenario's answer key.

use crate::app::state::{JobStatus, View};
use crate::app::{Msg, State};
use crate::demo::AnswerKey;
use crate::model::text::Escaped;
use std::collections::HashSet;
use std::fmt::Write as _;

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub t_ms: u64,
    pub what: String,
}

/// An action that finished, as the actions screen had it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub t_ms: u64,
    /// The answer key's words: `quarantine`, `snapshot`, `notify`, `disable-key`, …
    pub verb: String,
    /// `kind:value`, as the answer key names targets.
    pub target: String,
    pub ok: bool,
    pub dry_run: bool,
    pub outcome: String,
}

/// Builds the report while a recording is replayed: [`Observer::before`] and [`Observer::after`]
/// each message.
#[derive(Debug, Default)]
pub struct Observer {
    pub entries: Vec<Entry>,
    pub actions: Vec<Done>,
    /// When each finding was first opened (its detail), by id.
    pub looked: Vec<(String, u64)>,
    seen_findings: HashSet<String>,
    depth: usize,
    finished_jobs: HashSet<u64>,
    pub hints_used: usize,
    pub end_ms: u64,
}

fn kind_of(verb: &str) -> &'static str {
    match verb {
        "quarantine" | "release" | "snapshot" | "detach-profile" | "collect"
        | "share-snapshots" => "instance",
        "notify" | "archive" => "finding",
        "disable-key" => "key",
        "revoke-sessions" => "role",
        "block-domain" => "domain",
        "block-ip" | "unblock-ip" => "ip",
        _ => "target",
    }
}

/// Each finished action, a playbook's steps each on their own (they share its outcome).
fn finished(t_ms: u64, job: &crate::app::state::Job) -> Vec<Done> {
    // Already in the wanted state counts as done; a dry run never counts (see `score`).
    let ok = matches!(job.status, JobStatus::Done | JobStatus::NoOp);
    let outcome = match (&job.status, &job.error) {
        (_, Some(e)) => e.clone(),
        (s, None) => format!("{s:?}").to_lowercase(),
    };
    let steps: Vec<&crate::actions::Action> = match &job.action {
        crate::actions::Action::Playbook { steps, .. } => steps.iter().collect(),
        a => vec![a],
    };
    steps
        .into_iter()
        .map(|a| Done {
            t_ms,
            verb: a.verb().to_string(),
            target: format!("{}:{}", kind_of(a.verb()), a.target()),
            ok,
            dry_run: job.dry_run,
            outcome: outcome.clone(),
        })
        .collect()
}

impl Observer {
    /// Before the reducer applies `msg` (at `t_ms`).
    pub fn before(&mut self, t_ms: u64, msg: &Msg) {
        self.end_ms = t_ms;
        if let Msg::Findings(batch) = msg {
            for f in batch {
                if self.seen_findings.insert(f.id.clone()) {
                    self.entries.push(Entry {
                        t_ms,
                        what: format!(
                            "finding arrived: {} {} ({})",
                            f.label().as_str(),
                            f.finding_type,
                            f.id
                        ),
                    });
                }
            }
        }
    }

    /// After the reducer applied the message, with `s` the state it left.
    pub fn after(&mut self, t_ms: u64, s: &State) {
        if s.stack.len() > self.depth
            && let Some(v) = s.stack.last()
        {
            self.entries.push(Entry {
                t_ms,
                what: format!("opened {}", v.title()),
            });
            if let View::Detail(d) = v
                && !self.looked.iter().any(|(id, _)| *id == d.finding_id)
            {
                self.looked.push((d.finding_id.clone(), t_ms));
            }
        }
        self.depth = s.stack.len();
        for job in &s.actions.jobs {
            let ended = matches!(
                job.status,
                JobStatus::Done | JobStatus::Failed | JobStatus::NoOp | JobStatus::WouldSucceed
            );
            if ended && self.finished_jobs.insert(job.id) {
                for d in finished(t_ms, job) {
                    self.entries.push(Entry {
                        t_ms,
                        what: format!(
                            "{}{} {}: {}",
                            if d.dry_run { "dry run: " } else { "" },
                            d.verb,
                            d.target,
                            d.outcome
                        ),
                    });
                    self.actions.push(d);
                }
            }
        }
        if let Some(d) = &s.drill
            && d.hints_used > self.hints_used
        {
            self.hints_used = d.hints_used;
            self.entries.push(Entry {
                t_ms,
                what: format!("hint {} taken", d.hints_used),
            });
        }
    }
}

/// A drill's score card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub points: i64,
    pub max: i64,
    pub lines: Vec<(String, i64)>,
    pub missed: Vec<String>,
}

/// `m:ss` of an offset.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// Scores what was done against the answer key: 10 points per right action (20 for each
/// containment), −15 per wrong action (collateral), 10 for a snapshot taken before its instance
/// was quarantined, 10 for notifying the team, up to 20 for a quick first look at a key finding
/// and up to 20 for quick containment, −5 per hint. Actions after the time limit do not count;
/// dry runs and failures never do.
pub fn score(o: &Observer, key: &AnswerKey, time_limit_s: Option<u64>) -> Score {
    let limit_ms = time_limit_s.map(|s| s * 1000);
    let counted: Vec<&Done> = o
        .actions
        .iter()
        .filter(|d| d.ok && !d.dry_run && limit_ms.is_none_or(|l| d.t_ms <= l))
        .collect();
    let did = |verb: &str, target: &str| {
        counted
            .iter()
            .find(|d| d.verb == verb && d.target == target)
            .map(|d| d.t_ms)
    };
    let containment = [
        "quarantine",
        "revoke-sessions",
        "disable-key",
        "detach-profile",
    ];
    let mut lines = Vec::new();
    let mut missed = Vec::new();
    let mut max = 0;
    for a in &key.right_actions {
        let worth = if containment.contains(&a.action.as_str()) {
            20
        } else {
            10
        };
        max += worth;
        match did(&a.action, &a.target) {
            Some(t) => lines.push((format!("{} {} at {}", a.action, a.target, clock(t)), worth)),
            None => missed.push(format!("{} {}", a.action, a.target)),
        }
    }
    for a in &key.wrong_actions {
        if let Some(t) = did(&a.action, &a.target) {
            lines.push((
                format!(
                    "collateral: {} {} at {} — {}",
                    a.action,
                    a.target,
                    clock(t),
                    a.why
                ),
                -15,
            ));
        }
    }
    // Evidence before containment: each instance the key says to quarantine, snapshotted first.
    for a in key
        .right_actions
        .iter()
        .filter(|a| a.action == "quarantine")
    {
        max += 10;
        match (did("snapshot", &a.target), did("quarantine", &a.target)) {
            (Some(snap), Some(q)) if snap <= q => lines.push((
                format!("evidence kept: {} snapshotted before quarantine", a.target),
                10,
            )),
            _ => missed.push(format!("snapshot {} before quarantining it", a.target)),
        }
    }
    max += 10;
    match counted.iter().find(|d| d.verb == "notify") {
        Some(d) => lines.push((format!("team notified at {}", clock(d.t_ms)), 10)),
        None => missed.push("notify the team".to_string()),
    }
    // Quickness: full marks within 2 minutes, none after 15.
    let quick = |t: u64| -> i64 {
        let s = t / 1000;
        if s <= 120 {
            20
        } else if s >= 900 {
            0
        } else {
            (20 * (900 - s) / 780) as i64
        }
    };
    let key_findings: Vec<&str> = key
        .right_actions
        .iter()
        .filter_map(|a| a.target.strip_prefix("finding:"))
        .collect();
    max += 20;
    match o
        .looked
        .iter()
        .find(|(id, _)| key_findings.contains(&id.as_str()))
    {
        Some((id, t)) => lines.push((
            format!("first look at key finding {id} at {}", clock(*t)),
            quick(*t),
        )),
        None => missed.push(format!(
            "open the key finding ({})",
            key_findings.join(", ")
        )),
    }
    max += 20;
    let contained = counted
        .iter()
        .filter(|d| containment.contains(&d.verb.as_str()))
        .filter(|d| {
            key.right_actions
                .iter()
                .any(|a| a.action == d.verb && a.target == d.target)
        })
        .map(|d| d.t_ms)
        .min();
    match contained {
        Some(t) => lines.push((format!("contained at {}", clock(t)), quick(t))),
        None => missed.push("contain the compromise".to_string()),
    }
    if o.hints_used > 0 {
        lines.push((
            format!("{} hint(s)", o.hints_used),
            -5 * o.hints_used as i64,
        ));
    }
    let points = lines.iter().map(|(_, p)| p).sum::<i64>().max(0);
    Score {
        points,
        max,
        lines,
        missed,
    }
}

/// The after-action report in Markdown.
pub fn markdown(
    header: &super::Header,
    o: &Observer,
    truncated: bool,
    score: Option<&Score>,
) -> String {
    let mut m = String::new();
    let what = match &header.drill {
        Some(d) => format!("drill {}", d.scenario),
        None => format!("{} {}", header.mode.as_str().to_lowercase(), header.label),
    };
    let _ = writeln!(m, "# After-action report: {}", Escaped(&what));
    let _ = writeln!(
        m,
        "\nRecorded {} by vigil {}; {} long{}{}.\n",
        header.started.to_rfc3339_secs(),
        header.vigil_version,
        clock(o.end_ms),
        if truncated {
            " (the recording was cut short: the session was killed)"
        } else {
            ""
        },
        if header.redacted { "; redacted" } else { "" }
    );
    let _ = writeln!(m, "## Timeline\n\n| time | what |\n|---|---|");
    for e in &o.entries {
        let _ = writeln!(
            m,
            "| {} | {} |",
            clock(e.t_ms),
            Escaped(&e.what).to_string().replace('|', "\\|")
        );
    }
    let _ = writeln!(m, "\n## Actions\n");
    if o.actions.is_empty() {
        let _ = writeln!(m, "None.");
    }
    for d in &o.actions {
        let _ = writeln!(
            m,
            "- {} {}{} {}: {}",
            clock(d.t_ms),
            if d.dry_run { "(dry run) " } else { "" },
            d.verb,
            Escaped(&d.target),
            Escaped(&d.outcome)
        );
    }
    if let Some(s) = score {
        let _ = writeln!(m, "\n## Score: {} / {}\n", s.points, s.max);
        for (what, p) in &s.lines {
            let _ = writeln!(m, "- {p:+} {}", Escaped(what));
        }
        if !s.missed.is_empty() {
            let _ = writeln!(m, "\n### Missed\n");
            for x in &s.missed {
                let _ = writeln!(m, "- {}", Escaped(x));
            }
        }
    }
    m
}
