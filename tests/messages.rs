//! Every message the reducer applies is data: it serialises to JSON and reads back to the same
//! JSON (the recording format of the record/replay issue), for every variant of `Msg`, with
//! values made by the real code (a real load, a real plan, a real run on the demo world). A load's
//! index and graph travel by reference: `console::rebuild` builds them again from the recorded
//! sources and refuses when a source's content changed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use vigil::actions::plan::{FindingSummary, PlanContext};
use vigil::actions::{self, Action, AuditLog, ExecOptions, SnapshotProgress, SnapshotState};
use vigil::app::{
    EffectError, Envelope, EvidenceRef, Key, LookupProgress, LookupUpdate, Msg, Progress, Signal,
};
use vigil::console::{Bus, FileSources, load_files, rebuild};
use vigil::demo::{Scenario, responder::DemoResponder};
use vigil::model::Ts;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tui")
        .join(name)
}

/// Which variant a message is. The match is exhaustive: a new variant does not compile until it
/// is listed here, and [`VARIANTS`] (and a sample below) follow it.
fn variant(m: &Msg) -> usize {
    match m {
        Msg::Key(_) => 0,
        Msg::Resize { .. } => 1,
        Msg::Tick { .. } => 2,
        Msg::Findings(_) => 3,
        Msg::QuietSkipped(_) => 4,
        Msg::LoadErrors { .. } => 5,
        Msg::Progress(_) => 6,
        Msg::Indexed(_) => 7,
        Msg::IndexedPart(_) => 20,
        Msg::Integrity(_) => 8,
        Msg::RawLoaded { .. } => 9,
        Msg::Signal(_) => 10,
        Msg::PlanReady { .. } => 11,
        Msg::Audit { .. } => 12,
        Msg::ActionDone { .. } => 13,
        Msg::SnapshotProgress { .. } => 14,
        Msg::Account(_) => 15,
        Msg::Polled { .. } => 16,
        Msg::Lookup(_) => 17,
        Msg::Detective { .. } => 18,
        Msg::Recording { .. } => 19,
        Msg::Detections(_) => 21,
        Msg::Intel(_) => 22,
        Msg::CommandStatus { .. } => 23,
        Msg::EvidenceRecorded { .. } => 24,
    }
}
const VARIANTS: usize = 25;

/// The messages the console's loader sends for the fixture files.
fn loader_messages(sources: FileSources) -> Vec<Msg> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    load_files(&Bus::new(tx), sources);
    let mut out = Vec::new();
    while let Ok(env) = rx.try_recv() {
        out.push(env.msg);
    }
    out
}

fn fixture_sources() -> FileSources {
    FileSources {
        findings: vec![fixture("findings.json")],
        evidence: vec![
            fixture("trail.json"),
            fixture("flows.log"),
            fixture("dns.json"),
        ],
        s3: Vec::new(),
        hunt: None,
    }
}

