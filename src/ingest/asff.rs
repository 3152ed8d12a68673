//! Security Hub findings in the AWS Security Finding Format (ASFF), mapped onto vigil's findings:
//! severity from the label (GuardDuty's own number when GuardDuty sent it), resources with their
//! ids and ARNs as entities, the product and workflow status in the description. A GuardDuty
//! finding seen through Security Hub keeps GuardDuty's finding id (the last part of its ASFF
//! `Id`) and type, so the same finding read directly and from Security Hub is one finding.

use super::lenient;
use crate::model::arn::classify_identifier;
use crate::model::entity::{EntityId, EntityKind, parse_ip};
use crate::model::time::TimeField;
use crate::model::{Finding, FindingAction, Origin, Subject};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct WireAsff {
    id: String,
    product_arn: String,
    #[serde(deserialize_with = "lenient::opt_string")]
    product_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    company_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    aws_account_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    region: Option<String>,
    // Written by every product that sends to Security Hub: a null list or a number where the
    // format says string does not cost the finding.
    #[serde(deserialize_with = "lenient::vec_or_null")]
    types: Vec<String>,
    created_at: TimeField,
    updated_at: TimeField,
    first_observed_at: TimeField,
    last_observed_at: TimeField,
    severity: Option<Severity>,
    #[serde(deserialize_with = "lenient::opt_string")]
    title: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    description: Option<String>,
    #[serde(deserialize_with = "lenient::objects_only")]
    resources: Vec<Resource>,
    workflow: Option<Workflow>,
    #[serde(deserialize_with = "lenient::opt_string")]
    record_state: Option<String>,
    network: Option<Network>,
    product_fields: Option<HashMap<String, serde_json::Value>>,
    /// A GuardDuty attack sequence's actors and endpoints.
    detection: Option<super::sequence::Detection>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Severity {
    #[serde(deserialize_with = "lenient::opt_string")]
    label: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    original: Option<String>,
    #[serde(deserialize_with = "lenient::opt_f64")]
    normalized: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Resource {
    #[serde(rename = "Type", deserialize_with = "lenient::opt_nonempty")]
    kind: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Workflow {
    #[serde(deserialize_with = "lenient::opt_string")]
    status: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Network {
    source_ip_v4: Option<String>,
    source_ip_v6: Option<String>,
    destination_ip_v4: Option<String>,
    destination_ip_v6: Option<String>,
}

impl WireAsff {
    fn sent_by_guardduty(&self) -> bool {
        self.product_arn.ends_with("product/aws/guardduty")
    }

    pub(crate) fn into_finding(self, raw: &str, origin: Origin) -> Result<Finding, String> {
        if self.id.is_empty() {
            return Err("ASFF finding without an Id".into());
        }
        let guardduty = self.sent_by_guardduty();
        // `arn:aws:guardduty:REGION:ACCOUNT:detector/DETECTOR/finding/FINDING`.
        let id = match self.id.rsplit_once("/finding/") {
            Some((_, fid)) if guardduty && !fid.is_empty() => fid.to_string(),
            _ => self.id.clone(),
        };
        // ASFF types are namespace/category/classifier; GuardDuty's classifier is its own type
        // with its `/` written `-` (`Backdoor:EC2-C&CActivity.B!DNS`).
        let classifier = self.types.first().and_then(|t| t.rsplit('/').next());
        let finding_type = match classifier {
            Some(c) if guardduty => match c.split_once(':') {
                Some((purpose, rest)) => format!("{purpose}:{}", rest.replacen('-', "/", 1)),
                None => c.to_string(),
            },
            _ => format!(
                "SecurityHub:{}",
                self.types.first().map_or("Unclassified", |t| t.as_str())
            ),
        };
        let sev = self.severity.unwrap_or_default();
        let label = sev.label.as_deref().unwrap_or("").to_ascii_uppercase();
        let severity = sev
            .original
            .as_deref()
            .filter(|_| guardduty)
            .and_then(|o| o.parse::<f64>().ok())
            .unwrap_or(match label.as_str() {
                "CRITICAL" => 9.0,
                "HIGH" => 7.5,
                "MEDIUM" => 5.0,
                "LOW" => 2.0,
                "INFORMATIONAL" => 0.5,
                _ => sev.normalized.map_or(0.0, |n| n / 10.0),
            });
        let mut entities: Vec<EntityId> = Vec::new();
        entities.extend(
            self.aws_account_id
                .as_deref()
                .filter(|a| !a.is_empty())
                .map(|a| EntityId::new(EntityKind::Account, a)),
        );
        let mut subject = Subject::default();
        for r in &self.resources {
            let Some(e) = r.id.as_deref().and_then(classify_identifier) else {
                continue;
            };
            match e.kind {
                EntityKind::Instance if subject.instance.is_none() => {
                    subject.instance = Some(e.clone())
                }
                EntityKind::Key if subject.key.is_none() => subject.key = Some(e.clone()),
                EntityKind::User | EntityKind::Role | EntityKind::Session
                    if subject.principal.is_none() =>
                {
                    subject.principal = Some(e.clone())
                }
                _ => {}
            }
            entities.push(e);
        }
        let remote = self.network.as_ref().and_then(|n| {
            [
                &n.source_ip_v4,
                &n.source_ip_v6,
                &n.destination_ip_v4,
                &n.destination_ip_v6,
            ]
            .into_iter()
            .flatten()
            .find_map(|ip| parse_ip(ip))
        });
        if let Some(ip) = remote {
            let e = EntityId::new(EntityKind::Ip, ip.to_string());
            subject.remotes.push(e.clone());
            entities.push(e);
        }
        if let Some(d) = &self.detection {
            d.describe(&mut entities, &mut subject);
        }
        entities.sort();
        entities.dedup();
        let product = self
            .product_name
            .clone()
            .or_else(|| self.product_arn.rsplit('/').next().map(str::to_string))
            .unwrap_or_default();
        let workflow = self
            .workflow
            .as_ref()
            .and_then(|w| w.status.clone())
            .unwrap_or_else(|| "NEW".into());
        let description = format!(
            "{} [Security Hub: {}{}, workflow {workflow}{}]",
            self.description.clone().unwrap_or_default(),
            self.company_name
                .as_deref()
                .map_or(String::new(), |c| format!("{c} ")),
            product,
            if self.product_fields.as_ref().is_none_or(HashMap::is_empty) {
                ""
            } else {
                ", product fields kept in the raw record"
            }
        );
        let first = self.resources.first();
        // An impossible time refuses the finding, as for GuardDuty's own.
        let bad = |e: crate::model::time::BadTime| e.to_string();
        let created_at = self.created_at.checked("CreatedAt").map_err(bad)?;
        let updated_at = self.updated_at.checked("UpdatedAt").map_err(bad)?;
        let first_seen = self
            .first_observed_at
            .checked("FirstObservedAt")
            .map_err(bad)?;
        let last_seen = self
            .last_observed_at
            .checked("LastObservedAt")
            .map_err(bad)?;
        Ok(Finding {
            id,
            finding_type,
            severity,
            title: self.title.unwrap_or_default(),
            description,
            account_id: self.aws_account_id,
            region: self.region,
            created_at,
            updated_at,
            first_seen: first_seen.or(created_at),
            last_seen: last_seen.or(updated_at),
            count: 1,
            archived: self.record_state.as_deref() == Some("ARCHIVED"),
            sample: false,
            // GuardDuty's findings carry it into Security Hub among their product fields.
            resource_role: self
                .product_fields
                .as_ref()
                .and_then(|p| p.get("aws/guardduty/service/resourceRole"))
                .and_then(|v| v.as_str())
                .filter(|r| !r.trim().is_empty())
                .map(str::to_string),
            resource_type: first.and_then(|r| r.kind.clone()),
            resource: first
                .and_then(|r| r.id.clone())
                .unwrap_or_else(|| "-".into()),
            action: FindingAction::default(),
            entities,
            subject,
            raw: Arc::from(raw),
            origin,
        })
    }
}
