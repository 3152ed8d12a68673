//! A pivot as one Athena query over the CloudTrail table AWS documents for Athena (lower-case
//! columns, `useridentity` a struct; partition projection on `region` and `timestamp`, the day as
//! `yyyy/MM/dd`): the SQL for an entity over a window, with the partition column bounding the
//! days scanned, and the record rebuilt from a result row. The value is always an escaped
//! literal. Pure.

use super::lake::{Dialect, condition};
use super::window::Window;
use crate::model::{EntityId, Ts};

/// What a pivot selects: (column, alias); the aliases are [`super::lake::record`]'s.
pub const COLUMNS: [(&str, &str); 16] = [
    ("eventid", "event_id"),
    ("eventtime", "event_time"),
    ("eventname", "event_name"),
    ("eventsource", "event_source"),
    ("awsregion", "aws_region"),
    ("sourceipaddress", "source_ip"),
    ("useragent", "user_agent"),
    ("errorcode", "error_code"),
    ("recipientaccountid", "recipient_account"),
    ("useridentity.type", "ui_type"),
    ("useridentity.arn", "ui_arn"),
    ("useridentity.accountid", "ui_account"),
    ("useridentity.accesskeyid", "ui_key"),
    ("useridentity.username", "ui_user"),
    ("useridentity.principalid", "ui_principal"),
    ("useridentity.sessioncontext.sessionissuer.arn", "ui_issuer"),
];

/// Athena's price: $5 per TB scanned.
pub const USD_PER_TB: f64 = 5.0;

/// `db.table` or `table`: letters, digits, underscores (Athena's identifiers), checked.
pub fn table_name(text: &str) -> Result<String, &'static str> {
    let ok = !text.is_empty()
        && text.split('.').count() <= 2
        && text
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    ok.then(|| text.to_string())
        .ok_or("an Athena table is [database.]table: letters, digits, underscores")
}

/// The table's column names.
const ATHENA: Dialect = Dialect {
    source_ip: "sourceipaddress",
    key: "useridentity.accesskeyid",
    arn: "useridentity.arn",
    identity_type: "useridentity.type",
    identity_account: "useridentity.accountid",
    issuer: "useridentity.sessioncontext.sessionissuer.arn",
    recipient: "recipientaccountid",
    user_agent: "useragent",
    principal_id: "useridentity.principalid",
};

fn day(t: Ts) -> String {
    let s = t.to_rfc3339_secs();
    format!("{}/{}/{}", &s[0..4], &s[5..7], &s[8..10])
}

/// The query for `e`'s events in `w` from `table`, oldest first. The window bounds the
/// `timestamp` partition (days) as well as `eventtime`, so Athena reads only those days.
pub fn query(table: &str, e: &EntityId, w: Window) -> Result<String, &'static str> {
    let table = table_name(table)?;
    let cols: Vec<String> = COLUMNS.iter().map(|(c, a)| format!("{c} AS {a}")).collect();
    let mut filter = condition(e, &ATHENA)?;
    if let Some(f) = w.from {
        filter.push_str(&format!(
            " AND \"timestamp\" >= '{}' AND eventtime >= '{}'",
            day(f),
            f.to_rfc3339_secs()
        ));
    }
    if let Some(t) = w.to {
        filter.push_str(&format!(
            " AND \"timestamp\" <= '{}' AND eventtime < '{}'",
            day(Ts(t.0 + 86_400_000)),
            t.to_rfc3339_secs()
        ));
    }
    Ok(format!(
        "SELECT {} FROM {table} WHERE {filter} ORDER BY eventtime, eventid",
        cols.join(", ")
    ))
}

/// The columns of the VPC flow logs table AWS documents for Athena, in the flow log's own
/// (version 2) field order: a row printed with spaces is a flow log line.
pub const FLOW_COLUMNS: [&str; 14] = [
    "version",
    "account_id",
    "interface_id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "\"end\"",
    "action",
    "log_status",
];

/// Who talked to address `e` within `w`, from the VPC flow logs table: every record with it as
/// source or destination, oldest first (`start` and `end` are epoch seconds in that table).
pub fn flows_query(table: &str, e: &EntityId, w: Window) -> Result<String, &'static str> {
    let table = table_name(table)?;
    if e.kind != crate::model::EntityKind::Ip {
        return Err("flow logs name addresses: give ip:ADDRESS (an instance's, or its peer's)");
    }
    let v = super::lake::literal(&e.value)?;
    let mut filter = format!("(srcaddr = {v} OR dstaddr = {v})");
    if let Some(f) = w.from {
        filter.push_str(&format!(" AND start >= {}", f.0.div_euclid(1000)));
    }
    if let Some(t) = w.to {
        filter.push_str(&format!(" AND start < {}", t.0.div_euclid(1000)));
    }
    Ok(format!(
        "SELECT {} FROM {table} WHERE {filter} ORDER BY start",
        FLOW_COLUMNS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_bounds_the_partitions() {
        let w = Window {
            from: Ts::parse("2024-05-01T10:00:00Z"),
            to: Ts::parse("2024-05-02T00:00:00Z"),
        };
        let ip = EntityId::new(crate::model::EntityKind::Ip, "203.0.113.7");
        let sql = query("cloudtrail_logs.trail", &ip, w).unwrap();
        assert!(
            sql.ends_with("FROM cloudtrail_logs.trail WHERE sourceipaddress = '203.0.113.7' AND \"timestamp\" >= '2024/05/01' AND eventtime >= '2024-05-01T10:00:00Z' AND \"timestamp\" <= '2024/05/03' AND eventtime < '2024-05-02T00:00:00Z' ORDER BY eventtime, eventid"),
            "{sql}"
        );
        assert!(table_name("x; drop").is_err());
        let sql = flows_query("vpc_flow_logs", &ip, w).unwrap();
        assert!(
            sql.ends_with("FROM vpc_flow_logs WHERE (srcaddr = '203.0.113.7' OR dstaddr = '203.0.113.7') AND start >= 1714557600 AND start < 1714608000 ORDER BY start"),
            "{sql}"
        );
        assert!(
            flows_query(
                "t",
                &EntityId::new(crate::model::EntityKind::Instance, "i-1"),
                w
            )
            .is_err()
        );
    }
}