/// A plan, its run and the world after it, on the log4shell scenario's demo world.
fn action_messages() -> Vec<Msg> {
    let sc = Scenario::load("log4shell-c2").expect("scenario");
    let mut r = DemoResponder::for_scenario(&sc).expect("world");
    let findings: BTreeMap<String, FindingSummary> = sc
        .all_findings()
        .iter()
        .map(|f| (f.id.clone(), FindingSummary::of(f, 1)))
        .collect();
    let ctx = PlanContext {
        case: "MSG-1".into(),
        now: Ts(1_714_564_800_000),
        findings,
        ..Default::default()
    };
    let instance = sc
        .manifest
        .answer_key
        .compromised
        .iter()
        .find_map(|e| e.strip_prefix("instance:"))
        .expect("compromised instance")
        .to_string();
    let action = Action::Snapshot {
        instance,
        finding: None,
    };
    let facts = actions::gather(&action, &mut r).expect("facts");
    let plan = actions::plan(&action, &facts, &ctx).expect("plan");
    let dir = tempfile::tempdir().expect("tmp");
    let mut log = AuditLog::open(&dir.path().join("audit.jsonl")).expect("audit");
    let report = actions::execute(&plan, &mut r, &mut log, &ExecOptions::default()).expect("run");
    let record = actions::audit::read(&dir.path().join("audit.jsonl"))
        .expect("audit read")
        .pop()
        .expect("a record");
    let account = actions::Inspect::account_view(&r).expect("the demo world shows itself");
    // A collect on the same world: its Run Command's state and its output in the store.
    let collect = Action::Collect {
        instance: action.target(),
        evidence: Some("s3://vigil-demo-evidence/msg".into()),
        memory: None,
    };
    let facts = actions::gather(&collect, &mut r).expect("facts");
    let cplan = actions::plan(&collect, &facts, &ctx).expect("plan");
    let creport = actions::execute(&cplan, &mut r, &mut log, &ExecOptions::default()).expect("run");
    let command_id = creport.steps[0].created[0].clone();
    let (status, details) =
        actions::Inspect::command_status(&mut r, &command_id, &action.target()).expect("status");
    let stored =
        actions::Inspect::stored_objects(&mut r, "vigil-demo-evidence", "msg/").expect("stored");
    assert_eq!(stored.len(), 1, "the demo agent writes its stdout");
    vec![
        Msg::CommandStatus {
            job: 4,
            status: Ok(vigil::app::CommandState { status, details }),
        },
        Msg::CommandStatus {
            job: 4,
            status: Err(EffectError::Responder(
                "InvocationDoesNotExist: not yet".into(),
            )),
        },
        Msg::EvidenceRecorded {
            job: 4,
            result: Ok(vigil::app::EvidenceNote {
                manifest: "s3://vigil-demo-evidence/msg/MSG-1/manifest/x.json".into(),
                artefacts: stored,
            }),
        },
        Msg::EvidenceRecorded {
            job: 4,
            result: Err(EffectError::ReadOnly),
        },
        Msg::PlanReady {
            job: 1,
            plan: Ok(Box::new(plan)),
        },
        Msg::PlanReady {
            job: 2,
            plan: Err(EffectError::Plan("no such instance".into())),
        },
        Msg::Audit {
            job: 1,
            record: Box::new(record),
        },
        Msg::ActionDone {
            job: 1,
            report: Ok(Box::new(report)),
        },
        Msg::ActionDone {
            job: 3,
            report: Err(EffectError::ReadOnly),
        },
        Msg::SnapshotProgress {
            job: 1,
            snapshots: Ok(vec![SnapshotProgress {
                snapshot_id: "snap-1".into(),
                volume_id: "vol-1".into(),
                state: SnapshotState::Pending,
                percent: 40,
            }]),
        },
        Msg::Account(Box::new(account)),
    ]
}

fn samples() -> Vec<Msg> {
    let mut v = vec![
        Msg::Key(Key::parse("ctrl-c").expect("key")),
        Msg::Key(Key::parse("G").expect("key")),
        Msg::Resize {
            width: 80,
            height: 24,
        },
        Msg::Tick {
            now: Ts(1_714_564_800_123),
        },
        Msg::QuietSkipped(Duration::from_millis(93_500)),
        Msg::Progress(Progress {
            files_done: 3,
            files_total: 10,
            events: 1234,
            elapsed_ms: 56,
        }),
        Msg::RawLoaded {
            row: 7,
            text: Ok("{\"eventName\":\"GetObject\"}".into()),
        },
        Msg::RawLoaded {
            row: 8,
            text: Err(EffectError::Read("No such file".into())),
        },
        Msg::Signal(Signal::Hup),
        Msg::Polled {
            failed: vec![vigil::app::SourceFailure {
                source: "default/eu-west-1".into(),
                reason: "AccessDeniedException".into(),
                throttled: false,
            }],
            administrators: vec![vigil::app::Administrator {
                source: "security/us-east-1".into(),
                members: 3,
            }],
        },
    ];
    // A LookupEvents run: a page as the API answers it (the record as a JSON string), the end
    // of a source, a failure, the end of the run.
    let page = serde_json::json!({"Events": [{
        "EventId": "e-1",
        "EventName": "GetCallerIdentity",
        "CloudTrailEvent": "{\"eventID\":\"e-1\",\"eventTime\":\"2024-05-01T12:00:00Z\"}"
    }]});
    for progress in [
        LookupProgress::Page {
            page: 1,
            body: page.to_string(),
        },
        LookupProgress::SourceDone {
            pages: 1,
            capped: false,
        },
        LookupProgress::Failed {
            reason: "ThrottlingException: Rate exceeded".into(),
        },
        LookupProgress::Finished,
    ] {
        v.push(Msg::Lookup(LookupUpdate {
            id: 1,
            source: "default/us-east-1".into(),
            progress,
        }));
    }
    // Detective's answer for a panel: a graph, an investigation, an indicator; and a failure.
    use vigil::model::detective::{DetectiveReport, Indicator, Investigation};
    v.push(Msg::Detective {
        id: 2,
        report: Ok(DetectiveReport {
            graph: Some("arn:aws:detective:us-east-1:123456789012:graph:abc".into()),
            investigations: vec![Investigation {
                id: "000000000000000000001".into(),
                entity_arn: "arn:aws:iam::123456789012:role/Web".into(),
                status: "SUCCESSFUL".into(),
                severity: "HIGH".into(),
                state: "ACTIVE".into(),
                created: Some(Ts(1_714_564_800_000)),
            }],
            shown: Some("000000000000000000001".into()),
            indicators: vec![Indicator {
                kind: "FLAGGED_IP_ADDRESS".into(),
                detail: "203.0.113.7 flagged: AWS_THREAT_INTELLIGENCE".into(),
                pivot: vigil::model::EntityId::ip("203.0.113.7"),
            }],
        }),
    });
    v.push(Msg::Recording {
        path: Some("/tmp/session.jsonl.gz".into()),
        error: None,
    });
    v.push(Msg::Recording {
        path: None,
        error: Some("recording /tmp/x stopped: No space left on device".into()),
    });
    v.push(Msg::Detective {
        id: 3,
        report: Err(EffectError::Read("AccessDeniedException".into())),
    });
    v.extend(loader_messages(fixture_sources()));
    // A bucket with digest files (Integrity) and a file with a broken record (LoadErrors).
    let bucket =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/digest/amzn-s3-demo-bucket");
    let broken = tempfile::tempdir().expect("tmp");
    std::fs::write(broken.path().join("bad.jsonl"), "{\"broken\": \n").expect("write");
    v.extend(loader_messages(FileSources {
        findings: Vec::new(),
        evidence: vec![bucket, broken.path().to_path_buf()],
        s3: Vec::new(),
        hunt: None,
    }));
    v.extend(action_messages());
    v.extend(hunt_messages());
    v
}

