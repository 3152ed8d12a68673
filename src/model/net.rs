//! Network evidence: VPC flow log records and Route 53 Resolver queries.

use super::origin::Origin;
use super::time::Ts;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FlowRecord {
    pub version: Option<u8>,
    pub account_id: Option<String>,
    pub interface_id: Option<String>,
    pub instance_id: Option<String>,
    pub vpc_id: Option<String>,
    pub srcaddr: Option<String>,
    pub dstaddr: Option<String>,
    pub srcport: Option<u32>,
    pub dstport: Option<u32>,
    pub protocol: Option<u8>,
    pub packets: u64,
    pub bytes: u64,
    pub start: Option<Ts>,
    pub end: Option<Ts>,
    pub action: Option<String>,
    pub log_status: Option<String>,
    pub flow_direction: Option<String>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DnsQuery {
    pub time: Option<Ts>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub vpc_id: Option<String>,
    /// Canonical: lower case, trailing dot removed.
    pub query_name: String,
    pub query_type: Option<String>,
    pub rcode: Option<String>,
    pub answers: Vec<String>,
    pub srcaddr: Option<String>,
    pub instance_id: Option<String>,
    pub firewall_action: Option<String>,
    pub origin: Origin,
}
