//! Response actions in the console: key → plan request → plan → confirm → run → audit, driven
//! through the reducer by message sequences, with the demo responder answering the effects as the
//! runtime's edge would. Also the confirm and actions screens as text snapshots.

use ratatui::backend::TestBackend;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use vigil::actions::{Action, Confirm};
use vigil::app::state::{JobStatus, Mode, Options, State, View};
use vigil::app::{Effect, Key, KeyCode, Keymap, Msg, update};
use vigil::console::FixedClock;
use vigil::demo::{Scenario, responder::DemoResponder};
use vigil::model::Ts;

/// 2024-05-01T12:00:00Z: the console's clock in every test.
const NOW: Ts = Ts(1_714_564_800_000);
const SCENARIO: &str = "log4shell-c2";

/// The real console loop over a TestBackend, with the demo responder (unless read-only) and a
/// fixed clock; every effect the reducer emitted is kept, in order.
struct Console {
    rt: tokio::runtime::Runtime,
    console: vigil::console::Console<TestBackend>,
    effects: Arc<Mutex<Vec<Effect>>>,
    /// Every envelope the loop applied, as a recording would write it.
    applied: Arc<Mutex<Vec<String>>>,
    audit: PathBuf,
    _dir: tempfile::TempDir,
}

fn console(read_only: bool, width: u16, height: u16) -> Console {
    console_for(SCENARIO, read_only, width, height)
}

fn console_for(scenario: &str, read_only: bool, width: u16, height: u16) -> Console {
    let sc = Scenario::load(scenario).expect("scenario");
    let opts = Options {
        mode: Mode::Demo,
        read_only,
        label: scenario.to_string(),
        // As `vigil demo` sets it: the demo world's evidence store.
        evidence: Some(format!("s3://vigil-demo-evidence/{scenario}")),
        ..Options::default()
    };
    let mut s = State::new(opts, Keymap::default_map().expect("keymap"));
    let dir = tempfile::tempdir().expect("tempdir");
    let audit = dir.path().join("audit.jsonl");
    let armed = if read_only {
        None
    } else {
        let demo = DemoResponder::for_scenario(&sc).expect("world");
        Some(vigil::console::arm(
            &mut s,
            vigil::console::Arming {
                label: format!("demo world {scenario}"),
                topic_arn: demo.world.sns_topics.first().map(|t| t.arn.clone()),
                responder: Box::new(demo),
                audit_log: Some(audit.clone()),
                webhook: None,
                case: None,
                open_command: None,
            },
        ))
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut console = vigil::console::Console::new(
        s,
        TestBackend::new(width, height),
        armed,
        Arc::new(FixedClock(NOW)),
    )
    .expect("console");
    let effects = Arc::new(Mutex::new(Vec::new()));
    let seen = effects.clone();
    console.on_effect(move |e| seen.lock().unwrap().push(e.clone()));
    let applied = Arc::new(Mutex::new(Vec::new()));
    let tap = applied.clone();
    console.on_applied(move |env| {
        tap.lock()
            .unwrap()
            .push(serde_json::to_string(env).unwrap())
    });
    let mut c = Console {
        rt,
        console,
        effects,
        applied,
        audit,
        _dir: dir,
    };
    c.send(Msg::Resize { width, height });
    c.send(Msg::Tick { now: NOW });
    c.send(Msg::Findings(sc.all_findings()));
    c
}

impl Console {
    /// Sends a message and runs the loop until it is idle: the executor answered every effect
    /// through the demo responder and the answers were applied.
    fn send(&mut self, msg: Msg) {
        let Console { rt, console, .. } = self;
        rt.block_on(async {
            console.bus().send(msg).await;
            console.settle().await.expect("settle");
        });
    }

    fn s(&self) -> &State {
        self.console.state()
    }

    fn s_mut(&mut self) -> &mut State {
        self.console.state_mut()
    }

    /// Every effect so far, in order.
    fn effects(&self) -> Vec<Effect> {
        self.effects.lock().unwrap().clone()
    }

    fn keys(&mut self, seq: &str) {
        for k in seq.split_whitespace() {
            let key = Key::parse(k).unwrap_or_else(|| panic!("bad key {k}"));
            self.send(Msg::Key(key));
        }
    }

    fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.send(Msg::Key(Key::plain(KeyCode::Char(c))));
        }
    }

    fn runs(&self) -> usize {
        self.effects()
            .iter()
            .filter(|e| matches!(e, Effect::RunAction { .. }))
            .count()
    }

    fn status(&self) -> String {
        self.s()
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }

    /// Moves the findings cursor to the first finding about `instance`.
    fn select_instance_finding(&mut self, instance: &str) -> String {
        let pos = (0..self.s().list.rows.len())
            .find(|r| {
                self.s_mut().list.selected = *r;
                self.s().selected_finding().is_some_and(|i| {
                    self.s().findings[i]
                        .subject
                        .instance
                        .as_ref()
                        .is_some_and(|e| e.value == instance)
                })
            })
            .expect("a finding about the instance");
        self.s_mut().list.selected = 0;
        for _ in 0..pos {
            self.keys("down");
        }
        let i = self.s().selected_finding().expect("selected");
        self.s().findings[i].id.clone()
    }

    /// Snapshot filters for what is volatile on these screens: the audit log's temporary path and
    /// the wall-clock time of each audit record.
    fn filters(&self) -> insta::Settings {
        let mut settings = insta::Settings::clone_current();
        let dir = self._dir.path().display().to_string();
        let escaped: String = dir
            .chars()
            .flat_map(|c| {
                let meta = "\\.+*?()|[]{}^$-".contains(c);
                meta.then_some('\\').into_iter().chain([c])
            })
            .collect();
        settings.add_filter(&escaped, "[TMP]");
        settings.add_filter(r#"(?m)^" \d\d:\d\d:\d\d "#, "\" hh:mm:ss ");
        settings
    }

    /// The loop's frame (drawn again, for a test that changed the state by hand).
    fn text(&mut self) -> String {
        self.console.draw().expect("draw");
        self.console.terminal().backend().to_string()
    }
}

