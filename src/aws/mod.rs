//! The AWS side of vigil: SDK clients (EC2, Auto Scaling, Route 53 Resolver, SNS, IAM, STS,
//! GuardDuty, CloudTrail, Detective, S3, Athena, Security Hub) behind [`Inspect`] and [`Responder`], and the live readers.
//! The only module that imports the AWS SDK.
//!
//! [`connect_read_only`] returns something that can only read; [`connect_responder`] is the one way
//! to get something that can change the account. The clients run on their own small tokio runtime:
//! call them from a plain thread (or `spawn_blocking`), never from inside an async task.
//!
//! This file holds what every service shares (options, errors, the runtime, the one HTTP client,
//! the error translation); each service's calls and readers live in its own file. Every SDK call
//! goes through [`Clients::read`] (naming a [`ReadOp`]) or [`Clients::write`] (naming the
//! [`ApiCall`]), so the IAM action it needs is a type, not a string: the policy test enumerates them.

use crate::actions::{
    ApiCall, CallError, CallOk, DnsFirewallState, DryRun, GroupState, Identity, Inspect,
    InstanceState, KeyState, Responder, SnapshotProgress,
};
use std::collections::BTreeMap;

mod athena;
mod autoscaling;
mod clients;
mod cloudtrail;
mod detective;
mod doctor;
mod ec2;
mod guardduty;
mod iam;
mod places;
mod route53resolver;
mod s3;
mod securityhub;
mod sns;
mod ssm;
mod sts;
mod wafv2;

pub use athena::{AthenaPage, AthenaStatus};
pub use clients::{AwsError, AwsOptions, ReadOp, SessionCredentials};
use clients::{Clients, connect};
pub use cloudtrail::{LakePage, LakeStatus, LookupPage};
pub use doctor::{Check, Outcome, TargetReport, doctor};
pub use guardduty::{Fetched, ListSet};
use places::Places;

/// A GuardDuty list's content as read from S3, or why it could not be.
pub type ListContent = Result<Vec<u8>, CallError>;
pub use s3::{Listing, S3Object};

/// Reads only. Has no method that changes the account.
pub struct AwsReader(Clients, Places);

/// Reads and changes the account.
pub struct AwsResponder(Clients, Places);

impl AwsResponder {
    /// Lets the responder act on another account's finding by assuming `role` (a name) in that
    /// account, from its own credentials: an organisation's incident-response role. `own` is
    /// the responder's account (sts:GetCallerIdentity), the one it acts in as itself.
    pub fn with_member_role(mut self, role: &str, own: &str) -> AwsResponder {
        self.1.set_member_role(own, role);
        self
    }

    /// Lets the responder act on the findings of the accounts these profiles sign in to
    /// (`(account, options)`: a live session's other profiles), each as its own profile. `own`
    /// is the responder's account.
    pub fn with_profiles(mut self, own: &str, profiles: Vec<(String, AwsOptions)>) -> AwsResponder {
        self.1.set_profiles(own, profiles);
        self
    }
}

/// Assumes `opts.role_arn` with the credentials `opts` finds and an MFA code: the temporary
/// credentials every client of the session then uses (`AwsOptions::session`).
pub fn assume_role_with_mfa(
    opts: &AwsOptions,
    serial: &str,
    code: &str,
) -> Result<SessionCredentials, CallError> {
    let Some(role) = opts.role_arn.as_deref() else {
        return Err(CallError::new(
            "vigil.NoRole",
            "--mfa-serial needs --role-arn",
        ));
    };
    let base = AwsOptions {
        role_arn: None,
        session: None,
        ..opts.clone()
    };
    let c = connect(&base).map_err(|e| CallError::new("vigil.Connect", e.to_string()))?;
    sts::assume_role_with_mfa(&c, role, opts.external_id.as_deref(), serial, code)
}

