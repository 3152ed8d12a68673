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

impl HuntSetup {
    /// The hunter these rules and lists make.
    pub(super) fn hunter(&self) -> crate::hunt::Hunter {
        crate::hunt::Hunter::new(&self.rules).with_intel(self.intel.clone())
    }
}

/// Local files are read again for the hunt, after the index, rather than matched in the same
/// pass: measured on a million events (`bench load DIR --hunt`, two cores), a hunt beside the load
/// made the index complete 5 s later (9.2 → 14.1 s) for detections no sooner (17.9 s either way,
/// peak memory about the same): the rules' parsing, not the reading, is the cost. S3 objects
/// cannot be read again without fetching them twice: they are matched as they arrive.
///
/// The rules over the evidence files, with what they matched in S3 objects as those arrived
/// (`s3`), and what the network logs matched on the threat lists (`net`, checked as the loader
/// read them): the detections sent in one message, as findings (`Hunt:…`) and marks on the
/// trail. Runs after the index: the console is usable meanwhile.
pub(super) fn hunt(
    send: &dyn Fn(Msg) -> bool,
    setup: &HuntSetup,
    files: &[PathBuf],
    s3: crate::hunt::Matches,
    net: Option<crate::hunt::NetIntel>,
) {
    let hunter = setup.hunter();
    for e in &hunter.errors {
        tracing::warn!(rule = %e, "hunting rule not loaded");
    }
    let scanned = if files.is_empty() {
        Ok(crate::hunt::Matches::default())
    } else {
        hunter.scan(files, crate::pivot::Window::all())
    };
    let mut found = match scanned {
        Ok(matches) => hunter.correlate(matches.join(s3)).detections,
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
