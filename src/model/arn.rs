//! ARNs: which partitions count, and which entity an ARN (or a bare id) names. Part of the
//! contract in docs/ENTITY-MODEL.md.

use super::entity::{EntityId, EntityKind, is_access_key_id, is_instance_id};

/// The partitions whose ARNs name entities: the commercial one, China, GovCloud and the
/// isolated ones. Anything else (`awsfoo`, a typo) is not an AWS ARN.
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Whether `s` has a byte that whitespace could begin: ASCII whitespace is 0x09–0x0d and 0x20,
/// the rest is beyond ASCII. Eight bytes at a time: a byte below 0x21 sets its high bit after
/// the subtraction (a borrow can set higher ones too, but only after a byte that counts).
fn maybe_spaced(s: &str) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let words = s.as_bytes().chunks_exact(8);
    let tail = words.remainder();
    let mut found = tail.iter().any(|&b| b <= b' ' || b >= 0x80);
    for w in words {
        let w = u64::from_le_bytes(<[u8; 8]>::try_from(w).unwrap_or([b'a'; 8]));
        found |= ((w.wrapping_sub(ONES * 0x21) & !w) | w) & HIGH != 0;
    }
    found
}

/// The parts of `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
pub(crate) struct Arn<'a> {
    partition: &'a str,
    service: &'a str,
    pub(crate) account: &'a str,
    resource: &'a str,
}

pub(crate) fn split_arn(s: &str) -> Option<Arn<'_>> {
    let rest = s.strip_prefix("arn:")?;
    // Every string value of a record is asked whether it is an ARN: the colons are found as
    // bytes (a colon is never part of a multi-byte character), and whitespace is looked for
    // character by character only where a byte could begin some.
    let mut colons = memchr::memchr_iter(b':', rest.as_bytes());
    let (p, sv, r, a) = (
        colons.next()?,
        colons.next()?,
        colons.next()?,
        colons.next()?,
    );
    let partition = &rest[..p];
    let service = &rest[p + 1..sv];
    let account = &rest[r + 1..a];
    let resource = &rest[a + 1..];
    let spaced = maybe_spaced(s) && s.contains(char::is_whitespace);
    if !PARTITIONS.contains(&partition) || resource.is_empty() || spaced {
        return None;
    }
    Some(Arn {
        partition,
        service,
        account,
        resource,
    })
}

/// What names an ARN's resource once its account is shown beside it: the part after the account
/// (`assumed-role/Admin/alice`, `user/bob`, `root`, a bucket's name). Anything that is not an
/// ARN is itself.
pub fn short_name(s: &str) -> &str {
    split_arn(s).map_or(s, |a| a.resource)
}

