//! A CloudTrail event as vigil indexes it.

use super::entity::EntityId;
use super::origin::Origin;
use super::time::Ts;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct TrailEvent {
    /// `eventID`, or `vigil-<content hash>` for test stubs that have none.
    pub event_id: String,
    pub time: Ts,
    pub name: String,
    pub source: String,
    pub region: Option<String>,
    /// `sourceIPAddress` as written (it may be a service name, not an address).
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub event_type: Option<String>,
    pub read_only: Option<bool>,
    /// The acting principal (see "Principals of a CloudTrail event" in docs/ENTITY-MODEL.md).
    pub principal: Option<EntityId>,
    /// The role (or, for a federated user, the IAM user) that issued the acting session:
    /// `userIdentity.sessionContext.sessionIssuer`, the `session_of` edge.
    pub issuer: Option<EntityId>,
    /// The instance whose role credentials the acting session is (`assumed`).
    pub instance: Option<EntityId>,
    /// The Identity Center user a session acted for (`userIdentity.onBehalfOf`).
    pub on_behalf_of: Option<EntityId>,
    /// The Identity Center principal by user name, when the record carries the name too.
    pub known_as: Option<EntityId>,
    /// The session this call started (`AssumeRole*`, `GetFederationToken`).
    pub started: Option<StartedSession>,
    /// The caller's address: the first public address of `sourceIPAddress` (it may be a list),
    /// else its first address.
    pub caller_ip: Option<EntityId>,
    pub access_key: Option<String>,
    /// Every entity of the event (section 3 of the contract), sorted and de-duplicated.
    pub entities: Vec<EntityId>,
    /// Resources the event names (the `acted_on` targets): entities from requestParameters,
    /// responseElements and resources[], minus the actor's own identity.
    pub targets: Vec<EntityId>,
    pub raw: RawRef,
    pub origin: Origin,
}

/// A session started by a call, and the role (or IAM user) it is a session of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedSession {
    pub session: EntityId,
    pub issuer: Option<EntityId>,
}

impl TrailEvent {
    pub fn failed(&self) -> bool {
        self.error_code.is_some()
    }

    /// `ec2.amazonaws.com` → `ec2`.
    pub fn service_short(&self) -> &str {
        self.source
            .strip_suffix(".amazonaws.com")
            .unwrap_or(&self.source)
    }
}

/// The original record. In-memory for small inputs and for records that were decoded from a
/// string (CLI `lookup-events` output); otherwise a byte range of the decompressed file, read back
/// on demand so a million events do not hold a gigabyte of JSON in memory.
#[derive(Debug, Clone)]
pub enum RawRef {
    Inline(Arc<str>),
    File {
        path: Arc<std::path::PathBuf>,
        offset: u64,
        len: u32,
    },
}
