//! `bench hunt DIR`: the bundled rules over DIR (the two halves timed apart: matching on all
//! cores, then correlation in time order) against one pivot of the generator's frequent address
//! over the same files, and the ratio the hunting issue sets (≤ 2).

use std::path::PathBuf;
use std::time::Instant;
use vigil::hunt::{Hunter, RuleSet};
use vigil::model::{EntityId, EntityKind};
use vigil::pivot::{Window, scan};

pub fn run(mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let Some(dir) = args.next().map(PathBuf::from) else {
        anyhow::bail!("usage: bench hunt DIR");
    };
    let pivots = std::fs::read_to_string(dir.join(".pivots"))?;
    let ip = pivots
        .split_whitespace()
        .find_map(|w| w.strip_prefix("frequent_ip="))
        .ok_or_else(|| anyhow::anyhow!("{}: no frequent_ip", dir.display()))?;
    let paths = vec![dir.clone()];
    let target = EntityId::new(EntityKind::Ip, ip);
    let window = Window::default();
    let t = Instant::now();
    let hits = scan(&paths, &target, window)?;
    let pivot_s = t.elapsed().as_secs_f64();
    let hunter = Hunter::new(&RuleSet::bundled());
    let (rules, remembered, gated, keyed, correlations) = (
        hunter.rules,
        hunter.remembered,
        hunter.gated,
        hunter.keyed_rules,
        hunter.correlations,
    );
    let t = Instant::now();
    let matches = hunter.scan(&paths, window)?;
    let scan_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let res = hunter.correlate(matches);
    let correlate_s = t.elapsed().as_secs_f64();
    let hunt_s = scan_s + correlate_s;
    println!(
        "pivot ip:{ip}: {} matches of {} records in {pivot_s:.2} s",
        hits.events.len(),
        hits.records
    );
    println!(
        "hunt: {} detections of {} records: scan {scan_s:.2} s, correlate {correlate_s:.2} s",
        res.detections.len(),
        res.records
    );
    println!(
        "rules: {rules}, of which {remembered} remembered by what was called, {gated} gated by it and {keyed} remembered by the fields they read; {correlations} correlations"
    );
    println!(
        "HUNT hunt_s={hunt_s:.2} pivot_s={pivot_s:.2} ratio={:.2}",
        hunt_s / pivot_s
    );
    Ok(())
}
