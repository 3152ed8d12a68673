//! Format detection and envelope unwrapping: each top-level JSON value is classified by its keys
//! (a CloudTrail `Records` file, an EventBridge event, a `lookup-events` page, a bare finding…)
//! and its records are handed to a [`Sink`] as raw slices with their location. Typed parsing
//! happens in the sink, so the same walk serves a full load and a pivot scan that only parses
//! candidate records.

use super::errors::IngestError;
use super::flow;
use super::limits::{MAX_RECORD_BYTES, too_large};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Finding,
    /// A finding from the CLI / boto3 `{"Findings":[...]}` shape, PascalCase keys.
    FindingPascal,
    Trail,
    Dns,
    /// A CloudTrail digest file (log file integrity validation): not an event, one per hour.
    Digest,
    /// A Security Hub finding in the AWS Security Finding Format (ASFF). Its list is the
    /// GuardDuty CLI's outer key too (`{"Findings":[…]}`): told apart by its own keys.
    Asff,
}

/// An ASFF finding has `ProductArn` and `AwsAccountId` (GuardDuty's PascalCase finding has
/// `Arn` and `AccountId`).
fn is_asff(raw: &str) -> bool {
    raw.contains("\"ProductArn\"") && raw.contains("\"AwsAccountId\"")
}

/// One record, not yet parsed.
pub struct Rec<'a> {
    pub kind: Kind,
    pub raw: &'a str,
    /// Offset of `raw` in the decompressed file; `None` when it was decoded from a JSON string.
    pub offset: Option<u64>,
    pub line: u64,
    pub index: Option<u64>,
    /// Whether `raw` is known to nest less deeply than [`super::limits::MAX_NESTING`]: a
    /// CloudTrail log file's records are, by the scan that split them
    /// ([`super::split::records_only`]), so their parse does not count brackets again.
    pub shallow: bool,
}

pub trait Sink {
    fn record(&mut self, path: &Arc<std::path::PathBuf>, rec: Rec<'_>);
    fn flow(
        &mut self,
        path: &Arc<std::path::PathBuf>,
        layout: &flow::Layout,
        line: &str,
        line_no: u64,
    );
    fn error(&mut self, err: IngestError);
}

/// The keys that identify a top-level object. Containers are borrowed raw, unparsed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct Top<'a> {
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    findings: Option<Vec<&'a RawValue>>,
    #[serde(rename = "Findings", borrow)]
    findings_pascal: Option<Vec<&'a RawValue>>,
    #[serde(rename = "Events", borrow)]
    lookup_events: Option<Vec<&'a RawValue>>,
    /// CloudWatch Logs: a subscription's payload (`{"messageType":…,"logEvents":[…]}`, what a
    /// subscription filter hands to Firehose, Lambda or Kinesis) …
    #[serde(rename = "logEvents", borrow)]
    log_events: Option<Vec<&'a RawValue>>,
    /// … and the CLI's `aws logs filter-log-events` / `get-log-events` output (`{"events":[…]}`).
    #[serde(borrow)]
    events: Option<Vec<&'a RawValue>>,
    /// … and CloudWatch Logs Insights results (`aws logs get-query-results`: `{"results":[[{"field",
    /// "value"}…]…]}`), whose `@message` is the record.
    #[serde(borrow)]
    results: Option<Vec<&'a RawValue>>,
    /// SNS: a notification as HTTP, email-json and SQS subscribers receive it
    /// (`{"Type":"Notification","TopicArn":…,"Message":"…"}`); its message is the record (an
    /// EventBridge event, as GuardDuty's findings reach a team's topic).
    #[serde(rename = "Message", borrow)]
    sns_message: Option<&'a RawValue>,
    #[serde(rename = "TopicArn")]
    topic_arn: Option<IgnoredAny>,
    /// SQS: `aws sqs receive-message` output (`{"Messages":[{"Body":"…"}]}`), each body a record
    /// (an EventBridge event, an SNS notification).
    #[serde(rename = "Messages", borrow)]
    sqs_messages: Option<&'a RawValue>,
    /// A subscription's `CONTROL_MESSAGE` checks that the destination is reachable: no records.
    #[serde(
        rename = "messageType",
        borrow,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    message_type: Option<Cow<'a, str>>,
    #[serde(
        rename = "detail-type",
        borrow,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    detail_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    detail: Option<&'a RawValue>,
    /// Panther rule tests wrap the event in `log`; MozDef fixtures in `mozdef_event`.
    #[serde(borrow)]
    log: Option<&'a RawValue>,
    #[serde(borrow)]
    mozdef_event: Option<&'a RawValue>,
    /// MozDef's own event: the finding under `details`, with `source: "guardduty"`.
    #[serde(borrow)]
    details: Option<&'a RawValue>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    source: Option<Cow<'a, str>>,
    #[serde(rename = "eventTime")]
    event_time: Option<IgnoredAny>,
    #[serde(rename = "eventName")]
    event_name: Option<IgnoredAny>,
    #[serde(rename = "eventSource")]
    event_source: Option<IgnoredAny>,
    #[serde(rename = "eventVersion")]
    event_version: Option<IgnoredAny>,
    #[serde(rename = "userIdentity")]
    user_identity: Option<IgnoredAny>,
    #[serde(rename = "schemaVersion")]
    schema_version: Option<IgnoredAny>,
    #[serde(rename = "type")]
    finding_type: Option<IgnoredAny>,
    resource: Option<IgnoredAny>,
    service: Option<IgnoredAny>,
    #[serde(rename = "SchemaVersion")]
    schema_version_p: Option<IgnoredAny>,
    #[serde(rename = "Type")]
    finding_type_p: Option<IgnoredAny>,
    #[serde(rename = "Resource")]
    resource_p: Option<IgnoredAny>,
    #[serde(rename = "Service")]
    service_p: Option<IgnoredAny>,
    query_name: Option<IgnoredAny>,
    #[serde(rename = "digestStartTime")]
    digest_start_time: Option<IgnoredAny>,
    #[serde(rename = "logFiles")]
    log_files: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct LookupEvent<'a> {
    #[serde(
        rename = "CloudTrailEvent",
        borrow,
        default,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    cloudtrail_event: Option<Cow<'a, str>>,
}

