//! Each bundled scenario, loaded through the real ingest, is self-consistent: every file parses,
//! everything the findings and the attack's CloudTrail name exists in the world, times line up,
//! the answer key is reachable in the graph from the top finding, and groups match the manifest.

use serde::Deserialize;
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::time::Duration;
use vigil::demo::{Cue, Pacing, Scenario};
use vigil::graph::{EntityGraph, groups};
use vigil::model::entity::{is_non_routable, parse_ip};
use vigil::model::{EntityId, EntityKind, Ts};

#[derive(Deserialize)]
struct World {
    instances: Vec<Instance>,
    roles: Vec<Arn>,
    users: Vec<User>,
    buckets: Vec<Named>,
    #[serde(default)]
    temporary_credentials: Vec<TempCred>,
}
#[derive(Deserialize)]
struct Instance {
    instance_id: String,
    enis: Vec<Eni>,
}
#[derive(Deserialize)]
struct Eni {
    private_ip: Option<String>,
    public_ip: Option<String>,
}
#[derive(Deserialize)]
struct Arn {
    arn: String,
}
#[derive(Deserialize)]
struct User {
    arn: String,
    access_keys: Vec<Key>,
}
#[derive(Deserialize)]
struct Key {
    access_key_id: String,
}
#[derive(Deserialize)]
struct Named {
    name: String,
}
#[derive(Deserialize)]
struct TempCred {
    access_key_id: String,
    principal_arn: Option<String>,
}

struct Known {
    ids: HashSet<String>,
}

impl Known {
    fn of(w: &World) -> Known {
        let mut ids = HashSet::new();
        for i in &w.instances {
            ids.insert(format!("instance:{}", i.instance_id));
            for e in &i.enis {
                for ip in [&e.private_ip, &e.public_ip].into_iter().flatten() {
                    ids.insert(format!("ip:{ip}"));
                }
            }
        }
        ids.extend(w.roles.iter().map(|r| format!("role:{}", r.arn)));
        for u in &w.users {
            ids.insert(format!("user:{}", u.arn));
            ids.extend(
                u.access_keys
                    .iter()
                    .map(|k| format!("key:{}", k.access_key_id)),
            );
        }
        ids.extend(w.buckets.iter().map(|b| format!("bucket:{}", b.name)));
        for t in &w.temporary_credentials {
            ids.insert(format!("key:{}", t.access_key_id));
            if let Some(p) = &t.principal_arn {
                ids.insert(format!("session:{p}"));
            }
        }
        Known { ids }
    }

    /// Kinds the world must hold. Remote addresses and domains are the outside world's.
    fn check(&self, e: &EntityId, what: &str) {
        let must = match e.kind {
            EntityKind::Instance
            | EntityKind::Role
            | EntityKind::User
            | EntityKind::Key
            | EntityKind::Bucket
            | EntityKind::Session => true,
            EntityKind::Ip => false,
            _ => false,
        };
        if must && !e.value.ends_with(":root") {
            assert!(
                self.ids.contains(&e.to_string()),
                "{what}: {e} is not in world.json"
            );
        }
    }
}

fn scenario_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("scenario.toml").exists())
        .collect();
    v.sort();
    v
}

/// Breadth-first reachability that does not pass through accounts, user agents or private
/// addresses (which connect everything and prove nothing).
fn reachable(g: &EntityGraph, from: &EntityId) -> HashSet<EntityId> {
    let hub = |e: &EntityId| {
        matches!(e.kind, EntityKind::Account | EntityKind::Ua)
            || (e.kind == EntityKind::Ip
                && parse_ip(&e.value).is_some_and(|ip| is_non_routable(&ip)))
    };
    let mut seen = HashSet::from([from.clone()]);
    let mut q = VecDeque::from([from.clone()]);
    while let Some(n) = q.pop_front() {
        if &n != from && hub(&n) {
            continue;
        }
        for (other, _) in g.edges_of(&n) {
            if seen.insert(other.clone()) {
                q.push_back(other);
            }
        }
    }
    seen
}