/// web-1 of the log4shell scenario: the instance with two ENIs behind the load balancer.
fn web1() -> String {
    let sc = Scenario::load(SCENARIO).unwrap();
    let w = DemoResponder::for_scenario(&sc).unwrap().world;
    let i = w
        .instances
        .iter()
        .find(|i| {
            i.enis.len() == 2
                && sc.all_findings().iter().any(|f| {
                    f.subject
                        .instance
                        .as_ref()
                        .is_some_and(|e| e.value == i.instance_id)
                })
        })
        .expect("a two-ENI instance with findings");
    i.instance_id.clone()
}

/// An action on a hunt detection acts in its events' region, but its account is not held
/// against the operator's: a detection's accounts are those its events name (a snapshot shared
/// with an outside account names that account too).
#[test]
fn an_action_on_a_detection_takes_its_region_not_its_account() {
    let id = web1();
    let mut c = console(false, 120, 40);
    let d = vigil::model::Detection {
        rule: "vigil-test".into(),
        title: "Instance credentials used outside AWS".into(),
        level: "high".into(),
        attack: vec!["attack.t1552.005".into()],
        events: vec!["e1".into()],
        entities: vec![
            vigil::model::EntityId::new(vigil::model::EntityKind::Account, "000011112222"),
            vigil::model::EntityId::new(vigil::model::EntityKind::Instance, id.clone()),
        ],
        first: NOW,
        last: NOW,
        group: Vec::new(),
        records: 0,
        regions: vec!["us-west-2".into()],
    };
    c.send(Msg::Detections(vec![d]));
    let pos = (0..c.s().list.rows.len())
        .find(|r| {
            c.s_mut().list.selected = *r;
            c.s()
                .selected_finding()
                .is_some_and(|i| c.s().findings[i].finding_type.starts_with("Hunt:"))
        })
        .expect("the detection in the list");
    c.s_mut().list.selected = 0;
    for _ in 0..pos {
        c.keys("down");
    }
    c.keys("X");
    let want = vigil::actions::plan::Place {
        account: None,
        region: Some("us-west-2".into()),
    };
    assert!(
        c.effects().iter().any(|e| matches!(e,
            Effect::PlanAction { action: Action::Quarantine { instance }, ctx, .. }
                if *instance == id && ctx.source.as_ref() == Some(&want))),
        "{:?}",
        c.effects()
    );
}