/// The partition of a region, for ARNs vigil has to build from an account id and a name.
pub fn partition_of_region(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// Classifies an ARN or id found anywhere in a CloudTrail event into the entity it names.
/// Resource ARNs name the same entity as the bare id: an EC2 instance ARN is `instance:i-…`,
/// a bucket or object ARN is `bucket:NAME`.
pub fn classify_identifier(s: &str) -> Option<EntityId> {
    if s.len() < 10 || s.len() > 2048 {
        return None;
    }
    if is_instance_id(s) {
        return Some(EntityId::new(EntityKind::Instance, s));
    }
    if is_access_key_id(s) {
        return Some(EntityId::new(EntityKind::Key, s));
    }
    let arn = split_arn(s)?;
    let has = |prefix: &str| {
        arn.resource
            .strip_prefix(prefix)
            .is_some_and(|r| !r.is_empty() && !r.ends_with('/'))
    };
    match arn.service {
        "iam" if !arn.account.is_empty() => {
            if arn.resource == "root" || has("user/") {
                Some(EntityId::new(EntityKind::User, s))
            } else if has("role/") {
                Some(EntityId::new(EntityKind::Role, s))
            } else {
                None
            }
        }
        "sts" if !arn.account.is_empty() => {
            let is_session = if let Some(parts) = arn.resource.strip_prefix("assumed-role/") {
                parts
                    .split_once('/')
                    .is_some_and(|(role, session)| !role.is_empty() && !session.is_empty())
            } else {
                has("federated-user/")
            };
            is_session.then(|| EntityId::new(EntityKind::Session, s))
        }
        "s3" if arn.account.is_empty() => {
            let bucket = arn.resource.split('/').next().unwrap_or("");
            (!bucket.is_empty()).then(|| EntityId::new(EntityKind::Bucket, bucket))
        }
        "ec2" => arn
            .resource
            .strip_prefix("instance/")
            .filter(|i| is_instance_id(i))
            .map(|i| EntityId::new(EntityKind::Instance, i)),
        _ => None,
    }
}

/// For a session ARN (`…:assumed-role/ROLE/SESSION`, `…:federated-user/NAME`), the session name.
pub fn session_name(arn: &str) -> Option<&str> {
    arn.rsplit_once('/').map(|(_, s)| s)
}

/// For `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`, the role's ARN
/// `arn:aws:iam::ACCT:role/ROLE` (used when the event does not name the role itself).
pub fn role_of_session(arn: &str) -> Option<String> {
    let a = split_arn(arn)?;
    let (role, _) = a.resource.strip_prefix("assumed-role/")?.split_once('/')?;
    Some(format!(
        "arn:{}:iam::{}:role/{role}",
        a.partition, a.account
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_name_is_the_resource_part_of_an_arn() {
        for (arn, short) in [
            (
                "arn:aws:sts::111122223333:assumed-role/Admin/alice",
                "assumed-role/Admin/alice",
            ),
            ("arn:aws-cn:iam::111122223333:root", "root"),
            ("arn:aws:s3:::amzn-s3-demo-bucket", "amzn-s3-demo-bucket"),
            ("i-0123456789abcdef0", "i-0123456789abcdef0"),
            ("arn:awsfoo:iam::1:user/x", "arn:awsfoo:iam::1:user/x"),
        ] {
            assert_eq!(short_name(arn), short, "{arn}");
        }
    }

    #[test]
    fn classify() {
        let c = |s: &str| classify_identifier(s).map(|e| e.to_string());
        assert_eq!(
            c("i-0123456789abcdef0").as_deref(),
            Some("instance:i-0123456789abcdef0")
        );
        assert_eq!(c("i-12345678").as_deref(), Some("instance:i-12345678"));
        assert_eq!(c("i-0123456789abcdef01"), None, "18 hex digits is too long");
        assert_eq!(
            c("AKIAIOSFODNN7EXAMPLE").as_deref(),
            Some("key:AKIAIOSFODNN7EXAMPLE")
        );
        assert_eq!(
            c("arn:aws:iam::123456789012:role/path/Admin").as_deref(),
            Some("role:arn:aws:iam::123456789012:role/path/Admin")
        );
        assert_eq!(
            c("arn:aws:iam::123456789012:user/alice").as_deref(),
            Some("user:arn:aws:iam::123456789012:user/alice")
        );
        assert_eq!(
            c("arn:aws:iam::123456789012:root").as_deref(),
            Some("user:arn:aws:iam::123456789012:root")
        );
        assert_eq!(
            c("arn:aws:sts::123456789012:assumed-role/Dev/i-0abc12345678def01").as_deref(),
            Some("session:arn:aws:sts::123456789012:assumed-role/Dev/i-0abc12345678def01")
        );
        assert_eq!(
            c("arn:aws:s3:::my-bucket").as_deref(),
            Some("bucket:my-bucket")
        );
        assert_eq!(
            c("arn:aws:s3:::my-bucket/key.txt").as_deref(),
            Some("bucket:my-bucket"),
            "an object ARN names its bucket"
        );
        assert_eq!(c("arn:aws:s3:::/key.txt"), None);
        assert_eq!(
            c("arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0123456789abcdef0")
                .as_deref(),
            Some("instance:i-0123456789abcdef0")
        );
        assert_eq!(
            c("arn:aws:ec2:us-east-1:123456789012:instance/not-an-instance"),
            None
        );
        assert_eq!(
            c("arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0"),
            None
        );
        assert_eq!(
            c("arn:aws-cn:iam::123456789012:role/service-role/Admin").as_deref(),
            Some("role:arn:aws-cn:iam::123456789012:role/service-role/Admin")
        );
        assert_eq!(
            c("arn:aws:sts::123456789012:federated-user/bob").as_deref(),
            Some("session:arn:aws:sts::123456789012:federated-user/bob")
        );
        assert_eq!(c("arn:awsx:iam::123456789012:user/alice"), None);
        assert_eq!(c("arn:aws:iam::123456789012:role/"), None);
        assert_eq!(c("arn:aws:iam::123456789012:policy/P"), None);
        assert_eq!(
            c("arn: aws: sts: : 123456789012: assumed-role/DevRole/Dev1"),
            None
        );
    }

    #[test]
    fn whitespace_anywhere_is_no_arn_and_other_text_is_kept() {
        // Every character Rust calls whitespace, ASCII (vertical tab too) or not.
        for ws in [
            '\t', '\n', '\u{0b}', '\u{0c}', '\r', ' ', '\u{85}', '\u{a0}', '\u{2003}',
        ] {
            let s = format!("arn:aws:iam::123456789012:user/a{ws}b");
            assert!(split_arn(&s).is_none(), "{s:?}");
        }
        for len in 0..40 {
            for at in 0..len {
                for (byte, spaced) in [
                    (b' ', true),
                    (0x0b, true),
                    (0x01, true),
                    (b'!', false),
                    (b'~', false),
                    (0x7f, false),
                ] {
                    let mut b = vec![b'a'; len];
                    b[at] = byte;
                    let s = String::from_utf8(b).unwrap();
                    assert_eq!(maybe_spaced(&s), spaced, "{s:?}");
                }
            }
        }
        assert!(maybe_spaced("abcdefghé"), "beyond ASCII");
        let a = split_arn("arn:aws:iam::123456789012:user/zoë:x").map(|a| (a.service, a.account));
        assert_eq!(a, Some(("iam", "123456789012")));
        assert_eq!(
            short_name("arn:aws:iam::123456789012:user/zoë:x"),
            "user/zoë:x"
        );
        assert!(
            split_arn("arn:aws:iam::123456789012").is_none(),
            "no resource part"
        );
    }

    #[test]
    fn session_helpers() {
        let arn = "arn:aws:sts::123456789012:assumed-role/WebRole/i-0abc12345678def01";
        assert_eq!(session_name(arn), Some("i-0abc12345678def01"));
        assert_eq!(
            role_of_session(arn).as_deref(),
            Some("arn:aws:iam::123456789012:role/WebRole")
        );
    }
}
