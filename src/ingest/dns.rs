//! Route 53 Resolver query logs: snake_case records with PascalCase `answers`, a string `srcport`,
//! names with their trailing dot, and `answers` sometimes a single object.

use super::lenient;
use crate::model::entity;
use crate::model::time::{BadTime, TimeField};
use crate::model::{DnsQuery, Origin};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct WireQuery {
    query_timestamp: TimeField,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    account_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    region: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    vpc_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    query_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    query_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    rcode: Option<String>,
    #[serde(deserialize_with = "lenient::vec_or_one")]
    answers: Vec<Answer>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    srcaddr: Option<String>,
    srcids: Option<SrcIds>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    firewall_rule_action: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Answer {
    #[serde(
        rename = "Rdata",
        alias = "rdata",
        deserialize_with = "lenient::opt_nonempty"
    )]
    rdata: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SrcIds {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    instance: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("Route 53 Resolver record has no query_name")]
    NoName,
    #[error(transparent)]
    BadTime(#[from] BadTime),
}

impl WireQuery {
    pub(crate) fn into_query(self, origin: Origin) -> Result<DnsQuery, QueryError> {
        let name = self.query_name.ok_or(QueryError::NoName)?;
        let time = self.query_timestamp.checked("query_timestamp")?;
        Ok(DnsQuery {
            time,
            account_id: self.account_id,
            region: self.region,
            vpc_id: self.vpc_id,
            query_name: entity::canonical_domain(&name),
            query_type: self.query_type,
            rcode: self.rcode,
            answers: self.answers.into_iter().filter_map(|a| a.rdata).collect(),
            srcaddr: self.srcaddr.map(|s| entity::canonical_ip(&s).unwrap_or(s)),
            instance_id: self.srcids.and_then(|s| s.instance),
            firewall_action: self.firewall_rule_action,
            origin,
        })
    }
}