#[test]
fn quarantine_key_plans_confirms_and_runs() {
    let id = web1();
    let mut c = console(false, 120, 40);
    c.select_instance_finding(&id);
    c.keys("X");
    // The key asked for a plan, not an action.
    assert!(
        matches!(&c.effects()[..], [Effect::PlanAction { action: Action::Quarantine { instance }, .. }] if *instance == id),
        "{:?}",
        c.effects()
    );
    // The plan is told where the finding is: the planner refuses another account's instance.
    let Some(f) = c.s().selected_finding().map(|i| &c.s().findings[i]) else {
        panic!("a finding is selected")
    };
    let place = vigil::actions::plan::Place {
        account: f.account_id.clone(),
        region: f.region.clone(),
    };
    assert!(
        place.account.is_some() && place.region.is_some(),
        "{place:?}"
    );
    assert!(
        matches!(&c.effects()[..], [Effect::PlanAction { ctx, .. }] if ctx.source.as_ref() == Some(&place)),
        "{:?}",
        c.effects()
    );
    assert_eq!(c.runs(), 0);
    // The plan came back and is on the confirm screen, asking for the id.
    let Some(View::Confirm(cv)) = c.s().view() else {
        panic!("confirm screen expected; status: {}", c.status())
    };
    assert_eq!(cv.plan.confirm, Confirm::TypeId { id: id.clone() });
    assert!(!cv.plan.steps.is_empty());
    // Wrong text: nothing runs, the screen stays.
    c.type_text("i-nope");
    c.keys("enter");
    assert_eq!(c.runs(), 0);
    assert!(matches!(c.s().view(), Some(View::Confirm(_))));
    assert!(c.status().contains("does not match"), "{}", c.status());
    // `y` is not a confirmation of a destructive action: it is typed text.
    c.keys("y enter");
    assert_eq!(c.runs(), 0);
    // The last four characters confirm.
    let last4: String = id.chars().skip(id.len() - 4).collect();
    c.type_text(&last4);
    c.keys("enter");
    assert_eq!(c.runs(), 1);
    assert!(matches!(c.s().view(), Some(View::Actions(_))));
    let job = &c.s().actions.jobs[0];
    assert_eq!(job.status, JobStatus::Done, "{:?}", job.error);
    assert_eq!(job.calls_done, job.calls_total);
    // The session's audit log came back record by record, and is on disk.
    let on_disk = vigil::actions::audit::read(&c.audit).unwrap();
    assert_eq!(c.s().actions.log.len(), on_disk.len());
    assert!(on_disk.iter().all(|r| r.demo));
    assert!(on_disk.iter().any(|r| r.kind == "intent"));
    // A second quarantine plans nothing: the instance is contained.
    c.keys("esc");
    c.keys("X");
    let Some(View::Confirm(cv)) = c.s().view() else {
        panic!("confirm screen expected")
    };
    assert!(cv.plan.is_noop(), "{}", cv.plan.render());
}

#[test]
fn cancel_and_escape_run_nothing() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("X");
    c.type_text(&id);
    c.keys("esc");
    assert_eq!(c.runs(), 0);
    assert!(c.s().view().is_none());
    assert_eq!(c.s().actions.jobs[0].status, JobStatus::Cancelled);
    // Notify asks for y; n cancels.
    c.keys("N");
    let Some(View::Confirm(cv)) = c.s().view() else {
        panic!("confirm expected: {}", c.status())
    };
    assert_eq!(cv.plan.confirm, Confirm::Yes);
    c.keys("n");
    assert_eq!(c.runs(), 0);
    assert!(!c.audit.exists(), "nothing was written");
}

#[test]
fn read_only_session_refuses_action_keys() {
    let id = web1();
    let mut c = console(true, 80, 24);
    c.select_instance_finding(&id);
    for k in ["X", "S", "N", "D", "R", "P", "U"] {
        c.keys(k);
        assert!(
            c.status().contains("read-only session"),
            "{k}: {}",
            c.status()
        );
    }
    assert!(c.effects().is_empty(), "{:?}", c.effects());
    assert!(c.s().actions.jobs.is_empty());
    // A plan that arrives anyway (it cannot: there is no job) is ignored.
    c.send(Msg::PlanReady {
        job: 1,
        plan: Err(vigil::app::EffectError::Plan("x".into())),
    });
    assert!(c.s().view().is_none());
}

#[test]
fn dry_run_toggle_changes_nothing() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("!");
    assert!(c.s().actions.dry_run);
    c.keys("X");
    c.type_text(&id);
    c.keys("enter");
    assert!(matches!(
        c.effects().last(),
        Some(Effect::RunAction { dry_run: true, .. })
    ));
    assert_eq!(c.s().actions.jobs[0].status, JobStatus::WouldSucceed);
    // Still not contained: a real quarantine has steps to do.
    c.keys("! esc X");
    let Some(View::Confirm(cv)) = c.s().view() else {
        panic!("confirm expected")
    };
    assert!(!cv.plan.is_noop());
    assert!(!cv.dry_run);
}