/// The fixture files hunted with a threat list naming their caller, flow peer and DNS zone:
/// the lists (`Intel`) first, then the detections.
fn hunt_messages() -> Vec<Msg> {
    let dir = tempfile::tempdir().expect("tmp");
    let list = dir.path().join("feed.txt");
    std::fs::write(&list, "203.0.113.50\n198.51.100.23\nexample-bad.net\n").expect("write");
    let (feed, errors) =
        vigil::hunt::IntelList::load(&list, vigil::hunt::ListKind::Threat, None).expect("list");
    assert!(errors.is_empty());
    let msgs = loader_messages(FileSources {
        hunt: Some(vigil::console::HuntSetup {
            intel: vigil::hunt::Intel { lists: vec![feed] },
            ..vigil::console::HuntSetup::bundled()
        }),
        ..fixture_sources()
    });
    assert!(
        matches!(msgs.first(), Some(Msg::Intel(_))),
        "the lists come first"
    );
    let Some(Msg::Detections(found)) = msgs.iter().find(|m| matches!(m, Msg::Detections(_))) else {
        panic!("no detections");
    };
    // The CloudTrail caller, the flow peer and the DNS zone: one detection each, at least.
    for group in ["ip=203.0.113.50", "ip=198.51.100.23", "source=dns"] {
        assert!(
            found.iter().any(|d| d.group.iter().any(|g| g == group)),
            "{group}: {found:#?}"
        );
    }
    msgs.into_iter()
        .filter(|m| matches!(m, Msg::Intel(_) | Msg::Detections(_)))
        .collect()
}

fn json(m: &Msg) -> String {
    serde_json::to_string(m).expect("serialise")
}

#[test]
fn every_message_round_trips_through_json() {
    let samples = samples();
    let covered: std::collections::BTreeSet<usize> = samples.iter().map(variant).collect();
    let missing: Vec<usize> = (0..VARIANTS).filter(|i| !covered.contains(i)).collect();
    assert!(missing.is_empty(), "variants without a sample: {missing:?}");
    for m in &samples {
        let text = json(m);
        let back: Msg = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(variant(&back), variant(m));
        assert_eq!(json(&back), text, "read back differently");
    }
    // The envelope keeps its sequence number and offset.
    let env = Envelope {
        seq: 42,
        t_ms: 1500,
        msg: Msg::Signal(Signal::Term),
    };
    let text = serde_json::to_string(&env).expect("envelope");
    let back: Envelope = serde_json::from_str(&text).expect("envelope back");
    assert_eq!((back.seq, back.t_ms), (42, 1500));
    assert_eq!(serde_json::to_string(&back).expect("again"), text);
}

