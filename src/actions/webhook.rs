//! The webhook notifier, for teams without SNS: a Slack/Discord-compatible JSON body
//! `{"text": …}` (Discord also reads `content`) POSTed to a URL with reqwest: HTTPS through rustls
//! (ring) with the system's roots, the proxy from `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` except
//! for `NO_PROXY` hosts, redirects followed, chunked answers read.
//!
//! A webhook URL is a secret (its path is the credential): plans and the audit log carry only
//! [`WebhookUrl::redacted`] endpoints, errors are written without the URL; the URL itself stays in
//! [`WebhookResponder`].

use super::account::AccountView;
use super::answer::{CallError, CallOk, DryRun};
use super::api::ApiCall;
use super::responder::{Inspect, Responder};
use super::state::{
    DnsFirewallState, GroupState, Identity, InstanceState, KeyState, SnapshotProgress,
};
use std::collections::BTreeMap;
use std::time::Duration;

/// For the whole request, connecting included: a chat service that takes longer is down.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects followed (a moved webhook answers 301/308); more is a loop.
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    /// The URL is not repeated: it may hold a secret.
    #[error("the webhook URL is not http:// or https://HOST[:PORT]/PATH")]
    BadUrl,
}

/// A parsed webhook URL.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    tls: bool,
    host: String,
    port: u16,
    path: String,
    /// The whole URL, as the HTTP client takes it.
    target: reqwest::Url,
}

impl std::fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl WebhookUrl {
    pub fn parse(url: &str) -> Result<WebhookUrl, WebhookError> {
        let bad = || WebhookError::BadUrl;
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (authority, if tls { 443 } else { 80 }),
        };
        if host.is_empty() || host.contains('@') {
            return Err(bad());
        }
        let target = reqwest::Url::parse(url).map_err(|_| bad())?;
        Ok(WebhookUrl {
            tls,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            path: path.to_string(),
            target,
        })
    }

    /// Scheme, host and port: what plans and the audit log show.
    pub fn redacted(&self) -> String {
        format!(
            "{}://{}:{}/…",
            if self.tls { "https" } else { "http" },
            self.host,
            self.port
        )
    }

    /// `message` with the URL's secret path taken out, should a message ever carry it.
    fn scrub(&self, message: String) -> String {
        let message = message.replace(self.target.as_str(), &self.redacted());
        if self.path.len() > 1 {
            message.replace(&self.path, "/…")
        } else {
            message
        }
    }
}

/// The body: `{"text": …, "content": …}` (Slack reads `text`, Discord `content`; Discord caps it
/// at 2000 characters).
pub fn body(text: &str) -> String {
    let discord: String = text.chars().take(2000).collect();
    serde_json::json!({ "text": text, "content": discord }).to_string()
}

/// An error about `url`'s endpoint (named redacted), with `detail` scrubbed of the secret.
fn err(url: &WebhookUrl, code: &str, detail: impl std::fmt::Display) -> CallError {
    CallError {
        code: code.to_string(),
        message: url.scrub(format!("{}: {detail}", url.redacted())),
        request_id: None,
        iam_action: None,
    }
}

/// An HTTP client error with its causes (`error sending request: client error (Connect): tcp
/// connect error: Connection refused`), without the URL.
fn causes(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut s = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// POSTs `text` to the webhook; Ok with the HTTP status when it is 2xx. Blocks: call it from a
/// plain thread (as the executor does), not from inside an async task.
pub fn post(url: &WebhookUrl, text: &str) -> Result<u16, CallError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(url, "vigil.WebhookUnreachable", e))?;
    rt.block_on(post_async(url, text))
}

/// [`post`], for a caller that is already async.
pub async fn post_async(url: &WebhookUrl, text: &str) -> Result<u16, CallError> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        // `Content-Type`, not `content-type`: some webhook receivers still match case.
        .http1_title_case_headers()
        .build()
        .map_err(|e| err(url, "vigil.WebhookTls", causes(e)))?;
    let response = client
        .post(url.target.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body(text))
        .send()
        .await
        .map_err(|e| err(url, "vigil.WebhookUnreachable", causes(e)))?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        let version = response.version();
        Err(CallError {
            code: format!("HTTP{}", status.as_u16()),
            message: format!("{} answered {version:?} {status}", url.redacted()),
            request_id: None,
            iam_action: None,
        })
    }
}