#[test]
fn snapshot_progress_is_followed_in_the_background() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("S");
    let Some(View::Confirm(cv)) = c.s().view() else {
        panic!("confirm expected: {}", c.status())
    };
    assert_eq!(cv.plan.confirm, Confirm::Yes);
    c.keys("y");
    assert_eq!(c.runs(), 1);
    // CreateSnapshots → DescribeSnapshots polls until every snapshot is completed, then stops.
    let effects = c.effects();
    let polls: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::PollSnapshots { .. }))
        .collect();
    assert_eq!(polls.len(), 3, "{polls:?}");
    let job = &c.s().actions.jobs[0];
    assert_eq!(job.status, JobStatus::Done);
    assert!(!job.snapshots.is_empty());
    assert!(
        job.snapshots
            .iter()
            .all(|p| p.state == "completed" && p.percent == 100)
    );
    assert!(c.status().contains("completed"), "{}", c.status());
}

/// The reducer alone (message sequences, no executor): poll answers drive the progress and the
/// next poll, and a completed snapshot stops the polling.
#[test]
fn snapshot_poll_messages_drive_the_progress() {
    let mut c = console(false, 80, 24);
    let id = web1();
    c.select_instance_finding(&id);
    let mut s = c.console.into_state();
    let effects = update(&mut s, Msg::Key(Key::char('S')));
    assert!(
        matches!(effects.last(), Some(Effect::PlanAction { .. })),
        "{effects:?}"
    );
    let job = s.actions.jobs[0].id;
    s.actions.jobs[0].status = JobStatus::Running;
    s.actions.jobs[0].snapshots = vec![vigil::actions::SnapshotProgress {
        snapshot_id: "snap-1".into(),
        state: vigil::actions::SnapshotState::Pending,
        ..Default::default()
    }];
    let p = |pct: u8, state: &str| {
        Ok(vec![vigil::actions::SnapshotProgress {
            snapshot_id: "snap-1".into(),
            volume_id: "vol-1".into(),
            state: state.parse().unwrap(),
            percent: pct,
        }])
    };
    let effects = update(
        &mut s,
        Msg::SnapshotProgress {
            job,
            snapshots: p(40, "pending"),
        },
    );
    assert!(matches!(
        &effects[..],
        [Effect::PollSnapshots { ids, .. }] if ids == &["snap-1".to_string()]
    ));
    assert_eq!(s.actions.jobs[0].snapshots[0].percent, 40);
    let effects = update(
        &mut s,
        Msg::SnapshotProgress {
            job,
            snapshots: p(100, "completed"),
        },
    );
    assert!(effects.is_empty(), "no poll after completion: {effects:?}");
}

fn quarantined_and_snapshotted(width: u16, height: u16) -> Console {
    let id = web1();
    let mut c = console(false, width, height);
    c.select_instance_finding(&id);
    c.keys("S y esc");
    c.keys("X");
    c.type_text(&id);
    c.keys("enter");
    c
}

#[test]
fn confirm_screen_80x24() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("X");
    c.type_text("0a");
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

