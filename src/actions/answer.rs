//! What a call answers: [`CallOk`], [`CallError`] (an API error in plain words) and, for a dry
//! run, [`DryRun`].

use serde::Serialize;

/// An API error in plain words: the service's code, its message and the request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, thiserror::Error)]
#[error("{}", self.plain())]
pub struct CallError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// The IAM action the failed call needed.
    pub iam_action: Option<String>,
}

impl CallError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> CallError {
        CallError {
            code: code.into(),
            message: message.into(),
            request_id: None,
            iam_action: None,
        }
    }

    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.code.as_str(),
            "AccessDenied"
                | "AccessDeniedException"
                | "UnauthorizedOperation"
                | "AuthorizationError"
        )
    }

    /// Throttling codes of the services vigil calls (the SDK has already retried with backoff).
    pub fn is_throttling(&self) -> bool {
        matches!(
            self.code.as_str(),
            "RequestLimitExceeded"
                | "Throttling"
                | "ThrottlingException"
                | "TooManyRequestsException"
        )
    }

    /// The error as a person reads it, with the code and (for AccessDenied) the missing permission.
    pub fn plain(&self) -> String {
        let mut s = if self.is_throttling() {
            format!(
                "AWS is throttling these calls ({}) and the retries with backoff ran out: wait a minute and try again (the audit log shows which steps were made)",
                self.code
            )
        } else if self.is_access_denied() {
            match &self.iam_action {
                Some(a) => format!(
                    "not allowed: the credentials lack the permission {a} ({}); docs/iam/vigil-responder.json grants it",
                    self.code
                ),
                None => format!("not allowed ({})", self.code),
            }
        } else {
            format!("{}: {}", self.code, self.message)
        };
        if self.is_access_denied() && !self.message.is_empty() {
            s.push_str(&format!(" — AWS said: {}", self.message));
        }
        if let Some(r) = &self.request_id {
            s.push_str(&format!(" [request {r}]"));
        }
        s
    }
}

/// What a successful call returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CallOk {
    pub request_id: Option<String>,
    /// Ids created by the call (a security group, snapshots, a message id).
    pub created: Vec<String>,
}

/// The result of a dry-run call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "dry_run", rename_all = "kebab-case")]
pub enum DryRun {
    /// The API answered DryRunOperation: the call would succeed.
    WouldSucceed,
    /// The API has no dry-run; shown in the plan only.
    NotChecked { why: String },
}
