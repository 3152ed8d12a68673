//! GuardDuty Extended Threat Detection: an attack sequence finding (`resource.resourceType`
//! `AttackSequence`) names what it saw under `service.detection.sequence` (the API reference's
//! `Sequence`: `actors`, `resources`, `endpoints`, `signals`), not under `resource` or `action`.
//! Its entities come from there, so the sequence groups with the findings and events of the same
//! user, key, instance, bucket or address. Security Hub carries the same block as ASFF's
//! `Detection.Sequence`, in PascalCase: the aliases read that too.

use super::lenient;
use crate::model::arn;
use crate::model::entity::{self, EntityId, EntityKind};
use crate::model::finding::Subject;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Detection {
    #[serde(alias = "Sequence")]
    sequence: Option<Sequence>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Sequence {
    // Each list keeps what is an object in it: one odd element does not cost the finding.
    #[serde(alias = "Actors", deserialize_with = "lenient::objects_only")]
    actors: Vec<Actor>,
    #[serde(alias = "Resources", deserialize_with = "lenient::objects_only")]
    resources: Vec<ResourceV2>,
    #[serde(alias = "Endpoints", deserialize_with = "lenient::objects_only")]
    endpoints: Vec<NetworkEndpoint>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Actor {
    #[serde(alias = "User")]
    user: Option<User>,
    #[serde(alias = "Session")]
    session: Option<Session>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct User {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Name")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Uid")]
    uid: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Type")]
    user_type: Option<String>,
    /// The access key the user's calls were signed with.
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "CredentialUid")]
    credential_uid: Option<String>,
    #[serde(alias = "Account")]
    account: Option<Account>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Account {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Uid")]
    uid: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Session {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Uid")]
    uid: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Issuer")]
    issuer: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ResourceV2 {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Uid")]
    uid: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Name")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "ResourceType")]
    resource_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NetworkEndpoint {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Ip")]
    ip: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    #[serde(alias = "Domain")]
    domain: Option<String>,
}

/// An identifier vigil knows (ARN, instance id, access key id), unless it is a sample's
/// placeholder.
fn known(s: &Option<String>) -> Option<EntityId> {
    s.as_deref()
        .filter(|v| !entity::is_placeholder(v))
        .and_then(arn::classify_identifier)
}

impl Detection {
    /// Adds the sequence's actors (principal, key, session, account), resources and endpoints to
    /// `entities`; the first actor is the subject's principal and key, the endpoints its remote
    /// addresses. Returns a label for the findings list: the first actor, else the first resource.
    pub(crate) fn describe(
        &self,
        entities: &mut Vec<EntityId>,
        subject: &mut Subject,
    ) -> Option<String> {
        let seq = self.sequence.as_ref()?;
        let mut label = None;
        for a in &seq.actors {
            let user = a.user.as_ref();
            let account = user
                .and_then(|u| u.account.as_ref())
                .and_then(|acct| acct.uid.clone())
                .filter(|v| !entity::is_placeholder(v));
            let principal = user.and_then(|u| u.principal(account.as_deref()));
            let key = user
                .and_then(|u| known(&u.credential_uid))
                .filter(|k| k.kind == EntityKind::Key);
            let session = a.session.as_ref();
            let named = [
                session.and_then(|s| known(&s.uid)),
                session.and_then(|s| known(&s.issuer)),
                account.map(|acct| EntityId::new(EntityKind::Account, acct)),
            ];
            if label.is_none() {
                label = user.and_then(|u| match (&u.user_type, &u.name) {
                    (Some(t), Some(n)) => Some(format!("{t}/{n}")),
                    (None, Some(n)) => Some(n.clone()),
                    _ => None,
                });
            }
            if subject.principal.is_none() {
                subject.principal.clone_from(&principal);
            }
            if subject.key.is_none() {
                subject.key.clone_from(&key);
            }
            entities.extend(
                principal
                    .into_iter()
                    .chain(key)
                    .chain(named.into_iter().flatten()),
            );
        }
        for r in &seq.resources {
            let id = known(&r.uid).or_else(|| match r.resource_type.as_deref() {
                Some("S3_BUCKET") => r
                    .name
                    .as_ref()
                    .filter(|n| !entity::is_placeholder(n))
                    .map(|n| EntityId::new(EntityKind::Bucket, n.clone())),
                _ => None,
            });
            if label.is_none() {
                label = r.name.clone().or_else(|| r.uid.clone());
            }
            entities.extend(id);
        }
        for e in &seq.endpoints {
            if let Some(ip) = e.ip.as_deref() {
                super::guardduty::push_remote(ip, entities, &mut subject.remotes);
            }
            if let Some(d) = e.domain.as_deref().filter(|v| !entity::is_placeholder(v)) {
                entities.extend(EntityId::domain(d));
            }
        }
        label
    }
}

impl User {
    /// The user as an entity: its ARN when `uid` is one, else built from the type, the name and
    /// the account as an access key's user is.
    fn principal(&self, account: Option<&str>) -> Option<EntityId> {
        if let Some(id) = known(&self.uid).filter(|e| {
            matches!(
                e.kind,
                EntityKind::User | EntityKind::Role | EntityKind::Session
            )
        }) {
            return Some(id);
        }
        let name = self
            .name
            .as_deref()
            .filter(|n| !entity::is_placeholder(n))?;
        super::guardduty::principal_of(self.user_type.as_deref(), name, account?)
    }
}
