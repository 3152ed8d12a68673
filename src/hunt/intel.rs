//! Threat-intelligence lists: addresses, CIDR blocks and domains from plain text (one per line,
//! `#` comments), CSV (a named column) or STIX 2.1 bundles (indicator patterns). A threat list
//! turns CloudTrail calls from its addresses into detections; a trusted list suppresses every
//! detection of calls from its addresses (and the hunt says how many).

use crate::model::{EntityId, EntityKind};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    Threat,
    Trusted,
}

/// One list: its name (the file's stem), what it is for, and its indicators. Data: the console
/// is sent its lists (`Msg::Intel`), so a recording replays with the same marks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntelList {
    pub name: String,
    pub kind: ListKind,
    /// Single addresses, looked up at once: a feed holds tens of thousands, and every flow-log
    /// line and trail row asks.
    ips: BTreeSet<IpAddr>,
    /// CIDR blocks wider than one address, tried in turn.
    nets: Vec<IpNet>,
    domains: BTreeSet<String>,
}

/// A line of a list that is not an indicator, or a file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct IntelError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// Every list loaded, threat and trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intel {
    pub lists: Vec<IntelList>,
}

#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    objects: Vec<StixObject>,
}

#[derive(Deserialize)]
struct StixObject {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    pattern: Option<String>,
    #[serde(default)]
    pattern_type: Option<String>,
    /// Withdrawn by its producer (STIX 2.1 §3.2): no longer to be used.
    #[serde(default)]
    revoked: Option<bool>,
}

