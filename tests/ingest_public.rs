//! Every public GuardDuty and CloudTrail sample loads with the exact expected record counts, and
//! errors only where the data is genuinely broken (each named below with the reason).

use std::path::PathBuf;
use vigil::ingest::{self, Loaded};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/public")
        .join(rel)
}

fn load(rel: &str) -> Loaded {
    ingest::load(&[fixture(rel)]).expect("fixture exists")
}

fn counts(l: &Loaded) -> (usize, usize, usize, usize, usize) {
    (
        l.findings.len(),
        l.events.len(),
        l.flows.len(),
        l.dns.len(),
        l.errors.len(),
    )
}

#[test]
fn stratus_detonations_load_every_event() {
    let l = load("stratus-red-team");
    assert_eq!(counts(&l), (0, 310, 0, 0, 0), "{:?}", l.errors);
    assert_eq!(l.files, 35);
    // 107 of the addresses carry leading zeros; none survives canonicalisation.
    let ips: Vec<_> = l
        .events
        .iter()
        .flat_map(|e| e.entities.iter())
        .filter(|e| e.kind == vigil::model::EntityKind::Ip)
        .collect();
    assert!(!ips.is_empty());
    for ip in ips {
        assert!(
            !ip.value
                .split('.')
                .any(|o| o.len() > 1 && o.starts_with('0')),
            "{ip}"
        );
    }
}

#[test]
fn aws_docs_cloudtrail_examples() {
    // _manifest.json describes the examples and is not data; load the examples themselves.
    let dir = fixture("aws-docs/cloudtrail-user-guide");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("_manifest.json"))
        .collect();
    let l = ingest::load(&files).unwrap();
    assert_eq!(l.events.len(), 24);
    // Genuinely broken: the user-identity doc block is only a `userIdentity` fragment (no
    // eventTime, no eventName), with doc typos inside ARNs and times.
    assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
    assert!(
        l.errors[0]
            .path
            .ends_with("cloudtrail-event-reference-user-identity__block05.json")
    );
    assert!(l.errors[0].reason.contains("eventTime"));
    // Insights events have no top-level eventName: theirs comes from insightDetails.
    let insights: Vec<_> = l
        .events
        .iter()
        .filter(|e| e.event_type.as_deref() == Some("AwsCloudTrailInsight"))
        .collect();
    assert_eq!(insights.len(), 5);
    assert!(
        insights.iter().all(|e| e.name != "-" && e.source != "-"),
        "{insights:?}"
    );
    assert!(insights.iter().any(|e| e.name == "CompleteLifecycleAction"));
}

#[test]
fn cli_lookup_events_output_decodes_the_embedded_record() {
    let l = load("aws-cli-examples/cloudtrail-lookup-events-output.json");
    assert_eq!(counts(&l), (0, 1, 0, 0, 0), "{:?}", l.errors);
    let e = &l.events[0];
    assert!(matches!(e.raw, vigil::model::RawRef::Inline(_)));
    assert!(e.raw.text().unwrap().starts_with('{'));
}

#[test]
fn eventbridge_cloudtrail_envelope() {
    let l = load("sumologic-aws-lambda/cloudwatchevents-guardduty-event.json");
    assert_eq!(counts(&l), (0, 1, 0, 0, 0), "{:?}", l.errors);
    assert_eq!(l.events[0].name, "CreateSampleFindings");
}

#[test]
fn panther_cloudtrail_tests() {
    let l = load("panther-analysis/cloudtrail_rule_tests.jsonl");
    // 461 test events. Genuinely broken, 24:
    // - 8 have their keys lower-cased by the test authors (`eventtime`, `eventname`; lines 32-34,
    //   128, 130, 208-210): not CloudTrail's schema, so they are not recognised as records;
    // - 14 are partial stubs with no eventTime at all (nor Panther's p_event_time);
    // - 2 have an eventTime that is no time: `"redacted"` (line 328) and `"..."` (line 461).
    // One stub without eventTime carries p_event_time and loads with it (line 78).
    assert_eq!(l.events.len(), 437);
    assert_eq!(l.errors.len(), 24, "{:#?}", l.errors);
    let unrecognised: Vec<u64> = l
        .errors
        .iter()
        .filter(|e| e.reason.starts_with("unrecognised"))
        .filter_map(|e| e.line)
        .collect();
    assert_eq!(unrecognised, vec![32, 33, 34, 128, 130, 208, 209, 210]);
    assert!(
        l.errors
            .iter()
            .filter(|e| !e.reason.starts_with("unrecognised"))
            .all(|e| e.reason.contains("eventTime"))
    );
    // The normalised `YYYY-MM-DD HH:MM:SS` times parse.
    assert!(l.events.iter().all(|e| e.time.0 > 1_000_000_000_000));
}

