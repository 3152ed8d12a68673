//! CloudTrail records: the wire shape and the entity extraction of the contract (section 3).
//!
//! This is the hot path of a million-event load, so strings borrow from the input where the JSON
//! allows it and `requestParameters`/`responseElements` are walked by a visitor that classifies
//! string values as it meets them, without building a `Value` tree.

use super::identity::{Context, UserIdentity};
use super::lenient;
use crate::model::arn;
use crate::model::entity::{self, EntityId, EntityKind};
use crate::model::time::{BadTime, TimeField};
use crate::model::{Origin, RawRef, StartedSession, TrailEvent, Ts, content_hash};
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
    #[serde(
        rename = "eventID",
        borrow,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    event_source: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    aws_region: Option<Cow<'a, str>>,
    #[serde(
        rename = "sourceIPAddress",
        borrow,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    source_ip_address: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    error_code: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    event_type: Option<Cow<'a, str>>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    read_only: Option<bool>,
    #[serde(borrow, deserialize_with = "lenient::opt_nonempty_cow")]
    recipient_account_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user_identity: Option<UserIdentity<'a>>,
    request_parameters: Option<Scanned>,
    response_elements: Option<Scanned>,
    #[serde(borrow, deserialize_with = "lenient::objects")]
    resources: Vec<ResourceRef<'a>>,
    #[serde(borrow)]
    insight_details: Option<InsightDetails<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResourceRef<'a> {
    /// Lenient, so that any object reads ([`lenient::objects`]).
    #[serde(
        rename = "ARN",
        borrow,
        deserialize_with = "crate::ingest::lenient::any_cow"
    )]
    arn: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InsightDetails<'a> {
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    event_name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    event_source: Option<Cow<'a, str>>,
}

/// Identifiers found among the string values of a free-form block, plus its `bucketName` and
/// what an `AssumeRole*` or `GetFederationToken` call says about the session it started.
#[derive(Default)]
pub(crate) struct Scanned {
    ids: Vec<EntityId>,
    bucket_name: Option<String>,
    /// `assumedRoleUser.arn` or `federatedUser.arn` (responseElements).
    started: Option<EntityId>,
    /// `roleArn` (requestParameters of `AssumeRole*`).
    role_arn: Option<EntityId>,
}

impl<'de> Deserialize<'de> for Scanned {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut s = Scanned::default();
        d.deserialize_any(ScanVisitor {
            out: &mut s,
            at: Slot::Top,
        })?;
        Ok(s)
    }
}

/// Where in the block the visitor is, for the few fields it reads by name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Top,
    Nested,
    /// Inside `assumedRoleUser` or `federatedUser`.
    Started,
    StartedArn,
    RoleArn,
}

