//! Entity ids (`kind:value`) and the canonical forms of their values. This is the contract
//! documented in docs/ENTITY-MODEL.md: two sources naming the same thing must produce the same id.

use serde::{Serialize, Serializer};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    Finding,
    Account,
    Ip,
    Domain,
    Instance,
    Role,
    Session,
    User,
    Key,
    Bucket,
    Ua,
    /// An AWS service acting as a principal (`ec2.amazonaws.com`).
    Service,
    /// An IAM Identity Center user.
    SsoUser,
    /// A user of an external SAML or web identity (OIDC) provider.
    IdpUser,
}

impl EntityKind {
    pub const ALL: [EntityKind; 14] = [
        EntityKind::Finding,
        EntityKind::Account,
        EntityKind::Ip,
        EntityKind::Domain,
        EntityKind::Instance,
        EntityKind::Role,
        EntityKind::Session,
        EntityKind::User,
        EntityKind::Key,
        EntityKind::Bucket,
        EntityKind::Ua,
        EntityKind::Service,
        EntityKind::SsoUser,
        EntityKind::IdpUser,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Finding => "finding",
            EntityKind::Account => "account",
            EntityKind::Ip => "ip",
            EntityKind::Domain => "domain",
            EntityKind::Instance => "instance",
            EntityKind::Role => "role",
            EntityKind::Session => "session",
            EntityKind::User => "user",
            EntityKind::Key => "key",
            EntityKind::Bucket => "bucket",
            EntityKind::Ua => "ua",
            EntityKind::Service => "service",
            EntityKind::SsoUser => "sso-user",
            EntityKind::IdpUser => "idp-user",
        }
    }

    /// Kinds that link findings into one group. Accounts, user agents and AWS services are
    /// shared by unrelated activity, so they never do.
    pub fn links_findings(self) -> bool {
        !matches!(
            self,
            EntityKind::Finding | EntityKind::Account | EntityKind::Ua | EntityKind::Service
        )
    }

    /// A principal acts: it calls APIs and owns keys. An account acts too when another account
    /// calls (`AWSAccount`), but it is mostly the owner of things, so it is not counted here.
    pub fn is_principal(self) -> bool {
        matches!(
            self,
            EntityKind::User
                | EntityKind::Role
                | EntityKind::Session
                | EntityKind::Service
                | EntityKind::SsoUser
                | EntityKind::IdpUser
        )
    }
}

impl Serialize for EntityKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityKind {
    type Err = EntityParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| EntityParseError::UnknownKind(s.to_string()))
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EntityParseError {
    #[error(
        "entity id must be KIND:VALUE (for example ip:203.0.113.7 or instance:i-0abc12345678def01)"
    )]
    MissingColon,
    #[error(
        "unknown entity kind `{0}`; use one of finding, account, ip, domain, instance, role, session, user, key, bucket, ua, service, sso-user, idp-user"
    )]
    UnknownKind(String),
    #[error("`{0}` is not a valid value for an entity of kind {1}")]
    BadValue(String, EntityKind),
}

/// `kind:value`, with the value in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId {
    pub kind: EntityKind,
    /// Inline up to 24 bytes (an address, an access key, an account id).
    pub value: compact_str::CompactString,
}

/// Read back as [`Serialize`] wrote it (`kind:value`): the value is not canonicalised again.
impl<'de> serde::Deserialize<'de> for EntityId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let (kind, value) = text
            .split_once(':')
            .ok_or_else(|| D::Error::custom(EntityParseError::MissingColon))?;
        let kind: EntityKind = kind.parse().map_err(D::Error::custom)?;
        Ok(EntityId::new(kind, value))
    }
}

impl EntityId {
    pub fn new(kind: EntityKind, value: impl Into<compact_str::CompactString>) -> Self {
        EntityId {
            kind,
            value: value.into(),
        }
    }