#[test]
fn three_scenarios_are_bundled_and_embedded() {
    let names: Vec<String> = vigil::demo::list()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(
        names,
        vec!["dns-c2-exfil", "iam-credential-chain", "log4shell-c2"]
    );
    // The embedded copy loads the same as the repository copy.
    let sc = Scenario::load("log4shell-c2").unwrap();
    assert_eq!(sc.arrivals.len(), 8);

    // Flow logs without an instance-id field are attributed through the finding's ENIs: the
    // compromised web instance talked to the attacker and the C2, and never to itself.
    let mut all = sc.evidence.clone_without_findings();
    all.findings = sc.all_findings();
    let g = EntityGraph::from_loaded(&all);
    let web1 = EntityId::parse("instance:i-0c0f89991ec24aa09").unwrap();
    let peers: Vec<(String, u64)> = g
        .edges_of(&web1)
        .into_iter()
        .filter(|(_, e)| e.relation == vigil::graph::Relation::Connected)
        .map(|(o, e)| (o.to_string(), e.bytes))
        .collect();
    for attacker in ["ip:203.0.113.45", "ip:198.51.100.77"] {
        assert!(
            peers.iter().any(|(p, b)| p == attacker && *b > 0),
            "{attacker} in {peers:?}"
        );
    }
    assert!(
        !peers.iter().any(|(p, _)| p == "ip:10.20.0.37"),
        "its own address is not a peer"
    );
}

