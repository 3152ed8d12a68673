//! CloudTrail Insights events: one detection per insight, its Start and End joined.

use crate::model::arn::classify_identifier;
use crate::model::{Detection, EntityId, EntityKind, Ts};
use std::collections::BTreeSet;

/// A CloudTrail Insights event, as the CloudTrail User Guide documents it: no caller of its own,
/// the API and the unusual rate under `insightDetails`.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct InsightRecord {
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(rename = "sharedEventID")]
    shared_event_id: String,
    recipient_account_id: Option<String>,
    /// Read leniently: a record's region is a label here, not a reason to lose the insight.
    #[serde(deserialize_with = "crate::ingest::lenient::opt_nonempty")]
    aws_region: Option<String>,
    insight_details: InsightDetails,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InsightDetails {
    state: String,
    event_source: String,
    event_name: String,
    insight_type: String,
    insight_context: InsightContext,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct InsightContext {
    statistics: InsightStatistics,
    attributions: Vec<Attribution>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct InsightStatistics {
    baseline: Average,
    insight: Average,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Average {
    average: f64,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Attribution {
    attribute: String,
    insight: Vec<AttributionValue>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct AttributionValue {
    value: String,
}

pub(super) struct InsightEvent {
    pub(super) time: Ts,
    pub(super) record: InsightRecord,
}

/// One detection per insight (its Start and End events share `sharedEventID`): "AttachRolePolicy
/// call rate 12× baseline", with the principals and user agents CloudTrail attributes it to.
pub(super) fn insight_detections(mut insights: Vec<InsightEvent>) -> Vec<Detection> {
    insights.sort_by(|a, b| {
        (&a.record.shared_event_id, a.time).cmp(&(&b.record.shared_event_id, b.time))
    });
    let mut out: Vec<Detection> = Vec::new();
    for chunk in insights.chunk_by(|a, b| {
        !a.record.shared_event_id.is_empty() && a.record.shared_event_id == b.record.shared_event_id
    }) {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        let d = &first.record.insight_details;
        let stats = chunk
            .iter()
            .map(|i| &i.record.insight_details.insight_context.statistics)
            .find(|s| s.insight.average > 0.0)
            .unwrap_or(&d.insight_context.statistics);
        let what = if d.insight_type == "ApiErrorRateInsight" {
            "error rate"
        } else {
            "call rate"
        };
        let ratio = if stats.baseline.average > 0.0 {
            format!(
                "{:.0}× baseline",
                stats.insight.average / stats.baseline.average
            )
        } else {
            "above a zero baseline".to_string()
        };
        let mut entities: BTreeSet<EntityId> = BTreeSet::new();
        for i in chunk {
            let r = &i.record;
            entities.extend(
                r.recipient_account_id
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .map(|a| EntityId::new(EntityKind::Account, a)),
            );
            for a in &r.insight_details.insight_context.attributions {
                for v in &a.insight {
                    match a.attribute.as_str() {
                        "userIdentityArn" => entities.extend(classify_identifier(&v.value)),
                        "userAgent" if !v.value.is_empty() => {
                            entities.insert(EntityId::new(EntityKind::Ua, v.value.clone()));
                        }
                        _ => {}
                    }
                }
            }
        }
        let regions: BTreeSet<String> = chunk
            .iter()
            .filter_map(|i| i.record.aws_region.clone())
            .collect();
        out.push(Detection {
            regions: regions.into_iter().collect(),
            rule: format!("insight:{}", d.insight_type),
            title: format!("{} {what} {ratio}", d.event_name),
            level: "medium".into(),
            attack: Vec::new(),
            events: chunk.iter().map(|i| i.record.event_id.clone()).collect(),
            entities: entities.into_iter().collect(),
            first: first.time,
            last: last.time,
            group: vec![
                format!("api={}/{}", d.event_source, d.event_name),
                format!(
                    "insight={}",
                    if first.record.shared_event_id.is_empty() {
                        &first.record.event_id
                    } else {
                        &first.record.shared_event_id
                    }
                ),
                format!(
                    "state={}",
                    chunk
                        .iter()
                        .map(|i| i.record.insight_details.state.as_str())
                        .collect::<Vec<_>>()
                        .join("→")
                ),
            ],
            records: 0,
        });
    }
    out
}