/// A CloudWatch Logs log event: the logged text, whatever was sent to the log group (a CloudTrail
/// record, a Route 53 Resolver query, a flow log line).
#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow, default, deserialize_with = "crate::ingest::lenient::opt_cow")]
    message: Option<Cow<'a, str>>,
}

/// The text an SNS message (`Message`) or an SQS message (`Body`, as `aws sqs receive-message`
/// prints it) carries.
#[derive(Deserialize)]
struct Carried<'a> {
    #[serde(
        rename = "Message",
        alias = "Body",
        borrow,
        default,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    text: Option<Cow<'a, str>>,
}

/// A record of a Lambda function's event from SNS (`Sns.Message`) or SQS (`body`): what an
/// incident-response function logs of what it was given.
#[derive(Deserialize)]
struct LambdaRecord<'a> {
    #[serde(
        rename = "EventSource",
        alias = "eventSource",
        borrow,
        default,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    source: Option<Cow<'a, str>>,
    #[serde(rename = "Sns", borrow, default)]
    sns: Option<Carried<'a>>,
    #[serde(borrow, default, deserialize_with = "crate::ingest::lenient::opt_cow")]
    body: Option<Cow<'a, str>>,
}

impl LambdaRecord<'_> {
    /// The message of an SNS or SQS record; `None` for anything else (a CloudTrail record).
    fn message(&self) -> Option<&str> {
        match self.source.as_deref() {
            Some("aws:sns") => self.sns.as_ref()?.text.as_deref(),
            Some("aws:sqs") => self.body.as_deref(),
            _ => None,
        }
    }
}

/// One field of a Logs Insights result row.
#[derive(Deserialize)]
struct ResultField<'a> {
    #[serde(borrow, default, deserialize_with = "crate::ingest::lenient::opt_cow")]
    field: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::ingest::lenient::opt_cow")]
    value: Option<Cow<'a, str>>,
}

const MAX_DEPTH: u8 = 4;

