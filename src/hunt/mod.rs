//! Hunting: Sigma rules (SigmaHQ's CloudTrail set and vigil's own, embedded; a team's from a
//! directory) over CloudTrail, into [`crate::model::Detection`]s.

mod correlate;
mod gate;
mod gather;
mod insight;
pub mod intel;
mod netintel;
pub mod record;
pub mod rules;
pub mod run;

pub use gather::Matches;
pub use intel::{Intel, IntelError, IntelList, ListKind};
pub use netintel::NetIntel;
pub use rules::{RuleError, RuleSet};
pub use run::{HuntResult, Hunter};
