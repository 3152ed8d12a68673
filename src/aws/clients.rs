//! What every service file shares: the options and errors, the clients on their own runtime
//! (one HTTP client, rustls with ring), and the translation of SDK errors into [`CallError`]s that
//! name the IAM action a call needs.

use crate::actions::{ApiCall, CallError, CallOk};
use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use aws_sdk_guardduty::config::interceptors::FinalizerInterceptorContextRef;
use aws_sdk_guardduty::config::{ConfigBag, Intercept, RuntimeComponents};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Where and as whom to connect (the same options as `live`).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// For emulators and VPC endpoints, e.g. http://127.0.0.1:5000.
    pub endpoint_url: Option<String>,
    /// Attempts per call including the first (the SDK retries throttling with backoff; default 3).
    pub max_attempts: Option<u32>,
    /// Assume this role with the credentials found (the SDK's AssumeRole provider, which renews
    /// them before they expire).
    pub role_arn: Option<String>,
    /// The role's external id, when its trust policy asks for one.
    pub external_id: Option<String>,
    /// Temporary credentials obtained beforehand (a role assumed with an MFA code): used as they
    /// are, instead of the default chain and `role_arn`.
    pub session: Option<SessionCredentials>,
}

/// Temporary credentials. Debug never shows the secret or the token.
#[derive(Clone)]
pub struct SessionCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires: Option<std::time::SystemTime>,
}

impl std::fmt::Debug for SessionCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &"** redacted **")
            .field("expires", &self.expires)
            .finish()
    }
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
    ListDetectors,
    ListFindings,
    GetFindings,
    DescribeRegions,
    LookupEvents,
    ListGraphs,
    ListInvestigations,
    StartInvestigation,
    GetInvestigation,
    ListIndicators,
    ListMembers,
    SimulatePrincipalPolicy,
    ListObjectsV2,
    GetObject,
    StartQuery,
    DescribeQuery,
    GetQueryResults,
    CancelQuery,
    StartQueryExecution,
    GetQueryExecution,
    AthenaGetQueryResults,
    StopQueryExecution,
    ListThreatIntelSets,
    GetThreatIntelSet,
    ListIPSets,
    GetIPSet,
    SecurityHubGetFindings,
    DescribeIamInstanceProfileAssociations,
    DescribeNetworkAcls,
    WafListIpSets,
    WafGetIpSet,
    SsmDescribeInstanceInformation,
    SsmGetCommandInvocation,
    GetObjectLockConfiguration,
}