/// A list of records and what its elements are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum List {
    /// CloudTrail's `{"Records":[…]}`.
    Records,
    /// `{"findings":[…]}`.
    Findings,
    /// The CLI's `{"Findings":[…]}` (PascalCase).
    FindingsPascal,
    /// The CLI's `lookup-events` output, `{"Events":[…]}`.
    Events,
    /// CloudWatch Logs events (`logEvents` of a subscription, `events` of the CLI): each one's
    /// `message` is a record.
    LogEvents,
    /// Logs Insights result rows: each row's `@message` is a record.
    InsightsRows,
    /// A Lambda function's event from SNS or SQS (`{"Records":[{"EventSource":"aws:sns",…}]}`):
    /// each record's message is a record.
    LambdaRecords,
    /// `aws sqs receive-message` output: each message's body is a record.
    SqsMessages,
    /// A bare top-level array: each element is classified on its own.
    Bare,
}

impl List {
    /// The record list an object key names, if any.
    pub(super) fn of_key(key: &str) -> Option<List> {
        match key {
            "Records" => Some(List::Records),
            "findings" => Some(List::Findings),
            "Findings" => Some(List::FindingsPascal),
            "Events" => Some(List::Events),
            "logEvents" | "events" => Some(List::LogEvents),
            "results" => Some(List::InsightsRows),
            _ => None,
        }
    }
}

/// Where records are being read: the sink, the file, and how to turn a slice of the window's
/// buffer into a file offset and a line.
pub(super) struct Ctx<'s, 'b, S: Sink> {
    pub(super) sink: &'s mut S,
    pub(super) path: &'b Arc<std::path::PathBuf>,
    /// Start of the window buffer, to turn borrowed slices into file offsets.
    pub(super) buf_ptr: usize,
    pub(super) base: u64,
    pub(super) line: u64,
    /// The records being read were decoded from a JSON string (a CloudWatch Logs message): they
    /// are not a byte range of the file, and keep their text.
    pub(super) decoded: bool,
}

impl<'s, 'b, S: Sink> Ctx<'s, 'b, S> {
    /// A context for records read from `w`'s buffer (their offsets are its), starting on `line`.
    pub(super) fn over(
        sink: &'s mut S,
        path: &'b Arc<std::path::PathBuf>,
        w: &super::source::Window,
        line: u64,
    ) -> Self {
        Ctx {
            sink,
            path,
            buf_ptr: w.buf().as_ptr() as usize,
            base: w.base,
            line,
            decoded: false,
        }
    }
}

impl<S: Sink> Ctx<'_, '_, S> {
    fn offset_of(&self, s: &str) -> u64 {
        self.base + (s.as_ptr() as usize - self.buf_ptr) as u64
    }

    pub(super) fn err(&mut self, index: Option<u64>, reason: impl Into<String>) {
        self.sink
            .error(IngestError::record(self.path, self.line, index, reason));
    }

    /// Hands one record to the sink, unless it is beyond [`MAX_RECORD_BYTES`].
    fn emit(&mut self, kind: Kind, raw: &str, index: Option<u64>) {
        self.emit_as(kind, raw, index, false);
    }

    fn emit_as(&mut self, kind: Kind, raw: &str, index: Option<u64>, shallow: bool) {
        if raw.len() > MAX_RECORD_BYTES {
            return self.err(index, too_large());
        }
        let offset = (!self.decoded).then(|| self.offset_of(raw));
        self.sink.record(
            self.path,
            Rec {
                kind,
                raw,
                offset,
                line: self.line,
                index,
                shallow,
            },
        );
    }

    /// Emits the records of a CloudTrail log file found by [`records_only`].
    pub(super) fn records(&mut self, items: &[&str]) {
        let list = records_list(items.first().copied());
        for (i, r) in items.iter().enumerate() {
            match list {
                List::Records => self.emit_as(Kind::Trail, r, Some(i as u64), true),
                _ => self.list_item(list, r, i as u64, 0),
            }
        }
    }