#[test]
fn confirm_screen_120x40() {
    let id = web1();
    let mut c = console(false, 120, 40);
    c.select_instance_finding(&id);
    c.keys("X");
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

#[test]
fn confirm_screen_notify_dry_run_80x24() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("! N");
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

#[test]
fn actions_screen_80x24() {
    let mut c = quarantined_and_snapshotted(80, 24);
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

#[test]
fn actions_screen_120x40() {
    let mut c = quarantined_and_snapshotted(120, 40);
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

#[test]
fn actions_screen_read_only_80x24() {
    let mut c = console(true, 80, 24);
    c.keys("A");
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

/// Notify, snapshot and quarantine web-1, as a trainee would from its finding.
fn acted_on_web1(width: u16, height: u16) -> (Console, String) {
    let id = web1();
    let mut c = console(false, width, height);
    c.select_instance_finding(&id);
    c.keys("N y esc S y esc X");
    c.type_text(&id);
    c.keys("enter esc");
    (c, id)
}

#[test]
fn world_screen_shows_the_effect_of_each_action() {
    let (mut c, id) = acted_on_web1(120, 40);
    let a = c
        .s()
        .actions
        .account
        .clone()
        .expect("the demo responder sent its world");
    let inst = a.instances.iter().find(|i| i.instance_id == id).unwrap();
    assert_eq!(inst.status.as_deref(), Some("quarantined"));
    assert!(inst.termination_protection);
    assert_eq!(inst.asg.as_ref().map(|g| g.1.as_str()), Some("Standby"));
    assert_eq!(inst.enis.len(), 2);
    for e in &inst.enis {
        assert_eq!(e.groups.len(), 1, "{e:?}");
        assert!(e.groups[0].starts_with("vigil-contain-"), "{e:?}");
        assert!(e.isolated.is_some());
    }
    assert!(
        inst.enis.iter().map(|e| e.rejected_lines).sum::<usize>() > 0,
        "web-1's flow-log lines turn to REJECT"
    );
    // Other instances are untouched.
    assert!(
        a.instances
            .iter()
            .filter(|i| i.instance_id != id)
            .all(|i| i.status.is_none() && i.enis.iter().all(|e| e.isolated.is_none()))
    );
    assert!(!a.snapshots.is_empty());
    assert!(
        a.snapshots
            .iter()
            .all(|s| s.instance_id.as_deref() == Some(id.as_str()) && s.state == "completed")
    );
    assert_eq!(a.outbox.len(), 1);
    assert!(
        a.outbox[0].subject.starts_with("[vigil]"),
        "{:?}",
        a.outbox[0]
    );
    assert!(a.outbox[0].body.contains(&id), "{}", a.outbox[0].body);

    c.keys("W");
    assert!(matches!(c.s().view(), Some(View::World(_))));
    let text = c.text();
    assert!(text.contains("› world"), "{text}");
    assert!(text.contains("QUARANTINED"), "{text}");
    assert!(text.contains("later flow-log line(s) now REJECT"), "{text}");
    assert!(text.contains("Outbox (1)"), "{text}");
    c.keys("W");
    assert!(c.s().view().is_none(), "W again closes it");
}

/// E on web-1's finding collects through the demo world's SSM: the world screen then shows
/// where the output went and what it found (the reverse shell's connection to the C2 address).
#[test]
fn collect_from_the_console_shows_what_it_found() {
    let id = web1();
    let mut c = console(false, 120, 40);
    c.select_instance_finding(&id);
    c.keys("E y esc");
    let a = c.s().actions.account.clone().expect("the world");
    assert_eq!(a.collections.len(), 1, "{:?}", a.collections);
    let (inst, location, found) = &a.collections[0];
    assert_eq!(inst, &id);
    assert!(
        location.starts_with("s3://vigil-demo-evidence/"),
        "{location}"
    );
    assert!(location.ends_with(&format!("/collect/{id}/")), "{location}");
    assert!(
        found.iter().any(|l| l.contains("203.0.113.45:4444")),
        "{found:?}"
    );
    // The Run Command was followed to its end and its output recorded in the evidence store:
    // the object with its SHA-256, and the manifest record (an s3:PutObject in the audit log).
    let job = c.s().actions.jobs[0].clone();
    let run = job.command.expect("the command followed");
    assert_eq!(run.state.status, "Success");
    let note = job
        .evidence
        .first()
        .cloned()
        .expect("recorded")
        .expect("recorded without error");
    assert_eq!(note.artefacts.len(), 1, "{note:?}");
    assert!(
        note.artefacts[0]
            .key
            .ends_with("/awsrunShellScript/0.awsrunShellScript/stdout")
    );
    assert_eq!(note.artefacts[0].sha256.len(), 64);
    assert!(
        note.manifest.starts_with("s3://vigil-demo-evidence/")
            && note.manifest.contains("/manifest/"),
        "{}",
        note.manifest
    );
    assert!(
        c.s()
            .actions
            .log
            .iter()
            .any(|r| r.api.as_deref() == Some("s3:PutObject") && r.kind == "result"),
        "the manifest record is audited"
    );
    c.keys("A");
    let text = c.text();
    assert!(
        text.contains(&format!("command {} Success", run.id)),
        "{text}"
    );
    assert!(
        text.contains(&format!("sha256 {} ", &note.artefacts[0].sha256[..16])),
        "{text}"
    );
    // A snapshot's ids are recorded in the same store.
    c.keys("esc");
    c.select_instance_finding(&id);
    c.keys("S y");
    let job = c.s().actions.jobs[1].clone();
    let note = job
        .evidence
        .first()
        .cloned()
        .expect("recorded")
        .expect("no error");
    assert_eq!(note.artefacts.len(), 1, "{note:?}");
    assert!(
        note.artefacts[0].key.contains(&format!("/snapshots/{id}-")),
        "{note:?}"
    );
    c.keys("esc W");
    assert!(
        c.text().contains(&format!("Collected from {id}")),
        "{}",
        c.text()
    );
}

#[test]
fn world_screen_read_only_says_why() {
    let mut c = console(true, 80, 24);
    c.keys("W");
    assert!(c.s().view().is_none());
    assert!(c.status().contains("read-only"), "{}", c.status());
}

#[test]
fn world_screen_80x24() {
    let (mut c, _) = acted_on_web1(80, 24);
    c.keys("W");
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

#[test]
fn world_screen_80x24_scrolled_to_the_outbox() {
    let (mut c, _) = acted_on_web1(80, 24);
    c.keys("W pgdn");
    c.filters().bind(|| insta::assert_snapshot!(c.text()));
}

/// dns-c2-exfil: `B` on the C2-over-DNS finding blocks the domain it names in the instance's VPC,
/// after the domain (or its last 4) is typed; the world screen lists it.
#[test]
fn block_domain_key_on_a_dns_finding() {
    let mut c = console_for("dns-c2-exfil", false, 120, 40);
    let row = (0..c.s().list.rows.len())
        .find(|r| {
            c.s_mut().list.selected = *r;
            c.s()
                .selected_finding()
                .is_some_and(|i| c.s().findings[i].finding_type == "Backdoor:EC2/C&CActivity.B!DNS")
        })
        .expect("the C2-over-DNS finding");
    c.s_mut().list.selected = 0;
    for _ in 0..row {
        c.keys("down");
    }
    let f = &c.s().findings[c.s().selected_finding().unwrap()];
    let domain = f
        .entities
        .iter()
        .find(|e| e.kind == vigil::model::EntityKind::Domain)
        .expect("a domain in the finding")
        .value
        .clone();
    let instance = f.subject.instance.clone().unwrap().value;
    c.keys("B");
    assert!(
        c.effects().iter().any(|e| matches!(e,
            Effect::PlanAction { action: Action::BlockDomain { domain: d, instance: Some(i), .. }, .. }
                if *d == domain && *i == instance)),
        "{:?}",
        c.effects()
    );
    let Some(View::Confirm(cv)) = c.s().view() else {
        panic!("confirm expected: {}", c.status());
    };
    assert!(matches!(&cv.plan.confirm, Confirm::TypeId { id } if *id == domain));
    c.type_text(&domain[domain.len() - 4..]);
    c.keys("enter");
    assert!(
        c.status().starts_with("done: block-domain"),
        "{}",
        c.status()
    );
    let blocked = &c.s().actions.account.as_ref().unwrap().blocked;
    assert!(
        blocked.iter().any(|(d, v)| *d == domain && v.len() == 1),
        "{blocked:?}"
    );
    assert_eq!(c.runs(), 1);
}

/// The rows of the screen as drawn.
fn rows(c: &mut Console) -> Vec<String> {
    c.text()
        .lines()
        .map(|l| l.trim_matches('"').to_string())
        .collect()
}

/// The operator ARN as the confirm screen shows it, read back across the lines it wraps onto.
fn operator_shown(rows: &[String]) -> String {
    let start = rows
        .iter()
        .position(|r| r.starts_with(" as ") || r.contains(" │ as "))
        .expect("an `as` line");
    let first = rows[start].split(" as ").nth(1).unwrap_or_default();
    let mut arn = first.trim().to_string();
    for r in &rows[start + 1..] {
        // Continuation lines are indented four spaces.
        match r.strip_prefix("    ") {
            Some(more) if !more.starts_with(' ') && !more.trim().is_empty() => {
                arn.push_str(more.trim())
            }
            _ => break,
        }
    }
    arn
}

#[test]
fn confirm_screen_keeps_what_to_type_how_to_cancel_and_who_acts_whole_at_80x24() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("X");
    let Some(View::Confirm(cv)) = c.s().view().cloned() else {
        panic!("confirm screen expected")
    };
    let arn = cv.plan.operator.arn.clone();
    assert!(!arn.is_empty());
    let r = rows(&mut c);
    assert!(
        r[0].contains("us-east-1") && r[0].contains("483920174655"),
        "{}",
        r[0]
    );
    let ask = r
        .iter()
        .find(|l| l.contains("Destructive"))
        .expect("what to type");
    for whole in [id.as_str(), &id[id.len() - 4..], "enter", "esc cancels"] {
        assert!(ask.contains(whole), "{whole} in {ask:?}");
    }
    assert!(!ask.contains('…'), "{ask:?}");
    assert!(
        r.iter().any(|l| l.contains(&format!("quarantine {id}"))),
        "the target, whole"
    );
    assert_eq!(operator_shown(&r), arn, "{r:#?}");
    // The blast radius is part of deciding: each item reads back whole, wrapped, not cut.
    let screen = r.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    assert!(cv.plan.blast_radius.len() >= 2);
    for b in &cv.plan.blast_radius {
        assert!(screen.contains(b.as_str()), "{b:?} in {r:#?}");
    }

    // An operator ARN far longer than the screen is wide wraps; nothing is cut.
    let long = format!(
        "arn:aws:sts::483920174655:assumed-role/{}/{}",
        "AWSReservedSSO_IncidentResponderPermissionSet_0123456789abcdef",
        "responder.with.a.long.name@example.com"
    );
    if let Some(View::Confirm(cv)) = c.s_mut().stack.last_mut() {
        cv.plan.operator.arn = long.clone();
    }
    let r = rows(&mut c);
    assert_eq!(operator_shown(&r), long, "{r:#?}");
    assert!(r.iter().any(|l| l.contains("esc cancels")));
    insta::assert_snapshot!("confirm_screen_long_operator_80x24", c.text());
    // Scrolling the plan keeps the target and the operator in view.
    c.keys("pgdn pgdn");
    let r = rows(&mut c);
    assert!(
        !r.iter()
            .any(|l| l.contains("1. ec2:ModifyInstanceAttribute")),
        "scrolled"
    );
    assert_eq!(operator_shown(&r), long, "{r:#?}");
    assert!(r.iter().any(|l| l.contains(&format!("quarantine {id}"))));
}

#[test]
fn notify_confirm_says_both_cancel_keys_from_the_keymap() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("N");
    let r = rows(&mut c);
    let ask = r
        .iter()
        .find(|l| l.contains("confirms"))
        .expect("what to press");
    assert!(ask.contains("y confirms; n or esc cancels"), "{ask:?}");
}

/// The loop hands every envelope it applies to its tap, in sequence order, each one data (the
/// recording of the next issue): the keys, the plan that came back, the audit records, the result.
#[test]
fn every_applied_envelope_is_tapped_in_order_as_data() {
    let id = web1();
    let mut c = console(false, 80, 24);
    c.select_instance_finding(&id);
    c.keys("N y");
    let applied = c.applied.lock().unwrap().clone();
    let envs: Vec<vigil::app::Envelope> = applied
        .iter()
        .map(|t| serde_json::from_str(t).expect("an envelope reads back"))
        .collect();
    let seqs: Vec<u64> = envs.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let kinds: Vec<&str> = applied
        .iter()
        .filter_map(|t| t.split("\"msg\":\"").nth(1)?.split('"').next())
        .collect();
    for k in [
        "resize",
        "tick",
        "findings",
        "key",
        "plan_ready",
        "audit",
        "action_done",
    ] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
}

/// `H` archives the selected finding: a plan of one GuardDuty call, `y`, done; the finding leaves
/// the list (shown again with archived findings, `a`).
#[test]
fn archive_key_archives_the_finding() {
    let mut c = console(false, 80, 24);
    let i = c.s().selected_finding().expect("a finding");
    let id = c.s().findings[i].id.clone();
    let shown = c.s().list.rows.len();
    c.keys("H");
    let Some(View::Confirm(cv)) = c.s().view().cloned() else {
        panic!("confirm expected: {}", c.status())
    };
    assert_eq!(cv.plan.confirm, Confirm::Yes);
    assert_eq!(cv.plan.steps.len(), 1);
    assert_eq!(
        cv.plan.steps[0].call.iam_action(),
        "guardduty:ArchiveFindings"
    );
    c.keys("y");
    assert!(c.status().starts_with("done: archive"), "{}", c.status());
    let i = c.s().by_id[&id];
    assert!(c.s().findings[i].archived);
    assert_eq!(
        c.s().list.rows.len(),
        shown - 1,
        "the archived finding left the list"
    );
    c.keys("esc a");
    assert_eq!(c.s().list.rows.len(), shown);
}

/// Three drills scored from their recordings: the right actions quickly (full marks), the same
/// actions twenty minutes later (no points for speed), and the right actions plus quarantining
/// web-1's healthy twin (collateral). The recordings are the envelopes the loop applied, with
/// their times shifted for the slow run.
#[test]
fn drills_score_what_was_done() {
    use vigil::record::{Drill, Header};
    let sc = Scenario::load(SCENARIO).unwrap();
    let key = sc.manifest.answer_key.clone();
    let web1 = web1();
    // web-2, web-1's healthy twin: quarantining it is collateral.
    let twin = key
        .wrong_actions
        .iter()
        .find(|a| a.action == "quarantine" && a.why.contains("twin"))
        .map(|a| a.target.trim_start_matches("instance:").to_string())
        .unwrap();
    let notify_finding = key
        .right_actions
        .iter()
        .find_map(|a| a.target.strip_prefix("finding:"))
        .unwrap()
        .to_string();
    let run = |collateral: bool| -> (Header, Vec<String>) {
        let mut c = console(false, 120, 40);
        let mut header = Header::of(c.s(), NOW);
        header.drill = Some(Drill {
            scenario: SCENARIO.into(),
            time_limit_s: None,
            objectives: Vec::new(),
            hints: Vec::new(),
        });
        // Look at the key finding, notify about it, snapshot then quarantine web-1.
        let pos = (0..c.s().list.rows.len())
            .find(|r| {
                c.s_mut().list.selected = *r;
                c.s()
                    .selected_finding()
                    .is_some_and(|i| c.s().findings[i].id == notify_finding)
            })
            .unwrap();
        c.s_mut().list.selected = 0;
        for _ in 0..pos {
            c.keys("down");
        }
        c.keys("enter esc N y");
        c.keys("esc");
        c.select_instance_finding(&web1);
        c.keys("S y esc");
        c.select_instance_finding(&web1);
        c.keys("X");
        c.type_text(&web1[web1.len() - 4..]);
        c.keys("enter esc");
        if collateral {
            // It has no finding: reached through the graph, where it is the centre.
            c.keys(":");
            c.type_text(&format!("graph instance:{twin}"));
            c.keys("enter X");
            assert!(
                matches!(c.s().view(), Some(View::Confirm(_))),
                "{}",
                c.status()
            );
            c.type_text(&twin[twin.len() - 4..]);
            c.keys("enter esc");
        }
        let lines = c.applied.lock().unwrap().clone();
        (header, lines)
    };
    let score_of = |header: &Header, lines: &[String], shift_ms: u64| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drill.jsonl");
        let mut text = serde_json::to_string(header).unwrap();
        for l in lines {
            let mut env: vigil::app::Envelope = serde_json::from_str(l).unwrap();
            // The findings arrive at once; everything after them, `shift_ms` later.
            if !matches!(
                env.msg,
                Msg::Findings(_) | Msg::Indexed(_) | Msg::Resize { .. }
            ) {
                env.t_ms += shift_ms;
            }
            text.push('\n');
            text.push_str(&serde_json::to_string(&env).unwrap());
        }
        std::fs::write(&path, text).unwrap();
        vigil::console::report(&path).unwrap()
    };
    let (h, perfect) = run(false);
    let report = score_of(&h, &perfect, 0);
    assert!(report.contains("## Score: 100 / 100"), "{report}");
    assert!(
        report.contains(&format!(
            "evidence kept: instance:{web1} snapshotted before quarantine"
        )),
        "{report}"
    );
    let report = score_of(&h, &perfect, 20 * 60 * 1000);
    assert!(report.contains("## Score: 60 / 100"), "{report}");
    assert!(report.contains("+0 contained at 20:"), "{report}");
    let (h, sloppy) = run(true);
    let report = score_of(&h, &sloppy, 0);
    assert!(report.contains("## Score: 85 / 100"), "{report}");
    assert!(
        report.contains(&format!("-15 collateral: quarantine instance:{twin}")),
        "{report}"
    );
}

/// A threat-intel hit is blocked in one step: the detection the lists make over the scenario's
/// flow logs (web-1 talking to the listed exploit server) names the instance and the listed
/// address, so `L` on it plans the network ACL deny for that address in web-1's subnet.
#[test]
fn block_ip_on_a_threat_intel_hit() {
    let sc = Scenario::load(SCENARIO).expect("scenario");
    let intel = sc.threat_intel().expect("the scenario's list");
    let mut net = vigil::hunt::NetIntel::new(intel);
    net.add_flows(&sc.evidence.flows);
    let found = net.detections();
    let hit = found
        .iter()
        .find(|d| d.entities.iter().any(|e| e.value == "203.0.113.45"))
        .expect("a detection of the listed exploit server")
        .to_finding();
    let mut c = console(false, 120, 40);
    c.send(Msg::Detections(found.clone()));
    let row = (0..c.s().list.rows.len())
        .find(|r| {
            c.s_mut().list.selected = *r;
            c.s()
                .selected_finding()
                .is_some_and(|i| c.s().findings[i].id == hit.id)
        })
        .expect("the hit in the list");
    c.s_mut().list.selected = 0;
    for _ in 0..row {
        c.keys("down");
    }
    c.keys("L");
    let Some(View::Confirm(cv)) = c.s().view() else {
        panic!("confirm expected: {}", c.status())
    };
    assert_eq!(
        cv.plan.action.target(),
        "203.0.113.45",
        "{:?}",
        cv.plan.action
    );
    c.type_text("203.0.113.45");
    c.keys("enter");
    let a = c.s().actions.account.clone().expect("the world");
    assert!(
        a.acl_denies
            .iter()
            .any(|(_, _, _, cidr)| cidr == "203.0.113.45/32"),
        "{:?}",
        a.acl_denies
    );
}
