//! The AWS connection flags every live command shares (`live`, `pivot --live`, `doctor`):
//! profiles × regions (or every enabled region), a role to assume, an endpoint; credentials are
//! checked with sts:GetCallerIdentity before anything else, one line each with what fixes them.

use super::args::AwsTargets;
use super::error::CliError;
use crate::aws::AwsOptions;
use crate::console::Poller;

/// A session's targets and what they were built from.
pub struct Connected {
    pub poller: Poller,
    /// The regions asked for (empty: each profile's own).
    pub regions: Vec<String>,
    /// What every target shares (endpoint, role).
    pub base: AwsOptions,
}

/// The options every target shares.
pub fn base(a: &AwsTargets) -> AwsOptions {
    AwsOptions {
        endpoint_url: a.endpoint_url.clone(),
        role_arn: a.role_arn.clone(),
        external_id: a.external_id.clone(),
        ..Default::default()
    }
}

/// Connects every profile × region and checks each answers sts:GetCallerIdentity.
pub fn connect(a: &AwsTargets, min_severity: Option<f64>) -> Result<Connected, CliError> {
    let base = base(a);
    let regions = if a.all_regions {
        let first = a.profiles.first().map(String::as_str);
        Poller::enabled_regions(first, &base)?
    } else {
        a.regions.clone()
    };
    let poller = Poller::connect(&a.profiles, &regions, &base, min_severity)?;
    Ok(Connected {
        poller,
        regions,
        base,
    })
}
