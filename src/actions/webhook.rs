//! The webhook notifier, for teams without SNS: a Slack/Discord-compatible JSON body
//! `{"text": …}` (Discord also reads `content`) POSTed to a URL. Plain HTTP/1.1 over a blocking
//! socket, TLS through rustls with the system's roots; no async runtime involved.
//!
//! A webhook URL is a secret (its path is the credential): plans and the audit log carry only
//! [`redact`]ed endpoints; the URL itself stays in [`WebhookResponder`].

use super::{ApiCall, CallError, CallOk, DryRun, Inspect, Responder};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

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
        Ok(WebhookUrl {
            tls,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
            path: path.to_string(),
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
}

/// `https://hooks.slack.com/services/T/B/secret` → `https://hooks.slack.com:443/…`.
pub fn redact(url: &str) -> String {
    match WebhookUrl::parse(url) {
        Ok(u) => u.redacted(),
        Err(_) => "<webhook>".to_string(),
    }
}

/// The body: `{"text": …, "content": …}` (Slack reads `text`, Discord `content`; Discord caps it
/// at 2000 characters).
pub fn body(text: &str) -> String {
    let discord: String = text.chars().take(2000).collect();
    serde_json::json!({ "text": text, "content": discord }).to_string()
}

fn err(code: &str, message: impl Into<String>) -> CallError {
    CallError {
        code: code.to_string(),
        message: message.into(),
        request_id: None,
        iam_action: None,
    }
}

/// POSTs `text` to the webhook; Ok with the HTTP status when it is 2xx.
pub fn post(url: &WebhookUrl, text: &str) -> Result<u16, CallError> {
    let payload = body(text);
    let req = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: vigil/{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        url.path,
        url.host,
        env!("CARGO_PKG_VERSION"),
        payload.len(),
        payload
    );
    let io = |e: std::io::Error| {
        err(
            "vigil.WebhookUnreachable",
            format!("{}: {e}", url.redacted()),
        )
    };
    let tcp = TcpStream::connect((url.host.as_str(), url.port)).map_err(io)?;
    tcp.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    tcp.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
    let mut response = Vec::new();
    if url.tls {
        let mut tls = tls_stream(url, tcp)?;
        tls.write_all(req.as_bytes()).map_err(io)?;
        tls.flush().map_err(io)?;
        read_response(&mut tls, &mut response).map_err(io)?;
    } else {
        let mut tcp = tcp;
        tcp.write_all(req.as_bytes()).map_err(io)?;
        tcp.flush().map_err(io)?;
        read_response(&mut tcp, &mut response).map_err(io)?;
    }
    let head = String::from_utf8_lossy(&response);
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            err(
                "vigil.WebhookBadResponse",
                format!("{} answered without an HTTP status", url.redacted()),
            )
        })?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        let line = head.lines().next().unwrap_or_default().to_string();
        Err(err(
            &format!("HTTP{status}"),
            format!("{} answered {line}", url.redacted()),
        ))
    }
}

/// Reads until the peer closes or the status line and headers are in (enough to judge).
fn read_response(r: &mut dyn Read, out: &mut Vec<u8>) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") || out.len() > 64 * 1024 {
                    return Ok(());
                }
            }
            // A TLS peer that closes without close_notify after answering: what we have is enough.
            Err(e) if !out.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
}

fn tls_stream(
    url: &WebhookUrl,
    tcp: TcpStream,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, CallError> {
    let tls_err = |e: String| err("vigil.WebhookTls", format!("{}: {e}", url.redacted()));
    let mut roots = rustls::RootCertStore::empty();
    let certs = rustls_native_certs::load_native_certs();
    for c in certs.certs {
        let _ = roots.add(c);
    }
    if roots.is_empty() {
        return Err(tls_err(
            "no trusted root certificates found on this system".to_string(),
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(url.host.clone())
        .map_err(|e| tls_err(e.to_string()))?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name)
        .map_err(|e| tls_err(e.to_string()))?;
    Ok(rustls::StreamOwned::new(conn, tcp))
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
    fn identity(&mut self) -> Result<super::Identity, CallError> {
        self.inner.identity()
    }
    fn instance(&mut self, id: &str) -> Result<super::InstanceState, CallError> {
        self.inner.instance(id)
    }
    fn group_by_name(
        &mut self,
        vpc: &str,
        name: &str,
    ) -> Result<Option<super::GroupState>, CallError> {
        self.inner.group_by_name(vpc, name)
    }
    fn access_key(&mut self, key: &str) -> Result<super::KeyState, CallError> {
        self.inner.access_key(key)
    }
    fn instances_with_role(&mut self, role: &str) -> Result<Vec<String>, CallError> {
        self.inner.instances_with_role(role)
    }
    fn snapshots(&mut self, ids: &[String]) -> Result<Vec<super::SnapshotProgress>, CallError> {
        self.inner.snapshots(ids)
    }
    fn dns_firewall(&mut self, vpc_id: &str) -> Result<super::DnsFirewallState, CallError> {
        self.inner.dns_firewall(vpc_id)
    }
    fn account_view(&self) -> Option<super::AccountView> {
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
        assert_eq!(redact("nonsense SECRET"), "<webhook>");
    }

    #[test]
    fn body_is_slack_and_discord_json() {
        let v: serde_json::Value = serde_json::from_str(&body("hi \"there\"\nline")).unwrap();
        assert_eq!(v["text"], "hi \"there\"\nline");
        assert_eq!(v["content"], v["text"]);
    }
}