/// A session that can read the account and plan, and nothing else.
pub fn connect_read_only(opts: &AwsOptions) -> Result<AwsReader, AwsError> {
    let c = connect(opts)?;
    let r = Places::new(opts, &c);
    Ok(AwsReader(c, r))
}

/// A session that can act on the account.
pub fn connect_responder(opts: &AwsOptions) -> Result<AwsResponder, AwsError> {
    let c = connect(opts)?;
    let r = Places::new(opts, &c);
    Ok(AwsResponder(c, r))
}

/// Makes a mutating call, in the file of its service; `dry_run` only for EC2.
fn dispatch(
    c: &Clients,
    call: &ApiCall,
    created: &BTreeMap<String, String>,
    dry_run: bool,
) -> Result<CallOk, CallError> {
    use crate::actions::Service;
    match call.service() {
        Service::Ec2 => ec2::call(c, call, created, dry_run),
        Service::AutoScaling => autoscaling::call(c, call),
        Service::Route53Resolver => route53resolver::call(c, call, created),
        Service::Sns => sns::call(c, call),
        Service::Iam => iam::call(c, call),
        Service::GuardDuty => guardduty::call(c, call),
        Service::Wafv2 => wafv2::call(c, call),
        Service::Ssm => ssm::call(c, call),
        Service::S3 => s3::call(c, call),
        // Not an AWS call: vigil::actions::webhook::WebhookResponder makes it.
        Service::Webhook => Err(CallError::new(
            "vigil.NoWebhook",
            "no webhook URL configured for this session (--webhook URL)",
        )),
    }
}

impl AwsReader {
    /// The regions enabled for the account.
    pub fn regions(&self) -> Result<Vec<String>, CallError> {
        ec2::regions(&self.0)
    }

    /// The region's GuardDuty detectors.
    pub fn detectors(&self) -> Result<Vec<String>, CallError> {
        guardduty::detectors(&self.0)
    }

    /// The detector's open findings updated after `since`, at `min_severity` or above.
    pub fn findings(
        &self,
        detector: &str,
        since: Option<crate::model::Ts>,
        min_severity: Option<f64>,
    ) -> Result<Fetched, CallError> {
        guardduty::findings(&self.0, detector, since, min_severity)
    }

    /// One page of CloudTrail's LookupEvents for `attr` within `window` (the caller keeps under
    /// its rate: [`crate::pivot::lookup::TokenBucket`]).
    pub fn lookup_page(
        &self,
        attr: &crate::pivot::lookup::LookupAttr,
        window: crate::pivot::Window,
        token: Option<String>,
    ) -> Result<LookupPage, CallError> {
        cloudtrail::lookup_page(&self.0, attr, window, token)
    }

    /// How many member accounts each detector administers, per detector.
    pub fn members(&self, detector: &str) -> Result<usize, CallError> {
        guardduty::members(&self.0, detector)
    }

    /// The objects under `uri` that can hold what `prune` asks for (CloudTrail's layout walked
    /// level by level).
    pub fn s3_list(
        &self,
        uri: &crate::pivot::s3layout::S3Uri,
        prune: &crate::pivot::s3layout::Prune,
    ) -> Result<Listing, CallError> {
        s3::list(&self.0, uri, prune)
    }

    /// The region `bucket` is in, when S3 says.
    pub fn s3_bucket_region(&self, bucket: &str) -> Option<String> {
        s3::bucket_region(&self.0, bucket)
    }

    /// The region's Security Hub findings updated after `since` (all when `None`); without
    /// GuardDuty's copies when `skip_guardduty`.
    pub fn securityhub_findings(
        &self,
        since: Option<crate::model::Ts>,
        skip_guardduty: bool,
    ) -> Result<Fetched, CallError> {
        securityhub::findings(&self.0, since, skip_guardduty)
    }

