//! CloudTrail's LookupEvents: one page of a region's management events that match one lookup
//! attribute within a window. The answer's body is kept whole and handed back: vigil's ingest
//! reads it as it reads a saved `aws cloudtrail lookup-events` output (each `CloudTrailEvent` is
//! the record, as a JSON string), so an event from the API is exactly the event a log file gives.

use super::clients::{Clients, RawBody, ReadOp};
use crate::actions::CallError;
use crate::pivot::Window;
use crate::pivot::lookup::{LookupAttr, LookupKey};
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;

/// LookupEvents answers at most 50 events a page.
const PAGE: i32 = 50;

/// One page: the response body as the API sent it, and the token of the next page.
#[derive(Debug)]
pub struct LookupPage {
    pub body: Vec<u8>,
    pub events: usize,
    pub next_token: Option<String>,
}

fn key(k: LookupKey) -> LookupAttributeKey {
    match k {
        LookupKey::AccessKeyId => LookupAttributeKey::AccessKeyId,
        LookupKey::Username => LookupAttributeKey::Username,
        LookupKey::ResourceName => LookupAttributeKey::ResourceName,
        LookupKey::EventName => LookupAttributeKey::EventName,
        LookupKey::EventSource => LookupAttributeKey::EventSource,
    }
}

fn time(ms: i64) -> DateTime {
    DateTime::from_millis(ms)
}

pub(super) fn lookup_page(
    c: &Clients,
    attr: &LookupAttr,
    window: Window,
    token: Option<String>,
) -> Result<LookupPage, CallError> {
    let attribute = LookupAttribute::builder()
        .attribute_key(key(attr.key))
        .attribute_value(&attr.value)
        .build()
        .map_err(|e| CallError::new("vigil.BadRequest", e.to_string()))?;
    let raw = RawBody::default();
    let req = c
        .cloudtrail
        .lookup_events()
        .lookup_attributes(attribute)
        .set_start_time(window.from.map(|t| time(t.0)))
        .set_end_time(window.to.map(|t| time(t.0)))
        .max_results(PAGE)
        .set_next_token(token)
        .customize()
        .interceptor(raw.clone());
    let out = c.read(ReadOp::LookupEvents, req.send())?;
    Ok(LookupPage {
        body: raw.body(ReadOp::LookupEvents)?,
        events: out.events().len(),
        next_token: out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    })
}

/// A CloudTrail Lake query's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeStatus {
    /// QUEUED, RUNNING, FINISHED, FAILED, CANCELLED or TIMED_OUT.
    pub status: String,
    pub bytes_scanned: u64,
    pub error: Option<String>,
}

impl LakeStatus {
    pub fn done(&self) -> bool {
        !matches!(self.status.as_str(), "QUEUED" | "RUNNING")
    }
}

/// One page of a Lake query's rows (each a list of `{alias: value}` cells).
#[derive(Debug)]
pub struct LakePage {
    pub rows: Vec<Vec<std::collections::HashMap<String, String>>>,
    pub next_token: Option<String>,
}

pub(super) fn lake_start(c: &Clients, sql: &str) -> Result<String, CallError> {
    let out = c.read(
        ReadOp::StartQuery,
        c.cloudtrail.start_query().query_statement(sql).send(),
    )?;
    out.query_id()
        .map(str::to_string)
        .ok_or_else(|| CallError::new("vigil.NoId", "StartQuery answered without a query id"))
}

pub(super) fn lake_describe(c: &Clients, id: &str) -> Result<LakeStatus, CallError> {
    let out = c.read(
        ReadOp::DescribeQuery,
        c.cloudtrail.describe_query().query_id(id).send(),
    )?;
    Ok(LakeStatus {
        status: out
            .query_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        bytes_scanned: out
            .query_statistics()
            .and_then(|s| s.bytes_scanned())
            .unwrap_or(0)
            .max(0) as u64,
        error: out.error_message().map(str::to_string),
    })
}

pub(super) fn lake_page(
    c: &Clients,
    id: &str,
    token: Option<String>,
) -> Result<LakePage, CallError> {
    let out = c.read(
        ReadOp::GetQueryResults,
        c.cloudtrail
            .get_query_results()
            .query_id(id)
            .set_next_token(token)
            .send(),
    )?;
    Ok(LakePage {
        rows: out.query_result_rows().to_vec(),
        next_token: out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string),
    })
}

pub(super) fn lake_cancel(c: &Clients, id: &str) -> Result<(), CallError> {
    c.read(
        ReadOp::CancelQuery,
        c.cloudtrail.cancel_query().query_id(id).send(),
    )
    .map(|_| ())
}
