//! GuardDuty: a region's detectors and their findings (ListDetectors, ListFindings, GetFindings).
//! GetFindings' JSON body is parsed by vigil's own ingest — the code that reads an exported file —
//! so a finding from the API is exactly the finding a file gives; an interceptor keeps the raw body
//! of that one request.

use super::clients::{Clients, RawBody, ReadOp, ok, wrong_service};
use crate::actions::{ApiCall, CallError, CallOk};
use crate::ingest::{self, IngestError};
use crate::model::{Finding, Ts};
use aws_sdk_guardduty::types::{Condition, FindingCriteria};
use std::collections::HashMap;

/// GetFindings takes at most 50 ids; ListFindings pages at most 50.
const BATCH: usize = 50;

/// What one poll of a detector read.
#[derive(Debug, Default)]
pub struct Fetched {
    pub findings: Vec<Finding>,
    /// Findings in the response that could not be read (located like a file's records).
    pub errors: Vec<IngestError>,
    /// API calls made: ListFindings pages and GetFindings batches.
    pub calls: usize,
}

pub(super) fn detectors(c: &Clients) -> Result<Vec<String>, CallError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = c.guardduty.list_detectors().set_next_token(token.clone());
        let out = c.read(ReadOp::ListDetectors, req.send())?;
        ids.extend(out.detector_ids().iter().cloned());
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(ids);
        }
    }
}

/// How many member accounts the detector administers (associated members: their findings come
/// through this detector).
pub(super) fn members(c: &Clients, detector: &str) -> Result<usize, CallError> {
    let mut n = 0;
    let mut token: Option<String> = None;
    loop {
        let req = c
            .guardduty
            .list_members()
            .detector_id(detector)
            .only_associated("true")
            .set_next_token(token.clone());
        let out = c.read(ReadOp::ListMembers, req.send())?;
        n += out.members().len();
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(n);
        }
    }
}

/// The detector's findings that are not archived, updated after `since` (all when `None`), at
/// `min_severity` or above: ListFindings page by page, then GetFindings 50 at a time.
pub(super) fn findings(
    c: &Clients,
    detector: &str,
    since: Option<Ts>,
    min_severity: Option<f64>,
) -> Result<Fetched, CallError> {
    let mut fetched = Fetched::default();
    let ids = finding_ids(c, detector, since, min_severity, &mut fetched.calls)?;
    for batch in ids.chunks(BATCH) {
        let raw = RawBody::default();
        let req = c
            .guardduty
            .get_findings()
            .detector_id(detector)
            .set_finding_ids(Some(batch.to_vec()))
            .customize()
            .interceptor(raw.clone());
        c.read(ReadOp::GetFindings, req.send())?;
        fetched.calls += 1;
        let body = raw.body(ReadOp::GetFindings)?;
        let name = std::path::PathBuf::from(format!("guardduty:GetFindings/{detector}"));
        let mut loaded = ingest::load_bytes(&name, body);
        fetched.findings.append(&mut loaded.findings);
        fetched.errors.append(&mut loaded.errors);
    }
    Ok(fetched)
}

fn finding_ids(
    c: &Clients,
    detector: &str,
    since: Option<Ts>,
    min_severity: Option<f64>,
    calls: &mut usize,
) -> Result<Vec<String>, CallError> {
    let mut criterion: HashMap<String, Condition> = HashMap::new();
    criterion.insert(
        "service.archived".into(),
        Condition::builder().equals("false").build(),
    );
    if let Some(t) = since {
        criterion.insert(
            "updatedAt".into(),
            Condition::builder().greater_than(t.0).build(),
        );
    }
    if let Some(s) = min_severity {
        criterion.insert(
            "severity".into(),
            Condition::builder()
                .greater_than_or_equal(s.floor() as i64)
                .build(),
        );
    }
    let criteria = FindingCriteria::builder()
        .set_criterion(Some(criterion))
        .build();
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = c
            .guardduty
            .list_findings()
            .detector_id(detector)
            .finding_criteria(criteria.clone())
            .max_results(BATCH as i32)
            .set_next_token(token.clone());
        let out = c.read(ReadOp::ListFindings, req.send())?;
        *calls += 1;
        ids.extend(out.finding_ids().iter().cloned());
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(ids);
        }
    }
}

/// Makes a GuardDuty call (no dry-run in this API).
pub(super) fn call(c: &Clients, call: &ApiCall) -> Result<CallOk, CallError> {
    use aws_sdk_guardduty::operation::RequestId;
    match call {
        ApiCall::ArchiveFindings {
            detector_id,
            finding_ids,
        } => {
            let req = c
                .guardduty
                .archive_findings()
                .detector_id(detector_id)
                .set_finding_ids(Some(finding_ids.clone()));
            let o = c.write(call, req.send())?;
            Ok(ok(o.request_id(), Vec::new()))
        }
        _ => Err(wrong_service(call, "GuardDuty")),
    }
}
