//! Issue 9's entity-model rules: principals for every `userIdentity.type`, `session_of` from the
//! session issuer only, the sessions `AssumeRole*`/`GetFederationToken` start, resource ARNs and
//! `sourceIPAddress` lists. The records follow the AWS documentation's examples
//! (tests/fixtures/identities/SOURCES.md).

use super::{event, ids, load_text};
use std::path::PathBuf;
use vigil::graph::{EntityGraph, Relation, groups};
use vigil::ingest::{self, Loaded};
use vigil::model::{EntityId, EntityKind, TrailEvent};
use vigil::pivot::{self, TrailIndex, Window};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/identities/cloudtrail-identities.json")
}

fn load_fixture() -> Loaded {
    let l = ingest::load(&[fixture()]).unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(l.events.len(), 14);
    l
}

fn by_id<'l>(l: &'l Loaded, prefix: &str) -> &'l TrailEvent {
    l.events
        .iter()
        .find(|e| e.event_id.starts_with(prefix))
        .unwrap_or_else(|| panic!("no event {prefix}"))
}

fn id(s: &str) -> EntityId {
    EntityId::parse(s).unwrap()
}

/// `(other end, relation)` of every edge leaving `from`.
fn out_edges(g: &EntityGraph, from: &str) -> Vec<(String, Relation)> {
    let from = id(from);
    g.edges_of(&from)
        .into_iter()
        .filter(|(_, e)| e.from == from)
        .map(|(o, e)| (o.to_string(), e.relation))
        .collect()
}

const ALICE: &str = "user:arn:aws:iam::123456789012:user/Alice";
const CALLER: &str = "session:arn:aws:sts::123456789012:assumed-role/RoleA/alice-session";
const CHAINED: &str = "session:arn:aws:sts::123456789012:assumed-role/RoleB/chained";
const ROLE_A: &str = "role:arn:aws:iam::123456789012:role/RoleA";
const ROLE_B: &str = "role:arn:aws:iam::123456789012:role/ops/RoleB";
const SSO_ID: &str = "sso-user:d-9067642ac7/544894e8-80c1-707f-60e3-3ba6510dfac1";
const SSO_NAME: &str = "sso-user:123456789012/jane.doe";

#[test]
fn every_identity_type_has_a_principal() {
    let l = load_fixture();
    let want = [
        ("id-01", ALICE),
        ("id-02", "user:arn:aws:iam::123456789012:root"),
        ("id-03", CALLER),
        (
            "id-04",
            "session:arn:aws:sts::123456789012:federated-user/Bob",
        ),
        ("id-05", ALICE),
        ("id-06", "service:ec2.amazonaws.com"),
        ("id-07", "account:111122223333"),
        ("id-08", SSO_ID),
        ("id-09", SSO_ID),
        ("id-10", SSO_NAME),
        ("id-11", "idp-user:SamlExample@bdGOnTesti4+ExamplexL/jEvs="),
        ("id-12", "idp-user:user-id@accounts.google.com"),
        (
            "id-13",
            "session:arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName",
        ),
        ("id-14", "service:AWS Internal"),
    ];
    for (prefix, principal) in want {
        let e = by_id(&l, prefix);
        let p = e.principal.as_ref().map(|p| p.to_string());
        assert_eq!(p.as_deref(), Some(principal), "{prefix} {}", e.name);
        // The principal is one of the event's entities, so it pivots like any other.
        assert!(e.entities.contains(&id(principal)), "{prefix}");
    }
}

#[test]
fn session_of_names_only_the_issuing_role() {
    let l = load_fixture();
    let g = EntityGraph::from_loaded(&l);
    let caller = out_edges(&g, CALLER);
    let session_of: Vec<&str> = caller
        .iter()
        .filter(|(_, r)| *r == Relation::SessionOf)
        .map(|(o, _)| o.as_str())
        .collect();
    assert_eq!(session_of, vec![ROLE_A], "{caller:?}");
    // The role it assumed is a target, and the session it started is the role chain.
    assert!(caller.contains(&(ROLE_B.to_string(), Relation::ActedOn)));
    assert!(caller.contains(&(CHAINED.to_string(), Relation::Started)));
    assert!(!caller.contains(&(CHAINED.to_string(), Relation::ActedOn)));
    // `vigil graph role:…RoleA` shows its session.
    assert!(
        g.edges_of(&id(ROLE_A))
            .iter()
            .any(|(o, e)| o.to_string() == CALLER && e.relation == Relation::SessionOf)
    );
    // The new session belongs to the assumed role (`roleArn`, path kept).
    assert_eq!(
        out_edges(&g, CHAINED),
        vec![(ROLE_B.to_string(), Relation::SessionOf)]
    );
    let started = by_id(&l, "id-03").started.as_ref().unwrap();
    assert_eq!(started.session, id(CHAINED));
    assert_eq!(started.issuer, Some(id(ROLE_B)));
}

