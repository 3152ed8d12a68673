//! Arming a console (`open --respond`, `live --respond`) with the AWS responder.

use super::args::RespondArgs;
use super::error::CliError;
use crate::actions::Inspect;

/// The AWS responder, checked before the terminal is taken over: the credentials must answer
/// sts:GetCallerIdentity, so a bad profile is a one-line error, not a console that fails at the
/// first action. `others` are the accounts of a live session's other profiles, each with its
/// options: a finding of one of them is acted on as that profile.
pub(crate) fn aws_arming(
    act: &RespondArgs,
    opts: &crate::aws::AwsOptions,
    profile: Option<&str>,
    open_command: String,
    others: Vec<(String, crate::aws::AwsOptions)>,
) -> Result<crate::console::Arming, CliError> {
    let mut responder = crate::aws::connect_responder(opts)?;
    let who = responder
        .identity()
        .map_err(|e| CliError::Unreachable(e.plain()))?;
    if let Some(role) = &act.respond_role {
        responder = responder.with_member_role(role, &who.account);
    }
    if !others.is_empty() {
        responder = responder.with_profiles(&who.account, others);
    }
    let env = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
    // Unlike `demo` and `act`, an empty `--webhook ""` is not "none" here: it fails to parse.
    let webhook = act
        .webhook
        .clone()
        .or_else(|| env("VIGIL_WEBHOOK_URL"))
        .map(|u| crate::actions::webhook::WebhookUrl::parse(&u))
        .transpose()?;
    Ok(crate::console::Arming {
        responder: Box::new(responder),
        label: format!(
            "AWS {}as {}",
            profile.map(|p| format!("profile {p} ")).unwrap_or_default(),
            who.arn
        ),
        audit_log: act.audit_log.clone(),
        webhook,
        topic_arn: act.topic_arn.clone().or_else(|| env("VIGIL_TOPIC_ARN")),
        case: act.case.clone(),
        open_command: Some(open_command),
    })
}
