//! VPC flow logs in any version 2–5 layout. S3 delivery writes the field list as the first line;
//! without it (CloudWatch Logs export) the default version 2 layout is assumed. Fields are split on
//! runs of whitespace, `-` means missing.

use crate::model::entity;
use crate::model::{FlowRecord, Origin, Ts};

/// The default (version 2) layout.
pub const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// The field names versions 3–5 add to the default ones, for recognising a header line.
const EXTRA_FIELDS: &[&str] = &[
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
    "resource-id",
    "encryption-status",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Version,
    Account,
    Interface,
    Src,
    Dst,
    SrcPort,
    DstPort,
    Protocol,
    Packets,
    Bytes,
    Start,
    End,
    Action,
    Status,
    Vpc,
    Instance,
    Direction,
    Other,
}

fn field_of(name: &str) -> Field {
    match name {
        "version" => Field::Version,
        "account-id" => Field::Account,
        "interface-id" => Field::Interface,
        "srcaddr" => Field::Src,
        "dstaddr" => Field::Dst,
        "srcport" => Field::SrcPort,
        "dstport" => Field::DstPort,
        "protocol" => Field::Protocol,
        "packets" => Field::Packets,
        "bytes" => Field::Bytes,
        "start" => Field::Start,
        "end" => Field::End,
        "action" => Field::Action,
        "log-status" => Field::Status,
        "vpc-id" => Field::Vpc,
        "instance-id" => Field::Instance,
        "flow-direction" => Field::Direction,
        _ => Field::Other,
    }
}

/// A layout parsed from a header line, or the default.
#[derive(Debug, Clone)]
pub struct Layout {
    fields: Vec<Field>,
}

impl Layout {
    pub fn default_v2() -> Layout {
        Layout {
            fields: DEFAULT_FIELDS.iter().map(|f| field_of(f)).collect(),
        }
    }

    /// `Some` when every token of the line is a known flow-log field name.
    pub fn from_header(line: &str) -> Option<Layout> {
        let names: Vec<&str> = line.split_ascii_whitespace().collect();
        (names.len() >= 3
            && names
                .iter()
                .all(|n| DEFAULT_FIELDS.contains(n) || EXTRA_FIELDS.contains(n)))
        .then(|| Layout {
            fields: names.iter().map(|n| field_of(n)).collect(),
        })
    }
}

/// Whether a first line looks like a flow log: a header, or a default-layout record.
pub fn looks_like_flow_log(first_line: &str) -> bool {
    if Layout::from_header(first_line).is_some() {
        return true;
    }
    let toks: Vec<&str> = first_line.split_ascii_whitespace().collect();
    toks.len() == DEFAULT_FIELDS.len() && matches!(toks[0], "2" | "3" | "4" | "5")
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FlowError {
    #[error("flow log record has {got} fields, the layout has {want}")]
    FieldCount { got: usize, want: usize },
    #[error("flow log field `{field}` has an invalid value `{value}`")]
    BadValue { field: &'static str, value: String },
}

fn opt(tok: &str) -> Option<&str> {
    (tok != "-").then_some(tok)
}

fn num<T: std::str::FromStr>(tok: &str, field: &'static str) -> Result<Option<T>, FlowError> {
    match opt(tok) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| FlowError::BadValue {
            field,
            value: t.chars().take(40).collect(),
        }),
    }
}

/// Epoch seconds; one beyond any real instant (`99999999999999999`) is a bad value, where
/// multiplying it into milliseconds used to overflow (a panic in a debug build).
fn epoch(tok: &str, field: &'static str) -> Result<Option<Ts>, FlowError> {
    match num::<i64>(tok, field)? {
        None => Ok(None),
        Some(s) => Ts::from_epoch_secs(s).map(Some).ok_or(FlowError::BadValue {
            field,
            value: tok.chars().take(40).collect(),
        }),
    }
}

pub fn parse_line(layout: &Layout, line: &str, origin: Origin) -> Result<FlowRecord, FlowError> {
    let toks: Vec<&str> = line.split_ascii_whitespace().collect();
    if toks.len() != layout.fields.len() {
        return Err(FlowError::FieldCount {
            got: toks.len(),
            want: layout.fields.len(),
        });
    }
    let mut r = FlowRecord {
        version: None,
        account_id: None,
        interface_id: None,
        instance_id: None,
        vpc_id: None,
        srcaddr: None,
        dstaddr: None,
        srcport: None,
        dstport: None,
        protocol: None,
        packets: 0,
        bytes: 0,
        start: None,
        end: None,
        action: None,
        log_status: None,
        flow_direction: None,
        origin,
    };
    let s = |t: &str| opt(t).map(str::to_string);
    let addr = |t: &str| opt(t).map(|a| entity::canonical_ip(a).unwrap_or_else(|| a.to_string()));
    for (f, t) in layout.fields.iter().zip(toks) {
        match f {
            Field::Version => r.version = num(t, "version")?,
            Field::Account => r.account_id = s(t),
            Field::Interface => r.interface_id = s(t),
            Field::Src => r.srcaddr = addr(t),
            Field::Dst => r.dstaddr = addr(t),
            Field::SrcPort => r.srcport = num(t, "srcport")?,
            Field::DstPort => r.dstport = num(t, "dstport")?,
            Field::Protocol => r.protocol = num(t, "protocol")?,
            Field::Packets => r.packets = num(t, "packets")?.unwrap_or(0),
            Field::Bytes => r.bytes = num(t, "bytes")?.unwrap_or(0),
            Field::Start => r.start = epoch(t, "start")?,
            Field::End => r.end = epoch(t, "end")?,
            Field::Action => r.action = s(t),
            Field::Status => r.log_status = s(t),
            Field::Vpc => r.vpc_id = s(t),
            Field::Instance => r.instance_id = s(t),
            Field::Direction => r.flow_direction = s(t),
            Field::Other => {}
        }
    }
    Ok(r)
}