impl ReadOp {
    /// Every variant, in declaration order (checked below at compile time).
    pub const ALL: [ReadOp; 51] = [
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
        ReadOp::ListDetectors,
        ReadOp::ListFindings,
        ReadOp::GetFindings,
        ReadOp::DescribeRegions,
        ReadOp::LookupEvents,
        ReadOp::ListGraphs,
        ReadOp::ListInvestigations,
        ReadOp::StartInvestigation,
        ReadOp::GetInvestigation,
        ReadOp::ListIndicators,
        ReadOp::ListMembers,
        ReadOp::SimulatePrincipalPolicy,
        ReadOp::ListObjectsV2,
        ReadOp::GetObject,
        ReadOp::StartQuery,
        ReadOp::DescribeQuery,
        ReadOp::GetQueryResults,
        ReadOp::CancelQuery,
        ReadOp::StartQueryExecution,
        ReadOp::GetQueryExecution,
        ReadOp::AthenaGetQueryResults,
        ReadOp::StopQueryExecution,
        ReadOp::ListThreatIntelSets,
        ReadOp::GetThreatIntelSet,
        ReadOp::ListIPSets,
        ReadOp::GetIPSet,
        ReadOp::SecurityHubGetFindings,
        ReadOp::DescribeIamInstanceProfileAssociations,
        ReadOp::DescribeNetworkAcls,
        ReadOp::WafListIpSets,
        ReadOp::WafGetIpSet,
        ReadOp::SsmDescribeInstanceInformation,
        ReadOp::SsmGetCommandInvocation,
        ReadOp::GetObjectLockConfiguration,
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
            ReadOp::ListDetectors => "guardduty:ListDetectors",
            ReadOp::ListFindings => "guardduty:ListFindings",
            ReadOp::GetFindings => "guardduty:GetFindings",
            ReadOp::DescribeRegions => "ec2:DescribeRegions",
            ReadOp::LookupEvents => "cloudtrail:LookupEvents",
            ReadOp::ListGraphs => "detective:ListGraphs",
            ReadOp::ListInvestigations => "detective:ListInvestigations",
            ReadOp::StartInvestigation => "detective:StartInvestigation",
            ReadOp::GetInvestigation => "detective:GetInvestigation",
            ReadOp::ListIndicators => "detective:ListIndicators",
            ReadOp::ListMembers => "guardduty:ListMembers",
            ReadOp::SimulatePrincipalPolicy => "iam:SimulatePrincipalPolicy",
            // ListObjectsV2 is authorised as s3:ListBucket.
            ReadOp::ListObjectsV2 => "s3:ListBucket",
            ReadOp::GetObject => "s3:GetObject",
            ReadOp::StartQuery => "cloudtrail:StartQuery",
            ReadOp::DescribeQuery => "cloudtrail:DescribeQuery",
            ReadOp::GetQueryResults => "cloudtrail:GetQueryResults",
            ReadOp::CancelQuery => "cloudtrail:CancelQuery",
            ReadOp::StartQueryExecution => "athena:StartQueryExecution",
            ReadOp::GetQueryExecution => "athena:GetQueryExecution",
            ReadOp::AthenaGetQueryResults => "athena:GetQueryResults",
            ReadOp::StopQueryExecution => "athena:StopQueryExecution",
            ReadOp::ListThreatIntelSets => "guardduty:ListThreatIntelSets",
            ReadOp::GetThreatIntelSet => "guardduty:GetThreatIntelSet",
            ReadOp::ListIPSets => "guardduty:ListIPSets",
            ReadOp::GetIPSet => "guardduty:GetIPSet",
            ReadOp::SecurityHubGetFindings => "securityhub:GetFindings",
            ReadOp::DescribeIamInstanceProfileAssociations => {
                "ec2:DescribeIamInstanceProfileAssociations"
            }
            ReadOp::DescribeNetworkAcls => "ec2:DescribeNetworkAcls",
            ReadOp::WafListIpSets => "wafv2:ListIPSets",
            ReadOp::WafGetIpSet => "wafv2:GetIPSet",
            ReadOp::SsmDescribeInstanceInformation => "ssm:DescribeInstanceInformation",
            ReadOp::SsmGetCommandInvocation => "ssm:GetCommandInvocation",
            ReadOp::GetObjectLockConfiguration => "s3:GetBucketObjectLockConfiguration",
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
    assert!(ReadOp::GetObjectLockConfiguration as usize + 1 == ReadOp::ALL.len());
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

pub(super) struct Clients {
    rt: OwnRuntime,
    /// The credentials provider the clients sign with (doctor asks it where they came from).
    pub(super) credentials: Option<aws_sdk_sts::config::SharedCredentialsProvider>,
    /// The region the clients call.
    pub(super) region: String,
    pub(super) ec2: aws_sdk_ec2::Client,
    pub(super) autoscaling: aws_sdk_autoscaling::Client,
    pub(super) route53resolver: aws_sdk_route53resolver::Client,
    pub(super) sns: aws_sdk_sns::Client,
    pub(super) iam: aws_sdk_iam::Client,
    pub(super) sts: aws_sdk_sts::Client,
    pub(super) guardduty: aws_sdk_guardduty::Client,
    pub(super) cloudtrail: aws_sdk_cloudtrail::Client,
    pub(super) detective: aws_sdk_detective::Client,
    pub(super) s3: aws_sdk_s3::Client,
    pub(super) athena: aws_sdk_athena::Client,
    pub(super) securityhub: aws_sdk_securityhub::Client,
    pub(super) wafv2: aws_sdk_wafv2::Client,
    pub(super) ssm: aws_sdk_ssm::Client,
}

/// The SDK's configuration loader for `opts`: one HTTP client (rustls with ring), the profile,
/// region, endpoint and retries asked for; credentials from the default chain.
fn loader(opts: &AwsOptions) -> aws_config::ConfigLoader {
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
    loader
}

pub(super) fn connect(opts: &AwsOptions) -> Result<Clients, AwsError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AwsError::Runtime)?;
    let conf = rt.block_on(loader(opts).load());
    if conf.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    let conf = match (&opts.session, &opts.role_arn) {
        (Some(s), _) => {
            let creds = aws_sdk_sts::config::Credentials::new(
                s.access_key_id.clone(),
                s.secret_access_key.clone(),
                Some(s.session_token.clone()),
                s.expires,
                "vigil-mfa-session",
            );
            rt.block_on(loader(opts).credentials_provider(creds).load())
        }
        (None, None) => conf,
        (None, Some(arn)) => {
            let mut role = aws_config::sts::AssumeRoleProvider::builder(arn)
                .configure(&conf)
                .session_name("vigil");
            if let Some(id) = &opts.external_id {
                role = role.external_id(id);
            }
            let provider = rt.block_on(role.build());
            rt.block_on(loader(opts).credentials_provider(provider).load())
        }
    };
    Ok(clients(rt, &conf, opts))
}

