//! Planning archive: the finding moves to GuardDuty's archive in the responder's region (its
//! detector), where it stops appearing in the live list; UnarchiveFindings brings it back.

use super::context::{Facts, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;

pub(super) fn plan(
    action: &Action,
    finding: &str,
    facts: &Facts,
    p: &mut Plan,
) -> Result<(), PlanError> {
    let detector = facts.detectors.first().ok_or(PlanError::NoDetector)?;
    p.steps.push(step(
        action,
        ApiCall::ArchiveFindings {
            detector_id: detector.clone(),
            finding_ids: vec![finding.to_string()],
        },
        "archive the finding (reversible: UnarchiveFindings)",
    ));
    Ok(())
}
