//! Frame render time at 200×60 into a TestBackend with 100 000 findings and a large CloudTrail
//! index loaded. Prints p50/p99/max per screen.
//!
//!     cargo run --release --example bench -- render [FINDINGS EVENTS]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::Instant;
use vigil::app::state::{Options, State};
use vigil::app::{Indexed, Key, Keymap, Msg, update};
use vigil::graph::EntityGraph;
use vigil::model::{EntityId, EntityKind, Ts};
use vigil::pivot::TrailIndex;

pub fn run(mut args: impl Iterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let n_findings: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let n_events: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tui");
    let base = vigil::ingest::load(&[dir.join("findings.json")])?;
    let ev = vigil::ingest::load(&[dir.join("trail.json")])?;

    let t0 = Instant::now();
    let mut findings = Vec::with_capacity(n_findings);
    for i in 0..n_findings {
        let mut f = base.findings[i % base.findings.len()].clone();
        f.id = format!("{i:032x}");
        f.severity = (i % 90) as f64 / 10.0;
        f.last_seen = f.last_seen.map(|t| Ts(t.0 - (i as i64) * 1000));
        // Distinct resources so groups stay small, as in a large real account.
        let inst = format!("i-{:017x}", i);
        f.resource = inst.clone();
        f.entities = vec![EntityId::new(EntityKind::Instance, inst)];
        f.subject.instance = f.entities.first().cloned();
        findings.push(f);
    }
    let mut index = TrailIndex::new();
    let mut graph = EntityGraph::default();
    for i in 0..n_events {
        let mut e = ev.events[i % ev.events.len()].clone();
        e.event_id = format!("{i:012}");
        e.time = Ts(e.time.0 + (i as i64) * 10);
        if i < 50_000 {
            graph.add_event(&e);
        }
        index.add(e);
    }
    index.finish();
    println!(
        "built {n_findings} findings and {n_events} indexed events in {:.1}s",
        t0.elapsed().as_secs_f64()
    );

    let mut s = State::new(Options::default(), Keymap::default_map()?);
    update(
        &mut s,
        Msg::Resize {
            width: 200,
            height: 60,
        },
    );
    update(
        &mut s,
        Msg::Tick {
            now: Ts(1_714_564_800_000),
        },
    );
    let t1 = Instant::now();
    update(&mut s, Msg::Findings(findings));
    println!(
        "reducer: 100k findings batch applied in {:.0} ms",
        t1.elapsed().as_secs_f64() * 1e3
    );
    update(
        &mut s,
        Msg::Indexed(Box::new(Indexed {
            evidence: vigil::app::EvidenceRef::Inline {
                label: "bench_render".into(),
            },
            findings: 0,
            events: n_events,
            elapsed_ms: 0,
            parts: 0,
            built: Some(Box::new(vigil::app::Built { index, graph })),
        })),
    );

    let mut term = Terminal::new(TestBackend::new(200, 60))?;
    let screens: &[(&str, &[&str])] = &[
        ("findings", &[]),
        ("detail", &["enter"]),
        ("trail (actor ip, all events)", &["esc", "i"]),
        ("help", &["?"]),
    ];
    for (name, keys) in screens {
        for k in *keys {
            if let Some(key) = Key::parse(k) {
                update(&mut s, Msg::Key(key));
            }
        }
        let mut times = Vec::with_capacity(1000);
        let mut key_to_frame = Vec::with_capacity(1000);
        for i in 0..1000 {
            // Move the cursor so frames differ, as they do while an operator scrolls. The key's
            // time covers the reducer and the draw: key press to redrawn frame.
            let k = if i % 2 == 0 { "down" } else { "up" };
            let pressed = Instant::now();
            if let Some(key) = Key::parse(k) {
                update(&mut s, Msg::Key(key));
            }
            let t = Instant::now();
            term.draw(|f| vigil::views::render(&s, f))?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            key_to_frame.push(pressed.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        key_to_frame.sort_by(f64::total_cmp);
        println!(
            "{name:<30} render p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms │ key→frame p99 {:.3} ms",
            times[500], times[990], times[999], key_to_frame[990]
        );
    }
    Ok(())
}