/// Clients in `region` acting as `role_arn`, the role assumed with `base`'s credentials: a
/// member account's incident-response role, assumed from the session's own (role chaining).
pub(super) fn connect_assumed(
    opts: &AwsOptions,
    base: &Clients,
    region: &str,
    role_arn: &str,
) -> Result<Clients, AwsError> {
    let opts = AwsOptions {
        region: Some(region.to_string()),
        ..opts.clone()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(AwsError::Runtime)?;
    let mut own = loader(&opts);
    if let Some(c) = &base.credentials {
        own = own.credentials_provider(c.clone());
    }
    let conf = rt.block_on(own.load());
    let role = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .configure(&conf)
        .session_name("vigil");
    let provider = rt.block_on(role.build());
    let conf = rt.block_on(loader(&opts).credentials_provider(provider).load());
    Ok(clients(rt, &conf, &opts))
}

/// Every service's client over one configuration, on the runtime `rt`.
fn clients(
    rt: tokio::runtime::Runtime,
    conf: &aws_config::SdkConfig,
    opts: &AwsOptions,
) -> Clients {
    let conf = conf.clone();
    Clients {
        credentials: conf.credentials_provider(),
        region: conf.region().map(|r| r.to_string()).unwrap_or_default(),
        ec2: aws_sdk_ec2::Client::new(&conf),
        autoscaling: aws_sdk_autoscaling::Client::new(&conf),
        route53resolver: aws_sdk_route53resolver::Client::new(&conf),
        sns: aws_sdk_sns::Client::new(&conf),
        iam: aws_sdk_iam::Client::new(&conf),
        sts: aws_sdk_sts::Client::new(&conf),
        guardduty: aws_sdk_guardduty::Client::new(&conf),
        cloudtrail: aws_sdk_cloudtrail::Client::new(&conf),
        detective: aws_sdk_detective::Client::new(&conf),
        athena: aws_sdk_athena::Client::new(&conf),
        securityhub: aws_sdk_securityhub::Client::new(&conf),
        wafv2: aws_sdk_wafv2::Client::new(&conf),
        ssm: aws_sdk_ssm::Client::new(&conf),
        // Path-style addressing: emulators and VPC endpoints answer on one host.
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(opts.endpoint_url.is_some())
                .build(),
        ),
        rt: OwnRuntime(Some(rt)),
    }
}

/// An SDK error in plain words: the service's code and message, the request id; connection
/// failures say what failed.
pub(super) fn call_err<E, R>(e: SdkError<E, R>, iam_action: &str) -> CallError
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

/// Keeps the response body of the request it is attached to: vigil parses GetFindings' and
/// LookupEvents' answers with its own ingest, the code that reads an exported file, so an event or
/// finding from the API is exactly the one a file gives. (Every service crate re-exports the same
/// interceptor trait from the SDK's runtime API.)
#[derive(Debug, Clone, Default)]
pub(super) struct RawBody(Arc<Mutex<Option<Vec<u8>>>>);

impl RawBody {
    pub(super) fn take(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// The body, or an error naming the operation that answered without one.
    pub(super) fn body(&self, op: ReadOp) -> Result<Vec<u8>, CallError> {
        self.take().ok_or_else(|| {
            CallError::new(
                "vigil.NoBody",
                format!("{} answered without a body to read", op.iam_action()),
            )
        })
    }
}

impl Intercept for RawBody {
    fn name(&self) -> &'static str {
        "vigil-raw-body"
    }

    fn read_after_execution(
        &self,
        ctx: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_guardduty::error::BoxError> {
        if let Some(body) = ctx.response().and_then(|r| r.body().bytes()) {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(body.to_vec());
        }
        Ok(())
    }
}

/// Walks a paginated list until `page` (given the next token) finds what it looks for; `page`
/// answers (found, next token).
pub(super) fn find_paged(
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
pub(super) fn ok(request_id: Option<&str>, created: Vec<String>) -> CallOk {
    CallOk {
        request_id: request_id.map(str::to_string),
        created,
    }
}

impl Clients {
    /// Runs an SDK call on the clients' runtime; a failure names `iam_action`, the permission
    /// it needs. For what is neither a [`ReadOp`] nor an [`ApiCall`] (assuming a role, DryRun
    /// probes).
    pub(super) fn call_as<T, E, R>(
        &self,
        iam_action: &str,
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        self.rt.block_on(fut)?.map_err(|e| call_err(e, iam_action))
    }

    /// Runs a read-only SDK call; a failure names the IAM action `op` needs.
    pub(super) fn read<T, E, R>(
        &self,
        op: ReadOp,
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        self.call_as(op.iam_action(), fut)
    }

    /// Runs the SDK request that makes `call`; a failure names the call's IAM action.
    pub(super) fn write<T, E, R>(
        &self,
        call: &ApiCall,
        fut: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, CallError>
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        self.call_as(call.iam_action(), fut)
    }

    /// Runs any future on the clients' runtime.
    pub(super) fn rt_block_on<F: Future>(&self, f: F) -> Result<F::Output, CallError> {
        self.rt.block_on(f)
    }
}

/// A call handed to the wrong service's file: a bug in the dispatch above, reported, not a panic.
pub(super) fn wrong_service(call: &ApiCall, service: &str) -> CallError {
    CallError::new(
        "vigil.Internal",
        format!("{} is not a {service} call", call.iam_action()),
    )
}
