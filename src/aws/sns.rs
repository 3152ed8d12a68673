//! SNS: the notification to the team's topic.

use super::clients::{Clients, ok, wrong_service};
use crate::actions::{ApiCall, CallError, CallOk};
use aws_sdk_ec2::operation::RequestId;

/// Publishes the message, with its JSON twin in the `vigil-json` attribute.
pub(super) fn call(c: &Clients, call: &ApiCall) -> Result<CallOk, CallError> {
    let ApiCall::Publish {
        topic_arn,
        subject,
        message,
        json,
    } = call
    else {
        return Err(wrong_service(call, "SNS"));
    };
    let attr = aws_sdk_sns::types::MessageAttributeValue::builder()
        .data_type("String")
        .string_value(json)
        .build()
        .map_err(|b| CallError::new("vigil.InvalidMessage", b.to_string()))?;
    // A topic answers in its own region, whichever region the session acts in now (a finding's).
    let region = topic_arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty() && *r != c.region)
        .map(|r| aws_config::Region::new(r.to_string()));
    let req = c
        .sns
        .publish()
        .topic_arn(topic_arn)
        .subject(subject)
        .message(message)
        .message_attributes("vigil-json", attr)
        .customize()
        .config_override(aws_sdk_sns::config::Builder::default().region(region));
    let o = c.write(call, req.send())?;
    Ok(ok(
        o.request_id(),
        o.message_id().map(str::to_string).into_iter().collect(),
    ))
}
