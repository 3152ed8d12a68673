//! The AWS side of the responder: SDK clients (EC2, Auto Scaling, Route 53 Resolver, SNS, IAM, STS) behind [`Inspect`] and
//! [`Responder`]. The only module that imports the AWS SDK.
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
use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use std::collections::BTreeMap;
use std::future::Future;

mod autoscaling;
mod ec2;
mod iam;
mod route53resolver;
mod sns;
mod sts;

/// Where and as whom to connect (the same options as `live`).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// For emulators and VPC endpoints, e.g. http://127.0.0.1:5000.
    pub endpoint_url: Option<String>,
    /// Attempts per call including the first (the SDK retries throttling with backoff; default 3).
    pub max_attempts: Option<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("cannot start the AWS client runtime: {0}")]
    Runtime(std::io::Error),
    #[error(
        "no AWS region: give --region, set AWS_REGION, or set a region in the profile's config"
    )]
    NoRegion,
}

/// Every read-only AWS operation vigil makes, as its IAM action. The mutating ones are the
/// [`ApiCall`]s (see [`crate::actions::ApiKind::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOp {
    GetCallerIdentity,
    DescribeInstances,
    DescribeNetworkInterfaces,
    DescribeInstanceAttribute,
    DescribeSecurityGroups,
    DescribeSnapshots,
    DescribeAutoScalingInstances,
    DescribeAutoScalingGroups,
    ListFirewallDomainLists,
    ListFirewallDomains,
    ListFirewallRuleGroups,
    ListFirewallRules,
    ListFirewallRuleGroupAssociations,
    GetInstanceProfile,
    GetAccessKeyLastUsed,
    ListAccessKeys,
    ListInstanceProfilesForRole,
}

impl ReadOp {
    /// Every variant, in declaration order (checked below at compile time).
    pub const ALL: [ReadOp; 17] = [
        ReadOp::GetCallerIdentity,
        ReadOp::DescribeInstances,
        ReadOp::DescribeNetworkInterfaces,
        ReadOp::DescribeInstanceAttribute,
        ReadOp::DescribeSecurityGroups,
        ReadOp::DescribeSnapshots,
        ReadOp::DescribeAutoScalingInstances,
        ReadOp::DescribeAutoScalingGroups,
        ReadOp::ListFirewallDomainLists,
        ReadOp::ListFirewallDomains,
        ReadOp::ListFirewallRuleGroups,
        ReadOp::ListFirewallRules,
        ReadOp::ListFirewallRuleGroupAssociations,
        ReadOp::GetInstanceProfile,
        ReadOp::GetAccessKeyLastUsed,
        ReadOp::ListAccessKeys,
        ReadOp::ListInstanceProfilesForRole,
    ];

    /// The IAM action (also the name in error messages).
    pub fn iam_action(self) -> &'static str {
        match self {
            ReadOp::GetCallerIdentity => "sts:GetCallerIdentity",
            ReadOp::DescribeInstances => "ec2:DescribeInstances",
            ReadOp::DescribeNetworkInterfaces => "ec2:DescribeNetworkInterfaces",
            ReadOp::DescribeInstanceAttribute => "ec2:DescribeInstanceAttribute",
            ReadOp::DescribeSecurityGroups => "ec2:DescribeSecurityGroups",
            ReadOp::DescribeSnapshots => "ec2:DescribeSnapshots",
            ReadOp::DescribeAutoScalingInstances => "autoscaling:DescribeAutoScalingInstances",
            ReadOp::DescribeAutoScalingGroups => "autoscaling:DescribeAutoScalingGroups",
            ReadOp::ListFirewallDomainLists => "route53resolver:ListFirewallDomainLists",
            ReadOp::ListFirewallDomains => "route53resolver:ListFirewallDomains",
            ReadOp::ListFirewallRuleGroups => "route53resolver:ListFirewallRuleGroups",
            ReadOp::ListFirewallRules => "route53resolver:ListFirewallRules",
            ReadOp::ListFirewallRuleGroupAssociations => {
                "route53resolver:ListFirewallRuleGroupAssociations"
            }
            ReadOp::GetInstanceProfile => "iam:GetInstanceProfile",
            ReadOp::GetAccessKeyLastUsed => "iam:GetAccessKeyLastUsed",
            ReadOp::ListAccessKeys => "iam:ListAccessKeys",
            ReadOp::ListInstanceProfilesForRole => "iam:ListInstanceProfilesForRole",
        }
    }
}

// `ALL` lists every variant: in declaration order, and up to the last one. A variant added
// anywhere but after the last breaks one of these at compile time.
const _: () = {
    let mut i = 0;
    while i < ReadOp::ALL.len() {
        assert!(ReadOp::ALL[i] as usize == i);
        i += 1;
    }
    assert!(ReadOp::ListInstanceProfilesForRole as usize + 1 == ReadOp::ALL.len());
};

/// The clients' own runtime. Dropped without waiting (`shutdown_background`), because the last
/// holder of a responder may be the console's async task, where a blocking drop panics. An
/// `Option` only so that `Drop` can take it out; it is `Some` for the whole life of the clients.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn block_on<F: Future>(&self, f: F) -> Result<F::Output, CallError> {
        match &self.0 {
            Some(rt) => Ok(rt.block_on(f)),
            None => Err(CallError::new(
                "vigil.RuntimeGone",
                "the AWS client runtime has shut down",
            )),
        }
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

struct Clients {
    rt: OwnRuntime,
    ec2: aws_sdk_ec2::Client,
    autoscaling: aws_sdk_autoscaling::Client,
    route53resolver: aws_sdk_route53resolver::Client,
    sns: aws_sdk_sns::Client,
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
}

