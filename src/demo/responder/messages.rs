//! Messages the demo "sends" (SNS and the webhook): they land in the outbox, shown on the world
//! screen.

use super::{DemoResponder, OutboxEntry, wrong_family};
use crate::actions::{ApiCall, CallError};
use crate::model::content_hash;

impl DemoResponder {
    pub(super) fn apply_message(&mut self, call: &ApiCall) -> Result<Vec<String>, CallError> {
        match call {
            ApiCall::Publish {
                topic_arn,
                subject,
                message,
                json,
            } => {
                let id = format!(
                    "demo-msg-{:016x}",
                    content_hash(format!("{}{}", self.outbox.len(), subject).as_bytes())
                );
                self.outbox.push(OutboxEntry {
                    message_id: id.clone(),
                    topic_arn: topic_arn.clone(),
                    subject: subject.clone(),
                    message: message.clone(),
                    json: json.clone(),
                });
                Ok(vec![id])
            }
            ApiCall::PostWebhook { endpoint, text } => {
                let id = format!(
                    "demo-hook-{:016x}",
                    content_hash(format!("{}{}", self.outbox.len(), text).as_bytes())
                );
                self.outbox.push(OutboxEntry {
                    message_id: id.clone(),
                    topic_arn: endpoint.clone(),
                    subject: text.lines().next().unwrap_or_default().to_string(),
                    message: text.clone(),
                    json: crate::actions::webhook::body(text),
                });
                Ok(vec![id])
            }
            _ => Err(wrong_family(call, "message")),
        }
    }
}
