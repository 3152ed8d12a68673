//! CloudTrail records: the wire shape and the entity extraction of the contract (section 3).
//!
//! This is the hot path of a million-event load, so strings borrow from the input where the JSON
//! allows it and `requestParameters`/`responseElements` are walked by a visitor that classifies
//! string values as it meets them, without building a `Value` tree.

use super::lenient;
use crate::model::entity::{self, EntityId, EntityKind};
use crate::model::time::{BadTime, TimeField};
use crate::model::{Origin, RawRef, TrailEvent, content_hash};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireEvent<'a> {
    event_time: TimeField,
    /// Panther's normalised copy of the event time, used when `eventTime` is missing.
    #[serde(rename = "p_event_time")]
    p_event_time: TimeField,
    #[serde(rename = "eventID", borrow)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    aws_region: Option<Cow<'a, str>>,
    #[serde(rename = "sourceIPAddress", borrow)]
    source_ip_address: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error_code: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_type: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    read_only: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    recipient_account_id: Option<String>,
    #[serde(borrow)]
    user_identity: Option<UserIdentity<'a>>,
    request_parameters: Option<Scanned>,
    response_elements: Option<Scanned>,
    #[serde(deserialize_with = "lenient::objects_only")]
    resources: Vec<ResourceRef<'a>>,
    #[serde(borrow)]
    insight_details: Option<InsightDetails<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct UserIdentity<'a> {
    #[serde(rename = "type", borrow)]
    identity_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arn: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    account_id: Option<String>,
    #[serde(borrow)]
    access_key_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    session_context: Option<SessionContext<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SessionContext<'a> {
    #[serde(borrow)]
    session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SessionIssuer<'a> {
    #[serde(rename = "type", borrow)]
    issuer_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    arn: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceRef<'a> {
    #[serde(rename = "ARN", borrow)]
    arn: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InsightDetails<'a> {
    #[serde(borrow)]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_source: Option<Cow<'a, str>>,
}

/// Identifiers found among the string values of a free-form block, plus its `bucketName`.
#[derive(Default)]
pub(crate) struct Scanned {
    ids: Vec<EntityId>,
    bucket_name: Option<String>,
}

impl<'de> Deserialize<'de> for Scanned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = Scanned::default();
        d.deserialize_any(ScanVisitor {
            out: &mut s,
            top: true,
        })?;
        Ok(s)
    }
}

struct ScanVisitor<'s> {
    out: &'s mut Scanned,
    top: bool,
}

impl<'de> DeserializeSeed<'de> for ScanVisitor<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScanVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if let Some(id) = entity::classify_identifier(v) {
            self.out.ids.push(id);
        }
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ScanVisitor {
                out: &mut *self.out,
                top: false,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if self.top && key == "bucketName" {
                let name: Option<String> = map.next_value_seed(BucketSeed)?;
                if let Some(n) = name {
                    self.out.bucket_name = Some(n.clone());
                    if let Some(id) = entity::classify_identifier(&n) {
                        self.out.ids.push(id);
                    }
                }
            } else {
                map.next_value_seed(ScanVisitor {
                    out: &mut *self.out,
                    top: false,
                })?;
            }
        }
        Ok(())
    }
}

struct BucketSeed;

impl<'de> DeserializeSeed<'de> for BucketSeed {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
        lenient::opt_nonempty(d)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(
        "CloudTrail record has no usable eventTime; every real record has one, so this is a fragment or a test stub"
    )]
    NoTime,
    #[error(transparent)]
    BadTime(#[from] BadTime),
}