    /// An ip entity when `s` parses as an address (leading zeros allowed), else `None`.
    pub fn ip(s: &str) -> Option<Self> {
        canonical_ip(s).map(|v| EntityId::new(EntityKind::Ip, v))
    }

    pub fn domain(s: &str) -> Option<Self> {
        let d = canonical_domain(s);
        (!d.is_empty()).then(|| EntityId::new(EntityKind::Domain, d))
    }

    /// Text that every raw record naming this entity contains verbatim, for the pivot's
    /// prefilter. Principals that vigil builds from parts of the record (a user ARN from
    /// `accountId` and `userName`, an Identity Center user from `onBehalfOf`) contain their
    /// name, not their whole value.
    pub fn record_text(&self) -> &str {
        let v = self.value.as_str();
        match self.kind {
            // arn:PARTITION:iam::ACCOUNT:root names the account.
            EntityKind::User if v.ends_with(":root") => v.split(':').nth(4).unwrap_or(v),
            EntityKind::User | EntityKind::Role | EntityKind::SsoUser => {
                v.rsplit_once('/').map_or(v, |(_, name)| name)
            }
            EntityKind::IdpUser => v.rsplit_once('@').map_or(v, |(name, _)| name),
            _ => v,
        }
    }

    /// An account. The spellings of the account an unauthenticated caller is logged as are one
    /// ([`ANONYMOUS`]), so one pivot finds all of its calls.
    pub fn account(v: &str) -> EntityId {
        let v = v.trim();
        if ANONYMOUS_SPELLINGS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(v))
        {
            return EntityId::new(EntityKind::Account, ANONYMOUS);
        }
        EntityId::new(EntityKind::Account, v)
    }

    /// Texts one of which every raw record naming this entity contains verbatim: its
    /// [`Self::record_text`], or each spelling of the anonymous account.
    pub fn record_texts(&self) -> Vec<&str> {
        if self.kind == EntityKind::Account && self.value == ANONYMOUS {
            return ANONYMOUS_SPELLINGS.to_vec();
        }
        vec![self.record_text()]
    }

    /// Parses a user-typed id, canonicalising the value the same way ingest does.
    pub fn parse(s: &str) -> Result<Self, EntityParseError> {
        let (k, v) = s.split_once(':').ok_or(EntityParseError::MissingColon)?;
        let kind: EntityKind = k.parse()?;
        let v = v.trim();
        let bad = || EntityParseError::BadValue(v.to_string(), kind);
        if v.is_empty() {
            return Err(bad());
        }
        match kind {
            EntityKind::Ip => EntityId::ip(v).ok_or_else(bad),
            EntityKind::Domain => EntityId::domain(v).ok_or_else(bad),
            EntityKind::Account => Ok(EntityId::account(v)),
            _ => Ok(EntityId::new(kind, v)),
        }
    }
}

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

impl Serialize for EntityId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The account an unauthenticated caller (an anonymous S3 request) is logged as: an `AWSAccount`
/// identity whose `accountId` is `anonymous`, as S3 writes it now, or `ANONYMOUS_PRINCIPAL`, as it
/// wrote it in earlier years (public trails of 2017-2020 hold it).
pub const ANONYMOUS: &str = "anonymous";

/// Every spelling of [`ANONYMOUS`] in records.
pub const ANONYMOUS_SPELLINGS: [&str; 2] = ["anonymous", "ANONYMOUS_PRINCIPAL"];

/// IPv4 in dotted decimal with leading zeros stripped (`075.050.255.67` → `75.50.255.67`; never
/// octal), IPv6 in RFC 5952 lowercase. Anything else (`AWS Internal`, a service principal,
/// `<Attacker source IP>`) is not an address.
pub fn canonical_ip(s: &str) -> Option<String> {
    parse_ip(s).map(|ip| ip.to_string())
}

pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if s.contains(':') {
        let s = s
            .strip_prefix('[')
            .and_then(|x| x.strip_suffix(']'))
            .unwrap_or(s);
        return Ipv6Addr::from_str(s).ok().map(IpAddr::V6);
    }
    // Every record's `sourceIPAddress` comes here: one pass over the bytes, four parts of one to
    // three decimal digits each (a leading zero is decimal, not octal), none above 255.
    let mut octets = [0u8; 4];
    let (mut n, mut digits, mut value) = (0usize, 0u8, 0u16);
    for &c in s.as_bytes() {
        if c == b'.' && digits > 0 && n < 3 {
            octets[n] = u8::try_from(value).ok()?;
            (n, digits, value) = (n + 1, 0, 0);
        } else if c.is_ascii_digit() && digits < 3 {
            value = value * 10 + u16::from(c - b'0');
            digits += 1;
        } else {
            return None;
        }
    }
    if n != 3 || digits == 0 {
        return None;
    }
    octets[3] = u8::try_from(value).ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// Private, loopback, link-local or unspecified: reused across VPCs, so never evidence that two
/// findings are about the same host.
pub fn is_non_routable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let seg0 = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (seg0 & 0xffc0) == 0xfe80
                || (seg0 & 0xfe00) == 0xfc00
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| is_non_routable(&IpAddr::V4(v4)))
        }
    }
}

pub fn canonical_domain(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// `i-` followed by 8 to 17 lowercase hex digits.
pub fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|h| {
        (8..=17).contains(&h.len())
            && h.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    })
}

/// `AKIA`/`ASIA` followed by 16 upper-case letters or digits.
pub fn is_access_key_id(s: &str) -> bool {
    s.len() == 20
        && (s.starts_with("AKIA") || s.starts_with("ASIA"))
        && s[4..]
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Every address in a `sourceIPAddress`, which some services fill with a comma-separated list
/// (`"81.2.69.142, 192.168.10.10"`). A service name or `AWS Internal` yields none.
pub fn source_addresses(s: &str) -> impl Iterator<Item = IpAddr> + '_ {
    addresses_with_text(s).map(|(ip, _)| ip)
}

/// [`source_addresses`] with each address's text as the record wrote it.
fn addresses_with_text(s: &str) -> impl Iterator<Item = (IpAddr, &str)> + '_ {
    s.split(',').filter_map(|t| parse_ip(t).map(|ip| (ip, t)))
}

/// The caller's address among a `sourceIPAddress`: the first public one of a list, else its
/// first address (a private caller is still the caller).
pub fn caller_address(s: &str) -> Option<IpAddr> {
    caller_address_with_text(s).map(|(ip, _)| ip)
}

fn caller_address_with_text(s: &str) -> Option<(IpAddr, &str)> {
    let mut first = None;
    for (ip, text) in addresses_with_text(s) {
        if !is_non_routable(&ip) {
            return Some((ip, text));
        }
        first.get_or_insert((ip, text));
    }
    first
}

/// [`caller_address`] as an entity value (the address's canonical text).
pub fn caller_address_text(s: &str) -> Option<String> {
    caller_address_with_text(s).map(|(ip, text)| ip_text(ip, text))
}

/// Every address of a `sourceIPAddress` as entity values (canonical text).
pub fn source_address_texts(s: &str) -> impl Iterator<Item = String> + '_ {
    addresses_with_text(s).map(|(ip, text)| ip_text(ip, text))
}

/// The canonical text of `ip`, which [`parse_ip`] read from `text`: `text` itself when it
/// already is (a dotted quad without leading zeros, what nearly every record holds), rather
/// than the address formatted again for every record of a load.
fn ip_text(ip: IpAddr, text: &str) -> String {
    let t = text.trim();
    match ip {
        // `parse_ip` took four parts of decimal digits: without a leading zero, the text is
        // what `Display` writes.
        IpAddr::V4(_) if t.split('.').all(|p| p.len() == 1 || !p.starts_with('0')) => t.to_string(),
        _ => ip.to_string(),
    }
}

