//! Where AWS services deliver logs in S3, and which prefixes can hold what a question asks for:
//! `PREFIX/AWSLogs/[o-ORG/]ACCOUNT/SERVICE/REGION/YYYY/MM/DD/…` — `CloudTrail` (digests beside it
//! under `CloudTrail-Digest/`, Insights events under `CloudTrail-Insight/`), GuardDuty's findings export (`GuardDuty`), VPC flow logs
//! (`vpcflowlogs`); Route 53 Resolver query logs have a VPC id where the region is
//! (`vpcdnsquerylogs`). Flow logs may also use the Hive-compatible prefixes
//! (`aws-account-id=ACCOUNT/aws-service=vpcflowlogs/aws-region=REGION/year=YYYY/month=MM/day=DD/`).
//! Given a window, accounts and regions, the listing walks the layout one level at a time and
//! lists only the day folders that can hold matching events, instead of the whole bucket. Pure:
//! the caller lists.

use super::window::Window;
use crate::model::Ts;

/// `s3://BUCKET/PREFIX` split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    /// The key prefix, without a leading `/`; empty for the whole bucket.
    pub prefix: String,
}

impl S3Uri {
    /// `s3://bucket[/prefix]`, or `None` for anything else (a local path).
    pub fn parse(text: &str) -> Option<S3Uri> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Uri {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    pub fn key_uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// What the listing may leave out.
#[derive(Debug, Clone, Default)]
pub struct Prune {
    /// The service folder below each account (`CloudTrail`, `GuardDuty`, `vpcflowlogs`,
    /// `vpcdnsquerylogs`); `None`: list everything under the prefix.
    pub service: Option<String>,
    pub window: Window,
    /// Only these accounts (empty: all).
    pub accounts: Vec<String>,
    /// Only these regions (empty: all).
    pub regions: Vec<String>,
    /// With `CloudTrail`: also the digest files beside it (`CloudTrail-Digest/`), for the
    /// integrity checks.
    pub digests: bool,
}

/// The service folders whose layout below is REGION (or VPC)/YYYY/MM/DD.
pub const SERVICES: [&str; 6] = [
    "CloudTrail",
    "CloudTrail-Digest",
    "CloudTrail-Insight",
    "GuardDuty",
    "vpcflowlogs",
    "vpcdnsquerylogs",
];

/// A folder's name without its Hive-compatible key (`aws-account-id=`, `aws-service=`,
/// `aws-region=`): the account, service or region it names.
pub fn plain(name: &str) -> &str {
    ["aws-account-id=", "aws-service=", "aws-region="]
        .iter()
        .find_map(|k| name.strip_prefix(k))
        .unwrap_or(name)
}

/// Whether a folder name is in the Hive-compatible layout.
pub fn is_hive(name: &str) -> bool {
    plain(name) != name
}

/// Where `prefix` stands in the layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    /// Above `AWSLogs/` (the bucket or the trail's own prefix): `AWSLogs/` is next.
    Top,
    /// At `…/AWSLogs/`: accounts, or `o-ORG/` folders, are next.
    Accounts,
    /// At `…/AWSLogs/o-ORG/`: accounts are next.
    OrgAccounts,
    /// At `…/ACCOUNT/CloudTrail/`: regions are next.
    Regions,
    /// At `…/CloudTrail/REGION/`: days are next.
    Days,
    /// Anywhere else (inside a day, or not CloudTrail's layout): list everything under it.
    Leaf,
}

/// The level of a prefix that ends with `/` (or is empty).
pub fn level_of(prefix: &str) -> Level {
    let parts: Vec<&str> = prefix.split('/').filter(|p| !p.is_empty()).collect();
    let Some(at) = parts.iter().position(|p| *p == "AWSLogs") else {
        return if prefix.is_empty() || prefix.ends_with('/') {
            Level::Top
        } else {
            Level::Leaf
        };
    };
    let rest = &parts[at + 1..];
    let org = rest.first().is_some_and(|p| p.starts_with("o-"));
    let rest = if org { &rest[1..] } else { rest };
    match rest {
        [] if org => Level::OrgAccounts,
        [] => Level::Accounts,
        [_account] => Level::Leaf,
        [_account, service] if SERVICES.contains(&plain(service)) => Level::Regions,
        [_account, service, _region] if SERVICES.contains(&plain(service)) => Level::Days,
        _ => Level::Leaf,
    }
}

/// The day folders (`YYYY/MM/DD/`) that can hold events of `w`: a log file is delivered after its
/// events (within about 15 minutes), in the folder of its delivery day, so the folders run from
/// the window's first day to the day after its last. `None`: the window is open (list all days).
/// `hive`: the folders are `year=YYYY/month=MM/day=DD/`.
pub fn days(w: Window, hive: bool) -> Option<Vec<String>> {
    let (from, to) = (w.from?, w.to?);
    const DAY: i64 = 86_400_000;
    let first = from.0.div_euclid(DAY);
    let last = (to.0 - 1).div_euclid(DAY) + 1;
    if last < first || last - first > 3660 {
        return None;
    }
    Some(
        (first..=last)
            .map(|d| {
                let s = Ts(d * DAY).to_rfc3339_secs();
                let (y, m, d) = (&s[0..4], &s[5..7], &s[8..10]);
                if hive {
                    format!("year={y}/month={m}/day={d}/")
                } else {
                    format!("{y}/{m}/{d}/")
                }
            })
            .collect(),
    )
}

/// Whether a listed folder (`…/NAME/`) is kept at `level` by `p`.
pub fn keep(level: &Level, name: &str, p: &Prune) -> bool {
    match level {
        Level::Accounts | Level::OrgAccounts => {
            // `o-ORG` folders are walked into; accounts are filtered.
            (matches!(level, Level::Accounts) && name.starts_with("o-"))
                || p.accounts.is_empty()
                || p.accounts.iter().any(|a| a == plain(name))
        }
        // A query-log folder is a VPC, not a region: not pruned by region.
        Level::Regions => {
            p.regions.is_empty()
                || p.service.as_deref() == Some("vpcdnsquerylogs")
                || p.regions.iter().any(|r| r == plain(name))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_levels() {
        let u = S3Uri::parse("s3://trail-bucket/org/AWSLogs/").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.prefix.as_str()),
            ("trail-bucket", "org/AWSLogs/")
        );
        assert_eq!(S3Uri::parse("s3://b").unwrap().prefix, "");
        assert_eq!(S3Uri::parse("/tmp/x"), None);
        assert_eq!(level_of(""), Level::Top);
        assert_eq!(level_of("org/"), Level::Top);
        assert_eq!(level_of("AWSLogs/"), Level::Accounts);
        assert_eq!(level_of("x/AWSLogs/o-abc123/"), Level::OrgAccounts);
        assert_eq!(level_of("AWSLogs/123456789012/CloudTrail/"), Level::Regions);
        assert_eq!(
            level_of("AWSLogs/o-abc/123456789012/CloudTrail/eu-west-1/"),
            Level::Days
        );
        assert_eq!(
            level_of("AWSLogs/123456789012/CloudTrail/eu-west-1/2024/05/"),
            Level::Leaf
        );
        assert_eq!(
            level_of("AWSLogs/123456789012/vpcflowlogs/"),
            Level::Regions
        );
        assert_eq!(
            level_of("AWSLogs/123456789012/GuardDuty/us-east-1/"),
            Level::Days
        );
        assert_eq!(
            level_of("AWSLogs/123456789012/elasticloadbalancing/"),
            Level::Leaf
        );
        // Flow logs' Hive-compatible prefixes.
        assert_eq!(
            level_of("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"),
            Level::Regions
        );
        assert_eq!(
            level_of(
                "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/"
            ),
            Level::Days
        );
        let p = Prune {
            accounts: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            ..Prune::default()
        };
        assert!(keep(&Level::Accounts, "aws-account-id=123456789012", &p));
        assert!(!keep(&Level::Accounts, "aws-account-id=210987654321", &p));
        assert!(keep(&Level::Regions, "aws-region=us-east-1", &p));
        assert!(!keep(&Level::Regions, "aws-region=eu-west-1", &p));
    }

    #[test]
    fn a_window_names_its_days_and_the_next() {
        let w = Window {
            from: Ts::parse("2024-05-01T23:00:00Z"),
            to: Ts::parse("2024-05-02T01:00:00Z"),
        };
        assert_eq!(
            days(w, false).unwrap(),
            vec!["2024/05/01/", "2024/05/02/", "2024/05/03/"]
        );
        assert_eq!(
            days(w, true).unwrap()[0],
            "year=2024/month=05/day=01/".to_string()
        );
        assert_eq!(days(Window::all(), false), None);
    }
}