    /// The detector's GuardDuty threat-intel sets and trusted IP lists, each with its content
    /// read from its S3 location (or why it could not be).
    pub fn guardduty_lists(
        &self,
        detector: &str,
    ) -> Result<Vec<(guardduty::ListSet, ListContent)>, CallError> {
        let mut out = Vec::new();
        for set in guardduty::list_sets(&self.0, detector)? {
            let got = match guardduty::s3_location(&set.location) {
                None => Err(CallError::new(
                    "vigil.BadLocation",
                    format!("`{}` is not an S3 object URL", set.location),
                )),
                Some((bucket, key)) => {
                    let mut got = Err(CallError::new("vigil.NotRead", "no answer"));
                    s3::fetch(&self.0, &bucket, &[key], 1, &mut |_, r| got = r)?;
                    got
                }
            };
            out.push((set, got));
        }
        Ok(out)
    }

    /// Fetches objects, `concurrency` at a time, each handed to `on` as it arrives.
    pub fn s3_fetch(
        &self,
        bucket: &str,
        keys: &[String],
        concurrency: usize,
        on: &mut dyn FnMut(usize, Result<Vec<u8>, CallError>),
    ) -> Result<(), CallError> {
        s3::fetch(&self.0, bucket, keys, concurrency, on)
    }

    /// Starts a CloudTrail Lake query; its id.
    pub fn lake_start(&self, sql: &str) -> Result<String, CallError> {
        cloudtrail::lake_start(&self.0, sql)
    }

    pub fn lake_describe(&self, id: &str) -> Result<LakeStatus, CallError> {
        cloudtrail::lake_describe(&self.0, id)
    }

    pub fn lake_page(&self, id: &str, token: Option<String>) -> Result<LakePage, CallError> {
        cloudtrail::lake_page(&self.0, id, token)
    }

    pub fn lake_cancel(&self, id: &str) -> Result<(), CallError> {
        cloudtrail::lake_cancel(&self.0, id)
    }

    /// Starts an Athena query (in `workgroup`, results to `output`); its execution id.
    pub fn athena_start(
        &self,
        sql: &str,
        workgroup: Option<&str>,
        output: Option<&str>,
    ) -> Result<String, CallError> {
        athena::start(&self.0, sql, workgroup, output)
    }

    pub fn athena_status(&self, id: &str) -> Result<AthenaStatus, CallError> {
        athena::status(&self.0, id)
    }

    pub fn athena_page(&self, id: &str, token: Option<String>) -> Result<AthenaPage, CallError> {
        athena::page(&self.0, id, token)
    }

    pub fn athena_stop(&self, id: &str) -> Result<(), CallError> {
        athena::stop(&self.0, id)
    }

    /// The region's Detective behaviour graphs.
    pub fn detective_graphs(&self) -> Result<Vec<String>, CallError> {
        detective::graphs(&self.0)
    }

    /// The investigations of `entity_arn` in `graph`, newest first.
    pub fn investigations(
        &self,
        graph: &str,
        entity_arn: &str,
    ) -> Result<Vec<crate::model::detective::Investigation>, CallError> {
        detective::investigations(&self.0, graph, entity_arn)
    }

    /// Starts a Detective investigation of `entity_arn` over `[from, to)`; its id. (It creates
    /// an analysis inside Detective; nothing in the account changes.)
    pub fn start_investigation(
        &self,
        graph: &str,
        entity_arn: &str,
        from: crate::model::Ts,
        to: crate::model::Ts,
    ) -> Result<String, CallError> {
        detective::start_investigation(&self.0, graph, entity_arn, from, to)
    }

    pub fn investigation(
        &self,
        graph: &str,
        id: &str,
    ) -> Result<crate::model::detective::Investigation, CallError> {
        detective::investigation(&self.0, graph, id)
    }

    pub fn indicators(
        &self,
        graph: &str,
        id: &str,
    ) -> Result<Vec<crate::model::detective::Indicator>, CallError> {
        detective::indicators(&self.0, graph, id)
    }
}

