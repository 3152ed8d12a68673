//! The GuardDuty source of `vigil live`: every profile × region, their detectors, polled for the
//! findings updated since the last poll. Used by the console (as a task that sends `Msg::Findings`)
//! and by `vigil live --headless`.

use crate::actions::Inspect;
use crate::app::{Administrator, SourceFailure};
use crate::aws::{AwsOptions, AwsReader};
use crate::ingest::IngestError;
use crate::model::{Finding, Ts};

/// Why `vigil live` cannot start: said before the terminal is taken, with what fixes it.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{target}: {source}")]
    Connect {
        target: String,
        source: crate::aws::AwsError,
    },
    #[error("{target}: the credentials do not answer sts:GetCallerIdentity: {message}{fix}")]
    Credentials {
        target: String,
        message: String,
        fix: String,
    },
}

/// One profile in one region.
pub struct Target {
    /// `profile/region` as the user named them (`default` when not named).
    pub label: String,
    pub account: String,
    /// The principal the credentials act as (its ARN).
    pub principal: String,
    /// What it was connected with (the history and doctor connect their own readers with it).
    pub opts: AwsOptions,
    reader: AwsReader,
    detectors: Option<Vec<String>>,
    /// Member accounts the detectors administer (read once, with the detectors).
    pub members: usize,
    /// Throttled polls in a row, and how many polls to skip before asking again.
    throttles: u32,
    skip: u32,
    /// The newest `updatedAt` seen: the next poll asks only for what changed after it.
    since: Option<Ts>,
    /// The same for Security Hub's findings (`--securityhub`).
    hub_since: Option<Ts>,
}

/// What one poll of every target read.
#[derive(Debug, Default)]
pub struct Poll {
    pub findings: Vec<Finding>,
    /// Per target that failed this time: its label and why (the others went on).
    pub failed: Vec<SourceFailure>,
    pub errors: Vec<IngestError>,
    pub calls: usize,
}

/// The targets of a live session.
pub struct Poller {
    pub targets: Vec<Target>,
    pub min_severity: Option<f64>,
    /// Also poll each region's Security Hub (GetFindings; GuardDuty's own copies left out).
    pub securityhub: bool,
}

/// A credential failure in one line: the SDK's error names every provider it tried, with its
/// debug dump; the responder needs what went wrong.
fn one_line(message: &str) -> String {
    let m = message.to_ascii_lowercase();
    if m.contains("no credentials found in chain") {
        return "no credentials found (environment, profile, web identity, container, instance \
                metadata)"
            .to_string();
    }
    let first = message.lines().next().unwrap_or_default();
    let first = first.split(" (DispatchFailure").next().unwrap_or(first);
    first.chars().take(240).collect()
}

/// The command that fixes a credential problem, from the SDK's words for it.
fn fix_for(message: &str, profile: Option<&str>) -> String {
    let p = profile
        .map(|p| format!(" --profile {p}"))
        .unwrap_or_default();
    let m = message.to_ascii_lowercase();
    if m.contains("sso") || m.contains("token has expired") || m.contains("expiredtoken") {
        format!(" (run: aws sso login{p})")
    } else if m.contains("no credentials") || m.contains("credentialsnotloaded") {
        // The SDK's words when no provider in its chain had any.
        format!(" (run: aws configure{p}, or set AWS_PROFILE)")
    } else if m.contains("skew") || m.contains("signature expired") {
        " (the machine's clock is off: sync it, e.g. chronyc makestep)".to_string()
    } else {
        String::new()
    }
}

impl Poller {
    /// The regions enabled for the account of `profile` (read in its default region).
    pub fn enabled_regions(
        profile: Option<&str>,
        base: &AwsOptions,
    ) -> Result<Vec<String>, LiveError> {
        let target = format!("{}/regions", profile.unwrap_or("default"));
        let opts = AwsOptions {
            profile: profile.map(str::to_string),
            region: None,
            ..base.clone()
        };
        let reader = crate::aws::connect_read_only(&opts).map_err(|source| LiveError::Connect {
            target: target.clone(),
            source,
        })?;
        reader.regions().map_err(|e| LiveError::Credentials {
            target,
            fix: fix_for(&e.plain(), profile),
            message: one_line(&e.plain()),
        })
    }