impl IntelList {
    pub fn len(&self) -> usize {
        self.ips.len() + self.nets.len() + self.domains.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads `path`: a STIX bundle when it is JSON, CSV when it ends in `.csv` (the indicators in
    /// `column`, else the first column named indicator, value, ioc, ip, ip_address, address,
    /// domain or cidr), plain text otherwise. Lines that are not indicators are returned as
    /// errors; the rest of the list is kept.
    pub fn load(
        path: &Path,
        kind: ListKind,
        column: Option<&str>,
    ) -> Result<(IntelList, Vec<IntelError>), IntelError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| IntelError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        let name = path
            .file_stem()
            .map_or_else(|| file.clone(), |s| s.to_string_lossy().into_owned());
        let csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        IntelList::parse(&file, name, &text, csv, kind, column)
    }

    /// [`Self::load`] for a list already read (`file` names it in errors; `csv` says the text is
    /// CSV when it is not a STIX bundle).
    pub fn parse(
        file: &str,
        name: String,
        text: &str,
        csv: bool,
        kind: ListKind,
        column: Option<&str>,
    ) -> Result<(IntelList, Vec<IntelError>), IntelError> {
        let file = file.to_string();
        let mut list = IntelList {
            name,
            kind,
            ips: BTreeSet::new(),
            nets: Vec::new(),
            domains: BTreeSet::new(),
        };
        let mut errors = Vec::new();
        let mut bad = |line: usize, message: String| {
            errors.push(IntelError {
                file: file.clone(),
                line,
                message,
            })
        };
        if text.trim_start().starts_with('{') {
            let bundle: Bundle = serde_json::from_str(text).map_err(|e| IntelError {
                file: file.clone(),
                line: e.line(),
                message: format!("not a STIX bundle: {e}"),
            })?;
            if bundle.kind != "bundle" {
                bad(1, format!("a STIX `{}`, not a bundle", bundle.kind));
            }
            for (i, o) in bundle.objects.iter().enumerate() {
                if o.kind != "indicator" || o.pattern_type.as_deref().unwrap_or("stix") != "stix" {
                    continue;
                }
                // A revoked indicator was withdrawn by its producer: not used, and not an error
                // of the list (the console would refuse to open). An expired one
                // (`valid_until`) is kept: the logs hunted are history, from when it was valid.
                if o.revoked == Some(true) {
                    continue;
                }
                let values = stix_values(o.pattern.as_deref().unwrap_or(""));
                if values.is_empty() {
                    bad(
                        0,
                        format!("indicator {i}: no address or domain in its pattern"),
                    );
                }
                for v in values {
                    if let Err(m) = list.add(&v) {
                        bad(0, format!("indicator {i}: {m}"));
                    }
                }
            }
        } else if csv {
            let mut rd = csv::ReaderBuilder::new()
                .flexible(true)
                .from_reader(text.as_bytes());
            let headers = rd.headers().map_err(|e| IntelError {
                file: file.clone(),
                line: 1,
                message: format!("not CSV: {e}"),
            })?;
            const NAMES: [&str; 8] = [
                "indicator",
                "value",
                "ioc",
                "ip",
                "ip_address",
                "address",
                "domain",
                "cidr",
            ];
            let col = headers.iter().position(|h| {
                let h = h.trim().to_ascii_lowercase();
                match column {
                    Some(c) => h == c.to_ascii_lowercase(),
                    None => NAMES.contains(&h.as_str()),
                }
            });
            let Some(col) = col else {
                return Err(IntelError {
                    file,
                    line: 1,
                    message: format!(
                        "no column {} in the header",
                        column.map_or_else(|| NAMES.join("/"), |c| format!("`{c}`"))
                    ),
                });
            };
            for rec in rd.records() {
                match rec {
                    Ok(r) => {
                        let line = r.position().map_or(0, |p| p.line() as usize);
                        let v = r.get(col).unwrap_or("").trim();
                        if v.is_empty() || v.starts_with('#') {
                            continue;
                        }
                        if let Err(m) = list.add(v) {
                            bad(line, m);
                        }
                    }
                    Err(e) => bad(e.position().map_or(0, |p| p.line() as usize), e.to_string()),
                }
            }
        } else {
            for (i, raw) in text.lines().enumerate() {
                let v = raw.split('#').next().unwrap_or("").trim();
                // A tab or space may separate the indicator from a note.
                let v = v.split_whitespace().next().unwrap_or("");
                if v.is_empty() {
                    continue;
                }
                if let Err(m) = list.add(v) {
                    bad(i + 1, m);
                }
            }
        }
        Ok((list, errors))
    }

    /// Adds an address, a CIDR block or a domain.
    fn add(&mut self, v: &str) -> Result<(), String> {
        if let Ok(ip) = v.parse::<IpAddr>() {
            self.ips.insert(ip);
            return Ok(());
        }
        if let Ok(net) = v.parse::<IpNet>() {
            let net = net.trunc();
            if net.prefix_len() == net.max_prefix_len() {
                self.ips.insert(net.addr());
            } else {
                self.nets.push(net);
            }
            return Ok(());
        }
        let d = v.trim_end_matches('.').to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if d.contains('.') && d.len() <= 253 && d.split('.').all(label_ok) {
            self.domains.insert(d);
            return Ok(());
        }
        Err(format!(
            "`{}` is not an address, CIDR block or domain",
            crate::model::text::escape(v)
        ))
    }

    pub fn has_ip(&self, ip: IpAddr) -> bool {
        self.ips.contains(&ip) || self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The domain or any domain it is under (`a.evil.example` is on a list of `evil.example`).
    pub fn has_domain(&self, domain: &str) -> bool {
        self.domain_entry(domain).is_some()
    }

    /// The entry of the list that holds `domain`: itself or the domain it is under.
    pub fn domain_entry(&self, domain: &str) -> Option<&str> {
        if self.domains.is_empty() {
            return None;
        }
        let d = domain.trim_end_matches('.').to_ascii_lowercase();
        let mut at = d.as_str();
        loop {
            if let Some(e) = self.domains.get(at) {
                return Some(e);
            }
            match at.split_once('.') {
                Some((_, rest)) if rest.contains('.') => at = rest,
                _ => return None,
            }
        }
    }
}

/// The addresses and domains a STIX pattern compares for equality (`[ipv4-addr:value =
/// '198.51.100.1'] OR [domain-name:value = 'evil.example']`).
fn stix_values(pattern: &str) -> Vec<String> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"(?:ipv4-addr|ipv6-addr|domain-name):value\s*(?:=|ISSUBSET)\s*'((?:[^'\\]|\\.)*)'",
            )
            .ok()
        })
        .as_ref()
    else {
        return Vec::new();
    };
    re.captures_iter(pattern)
        .filter_map(|c| c.get(1).map(|m| m.as_str().replace("\\'", "'")))
        .collect()
}

impl Intel {
    /// The first threat list holding `ip`.
    pub fn threat_ip(&self, ip: IpAddr) -> Option<&IntelList> {
        self.lists
            .iter()
            .find(|l| l.kind == ListKind::Threat && l.has_ip(ip))
    }

