//! The entity model contract (issue 2, section 3), rule by rule, through the real ingest.

use std::io::Write;
use std::path::PathBuf;
use vigil::graph::{EntityGraph, Relation, groups};
use vigil::ingest::{self, Loaded};
use vigil::model::{EntityId, SeverityLabel, Ts};
use vigil::pivot::{self, TrailIndex, Window};

#[path = "contract/identity.rs"]
mod identity;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn load_text(text: &str) -> Loaded {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "input.json", text);
    let l = ingest::load(&[p]).unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    l
}

fn ids(v: &[EntityId]) -> Vec<String> {
    v.iter().map(|e| e.to_string()).collect()
}

const FINDING: &str = r#"{
  "schemaVersion": "2.0", "accountId": "012345678901", "region": "us-east-1",
  "id": "f1", "type": "UnauthorizedAccess:EC2/SSHBruteForce", "severity": 5,
  "title": "t", "description": "d",
  "resource": {"resourceType": "Instance",
    "instanceDetails": {"instanceId": "i-0123456789abcdef0",
      "networkInterfaces": [{"privateIpAddress": "10.0.0.5", "publicIp": "203.0.113.10",
        "privateIpAddresses": [{"privateIpAddress": "10.0.0.6"}]}]},
    "accessKeyDetails": {"accessKeyId": "AKIAAAAAAAAAAAAAAAAA", "userName": "alice", "userType": "IAMUser"},
    "s3BucketDetails": [{"name": "loot"}]},
  "service": {"count": 3, "archived": false, "eventFirstSeen": "2024-05-01T10:00:00Z", "eventLastSeen": "2024-05-01T11:00:00Z",
    "action": {"actionType": "NETWORK_CONNECTION",
      "networkConnectionAction": {"connectionDirection": "INBOUND",
        "remoteIpDetails": {"ipAddressV4": "198.051.100.007", "organization": {"asn": -1}}}}}
}"#;