#[test]
fn a_recorded_load_rebuilds_the_same_index_from_its_sources() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut sources = fixture_sources();
    // A copy of the trail that the test can change afterwards.
    let trail = dir.path().join("trail.json");
    std::fs::copy(fixture("trail.json"), &trail).expect("copy");
    sources.evidence[0] = trail.clone();
    let msgs = loader_messages(sources);
    let Some(Msg::Indexed(ix)) = msgs.iter().find(|m| matches!(m, Msg::Indexed(_))) else {
        panic!("the loader sends Indexed: {msgs:?}");
    };
    let live = ix.built.as_ref().expect("a live load carries its graph");
    // The index came first, in segments of whole files, each naming its files.
    let mut live_index = vigil::pivot::TrailIndex::new();
    let mut segment_files = 0;
    for m in &msgs {
        if let Msg::IndexedPart(part) = m {
            let EvidenceRef::Files { evidence, .. } = &part.evidence else {
                panic!("a segment refers to its files: {:?}", part.evidence)
            };
            segment_files += evidence.len();
            let seg = rebuild(&part.evidence).expect("a segment rebuilds");
            let built = part
                .built
                .as_ref()
                .expect("a live segment carries its index");
            assert_eq!(seg.index.len(), built.index.len());
            live_index.absorb(seg.index);
        }
    }
    assert!(ix.parts > 0, "the index came in segments");
    assert_eq!(segment_files, 3);
    let EvidenceRef::Files { findings, evidence } = &ix.evidence else {
        panic!("a file load refers to its files: {:?}", ix.evidence)
    };
    assert_eq!(findings.len(), 1);
    assert_eq!(evidence.len(), 3);
    assert!(evidence.iter().all(|f| f.sha256.len() == 64 && f.bytes > 0));

    // Written and read back: the reference survives, the built data does not…
    let back: Msg = serde_json::from_str(&json(&Msg::Indexed(Box::new(vigil::app::Indexed {
        evidence: ix.evidence.clone(),
        findings: ix.findings,
        events: ix.events,
        elapsed_ms: ix.elapsed_ms,
        parts: ix.parts,
        built: None,
    }))))
    .expect("read back");
    let Msg::Indexed(back) = back else {
        panic!("variant")
    };
    assert!(back.built.is_none());
    assert_eq!(back.evidence, ix.evidence);
    // …and is built again from the sources, to the same index and graph.
    let again = rebuild(&back.evidence).expect("rebuild");
    assert_eq!(again.index.len(), live_index.len());
    assert_eq!(again.index.len(), ix.events);
    assert_eq!(again.graph.node_count(), live.graph.node_count());
    assert_eq!(again.graph.edge_count(), live.graph.edge_count());

    // A source that changed since is refused, by name.
    std::fs::write(&trail, b"{\"Records\": []}").expect("change");
    let err = rebuild(&back.evidence).expect_err("changed source");
    assert!(err.to_string().contains("trail.json"), "{err}");
    assert!(err.to_string().contains("changed"), "{err}");
}

#[test]
fn a_demo_load_refers_to_its_scenario_and_rebuilds() {
    let sc = Scenario::load("log4shell-c2").expect("scenario");
    let sha = sc.evidence_sha256();
    assert_eq!(sha.len(), 64);
    let built = rebuild(&EvidenceRef::Demo {
        scenario: "log4shell-c2".into(),
        sha256: sha.clone(),
    })
    .expect("rebuild");
    assert_eq!(built.index.len(), sc.evidence.events.len());
    let err = rebuild(&EvidenceRef::Demo {
        scenario: "log4shell-c2".into(),
        sha256: "0".repeat(64),
    })
    .expect_err("another scenario's hash");
    assert!(err.to_string().contains("differs"), "{err}");
}

/// The trail is usable while the load goes on: the segments that arrive before the load's end
/// already make a searchable index, while the status still says it is indexing.
#[test]
fn the_index_fills_before_the_load_ends() {
    use vigil::app::state::{IndexState, Options, State};
    use vigil::app::{Keymap, update};
    let msgs = loader_messages(fixture_sources());
    let mut s = State::new(Options::default(), Keymap::default_map().expect("keymap"));
    let mut parts = 0;
    for m in msgs {
        if matches!(m, Msg::Indexed(_)) {
            break;
        }
        parts += usize::from(matches!(m, Msg::IndexedPart(_)));
        update(&mut s, m);
    }
    assert!(parts > 0);
    let ix = s.index.as_ref().expect("an index before the load's end");
    assert!(!ix.is_empty());
    let busiest = ix
        .entities()
        .max_by_key(|e| ix.count(e))
        .cloned()
        .expect("an entity");
    assert!(!ix.pivot(&busiest, vigil::pivot::Window::all()).is_empty());
    assert!(
        matches!(s.index_state, IndexState::Loading(_)),
        "{:?}",
        s.index_state
    );
}