#[test]
fn a_session_without_role_arn_belongs_to_the_role_in_its_arn() {
    let rec = r#","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"IAMUser","arn":"arn:aws-cn:iam::123456789012:user/ops","accountId":"123456789012"},"responseElements":{"assumedRoleUser":{"arn":"arn:aws-cn:sts::123456789012:assumed-role/Deploy/ci"}}"#;
    let l =
        load_text(&event("e", "2024-05-01T10:00:00Z", rec).replace("ListBuckets", "AssumeRole"));
    let g = EntityGraph::from_loaded(&l);
    assert_eq!(
        out_edges(
            &g,
            "session:arn:aws-cn:sts::123456789012:assumed-role/Deploy/ci"
        ),
        vec![(
            "role:arn:aws-cn:iam::123456789012:role/Deploy".to_string(),
            Relation::SessionOf
        )]
    );
    assert!(
        out_edges(&g, "user:arn:aws-cn:iam::123456789012:user/ops").contains(&(
            "session:arn:aws-cn:sts::123456789012:assumed-role/Deploy/ci".to_string(),
            Relation::Started
        ))
    );
}

#[test]
fn federation_links_the_session_to_the_user_who_issued_it() {
    let l = load_fixture();
    let g = EntityGraph::from_loaded(&l);
    let bob = "session:arn:aws:sts::123456789012:federated-user/Bob";
    assert_eq!(
        out_edges(&g, bob)
            .into_iter()
            .filter(|(_, r)| *r == Relation::SessionOf)
            .collect::<Vec<_>>(),
        vec![(ALICE.to_string(), Relation::SessionOf)]
    );
    assert!(out_edges(&g, ALICE).contains(&(bob.to_string(), Relation::Started)));
}

#[test]
fn services_accounts_and_external_users_start_sessions() {
    let l = load_fixture();
    let g = EntityGraph::from_loaded(&l);
    let web = "session:arn:aws:sts::123456789012:assumed-role/WebRole/i-0abcd1234efaa5678";
    assert!(
        out_edges(&g, "service:ec2.amazonaws.com").contains(&(web.to_string(), Relation::Started))
    );
    assert!(
        out_edges(&g, "instance:i-0abcd1234efaa5678")
            .contains(&(web.to_string(), Relation::Assumed))
    );
    assert_eq!(
        out_edges(&g, web),
        vec![(
            "role:arn:aws:iam::123456789012:role/WebRole".to_string(),
            Relation::SessionOf
        )]
    );
    // A service principal has no address: `sourceIPAddress` is its name.
    assert!(
        !out_edges(&g, "service:ec2.amazonaws.com")
            .iter()
            .any(|(_, r)| *r == Relation::CalledFrom)
    );
    for (caller, session) in [
        (
            "account:111122223333",
            "session:arn:aws:sts::123456789012:assumed-role/CrossAccountAudit/audit",
        ),
        (
            "idp-user:SamlExample@bdGOnTesti4+ExamplexL/jEvs=",
            "session:arn:aws:sts::444455556666:assumed-role/SAMLTestRoleShibboleth/MyAssignedRoleSessionName",
        ),
        (
            "idp-user:user-id@accounts.google.com",
            "session:arn:aws:sts::123456789012:assumed-role/WebIdentityRole/web-session",
        ),
    ] {
        let edges = out_edges(&g, caller);
        assert!(
            edges.contains(&(session.to_string(), Relation::Started)),
            "{caller}: {edges:?}"
        );
        assert!(
            edges.iter().any(|(_, r)| *r == Relation::CalledFrom),
            "{caller}: {edges:?}"
        );
    }
}