fn finding_entities() -> Vec<String> {
    vec![
        "account:012345678901",
        "ip:10.0.0.5",
        "ip:10.0.0.6",
        "ip:198.51.100.7",
        "ip:203.0.113.10",
        "instance:i-0123456789abcdef0",
        "user:arn:aws:iam::012345678901:user/alice",
        "key:AKIAAAAAAAAAAAAAAAAA",
        "bucket:loot",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

#[test]
fn finding_entities_in_every_envelope_and_casing() {
    let mut want = finding_entities();
    want.sort_by_key(|s| EntityId::parse(s).unwrap());
    let bare = load_text(FINDING);
    assert_eq!(ids(&bare.findings[0].entities), want);

    let array = load_text(&format!("[{FINDING}]"));
    let rest = load_text(&format!(r#"{{"findings":[{FINDING}]}}"#));
    let eventbridge = load_text(&format!(
        r#"{{"version":"0","id":"x","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"012345678901","time":"2024-05-01T11:00:00Z","region":"us-east-1","resources":[],"detail":{FINDING}}}"#
    ));
    let truncated = load_text(&format!(r#"{{"detail":{FINDING}}}"#));
    let compact = FINDING.replace('\n', "");
    let jsonl = load_text(&format!(
        "{compact}\n{}\n",
        compact.replace("\"f1\"", "\"f2\"")
    ));
    // PascalCase, as the CLI prints it: capitalise every key.
    let pascal_body = capitalise_keys(FINDING);
    let pascal = load_text(&format!(r#"{{"Findings":[{pascal_body}]}}"#));
    for (name, l) in [
        ("array", &array),
        ("rest", &rest),
        ("eventbridge", &eventbridge),
        ("truncated", &truncated),
        ("pascal", &pascal),
    ] {
        assert_eq!(l.findings.len(), 1, "{name}");
        assert_eq!(ids(&l.findings[0].entities), want, "{name}");
        assert_eq!(l.findings[0].id, "f1", "{name}");
        assert_eq!(l.findings[0].count, 3, "{name}");
    }
    assert_eq!(jsonl.findings.len(), 2);
    assert_eq!(ids(&jsonl.findings[1].entities), want);
}

/// `"key":` → `"Key":` for every key (values untouched).
fn capitalise_keys(json: &str) -> String {
    let mut out = String::new();
    let b: Vec<char> = json.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '"' {
            let end = i + 1 + b[i + 1..].iter().position(|c| *c == '"').unwrap();
            let s: String = b[i + 1..end].iter().collect();
            let after: String = b[end + 1..]
                .iter()
                .take_while(|c| c.is_whitespace())
                .collect();
            let is_key = b.get(end + 1 + after.len()) == Some(&':');
            let s = if is_key {
                s[..1].to_uppercase() + &s[1..]
            } else {
                s
            };
            out.push('"');
            out.push_str(&s);
            out.push('"');
            i = end + 1;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn principal_of_access_key_by_user_type() {
    for (ty, want) in [
        ("IAMUser", Some("user:arn:aws:iam::012345678901:user/alice")),
        ("Root", Some("user:arn:aws:iam::012345678901:root")),
        (
            "AssumedRole",
            Some("role:arn:aws:iam::012345678901:role/alice"),
        ),
        ("Role", Some("role:arn:aws:iam::012345678901:role/alice")),
        ("FederatedUser", None),
    ] {
        let f = FINDING.replace("\"IAMUser\"", &format!("\"{ty}\""));
        let l = load_text(&f);
        let principals: Vec<String> = l.findings[0]
            .entities
            .iter()
            .filter(|e| e.kind.is_principal())
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            principals,
            want.into_iter().map(String::from).collect::<Vec<_>>(),
            "{ty}"
        );
    }
}

#[test]
fn placeholders_and_non_ips_are_not_entities() {
    let f = FINDING
        .replace("i-0123456789abcdef0", "i-99999999")
        .replace("AKIAAAAAAAAAAAAAAAAA", "GeneratedFindingAccessKeyId")
        .replace("\"loot\"", "\"GeneratedFindingS3Bucket\"")
        .replace("198.051.100.007", "GeneratedFindingIPAddress")
        .replace("203.0.113.10", "not-an-ip");
    let l = load_text(&f);
    let got = ids(&l.findings[0].entities);
    assert!(
        !got.iter().any(|e| e.contains("99999999")
            || e.contains("GeneratedFinding")
            || e.contains("not-an-ip")),
        "{got:?}"
    );
    assert!(got.contains(&"ip:10.0.0.5".to_string()));
}

#[test]
fn probe_api_and_dns_actions() {
    let probe = r#"{"id":"p","type":"Recon:EC2/PortProbeUnprotectedPort","severity":2,"accountId":"1",
      "service":{"action":{"actionType":"PORT_PROBE","portProbeAction":{"portProbeDetails":[
        {"localPortDetails":{"port":22},"remoteIpDetails":{"ipAddressV4":"192.0.2.1"}},
        {"localPortDetails":{"port":80},"remoteIpDetails":{"ipAddressV6":"2001:DB8::0:1"}}]}}}}"#;
    let l = load_text(probe);
    assert_eq!(
        ids(&l.findings[0].entities),
        vec!["account:1", "ip:192.0.2.1", "ip:2001:db8::1"]
    );
    assert_eq!(l.findings[0].action.probes.len(), 2);

    let api = r#"{"id":"a","type":"Recon:IAMUser/UserPermissions","severity":5.3,"accountId":"1",
      "service":{"action":{"actionType":"AWS_API_CALL","awsApiCallAction":{"api":"ListUsers","remoteIpDetails":{"ipAddressV4":"192.0.2.9"}}}}}"#;
    let l = load_text(api);
    assert_eq!(
        ids(&l.findings[0].entities),
        vec!["account:1", "ip:192.0.2.9"]
    );
    assert_eq!(l.findings[0].label(), SeverityLabel::Medium);

    for action in ["kubernetesApiCallAction", "rdsLoginAttemptAction"] {
        let f = api.replace("awsApiCallAction", action);
        assert_eq!(
            ids(&load_text(&f).findings[0].entities),
            vec!["account:1", "ip:192.0.2.9"],
            "{action}"
        );
    }

    let dns = r#"{"id":"d","type":"Trojan:EC2/DGADomainRequest.B","severity":8,"accountId":"1",
      "service":{"action":{"actionType":"DNS_REQUEST","dnsRequestAction":{"domain":"Evil.Example.COM."}}}}"#;
    assert_eq!(
        ids(&load_text(dns).findings[0].entities),
        vec!["account:1", "domain:evil.example.com"]
    );
}

fn event(id: &str, time: &str, extra: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"{time}","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"012345678901"{extra}}}"#
    )
}

const ASSUMED: &str = r#","sourceIPAddress":"075.050.255.067","userAgent":"aws-cli/2","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::012345678901:assumed-role/Web/i-0123456789abcdef0","accountId":"012345678901","accessKeyId":"ASIAAAAAAAAAAAAAAAAA","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::012345678901:role/Web"}}},"requestParameters":{"bucketName":"loot","nested":[{"x":"i-0fedcba9876543210"},"arn:aws:iam::012345678901:user/bob","arn:aws:s3:::other","arn:aws:s3:::with/slash"]},"responseElements":{"k":{"accessKeyId":"AKIABBBBBBBBBBBBBBBB"}},"resources":[{"ARN":"arn:aws:iam::012345678901:role/Target"}]"#;

#[test]
fn cloudtrail_event_entities() {
    let l = load_text(&format!(
        r#"{{"Records":[{}]}}"#,
        event("e1", "2024-05-01T10:00:00Z", ASSUMED)
    ));
    let got = ids(&l.events[0].entities);
    let mut want: Vec<String> = [
        "account:012345678901",
        "ip:75.50.255.67",
        "instance:i-0123456789abcdef0",
        "instance:i-0fedcba9876543210",
        "role:arn:aws:iam::012345678901:role/Web",
        "role:arn:aws:iam::012345678901:role/Target",
        "session:arn:aws:sts::012345678901:assumed-role/Web/i-0123456789abcdef0",
        "user:arn:aws:iam::012345678901:user/bob",
        "key:ASIAAAAAAAAAAAAAAAAA",
        "key:AKIABBBBBBBBBBBBBBBB",
        "bucket:loot",
        "bucket:other",
        "bucket:with",
        "ua:aws-cli/2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want.sort_by_key(|s| EntityId::parse(s).unwrap());
    assert_eq!(got, want);
}

#[test]
fn cloudtrail_identity_types_and_non_ip_sources() {
    let user = r#","sourceIPAddress":"cloudformation.amazonaws.com","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::012345678901:user/alice","accountId":"999999999999"}"#;
    let l = load_text(&event("u", "2024-05-01T10:00:00Z", user));
    assert_eq!(
        ids(&l.events[0].entities),
        vec![
            "account:012345678901",
            "account:999999999999",
            "user:arn:aws:iam::012345678901:user/alice"
        ]
    );
    let root = r#","sourceIPAddress":"AWS Internal","userIdentity":{"type":"Root","arn":"arn:aws:iam::012345678901:root"}"#;
    assert!(
        ids(&load_text(&event("r", "2024-05-01T10:00:00Z", root)).events[0].entities)
            .contains(&"user:arn:aws:iam::012345678901:root".to_string())
    );
    // A session not named after an instance yields no instance; an issuer that is not a Role no role.
    let sess = r#","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/Dev/alice","sessionContext":{"sessionIssuer":{"type":"User","arn":"arn:aws:iam::1:role/Dev"}}}"#;
    assert_eq!(
        ids(&load_text(&event("s", "2024-05-01T10:00:00Z", sess)).events[0].entities),
        vec![
            "account:012345678901",
            "session:arn:aws:sts::1:assumed-role/Dev/alice"
        ]
    );
    // No userIdentity at all, null blocks, IPv6 source.
    let bare = r#","sourceIPAddress":"2001:DB8:0:0::1","requestParameters":null,"responseElements":null,"userIdentity":null"#;
    assert_eq!(
        ids(&load_text(&event("b", "2024-05-01T10:00:00Z", bare)).events[0].entities),
        vec!["account:012345678901", "ip:2001:db8::1"]
    );
}

#[test]
fn cloudtrail_in_every_container_gives_the_same_event() {
    let e = event("e1", "2024-05-01T10:00:00Z", ASSUMED);
    let want = ids(&load_text(&format!(r#"{{"Records":[{e}]}}"#)).events[0].entities);
    let escaped = serde_json::to_string(&e).unwrap();
    for text in [
        format!("[{e}]"),
        e.clone(),
        format!("{e}\n{e}\n").replace("\"e1\"", "\"e1\""),
        format!(
            r#"{{"Events":[{{"EventId":"e1","EventName":"ListBuckets","EventTime":"2024-05-01T03:00:00-07:00","CloudTrailEvent":{escaped}}}]}}"#
        ),
        format!(
            r#"{{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{e}}}"#
        ),
    ] {
        let l = load_text(&text);
        assert!(!l.events.is_empty(), "{text}");
        assert_eq!(ids(&l.events[0].entities), want, "{text}");
        assert_eq!(l.events[0].time, Ts::parse("2024-05-01T10:00:00Z").unwrap());
    }
}

#[test]
fn gzip_is_detected_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("no-extension");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        format!(
            r#"{{"Records":[{}]}}"#,
            event("e1", "2024-05-01T10:00:00Z", "")
        )
        .as_bytes(),
    )
    .unwrap();
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    let l = ingest::load(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!((l.events.len(), l.errors.len()), (1, 0));
    // The raw record comes back from the compressed file.
    assert!(
        l.events[0]
            .raw
            .text()
            .unwrap()
            .contains("\"eventID\":\"e1\"")
    );
}

fn group_finding(id: &str, sev: f64, ip: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"T:x/y","severity":{sev},"accountId":"012345678901","service":{{"action":{{"networkConnectionAction":{{"remoteIpDetails":{{"ipAddressV4":"{ip}"}}}}}}}}{extra}}}"#
    )
}

#[test]
fn groups_link_only_on_routable_shared_entities() {
    let text = [
        group_finding("a", 2.0, "203.0.113.5", ""),
        group_finding("b", 8.0, "203.0.113.5", ""), // shares a public IP with a
        group_finding("c", 5.0, "10.0.0.5", ""),    // private IP: never links …
        group_finding("d", 5.0, "10.0.0.5", ""),    // … even when shared
        group_finding("e", 9.5, "127.0.0.1", ""),   // loopback
        group_finding("f", 1.0, "169.254.169.254", ""), // link-local
        group_finding("g", 3.0, "169.254.169.254", ""),
    ]
    .join("\n");
    let l = load_text(&text);
    let g = groups::compute(&l.findings);
    let sets: Vec<(Vec<String>, f64)> =
        g.iter().map(|g| (g.findings.clone(), g.severity)).collect();
    assert_eq!(
        sets,
        vec![
            (vec!["e".to_string()], 9.5),
            (vec!["a".to_string(), "b".to_string()], 8.0),
            (vec!["c".to_string()], 5.0),
            (vec!["d".to_string()], 5.0),
            (vec!["g".to_string()], 3.0),
            (vec!["f".to_string()], 1.0),
        ]
    );
}

#[test]
fn accounts_and_user_agents_never_link() {
    // Same account, different everything else: two groups.
    let text = [
        group_finding("a", 2.0, "203.0.113.5", ""),
        group_finding("b", 2.0, "203.0.113.6", ""),
    ]
    .join("\n");
    assert_eq!(groups::compute(&load_text(&text).findings).len(), 2);
    assert!(!groups::links(&EntityId::parse("ua:aws-cli/2").unwrap()));
    assert!(!groups::links(&EntityId::parse("account:1").unwrap()));
    assert!(!groups::links(
        &EntityId::parse("service:ec2.amazonaws.com").unwrap()
    ));
    for k in [
        "domain:x.com",
        "instance:i-12345678",
        "role:r",
        "session:s",
        "user:u",
        "key:k",
        "bucket:b",
        "ip:203.0.113.1",
    ] {
        assert!(groups::links(&EntityId::parse(k).unwrap()), "{k}");
    }
}

#[test]
fn pivot_window_and_order_match_between_index_and_scan() {
    let dir = tempfile::tempdir().unwrap();
    let ip = r#","sourceIPAddress":"203.0.113.9""#;
    let other = r#","sourceIPAddress":"203.0.113.10""#;
    // Out of order in the file, two at the same instant (ordered by eventID), one elsewhere.
    let recs = [
        event("c", "2024-05-01T12:00:00Z", ip),
        event("b", "2024-05-01T10:00:00Z", ip),
        event("a", "2024-05-01T10:00:00Z", ip),
        event("z", "2024-05-01T11:00:00Z", other),
        event("d", "2024-05-01T13:00:00Z", ip),
    ];
    write(
        &dir,
        "t.json",
        &format!(r#"{{"Records":[{}]}}"#, recs.join(",")),
    );
    let paths = vec![dir.path().to_path_buf()];
    let target = EntityId::parse("ip:203.0.113.9").unwrap();
    let w = Window {
        from: Ts::parse("2024-05-01T10:00:00Z"),
        to: Ts::parse("2024-05-01T13:00:00Z"),
    };

    let scanned: Vec<String> = pivot::scan(&paths, &target, w)
        .unwrap()
        .events
        .iter()
        .map(|h| h.event.event_id().to_string())
        .collect();
    assert_eq!(
        scanned,
        vec!["a", "b", "c"],
        "[from, to): 13:00 is excluded, 10:00 included"
    );

    let l = ingest::load(&paths).unwrap();
    let mut idx = TrailIndex::new();
    for e in l.events {
        idx.add(e);
    }
    idx.finish();
    let indexed: Vec<String> = idx
        .pivot(&target, w)
        .iter()
        .map(|r| idx.event_id(idx.row(*r).unwrap()))
        .collect();
    assert_eq!(indexed, scanned);
    assert_eq!(idx.pivot(&target, Window::all()).len(), 4);
}

#[test]
fn graph_edges_from_cloudtrail() {
    let l = load_text(&event("e1", "2024-05-01T10:00:00Z", ASSUMED));
    let g = EntityGraph::from_loaded(&l);
    let session =
        EntityId::parse("session:arn:aws:sts::012345678901:assumed-role/Web/i-0123456789abcdef0")
            .unwrap();
    let rels: Vec<(String, Relation)> = g
        .edges_of(&session)
        .into_iter()
        .map(|(o, e)| (o.to_string(), e.relation))
        .collect();
    for want in [
        (
            "role:arn:aws:iam::012345678901:role/Web",
            Relation::SessionOf,
        ),
        ("ip:75.50.255.67", Relation::CalledFrom),
        ("instance:i-0123456789abcdef0", Relation::Assumed),
        ("key:ASIAAAAAAAAAAAAAAAAA", Relation::KeyOf),
        ("bucket:loot", Relation::ActedOn),
        ("instance:i-0fedcba9876543210", Relation::ActedOn),
    ] {
        assert!(
            rels.contains(&(want.0.to_string(), want.1)),
            "missing {want:?} in {rels:?}"
        );
    }
    let mut ix = TrailIndex::new();
    for e in &l.events {
        ix.add_ref(e);
    }
    ix.finish();
    assert_eq!(ix.activity(&session).map(|a| a.events), Some(1));
    let path = g
        .shortest_path(
            &EntityId::parse("ip:75.50.255.67").unwrap(),
            &EntityId::parse("role:arn:aws:iam::012345678901:role/Web").unwrap(),
        )
        .unwrap();
    assert_eq!(path.0.len(), 3);
}

#[test]
fn analyze_json_gives_each_finding_its_account_and_region() {
    let l = load_text(&format!(
        "{}\n{}",
        FINDING.replace('\n', ""),
        group_finding("bare", 2.0, "203.0.113.5", "")
            .replace("\"accountId\":\"012345678901\",", "")
    ));
    let g = EntityGraph::from_loaded(&l);
    let gr = groups::compute(&l.findings);
    let errors = vigil::ingest::errors::ErrorSummary::new(&l.errors, false);
    let v = serde_json::to_value(vigil::report::analysis(&l, &g, &gr, &errors)).unwrap();
    let f = |id: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(f("f1")["account"], "012345678901");
    assert_eq!(f("f1")["region"], "us-east-1");
    assert!(f("bare")["account"].is_null());
    assert!(f("bare")["region"].is_null());
}

/// A CloudTrail digest file is neither an event nor an error, and yields no entity: it is counted
/// apart, for the integrity check (docs/ENTITY-MODEL.md, "CloudTrail digest files").
#[test]
fn digest_files_are_not_events_errors_or_entities() {
    // The documentation's "empty" digest (an hour with no API activity), as delivered.
    let l = load_text(
        r#"{"awsAccountId":"111122223333","digestStartTime":"2015-08-20T17:01:31Z",
        "digestEndTime":"2015-08-20T18:01:31Z","digestS3Bucket":"example-bucket-name",
        "digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/111122223333_CloudTrail-Digest_us-east-2_example-trail-name_us-east-2_20150820T180131Z.json.gz",
        "digestPublicKeyFingerprint":"31e8b5433410dfb61a9dc45cc65b22ff","digestSignatureAlgorithm":"SHA256withRSA",
        "newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":"example-bucket-name",
        "previousDigestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/111122223333_CloudTrail-Digest_us-east-2_example-trail-name_us-east-2_20150820T170131Z.json.gz",
        "previousDigestHashValue":"ed96c4bac9eaa8fe9716ca0e515da51938be651b1db31d781956416a9d05cdfa",
        "previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"82705525fb0fe7f9","logFiles":[]}"#,
    );
    assert_eq!(l.digests.len(), 1);
    assert!(l.events.is_empty() && l.findings.is_empty() && l.trail_files.is_empty());
    assert_eq!(EntityGraph::from_loaded(&l).node_count(), 0);
    let prev = l.digests[0].previous.as_ref().expect("chained");
    assert!(prev.s3_object.ends_with("20150820T170131Z.json.gz"));
}

/// `vigil analyze` folds each file's events into the graph and drops them (memory follows the
/// graph); the graph, the groups and the counts are exactly those of a whole load.
#[test]
fn a_graph_folded_file_by_file_equals_the_graph_of_a_whole_load() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = ["log4shell-c2", "iam-credential-chain"]
        .iter()
        .map(|s| root.join("demo").join(s))
        .collect();
    paths.push(root.join("tests/fixtures/identities"));
    let whole = ingest::load(&paths).unwrap();
    let (folded, g2) = EntityGraph::from_paths(&paths).unwrap();
    let g1 = EntityGraph::from_loaded(&whole);
    assert!(folded.events.is_empty());
    assert!(whole.events.len() > 5000);
    assert_eq!(folded.event_count(), whole.event_count());
    assert_eq!(folded.findings.len(), whole.findings.len());
    assert_eq!(folded.flows.len(), whole.flows.len());
    assert_eq!(folded.errors, whole.errors);
    let json = |l: &Loaded, g: &EntityGraph| {
        let gr = groups::compute(&l.findings);
        let errors = vigil::ingest::errors::ErrorSummary::new(&l.errors, false);
        serde_json::to_string(&vigil::report::analysis(l, g, &gr, &errors)).unwrap()
    };
    assert_eq!(json(&folded, &g2), json(&whole, &g1));
    let md = |l: &Loaded, g: &EntityGraph| {
        let errors = vigil::ingest::errors::ErrorSummary::new(&l.errors, true);
        vigil::report::markdown(l, g, &groups::compute(&l.findings), &errors)
    };
    assert_eq!(md(&folded, &g2), md(&whole, &g1));
    assert!(g1.entity_ids().iter().any(|id| g1.profile(id).is_some()));
    for id in g1.entity_ids() {
        assert_eq!(g1.profile(id), g2.profile(id), "{id}");
    }
}

/// A file with more records than one part holds reaches the consumer in several parts, in order,
/// the last one counting the file; a whole load puts them back together in file order.
#[test]
fn a_big_file_streams_in_parts_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for i in 0..40_000 {
        text.push_str(&format!(
            r#"{{"eventTime":"2024-01-01T00:00:00Z","eventID":"e{i:05}","eventName":"GetObject","eventSource":"s3.amazonaws.com","sourceIPAddress":"203.0.113.9"}}"#
        ));
        text.push('\n');
    }
    std::fs::write(dir.path().join("a.jsonl"), &text).unwrap();
    std::fs::write(dir.path().join("b.jsonl"), &text[..text.len() / 100]).unwrap();
    let paths = vec![dir.path().to_path_buf()];
    let mut parts: Vec<(usize, usize, usize)> = Vec::new();
    ingest::load_streaming(&paths, |i, p| parts.push((i, p.events.len(), p.files))).unwrap();
    let of_a: Vec<_> = parts.iter().filter(|p| p.0 == 0).collect();
    assert!(of_a.len() >= 3, "{parts:?}");
    assert_eq!(of_a.iter().map(|p| p.1).sum::<usize>(), 40_000);
    assert_eq!(of_a.iter().map(|p| p.2).sum::<usize>(), 1);
    assert_eq!(of_a.last().unwrap().2, 1, "the last part counts the file");
    let l = ingest::load(&paths).unwrap();
    assert_eq!(l.files, 2);
    assert_eq!(l.trail_files.len(), 2);
    let ids: Vec<&str> = l.events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids.len(), 40_400);
    assert!(
        ids[..40_000].windows(2).all(|w| w[0] < w[1]),
        "file order kept"
    );
    assert_eq!(ids[40_000], "e00000");
}
