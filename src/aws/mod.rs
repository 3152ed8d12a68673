//! The AWS side of the responder: SDK clients (EC2, Auto Scaling, Route 53 Resolver, SNS, IAM, STS) behind [`Inspect`] and
//! [`Responder`]. The only module that imports the AWS SDK.
//!
//! [`connect_read_only`] returns something that can only read; [`connect_responder`] is the one way
//! to get something that can change the account. The clients run on their own small tokio runtime:
//! call them from a plain thread (or `spawn_blocking`), never from inside an async task.

use crate::actions::{
    ApiCall, CallError, CallOk, DnsFirewallState, DryRun, EniState, GroupState, Identity, Inspect,
    InstanceState, KeyState, Responder, SnapshotProgress, role_name,
};
use aws_config::{BehaviorVersion, Region, retry::RetryConfig};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::operation::RequestId;
use aws_sdk_ec2::types as ec2t;
use std::collections::BTreeMap;

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

/// The clients' own runtime. Dropped without waiting (`shutdown_background`), because the last
/// holder of a responder may be the console's async task, where a blocking drop panics.
struct OwnRuntime(std::mem::ManuallyDrop<tokio::runtime::Runtime>);

impl std::ops::Deref for OwnRuntime {
    type Target = tokio::runtime::Runtime;
    fn deref(&self) -> &tokio::runtime::Runtime {
        &self.0
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        // SAFETY: taken once, here, and never used again.
        let rt = unsafe { std::mem::ManuallyDrop::take(&mut self.0) };
        rt.shutdown_background();
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
        rt: OwnRuntime(std::mem::ManuallyDrop::new(rt)),
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

/// A CreatorRequestId: unique per request, as the API asks (a retry of the same request reuses it).
fn creator_request_id(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("vigil-{what}-{nanos}")
}

/// The ids of the scaling activities an Auto Scaling call started (its "created" ids).
fn activity_ids(activities: &[aws_sdk_autoscaling::types::Activity]) -> Vec<String> {
    activities
        .iter()
        .filter_map(|a| a.activity_id().map(str::to_string))
        .collect()
}

fn tags_of(tags: &[ec2t::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn ec2_tags(m: &BTreeMap<String, String>) -> Vec<ec2t::Tag> {
    m.iter()
        .map(|(k, v)| ec2t::Tag::builder().key(k).value(v).build())
        .collect()
}

impl Clients {
    fn snapshots(&self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .rt
            .block_on(
                self.ec2
                    .describe_snapshots()
                    .set_snapshot_ids(Some(ids.to_vec()))
                    .send(),
            )
            .map_err(|e| call_err(e, "ec2:DescribeSnapshots"))?;
        let found: Vec<SnapshotProgress> = out
            .snapshots()
            .iter()
            .map(|s| SnapshotProgress {
                snapshot_id: s.snapshot_id().unwrap_or_default().to_string(),
                volume_id: s.volume_id().unwrap_or_default().to_string(),
                state: s.state().map_or("pending", |st| st.as_str()).to_string(),
                percent: s
                    .progress()
                    .and_then(|p| p.trim_end_matches('%').parse::<u8>().ok())
                    .unwrap_or(0)
                    .min(100),
            })
            .collect();
        Ok(ids
            .iter()
            .filter_map(|id| found.iter().find(|s| &s.snapshot_id == id).cloned())
            .collect())
    }

    fn identity(&self) -> Result<Identity, CallError> {
        let out = self
            .rt
            .block_on(self.sts.get_caller_identity().send())
            .map_err(|e| call_err(e, "sts:GetCallerIdentity"))?;
        Ok(Identity {
            account: out.account().unwrap_or_default().to_string(),
            arn: out.arn().unwrap_or_default().to_string(),
        })
    }

    fn instance(&self, id: &str) -> Result<InstanceState, CallError> {
        let out = self
            .rt
            .block_on(self.ec2.describe_instances().instance_ids(id).send())
            .map_err(|e| call_err(e, "ec2:DescribeInstances"))?;
        let inst = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .find(|i| i.instance_id() == Some(id))
            .ok_or_else(|| {
                CallError::new(
                    "InvalidInstanceID.NotFound",
                    format!("instance {id} does not exist"),
                )
            })?;
        let eni_ids: Vec<String> = inst
            .network_interfaces()
            .iter()
            .filter_map(|n| n.network_interface_id().map(str::to_string))
            .collect();
        let mut enis = Vec::new();
        if !eni_ids.is_empty() {
            let out = self
                .rt
                .block_on(
                    self.ec2
                        .describe_network_interfaces()
                        .set_network_interface_ids(Some(eni_ids))
                        .send(),
                )
                .map_err(|e| call_err(e, "ec2:DescribeNetworkInterfaces"))?;
            for n in out.network_interfaces() {
                enis.push(EniState {
                    eni_id: n.network_interface_id().unwrap_or_default().to_string(),
                    device_index: n
                        .attachment()
                        .and_then(|a| a.device_index())
                        .unwrap_or_default(),
                    subnet_id: n.subnet_id().unwrap_or_default().to_string(),
                    vpc_id: n.vpc_id().unwrap_or_default().to_string(),
                    groups: n
                        .groups()
                        .iter()
                        .filter_map(|g| g.group_id().map(str::to_string))
                        .collect(),
                    tags: tags_of(n.tag_set()),
                });
            }
            enis.sort_by_key(|e| e.device_index);
        }
        let prot = self
            .rt
            .block_on(
                self.ec2
                    .describe_instance_attribute()
                    .instance_id(id)
                    .attribute(ec2t::InstanceAttributeName::DisableApiTermination)
                    .send(),
            )
            .map_err(|e| call_err(e, "ec2:DescribeInstanceAttribute"))?;
        let tags = tags_of(inst.tags());
        let profile = inst
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .map(str::to_string);
        let role_arn = match &profile {
            Some(p) => {
                let name = p.rsplit('/').next().unwrap_or(p);
                self.rt
                    .block_on(
                        self.iam
                            .get_instance_profile()
                            .instance_profile_name(name)
                            .send(),
                    )
                    .ok()
                    .and_then(|o| {
                        o.instance_profile()
                            .and_then(|ip| ip.roles().first())
                            .map(|r| r.arn().to_string())
                    })
            }
            None => None,
        };
        let tagged_asg = tags.get("aws:autoscaling:groupName").cloned();
        // The group and the instance's state in it. An instance without the group tag is taken
        // to be in no group when the lookup is not allowed; one with the tag needs the answer.
        let (asg, asg_lifecycle) = match self.rt.block_on(
            self.autoscaling
                .describe_auto_scaling_instances()
                .instance_ids(id)
                .send(),
        ) {
            Ok(o) => o
                .auto_scaling_instances()
                .iter()
                .find(|a| a.instance_id() == Some(id))
                .map_or((None, None), |a| {
                    (
                        a.auto_scaling_group_name().map(str::to_string),
                        a.lifecycle_state().map(str::to_string),
                    )
                }),
            Err(e) if tagged_asg.is_some() => {
                return Err(call_err(e, "autoscaling:DescribeAutoScalingInstances"));
            }
            Err(_) => (None, None),
        };
        let asg_capacity = match &asg {
            Some(name) => self
                .rt
                .block_on(
                    self.autoscaling
                        .describe_auto_scaling_groups()
                        .auto_scaling_group_names(name)
                        .send(),
                )
                .map_err(|e| call_err(e, "autoscaling:DescribeAutoScalingGroups"))?
                .auto_scaling_groups()
                .iter()
                .find(|g| g.auto_scaling_group_name() == Some(name.as_str()))
                .map(|g| {
                    (
                        g.min_size().unwrap_or(0),
                        g.desired_capacity().unwrap_or(0),
                        g.max_size().unwrap_or(0),
                    )
                }),
            None => None,
        };
        Ok(InstanceState {
            instance_id: id.to_string(),
            state: inst
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_string())
                .unwrap_or_default(),
            vpc_id: inst.vpc_id().unwrap_or_default().to_string(),
            subnet_id: inst.subnet_id().unwrap_or_default().to_string(),
            asg,
            asg_lifecycle,
            asg_capacity,
            tags,
            instance_profile_arn: profile,
            role_arn,
            termination_protection: prot
                .disable_api_termination()
                .and_then(|v| v.value())
                .unwrap_or(false),
            enis,
            volumes: inst
                .block_device_mappings()
                .iter()
                .filter_map(|b| b.ebs().and_then(|e| e.volume_id()).map(str::to_string))
                .collect(),
        })
    }

    fn group_by_name(&self, vpc_id: &str, name: &str) -> Result<Option<GroupState>, CallError> {
        let f = |k: &str, v: &str| ec2t::Filter::builder().name(k).values(v).build();
        let out = self
            .rt
            .block_on(
                self.ec2
                    .describe_security_groups()
                    .filters(f("vpc-id", vpc_id))
                    .filters(f("group-name", name))
                    .send(),
            )
            .map_err(|e| call_err(e, "ec2:DescribeSecurityGroups"))?;
        Ok(out
            .security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name) && g.vpc_id() == Some(vpc_id))
            .map(|g| GroupState {
                group_id: g.group_id().unwrap_or_default().to_string(),
                group_name: name.to_string(),
                ingress_rules: g.ip_permissions().len(),
                egress_rules: g.ip_permissions_egress().len(),
            }))
    }

    fn access_key(&self, key: &str) -> Result<KeyState, CallError> {
        let out = self
            .rt
            .block_on(
                self.iam
                    .get_access_key_last_used()
                    .access_key_id(key)
                    .send(),
            )
            .map_err(|e| call_err(e, "iam:GetAccessKeyLastUsed"))?;
        let user = out.user_name().unwrap_or_default().to_string();
        let keys = self
            .rt
            .block_on(self.iam.list_access_keys().user_name(&user).send())
            .map_err(|e| call_err(e, "iam:ListAccessKeys"))?;
        let status = keys
            .access_key_metadata()
            .iter()
            .find(|k| k.access_key_id() == Some(key))
            .and_then(|k| k.status())
            .map(|s| s.as_str().to_string())
            .ok_or_else(|| CallError::new("NoSuchEntity", format!("access key {key} not found")))?;
        Ok(KeyState {
            access_key_id: key.to_string(),
            user_name: user,
            status,
        })
    }

    fn instances_with_role(&self, role_arn: &str) -> Result<Vec<String>, CallError> {
        let out = self
            .rt
            .block_on(
                self.iam
                    .list_instance_profiles_for_role()
                    .role_name(role_name(role_arn))
                    .send(),
            )
            .map_err(|e| call_err(e, "iam:ListInstanceProfilesForRole"))?;
        let profiles: Vec<String> = out
            .instance_profiles()
            .iter()
            .map(|p| p.arn().to_string())
            .collect();
        if profiles.is_empty() {
            return Ok(vec![]);
        }
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .rt
                .block_on(
                    self.ec2
                        .describe_instances()
                        .set_next_token(token.take())
                        .send(),
                )
                .map_err(|e| call_err(e, "ec2:DescribeInstances"))?;
            for i in out.reservations().iter().flat_map(|r| r.instances()) {
                let arn = i.iam_instance_profile().and_then(|p| p.arn());
                let gone = i
                    .state()
                    .and_then(|s| s.name())
                    .is_some_and(|n| *n == ec2t::InstanceStateName::Terminated);
                if !gone && arn.is_some_and(|a| profiles.iter().any(|p| p == a)) {
                    ids.extend(i.instance_id().map(str::to_string));
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn dns_firewall(&self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
        use crate::actions::{DNS_BLOCKLIST_NAME, DNS_RULE_GROUP_NAME};
        let mut st = DnsFirewallState::default();
        let list_id = find_paged(|token| {
            let o = self
                .rt
                .block_on(
                    self.route53resolver
                        .list_firewall_domain_lists()
                        .set_next_token(token)
                        .send(),
                )
                .map_err(|e| call_err(e, "route53resolver:ListFirewallDomainLists"))?;
            let found = o
                .firewall_domain_lists()
                .iter()
                .find(|l| l.name() == Some(DNS_BLOCKLIST_NAME))
                .and_then(|l| l.id().map(str::to_string));
            Ok((found, o.next_token().map(str::to_string)))
        })?;
        if let Some(id) = list_id {
            let mut domains = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let o = self
                    .rt
                    .block_on(
                        self.route53resolver
                            .list_firewall_domains()
                            .firewall_domain_list_id(&id)
                            .set_next_token(token.take())
                            .send(),
                    )
                    .map_err(|e| call_err(e, "route53resolver:ListFirewallDomains"))?;
                domains.extend(o.domains().iter().cloned());
                match o.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
            st.domain_list = Some((id, domains));
        }
        let group_id = find_paged(|token| {
            let o = self
                .rt
                .block_on(
                    self.route53resolver
                        .list_firewall_rule_groups()
                        .set_next_token(token)
                        .send(),
                )
                .map_err(|e| call_err(e, "route53resolver:ListFirewallRuleGroups"))?;
            let found = o
                .firewall_rule_groups()
                .iter()
                .find(|g| g.name() == Some(DNS_RULE_GROUP_NAME))
                .and_then(|g| g.id().map(str::to_string));
            Ok((found, o.next_token().map(str::to_string)))
        })?;
        if let Some(gid) = group_id {
            let rules = self
                .rt
                .block_on(
                    self.route53resolver
                        .list_firewall_rules()
                        .firewall_rule_group_id(&gid)
                        .send(),
                )
                .map_err(|e| call_err(e, "route53resolver:ListFirewallRules"))?;
            let list = st.domain_list.as_ref().map(|(id, _)| id.as_str());
            st.block_rule = rules.firewall_rules().iter().any(|r| {
                list.is_some()
                    && r.firewall_domain_list_id() == list
                    && r.action() == Some(&aws_sdk_route53resolver::types::Action::Block)
            });
            let assoc = self
                .rt
                .block_on(
                    self.route53resolver
                        .list_firewall_rule_group_associations()
                        .firewall_rule_group_id(&gid)
                        .vpc_id(vpc_id)
                        .send(),
                )
                .map_err(|e| call_err(e, "route53resolver:ListFirewallRuleGroupAssociations"))?;
            st.associated = assoc.firewall_rule_group_associations().iter().any(|a| {
                a.vpc_id() == Some(vpc_id) && a.firewall_rule_group_id() == Some(gid.as_str())
            });
            st.rule_group = Some(gid);
        }
        Ok(st)
    }

    /// Makes an EC2/SNS/IAM call; `dry_run` only for EC2.
    fn call(
        &self,
        call: &ApiCall,
        created: &BTreeMap<String, String>,
        dry_run: bool,
    ) -> Result<CallOk, CallError> {
        let act = call.iam_action();
        let ok = |rid: Option<&str>, created: Vec<String>| CallOk {
            request_id: rid.map(str::to_string),
            created,
        };
        let rt = &self.rt;
        match call {
            // Not an AWS call: vigil::actions::webhook::WebhookResponder makes it.
            ApiCall::PostWebhook { .. } => Err(CallError::new(
                "vigil.NoWebhook",
                "no webhook URL configured for this session (--webhook URL)",
            )),
            ApiCall::ModifyInstanceAttribute {
                instance_id,
                disable_api_termination,
            } => {
                let o = rt
                    .block_on(
                        self.ec2
                            .modify_instance_attribute()
                            .instance_id(instance_id)
                            .disable_api_termination(
                                ec2t::AttributeBooleanValue::builder()
                                    .value(*disable_api_termination)
                                    .build(),
                            )
                            .dry_run(dry_run)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::CreateTags { resources, tags } => {
                let o = rt
                    .block_on(
                        self.ec2
                            .create_tags()
                            .set_resources(Some(resources.clone()))
                            .set_tags(Some(ec2_tags(tags)))
                            .dry_run(dry_run)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::DeleteTags { resources, keys } => {
                let o = rt
                    .block_on(
                        self.ec2
                            .delete_tags()
                            .set_resources(Some(resources.clone()))
                            .set_tags(Some(
                                keys.iter()
                                    .map(|k| ec2t::Tag::builder().key(k).build())
                                    .collect(),
                            ))
                            .dry_run(dry_run)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::CreateSecurityGroup {
                vpc_id,
                group_name,
                description,
                tags,
            } => {
                let o = rt
                    .block_on(
                        self.ec2
                            .create_security_group()
                            .vpc_id(vpc_id)
                            .group_name(group_name)
                            .description(description)
                            .tag_specifications(
                                ec2t::TagSpecification::builder()
                                    .resource_type(ec2t::ResourceType::SecurityGroup)
                                    .set_tags(Some(ec2_tags(tags)))
                                    .build(),
                            )
                            .dry_run(dry_run)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(
                    o.request_id(),
                    o.group_id().map(str::to_string).into_iter().collect(),
                ))
            }
            ApiCall::AuthorizeSecurityGroupIngressAll { group } => {
                let id = group.resolve(created)?;
                let perm = ec2t::IpPermission::builder()
                    .ip_protocol("-1")
                    .ip_ranges(ec2t::IpRange::builder().cidr_ip("0.0.0.0/0").build())
                    .ipv6_ranges(ec2t::Ipv6Range::builder().cidr_ipv6("::/0").build())
                    .build();
                let o = rt
                    .block_on(
                        self.ec2
                            .authorize_security_group_ingress()
                            .group_id(&id)
                            .ip_permissions(perm)
                            .dry_run(dry_run)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::RevokeSecurityGroupEgressAll { group } => {
                let id = group.resolve(created)?;
                // Revoke exactly the rules the group has (a new group has all-traffic egress to
                // 0.0.0.0/0, and to ::/0 in an IPv6 VPC).
                let d = rt
                    .block_on(self.ec2.describe_security_groups().group_ids(&id).send())
                    .map_err(|err| call_err(err, "ec2:DescribeSecurityGroups"))?;
                let perms: Vec<ec2t::IpPermission> = d
                    .security_groups()
                    .iter()
                    .flat_map(|g| g.ip_permissions_egress().iter().cloned())
                    .collect();
                if perms.is_empty() {
                    return Ok(ok(d.request_id(), vec![]));
                }
                let o = rt
                    .block_on(
                        self.ec2
                            .revoke_security_group_egress()
                            .group_id(&id)
                            .set_ip_permissions(Some(perms))
                            .dry_run(dry_run)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::ModifyNetworkInterfaceAttribute {
                network_interface_id,
                groups,
            } => {
                let ids = groups
                    .iter()
                    .map(|g| g.resolve(created))
                    .collect::<Result<Vec<_>, _>>()?;
                let o = rt
                    .block_on(
                        self.ec2
                            .modify_network_interface_attribute()
                            .network_interface_id(network_interface_id)
                            .set_groups(Some(ids))
                            .dry_run(dry_run)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::CreateSnapshots {
                instance_id,
                tags,
                copy_tags_from_source,
            } => {
                let mut req = self
                    .ec2
                    .create_snapshots()
                    .instance_specification(
                        ec2t::InstanceSpecification::builder()
                            .instance_id(instance_id)
                            .exclude_boot_volume(false)
                            .build(),
                    )
                    .description(format!("vigil forensic snapshot of {instance_id}"))
                    .tag_specifications(
                        ec2t::TagSpecification::builder()
                            .resource_type(ec2t::ResourceType::Snapshot)
                            .set_tags(Some(ec2_tags(tags)))
                            .build(),
                    )
                    .dry_run(dry_run);
                if *copy_tags_from_source {
                    req = req.copy_tags_from_source(ec2t::CopyTagsFromSource::Volume);
                }
                let o = rt.block_on(req.send()).map_err(|err| call_err(err, act))?;
                Ok(ok(
                    o.request_id(),
                    o.snapshots()
                        .iter()
                        .filter_map(|s| s.snapshot_id().map(str::to_string))
                        .collect(),
                ))
            }
            ApiCall::CreateFirewallDomainList { name } => {
                let o = rt
                    .block_on(
                        self.route53resolver
                            .create_firewall_domain_list()
                            .creator_request_id(creator_request_id(name))
                            .name(name)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                let id = o
                    .firewall_domain_list()
                    .and_then(|l| l.id())
                    .map(str::to_string);
                Ok(ok(o.request_id(), id.into_iter().collect()))
            }
            ApiCall::UpdateFirewallDomains {
                domain_list,
                domains,
            } => {
                let id = domain_list.resolve(created)?;
                let o = rt
                    .block_on(
                        self.route53resolver
                            .update_firewall_domains()
                            .firewall_domain_list_id(id)
                            .operation(
                                aws_sdk_route53resolver::types::FirewallDomainUpdateOperation::Add,
                            )
                            .set_domains(Some(domains.clone()))
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::CreateFirewallRuleGroup { name } => {
                let o = rt
                    .block_on(
                        self.route53resolver
                            .create_firewall_rule_group()
                            .creator_request_id(creator_request_id(name))
                            .name(name)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                let id = o
                    .firewall_rule_group()
                    .and_then(|g| g.id())
                    .map(str::to_string);
                Ok(ok(o.request_id(), id.into_iter().collect()))
            }
            ApiCall::CreateFirewallRule {
                rule_group,
                domain_list,
                name,
                priority,
            } => {
                let group = rule_group.resolve(created)?;
                let list = domain_list.resolve(created)?;
                let o = rt
                    .block_on(
                        self.route53resolver
                            .create_firewall_rule()
                            .creator_request_id(creator_request_id(name))
                            .firewall_rule_group_id(group)
                            .firewall_domain_list_id(list)
                            .priority(*priority)
                            .action(aws_sdk_route53resolver::types::Action::Block)
                            .block_response(aws_sdk_route53resolver::types::BlockResponse::Nxdomain)
                            .name(name)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::AssociateFirewallRuleGroup {
                rule_group,
                vpc_id,
                name,
                priority,
            } => {
                let group = rule_group.resolve(created)?;
                let o = rt
                    .block_on(
                        self.route53resolver
                            .associate_firewall_rule_group()
                            .creator_request_id(creator_request_id(name))
                            .firewall_rule_group_id(group)
                            .vpc_id(vpc_id)
                            .priority(*priority)
                            .name(name)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                let id = o
                    .firewall_rule_group_association()
                    .and_then(|a| a.id())
                    .map(str::to_string);
                Ok(ok(o.request_id(), id.into_iter().collect()))
            }
            ApiCall::EnterStandby {
                auto_scaling_group_name,
                instance_id,
                should_decrement_desired_capacity,
            } => {
                let o = rt
                    .block_on(
                        self.autoscaling
                            .enter_standby()
                            .auto_scaling_group_name(auto_scaling_group_name)
                            .instance_ids(instance_id)
                            .should_decrement_desired_capacity(*should_decrement_desired_capacity)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), activity_ids(o.activities())))
            }
            ApiCall::ExitStandby {
                auto_scaling_group_name,
                instance_id,
            } => {
                let o = rt
                    .block_on(
                        self.autoscaling
                            .exit_standby()
                            .auto_scaling_group_name(auto_scaling_group_name)
                            .instance_ids(instance_id)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), activity_ids(o.activities())))
            }
            ApiCall::DetachInstances {
                auto_scaling_group_name,
                instance_id,
                should_decrement_desired_capacity,
            } => {
                let o = rt
                    .block_on(
                        self.autoscaling
                            .detach_instances()
                            .auto_scaling_group_name(auto_scaling_group_name)
                            .instance_ids(instance_id)
                            .should_decrement_desired_capacity(*should_decrement_desired_capacity)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), activity_ids(o.activities())))
            }
            ApiCall::Publish {
                topic_arn,
                subject,
                message,
                json,
            } => {
                let attr = aws_sdk_sns::types::MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(json)
                    .build()
                    .map_err(|b| CallError::new("vigil.InvalidMessage", b.to_string()))?;
                let o = rt
                    .block_on(
                        self.sns
                            .publish()
                            .topic_arn(topic_arn)
                            .subject(subject)
                            .message(message)
                            .message_attributes("vigil-json", attr)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(
                    o.request_id(),
                    o.message_id().map(str::to_string).into_iter().collect(),
                ))
            }
            ApiCall::UpdateAccessKey {
                user_name,
                access_key_id,
                status,
            } => {
                let o = rt
                    .block_on(
                        self.iam
                            .update_access_key()
                            .user_name(user_name)
                            .access_key_id(access_key_id)
                            .status(aws_sdk_iam::types::StatusType::from(status.as_str()))
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
            ApiCall::PutRolePolicy {
                role_name,
                policy_name,
                policy_document,
            } => {
                let o = rt
                    .block_on(
                        self.iam
                            .put_role_policy()
                            .role_name(role_name)
                            .policy_name(policy_name)
                            .policy_document(policy_document)
                            .send(),
                    )
                    .map_err(|err| call_err(err, act))?;
                Ok(ok(o.request_id(), vec![]))
            }
        }
    }
}

macro_rules! inspect_impl {
    ($t:ty) => {
        impl Inspect for $t {
            fn is_demo(&self) -> bool {
                false
            }
            fn identity(&mut self) -> Result<Identity, CallError> {
                self.0.identity()
            }
            fn instance(&mut self, instance_id: &str) -> Result<InstanceState, CallError> {
                self.0.instance(instance_id)
            }
            fn group_by_name(
                &mut self,
                vpc_id: &str,
                name: &str,
            ) -> Result<Option<GroupState>, CallError> {
                self.0.group_by_name(vpc_id, name)
            }
            fn access_key(&mut self, access_key_id: &str) -> Result<KeyState, CallError> {
                self.0.access_key(access_key_id)
            }
            fn instances_with_role(&mut self, role_arn: &str) -> Result<Vec<String>, CallError> {
                self.0.instances_with_role(role_arn)
            }
            fn snapshots(&mut self, ids: &[String]) -> Result<Vec<SnapshotProgress>, CallError> {
                self.0.snapshots(ids)
            }
            fn dns_firewall(&mut self, vpc_id: &str) -> Result<DnsFirewallState, CallError> {
                self.0.dns_firewall(vpc_id)
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

/// Every AWS operation this module calls, as IAM actions (the responder policy must grant each).
pub const OPERATIONS: &[&str] = &[
    "sts:GetCallerIdentity",
    "ec2:DescribeInstances",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeInstanceAttribute",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSnapshots",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeAutoScalingGroups",
    "route53resolver:ListFirewallDomainLists",
    "route53resolver:ListFirewallDomains",
    "route53resolver:ListFirewallRuleGroups",
    "route53resolver:ListFirewallRules",
    "route53resolver:ListFirewallRuleGroupAssociations",
    "iam:GetInstanceProfile",
    "iam:GetAccessKeyLastUsed",
    "iam:ListAccessKeys",
    "iam:ListInstanceProfilesForRole",
    "ec2:ModifyInstanceAttribute",
    "ec2:CreateTags",
    "ec2:DeleteTags",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifyNetworkInterfaceAttribute",
    "ec2:CreateSnapshots",
    "autoscaling:EnterStandby",
    "autoscaling:ExitStandby",
    "autoscaling:DetachInstances",
    "route53resolver:CreateFirewallDomainList",
    "route53resolver:UpdateFirewallDomains",
    "route53resolver:CreateFirewallRuleGroup",
    "route53resolver:CreateFirewallRule",
    "route53resolver:AssociateFirewallRuleGroup",
    "sns:Publish",
    "iam:UpdateAccessKey",
    "iam:PutRolePolicy",
];
