//! The demo world's GuardDuty: findings archived.

use super::{DEMO_DETECTOR, DemoResponder, not_found, wrong_family};
use crate::actions::{ApiCall, CallError};

impl DemoResponder {
    pub(super) fn apply_guardduty(&mut self, call: &ApiCall) -> Result<Vec<String>, CallError> {
        match call {
            ApiCall::ArchiveFindings {
                detector_id,
                finding_ids,
            } => {
                if detector_id != DEMO_DETECTOR {
                    return Err(not_found(
                        "BadRequestException",
                        &format!("detector {detector_id}"),
                    ));
                }
                for id in finding_ids {
                    if !self.world.archived_findings.contains(id) {
                        self.world.archived_findings.push(id.clone());
                    }
                }
                Ok(Vec::new())
            }
            _ => Err(wrong_family(call, "GuardDuty")),
        }
    }
}