struct ScanVisitor<'s> {
    out: &'s mut Scanned,
    at: Slot,
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
        if let Some(id) = arn::classify_identifier(v) {
            match (self.at, id.kind) {
                (Slot::StartedArn, EntityKind::Session) => self.out.started = Some(id.clone()),
                (Slot::RoleArn, EntityKind::Role) => self.out.role_arn = Some(id.clone()),
                _ => {}
            }
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
                at: Slot::Nested,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let at = match (self.at, key.as_ref()) {
                (Slot::Top, "bucketName") => {
                    let name: Option<String> = map.next_value_seed(BucketSeed)?;
                    if let Some(n) = name {
                        if let Some(id) = arn::classify_identifier(&n) {
                            self.out.ids.push(id);
                        }
                        self.out.bucket_name = Some(n);
                    }
                    continue;
                }
                (Slot::Top, "assumedRoleUser" | "federatedUser") => Slot::Started,
                (Slot::Top, "roleArn") => Slot::RoleArn,
                (Slot::Started, "arn") => Slot::StartedArn,
                _ => Slot::Nested,
            };
            map.next_value_seed(ScanVisitor {
                out: &mut *self.out,
                at,
            })?;
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

/// A record's time: its `eventTime`, else Panther's normalised copy. An impossible `eventTime`
/// refuses the record rather than falling back to `p_event_time`: the record says when it
/// happened, and what it says is false.
pub(crate) fn record_time(
    event_time: &TimeField,
    p_event_time: &TimeField,
) -> Result<Ts, EventError> {
    match event_time.checked("eventTime")? {
        Some(t) => Ok(t),
        None => p_event_time
            .checked("p_event_time")?
            .ok_or(EventError::NoTime),
    }
}

/// [`record_time`] from the two fields' JSON text as written (absent: `None`), for readers that
/// do not parse the whole record. The texts come from a record already checked as JSON, so one
/// that does not read is taken as absent rather than reported twice.
pub(crate) fn record_time_of(
    event_time: Option<&str>,
    p_event_time: Option<&str>,
) -> Result<Ts, EventError> {
    let field = |raw: Option<&str>| {
        raw.map_or(Ok(TimeField::Absent), serde_json::from_str::<TimeField>)
            .unwrap_or(TimeField::Absent)
    };
    record_time(&field(event_time), &field(p_event_time))
}

impl WireEvent<'_> {
    pub(crate) fn into_event(
        self,
        raw: &str,
        raw_ref: RawRef,
        origin: Origin,
    ) -> Result<TrailEvent, EventError> {
        let time = record_time(&self.event_time, &self.p_event_time)?;
        let mut entities: Vec<EntityId> = Vec::with_capacity(12);
        let mut targets = self.named_targets();

        let source_ip = self.source_ip_address.map(Cow::into_owned);
        let caller_ip = source_ip
            .as_deref()
            .and_then(entity::caller_address_text)
            .map(|ip| EntityId::new(EntityKind::Ip, ip));
        push_source_ips(caller_ip.as_ref(), source_ip.as_deref(), &mut entities);
        let identity = self
            .user_identity
            .as_ref()
            .map(|ui| {
                ui.resolve(&Context {
                    region: self.aws_region.as_deref(),
                    source_ip: source_ip.as_deref(),
                })
            })
            .unwrap_or_default();
        let key = identity
            .access_key
            .as_ref()
            .map(|k| EntityId::new(EntityKind::Key, k.clone()));
        if let Some(a) = &self.recipient_account_id {
            entities.push(EntityId::new(EntityKind::Account, a.as_ref()));
        }
        let user_agent = self
            .user_agent
            .map(Cow::into_owned)
            .filter(|u| !u.is_empty());
        if let Some(ua) = &user_agent {
            entities.push(EntityId::new(EntityKind::Ua, ua.clone()));
        }
        let started = started_session(
            self.request_parameters.as_ref(),
            self.response_elements.as_ref(),
            identity.principal.as_ref(),
        );
        targets.sort();
        targets.dedup();
        entities.extend(identity.entities().cloned());
        entities.extend(key.iter().cloned());
        entities.extend(targets.iter().cloned());
        entities.sort();
        entities.dedup();
        // The actor's own identity is not a target, and the session a call started is linked
        // by `started`, not `acted_on`.
        targets.retain(|t| {
            key.as_ref() != Some(t)
                && !identity.entities().any(|e| e == t)
                && started.as_ref().is_none_or(|s| s.session != *t)
        });

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
            principal: identity.principal,
            issuer: identity.issuer,
            instance: identity.instance,
            on_behalf_of: identity.on_behalf_of,
            known_as: identity.known_as,
            started,
            caller_ip,
            access_key: identity.access_key,
            entities,
            targets,
            raw: raw_ref,
            origin,
        })
    }

    /// The resources the request and response name, and those in `resources[]` (unsorted; the
    /// actor's own identity still among them).
    fn named_targets(&self) -> Vec<EntityId> {
        let mut targets = Vec::new();
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
            if let Some(id) = r.arn.as_deref().and_then(arn::classify_identifier) {
                targets.push(id);
            }
        }
        targets
    }
}

/// The addresses of `sourceIPAddress` as entities; `caller_ip` is its first (public) one.
fn push_source_ips(
    caller_ip: Option<&EntityId>,
    source_ip: Option<&str>,
    entities: &mut Vec<EntityId>,
) {
    match (caller_ip, source_ip) {
        // One address (the usual case): parsed once.
        (Some(ip), Some(s)) if !s.contains(',') => entities.push(ip.clone()),
        (_, Some(s)) => entities
            .extend(entity::source_address_texts(s).map(|ip| EntityId::new(EntityKind::Ip, ip))),
        _ => {}
    }
}

/// The session an `AssumeRole*` call started (`responseElements.assumedRoleUser.arn`) and
/// the role it belongs to (`requestParameters.roleArn`, else the role part of its ARN); or
/// the federated user a `GetFederationToken` call started and the IAM user who called it.
fn started_session(
    request: Option<&Scanned>,
    response: Option<&Scanned>,
    caller: Option<&EntityId>,
) -> Option<StartedSession> {
    let session = response?.started.clone()?;
    let issuer = if session.value.contains(":assumed-role/") {
        request.and_then(|r| r.role_arn.clone()).or_else(|| {
            arn::role_of_session(&session.value).map(|r| EntityId::new(EntityKind::Role, r))
        })
    } else {
        caller.filter(|c| c.kind == EntityKind::User).cloned()
    };
    Some(StartedSession { session, issuer })
}
