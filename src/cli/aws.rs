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

/// The options every target shares. With `--mfa-serial`, the role is assumed here, once, with
/// the code (asked for on the terminal unless `--mfa-code` gives it), before any terminal UI.
pub fn base(a: &AwsTargets) -> Result<AwsOptions, CliError> {
    let mut opts = AwsOptions {
        endpoint_url: a.endpoint_url.clone(),
        role_arn: a.role_arn.clone(),
        external_id: a.external_id.clone(),
        ..Default::default()
    };
    if let Some(serial) = &a.mfa_serial {
        if a.profiles.len() > 1 {
            return Err(CliError::Mfa(
                "one MFA code assumes the role once: give one --profile".into(),
            ));
        }
        let code = match &a.mfa_code {
            Some(c) => c.clone(),
            None => prompt(serial)?,
        };
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CliError::Mfa("an MFA code is six digits".into()));
        }
        let first = AwsOptions {
            profile: a.profiles.first().cloned(),
            region: a.regions.first().cloned(),
            ..opts.clone()
        };
        let session = crate::aws::assume_role_with_mfa(&first, serial, &code)
            .map_err(|e| CliError::Mfa(format!("cannot assume the role: {}", e.plain())))?;
        opts.session = Some(session);
    }
    Ok(opts)
}

/// Asks for the MFA code on stderr and reads one line of stdin.
fn prompt(serial: &str) -> Result<String, CliError> {
    use std::io::{BufRead, Write};
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "MFA code for {}: ",
        crate::model::text::Escaped(serial)
    );
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let code = line.trim().to_string();
    if code.is_empty() {
        return Err(CliError::Mfa(
            "no code was typed (scripts give --mfa-code)".into(),
        ));
    }
    Ok(code)
}

/// Connects every profile × region and checks each answers sts:GetCallerIdentity.
pub fn connect(a: &AwsTargets, min_severity: Option<f64>) -> Result<Connected, CliError> {
    let base = base(a)?;
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
