//! The plan as data: the exact calls ([`Step`]s) with why each is made, what they touch, the blast
//! radius, and the confirmation they need.

use crate::actions::action::{Action, Confirm};
use crate::actions::api::ApiCall;
use crate::actions::state::Identity;
use serde::Serialize;

/// One call of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Step {
    /// The action this step belongs to (a playbook has several).
    pub action: String,
    pub call: ApiCall,
    /// Why: shown in the plan.
    pub why: String,
}

/// What will happen, before it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Plan {
    pub action: Action,
    pub case: String,
    /// Who plans to act (STS GetCallerIdentity).
    pub operator: Identity,
    pub steps: Vec<Step>,
    pub touches: Vec<String>,
    /// What else this affects (instances sharing the role, the auto-scaling group, ...).
    pub blast_radius: Vec<String>,
    /// Things the operator should know (already done, not handled by vigil, ...).
    pub notes: Vec<String>,
    /// State captured before acting, written to the audit log so the action can be undone.
    pub captured: Vec<serde_json::Value>,
    pub confirm: Confirm,
    /// The region the calls go to, when the action was built from a finding that names one:
    /// its resources are there, whichever region the session was opened in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Plan {
    /// True when there is nothing to do (e.g. the instance is already contained).
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }

    /// The plan as the operator reads it.
    pub fn render(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plan: {} {} (case {}){}",
            self.action.verb(),
            self.action.target(),
            self.case,
            self.region
                .as_deref()
                .map(|r| format!(" in {r}"))
                .unwrap_or_default()
        );
        if self.steps.is_empty() {
            let _ = writeln!(s, "  nothing to do");
        }
        for (i, st) in self.steps.iter().enumerate() {
            let _ = writeln!(s, "  {:>2}. {:<30} {}", i + 1, st.call.iam_action(), st.why);
            let _ = writeln!(s, "      {}", st.call.describe());
        }
        if !self.touches.is_empty() {
            let _ = writeln!(s, "touches: {}", self.touches.join(", "));
        }
        if !self.blast_radius.is_empty() {
            let _ = writeln!(s, "blast radius:");
            for b in &self.blast_radius {
                let _ = writeln!(s, "  - {b}");
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "note: {n}");
        }
        s
    }
}

/// A step of `action`'s part of the plan.
pub(super) fn step(action: &Action, call: ApiCall, why: impl Into<String>) -> Step {
    Step {
        action: action.verb().to_string(),
        call,
        why: why.into(),
    }
}