    /// The first trusted list holding `ip`.
    pub fn trusted_ip(&self, ip: IpAddr) -> Option<&IntelList> {
        self.lists
            .iter()
            .find(|l| l.kind == ListKind::Trusted && l.has_ip(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// The list an entity is on, a threat list before a trusted one: addresses (and the address
    /// an `ip` entity names) and domains; other kinds are on no list.
    pub fn mark(&self, e: &EntityId) -> Option<&IntelList> {
        match e.kind {
            EntityKind::Ip => self.mark_ip(&e.value),
            EntityKind::Domain => self.mark_domain(&e.value),
            _ => None,
        }
    }

    /// The list an address (as text: a log's field) is on.
    pub fn mark_ip(&self, text: &str) -> Option<&IntelList> {
        self.ip_on(text, ListKind::Threat)
            .or_else(|| self.ip_on(text, ListKind::Trusted))
    }

    /// The list a domain is on.
    pub fn mark_domain(&self, domain: &str) -> Option<&IntelList> {
        self.domain_on(domain, ListKind::Threat)
            .or_else(|| self.domain_on(domain, ListKind::Trusted))
    }

    /// The first list of this kind holding the address written `text`.
    pub fn ip_on(&self, text: &str, kind: ListKind) -> Option<&IntelList> {
        if self.lists.is_empty() {
            return None;
        }
        let ip: IpAddr = text.trim().parse().ok()?;
        self.lists.iter().find(|l| l.kind == kind && l.has_ip(ip))
    }

    /// The first list of this kind holding the domain (or one it is under).
    pub fn domain_on(&self, domain: &str, kind: ListKind) -> Option<&IntelList> {
        self.lists
            .iter()
            .find(|l| l.kind == kind && !l.domains.is_empty() && l.has_domain(domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn plain_text_with_comments_cidrs_domains_and_a_bad_line() {
        let (_d, p) = write(
            "feed.txt",
            "# feed\n203.0.113.66\t# vpn\n198.51.100.0/24\nEvil.Example.\n\nnot an indicator!\n2001:db8::/32\n",
        );
        let (l, errors) = IntelList::load(&p, ListKind::Threat, None).unwrap();
        assert_eq!(l.name, "feed");
        assert_eq!(l.len(), 4);
        assert!(l.has_ip("203.0.113.66".parse().unwrap()));
        assert!(l.has_ip("198.51.100.200".parse().unwrap()));
        assert!(!l.has_ip("198.51.101.1".parse().unwrap()));
        assert!(l.has_ip("2001:db8::1".parse().unwrap()));
        assert!(l.has_domain("c2.evil.example"));
        assert!(l.has_domain("EVIL.example."));
        assert!(!l.has_domain("notevil.example"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 6);
    }

    #[test]
    fn csv_by_named_or_known_column() {
        let text = "first_seen,ip_address,note\n2024-01-01,192.0.2.7,\"scanner, noisy\"\n2024-01-02,bogus,x\n";
        let (_d, p) = write("abuse.csv", text);
        let (l, errors) = IntelList::load(&p, ListKind::Threat, None).unwrap();
        assert!(l.has_ip("192.0.2.7".parse().unwrap()));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        let (l, _) = IntelList::load(&p, ListKind::Threat, Some("note")).unwrap();
        assert!(l.is_empty());
        assert!(IntelList::load(&p, ListKind::Threat, Some("nope")).is_err());
    }

    #[test]
    fn stix_bundle_indicators() {
        // The shape of the STIX 2.1 specification's indicator examples.
        let bundle = r#"{"type":"bundle","id":"bundle--1","objects":[
          {"type":"indicator","spec_version":"2.1","id":"indicator--a","pattern_type":"stix",
           "pattern":"[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'c2.example.net']",
           "valid_from":"2024-01-01T00:00:00Z"},
          {"type":"indicator","spec_version":"2.1","id":"indicator--b","pattern_type":"stix",
           "pattern":"[ipv4-addr:value ISSUBSET '203.0.113.0/25']","valid_from":"2024-01-01T00:00:00Z"},
          {"type":"indicator","spec_version":"2.1","id":"indicator--c","pattern_type":"sigma",
           "pattern":"title: x","valid_from":"2024-01-01T00:00:00Z"},
          {"type":"indicator","spec_version":"2.1","id":"indicator--d","pattern_type":"stix",
           "pattern":"[ipv4-addr:value = '192.0.2.99']","valid_from":"2024-01-01T00:00:00Z",
           "revoked":true},
          {"type":"malware","id":"malware--m","name":"x","is_family":false}]}"#;
        let (_d, p) = write("stix.json", bundle);
        let (l, errors) = IntelList::load(&p, ListKind::Threat, None).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            !l.has_ip("192.0.2.99".parse().unwrap()),
            "a revoked indicator is not used"
        );
        assert!(l.has_ip("198.51.100.1".parse().unwrap()));
        assert!(l.has_ip("203.0.113.100".parse().unwrap()));
        assert!(!l.has_ip("203.0.113.200".parse().unwrap()));
        assert!(l.has_domain("c2.example.net"));
    }
}
