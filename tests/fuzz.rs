//! A seeded fuzz test over every input format and every output, run with the suite.
//!
//! Records from tests/fixtures/ (GuardDuty in each envelope, CloudTrail shapes, flow logs v2–v5,
//! Resolver logs) are mutated (byte flips, truncation, splices, wrong types, huge values, control
//! characters, deep nesting, gzip wrapping) and fed through the library functions the CLI calls,
//! in-process; a sample also goes through the real binary. Asserted: no panic, no raw control
//! character in any text output, JSON outputs that parse, and bounded peak memory of the binary.
//!
//! Replay a failure with the seed it prints: `VIGIL_FUZZ_SEED=… cargo test --test fuzz`
//! (`VIGIL_FUZZ_CASES=N` changes how many cases run). If the process itself dies (a stack
//! overflow cannot be caught), the case being run is in `$CARGO_TARGET_TMPDIR/fuzz-last-case`.

#[path = "fuzz/generator.rs"]
mod generator;

use generator::{Rng, corpus, generate};
use serde_json::Value;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::Command;
use vigil::graph::{EntityGraph, groups};
use vigil::ingest::{self, errors::ErrorSummary};
use vigil::model::EntityId;
use vigil::model::text::{self, has_raw_control};
use vigil::{pivot, report};

const DEFAULT_SEED: u64 = 0x7669_6769_6c21_0009;
const DEFAULT_CASES: u64 = 3000;
/// One case in this many also runs through the binary.
const BINARY_EVERY: usize = 150;
/// The binary's peak resident set over every sampled case. Inputs stay under ~4 MiB, and the
/// binary peaked at 37 MiB on them (2026-12-02), so a process that keeps memory near what it
/// holds stays well under this.
const MAX_CHILD_RSS_MIB: i64 = 128;

/// An entity worth pivoting on or graphing around: one the input produced, else a fixed one.
fn targets(r: &mut Rng, graph: &EntityGraph) -> (EntityId, EntityId) {
    let ids = graph.entity_ids();
    let fallback = EntityId::parse("ip:203.0.113.7").unwrap();
    let pick = |r: &mut Rng| {
        if ids.is_empty() {
            fallback.clone()
        } else {
            (*r.pick(&ids)).clone()
        }
    };
    (pick(r), pick(r))
}

/// Every output the CLI writes for `path`, produced by the same library calls as main.rs.
fn outputs(r: &mut Rng, path: &Path) -> Vec<(&'static str, String)> {
    let paths = [path.to_path_buf()];
    let loaded = ingest::load(&paths).unwrap();
    let graph = EntityGraph::from_loaded(&loaded);
    let groups = groups::compute(&loaded.findings);
    let summary = || ErrorSummary::new(&loaded.errors, false);
    let mut out = vec![
        (
            "analyze json",
            text::to_string(&report::analysis(&loaded, &graph, &groups, &summary())).unwrap(),
        ),
        (
            "analyze markdown",
            report::markdown(&loaded, &graph, &groups, &summary()),
        ),
        ("stderr", summary().lines().join("\n")),
    ];
    let (pivot_target, graph_target) = targets(r, &graph);
    let res = pivot::scan(&paths, &pivot_target, pivot::Window::all()).unwrap();
    let mut table = Vec::new();
    report::write_pivot_table(&res, &mut table).unwrap();
    out.push(("pivot table", String::from_utf8(table).unwrap()));
    let jsonl: Vec<String> = res
        .events
        .iter()
        .map(|h| text::json_raw(&h.raw.text().unwrap()).into_owned())
        .collect();
    out.push(("pivot jsonl", jsonl.join("\n")));
    let scan_errors = ErrorSummary::new(&res.errors, false).lines().join("\n");
    out.push(("pivot stderr", scan_errors));
    if let Some(n) = graph.neighbourhood(&graph_target, 1 + r.below(2) as u32) {
        out.push(("graph dot", report::dot(&n)));
        out.push(("graph mermaid", report::mermaid(&n)));
        out.push(("graph json", text::to_string(&n).unwrap()));
    }
    out
}

