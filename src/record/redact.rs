//! Redaction: account ids, access key ids, IP addresses, ARNs' account parts and user names are
//! replaced by pseudonyms, the same input giving the same pseudonym throughout the file, so a real
//! incident becomes training material with its shape (who talked to whom, which key did what)
//! intact. Applied to every string of every line, JSON nested in strings included.

use regex::{Captures, Regex};
use std::collections::HashMap;

/// The pseudonyms of one file.
pub struct Redactor {
    accounts: HashMap<String, String>,
    keys: HashMap<String, String>,
    ips: HashMap<String, String>,
    users: HashMap<String, String>,
    re_key: Regex,
    re_ipv4: Regex,
    re_ipv6: Regex,
    re_account: Regex,
    re_user_arn: Regex,
    re_user_field: Regex,
}

#[derive(Debug, thiserror::Error)]
#[error("redaction pattern: {0}")]
pub struct PatternError(#[from] regex::Error);

impl Redactor {
    pub fn new() -> Result<Redactor, PatternError> {
        Ok(Redactor {
            accounts: HashMap::new(),
            keys: HashMap::new(),
            ips: HashMap::new(),
            users: HashMap::new(),
            re_key: Regex::new(r"\b(AKIA|ASIA|AIDA|AROA|ANPA|AGPA)[A-Z0-9]{12,20}\b")?,
            re_ipv4: Regex::new(
                r"\b(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}\b",
            )?,
            // Candidates with two colons or more; only what parses as an IPv6 address is one.
            re_ipv6: Regex::new(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*")?,
            // Every run of digits: exactly twelve is an account id (in `123456789012_CloudTrail`
            // too, where a word boundary would not be).
            re_account: Regex::new(r"\d+")?,
            // An IAM user (or an assumed role's session, often a person's name) in an ARN.
            re_user_arn: Regex::new(
                r"(:user/(?:[\w+=,.@-]+/)*|:assumed-role/[\w+=,.@-]+/)([\w+=,.@-]+)",
            )?,
            // "userName":"alice" in a record, escaped or not (JSON nested in a string).
            re_user_field: Regex::new(
                r#"((?:\\*")(?:userName|UserName|Username)\\*"\s*:\s*\\*")([\w+=,.@-]+)"#,
            )?,
        })
    }

    fn pseudonym(
        map: &mut HashMap<String, String>,
        real: &str,
        make: impl Fn(usize) -> String,
    ) -> String {
        let n = map.len() + 1;
        map.entry(real.to_string())
            .or_insert_with(|| make(n))
            .clone()
    }

    /// Redacts one string.
    pub fn text(&mut self, s: &str) -> String {
        let s = self
            .re_user_arn
            .replace_all(s, |c: &Captures| {
                // A session named after its instance (instance-role credentials) names no person.
                if crate::model::entity::is_instance_id(&c[2]) {
                    return c[0].to_string();
                }
                let user = Self::pseudonym(&mut self.users, &c[2], |n| format!("user-{n:03}"));
                format!("{}{user}", &c[1])
            })
            .into_owned();
        let s = self
            .re_user_field
            .replace_all(&s, |c: &Captures| {
                let user = Self::pseudonym(&mut self.users, &c[2], |n| format!("user-{n:03}"));
                format!("{}{user}", &c[1])
            })
            .into_owned();
        let s = self
            .re_key
            .replace_all(&s, |c: &Captures| {
                let prefix = c[1].to_string();
                Self::pseudonym(&mut self.keys, &c[0], |n| format!("{prefix}REDACTED{n:08}"))
            })
            .into_owned();
        let s = self
            .re_ipv4
            .replace_all(&s, |c: &Captures| {
                let Ok(ip) = c[0].parse::<std::net::Ipv4Addr>() else {
                    return c[0].to_string();
                };
                // Loopback, link-local (the metadata service) and the like identify nobody.
                if ip.is_loopback() || ip.is_link_local() || ip.is_unspecified() {
                    return c[0].to_string();
                }
                // A private address stays private (10/8) and a public one public (the
                // benchmarking range 198.18.0.0/15, no real host): the graph treats them apart.
                let private = ip.is_private();
                Self::pseudonym(&mut self.ips, &c[0], |n| {
                    if private {
                        format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
                    } else {
                        format!(
                            "198.{}.{}.{}",
                            18 + (n >> 16) % 2,
                            (n >> 8) & 0xff,
                            n & 0xff
                        )
                    }
                })
            })
            .into_owned();
        let s = self
            .re_ipv6
            .replace_all(&s, |c: &Captures| {
                let Ok(ip) = c[0].parse::<std::net::Ipv6Addr>() else {
                    return c[0].to_string();
                };
                let seg0 = ip.segments()[0];
                if ip.is_loopback() || ip.is_unspecified() || (seg0 & 0xffc0) == 0xfe80 {
                    return c[0].to_string();
                }
                let unique_local = (seg0 & 0xfe00) == 0xfc00;
                Self::pseudonym(&mut self.ips, &c[0], |n| {
                    if unique_local {
                        format!("fd00::{n:x}")
                    } else {
                        format!("2001:db8::{n:x}")
                    }
                })
            })
            .into_owned();
        self.re_account
            .replace_all(&s, |c: &Captures| {
                if c[0].len() != 12 {
                    return c[0].to_string();
                }
                Self::pseudonym(&mut self.accounts, &c[0], |n| {
                    format!("{:012}", 100_000_000_000u64 + n as u64)
                })
            })
            .into_owned()
    }

    /// Redacts every string (and object key) of a JSON value.
    pub fn value(&mut self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = self.text(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.value(x)),
            serde_json::Value::Object(o) => {
                let old = std::mem::take(o);
                for (k, mut x) in old {
                    self.value(&mut x);
                    o.insert(self.text(&k), x);
                }
            }
            _ => {}
        }
    }

    /// How many distinct values were replaced, by kind.
    pub fn counts(&self) -> [(&'static str, usize); 4] {
        [
            ("accounts", self.accounts.len()),
            ("access keys", self.keys.len()),
            ("addresses", self.ips.len()),
            ("user names", self.users.len()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_value_gets_the_same_pseudonym() {
        let mut r = Redactor::new().unwrap();
        let a = r.text(
            "arn:aws:iam::123456789012:user/alice from 203.0.113.7 with AKIAIOSFODNN7EXAMPLE",
        );
        let b = r.text("123456789012 alice? no: user/alice, 203.0.113.7, AKIAIOSFODNN7EXAMPLE");
        assert!(!a.contains("123456789012") && !a.contains("alice") && !a.contains("203.0.113.7"));
        assert!(!a.contains("AKIAIOSFODNN7EXAMPLE"), "{a}");
        assert!(a.contains("arn:aws:iam::100000000001:user/user-001"), "{a}");
        assert!(
            b.contains("100000000001")
                && b.contains("198.18.0.1")
                && b.contains("AKIAREDACTED00000001"),
            "{b}"
        );
        let nested = r#"{\"userName\":\"alice\",\"sourceIPAddress\":\"203.0.113.7\"}"#;
        let c = r.text(nested);
        assert!(c.contains(r#"\"userName\":\"user-001\""#), "{c}");
        assert!(c.contains("198.18.0.1"), "{c}");
        // Private stays private, compressed IPv6 is one address, times and MACs are left.
        let d = r.text("10.20.0.5 -> 2001:db8:4a1:2c00::17 at 10:02:14 from 0a:1b:2c:3d:4e:5f");
        assert!(d.starts_with("10.0.0."), "{d}");
        assert!(d.contains(" 2001:db8::") && !d.contains("4a1:2c00"), "{d}");
        assert!(d.contains("at 10:02:14 from 0a:1b:2c:3d:4e:5f"), "{d}");
    }
}