#[test]
fn guardduty_every_envelope() {
    for (rel, n) in [
        ("aws-cli-examples/guardduty-get-findings-output.json", 1),
        ("aws-samples-guardduty-automated-response", 3),
        ("aws-samples-guardduty-waf-acl/gd2acl_test_event.json", 1),
        // 9 records each, two of them versions of one finding (see below).
        ("mozdef/guardduty_findings_reconstructed.jsonl", 8),
        ("mozdef/mozdef_guardduty_events.jsonl", 8),
        // 8 records, 6 of them one finding id (the tests vary its severity).
        ("panther-analysis/guardduty_rule_tests.jsonl", 3),
    ] {
        let l = load(rel);
        assert_eq!(counts(&l), (n, 0, 0, 0, 0), "{rel}: {:?}", l.errors);
    }
}

/// A finding's updates are one finding, the newest, where its first copy was: MozDef's feed holds
/// finding 8eb6396c… as GuardDuty updated it on 2019-10-25 (count 21) and again on 2019-11-13.
#[test]
fn a_findings_updates_are_one_finding_the_newest() {
    let l = load("mozdef/guardduty_findings_reconstructed.jsonl");
    let same: Vec<_> = l
        .findings
        .iter()
        .filter(|f| f.id == "8eb6396cc2adef8cc8f846c46a920c35")
        .collect();
    assert_eq!(same.len(), 1);
    let f = same[0];
    assert_eq!(
        f.updated_at.map(|t| t.to_rfc3339()),
        Some("2019-11-13T00:25:31.619Z".to_string())
    );
    assert_eq!(f.origin.line, 9, "the newest copy, with its own origin");
    // Where the first copy was (line 3), not where the newest was: the list keeps the order
    // the findings were first read in.
    let lines: Vec<u64> = l.findings.iter().map(|f| f.origin.line).collect();
    assert_eq!(lines, [1, 2, 9, 4, 5, 6, 7, 8]);
}

