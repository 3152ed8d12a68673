//! What the console hunts the loaded trail with, and the hunt's second half: the loader matches
//! the CloudTrail records as it reads them for the index (files and S3 objects, one pass); once
//! the trail is indexed the matches are correlated and the detections sent as findings of their
//! own kind.

use crate::app::Msg;
use std::sync::Arc;

/// The rules and lists a console hunts with (read and checked before it opens).
#[derive(Clone)]
pub struct HuntSetup {
    pub rules: Arc<crate::hunt::RuleSet>,
    pub intel: crate::hunt::Intel,
}

impl std::fmt::Debug for HuntSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HuntSetup({} rules, {} lists)",
            self.rules.collection.rules.len() + self.rules.collection.correlations.len(),
            self.intel.lists.len()
        )
    }
}

impl HuntSetup {
    /// The bundled rules, no lists.
    pub fn bundled() -> HuntSetup {
        HuntSetup {
            rules: Arc::new(crate::hunt::RuleSet::bundled()),
            intel: crate::hunt::Intel::default(),
        }
    }
}

impl HuntSetup {
    /// The hunter these rules and lists make.
    pub(super) fn hunter(&self) -> crate::hunt::Hunter {
        crate::hunt::Hunter::new(&self.rules).with_intel(self.intel.clone())
    }
}

/// The rules' second half over what they matched as the loader read the CloudTrail records
/// (`matched`: files and S3 objects, in the same pass as the index), and what the network logs
/// matched on the threat lists (`net`, checked as the loader read them): the detections sent in
/// one message, as findings (`Hunt:…`) and marks on the trail.
pub(super) fn hunt(
    send: &dyn Fn(Msg) -> bool,
    setup: &HuntSetup,
    matched: crate::hunt::Matches,
    net: Option<crate::hunt::NetIntel>,
) {
    let hunter = setup.hunter();
    for e in &hunter.errors {
        tracing::warn!(rule = %e, "hunting rule not loaded");
    }
    let mut found = hunter.correlate(matched).detections;
    if let Some(net) = net {
        for (list, n) in &net.suppressed {
            tracing::info!(list = %list, records = n, "flow/DNS records on a trusted list not reported");
        }
        found.extend(net.detections());
    }
    if !found.is_empty() {
        send(Msg::Detections(found));
    }
}
