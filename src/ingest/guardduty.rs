//! GuardDuty findings: the wire shape (camelCase; PascalCase goes through [`super::casing`]) and
//! its conversion into [`Finding`] with the entities of the contract.

use super::lenient;
use crate::model::entity::{self, EntityId, EntityKind};
use crate::model::finding::{FindingAction, RemoteIp, Subject};
use crate::model::time::{BadTime, TimeField};
use crate::model::{Finding, Origin, content_hash};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct WireFinding {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    id: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient::opt_nonempty")]
    finding_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_f64")]
    severity: Option<f64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    title: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    description: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    account_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    region: Option<String>,
    created_at: TimeField,
    updated_at: TimeField,
    resource: Option<Resource>,
    /// MozDef renames GuardDuty's `service` block to `finding`.
    #[serde(alias = "finding")]
    service: Option<Service>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Resource {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    resource_type: Option<String>,
    instance_details: Option<InstanceDetails>,
    access_key_details: Option<AccessKeyDetails>,
    #[serde(deserialize_with = "lenient::vec_or_null")]
    s3_bucket_details: Vec<S3BucketDetails>,
    lambda_details: Option<Named>,
    eks_cluster_details: Option<Named>,
    ecs_cluster_details: Option<Named>,
    rds_db_instance_details: Option<Named>,
    container_details: Option<Named>,
    /// Malware Protection's scans: an EBS snapshot, an AMI, an AWS Backup recovery point.
    ebs_snapshot_details: Option<Named>,
    ec2_image_details: Option<Named>,
    recovery_point_details: Option<Named>,
    rds_limitless_db_details: Option<Named>,
}

/// The resources other than instances, keys and buckets (a Lambda function, an EKS or ECS
/// cluster, an RDS instance, a container): what names them for the findings list, and the
/// function's execution role.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Named {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    function_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    db_instance_identifier: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    db_shard_group_identifier: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    snapshot_arn: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    image_arn: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    recovery_point_arn: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    role: Option<String>,
}

