//! A pivot as one CloudTrail Lake query: the SQL for an entity over a window (the entity's value
//! always a quoted, escaped literal — never pasted), the columns it selects, and the CloudTrail
//! record rebuilt from a result row so the same ingest reads it. Pure.

use super::window::Window;
use crate::model::entity;
use crate::model::{EntityId, EntityKind, Ts};
use std::collections::HashMap;

/// What a pivot selects: (Lake column, alias). The alias names the record field it rebuilds.
pub const COLUMNS: [(&str, &str); 16] = [
    ("eventID", "event_id"),
    ("eventTime", "event_time"),
    ("eventName", "event_name"),
    ("eventSource", "event_source"),
    ("awsRegion", "aws_region"),
    ("sourceIPAddress", "source_ip"),
    ("userAgent", "user_agent"),
    ("errorCode", "error_code"),
    ("recipientAccountId", "recipient_account"),
    ("userIdentity.type", "ui_type"),
    ("userIdentity.arn", "ui_arn"),
    ("userIdentity.accountId", "ui_account"),
    ("userIdentity.accessKeyId", "ui_key"),
    ("userIdentity.userName", "ui_user"),
    ("userIdentity.principalId", "ui_principal"),
    ("userIdentity.sessionContext.sessionIssuer.arn", "ui_issuer"),
];

/// Lake's price per byte scanned, for the estimate shown ($0.005 per GB, CloudTrail pricing).
pub const USD_PER_GB: f64 = 0.005;

/// A SQL string literal: quotes doubled; control characters refused (no value of an entity has
/// them, and they have no business in a query).
pub fn literal(v: &str) -> Result<String, &'static str> {
    if v.chars().any(char::is_control) {
        return Err("a control character in the value: not put in a query");
    }
    Ok(format!("'{}'", v.replace('\'', "''")))
}

/// The event data store's id from an id or an ARN (`…:eventdatastore/ID`), checked to be one.
pub fn store_id(text: &str) -> Result<String, &'static str> {
    let id = text.rsplit('/').next().unwrap_or(text);
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| id.to_string())
        .ok_or("an event data store is given by its id or ARN (letters, digits, dashes)")
}

/// Lake's `eventTime` text for an instant: `YYYY-MM-DD HH:MM:SS`.
fn lake_time(t: Ts) -> String {
    t.to_rfc3339_secs()
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

/// The columns a pivot's condition names, as an engine spells them (Lake keeps CloudTrail's
/// camel case; the Athena table AWS documents is lower case).
pub struct Dialect {
    pub source_ip: &'static str,
    pub key: &'static str,
    pub arn: &'static str,
    pub identity_type: &'static str,
    pub identity_account: &'static str,
    pub issuer: &'static str,
    pub recipient: &'static str,
    pub user_agent: &'static str,
    pub principal_id: &'static str,
}

pub const LAKE: Dialect = Dialect {
    source_ip: "sourceIPAddress",
    key: "userIdentity.accessKeyId",
    arn: "userIdentity.arn",
    identity_type: "userIdentity.type",
    identity_account: "userIdentity.accountId",
    issuer: "userIdentity.sessionContext.sessionIssuer.arn",
    recipient: "recipientAccountId",
    user_agent: "userAgent",
    principal_id: "userIdentity.principalId",
};

/// The condition that finds `e`'s events in `d`'s columns, or why they cannot.
pub fn condition(e: &EntityId, d: &Dialect) -> Result<String, &'static str> {
    let v = literal(&e.value)?;
    Ok(match e.kind {
        EntityKind::Ip => format!("{} = {v}", d.source_ip),
        EntityKind::Key => format!("{} = {v}", d.key),
        EntityKind::User if e.value.ends_with(":root") => {
            let account = e.value.split(':').nth(4).unwrap_or_default();
            format!(
                "{} = 'Root' AND {} = {}",
                d.identity_type,
                d.identity_account,
                literal(account)?
            )
        }
        EntityKind::User | EntityKind::Session => format!("{} = {v}", d.arn),
        EntityKind::Role => format!("{} = {v}", d.issuer),
        // An unauthenticated caller: each spelling CloudTrail has logged it with.
        EntityKind::Account if e.value == entity::ANONYMOUS => {
            let spellings = entity::ANONYMOUS_SPELLINGS
                .iter()
                .map(|s| literal(s))
                .collect::<Result<Vec<_>, _>>()?;
            format!("{} IN ({})", d.identity_account, spellings.join(", "))
        }
        EntityKind::Account => {
            format!("({} = {v} OR {} = {v})", d.recipient, d.identity_account)
        }
        EntityKind::Ua => format!("{} = {v}", d.user_agent),
        // An instance acts through its role's sessions, named after it.
        EntityKind::Instance => format!(
            "{} LIKE {}",
            d.principal_id,
            literal(&format!("%:{}", e.value))?
        ),
        _ => return Err("CloudTrail's columns do not name this kind of entity"),
    })
}