#[test]
fn mozdef_wrapper_and_reconstruction_agree() {
    let a = load("mozdef/guardduty_findings_reconstructed.jsonl");
    let b = load("mozdef/mozdef_guardduty_events.jsonl");
    let key = |l: &Loaded| {
        let mut v: Vec<_> = l
            .findings
            .iter()
            .map(|f| {
                (
                    f.id.clone(),
                    f.finding_type.clone(),
                    f.entities.clone(),
                    f.resource_role.clone(),
                )
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(key(&a), key(&b));
}

/// GuardDuty's `service.resourceRole` says whether the resource did it (ACTOR: the instance is
/// the one flooding others) or had it done to it (TARGET: the instance being probed).
#[test]
fn a_findings_resource_role_is_kept() {
    let l = load("mozdef/guardduty_findings_reconstructed.jsonl");
    let role = |ty: &str| {
        l.findings
            .iter()
            .find(|f| f.finding_type == ty)
            .and_then(|f| f.resource_role.clone())
    };
    assert_eq!(
        role("Backdoor:EC2/DenialOfService.Tcp").as_deref(),
        Some("ACTOR")
    );
    assert_eq!(
        role("Recon:EC2/PortProbeUnprotectedPort").as_deref(),
        Some("TARGET")
    );
    // The CLI's PascalCase `ResourceRole` too.
    let cli = load("aws-cli-examples/guardduty-get-findings-output.json");
    assert_eq!(cli.findings[0].resource_role.as_deref(), Some("TARGET"));
}

#[test]
fn flow_logs_every_layout() {
    let l = load("aws-docs/vpc-flow-logs");
    assert_eq!(counts(&l), (0, 0, 27, 0, 0), "{:?}", l.errors);
    assert!(
        l.flows
            .iter()
            .any(|f| f.log_status.as_deref() == Some("NODATA"))
    );
    assert!(
        l.flows
            .iter()
            .any(|f| f.srcaddr.as_deref().is_some_and(|a| a.contains(':'))),
        "IPv6 rows"
    );
    assert!(
        l.flows.iter().any(|f| f.flow_direction.is_some()),
        "v5 fields"
    );
}

#[test]
fn resolver_query_logs() {
    let l = load("aws-docs/route53-resolver-query-logs");
    assert_eq!(counts(&l), (0, 0, 0, 1, 0), "{:?}", l.errors);
    assert_eq!(l.dns[0].query_name, "15.3.4.32.in-addr.arpa");
    let p = load("panther-analysis/vpcdns_rule_tests.jsonl");
    // 8 native Resolver records (answers as a single object); 2 are OCSF-shaped, another schema.
    assert_eq!(p.dns.len(), 8);
    assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
    assert!(p.dns.iter().all(|q| q.time.is_some()));
    assert!(p.dns.iter().any(|q| !q.answers.is_empty()));
}

/// Events whose record has a `userIdentity` object but that got no principal, with that object.
fn without_principal(l: &Loaded) -> Vec<(u64, serde_json::Value)> {
    l.events
        .iter()
        .filter(|e| e.principal.is_none())
        .filter_map(|e| {
            let raw: serde_json::Value = serde_json::from_str(&e.raw.text().unwrap()).unwrap();
            let ui = raw.get("userIdentity").filter(|u| u.is_object())?.clone();
            Some((e.origin.line, ui))
        })
        .collect()
}

#[test]
fn every_real_identity_gets_a_principal() {
    // Real detonations and the AWS documentation's examples: every identity, of every type.
    let dir = fixture("aws-docs/cloudtrail-user-guide");
    let docs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.ends_with("_manifest.json"))
        .collect();
    for l in [
        load("stratus-red-team"),
        ingest::load(&docs).unwrap(),
        load("aws-cli-examples/cloudtrail-lookup-events-output.json"),
        load("sumologic-aws-lambda/cloudwatchevents-guardduty-event.json"),
    ] {
        assert!(!l.events.is_empty());
        assert_eq!(without_principal(&l), vec![], "{:?}", l.events[0].origin);
    }
    // Panther's hand-written tests: only stubs that name nobody go without one. None has an ARN
    // that names a principal.
    let p = load("panther-analysis/cloudtrail_rule_tests.jsonl");
    let missing = without_principal(&p);
    for (line, ui) in &missing {
        let field = |k: &str| ui.get(k).and_then(|v| v.as_str()).unwrap_or("");
        assert!(
            vigil::model::arn::classify_identifier(field("arn")).is_none(),
            "line {line}: {ui}"
        );
        // An account and a name are enough for these types.
        assert!(
            !matches!(field("type"), "IAMUser" | "Unknown")
                || field("accountId").is_empty()
                || field("userName").is_empty(),
            "line {line}: {ui}"
        );
    }
    assert_eq!(
        missing.len(),
        PANTHER_STUBS_WITHOUT_PRINCIPAL,
        "{missing:#?}"
    );
}

/// Counted in `every_real_identity_gets_a_principal`: 12 `IAMUser` stubs with a name but no
/// account or an account but no name, 6 `AssumedRole` stubs with only a `userName`, 4 whose ARN
/// `…:assumed-role/MakeStuffPublic` lacks the session name, and one `iam::…:assumed-role/…` ARN.
const PANTHER_STUBS_WITHOUT_PRINCIPAL: usize = 23;

/// Logs read from CloudWatch Logs: a subscription's payloads as Firehose delivers them (gzip
/// members one after another, a control message among them) and the CLI's `filter-log-events`
/// output. Each message is the record it holds: CloudTrail, Resolver query, flow log line.
#[test]
fn cloudwatch_logs_messages_are_their_records() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let l = vigil::ingest::load(&[root.join("cloudwatch-logs/firehose-subscription")]).unwrap();
    assert_eq!(counts(&l), (0, 1, 7, 1, 0), "{:?}", l.errors);
    let direct = load("stratus-red-team/detonation-logs/aws.defense-evasion.cloudtrail-stop.json");
    let (a, b) = (&l.events[0], &direct.events[0]);
    assert_eq!(
        (&a.event_id, a.time, &a.entities),
        (&b.event_id, b.time, &b.entities)
    );
    // The record's own text, for the event view and `pivot --format jsonl`.
    let raw = a.raw.text().unwrap();
    assert!(raw.starts_with('{') && raw.contains(&a.event_id), "{raw}");
    assert_eq!(l.dns[0].query_name, direct_dns().query_name);

    let cli = vigil::ingest::load(&[root.join("cloudwatch-logs/filter-log-events.json")]).unwrap();
    assert_eq!(counts(&cli), (0, 1, 0, 0, 0), "{:?}", cli.errors);
    assert_eq!(cli.events[0].event_id, b.event_id);

    // A Logs Insights query's rows: `@message` is the record; a row without it is said so.
    let text =
        std::fs::read_to_string(root.join("cloudwatch-logs/insights-query-results.json")).unwrap();
    let q =
        vigil::ingest::load(&[root.join("cloudwatch-logs/insights-query-results.json")]).unwrap();
    assert_eq!(counts(&q), (0, 1, 0, 0, 0), "{:?}", q.errors);
    assert_eq!(q.events[0].event_id, b.event_id);
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["results"][0].as_array_mut().unwrap().remove(1);
    let dir = tempfile::tempdir().unwrap();
    let no_message = dir.path().join("rows.json");
    std::fs::write(&no_message, v.to_string()).unwrap();
    let q = vigil::ingest::load(&[no_message]).unwrap();
    assert_eq!(counts(&q), (0, 0, 0, 0, 1));
    assert!(q.errors[0].reason.contains("@message"), "{}", q.errors[0]);
}

/// `events` and `results` are common words. A JSON file that merely has such a key (a
/// manifest of test files listing each one's event names; an API's query results) is not
/// CloudWatch Logs: it is reported once per object as unrecognised, not once per element as a
/// broken log event; and a real CloudWatch list beside it is still read.
#[test]
fn events_and_results_lists_of_other_shapes_are_not_cloudwatch_logs() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("manifest.json");
    std::fs::write(
        &other,
        r#"[{"file":"a.json","events":[["ConsoleLogin","AwsConsoleSignIn"],["GetObject"]]},
            {"file":"b.json","results":[{"id":1},{"id":2},{"id":3}]},
            {"events":[{"id":"no message here"}]}]"#,
    )
    .unwrap();
    let l = vigil::ingest::load(std::slice::from_ref(&other)).unwrap();
    assert_eq!(counts(&l), (0, 0, 0, 0, 3), "{:?}", l.errors);
    for e in &l.errors {
        assert!(e.reason.starts_with("unrecognised record"), "{e}");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cli = root.join("cloudwatch-logs/filter-log-events.json");
    let both = vigil::ingest::load(&[other, cli]).unwrap();
    assert_eq!(counts(&both), (0, 1, 0, 0, 3), "{:?}", both.errors);
}

