//! Planning notify: the team is told in chat (webhook) and/or on the SNS topic, with a subject and
//! body a phone shows well and the same content as JSON.

use super::context::{PlanContext, PlanError};
use super::steps::{Plan, step};
use crate::actions::action::Action;
use crate::actions::api::ApiCall;

pub(super) fn plan(
    action: &Action,
    finding: &str,
    ctx: &PlanContext,
    p: &mut Plan,
) -> Result<(), PlanError> {
    if ctx.topic_arn.is_none() && ctx.webhook.is_none() {
        return Err(PlanError::NoTopic);
    }
    let (subject, message, json) = notification(finding, ctx);
    if let Some(endpoint) = &ctx.webhook {
        p.steps.push(step(
            action,
            ApiCall::PostWebhook {
                endpoint: endpoint.clone(),
                text: format!("*{subject}*\n{message}"),
            },
            "tell the team in chat (Slack/Discord webhook)",
        ));
    }
    if let Some(topic) = ctx.topic_arn.clone() {
        p.steps.push(step(
            action,
            ApiCall::Publish {
                topic_arn: topic,
                subject,
                message,
                json,
            },
            "tell the team: a message for phones, JSON in the vigil-json attribute",
        ));
    }
    Ok(())
}

/// Subject, phone-readable body and JSON for a finding.
fn notification(finding: &str, ctx: &PlanContext) -> (String, String, String) {
    let f = ctx.findings.get(finding);
    let subject = match f {
        Some(f) => format!(
            "[vigil] {} {:.1} {} on {}",
            crate::model::SeverityLabel::of(f.severity).as_str(),
            f.severity,
            f.finding_type,
            f.resource
        ),
        None => format!("[vigil] finding {finding}"),
    };
    // SNS subjects: at most 100 ASCII characters, no newlines.
    let subject: String = subject
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_control() {
                c
            } else {
                '?'
            }
        })
        .take(100)
        .collect();
    let mut body = String::new();
    use std::fmt::Write;
    match f {
        Some(f) => {
            let _ = writeln!(body, "{}", f.title);
            let _ = writeln!(
                body,
                "Severity: {} ({:.1})",
                crate::model::SeverityLabel::of(f.severity).as_str(),
                f.severity
            );
            let _ = writeln!(body, "Type: {}", f.finding_type);
            let _ = writeln!(body, "Resource: {}", f.resource);
            if let Some(a) = &f.actor {
                let _ = writeln!(body, "Actor: {a}");
            }
            let _ = writeln!(body, "Related findings in group: {}", f.group_size);
            let _ = writeln!(body, "Account/region: {} {}", f.account, f.region);
        }
        None => {
            let _ = writeln!(body, "Finding {finding}");
        }
    }
    let _ = writeln!(body, "Case: {}", ctx.case);
    if ctx.already_taken.is_empty() {
        let _ = writeln!(body, "Actions taken: none yet");
    } else {
        let _ = writeln!(body, "Actions taken: {}", ctx.already_taken.join("; "));
    }
    if let Some(cmd) = &ctx.open_command {
        let _ = writeln!(body, "Open in vigil: {cmd}");
    }
    let json = serde_json::json!({
        "source": "vigil",
        "case": ctx.case,
        "finding_id": finding,
        "finding": f,
        "actions_taken": ctx.already_taken,
        "open": ctx.open_command,
    })
    .to_string();
    (subject, body, json)
}
