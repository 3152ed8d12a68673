//! The domain types every room shares: entities, findings, CloudTrail events, flow and DNS
//! records, severities and instants. No IO lives here.

pub mod arn;
pub mod detection;
pub mod detective;
pub mod entity;
pub mod event_id;
pub(crate) mod finding;
pub(crate) mod net;
pub(crate) mod origin;
pub(crate) mod severity;
pub mod text;
pub(crate) mod time;
pub(crate) mod trail;

pub use detection::Detection;
pub use entity::{EntityId, EntityKind};
pub use finding::{Finding, FindingAction, RemoteIp, Subject};
pub use net::{DnsQuery, FlowRecord};
pub use origin::{Origin, content_hash};
pub use severity::SeverityLabel;
pub use time::Ts;
pub use trail::{RawRef, StartedSession, TrailEvent};