/// A responder that also posts to a webhook: `PostWebhook` calls go to the URL it holds, every
/// other call to the inner responder.
pub struct WebhookResponder<R> {
    pub inner: R,
    url: WebhookUrl,
}

impl<R> WebhookResponder<R> {
    pub fn new(inner: R, url: WebhookUrl) -> WebhookResponder<R> {
        WebhookResponder { inner, url }
    }
}

impl<R: Inspect> Inspect for WebhookResponder<R> {
    fn is_demo(&self) -> bool {
        self.inner.is_demo()
    }
    fn act_at(&mut self, account: Option<&str>, region: Option<&str>) -> Result<(), CallError> {
        self.inner.act_at(account, region)
    }
    fn identity(&mut self) -> Result<Identity, CallError> {
        self.inner.identity()
    }
    fn instance(&mut self, id: &str) -> Result<InstanceState, CallError> {
        self.inner.instance(id)
    }
    fn group_by_name(&mut self, vpc: &str, name: &str) -> Result<Option<GroupState>, CallError> {
        self.inner.group_by_name(vpc, name)
    }
    fn access_key(&mut self, key: &str) -> Result<KeyState, CallError> {
        self.inner.access_key(key)
    }
    fn instances_with_role(&mut self, role: &str) -> Result<Vec<String>, CallError> {
        self.inner.instances_with_role(role)
    }
    fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
        self.inner.snapshots(ids)
    }
    fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
        self.inner.dns_firewall(vpc_id)
    }
    fn detectors(&mut self) -> Result<Vec<String>, CallError> {
        self.inner.detectors()
    }
    fn network_acl(
        &mut self,
        subnet_id: &str,
    ) -> Result<crate::actions::NetworkAclState, CallError> {
        self.inner.network_acl(subnet_id)
    }
    fn waf_ip_set(
        &mut self,
        name: &str,
        scope: &str,
    ) -> Result<crate::actions::WafIpSetState, CallError> {
        self.inner.waf_ip_set(name, scope)
    }
    fn ssm_agent(
        &mut self,
        instance_id: &str,
    ) -> Result<Option<crate::actions::SsmAgent>, CallError> {
        self.inner.ssm_agent(instance_id)
    }
    fn case_snapshots(
        &mut self,
        instance_id: &str,
    ) -> Result<Vec<crate::actions::CaseSnapshot>, CallError> {
        self.inner.case_snapshots(instance_id)
    }
    fn command_status(
        &mut self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<(String, String), CallError> {
        self.inner.command_status(command_id, instance_id)
    }
    fn object_lock(&mut self, bucket: &str) -> Result<crate::actions::ObjectLockState, CallError> {
        self.inner.object_lock(bucket)
    }
    fn stored_objects(
        &mut self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<crate::actions::StoredObject>, CallError> {
        self.inner.stored_objects(bucket, prefix)
    }
    fn read_object(&mut self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, CallError> {
        self.inner.read_object(bucket, key)
    }
    fn account_view(&self) -> Option<AccountView> {
        self.inner.account_view()
    }
}

impl<R: Responder> Responder for WebhookResponder<R> {
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError> {
        match call {
            ApiCall::PostWebhook { text, .. } => match post(&self.url, text) {
                Ok(status) => Ok(CallOk {
                    request_id: Some(format!("HTTP {status}")),
                    created: Vec::new(),
                }),
                Err(mut e) => {
                    e.iam_action = Some(call.iam_action().to_string());
                    Err(e)
                }
            },
            c => self.inner.call(c, created),
        }
    }

    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError> {
        self.inner.dry_run(call, created)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_redact() {
        let u = WebhookUrl::parse("https://hooks.slack.com/services/T0/B0/SECRET").unwrap();
        assert_eq!(u.redacted(), "https://hooks.slack.com:443/…");
        assert!(!format!("{u:?}").contains("SECRET"));
        let u = WebhookUrl::parse("http://127.0.0.1:8080/hook").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8080, "/hook")
        );
        assert!(WebhookUrl::parse("ftp://x/y").is_err());
        assert!(WebhookUrl::parse("https://user:pw@x/y").is_err());
    }

    #[test]
    fn body_is_slack_and_discord_json() {
        let v: serde_json::Value = serde_json::from_str(&body("hi \"there\"\nline")).unwrap();
        assert_eq!(v["text"], "hi \"there\"\nline");
        assert_eq!(v["content"], v["text"]);
    }
}
