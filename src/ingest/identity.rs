//! `userIdentity`: who made a CloudTrail call, for every identity type the CloudTrail User Guide
//! documents (IAMUser, Root, AssumedRole, Role, FederatedUser, AWSService, AWSAccount,
//! IdentityCenterUser, SAMLUser, WebIdentityUser, Unknown). The rules are the contract's
//! "Principals of a CloudTrail event" (docs/ENTITY-MODEL.md).

use crate::model::arn;
use crate::model::entity::{self, EntityId, EntityKind};
use crate::model::text::is_control;
use serde::Deserialize;
use std::borrow::Cow;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct UserIdentity<'a> {
    #[serde(
        rename = "type",
        borrow,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    identity_type: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "super::lenient::opt_nonempty_cow")]
    account_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    access_key_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    user_name: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    principal_id: Option<Cow<'a, str>>,
    /// The service that made the call (`AWSService`), or that made it for the principal.
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    invoked_by: Option<Cow<'a, str>>,
    /// The external provider of a `SAMLUser` or `WebIdentityUser`.
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    identity_provider: Option<Cow<'a, str>>,
    /// The Identity Center user a call was made for.
    #[serde(borrow)]
    on_behalf_of: Option<OnBehalfOf<'a>>,
    #[serde(borrow)]
    session_context: Option<SessionContext<'a>>,
    /// The resource temporary credentials were scoped to (an EC2 instance, a Lambda function).
    #[serde(borrow)]
    in_scope_of: Option<InScopeOf<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InScopeOf<'a> {
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    credentials_issued_to: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct OnBehalfOf<'a> {
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    user_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    identity_store_arn: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SessionContext<'a> {
    #[serde(borrow)]
    session_issuer: Option<SessionIssuer<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct SessionIssuer<'a> {
    #[serde(
        rename = "type",
        borrow,
        deserialize_with = "crate::ingest::lenient::opt_cow"
    )]
    issuer_type: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "super::lenient::opt_nonempty_cow")]
    account_id: Option<Cow<'a, str>>,
    #[serde(borrow, deserialize_with = "crate::ingest::lenient::opt_cow")]
    user_name: Option<Cow<'a, str>>,
}

/// What the rest of the record needs to resolve an identity.
pub(crate) struct Context<'r> {
    pub region: Option<&'r str>,
    pub source_ip: Option<&'r str>,
}

/// The identity of a call, resolved into entities.
#[derive(Default)]
pub(crate) struct Identity {
    pub principal: Option<EntityId>,
    /// The role (or, for a federated user, the IAM user) that issued the acting session.
    pub issuer: Option<EntityId>,
    /// The Identity Center user a session acted for (trusted identity propagation).
    pub on_behalf_of: Option<EntityId>,
    /// The Identity Center user by name, when the record names the user as well as its id.
    pub known_as: Option<EntityId>,
    /// The instance whose role credentials a session is: named after it, or
    /// `inScopeOf.credentialsIssuedTo`.
    pub instance: Option<EntityId>,
    pub account: Option<EntityId>,
    pub access_key: Option<String>,
}

impl Identity {
    /// The identity's own entities (not targets of the call).
    pub fn entities(&self) -> impl Iterator<Item = &EntityId> {
        [
            &self.principal,
            &self.issuer,
            &self.on_behalf_of,
            &self.known_as,
            &self.instance,
            &self.account,
        ]
        .into_iter()
        .flatten()
    }
}

fn nonempty<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A name that becomes part of an entity id: non-empty and free of control characters. (ARNs
/// need no such check: an ARN with whitespace or controls is not classified.)
fn name<'s>(s: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
    nonempty(s).filter(|v| !v.contains(is_control))
}

fn classify_as(s: Option<&str>, kinds: &[EntityKind]) -> Option<EntityId> {
    s.and_then(arn::classify_identifier)
        .filter(|e| kinds.contains(&e.kind))
}

/// `arn:PARTITION:iam::ACCOUNT:{resource}`, for identities that carry a name but no ARN.
fn iam_arn(ctx: &Context<'_>, account: &str, resource: &str) -> String {
    format!(
        "arn:{}:iam::{account}:{resource}",
        arn::partition_of_region(ctx.region)
    )
}

/// An AWS service principal: `ec2.amazonaws.com`, or `AWS Internal` for service events.
fn service(s: Option<&str>) -> Option<EntityId> {
    s.map(|v| EntityId::new(EntityKind::Service, v))
}

/// `sourceIPAddress` holds the calling service's name when a service calls.
fn service_from_source(s: Option<&str>) -> Option<EntityId> {
    s.map(str::trim)
        .filter(|v| {
            v.ends_with(".amazonaws.com") && !v.contains(|c: char| c == ' ' || is_control(c))
        })
        .map(|v| EntityId::new(EntityKind::Service, v))
}