impl Named {
    /// What names the resource: a name or identifier as given, or the id an ARN ends with
    /// (`snap-…`, `ami-…`, a recovery point's id).
    fn label(&self) -> Option<String> {
        let named = [
            &self.function_name,
            &self.db_instance_identifier,
            &self.db_shard_group_identifier,
            &self.name,
        ]
        .into_iter()
        .flatten()
        .find(|v| !entity::is_placeholder(v))
        .cloned();
        named.or_else(|| {
            [
                &self.snapshot_arn,
                &self.image_arn,
                &self.recovery_point_arn,
            ]
            .into_iter()
            .flatten()
            .map(|arn| crate::model::arn::short_name(arn))
            .map(|r| r.rsplit(['/', ':']).next().unwrap_or(r).to_string())
            .find(|v| !v.is_empty() && !entity::is_placeholder(v))
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InstanceDetails {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    instance_id: Option<String>,
    #[serde(deserialize_with = "lenient::vec_or_null")]
    network_interfaces: Vec<NetworkInterface>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NetworkInterface {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    network_interface_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    private_ip_address: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    public_ip: Option<String>,
    #[serde(deserialize_with = "lenient::vec_or_null")]
    private_ip_addresses: Vec<PrivateIp>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PrivateIp {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    private_ip_address: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AccessKeyDetails {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    access_key_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    user_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    user_type: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct S3BucketDetails {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Service {
    action: Option<Action>,
    #[serde(deserialize_with = "lenient::opt_u64")]
    count: Option<u64>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    archived: Option<bool>,
    event_first_seen: TimeField,
    event_last_seen: TimeField,
    additional_info: Option<AdditionalInfo>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    resource_role: Option<String>,
    runtime_details: Option<RuntimeDetails>,
    /// An attack sequence's actors, resources and endpoints.
    detection: Option<super::sequence::Detection>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AdditionalInfo {
    #[serde(deserialize_with = "lenient::opt_bool")]
    sample: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RuntimeDetails {
    process: Option<Process>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Process {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    executable_path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Action {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    action_type: Option<String>,
    network_connection_action: Option<NetworkConnectionAction>,
    aws_api_call_action: Option<ApiCallAction>,
    kubernetes_api_call_action: Option<ApiCallAction>,
    rds_login_attempt_action: Option<ApiCallAction>,
    dns_request_action: Option<DnsRequestAction>,
    port_probe_action: Option<PortProbeAction>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct NetworkConnectionAction {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    connection_direction: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    protocol: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    blocked: Option<bool>,
    remote_ip_details: Option<RemoteIpDetails>,
    remote_port_details: Option<PortDetails>,
    local_port_details: Option<PortDetails>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ApiCallAction {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    api: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    service_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    error_code: Option<String>,
    remote_ip_details: Option<RemoteIpDetails>,
    /// `kubernetesApiCallAction.sourceIps`: the addresses the Kubernetes API call came from.
    #[serde(deserialize_with = "lenient::vec_or_null")]
    source_ips: Vec<String>,
    /// `awsApiCallAction.remoteAccountDetails`: the other account a call came from.
    remote_account_details: Option<RemoteAccount>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RemoteAccount {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    account_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct DnsRequestAction {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    domain: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    protocol: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    blocked: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PortProbeAction {
    #[serde(deserialize_with = "lenient::opt_bool")]
    blocked: Option<bool>,
    #[serde(deserialize_with = "lenient::vec_or_null")]
    port_probe_details: Vec<PortProbeDetail>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PortProbeDetail {
    local_port_details: Option<PortDetails>,
    remote_ip_details: Option<RemoteIpDetails>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct PortDetails {
    #[serde(deserialize_with = "lenient::opt_u32")]
    port: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RemoteIpDetails {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    ip_address_v4: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    ip_address_v6: Option<String>,
    country: Option<Country>,
    city: Option<City>,
    organization: Option<Organization>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Country {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    country_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct City {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    city_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct Organization {
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    asn: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    asn_org: Option<String>,
    #[serde(deserialize_with = "lenient::opt_nonempty")]
    org: Option<String>,
}

impl RemoteIpDetails {
    /// The address as written (canonicalised when it parses), with its geography.
    fn to_remote(&self) -> Option<RemoteIp> {
        let raw = self
            .ip_address_v4
            .as_ref()
            .or(self.ip_address_v6.as_ref())?;
        let org = self.organization.as_ref();
        Some(RemoteIp {
            ip: entity::canonical_ip(raw).unwrap_or_else(|| raw.clone()),
            country: self.country.as_ref().and_then(|c| c.country_name.clone()),
            city: self.city.as_ref().and_then(|c| c.city_name.clone()),
            asn: org.and_then(|o| o.asn.clone()).filter(|a| a != "-1"),
            org: org.and_then(|o| o.asn_org.clone().or_else(|| o.org.clone())),
        })
    }

    /// Pushes the remote addresses as entities, remembering them as the finding's remotes.
    fn push_remote_ips(&self, entities: &mut Vec<EntityId>, remotes: &mut Vec<EntityId>) {
        for ip in [&self.ip_address_v4, &self.ip_address_v6]
            .into_iter()
            .flatten()
        {
            push_remote(ip, entities, remotes);
        }
    }
}

fn push_ip(s: &str, out: &mut Vec<EntityId>) {
    if !entity::is_placeholder(s) {
        out.extend(EntityId::ip(s));
    }
}

/// A remote address (a peer, a caller, a prober) as an entity of the finding and one of its
/// remotes, unless it is a placeholder or not an address.
pub(super) fn push_remote(ip: &str, entities: &mut Vec<EntityId>, remotes: &mut Vec<EntityId>) {
    let before = remotes.len();
    push_ip(ip, remotes);
    entities.extend(remotes[before..].iter().cloned());
}

/// Why a finding record was rejected.
#[derive(Debug, thiserror::Error)]
pub enum FindingError {
    #[error("not a GuardDuty finding: it has neither `type` nor `severity`")]
    NotAFinding,
    #[error(transparent)]
    BadTime(#[from] BadTime),
}

impl WireFinding {
    pub(crate) fn into_finding(self, raw: &str, origin: Origin) -> Result<Finding, FindingError> {
        if self.finding_type.is_none() && self.severity.is_none() {
            return Err(FindingError::NotAFinding);
        }
        let id = self
            .id
            .clone()
            .unwrap_or_else(|| format!("vigil-{:016x}", content_hash(raw.as_bytes())));
        let service = self.service.unwrap_or_default();
        let resource = self.resource.unwrap_or_default();
        let created_at = self.created_at.checked("createdAt")?;
        let updated_at = self.updated_at.checked("updatedAt")?;
        let first_seen = service.event_first_seen.checked("service.eventFirstSeen")?;
        let last_seen = service.event_last_seen.checked("service.eventLastSeen")?;
        let mut entities = Vec::new();
        let mut subject = Subject::default();

        let account = self.account_id.filter(|a| !entity::is_placeholder(a));
        if let Some(a) = &account {
            entities.push(EntityId::new(EntityKind::Account, a.clone()));
        }
        let mut resource_label = resource.describe(account.as_deref(), &mut entities, &mut subject);
        if let Some(label) = service
            .detection
            .as_ref()
            .and_then(|d| d.describe(&mut entities, &mut subject))
            && resource.resource_type.as_deref() == Some("AttackSequence")
        {
            resource_label = label;
        }
        let mut action = service
            .action
            .as_ref()
            .map(|a| a.describe(&mut entities, &mut subject.remotes))
            .unwrap_or_default();
        if let Some(p) = service
            .runtime_details
            .as_ref()
            .and_then(|r| r.process.as_ref())
        {
            action.process = p.executable_path.clone().or_else(|| p.name.clone());
        }

        subject.addresses.sort();
        subject.addresses.dedup();
        subject.remotes.sort();
        subject.remotes.dedup();
        entities.extend(subject.addresses.iter().cloned());
        entities.sort();
        entities.dedup();
        Ok(Finding {
            id,
            finding_type: self.finding_type.unwrap_or_else(|| "Unknown".to_string()),
            severity: self.severity.unwrap_or(0.0),
            title: self.title.unwrap_or_default(),
            description: self.description.unwrap_or_default(),
            account_id: account,
            region: self.region,
            created_at,
            updated_at,
            first_seen,
            last_seen,
            count: service.count.unwrap_or(1),
            archived: service.archived.unwrap_or(false),
            resource_role: service.resource_role.clone(),
            sample: service
                .additional_info
                .and_then(|a| a.sample)
                .unwrap_or(false),
            resource_type: resource.resource_type,
            resource: resource_label,
            action,
            entities,
            subject,
            raw: Arc::from(raw),
            origin,
        })
    }
}

impl Resource {
    /// Adds the resource's entities (instance, access key and its principal, buckets) and fills
    /// in the subject; returns the label the findings list shows for the resource.
    fn describe(
        &self,
        account: Option<&str>,
        entities: &mut Vec<EntityId>,
        subject: &mut Subject,
    ) -> String {
        let mut label = String::new();
        if let Some(inst) = &self.instance_details {
            inst.describe(entities, subject, &mut label);
        }
        let resource_type = self.resource_type.as_deref();
        if let Some(ak) = &self.access_key_details {
            ak.describe(resource_type, account, entities, subject, &mut label);
        }
        for b in &self.s3_bucket_details {
            if let Some(n) = b.name.as_ref().filter(|n| !entity::is_placeholder(n)) {
                entities.push(EntityId::new(EntityKind::Bucket, n.clone()));
                if label.is_empty() || resource_type == Some("S3Bucket") {
                    label = n.clone();
                }
            }
        }
        let named = [
            &self.lambda_details,
            &self.eks_cluster_details,
            &self.ecs_cluster_details,
            &self.rds_db_instance_details,
            &self.container_details,
            &self.ebs_snapshot_details,
            &self.ec2_image_details,
            &self.recovery_point_details,
            &self.rds_limitless_db_details,
        ];
        for n in named.into_iter().flatten() {
            // A Lambda function's execution role: what its code acts as.
            entities.extend(
                n.role
                    .as_deref()
                    .and_then(crate::model::arn::classify_identifier)
                    .filter(|r| r.kind == EntityKind::Role),
            );
            if let Some(name) = n.label()
                && label.is_empty()
            {
                label = name;
            }
        }
        if label.is_empty() {
            label = self.resource_type.clone().unwrap_or_default();
        }
        label
    }
}

impl InstanceDetails {
    /// The instance (which labels the resource), its interfaces and their addresses.
    fn describe(&self, entities: &mut Vec<EntityId>, subject: &mut Subject, label: &mut String) {
        if let Some(iid) = self
            .instance_id
            .as_ref()
            .filter(|i| !entity::is_placeholder(i))
        {
            entities.push(EntityId::new(EntityKind::Instance, iid.clone()));
            subject.instance = Some(EntityId::new(EntityKind::Instance, iid.clone()));
            *label = iid.clone();
        }
        for ni in &self.network_interfaces {
            if let Some(eni) = ni
                .network_interface_id
                .as_ref()
                .filter(|e| !entity::is_placeholder(e))
            {
                subject.interfaces.push(eni.clone());
            }
            for ip in [&ni.private_ip_address, &ni.public_ip]
                .into_iter()
                .flatten()
            {
                push_ip(ip, &mut subject.addresses);
            }
            for p in &ni.private_ip_addresses {
                if let Some(ip) = &p.private_ip_address {
                    push_ip(ip, &mut subject.addresses);
                }
            }
        }
    }
}

impl AccessKeyDetails {
    /// The key and, when the account is known, the principal it belongs to; the principal labels
    /// the resource unless something else already does (an access-key finding: always).
    fn describe(
        &self,
        resource_type: Option<&str>,
        account: Option<&str>,
        entities: &mut Vec<EntityId>,
        subject: &mut Subject,
        label: &mut String,
    ) {
        if let Some(k) = self
            .access_key_id
            .as_ref()
            .filter(|k| !entity::is_placeholder(k))
        {
            entities.push(EntityId::new(EntityKind::Key, k.clone()));
            subject.key = Some(EntityId::new(EntityKind::Key, k.clone()));
        }
        let Some(name) = self
            .user_name
            .as_ref()
            .filter(|n| !entity::is_placeholder(n))
        else {
            return;
        };
        let Some(p) = account.and_then(|acct| self.principal(name, acct)) else {
            return;
        };
        if label.is_empty() || resource_type == Some("AccessKey") {
            *label = format!("{} {}", self.user_type.as_deref().unwrap_or(""), name);
        }
        subject.principal = Some(p.clone());
        entities.push(p);
    }

    /// The IAM user, root or role named `name` in account `acct`, by the key's user type.
    fn principal(&self, name: &str, acct: &str) -> Option<EntityId> {
        principal_of(self.user_type.as_deref(), name, acct)
    }
}

/// The IAM user, root or role GuardDuty names by type and name in account `acct` (an access key's
/// user, an attack sequence's actor).
pub(super) fn principal_of(user_type: Option<&str>, name: &str, acct: &str) -> Option<EntityId> {
    match user_type {
        Some("IAMUser") => Some(EntityId::new(
            EntityKind::User,
            format!("arn:aws:iam::{acct}:user/{name}"),
        )),
        Some("Root") => Some(EntityId::new(
            EntityKind::User,
            format!("arn:aws:iam::{acct}:root"),
        )),
        Some("AssumedRole") | Some("Role") => Some(EntityId::new(
            EntityKind::Role,
            format!("arn:aws:iam::{acct}:role/{name}"),
        )),
        _ => None,
    }
}

impl Action {
    /// What the finding saw happen: connection, API call, DNS request or port probe. Remote
    /// addresses are added to `entities` and remembered in `remotes`.
    fn describe(&self, entities: &mut Vec<EntityId>, remotes: &mut Vec<EntityId>) -> FindingAction {
        let mut action = FindingAction {
            action_type: self.action_type.clone(),
            ..FindingAction::default()
        };
        if let Some(n) = &self.network_connection_action {
            action.direction = n.connection_direction.clone();
            action.protocol = n.protocol.clone();
            action.blocked = n.blocked;
            action.remote_port = n.remote_port_details.as_ref().and_then(|p| p.port);
            action.local_port = n.local_port_details.as_ref().and_then(|p| p.port);
            if let Some(r) = &n.remote_ip_details {
                r.push_remote_ips(entities, remotes);
                action.remote = r.to_remote();
            }
        }
        for call in [
            &self.aws_api_call_action,
            &self.kubernetes_api_call_action,
            &self.rds_login_attempt_action,
        ]
        .into_iter()
        .flatten()
        {
            action.api = action.api.take().or_else(|| call.api.clone());
            action.service_name = action
                .service_name
                .take()
                .or_else(|| call.service_name.clone());
            action.error_code = action.error_code.take().or_else(|| call.error_code.clone());
            if let Some(r) = &call.remote_ip_details {
                r.push_remote_ips(entities, remotes);
                action.remote = action.remote.take().or_else(|| r.to_remote());
            }
            for ip in &call.source_ips {
                push_remote(ip, entities, remotes);
            }
            if let Some(a) = call
                .remote_account_details
                .as_ref()
                .and_then(|r| r.account_id.as_ref())
                .filter(|a| !entity::is_placeholder(a))
            {
                entities.push(EntityId::new(EntityKind::Account, a.clone()));
            }
        }
        if let Some(d) = &self.dns_request_action {
            action.protocol = action.protocol.take().or_else(|| d.protocol.clone());
            action.blocked = action.blocked.or(d.blocked);
            if let Some(dom) = d.domain.as_ref().filter(|d| !entity::is_placeholder(d)) {
                entities.extend(EntityId::domain(dom));
                action.domain = Some(entity::canonical_domain(dom));
            }
        }
        if let Some(p) = &self.port_probe_action {
            action.blocked = action.blocked.or(p.blocked);
            for d in &p.port_probe_details {
                if let Some(r) = &d.remote_ip_details {
                    r.push_remote_ips(entities, remotes);
                    if let Some(remote) = r.to_remote() {
                        action
                            .probes
                            .push((d.local_port_details.as_ref().and_then(|l| l.port), remote));
                    }
                }
            }
        }
        action
    }
}