fn check(outputs: &[(&'static str, String)]) -> Result<(), String> {
    for (name, text) in outputs {
        if has_raw_control(text.as_bytes()) {
            return Err(format!("raw control character in {name}:\n{text:?}"));
        }
        if name.ends_with("json") && serde_json::from_str::<Value>(text).is_err() {
            return Err(format!("{name} is not valid JSON:\n{text}"));
        }
        if *name == "pivot jsonl" {
            for line in text.lines() {
                // A record passed through stays one valid JSON line. Checked as syntax only
                // (IgnoredAny has no depth limit): records may nest deeper than a Value can.
                if serde_json::from_str::<serde::de::IgnoredAny>(line).is_err() {
                    return Err(format!("pivot jsonl line is not JSON: {line}"));
                }
            }
        }
    }
    Ok(())
}

/// Runs the binary over `path` with every output format; checks what reached stdout and stderr.
fn through_binary(dir: &Path, name: &str, target: &EntityId, peak: &mut i64) -> Result<(), String> {
    let target = target.to_string();
    let runs: Vec<Vec<&str>> = vec![
        vec!["analyze", "--findings", name, "--format", "json"],
        vec!["analyze", "--findings", name, "--format", "markdown"],
        vec!["pivot", &target, "--trail", name, "--format", "table"],
        vec!["pivot", &target, "--trail", name, "--format", "jsonl"],
        vec!["graph", &target, "--findings", name, "--format", "dot"],
        vec!["graph", &target, "--findings", name, "--format", "mermaid"],
    ];
    for args in runs {
        if target.contains('\0') && args.contains(&target.as_str()) {
            continue;
        }
        let (out, rss) = run_measured(dir, &args).map_err(|e| format!("{args:?}: {e}"))?;
        *peak = (*peak).max(rss);
        match out.status.code() {
            Some(0) | Some(2) => {}
            other => {
                return Err(format!(
                    "{args:?} exited with {other:?} (101 is a panic):\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if has_raw_control(bytes) {
                return Err(format!(
                    "{args:?}: raw control on {stream}: {:?}",
                    String::from_utf8_lossy(bytes)
                ));
            }
        }
    }
    Ok(())
}

/// Starts the program it is given as its own child, waits for it, and writes the child's wait
/// status and peak resident set (KiB) to the file named first.
const MEASURE: &str = r#"
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{status} {usage.ru_maxrss}")
"#;

/// Runs the binary with `args` in `dir` to its end, its output captured, and returns the output
/// and the binary's own peak resident set in MiB.
///
/// The binary is started by a small helper process rather than by this one. Linux carries a
/// process's peak RSS across `exec` (the kernel takes the peak of the memory the process had
/// before it, and a spawned child had this process's, shared until the exec), so `wait4` on a
/// direct child reports at least this test process's own peak: the integration binary runs
/// every test in one process, and whatever the others held was measured as the binary's.
/// The helper's child starts from the helper's few MiB.
fn run_measured(dir: &Path, args: &[&str]) -> std::io::Result<(std::process::Output, i64)> {
    use std::os::unix::process::ExitStatusExt;
    let report = tempfile::NamedTempFile::new()?;
    let mut output = Command::new("python3")
        .args(["-c", MEASURE])
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()?;
    if !output.status.success() {
        return Err(std::io::Error::other(format!(
            "the measuring helper failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let text = std::fs::read_to_string(report.path())?;
    let mut fields = text.split_whitespace().map(str::parse::<i64>);
    let (Some(Ok(status)), Some(Ok(kib))) = (fields.next(), fields.next()) else {
        return Err(std::io::Error::other(format!(
            "the measuring helper wrote {text:?}"
        )));
    };
    output.status = std::process::ExitStatus::from_raw(status as i32);
    // Linux reports ru_maxrss in KiB.
    Ok((output, kib / 1024))
}

fn env_u64(var: &str, default: u64) -> u64 {
    let Ok(v) = std::env::var(var) else {
        return default;
    };
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("{var}={v}: not a number"))
}

#[test]
fn mutated_inputs_never_panic_leak_controls_or_grow_memory() {
    let seed = env_u64("VIGIL_FUZZ_SEED", DEFAULT_SEED);
    let cases = env_u64("VIGIL_FUZZ_CASES", DEFAULT_CASES) as usize;
    let corpus = corpus();
    assert!(
        corpus.len() > 100,
        "the fixtures give a corpus: {}",
        corpus.len()
    );
    let last_case = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-last-case");
    let tmp = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let (mut bytes_total, mut binary_runs, mut rss) = (0usize, 0usize, 0i64);
    // Panics are expected to be caught and reported with the seed, not printed per case.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failure = None;
    for case in 0..cases {
        let mut r = Rng(seed ^ (case as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let replay = format!("VIGIL_FUZZ_SEED={seed:#x}, case {case} of {cases}");
        let _ = std::fs::write(&last_case, &replay);
        let (bytes, name) = generate(&mut r, &corpus);
        bytes_total += bytes.len();
        let dir = tmp.path().join(format!("c{case}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&name);
        std::fs::write(&path, &bytes).unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| outputs(&mut r, &path)))
            .map_err(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                format!("panic: {msg}")
            })
            .and_then(|outs| check(&outs));
        let result = result.and_then(|()| {
            if case % BINARY_EVERY != 0 {
                return Ok(());
            }
            binary_runs += 1;
            let loaded = ingest::load(std::slice::from_ref(&path)).unwrap();
            let graph = EntityGraph::from_loaded(&loaded);
            let (target, _) = targets(&mut r, &graph);
            through_binary(&dir, &name, &target, &mut rss)
        });
        if let Err(e) = result {
            failure = Some(format!(
                "fuzz case failed ({replay}); input kept at {}:\n{e}",
                path.display()
            ));
            break;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::panic::set_hook(hook);
    if let Some(f) = failure {
        // Keep the input for a look after the test.
        let kept = tmp.keep();
        panic!("{f}\n(inputs under {})", kept.display());
    }
    println!(
        "seed {seed:#x}: {cases} cases from {} seed records, {bytes_total} input bytes, \
         {binary_runs} through the binary, {:.1} s; binary peak RSS {rss} MiB",
        corpus.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(binary_runs > 0);
    assert!(
        rss < MAX_CHILD_RSS_MIB,
        "the binary's peak RSS was {rss} MiB (seed {seed:#x})"
    );
}
