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