#[test]
fn identity_center_users_by_id_and_by_name() {
    let l = load_fixture();
    let g = EntityGraph::from_loaded(&l);
    assert_eq!(by_id(&l, "id-09").known_as, Some(id(SSO_NAME)));
    assert!(out_edges(&g, SSO_ID).contains(&(SSO_NAME.to_string(), Relation::KnownAs)));
    let tip = "session:arn:aws:sts::123456789012:assumed-role/RoleToBeAssumed/MySessionName";
    assert!(out_edges(&g, tip).contains(&(SSO_ID.to_string(), Relation::OnBehalfOf)));
    // The pivot finds the user's events the same way through the index and the scan.
    let mut idx = TrailIndex::new();
    for e in l.events.clone() {
        idx.add(e);
    }
    idx.finish();
    for (who, want) in [
        (SSO_ID, vec!["id-08", "id-09", "id-13"]),
        (SSO_NAME, vec!["id-09", "id-10"]),
    ] {
        let target = id(who);
        let indexed: Vec<String> = idx
            .pivot(&target, Window::all())
            .iter()
            .map(|r| idx.event_id(idx.row(*r).unwrap())[..5].to_string())
            .collect();
        assert_eq!(indexed, want, "{who}");
        let scanned: Vec<String> = pivot::scan(&[fixture()], &target, Window::all())
            .unwrap()
            .events
            .iter()
            .map(|h| h.event.event_id()[..5].to_string())
            .collect();
        assert_eq!(scanned, want, "{who}");
    }
}

#[test]
fn a_source_address_list_yields_each_address_and_the_public_caller() {
    let l = load_fixture();
    let e = by_id(&l, "id-03");
    let got = ids(&e.entities);
    for ip in ["ip:81.2.69.142", "ip:192.168.10.10"] {
        assert!(got.contains(&ip.to_string()), "{got:?}");
    }
    assert_eq!(e.caller_ip, Some(id("ip:81.2.69.142")));
    let g = EntityGraph::from_loaded(&l);
    let called: Vec<(String, Relation)> = out_edges(&g, CALLER)
        .into_iter()
        .filter(|(_, r)| *r == Relation::CalledFrom)
        .collect();
    assert_eq!(
        called,
        vec![("ip:81.2.69.142".to_string(), Relation::CalledFrom)]
    );
    // The scan's prefilter reads every address of the list.
    let hits = pivot::scan(&[fixture()], &id("ip:192.168.10.10"), Window::all()).unwrap();
    assert_eq!(hits.events.len(), 1);
    // A list with no public address: the first is the caller's.
    let private = r#","sourceIPAddress":"10.1.2.3,10.9.9.9","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}"#;
    let l = load_text(&event("p", "2024-05-01T10:00:00Z", private));
    assert_eq!(l.events[0].caller_ip, Some(id("ip:10.1.2.3")));
}

