//! `bench load DIR [--hunt]`: the console's own load of DIR (the file loader on the bus, the
//! reducer applying each message) — when the first index segment makes the trail searchable, when
//! the load is complete (index and graph), with `--hunt` when the bundled rules' detections
//! arrive (the hunt runs once the trail is indexed), and the peak RSS.

use std::path::PathBuf;
use std::time::Instant;
use vigil::app::state::{IndexState, Options, State};
use vigil::app::{Keymap, Msg, update};
use vigil::console::{Bus, FileSources, load_files};

pub fn run(mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let Some(dir) = args.next().map(PathBuf::from) else {
        anyhow::bail!("usage: bench load DIR [--hunt]");
    };
    let hunt = args.next().as_deref() == Some("--hunt");
    let t = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let bus = Bus::new(tx);
    let loader = std::thread::spawn(move || {
        load_files(
            &bus,
            FileSources {
                findings: Vec::new(),
                evidence: vec![dir],
                s3: Vec::new(),
                hunt: hunt.then(vigil::console::HuntSetup::bundled),
            },
        )
    });
    let mut s = State::new(Options::default(), Keymap::default_map()?);
    let (mut first, mut parts, mut complete) = (None, 0usize, None);
    while let Some(env) = rx.blocking_recv() {
        let part = matches!(env.msg, Msg::IndexedPart(_));
        let done = matches!(env.msg, Msg::Indexed(_));
        update(&mut s, env.msg);
        if part {
            parts += 1;
            first.get_or_insert(t.elapsed());
        }
        if done {
            complete = Some(t.elapsed());
            if !hunt {
                break;
            }
        }
    }
    let total = complete.unwrap_or_else(|| t.elapsed());
    let _ = loader.join();
    if hunt {
        println!(
            "hunt: {} detections, the last message {:.2}s after the start",
            s.findings.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let events = s.index.as_ref().map_or(0, |i| i.len());
    println!(
        "load: {events} events in {parts} segments; first searchable {:.2}s, complete {:.2}s ({}); peak RSS {:.0} MiB",
        first.map_or(0.0, |d| d.as_secs_f64()),
        total.as_secs_f64(),
        match s.index_state {
            IndexState::Ready { .. } => "ready",
            _ => "not ready",
        },
        super::index::peak_rss_mib()
    );
    Ok(())
}