impl UserIdentity<'_> {
    /// The Identity Center user of `onBehalfOf`: `STORE/USERID`, the store being the identity
    /// store id (`d-…`) at the end of `identityStoreArn`.
    fn sso_user(&self) -> Option<EntityId> {
        let o = self.on_behalf_of.as_ref()?;
        let user = name(&o.user_id)?;
        let value = match name(&o.identity_store_arn).and_then(|a| a.rsplit('/').next()) {
            Some(store) if !store.is_empty() => format!("{store}/{user}"),
            _ => user.to_string(),
        };
        Some(EntityId::new(EntityKind::SsoUser, value))
    }

    /// An Identity Center user by name (`ACCOUNT/NAME`), for sign-in records that carry a
    /// `userName` and no ARN.
    fn sso_user_by_name(&self) -> Option<EntityId> {
        let user = name(&self.user_name)?;
        let account = self.account_id.as_deref()?.trim();
        Some(EntityId::new(
            EntityKind::SsoUser,
            format!("{account}/{user}"),
        ))
    }

    /// A SAML or web identity user: `NAME@PROVIDER` (the name is `userName`, else `principalId`).
    fn idp_user(&self) -> Option<EntityId> {
        let user = name(&self.user_name).or(name(&self.principal_id))?;
        let value = match name(&self.identity_provider) {
            Some(p) => format!("{user}@{p}"),
            None => user.to_string(),
        };
        Some(EntityId::new(EntityKind::IdpUser, value))
    }

    /// The issuer of a session: a role (`AssumedRole`) or an IAM user or root (`FederatedUser`).
    fn issuer(&self, ctx: &Context<'_>, kind: EntityKind) -> Option<EntityId> {
        let iss = self.session_context.as_ref()?.session_issuer.as_ref()?;
        let ty = iss.issuer_type.as_deref();
        let wanted = match kind {
            EntityKind::Role => ty == Some("Role"),
            _ => matches!(ty, Some("IAMUser") | Some("Root")),
        };
        if !wanted {
            return None;
        }
        if let Some(e) = classify_as(nonempty(&iss.arn), &[kind]) {
            return Some(e);
        }
        // No ARN: build it from the issuer's account and name (a role path is then unknown).
        let account = iss.account_id.as_deref()?.trim();
        let issuer = name(&iss.user_name)?;
        let resource = match kind {
            EntityKind::Role => format!("role/{issuer}"),
            _ if ty == Some("Root") => "root".to_string(),
            _ => format!("user/{issuer}"),
        };
        Some(EntityId::new(kind, iam_arn(ctx, account, &resource)))
    }

    pub(crate) fn resolve(&self, ctx: &Context<'_>) -> Identity {
        use EntityKind::{Role, Session, User};
        let arn = nonempty(&self.arn);
        let mut id = Identity {
            account: self.account_id.as_deref().map(EntityId::account),
            access_key: nonempty(&self.access_key_id)
                .filter(|k| !k.contains(char::is_whitespace))
                .map(str::to_string),
            ..Identity::default()
        };
        let account = self.account_id.as_deref().map(str::trim);
        id.principal = match self.identity_type.as_deref() {
            Some("IAMUser") => classify_as(arn, &[User]).or_else(|| {
                let user = name(&self.user_name)?;
                Some(EntityId::new(
                    User,
                    iam_arn(ctx, account?, &format!("user/{user}")),
                ))
            }),
            Some("Root") => classify_as(arn, &[User])
                .or_else(|| Some(EntityId::new(User, iam_arn(ctx, account?, "root")))),
            Some("AssumedRole") => {
                id.issuer = self.issuer(ctx, Role);
                // Without the session's ARN, the issuing role is the best name for the caller.
                classify_as(arn, &[Session]).or_else(|| id.issuer.clone())
            }
            Some("Role") => classify_as(arn, &[Role]),
            Some("FederatedUser") => {
                id.issuer = self.issuer(ctx, User);
                classify_as(arn, &[Session])
            }
            Some("AWSService") => {
                service(name(&self.invoked_by)).or_else(|| service_from_source(ctx.source_ip))
            }
            Some("AWSAccount") => id.account.clone(),
            Some("IdentityCenterUser") => self.sso_user(),
            Some("SAMLUser") | Some("WebIdentityUser") => self.idp_user(),
            // `Unknown`, a missing type, or one added after this was written: whatever the
            // record names best.
            _ => self
                .sso_user()
                .or_else(|| classify_as(arn, &[User, Role, Session]))
                .or_else(|| {
                    if self.identity_type.is_some() {
                        self.sso_user_by_name()
                    } else {
                        service(name(&self.invoked_by))
                    }
                }),
        };
        if let Some(sso) = self.sso_user() {
            match &id.principal {
                Some(p) if *p == sso => id.known_as = self.sso_user_by_name(),
                Some(_) => id.on_behalf_of = Some(sso),
                None => {}
            }
        }
        if let Some(p) = id.principal.as_ref().filter(|p| p.kind == Session) {
            id.instance = arn::session_name(&p.value)
                .filter(|n| entity::is_instance_id(n))
                .map(|n| EntityId::new(EntityKind::Instance, n))
                .or_else(|| {
                    let scope = self.in_scope_of.as_ref()?;
                    classify_as(
                        nonempty(&scope.credentials_issued_to),
                        &[EntityKind::Instance],
                    )
                });
        }
        id
    }
}
