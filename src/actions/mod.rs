//! Response actions: what an operator can do to the account, as data.
//!
//! - [`Action`] is the closed set of things vigil can do (every one goes through a confirmation).
//! - [`plan()`] turns an action and the [`Facts`] read from the account into a [`Plan`]: the exact API
//!   calls ([`ApiCall`]) with their parameters, the resources touched, the blast radius and the
//!   confirmation it needs. Pure: no IO. One file per action under `plan/`.
//! - [`execute`] runs a plan through a [`Responder`], one call at a time, writing an intent record
//!   before and a result record after each call to the [`AuditLog`], stopping at the first failure.
//!
//! Only code holding a [`Responder`] can change an account. A read-only session holds an
//! [`Inspect`] and nothing else: it can gather facts and plan, but has no path to a mutating call.
//! The two implementations are `crate::aws` (the SDK) and `crate::demo::responder` (the scenario world).
//!
//! The files, each with one job (imports point down this list, never back up): `names` (what vigil
//! calls what it creates), `evidence` (the evidence store's artefacts and manifest records),
//! `action`, `answer` (what a call returns), `api` (the calls; `describe` for how they read),
//! `state` (the account as read), `account` (the world screen's view), `responder` (the traits
//! and sessions), `plan/`, `audit`, `exec`, `playbook`, `webhook`.

pub(crate) mod account;
mod action;
mod answer;
mod api;
pub mod audit;
mod describe;
pub mod evidence;
pub mod exec;
mod names;
pub mod plan;
pub(crate) mod playbook;
mod responder;
mod state;
pub mod webhook;

pub use account::AccountView;
pub use action::{Action, AsgMode, Confirm, WafSet};
pub use answer::{CallError, CallOk, DryRun};
pub use api::{ApiCall, ApiKind, GroupRef, Service};
pub use audit::{AuditKind, AuditLog, AuditRecord};
pub use exec::{ExecOptions, Outcome, Report, StepReport, execute};
pub use names::{
    DNS_BLOCKLIST_NAME, DNS_RULE_GROUP_NAME, REVOKE_POLICY_NAME, STATUS_QUARANTINED, TAG_CASE,
    TAG_COPY_OF, TAG_DETACHED_PROFILE, TAG_STATUS, role_name,
};
pub use plan::{Facts, Plan, PlanError, Step, gather, gather_and_plan, plan};
pub use playbook::{Playbook, PlaybookStep};
pub use responder::{Inspect, ReadOnlySession, Responder, ResponderSession, Session};
pub use state::{
    AclEntry, CaseSnapshot, DnsFirewallState, EniState, GroupState, Identity, InstanceState,
    KeyState, NetworkAclState, ObjectLockState, SnapshotProgress, SnapshotState, SsmAgent,
    StoredObject, UnknownSnapshotState, WafIpSetState, command_ended,
};