    /// Emits element `i` of a record list found at envelope depth `depth`.
    pub(super) fn list_item(&mut self, list: List, raw: &str, i: u64, depth: u8) {
        match list {
            List::Records => self.emit(Kind::Trail, raw, Some(i)),
            List::Findings => self.emit(Kind::Finding, raw, Some(i)),
            List::FindingsPascal if is_asff(raw) => self.emit(Kind::Asff, raw, Some(i)),
            List::FindingsPascal => self.emit(Kind::FindingPascal, raw, Some(i)),
            List::Bare => self.value(raw, Some(i), depth + 1),
            List::Events => self.lookup_event(raw, i, depth),
            List::LogEvents => self.log_event(raw, i, depth),
            List::InsightsRows => self.insights_row(raw, i, depth),
            List::LambdaRecords => match serde_json::from_str::<LambdaRecord>(raw) {
                Ok(r) => match r.message() {
                    Some(m) => self.carried(m, Some(i), depth, "the SNS or SQS message"),
                    None => self.err(Some(i), "Lambda event record without an SNS or SQS message"),
                },
                Err(e) => self.err(Some(i), format!("invalid Lambda event record: {e}")),
            },
            List::SqsMessages => match serde_json::from_str::<Carried>(raw) {
                Ok(Carried { text: Some(b) }) => {
                    self.carried(&b, Some(i), depth, "the SQS message body")
                }
                Ok(_) => self.err(Some(i), "SQS message without a body"),
                Err(e) => self.err(Some(i), format!("invalid SQS message: {e}")),
            },
        }
    }

    /// A message carried by SNS or SQS, read as the JSON it holds (an EventBridge event, an SNS
    /// notification, a record); `what` names it when it holds something else.
    fn carried(&mut self, message: &str, index: Option<u64>, depth: u8, what: &str) {
        let text = message.trim();
        if text.len() > MAX_RECORD_BYTES {
            return self.err(index, too_large());
        }
        if !text.starts_with(['{', '[']) {
            return self.err(
                index,
                format!("{what} is not JSON (a finding, an event or a record)"),
            );
        }
        let was = std::mem::replace(&mut self.decoded, true);
        self.value(text, index, depth + 1);
        self.decoded = was;
    }

    /// One Logs Insights result row: its `@message` field is the record (a query that does not
    /// return it cannot be read back into records).
    fn insights_row(&mut self, raw: &str, i: u64, depth: u8) {
        match serde_json::from_str::<Vec<ResultField>>(raw) {
            Ok(fields) => match fields
                .into_iter()
                .find(|f| f.field.as_deref() == Some("@message"))
                .and_then(|f| f.value)
            {
                Some(m) => self.message(&m, i, depth),
                None => self.err(
                    Some(i),
                    "Logs Insights row without @message: the query must return @message",
                ),
            },
            Err(e) => self.err(Some(i), format!("invalid Logs Insights result row: {e}")),
        }
    }

    /// One CloudWatch Logs event: its `message` read as the record it holds — a JSON value
    /// (classified as any other), else a VPC flow log line in the default format (a log group
    /// has no header line to name another).
    fn log_event(&mut self, raw: &str, i: u64, depth: u8) {
        match serde_json::from_str::<LogEvent>(raw) {
            Ok(LogEvent { message: Some(m) }) => self.message(&m, i, depth),
            Ok(_) => self.err(Some(i), "CloudWatch Logs event without a message"),
            Err(e) => self.err(Some(i), format!("invalid CloudWatch Logs event: {e}")),
        }
    }

    /// A logged message read as the record it holds.
    fn message(&mut self, message: &str, i: u64, depth: u8) {
        let text = message.trim();
        if text.len() > MAX_RECORD_BYTES {
            return self.err(Some(i), too_large());
        }
        if text.starts_with('{') {
            let was = std::mem::replace(&mut self.decoded, true);
            self.value(text, Some(i), depth + 1);
            self.decoded = was;
        } else {
            // Built once: a log group of flow logs is a message per line.
            static DEFAULT: std::sync::LazyLock<flow::Layout> =
                std::sync::LazyLock::new(flow::Layout::default_v2);
            self.sink.flow(self.path, &DEFAULT, text, self.line);
        }
    }

