//! Security Hub: the findings of a region's hub (GetFindings), for `vigil live --securityhub`.
//! Each page's JSON body is read by vigil's own ASFF ingest — the code that reads `aws
//! securityhub get-findings` output — so a finding from the API is the finding a file gives.

use super::clients::{Clients, RawBody, ReadOp};
use super::guardduty::Fetched;
use crate::actions::CallError;
use crate::ingest;
use crate::model::Ts;
use aws_sdk_securityhub::types::{
    AwsSecurityFindingFilters, DateFilter, SortCriterion, SortOrder, StringFilter,
    StringFilterComparison,
};

/// GetFindings pages at most 100.
const PAGE: i32 = 100;

/// The hub's active findings updated after `since` (all when `None`), oldest update first;
/// without GuardDuty's copies when `skip_guardduty` (GuardDuty is polled directly).
pub(super) fn findings(
    c: &Clients,
    since: Option<Ts>,
    skip_guardduty: bool,
) -> Result<Fetched, CallError> {
    let eq = |v: &str, cmp: StringFilterComparison| {
        StringFilter::builder().value(v).comparison(cmp).build()
    };
    let mut filters = AwsSecurityFindingFilters::builder()
        .record_state(eq("ACTIVE", StringFilterComparison::Equals));
    if skip_guardduty {
        filters = filters.product_name(eq("GuardDuty", StringFilterComparison::NotEquals));
    }
    if let Some(t) = since {
        filters = filters.updated_at(DateFilter::builder().start(t.to_rfc3339()).build());
    }
    let filters = filters.build();
    let mut fetched = Fetched::default();
    let mut token: Option<String> = None;
    loop {
        let raw = RawBody::default();
        let req = c
            .securityhub
            .get_findings()
            .filters(filters.clone())
            .sort_criteria(
                SortCriterion::builder()
                    .field("UpdatedAt")
                    .sort_order(SortOrder::Ascending)
                    .build(),
            )
            .max_results(PAGE)
            .set_next_token(token.clone())
            .customize()
            .interceptor(raw.clone());
        let out = c.read(ReadOp::SecurityHubGetFindings, req.send())?;
        fetched.calls += 1;
        let body = raw.body(ReadOp::SecurityHubGetFindings)?;
        let name = std::path::PathBuf::from("securityhub:GetFindings");
        let mut loaded = ingest::load_bytes(&name, body);
        // The filter's start is inclusive: what was seen at `since` is not news.
        loaded
            .findings
            .retain(|f| since.is_none_or(|s| f.updated_at.is_none_or(|u| u > s)));
        fetched.findings.append(&mut loaded.findings);
        fetched.errors.append(&mut loaded.errors);
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(fetched);
        }
    }
}
