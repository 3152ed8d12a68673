//! CloudTrail's LookupEvents API as a pivot: which entities it can filter on (one lookup attribute
//! per call, no source IP), the window it can answer (the last 90 days), and the rate it allows
//! (two requests per second per account and region). Pure: the caller owns the clock.

use super::window::Window;
use crate::model::{EntityId, EntityKind, Ts};
use std::time::Duration;

/// LookupEvents answers the last 90 days of management events.
pub const LOOKUP_DAYS: i64 = 90;

/// "The rate of lookup requests is limited to two per second, per account, per region"
/// (CloudTrail API Reference, LookupEvents). vigil stays a little under it, so that network jitter
/// bunching two requests together at the server does not make a third one look early.
pub const LOOKUP_PER_SECOND: f64 = 1.8;

/// The attribute keys LookupEvents filters on (`LookupAttribute.AttributeKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LookupKey {
    AccessKeyId,
    Username,
    ResourceName,
    EventName,
    EventSource,
}

impl LookupKey {
    pub fn as_str(self) -> &'static str {
        match self {
            LookupKey::AccessKeyId => "AccessKeyId",
            LookupKey::Username => "Username",
            LookupKey::ResourceName => "ResourceName",
            LookupKey::EventName => "EventName",
            LookupKey::EventSource => "EventSource",
        }
    }
}

/// One lookup attribute: what a LookupEvents call filters on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LookupAttr {
    pub key: LookupKey,
    pub value: String,
}

impl std::fmt::Display for LookupAttr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key.as_str(), self.value)
    }
}

/// The lookup attribute that finds `e`'s events, or why LookupEvents cannot (the trail shows that
/// sentence instead of an empty API answer). The answer is a superset at worst (a user name is
/// the same in every account): the caller keeps the events whose entities contain `e`.
pub fn attribute_for(e: &EntityId) -> Result<LookupAttr, &'static str> {
    let attr = |key, value: &str| {
        Ok(LookupAttr {
            key,
            value: value.to_string(),
        })
    };
    let last = |arn: &str| arn.rsplit(['/', ':']).next().unwrap_or(arn).to_string();
    match e.kind {
        EntityKind::Key => attr(LookupKey::AccessKeyId, &e.value),
        // CloudTrail's user name: an IAM user's name, `root`, an assumed role's session name.
        EntityKind::User | EntityKind::Session => attr(LookupKey::Username, &last(&e.value)),
        // A role is named in the events about it (its ARN as a resource); its sessions' calls
        // are found through each session.
        EntityKind::Role | EntityKind::Instance | EntityKind::Bucket => {
            attr(LookupKey::ResourceName, &e.value)
        }
        EntityKind::SsoUser => match e.value.split_once('/') {
            Some((account, name)) if account.bytes().all(|b| b.is_ascii_digit()) => {
                attr(LookupKey::Username, name)
            }
            _ => Err("LookupEvents cannot filter by an Identity Center user id: local index only"),
        },
        EntityKind::Ip => Err("LookupEvents cannot filter by source IP: local index only"),
        EntityKind::Domain => Err("LookupEvents cannot filter by domain: local index only"),
        EntityKind::Ua => Err("LookupEvents cannot filter by user agent: local index only"),
        EntityKind::Account => {
            Err("LookupEvents reads the caller's own account only: local index only")
        }
        EntityKind::Service | EntityKind::IdpUser | EntityKind::Finding => {
            Err("LookupEvents cannot filter by this kind of entity: local index only")
        }
    }
}

/// The part of `w` LookupEvents can answer at `now`: clipped to the last 90 days (an open
/// start is 90 days ago, an open end is now). `None` when nothing of `w` is that recent.
pub fn api_window(w: Window, now: Ts) -> Option<Window> {
    let oldest = Ts(now.0 - LOOKUP_DAYS * 86_400_000);
    let from = w.from.map_or(oldest, |f| f.max(oldest));
    let to = w.to.map_or(now, |t| t.min(now));
    (from < to).then_some(Window {
        from: Some(from),
        to: Some(to),
    })
}

/// A token bucket: `per_second` requests on average, at most `burst` at once. Time is whatever
/// monotonic offset the caller passes, so tests drive it without waiting.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    last: Option<Duration>,
}