#[test]
fn resource_arns_are_the_entities_their_ids_are() {
    let rec = r#","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"IAMUser","arn":"arn:aws-us-gov:iam::123456789012:user/ops","accountId":"123456789012"},
      "requestParameters":{"instancesSet":{"items":[{"instanceId":"arn:aws:ec2:us-east-1:123456789012:instance/i-0aaaaaaaaaaaaaaaa"}]},
        "policyArn":"arn:aws:iam::123456789012:policy/NotAnEntity","target":"arn:aws-cn:s3:::cn-bucket/path/to/object.txt",
        "roleArn":"arn:aws-us-gov:iam::123456789012:role/service-role/path/Deployer"},
      "responseElements":{"created":"arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0bbbbbbbbbbbbbbbb","vol":"arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0"},
      "resources":[{"ARN":"arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0ccccccccccccccc"},{"ARN":"arn:aws:s3:::plain-bucket"},
        {"ARN":"arn:aws-iso:iam::123456789012:user/path/carol"},{"ARN":"arn:awsbogus:iam::123456789012:user/mallory"}]"#;
    let l = load_text(&event("r", "2024-05-01T10:00:00Z", rec));
    let got = ids(&l.events[0].targets);
    let mut want: Vec<String> = [
        "instance:i-0aaaaaaaaaaaaaaaa",
        "instance:i-0bbbbbbbbbbbbbbbb",
        "instance:i-0ccccccccccccccc",
        "bucket:cn-bucket",
        "bucket:plain-bucket",
        "role:arn:aws-us-gov:iam::123456789012:role/service-role/path/Deployer",
        "user:arn:aws-iso:iam::123456789012:user/path/carol",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.sort_by_key(|s| id(s));
    assert_eq!(got, want);
    // The bare id and the ARN are one entity: a pivot on the instance finds the event.
    let l2 = load_text(&event(
        "s",
        "2024-05-01T11:00:00Z",
        r#","requestParameters":{"instanceId":"i-0ccccccccccccccc"}"#,
    ));
    assert!(
        l2.events[0]
            .entities
            .contains(&id("instance:i-0ccccccccccccccc"))
    );
}

#[test]
fn new_kinds_parse_pivot_and_never_link_what_is_shared() {
    for k in ["service", "sso-user", "idp-user"] {
        let kind: EntityKind = k.parse().unwrap();
        assert!(kind.is_principal(), "{k}");
        assert!(EntityKind::ALL.contains(&kind));
    }
    assert!(!groups::links(&id("service:ec2.amazonaws.com")));
    assert!(groups::links(&id(SSO_ID)));
    assert!(groups::links(&id("idp-user:user-id@accounts.google.com")));
}

#[test]
fn fallbacks_build_principals_from_account_and_name_but_never_from_control_bytes() {
    let p = |ui: &str, region: &str| {
        let rec = format!(r#","userIdentity":{ui}"#);
        let text = event("f", "2024-05-01T10:00:00Z", &rec).replace("us-east-1", region);
        load_text(&text).events[0]
            .principal
            .as_ref()
            .map(|p| p.to_string())
    };
    // IAM user and root without an ARN (console sign-in records): the partition follows the region.
    assert_eq!(
        p(
            r#"{"type":"IAMUser","accountId":"123456789012","userName":"anaya"}"#,
            "cn-north-1"
        )
        .as_deref(),
        Some("user:arn:aws-cn:iam::123456789012:user/anaya")
    );
    assert_eq!(
        p(
            r#"{"type":"Root","accountId":"123456789012"}"#,
            "us-gov-west-1"
        )
        .as_deref(),
        Some("user:arn:aws-us-gov:iam::123456789012:root")
    );
    // A session without its ARN acts as its issuing role; a role acts as itself.
    assert_eq!(
        p(
            r#"{"type":"AssumedRole","accountId":"1","sessionContext":{"sessionIssuer":{"type":"Role","accountId":"123456789012","userName":"Ops"}}}"#,
            "us-east-1"
        )
        .as_deref(),
        Some("role:arn:aws:iam::123456789012:role/Ops")
    );
    assert_eq!(
        p(
            r#"{"type":"Role","arn":"arn:aws:iam::123456789012:role/Ops"}"#,
            "us-east-1"
        )
        .as_deref(),
        Some("role:arn:aws:iam::123456789012:role/Ops")
    );
    // AWSService without invokedBy: the service named in sourceIPAddress.
    let svc = r#","sourceIPAddress":"lambda.amazonaws.com","userIdentity":{"type":"AWSService"}"#;
    assert_eq!(
        load_text(&event("s", "2024-05-01T10:00:00Z", svc)).events[0].principal,
        Some(id("service:lambda.amazonaws.com"))
    );
    // Names are attacker-controlled: one with a control byte names nobody.
    for ui in [
        r#"{"type":"Unknown","accountId":"123456789012","userName":"jane\u001b[2J"}"#,
        r#"{"type":"AWSService","invokedBy":"ec2.amazonaws.com\u0007"}"#,
        r#"{"type":"WebIdentityUser","userName":"\u0000","identityProvider":"x"}"#,
    ] {
        assert_eq!(p(ui, "us-east-1"), None, "{ui}");
    }
}

#[test]
fn credentials_scoped_to_an_instance_link_the_session_to_it() {
    let rec = r#","sourceIPAddress":"203.0.113.9","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::123456789012:assumed-role/Web/a1b2c3","accountId":"123456789012",
      "sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::123456789012:role/Web"}},
      "inScopeOf":{"issuerType":"AWS::EC2::Instance","credentialsIssuedTo":"arn:aws:ec2:us-east-1:123456789012:instance/i-0dddddddddddddddd"}}"#;
    let l = load_text(&event("i", "2024-05-01T10:00:00Z", rec));
    let session = "session:arn:aws:sts::123456789012:assumed-role/Web/a1b2c3";
    assert_eq!(
        l.events[0].instance,
        Some(id("instance:i-0dddddddddddddddd"))
    );
    let g = EntityGraph::from_loaded(&l);
    assert_eq!(
        out_edges(&g, "instance:i-0dddddddddddddddd"),
        vec![(session.to_string(), Relation::Assumed)]
    );
    // Scoped to something else (a Lambda function): no instance.
    let lambda = rec.replace(
        "arn:aws:ec2:us-east-1:123456789012:instance/i-0dddddddddddddddd",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
    );
    let l = load_text(&event("j", "2024-05-01T10:00:00Z", &lambda));
    assert_eq!(l.events[0].instance, None);
    assert!(
        !l.events[0]
            .entities
            .iter()
            .any(|e| e.kind == EntityKind::Instance)
    );
}