    /// Connects every profile × region and checks each answers sts:GetCallerIdentity.
    /// `base` carries what every target shares (endpoint, role to assume).
    pub fn connect(
        profiles: &[String],
        regions: &[String],
        base: &AwsOptions,
        min_severity: Option<f64>,
    ) -> Result<Poller, LiveError> {
        let profiles: Vec<Option<&str>> = if profiles.is_empty() {
            vec![None]
        } else {
            profiles.iter().map(|p| Some(p.as_str())).collect()
        };
        let regions: Vec<Option<&str>> = if regions.is_empty() {
            vec![None]
        } else {
            regions.iter().map(|r| Some(r.as_str())).collect()
        };
        let mut targets = Vec::new();
        for profile in &profiles {
            for region in &regions {
                let label = format!(
                    "{}/{}",
                    profile.unwrap_or("default"),
                    region.unwrap_or("(profile's region)")
                );
                let opts = AwsOptions {
                    profile: profile.map(str::to_string),
                    region: region.map(str::to_string),
                    ..base.clone()
                };
                let mut reader =
                    crate::aws::connect_read_only(&opts).map_err(|source| LiveError::Connect {
                        target: label.clone(),
                        source,
                    })?;
                let who = reader.identity().map_err(|e| LiveError::Credentials {
                    target: label.clone(),
                    fix: fix_for(&e.plain(), *profile),
                    message: one_line(&e.plain()),
                })?;
                targets.push(Target {
                    label,
                    account: who.account,
                    principal: who.arn,
                    opts,
                    reader,
                    detectors: None,
                    members: 0,
                    throttles: 0,
                    skip: 0,
                    since: None,
                    hub_since: None,
                });
            }
        }
        Ok(Poller {
            targets,
            min_severity,
            securityhub: false,
        })
    }

    /// Every target's label and options.
    pub fn sources(&self) -> Vec<(String, AwsOptions)> {
        self.targets
            .iter()
            .map(|t| (t.label.clone(), t.opts.clone()))
            .collect()
    }

    /// Every target's GuardDuty threat-intel sets (threat lists) and trusted IP lists (trusted
    /// ones) that are ACTIVE, read from S3 and parsed by their format, named
    /// `guardduty:NAME`; and what could not be read, one line each (the session goes on).
    pub fn guardduty_lists(&self) -> (Vec<crate::hunt::IntelList>, Vec<String>) {
        let mut lists = Vec::new();
        let mut problems = Vec::new();
        for t in &self.targets {
            let detectors = match t.reader.detectors() {
                Ok(d) => d,
                Err(e) => {
                    problems.push(format!("{}: {}", t.label, one_line(&e.plain())));
                    continue;
                }
            };
            for d in detectors {
                let sets = match t.reader.guardduty_lists(&d) {
                    Ok(s) => s,
                    Err(e) => {
                        problems.push(format!("{}: {}", t.label, one_line(&e.plain())));
                        continue;
                    }
                };
                for (set, got) in sets {
                    if set.status != "ACTIVE" {
                        continue;
                    }
                    let name = format!("guardduty:{}", set.name);
                    let text = match got {
                        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                        Err(e) => {
                            problems.push(format!("{} {name}: {}", t.label, one_line(&e.plain())));
                            continue;
                        }
                    };
                    let kind = if set.threat {
                        crate::hunt::ListKind::Threat
                    } else {
                        crate::hunt::ListKind::Trusted
                    };
                    // TXT and STIX (told by content); the rest are CSV feeds.
                    let csv = !matches!(set.format.as_str(), "TXT" | "STIX");
                    match crate::hunt::IntelList::parse(&set.location, name, &text, csv, kind, None)
                    {
                        Ok((list, bad)) => {
                            problems.extend(bad.iter().take(3).map(|e| e.to_string()));
                            lists.push(list);
                        }
                        Err(e) => problems.push(e.to_string()),
                    }
                }
            }
        }
        (lists, problems)
    }

