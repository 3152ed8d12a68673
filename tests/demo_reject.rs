//! Demo: once the demo responder quarantines an instance, that instance's later flow-log lines in
//! the scenario say REJECT (earlier lines, and other instances' lines, keep their own action).

use std::collections::BTreeMap;
use vigil::actions::plan::PlanContext;
use vigil::actions::{self, Action, AuditLog, ExecOptions};
use vigil::demo::{Scenario, responder::DemoResponder};
use vigil::model::Ts;

#[test]
fn later_flow_lines_of_a_quarantined_instance_show_reject() {
    let sc = Scenario::load("log4shell-c2").unwrap();
    let mut flows = sc.evidence.flows.clone();
    let mut demo = DemoResponder::for_scenario(&sc).unwrap();
    // web-1: the two-ENI instance with flow-log lines.
    let (id, enis) = demo
        .world
        .instances
        .iter()
        .filter(|i| i.enis.len() == 2)
        .map(|i| {
            (
                i.instance_id.clone(),
                i.enis.iter().map(|e| e.eni_id.clone()).collect::<Vec<_>>(),
            )
        })
        .find(|(_, enis)| {
            flows
                .iter()
                .any(|r| r.interface_id.as_ref().is_some_and(|e| enis.contains(e)))
        })
        .expect("an instance with flow-log lines");
    let ours =
        |r: &vigil::model::FlowRecord| r.interface_id.as_ref().is_some_and(|e| enis.contains(e));
    let mut times: Vec<i64> = flows
        .iter()
        .filter(|r| ours(r))
        .filter_map(|r| r.start.map(|t| t.0))
        .collect();
    times.sort_unstable();
    // Quarantine halfway through the instance's traffic (scenario time).
    let at = Ts(times[times.len() / 2]);
    demo.clock = Some(Box::new(move || at));

    let action = Action::Quarantine {
        instance: id.clone(),
    };
    let facts = actions::gather(&action, &mut demo).unwrap();
    let ctx = PlanContext {
        case: "case-reject".into(),
        now: at,
        findings: BTreeMap::new(),
        ..PlanContext::default()
    };
    let plan = actions::plan(&action, &facts, &ctx).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut log = AuditLog::open(&dir.path().join("a.jsonl")).unwrap();
    let report = actions::execute(&plan, &mut demo, &mut log, &ExecOptions::default()).unwrap();
    assert!(report.succeeded(), "{}", report.render());
    assert_eq!(demo.world.quarantines.len(), 2, "both ENIs are isolated");
    assert!(demo.world.quarantines.iter().all(|q| q.at == Some(at)));

    let before = flows.clone();
    let changed = demo.world.apply_quarantines(&mut flows);
    assert!(changed > 0);
    for (old, new) in before.iter().zip(&flows) {
        let later = old.start.is_some_and(|t| t >= at);
        if ours(old) && later {
            assert_eq!(new.action.as_deref(), Some("REJECT"), "{new:?}");
        } else {
            assert_eq!(new.action, old.action, "{new:?}");
        }
    }
    // Some of the instance's lines before the quarantine were accepted, and stay so.
    assert!(flows.iter().any(|r| ours(r)
        && r.start.is_some_and(|t| t < at)
        && r.action.as_deref() == Some("ACCEPT")));

    // Release: the ENIs get their groups back, and are no longer isolated.
    let release = Action::Release {
        instance: id,
        unprotect: false,
    };
    let facts = actions::gather(&release, &mut demo).unwrap();
    let plan = actions::plan(&release, &facts, &ctx).unwrap();
    let report = actions::execute(&plan, &mut demo, &mut log, &ExecOptions::default()).unwrap();
    assert!(report.succeeded(), "{}", report.render());
    assert!(demo.world.quarantines.is_empty());
}