#[test]
fn every_scenario_is_consistent() {
    for dir in scenario_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let sc = Scenario::load_dir(&dir).unwrap();
        assert!(
            sc.evidence.errors.is_empty(),
            "{name}: {:?}",
            sc.evidence.errors
        );
        assert_eq!(
            sc.arrivals.len(),
            sc.manifest.timeline.len(),
            "{name}: every finding is on the timeline"
        );
        assert!(
            !sc.evidence.events.is_empty()
                && !sc.evidence.flows.is_empty()
                && !sc.evidence.dns.is_empty(),
            "{name}"
        );
        let world: World =
            serde_json::from_str(&std::fs::read_to_string(dir.join("world.json")).unwrap())
                .unwrap();
        let known = Known::of(&world);
        let (start, end) = (
            Ts::parse(&sc.manifest.start).unwrap(),
            Ts::parse(&sc.manifest.end).unwrap(),
        );
        let findings = sc.all_findings();
        assert!(
            findings.iter().filter(|f| f.sample).count() >= 1,
            "{name}: a sample finding"
        );

        for f in findings.iter().filter(|f| !f.sample) {
            for e in &f.entities {
                known.check(e, &format!("{name} finding {}", f.id));
            }
            for a in &f.subject.addresses {
                assert!(
                    known.ids.contains(&a.to_string()),
                    "{name}: {} address {a} not in world",
                    f.id
                );
            }
            let (created, first) = (f.created_at.unwrap(), f.first_seen.unwrap());
            assert!(
                first <= created,
                "{name} {}: created before the activity it describes",
                f.id
            );
            assert!(
                start <= first && created <= end,
                "{name} {}: outside the scenario's range",
                f.id
            );
        }
        for a in &sc.arrivals {
            let created = a.finding.created_at.unwrap();
            assert_eq!(
                a.offset.as_secs() as i64,
                (created.0 - start.0) / 1000,
                "{name} {}: timeline offset",
                a.finding.id
            );
        }

        // The attack's CloudTrail: from an attacker address or by a compromised principal.
        let key = &sc.manifest.answer_key;
        let compromised: HashSet<&str> = key.compromised.iter().map(String::as_str).collect();
        let attacker_ips: HashSet<String> =
            key.attacker_ips.iter().map(|i| format!("ip:{i}")).collect();
        let mut attack = 0;
        for ev in &sc.evidence.events {
            assert!(
                start <= ev.time && ev.time < end,
                "{name} event {} outside range",
                ev.event_id
            );
            let by_attacker = ev
                .entities
                .iter()
                .any(|e| attacker_ips.contains(&e.to_string()))
                || ev
                    .principal
                    .as_ref()
                    .is_some_and(|p| compromised.contains(p.to_string().as_str()));
            if by_attacker {
                attack += 1;
                for e in &ev.entities {
                    known.check(e, &format!("{name} event {}", ev.event_id));
                }
            }
        }
        assert!(attack > 0, "{name}: the attack shows in CloudTrail");

        // Groups as the manifest says.
        let got: Vec<(Vec<String>, f64)> = {
            let mut v: Vec<_> = groups::compute(&findings)
                .into_iter()
                .map(|g| (g.findings, g.severity))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        let want: Vec<(Vec<String>, f64)> = {
            let mut v: Vec<_> = sc
                .manifest
                .groups
                .iter()
                .map(|g| {
                    let mut f = g.findings.clone();
                    f.sort();
                    (f, g.severity)
                })
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(got, want, "{name}: groups");

        // The answer key exists and is reachable from the highest-severity finding.
        let mut all = sc.evidence.clone_without_findings();
        all.findings = findings.clone();
        let g = EntityGraph::from_loaded(&all);
        let top = findings
            .iter()
            .filter(|f| !f.sample)
            .max_by(|a, b| a.severity.total_cmp(&b.severity).then(b.id.cmp(&a.id)))
            .unwrap();
        let reach = reachable(&g, &top.entity_id());
        let mut targets: Vec<String> = key.compromised.clone();
        targets.extend(key.attacker_ips.iter().map(|i| format!("ip:{i}")));
        targets.extend(key.attacker_domains.iter().map(|d| format!("domain:{d}")));
        targets.extend(key.right_actions.iter().map(|a| a.target.clone()));
        for t in targets {
            let id = EntityId::parse(&t).unwrap();
            assert!(
                g.contains(&id),
                "{name}: answer-key entity {t} not in the graph"
            );
            assert!(
                reach.contains(&id),
                "{name}: {t} not reachable from top finding {}",
                top.id
            );
        }
        for w in &key.wrong_actions {
            assert!(
                g.contains(&EntityId::parse(&w.target).unwrap()),
                "{name}: wrong-action target {} exists",
                w.target
            );
        }
    }
}

/// When each finding arrives under `pacing`, and the quiet skipped notices in order.
fn arrivals_of(sc: &Scenario, pacing: Pacing) -> (Vec<f64>, Vec<Duration>) {
    let (mut due, mut quiet) = (Vec::new(), Vec::new());
    let mut last = Duration::ZERO;
    for (at, cue) in sc.schedule(pacing) {
        assert!(at >= last, "the schedule goes forward");
        last = at;
        match cue {
            Cue::Finding(_) => due.push(at.as_secs_f64()),
            Cue::Quiet(d) => quiet.push(d),
        }
    }
    (due, quiet)
}

#[test]
fn every_scenario_opens_at_once_and_plays_in_about_three_minutes() {
    for name in vigil::demo::names() {
        let sc = Scenario::load(&name).unwrap();
        let (due, quiet) = arrivals_of(&sc, Pacing::Paced);
        assert_eq!(due.len(), sc.arrivals.len(), "{name}: every finding plays");
        assert!(due[0] <= 3.0, "{name}: first finding at {:.1} s", due[0]);
        let early = due.iter().filter(|t| **t <= 10.0).count();
        assert!(early >= 3, "{name}: {early} findings in 10 s: {due:?}");
        let total = due.last().copied().unwrap_or(0.0);
        assert!(
            (170.0..=190.0).contains(&total),
            "{name}: plays in {total:.0} s"
        );
        // Every scenario here starts after half an hour or more of quiet, and says so at once.
        let first_quiet = sc.schedule(Pacing::Paced)[0];
        assert!(
            matches!(first_quiet, (at, Cue::Quiet(d)) if at.is_zero() && d >= Duration::from_secs(60)),
            "{name}: {first_quiet:?}"
        );
        // What is skipped plus what is played is the whole incident: the demo world's clock
        // reads each finding's own offset when it arrives.
        let playback = sc.playback(Pacing::Paced);
        let skipped: Duration = playback.gaps.iter().map(|g| g.skipped).sum();
        let played = playback.total().mul_f64(playback.speed);
        let whole = (skipped + played).as_secs_f64();
        assert!(
            (whole - sc.duration().as_secs_f64()).abs() < 1.0,
            "{name}: {whole}"
        );
        for (g, a) in playback.gaps.iter().zip(&sc.arrivals) {
            let at = playback.scenario_at(g.arrival()).as_secs_f64();
            assert!((at - a.offset.as_secs_f64()).abs() < 0.01, "{name}: {at}");
        }
        assert!(quiet.len() <= sc.arrivals.len());
    }
}

#[test]
fn speed_keeps_exact_proportions_and_skips_nothing() {
    for name in vigil::demo::names() {
        let sc = Scenario::load(&name).unwrap();
        for speed in [1.0, 60.0, 1_000_000.0] {
            let (due, quiet) = arrivals_of(&sc, Pacing::Speed(speed));
            assert!(quiet.is_empty(), "{name} at {speed}×: {quiet:?}");
            for (t, a) in due.iter().zip(&sc.arrivals) {
                let want = a.offset.as_secs_f64() / speed;
                assert!((t - want).abs() < 1e-3, "{name} at {speed}×: {t} vs {want}");
            }
        }
    }
}