    /// The targets whose detectors administer member accounts.
    pub fn administrators(&self) -> Vec<Administrator> {
        self.targets
            .iter()
            .filter(|t| t.members > 0)
            .map(|t| Administrator {
                source: t.label.clone(),
                members: t.members,
            })
            .collect()
    }

    /// Polls every target; a target that fails is reported and the others go on. A throttled
    /// target (after the SDK's own retries) sits out 1, 2, 4, then 8 polls, and says so.
    pub fn poll(&mut self) -> Poll {
        let mut out = Poll::default();
        for t in &mut self.targets {
            if t.skip > 0 {
                t.skip -= 1;
                out.failed.push(SourceFailure {
                    source: t.label.clone(),
                    reason: format!("throttled: backing off ({} more poll(s))", t.skip + 1),
                    throttled: true,
                });
                continue;
            }
            match poll_target(t, self.min_severity, self.securityhub, &mut out) {
                Ok(()) => t.throttles = 0,
                Err(e) => {
                    let throttled = is_throttling(&e.code);
                    if throttled {
                        t.skip = 1 << t.throttles.min(3);
                        t.throttles += 1;
                    }
                    out.failed.push(SourceFailure {
                        source: t.label.clone(),
                        reason: e.plain(),
                        throttled,
                    });
                }
            }
        }
        out
    }
}

/// The codes AWS services throttle with (GuardDuty's TooManyRequestsException, the JSON
/// services' ThrottlingException, EC2's RequestLimitExceeded).
fn is_throttling(code: &str) -> bool {
    code.contains("Throttl") || code.contains("TooManyRequests") || code == "RequestLimitExceeded"
}

fn poll_target(
    t: &mut Target,
    min_severity: Option<f64>,
    securityhub: bool,
    out: &mut Poll,
) -> Result<(), crate::actions::CallError> {
    if t.detectors.is_none() {
        let detectors = t.reader.detectors()?;
        out.calls += 1;
        // A delegated administrator's detector lists its members; a member's lists none. Not
        // being allowed to ask (guardduty:ListMembers) only leaves the rows as they are.
        t.members = 0;
        for d in &detectors {
            out.calls += 1;
            t.members += t.reader.members(d).unwrap_or(0);
        }
        t.detectors = Some(detectors);
    }
    for d in t.detectors.clone().unwrap_or_default() {
        let mut f = t.reader.findings(&d, t.since, min_severity)?;
        out.calls += f.calls;
        if let Some(newest) = f.findings.iter().filter_map(|x| x.updated_at).max() {
            t.since = Some(t.since.map_or(newest, |s| s.max(newest)));
        }
        out.findings.append(&mut f.findings);
        out.errors.append(&mut f.errors);
    }
    if securityhub {
        // GuardDuty's findings come from GuardDuty itself: the hub's copies would be the same.
        let mut f = t.reader.securityhub_findings(t.hub_since, true)?;
        out.calls += f.calls;
        if let Some(newest) = f.findings.iter().filter_map(|x| x.updated_at).max() {
            t.hub_since = Some(t.hub_since.map_or(newest, |s| s.max(newest)));
        }
        if let Some(min) = min_severity {
            f.findings.retain(|x| x.severity >= min);
        }
        out.findings.append(&mut f.findings);
        out.errors.append(&mut f.errors);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_failures_name_their_fix() {
        let sso = "the SSO token for profile dev has expired; refresh it";
        assert_eq!(
            fix_for(sso, Some("dev")),
            " (run: aws sso login --profile dev)"
        );
        assert_eq!(
            fix_for(
                "ExpiredToken: The security token included in the request is expired",
                None
            ),
            " (run: aws sso login)"
        );
        assert!(fix_for("no credentials found in chain", None).contains("aws configure"));
        assert!(
            fix_for("Signature expired: 20240101T000000Z is now earlier", None).contains("clock")
        );
        assert_eq!(fix_for("AccessDenied", None), "");
        assert_eq!(
            one_line("ConnectionFailed: no credentials found in chain. Attempted:\n  Environment"),
            "no credentials found (environment, profile, web identity, container, instance metadata)"
        );
        assert_eq!(
            one_line("AccessDenied: nope (DispatchFailure(...))\nmore"),
            "AccessDenied: nope"
        );
    }
}