/// Reads only. Has no method that changes the account.
pub struct AwsReader(Clients);

/// Reads and changes the account.
pub struct AwsResponder(Clients);

fn clients(opts: &AwsOptions) -> Result<Clients, AwsError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AwsError::Runtime)?;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
    if let Some(p) = &opts.profile {
        loader = loader.profile_name(p);
    }
    if let Some(r) = &opts.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(u) = &opts.endpoint_url {
        loader = loader.endpoint_url(u);
    }
    if let Some(n) = opts.max_attempts {
        loader = loader.retry_config(RetryConfig::standard().with_max_attempts(n.max(1)));
    }
    let conf = rt.block_on(loader.load());
    if conf.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    Ok(Clients {
        ec2: aws_sdk_ec2::Client::new(&conf),
        autoscaling: aws_sdk_autoscaling::Client::new(&conf),
        route53resolver: aws_sdk_route53resolver::Client::new(&conf),
        sns: aws_sdk_sns::Client::new(&conf),
        iam: aws_sdk_iam::Client::new(&conf),
        sts: aws_sdk_sts::Client::new(&conf),
        rt: OwnRuntime(Some(rt)),
    })
}

/// A session that can read the account and plan, and nothing else.
pub fn connect_read_only(opts: &AwsOptions) -> Result<AwsReader, AwsError> {
    Ok(AwsReader(clients(opts)?))
}

/// A session that can act on the account.
pub fn connect_responder(opts: &AwsOptions) -> Result<AwsResponder, AwsError> {
    Ok(AwsResponder(clients(opts)?))
}

/// An SDK error in plain words: the service's code and message, the request id; connection
/// failures say what failed.
fn call_err<E, R>(e: SdkError<E, R>, iam_action: &str) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let (code, message, request_id) = match &e {
        SdkError::ServiceError(se) => {
            let m = se.err().meta();
            (
                m.code().unwrap_or("Unknown").to_string(),
                m.message().unwrap_or_default().to_string(),
                m.request_id().map(str::to_string),
            )
        }
        SdkError::DispatchFailure(_) => (
            "ConnectionFailed".to_string(),
            format!(
                "could not reach AWS: {} (check the network, --endpoint-url and --region)",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ),
            None,
        ),
        SdkError::TimeoutError(_) => (
            "Timeout".to_string(),
            "the call timed out".to_string(),
            None,
        ),
        _ => (
            "ClientError".to_string(),
            format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(&e)
            ),
            None,
        ),
    };
    let message = if code == "ClientError" && message.to_ascii_lowercase().contains("credentials") {
        format!("{message} (no usable credentials: set a --profile or the AWS_* variables)")
    } else {
        message
    };
    CallError {
        code,
        message,
        request_id,
        iam_action: Some(iam_action.to_string()),
    }
}

/// Walks a paginated list until `page` (given the next token) finds what it looks for; `page`
/// answers (found, next token).
fn find_paged(
    mut page: impl FnMut(Option<String>) -> Result<(Option<String>, Option<String>), CallError>,
) -> Result<Option<String>, CallError> {
    let mut token = None;
    loop {
        let (found, next) = page(token.take())?;
        if found.is_some() {
            return Ok(found);
        }
        match next {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(None),
        }
    }
}

/// A successful call: its request id and what it created.
fn ok(request_id: Option<&str>, created: Vec<String>) -> CallOk {
    CallOk {
        request_id: request_id.map(str::to_string),
        created,
    }
}

impl Clients {
    /// Runs a read-only SDK call; a failure names the IAM action `op` needs.
    fn read<T, E, R>(
        &self,
        op: ReadOp,
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        self.rt
            .block_on(fut)?
            .map_err(|e| call_err(e, op.iam_action()))
    }

    /// Runs the SDK request that makes `call`; a failure names the call's IAM action.
    fn write<T, E, R>(
        &self,
        call: &ApiCall,
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        self.rt
            .block_on(fut)?
            .map_err(|e| call_err(e, call.iam_action()))
    }

    /// Makes a mutating call, in the file of its service; `dry_run` only for EC2.
    fn call(
        &self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<CallOk, CallError> {
        use crate::actions::Service;
        match call.service() {
            Service::Ec2 => ec2::call(self, call, created, dry_run),
            Service::AutoScaling => autoscaling::call(self, call),
            Service::Route53Resolver => route53resolver::call(self, call, created),
            Service::Sns => sns::call(self, call),
            Service::Iam => iam::call(self, call),
            // Not an AWS call: vigil::actions::webhook::WebhookResponder makes it.
            Service::Webhook => Err(CallError::new(
                "vigil.NoWebhook",
                "no webhook URL configured for this session (--webhook URL)",
            )),
        }
    }
}

/// A call handed to the wrong service's file: a bug in the dispatch above, reported, not a panic.
fn wrong_service(call: &ApiCall, service: &str) -> CallError {
    CallError::new(
        "vigil.Internal",
        format!("{} is not a {service} call", call.iam_action()),
    )
}

macro_rules! inspect_impl {
    ($t:ty) => {
        impl Inspect for $t {
            fn is_demo(&self) -> bool {
                false
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
                iam::instances_with_role(&self.0, role_arn)
            }
            fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
                ec2::snapshots(&self.0, ids)
            }
            fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
                route53resolver::dns_firewall(&self.0, vpc_id)
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
        self.0.call(call, created, false)
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
        match self.0.call(call, created, true) {
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