/// GuardDuty's findings reach a team through EventBridge rules whose targets are an SNS topic,
/// an SQS queue or a Lambda function, and responders save what arrived there: the SNS
/// notification as subscribers receive it, `aws sqs receive-message` output (raw, or the SNS
/// notification in the body), a Lambda function's SNS or SQS event. Each carries the same
/// EventBridge event, and each reads as the one finding; a message that is not JSON says so.
#[test]
fn findings_carried_by_sns_sqs_and_lambda_events_are_read() {
    use serde_json::json;
    let text = std::fs::read_to_string(fixture(
        "aws-samples-guardduty-automated-response/events/guardduty_ec2_event.json",
    ))
    .unwrap();
    let direct = ingest::load(&[fixture(
        "aws-samples-guardduty-automated-response/events/guardduty_ec2_event.json",
    )])
    .unwrap();
    assert_eq!(counts(&direct), (1, 0, 0, 0, 0), "{:?}", direct.errors);
    let finding: serde_json::Value = serde_json::from_str(&text).unwrap();
    let event = json!({
        "version": "0", "id": "c8c4daa7-a20c-2f03-0070-b7393dd542ad",
        "detail-type": "GuardDuty Finding", "source": "aws.guardduty",
        "account": "123456789012", "time": "2024-05-01T10:00:00Z", "region": "us-east-1",
        "resources": [], "detail": finding,
    })
    .to_string();
    let sns = json!({
        "Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:guardduty-alerts",
        "Subject": null, "Message": event,
        "Timestamp": "2024-05-01T10:00:01.000Z", "SignatureVersion": "1",
    })
    .to_string();
    let shapes = [
        ("sns.json", sns.clone()),
        (
            "sqs-raw.json",
            json!({"Messages": [{"MessageId": "m1", "ReceiptHandle": "r1", "MD5OfBody": "x", "Body": event}]})
                .to_string(),
        ),
        (
            "sqs-sns.json",
            json!({"Messages": [{"MessageId": "m1", "ReceiptHandle": "r1", "MD5OfBody": "x", "Body": sns}]})
                .to_string(),
        ),
        (
            "lambda-sns.json",
            json!({"Records": [{"EventVersion": "1.0", "EventSource": "aws:sns",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:guardduty-alerts:1",
                "Sns": {"Type": "Notification", "Message": event}}]})
            .to_string(),
        ),
        (
            "lambda-sqs.json",
            json!({"Records": [{"messageId": "m1", "body": event, "eventSource": "aws:sqs",
                "awsRegion": "us-east-1"}]})
            .to_string(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in shapes {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        let l = ingest::load(&[path]).unwrap();
        assert_eq!(counts(&l), (1, 0, 0, 0, 0), "{name}: {:?}", l.errors);
        assert_eq!(l.findings[0].id, direct.findings[0].id, "{name}");
        assert_eq!(
            l.findings[0].entities, direct.findings[0].entities,
            "{name}"
        );
    }
    // A notification that carries plain text is said to, once.
    let path = dir.path().join("text.json");
    std::fs::write(
        &path,
        json!({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": "hello"})
            .to_string(),
    )
    .unwrap();
    let l = ingest::load(&[path]).unwrap();
    assert_eq!(counts(&l), (0, 0, 0, 0, 1));
    assert!(l.errors[0].reason.contains("not JSON"), "{}", l.errors[0]);
}

fn direct_dns() -> vigil::model::DnsQuery {
    load("aws-docs/route53-resolver-query-logs/resolver-query-log-v1.1-firewall-block.json")
        .dns
        .remove(0)
}

/// An Extended Threat Detection attack sequence names its actors, resources and endpoints under
/// `service.detection.sequence`: they are its entities (its `resource` says only
/// `AttackSequence`), so it groups with the GuardDuty finding of the same key and address.
#[test]
fn an_attack_sequence_takes_its_entities_from_the_sequence() {
    use vigil::graph::groups;
    use vigil::ingest;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let l = ingest::load(&[root.join("guardduty/attack-sequence.json")]).unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let f = &l.findings[0];
    assert_eq!(f.finding_type, "AttackSequence:IAM/CompromisedCredentials");
    let ids: Vec<String> = f.entities.iter().map(|e| e.to_string()).collect();
    for want in [
        "user:arn:aws:iam::111122223333:user/john_doe",
        "key:AKIAIOSFODNN7EXAMPLE",
        "bucket:amzn-s3-demo-bucket",
        "instance:i-0123456789abcdef0",
        "ip:198.51.100.6",
        "account:111122223333",
    ] {
        assert!(ids.iter().any(|i| i == want), "{want} not in {ids:?}");
    }
    assert_eq!(f.resource, "IAMUser/john_doe");
    assert_eq!(
        f.subject.key.as_ref().map(|k| k.to_string()).as_deref(),
        Some("key:AKIAIOSFODNN7EXAMPLE")
    );

    // Re-cased from the CLI's PascalCase, the same entities.
    let text = std::fs::read_to_string(root.join("guardduty/attack-sequence.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn pascal(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => m
                .iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let k = c.next().map_or(String::new(), |f| {
                        f.to_ascii_uppercase().to_string() + c.as_str()
                    });
                    (k, pascal(v))
                })
                .collect(),
            serde_json::Value::Array(a) => a.iter().map(pascal).collect(),
            other => other.clone(),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cli = dir.path().join("cli.json");
    std::fs::write(
        &cli,
        serde_json::json!({ "Findings": [pascal(&v)] }).to_string(),
    )
    .unwrap();
    let p = ingest::load(&[cli]).unwrap();
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    assert_eq!(p.findings[0].entities, f.entities);

    // Through Security Hub: ASFF carries the same block as `Detection.Sequence`, PascalCase.
    let asff_text = std::fs::read_to_string(root.join("asff/get-findings-output.json")).unwrap();
    let asff: serde_json::Value = serde_json::from_str(&asff_text).unwrap();
    let mut hub = asff["Findings"][0].clone();
    hub["Id"] = "arn:aws:securityhub:us-east-1:111122223333:finding/attack-sequence-1".into();
    hub["ProductArn"] = "arn:aws:securityhub:us-east-1::product/aws/securityhub".into();
    hub["Resources"] = serde_json::json!([]);
    hub["Detection"] = pascal(&v["service"]["detection"]);
    let hub_file = dir.path().join("hub.json");
    std::fs::write(
        &hub_file,
        serde_json::json!({ "Findings": [hub] }).to_string(),
    )
    .unwrap();
    let h = ingest::load(&[hub_file]).unwrap();
    assert!(h.errors.is_empty(), "{:?}", h.errors);
    let hub_ids: Vec<String> = h.findings[0]
        .entities
        .iter()
        .map(|e| e.to_string())
        .collect();
    for want in [
        "user:arn:aws:iam::111122223333:user/john_doe",
        "key:AKIAIOSFODNN7EXAMPLE",
        "ip:198.51.100.6",
    ] {
        assert!(
            hub_ids.iter().any(|i| i == want),
            "{want} not in {hub_ids:?}"
        );
    }

    // With the GuardDuty finding it was built from (same key, same address): one group.
    let both = ingest::load(&[
        root.join("guardduty/attack-sequence.json"),
        root.join("asff/get-findings-output.json"),
    ])
    .unwrap();
    let gs = groups::compute(&both.findings);
    let g = gs.iter().find(|g| g.findings.contains(&f.id)).unwrap();
    assert!(
        g.findings
            .contains(&"1ab92989eaf0e742df4a014d5example".to_string()),
        "{g:?}"
    );
}

/// Findings on a Lambda function, an EKS cluster and an RDS instance are labelled by the
/// resource's name (not only its type), a function links its execution role, a Kubernetes call
/// its source addresses, an API call from another account that account.
#[test]
fn other_resources_are_named_and_linked() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let l = vigil::ingest::load(&[root.join("guardduty/resources.jsonl")]).unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let by_type = |t: &str| {
        l.findings
            .iter()
            .find(|f| f.finding_type.starts_with(t))
            .unwrap()
    };
    let has = |f: &vigil::model::Finding, e: &str| f.entities.iter().any(|x| x.to_string() == e);

    let lambda = by_type("Backdoor:Lambda");
    assert_eq!(lambda.resource, "invoice-export");
    assert!(has(
        lambda,
        "role:arn:aws:iam::111122223333:role/service-role/invoice-export-role"
    ));
    assert!(has(lambda, "ip:203.0.113.45"));

    let eks = by_type("Discovery:Kubernetes");
    assert_eq!(eks.resource, "prod-cluster");
    assert!(has(eks, "ip:198.51.100.77"));

    let rds = by_type("CredentialAccess:RDS");
    assert_eq!(rds.resource, "orders-db");
    assert!(has(rds, "ip:192.0.2.150"));

    // Malware Protection's scans name what was scanned, by the id its ARN ends with.
    assert_eq!(
        by_type("Execution:EC2/MaliciousFile!Snapshot").resource,
        "snap-0123456789abcdef0"
    );
    assert_eq!(
        by_type("Execution:EC2/MaliciousFile!AMI").resource,
        "ami-0abcdef1234567890"
    );
    assert_eq!(
        by_type("Execution:EC2/MaliciousFile!RecoveryPoint").resource,
        "1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
    );
    let limitless = by_type("CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce");
    assert_eq!(limitless.resource, "orders-shards");
    assert!(has(limitless, "ip:192.0.2.151"));

    let remote = by_type("Discovery:IAMUser");
    assert!(has(remote, "account:444455556666"), "{:?}", remote.entities);
    assert!(has(remote, "user:arn:aws:iam::111122223333:user/john_doe"));
}

/// Security Hub findings (ASFF) from `aws securityhub get-findings` and the EventBridge
/// envelope, told apart from GuardDuty's `{"Findings":…}` by content, mapped onto findings; the
/// GuardDuty finding seen through Security Hub is the same finding as the CLI's.
#[test]
fn security_hub_findings_map_and_deduplicate() {
    use vigil::ingest;
    let asff = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/asff");
    let l = ingest::load(&[asff.join("get-findings-output.json")]).unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(l.findings.len(), 2);
    let gd = &l.findings[0];
    assert_eq!(gd.id, "1ab92989eaf0e742df4a014d5example");
    assert_eq!(gd.finding_type, "Recon:IAMUser/UserPermissions");
    assert_eq!(gd.severity, 5.0);
    assert_eq!(gd.account_id.as_deref(), Some("111122223333"));
    assert!(
        gd.entities
            .iter()
            .any(|e| e.to_string() == "key:AKIAIOSFODNN7EXAMPLE")
    );
    assert!(
        gd.entities
            .iter()
            .any(|e| e.to_string() == "ip:198.51.100.6")
    );
    let insp = &l.findings[1];
    assert_eq!(
        insp.finding_type,
        "SecurityHub:Software and Configuration Checks/Vulnerabilities/CVE"
    );
    assert_eq!(insp.severity, 7.5);
    assert!(insp.archived, "RecordState ARCHIVED");
    assert!(
        insp.description.contains("workflow NOTIFIED"),
        "{}",
        insp.description
    );
    assert_eq!(
        insp.subject.instance.as_ref().map(|e| e.to_string()),
        Some("instance:i-0123456789abcdef0".into())
    );

    let eb = ingest::load(&[asff.join("eventbridge-imported.json")]).unwrap();
    assert!(eb.errors.is_empty(), "{:?}", eb.errors);
    assert_eq!(eb.findings.len(), 1);
    assert_eq!(eb.findings[0].id, insp.id);

    // The same GuardDuty finding from the GuardDuty CLI and from Security Hub: one finding,
    // GuardDuty's own (with its action details).
    let both = ingest::load(&[
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/public"
        ))
        .join("aws-cli-examples/guardduty-get-findings-output.json"),
        asff.join("get-findings-output.json"),
    ])
    .unwrap();
    let same: Vec<_> = both
        .findings
        .iter()
        .filter(|f| f.id == "1ab92989eaf0e742df4a014d5example")
        .collect();
    assert_eq!(same.len(), 1);
    assert!(
        !same[0].raw.contains("ProductArn"),
        "the direct copy is kept"
    );

    // A product's loose fields (null lists, a number where the format says string) do not cost
    // the finding.
    let text = std::fs::read_to_string(asff.join("get-findings-output.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let f = &mut v["Findings"][1];
    f["Types"] = serde_json::Value::Null;
    f["Resources"] = serde_json::Value::Null;
    f["ProductFields"] = serde_json::Value::Null;
    f["Severity"] = serde_json::json!({ "Label": "HIGH", "Original": 8 });
    let dir = tempfile::tempdir().unwrap();
    let loose = dir.path().join("loose.json");
    std::fs::write(&loose, v.to_string()).unwrap();
    let l = ingest::load(&[loose]).unwrap();
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(l.findings.len(), 2);
    assert_eq!(l.findings[1].severity, 7.5);
}
