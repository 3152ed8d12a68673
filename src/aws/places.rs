//! Where a session works: the clients of the region and account it acts in now, and of those it
//! worked in before. An action on a finding acts where the finding is: its region, and (through
//! the member role the operator names) its account.

use super::clients::{self, AwsError, AwsOptions, Clients, connect};
use crate::actions::CallError;
use std::collections::BTreeMap;

/// What a session needs to work elsewhere than its clients' place (`.0`): how it was connected,
/// its own region and account, the role it may assume in another account, and the clients of the
/// places it worked in before (each connected once).
pub(super) struct Places {
    opts: AwsOptions,
    home: String,
    /// The session's own account (known once another account may be reached), the role it
    /// assumes in another account's finding (`--respond-role`), and the other profiles of a
    /// live session by their account; without these, it acts only as itself.
    own: Option<String>,
    member_role: Option<String>,
    profiles: BTreeMap<String, AwsOptions>,
    /// Where the active clients act: the account whose role they assumed (`None`: as the
    /// session itself) and the region.
    active: (Option<String>, String),
    parked: BTreeMap<(Option<String>, String), Clients>,
}

impl Places {
    pub(super) fn new(opts: &AwsOptions, clients: &Clients) -> Places {
        Places {
            opts: opts.clone(),
            home: clients.region.clone(),
            own: None,
            member_role: None,
            profiles: BTreeMap::new(),
            active: (None, clients.region.clone()),
            parked: BTreeMap::new(),
        }
    }

    /// Makes `active` the clients of `account` and `region` (`None`: the session's own),
    /// parking the others. Another account is reached only through the member role.
    pub(super) fn switch(
        &mut self,
        active: &mut Clients,
        account: Option<&str>,
        region: Option<&str>,
    ) -> Result<(), CallError> {
        let region = region.unwrap_or(&self.home).to_string();
        let member = match (&self.own, account) {
            (Some(own), Some(a))
                if a != own && (self.profiles.contains_key(a) || self.member_role.is_some()) =>
            {
                Some(a.to_string())
            }
            _ => None,
        };
        let want = (member, region);
        if self.active == want {
            return Ok(());
        }
        let next = match self.parked.remove(&want) {
            Some(c) => c,
            None => self.connect(active, &want)?,
        };
        let was = std::mem::replace(active, next);
        let at = std::mem::replace(&mut self.active, want);
        self.parked.insert(at, was);
        Ok(())
    }

    /// Acts in another account's findings by assuming `role` there; `own` is the session's
    /// account, where it acts as itself.
    pub(super) fn set_member_role(&mut self, own: &str, role: &str) {
        self.own = Some(own.to_string());
        self.member_role = Some(role.to_string());
    }

    /// Acts in these accounts' findings with their own profiles (a live session's other
    /// profiles, by the account each signs in to); `own` is the session's account.
    pub(super) fn set_profiles(&mut self, own: &str, profiles: Vec<(String, AwsOptions)>) {
        self.own = Some(own.to_string());
        self.profiles
            .extend(profiles.into_iter().filter(|(a, _)| a != own));
    }

    /// Clients for `place`: the session's own credentials in its region, another account's
    /// profile, or the member role assumed with the session's own credentials.
    fn connect(
        &self,
        active: &Clients,
        (account, region): &(Option<String>, String),
    ) -> Result<Clients, CallError> {
        let failed = |e: AwsError| CallError::new("vigil.Connect", format!("{region}: {e}"));
        if let Some(opts) = account.as_ref().and_then(|a| self.profiles.get(a)) {
            return connect(&AwsOptions {
                region: Some(region.clone()),
                ..opts.clone()
            })
            .map_err(failed);
        }
        match (account, &self.member_role) {
            (Some(account), Some(role)) => {
                // The session's own clients (of any region) hold its credentials.
                let own = if self.active.0.is_none() {
                    active
                } else {
                    self.parked
                        .iter()
                        .find(|(k, _)| k.0.is_none())
                        .map(|(_, c)| c)
                        .ok_or_else(|| CallError::new("vigil.Connect", "no own session"))?
                };
                let arn = format!(
                    "arn:{}:iam::{account}:role/{role}",
                    crate::model::arn::partition_of_region(Some(region))
                );
                clients::connect_assumed(&self.opts, own, region, &arn).map_err(failed)
            }
            _ => connect(&AwsOptions {
                region: Some(region.clone()),
                ..self.opts.clone()
            })
            .map_err(failed),
        }
    }
}
