//! What the console hunts the loaded trail with, and the hunt itself: run by the loader once the
//! trail is indexed, its detections sent as findings of their own kind.

use crate::app::Msg;
use std::path::PathBuf;
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

/// The rules over the evidence files, and what the network logs matched on the threat lists
/// (`net`, checked as the loader read them): the detections sent in one message, as findings
/// (`Hunt:…`) and marks on the trail. Runs after the index: the console is usable meanwhile.
pub(super) fn hunt(
    send: &dyn Fn(Msg) -> bool,
    setup: &HuntSetup,
    files: &[PathBuf],
    net: Option<crate::hunt::NetIntel>,
) {
    let hunter = crate::hunt::Hunter::new(&setup.rules).with_intel(setup.intel.clone());
    for e in &hunter.errors {
        tracing::warn!(rule = %e, "hunting rule not loaded");
    }
    let mut found = match hunter.scan(files, crate::pivot::Window::all()) {
        Ok(matches) => hunter.correlate(matches).detections,
        Err(e) => {
            tracing::warn!(error = %e, "hunt not run");
            Vec::new()
        }
    };
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