impl TokenBucket {
    /// A bucket that starts full.
    pub fn new(per_second: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket {
            per_second: per_second.max(f64::MIN_POSITIVE),
            burst,
            tokens: burst,
            last: None,
        }
    }

    /// LookupEvents' bucket: one request at a time, [`LOOKUP_PER_SECOND`].
    pub fn lookup_events() -> TokenBucket {
        TokenBucket::new(LOOKUP_PER_SECOND, 1)
    }

    /// Reserves the next request at `now`: how long to wait before sending it (zero: at once).
    pub fn reserve(&mut self, now: Duration) -> Duration {
        if let Some(last) = self.last {
            let refill = now.saturating_sub(last).as_secs_f64() * self.per_second;
            self.tokens = (self.tokens + refill).min(self.burst);
        }
        self.last = Some(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(kind: EntityKind, v: &str) -> EntityId {
        EntityId::new(kind, v)
    }

    #[test]
    fn filterable_entities_name_their_attribute() {
        let a = |k, v| attribute_for(&id(k, v)).map(|a| a.to_string());
        assert_eq!(
            a(EntityKind::Key, "AKIAIOSFODNN7EXAMPLE"),
            Ok("AccessKeyId=AKIAIOSFODNN7EXAMPLE".into())
        );
        assert_eq!(
            a(EntityKind::User, "arn:aws:iam::123456789012:user/ops/alice"),
            Ok("Username=alice".into())
        );
        assert_eq!(
            a(EntityKind::User, "arn:aws:iam::123456789012:root"),
            Ok("Username=root".into())
        );
        assert_eq!(
            a(
                EntityKind::Session,
                "arn:aws:sts::123456789012:assumed-role/Web/i-0abc"
            ),
            Ok("Username=i-0abc".into())
        );
        assert_eq!(
            a(EntityKind::Instance, "i-0abc"),
            Ok("ResourceName=i-0abc".into())
        );
        assert_eq!(
            a(EntityKind::SsoUser, "123456789012/jane.doe"),
            Ok("Username=jane.doe".into())
        );
        let ip = a(EntityKind::Ip, "203.0.113.7").unwrap_err();
        assert!(ip.contains("cannot filter by source IP"), "{ip}");
        assert!(a(EntityKind::SsoUser, "d-9067642ac7/5448").is_err());
    }

    #[test]
    fn the_api_window_is_the_last_ninety_days() {
        let now = Ts(1_000 * 86_400_000);
        let w = api_window(Window::all(), now).unwrap();
        assert_eq!(w.from, Some(Ts(now.0 - 90 * 86_400_000)));
        assert_eq!(w.to, Some(now));
        let old = Window {
            from: Some(Ts(0)),
            to: Some(Ts(86_400_000)),
        };
        assert_eq!(api_window(old, now), None);
        let recent = Window {
            from: Some(Ts(now.0 - 3_600_000)),
            to: None,
        };
        assert_eq!(api_window(recent, now).unwrap().from, recent.from);
    }

    /// Requests as fast as the bucket lets them go, over a simulated minute: never more than two
    /// in any one-second window, and close to the rate on average.
    #[test]
    fn the_bucket_keeps_lookups_under_two_per_second() {
        let mut b = TokenBucket::lookup_events();
        let mut now = Duration::ZERO;
        let mut sent = Vec::new();
        while now < Duration::from_secs(60) {
            now += b.reserve(now);
            sent.push(now);
        }
        for w in sent.windows(3) {
            assert!(
                w[2] - w[0] >= Duration::from_secs(1),
                "three requests within a second: {w:?}"
            );
        }
        let rate = sent.len() as f64 / 60.0;
        assert!((1.7..=1.85).contains(&rate), "{rate} per second");
        // An idle bucket refills to its burst, not beyond.
        let mut b = TokenBucket::new(2.0, 3);
        let t = Duration::from_secs(100);
        assert_eq!(b.reserve(t), Duration::ZERO);
        assert_eq!(b.reserve(t), Duration::ZERO);
        assert_eq!(b.reserve(t), Duration::ZERO);
        assert_eq!(b.reserve(t), Duration::from_millis(500));
    }
}
