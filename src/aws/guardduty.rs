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
        token = next_token(out.next_token());
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
        token = next_token(out.next_token());
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
        token = next_token(out.next_token());
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

/// A GuardDuty threat-intel set or trusted IP list of a detector: what `GetThreatIntelSet` /
/// `GetIPSet` say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSet {
    pub name: String,
    /// A threat list (`ThreatIntelSet`) or a trusted one (`IPSet`).
    pub threat: bool,
    /// TXT, STIX, OTX_CSV, ALIEN_VAULT, PROOF_POINT or FIRE_EYE.
    pub format: String,
    /// Where the list is: an S3 object URL.
    pub location: String,
    /// ACTIVE when GuardDuty uses it.
    pub status: String,
}

/// The detector's threat-intel sets and trusted IP lists (every page).
pub(super) fn list_sets(c: &Clients, detector: &str) -> Result<Vec<ListSet>, CallError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let req = c
            .guardduty
            .list_threat_intel_sets()
            .detector_id(detector)
            .set_next_token(token.clone());
        let page = c.read(ReadOp::ListThreatIntelSets, req.send())?;
        for id in page.threat_intel_set_ids() {
            let req = c
                .guardduty
                .get_threat_intel_set()
                .detector_id(detector)
                .threat_intel_set_id(id);
            let s = c.read(ReadOp::GetThreatIntelSet, req.send())?;
            out.push(ListSet::of(
                id,
                true,
                [s.name(), s.format().map(|f| f.as_str())],
                s.location(),
                s.status().map(|f| f.as_str()),
            ));
        }
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    loop {
        let req = c
            .guardduty
            .list_ip_sets()
            .detector_id(detector)
            .set_next_token(token.clone());
        let page = c.read(ReadOp::ListIPSets, req.send())?;
        for id in page.ip_set_ids() {
            let req = c.guardduty.get_ip_set().detector_id(detector).ip_set_id(id);
            let s = c.read(ReadOp::GetIPSet, req.send())?;
            out.push(ListSet::of(
                id,
                false,
                [s.name(), s.format().map(|f| f.as_str())],
                s.location(),
                s.status().map(|f| f.as_str()),
            ));
        }
        token = next_token(page.next_token());
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// A page's continuation token, if there is another page.
fn next_token(t: Option<&str>) -> Option<String> {
    t.filter(|t| !t.is_empty()).map(str::to_string)
}

impl ListSet {
    /// What GetThreatIntelSet or GetIPSet said of set `id` (`[name, format]`).
    fn of(
        id: &str,
        threat: bool,
        [name, format]: [Option<&str>; 2],
        location: Option<&str>,
        status: Option<&str>,
    ) -> ListSet {
        ListSet {
            name: name.unwrap_or(id).to_string(),
            threat,
            format: format.unwrap_or_default().to_string(),
            location: location.unwrap_or_default().to_string(),
            status: status.unwrap_or_default().to_string(),
        }
    }
}

/// The bucket and key of a list's location as GuardDuty takes it: `s3://BUCKET/KEY`, or an
/// object URL, path-style (`https://s3[.-]REGION.amazonaws.com/BUCKET/KEY`) or virtual-hosted
/// (`https://BUCKET.s3[.REGION].amazonaws.com/KEY`).
pub fn s3_location(url: &str) -> Option<(String, String)> {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("s3://") {
        let (b, k) = rest.split_once('/')?;
        return (!b.is_empty() && !k.is_empty()).then(|| (b.to_string(), k.to_string()));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    let host = host.to_ascii_lowercase();
    let host = host.split(':').next().unwrap_or("");
    // Percent-encoded keys (a space as %20) are decoded: S3 keys are the decoded text.
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .ok()
    };
    if host.starts_with("s3.") || host.starts_with("s3-") {
        let (b, k) = path.split_once('/')?;
        return Some((b.to_string(), decode(k)?)).filter(|(b, k)| !b.is_empty() && !k.is_empty());
    }
    let at = host.find(".s3.").or_else(|| host.find(".s3-"))?;
    let key = decode(path)?;
    (!key.is_empty()).then(|| (host[..at].to_string(), key))
}

#[cfg(test)]
mod location_tests {
    use super::s3_location;

    #[test]
    fn every_location_form_guardduty_documents() {
        let want = Some(("my-bucket".to_string(), "lists/feed 1.txt".to_string()));
        for url in [
            "s3://my-bucket/lists/feed 1.txt",
            "https://s3.amazonaws.com/my-bucket/lists/feed%201.txt",
            "https://s3.us-west-2.amazonaws.com/my-bucket/lists/feed%201.txt",
            "https://s3-us-west-2.amazonaws.com/my-bucket/lists/feed%201.txt",
            "https://my-bucket.s3.amazonaws.com/lists/feed%201.txt",
            "https://my-bucket.s3.us-west-2.amazonaws.com/lists/feed%201.txt",
            "https://my-bucket.s3-us-west-2.amazonaws.com/lists/feed%201.txt",
        ] {
            assert_eq!(s3_location(url), want, "{url}");
        }
        for bad in [
            "",
            "ftp://x/y",
            "https://example.com/a/b",
            "s3://bucket-only",
        ] {
            assert_eq!(s3_location(bad), None, "{bad}");
        }
    }
}
