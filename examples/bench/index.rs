//! Benchmarks the pivot index the console keeps: build it from a CloudTrail directory, then time
//! further pivots (postings lookup plus fetching every row's fields).
//!
//! ```text
//! cargo run --release --example bench -- index DIR [ENTITY...]
//! ```
//!
//! Without entities it pivots on the ones `gen_trail` wrote to `DIR/.pivots` (frequent IP, rare IP,
//! instance, role). Prints build time, peak RSS, per-entity p50/p99 query latency and the time to
//! count an entity's activity for its profile (the fastest of ten, and their median).

use std::path::PathBuf;
use std::time::Instant;
use vigil::model::EntityId;
use vigil::pivot::{TrailIndex, Window};

/// Peak resident set size of this process so far, in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn pivots_from(dir: &std::path::Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join(".pivots")).unwrap_or_default();
    let mut out = Vec::new();
    for kv in text.split_whitespace() {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let spec = match k {
            "frequent_ip" | "rare_ip" => format!("ip:{v}"),
            "instance" => format!("instance:{v}"),
            "role" => format!("role:{v}"),
            _ => continue,
        };
        out.push((k.to_string(), spec));
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn run(mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let Some(dir) = args.next().map(PathBuf::from) else {
        anyhow::bail!("usage: bench_index DIR [ENTITY...]");
    };
    let mut targets: Vec<(String, String)> = args.map(|a| (a.clone(), a)).collect();
    if targets.is_empty() {
        targets = pivots_from(&dir);
    }

    let t = Instant::now();
    let mut index = TrailIndex::new();
    let template = index.part();
    let mut errors = 0usize;
    // As the console does: each part indexed on the loader's threads, joined here.
    vigil::ingest::load_streaming_with(
        std::slice::from_ref(&dir),
        |part| {
            let mut ix = template.part();
            ix.add_all(&part.events);
            (part.errors.len(), ix)
        },
        |_, (errs, ix)| {
            errors += errs;
            index.append(ix);
        },
    )?;
    let loaded = t.elapsed();
    index.finish();
    let built = t.elapsed();
    println!(
        "index: {} events, {} errors; load+add {:.2}s, finish {:.2}s, total {:.2}s; peak RSS {:.0} MiB",
        index.len(),
        errors,
        loaded.as_secs_f64(),
        (built - loaded).as_secs_f64(),
        built.as_secs_f64(),
        peak_rss_mib()
    );

    let mut worst_p99 = 0.0f64;
    for (label, spec) in &targets {
        let entity = EntityId::parse(spec).map_err(|e| anyhow::anyhow!("{spec}: {e}"))?;
        let rounds = 200;
        let mut ms = Vec::with_capacity(rounds);
        let mut hits = 0usize;
        let mut checksum = 0u64;
        for _ in 0..rounds {
            let q = Instant::now();
            let rows = index.pivot(&entity, Window::all());
            // What a view does with the result: every row's fields, resolved to text.
            for r in rows {
                if let Some(row) = index.row(*r) {
                    checksum = checksum
                        .wrapping_add(row.time.millis() as u64)
                        .wrapping_add(index.str(row.name).len() as u64)
                        .wrapping_add(index.str(row.principal).len() as u64)
                        .wrapping_add(index.str(row.source_ip).len() as u64);
                }
            }
            hits = rows.len();
            ms.push(q.elapsed().as_secs_f64() * 1e3);
        }
        ms.sort_by(f64::total_cmp);
        let (p50, p99) = (percentile(&ms, 0.5), percentile(&ms, 0.99));
        worst_p99 = worst_p99.max(p99);
        println!(
            "pivot {label:<12} {hits:>7} rows  p50 {p50:.3} ms  p99 {p99:.3} ms  (checksum {checksum:x})"
        );
        // What opening the entity's profile counts (`TrailIndex::activity`): the fastest of ten
        // and their median, this machine's speed varying from moment to moment.
        let mut events = 0;
        let mut ms: Vec<f64> = (0..10)
            .map(|_| {
                let q = Instant::now();
                events = index.activity(&entity).map_or(0, |a| a.events);
                q.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "profile {label:<10} {events:>7} events  {:.1} ms (median {:.1} ms)",
            ms[0],
            percentile(&ms, 0.5)
        );
    }
    println!(
        "QUERY worst_p99_ms={worst_p99:.3} build_s={:.2} peak_rss_mib={:.0}",
        built.as_secs_f64(),
        peak_rss_mib()
    );
    Ok(())
}