impl WireEvent<'_> {
    pub(crate) fn into_event(
        self,
        raw: &str,
        raw_ref: RawRef,
        origin: Origin,
    ) -> Result<TrailEvent, EventError> {
        // An impossible eventTime refuses the record rather than falling back to p_event_time:
        // the record says when it happened, and what it says is false.
        let time = match self.event_time.checked("eventTime")? {
            Some(t) => t,
            None => self
                .p_event_time
                .checked("p_event_time")?
                .ok_or(EventError::NoTime)?,
        };
        let mut entities: Vec<EntityId> = Vec::with_capacity(12);
        let mut targets: Vec<EntityId> = Vec::new();
        let mut principal = None;
        let mut own: Vec<EntityId> = Vec::new();

        let source_ip = self.source_ip_address.map(Cow::into_owned);
        if let Some(ip) = source_ip.as_deref().and_then(EntityId::ip) {
            entities.push(ip);
        }
        let mut access_key = None;
        if let Some(ui) = &self.user_identity {
            let arn = ui.arn.as_deref().and_then(entity::classify_identifier);
            match ui.identity_type.as_deref() {
                Some("IAMUser") | Some("Root") => {
                    if let Some(a) = arn.filter(|a| a.kind == EntityKind::User) {
                        principal = Some(a);
                    }
                }
                Some("AssumedRole") => {
                    if let Some(a) = arn.filter(|a| a.kind == EntityKind::Session) {
                        if let Some(name) = entity::session_name(&a.value)
                            && entity::is_instance_id(name)
                        {
                            own.push(EntityId::new(EntityKind::Instance, name));
                        }
                        principal = Some(a);
                    }
                    let issuer = ui
                        .session_context
                        .as_ref()
                        .and_then(|c| c.session_issuer.as_ref());
                    if let Some(r) = issuer
                        .filter(|i| i.issuer_type.as_deref() == Some("Role"))
                        .and_then(|iss| iss.arn.as_deref())
                        .and_then(entity::classify_identifier)
                        .filter(|r| r.kind == EntityKind::Role)
                    {
                        own.push(r);
                    }
                }
                _ => {}
            }
            if let Some(k) = ui
                .access_key_id
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty() && !k.contains(char::is_whitespace))
            {
                own.push(EntityId::new(EntityKind::Key, k));
                access_key = Some(k.to_string());
            }
            if let Some(a) = &ui.account_id {
                entities.push(EntityId::new(EntityKind::Account, a.clone()));
            }
        }
        if let Some(p) = &principal {
            own.push(p.clone());
        }
        if let Some(a) = &self.recipient_account_id {
            entities.push(EntityId::new(EntityKind::Account, a.clone()));
        }
        let user_agent = self
            .user_agent
            .map(Cow::into_owned)
            .filter(|u| !u.is_empty());
        if let Some(ua) = &user_agent {
            entities.push(EntityId::new(EntityKind::Ua, ua.clone()));
        }
        for block in [&self.request_parameters, &self.response_elements]
            .into_iter()
            .flatten()
        {
            if let Some(b) = &block.bucket_name {
                targets.push(EntityId::new(EntityKind::Bucket, b.clone()));
            }
            targets.extend(block.ids.iter().cloned());
        }
        for r in &self.resources {
            if let Some(id) = r.arn.as_deref().and_then(entity::classify_identifier) {
                targets.push(id);
            }
        }
        targets.sort();
        targets.dedup();
        entities.extend(own.iter().cloned());
        entities.extend(targets.iter().cloned());
        entities.sort();
        entities.dedup();
        targets.retain(|t| !own.contains(t));

        let insight = self.insight_details.unwrap_or_default();
        let event_id = self
            .event_id
            .map(Cow::into_owned)
            .unwrap_or_else(|| format!("vigil-{:016x}", content_hash(raw.as_bytes())));
        Ok(TrailEvent {
            event_id,
            time,
            name: self
                .event_name
                .or(insight.event_name)
                .map(Cow::into_owned)
                .unwrap_or_else(|| "-".to_string()),
            source: self
                .event_source
                .or(insight.event_source)
                .map(Cow::into_owned)
                .unwrap_or_else(|| "-".to_string()),
            region: self.aws_region.map(Cow::into_owned),
            source_ip,
            user_agent,
            error_code: self
                .error_code
                .map(Cow::into_owned)
                .filter(|e| !e.is_empty()),
            event_type: self.event_type.map(Cow::into_owned),
            read_only: self.read_only,
            principal,
            access_key,
            entities,
            targets,
            raw: raw_ref,
            origin,
        })
    }
}