/// The query for `e`'s events in `w` from event data store `store`, oldest first.
pub fn query(store: &str, e: &EntityId, w: Window) -> Result<String, &'static str> {
    let store = store_id(store)?;
    let cols: Vec<String> = COLUMNS.iter().map(|(c, a)| format!("{c} AS {a}")).collect();
    let mut filter = condition(e, &LAKE)?;
    if let Some(f) = w.from {
        filter.push_str(&format!(" AND eventTime >= '{}'", lake_time(f)));
    }
    if let Some(t) = w.to {
        filter.push_str(&format!(" AND eventTime < '{}'", lake_time(t)));
    }
    Ok(format!(
        "SELECT {} FROM {store} WHERE {filter} ORDER BY eventTime, eventID",
        cols.join(", ")
    ))
}

/// A CloudTrail record rebuilt from one result row (each cell a `{alias: value}` map): the
/// fields the pivot selected, in the record's own shape.
pub fn record(row: &[HashMap<String, String>]) -> serde_json::Value {
    let cell = |alias: &str| {
        row.iter()
            .find_map(|c| c.get(alias))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let mut ui = serde_json::Map::new();
    for (alias, field) in [
        ("ui_type", "type"),
        ("ui_arn", "arn"),
        ("ui_account", "accountId"),
        ("ui_key", "accessKeyId"),
        ("ui_user", "userName"),
        ("ui_principal", "principalId"),
    ] {
        if let Some(v) = cell(alias) {
            ui.insert(field.into(), v.into());
        }
    }
    if let Some(issuer) = cell("ui_issuer") {
        ui.insert(
            "sessionContext".into(),
            serde_json::json!({ "sessionIssuer": { "type": "Role", "arn": issuer } }),
        );
    }
    let mut rec = serde_json::Map::new();
    rec.insert("eventVersion".into(), "1.08".into());
    rec.insert("userIdentity".into(), serde_json::Value::Object(ui));
    for (alias, field) in [
        ("event_id", "eventID"),
        ("event_name", "eventName"),
        ("event_source", "eventSource"),
        ("aws_region", "awsRegion"),
        ("source_ip", "sourceIPAddress"),
        ("user_agent", "userAgent"),
        ("error_code", "errorCode"),
        ("recipient_account", "recipientAccountId"),
    ] {
        if let Some(v) = cell(alias) {
            rec.insert(field.into(), v.into());
        }
    }
    // Lake's `2024-05-01 12:00:00(.000)` → the record's `2024-05-01T12:00:00Z`.
    if let Some(t) = cell("event_time") {
        let t = t.replacen(' ', "T", 1);
        let t = if t.ends_with('Z') { t } else { format!("{t}Z") };
        rec.insert("eventTime".into(), t.into());
    }
    serde_json::Value::Object(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_never_pasted() {
        let e = EntityId::new(EntityKind::Ua, "x' OR '1'='1");
        let sql = query("eds-1234", &e, Window::all()).unwrap();
        assert!(sql.contains("userAgent = 'x'' OR ''1''=''1'"), "{sql}");
        assert!(literal("a\nb").is_err());
        assert!(store_id("x; DROP TABLE").is_err());
        assert_eq!(
            store_id(
                "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1"
            )
            .unwrap(),
            "EXAMPLE-f852-4e8f-8bd1"
        );
        let w = Window {
            from: Ts::parse("2024-05-01T00:00:00Z"),
            to: Ts::parse("2024-05-02T00:00:00Z"),
        };
        let ip = EntityId::new(EntityKind::Ip, "203.0.113.7");
        let sql = query("eds", &ip, w).unwrap();
        assert!(
            sql.ends_with("WHERE sourceIPAddress = '203.0.113.7' AND eventTime >= '2024-05-01 00:00:00' AND eventTime < '2024-05-02 00:00:00' ORDER BY eventTime, eventID"),
            "{sql}"
        );
    }

    #[test]
    fn the_anonymous_account_is_asked_for_by_each_spelling() {
        let e = EntityId::parse("account:ANONYMOUS_PRINCIPAL").unwrap();
        let sql = query("eds", &e, Window::all()).unwrap();
        assert!(
            sql.contains("WHERE userIdentity.accountId IN ('anonymous', 'ANONYMOUS_PRINCIPAL')"),
            "{sql}"
        );
    }

    #[test]
    fn a_row_becomes_a_record() {
        let row: Vec<HashMap<String, String>> = [
            ("event_id", "e1"),
            ("event_time", "2024-05-01 12:00:00.000"),
            ("event_name", "GetCallerIdentity"),
            ("ui_arn", "arn:aws:iam::123456789012:user/alice"),
            ("ui_type", "IAMUser"),
            ("error_code", ""),
        ]
        .iter()
        .map(|(k, v)| HashMap::from([(k.to_string(), v.to_string())]))
        .collect();
        let r = record(&row);
        assert_eq!(r["eventTime"], "2024-05-01T12:00:00.000Z");
        assert_eq!(
            r["userIdentity"]["arn"],
            "arn:aws:iam::123456789012:user/alice"
        );
        assert!(r.get("errorCode").is_none());
    }
}