macro_rules! inspect_impl {
    ($t:ty) => {
        impl Inspect for $t {
            fn is_demo(&self) -> bool {
                false
            }
            fn act_at(
                &mut self,
                account: Option<&str>,
                region: Option<&str>,
            ) -> Result<(), CallError> {
                self.1.switch(&mut self.0, account, region)
            }
            fn identity(&mut self) -> Result<Identity, CallError> {
                sts::identity(&self.0)
            }
            fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError> {
                ec2::instance(&self.0, instance_id)
            }
            fn group_by_name(
                &mut self,
                vpc_id: &str,
                name: &str,
            ) -> Result<Option<GroupState>, CallError> {
                ec2::group_by_name(&self.0, vpc_id, name)
            }
            fn access_key(&mut self, access_key_id: &str) -> Result<KeyState, CallError> {
                iam::access_key(&self.0, access_key_id)
            }
            fn instances_with_role(&mut self, role_arn: &str) -> Result<Vec<String>, CallError> {
                // IAM knows the role's instance profiles, EC2 which instances carry them.
                let profiles = iam::profiles_of_role(&self.0, role_arn)?;
                if profiles.is_empty() {
                    return Ok(vec![]);
                }
                ec2::instances_with_profiles(&self.0, &profiles)
            }
            fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
                ec2::snapshots(&self.0, ids)
            }
            fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
                route53resolver::dns_firewall(&self.0, vpc_id)
            }
            fn detectors(&mut self) -> Result<Vec<String>, CallError> {
                guardduty::detectors(&self.0)
            }
            fn network_acl(
                &mut self,
                subnet_id: &str,
            ) -> Result<crate::actions::NetworkAclState, CallError> {
                ec2::network_acl(&self.0, subnet_id)
            }
            fn waf_ip_set(
                &mut self,
                name: &str,
                scope: &str,
            ) -> Result<crate::actions::WafIpSetState, CallError> {
                wafv2::ip_set(&self.0, name, scope)
            }
            fn ssm_agent(
                &mut self,
                instance_id: &str,
            ) -> Result<Option<crate::actions::SsmAgent>, CallError> {
                ssm::agent(&self.0, instance_id)
            }
            fn case_snapshots(
                &mut self,
                instance_id: &str,
            ) -> Result<Vec<crate::actions::CaseSnapshot>, CallError> {
                ec2::case_snapshots(&self.0, instance_id)
            }
            fn command_status(
                &mut self,
                command_id: &str,
                instance_id: &str,
            ) -> Result<(String, String), CallError> {
                ssm::command_status(&self.0, command_id, instance_id)
            }
            fn object_lock(
                &mut self,
                bucket: &str,
            ) -> Result<crate::actions::ObjectLockState, CallError> {
                s3::object_lock(&self.0, bucket)
            }
            fn stored_objects(
                &mut self,
                bucket: &str,
                prefix: &str,
            ) -> Result<Vec<crate::actions::StoredObject>, CallError> {
                s3::stored_objects(&self.0, bucket, prefix)
            }
            fn read_object(
                &mut self,
                bucket: &str,
                key: &str,
            ) -> Result<Option<Vec<u8>>, CallError> {
                s3::read_object(&self.0, bucket, key)
            }
        }
    };
}
inspect_impl!(AwsReader);
inspect_impl!(AwsResponder);

impl Responder for AwsResponder {
    fn call(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<CallOk, CallError> {
        dispatch(&self.0, call, created, false)
    }

    fn dry_run(
        &mut self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
    ) -> Result<DryRun, CallError> {
        if !call.supports_dry_run() {
            return Ok(DryRun::NotChecked {
                why: "no dry-run in this API: planned only".to_string(),
            });
        }
        match dispatch(&self.0, call, created, true) {
            Err(e) if e.code == "DryRunOperation" => Ok(DryRun::WouldSucceed),
            Err(e) => Err(e),
            // An endpoint that ignores DryRun made the call: say so loudly.
            Ok(_) => Err(CallError::new(
                "vigil.DryRunIgnored",
                "the endpoint ignored DryRun and made the call",
            )),
        }
    }
}