/// GuardDuty sample findings fill fields with `GeneratedFinding…` placeholders and `i-99999999`;
/// those are not entities and must not merge unrelated sample findings.
pub fn is_placeholder(s: &str) -> bool {
    let s = s.trim();
    s.is_empty() || s.starts_with("GeneratedFinding") || s == "i-99999999"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Most of a trail's entities are addresses, access keys and account ids: held in the
    /// entity itself, not allocated apart (a 10M load's peak 4.41 GB to 4.27 GB).
    #[test]
    fn a_short_entity_value_is_held_inline() {
        for (kind, v) in [
            (EntityKind::Ip, "203.0.113.255"),
            (EntityKind::Key, "ASIAY34FZKBOKMUTVV7A"),
            (EntityKind::Account, "123456789012"),
        ] {
            let e = EntityId::new(kind, v.to_string());
            assert!(!e.value.is_heap_allocated(), "{e}");
            assert_eq!(e.value, v);
        }
        let role = EntityId::new(EntityKind::Role, "arn:aws:iam::123456789012:role/Admin");
        assert!(role.value.is_heap_allocated());
        assert_eq!(std::mem::size_of::<EntityId>(), 32);
    }

    #[test]
    fn an_address_text_is_what_display_writes_however_the_record_wrote_it() {
        for text in [
            "81.2.69.142",
            " 10.0.0.1 ",
            "075.050.255.67",
            "0.0.0.0",
            "1.02.3.4",
            "100.200.0.9",
            "2001:DB8::0001",
            "[2001:db8::1]",
            "81.2.69.142, 192.168.10.10",
            "10.0.0.1,081.2.69.142",
        ] {
            let want: Vec<String> = source_addresses(text).map(|ip| ip.to_string()).collect();
            assert!(!want.is_empty(), "{text}");
            assert_eq!(
                source_address_texts(text).collect::<Vec<_>>(),
                want,
                "{text}"
            );
            assert_eq!(
                caller_address_text(text),
                caller_address(text).map(|ip| ip.to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn dotted_decimal_is_four_parts_of_up_to_three_digits() {
        let v4 = |s: &str| parse_ip(s).map(|ip| ip.to_string());
        for (text, want) in [
            ("81.2.69.142", Some("81.2.69.142")),
            ("075.050.255.67", Some("75.50.255.67")),
            (" 10.0.0.1 ", Some("10.0.0.1")),
            ("0.0.0.0", Some("0.0.0.0")),
            ("255.255.255.255", Some("255.255.255.255")),
            ("256.1.1.1", None),
            ("1.2.3.256", None),
            ("1.2.3", None),
            ("1.2.3.4.5", None),
            ("1..2.3", None),
            (".1.2.3", None),
            ("1.2.3.", None),
            ("0001.2.3.4", None),
            ("+1.2.3.4", None),
            ("1.2.3.4a", None),
            ("AWS Internal", None),
            ("", None),
            ("::1", Some("::1")),
            ("[2001:db8::1]", Some("2001:db8::1")),
        ] {
            assert_eq!(v4(text).as_deref(), want, "{text:?}");
        }
    }

    #[test]
    fn an_anonymous_caller_is_one_account_however_spelled() {
        for typed in [
            "account:anonymous",
            "account:ANONYMOUS_PRINCIPAL",
            "account: Anonymous ",
        ] {
            let e = EntityId::parse(typed).unwrap();
            assert_eq!(e.to_string(), "account:anonymous", "{typed}");
            assert_eq!(e.record_texts(), ["anonymous", "ANONYMOUS_PRINCIPAL"]);
        }
        let e = EntityId::parse("account:123456789012").unwrap();
        assert_eq!(e.value, "123456789012");
        assert_eq!(e.record_texts(), ["123456789012"]);
    }

    #[test]
    fn ip_canonical_forms() {
        assert_eq!(
            canonical_ip("075.050.255.67").as_deref(),
            Some("75.50.255.67")
        );
        assert_eq!(canonical_ip("010.0.0.8").as_deref(), Some("10.0.0.8"));
        assert_eq!(
            canonical_ip("2001:DB8:0:0:0:0:0:1").as_deref(),
            Some("2001:db8::1")
        );
        for bad in [
            "AWS Internal",
            "cloudformation.amazonaws.com",
            "<Attacker source IP>",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "redacted",
            "192.0.2e.44",
        ] {
            assert_eq!(canonical_ip(bad), None, "{bad}");
        }
    }

    #[test]
    fn non_routable() {
        for ip in [
            "10.0.0.5",
            "172.16.3.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1",
            "fd00::2",
        ] {
            assert!(is_non_routable(&parse_ip(ip).unwrap()), "{ip}");
        }
        for ip in ["203.0.113.7", "8.8.8.8", "2001:db8::1"] {
            assert!(!is_non_routable(&parse_ip(ip).unwrap()), "{ip}");
        }
    }
    #[test]
    fn parse_user_ids() {
        assert_eq!(
            EntityId::parse("ip:075.050.255.67").unwrap().to_string(),
            "ip:75.50.255.67"
        );
        assert_eq!(
            EntityId::parse("domain:Evil.Example.COM.")
                .unwrap()
                .to_string(),
            "domain:evil.example.com"
        );
        assert!(matches!(
            EntityId::parse("nonsense"),
            Err(EntityParseError::MissingColon)
        ));
        assert!(matches!(
            EntityId::parse("host:x"),
            Err(EntityParseError::UnknownKind(_))
        ));
        assert!(matches!(
            EntityId::parse("ip:not-an-ip"),
            Err(EntityParseError::BadValue(..))
        ));
    }

    #[test]
    fn source_address_lists() {
        let all: Vec<String> = source_addresses("10.0.0.1, 81.2.69.142,192.168.10.10")
            .map(|ip| ip.to_string())
            .collect();
        assert_eq!(all, ["10.0.0.1", "81.2.69.142", "192.168.10.10"]);
        assert_eq!(
            caller_address("10.0.0.1, 81.2.69.142, 8.8.8.8").map(|ip| ip.to_string()),
            Some("81.2.69.142".to_string())
        );
        assert_eq!(
            caller_address("10.0.0.1, 192.168.0.1").map(|ip| ip.to_string()),
            Some("10.0.0.1".to_string()),
            "no public address: the first"
        );
        assert_eq!(caller_address("ec2.amazonaws.com"), None);
        assert_eq!(caller_address("AWS Internal"), None);
    }

    #[test]
    fn record_text_is_what_a_record_contains() {
        let t = |s: &str| EntityId::parse(s).unwrap().record_text().to_string();
        assert_eq!(t("user:arn:aws:iam::123456789012:user/path/alice"), "alice");
        assert_eq!(t("user:arn:aws:iam::123456789012:root"), "123456789012");
        assert_eq!(t("sso-user:d-9067642ac7/5448-94e8"), "5448-94e8");
        assert_eq!(
            t("idp-user:alice@example.com@accounts.google.com"),
            "alice@example.com"
        );
        assert_eq!(t("instance:i-12345678"), "i-12345678");
    }

    #[test]
    fn new_kinds_parse_and_only_people_link() {
        for (id, principal, links) in [
            ("service:ec2.amazonaws.com", true, false),
            ("sso-user:d-9067642ac7/5448", true, true),
            ("idp-user:alice@accounts.google.com", true, true),
            ("account:123456789012", false, false),
        ] {
            let e = EntityId::parse(id).unwrap();
            assert_eq!(e.to_string(), id);
            assert_eq!(e.kind.is_principal(), principal, "{id}");
            assert_eq!(e.kind.links_findings(), links, "{id}");
        }
    }
}