    /// The `detail` of a Security Hub EventBridge event: its `findings`, ASFF each.
    fn security_hub_detail(&mut self, raw: &str, index: Option<u64>) {
        #[derive(Deserialize)]
        struct Detail<'a> {
            #[serde(borrow, default)]
            findings: Vec<&'a RawValue>,
        }
        match serde_json::from_str::<Detail>(raw) {
            Ok(d) if d.findings.is_empty() => {
                self.err(index, "Security Hub event without findings")
            }
            Ok(d) => {
                for f in d.findings {
                    self.emit(Kind::Asff, f.get(), index);
                }
            }
            Err(e) => self.err(index, format!("invalid Security Hub event: {e}")),
        }
    }

    /// One `lookup-events` entry: it nests the record as a JSON string; Insights lookups inline it.
    fn lookup_event(&mut self, raw: &str, i: u64, depth: u8) {
        match serde_json::from_str::<LookupEvent>(raw) {
            Ok(LookupEvent {
                cloudtrail_event: Some(s),
            }) if s.len() > MAX_RECORD_BYTES => self.err(Some(i), too_large()),
            Ok(LookupEvent {
                cloudtrail_event: Some(s),
            }) => self.sink.record(
                self.path,
                Rec {
                    kind: Kind::Trail,
                    raw: &s,
                    offset: None,
                    line: self.line,
                    index: Some(i),
                    shallow: false,
                },
            ),
            Ok(_) => self.value(raw, Some(i), depth + 1),
            Err(e) => self.err(Some(i), format!("invalid lookup-events entry: {e}")),
        }
    }

    /// Classifies one JSON value (an object expected) and emits its records.
    pub(super) fn value(&mut self, raw: &str, index: Option<u64>, depth: u8) {
        if depth > MAX_DEPTH {
            return self.err(index, "envelopes nested too deeply");
        }
        let first = raw.as_bytes().first().copied();
        if first == Some(b'[') {
            match serde_json::from_str::<Vec<&RawValue>>(raw) {
                Ok(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.list_item(List::Bare, item.get(), i as u64, depth);
                    }
                }
                Err(e) => self.err(index, format!("invalid JSON array: {e}")),
            }
            return;
        }
        if first != Some(b'{') {
            return self.err(
                index,
                "expected a JSON object (a finding, CloudTrail record or Resolver query)",
            );
        }
        let top: Top = match serde_json::from_str(raw) {
            Ok(t) => t,
            Err(e) => return self.err(index, format!("invalid JSON: {e}")),
        };
        self.classify(raw, top, index, depth)
    }

    /// Emits the records of an object whose identifying keys are `top`.
    pub(super) fn classify(&mut self, raw: &str, top: Top<'_>, index: Option<u64>, depth: u8) {
        if top.message_type.as_deref() == Some("CONTROL_MESSAGE") {
            return;
        }
        // `events` and `results` are common words: such a list is CloudWatch Logs' only when its
        // first element has the shape of one (a message; a row of fields). Otherwise the object
        // is classified by its other keys, and reported once as what it is.
        let looks_like = |list: List, items: &[&RawValue]| match (list, items.first()) {
            (List::LogEvents, Some(first)) => matches!(
                serde_json::from_str::<LogEvent>(first.get()),
                Ok(LogEvent { message: Some(_) })
            ),
            (List::InsightsRows, Some(first)) => {
                serde_json::from_str::<Vec<ResultField>>(first.get())
                    .is_ok_and(|row| row.iter().any(|f| f.field.is_some()))
            }
            _ => true,
        };
        let list = [
            (List::Records, &top.records, false),
            (List::Findings, &top.findings, false),
            (List::FindingsPascal, &top.findings_pascal, false),
            (List::Events, &top.lookup_events, false),
            (List::LogEvents, &top.log_events, false),
            (List::LogEvents, &top.events, true),
            (List::InsightsRows, &top.results, true),
        ]
        .into_iter()
        .filter_map(|(list, items, ambiguous)| Some((list, items.as_ref()?, ambiguous)))
        .find(|(list, items, ambiguous)| !ambiguous || looks_like(*list, items))
        .map(|(list, items, _)| match list {
            List::Records => (records_list(items.first().map(|r| r.get())), items),
            _ => (list, items),
        });
        if let Some((list, items)) = list {
            for (i, r) in items.iter().enumerate() {
                self.list_item(list, r.get(), i as u64, depth);
            }
        } else if let (Some(message), Some(_)) = (top.sns_message, &top.topic_arn) {
            match serde_json::from_str::<Cow<str>>(message.get()) {
                Ok(m) => self.carried(&m, index, depth, "the SNS message"),
                Err(_) => self.err(index, "SNS notification whose Message is not text"),
            }
        } else if let Some(messages) = top.sqs_messages {
            match serde_json::from_str::<Vec<&RawValue>>(messages.get()) {
                Ok(items) => {
                    for (i, m) in items.iter().enumerate() {
                        self.list_item(List::SqsMessages, m.get(), i as u64, depth);
                    }
                }
                Err(e) => self.err(index, format!("invalid SQS Messages list: {e}")),
            }
        } else if let Some(detail) = top.detail {
            match top.detail_type.as_deref() {
                Some("GuardDuty Finding") => self.emit(Kind::Finding, detail.get(), index),
                // Security Hub's EventBridge events: `detail.findings[]`, each an ASFF finding.
                Some(t) if t.starts_with("Security Hub Findings") => {
                    self.security_hub_detail(detail.get(), index)
                }
                Some(t) if t.contains("CloudTrail") => self.emit(Kind::Trail, detail.get(), index),
                Some(t) => self.err(index, format!("unsupported EventBridge detail-type `{t}`")),
                // A truncated envelope (only `detail`): classify what it holds.
                None => self.value(detail.get(), index, depth + 1),
            }
        } else if let Some(inner) = top.log.or(top.mozdef_event) {
            self.value(inner.get(), index, depth + 1)
        } else if let (Some(details), Some("guardduty")) = (top.details, top.source.as_deref()) {
            self.emit(Kind::Finding, details.get(), index)
        } else if top.event_time.is_some()
            || top.event_name.is_some()
            || top.event_source.is_some()
            || top.event_version.is_some()
            || top.user_identity.is_some()
        {
            self.emit(Kind::Trail, raw, index)
        } else if top.schema_version.is_some()
            || (top.finding_type.is_some() && (top.resource.is_some() || top.service.is_some()))
        {
            self.emit(Kind::Finding, raw, index)
        } else if top.schema_version_p.is_some() && is_asff(raw) {
            self.emit(Kind::Asff, raw, index)
        } else if top.schema_version_p.is_some()
            || (top.finding_type_p.is_some()
                && (top.resource_p.is_some() || top.service_p.is_some()))
        {
            self.emit(Kind::FindingPascal, raw, index)
        } else if top.query_name.is_some() {
            self.emit(Kind::Dns, raw, index)
        } else if top.digest_start_time.is_some() && top.log_files.is_some() {
            self.emit(Kind::Digest, raw, index)
        } else {
            self.err(
                index,
                "unrecognised record: not a GuardDuty finding, CloudTrail event or Route 53 Resolver query",
            )
        }
    }
}

/// What a `Records` list whose first element is `first` holds: CloudTrail's records, or a Lambda
/// function's event from SNS or SQS, which shares the key. Told apart by the first record, once
/// per list (a batch is of one source).
fn records_list(first: Option<&str>) -> List {
    match first {
        Some(first)
            if serde_json::from_str::<LambdaRecord>(first).is_ok_and(|r| r.message().is_some()) =>
        {
            List::LambdaRecords
        }
        _ => List::Records,
    }
}

pub(super) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// A top-level object at the start of `slice`, parsed straight into its identifying keys, and its
/// text. `None` for anything else (an array, a value that is incomplete in the buffer, malformed
/// JSON): the caller then takes the general path, which reports exactly as before. The result is
/// what that path would give: the same grammar, and the same UTF-8 check `RawValue` makes.
pub(super) fn parse_top(slice: &[u8]) -> Option<(Top<'_>, &str)> {
    if slice.first() != Some(&b'{') {
        return None;
    }
    let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<Top>();
    let top = stream.next()?.ok()?;
    let raw = std::str::from_utf8(slice.get(..stream.byte_offset())?).ok()?;
    Some((top, raw))
}
