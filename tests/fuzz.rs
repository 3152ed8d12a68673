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

use assert_cmd::Command;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use vigil::graph::{EntityGraph, groups};
use vigil::ingest::{self, errors::ErrorSummary};
use vigil::model::EntityId;
use vigil::model::text::{self, has_raw_control};
use vigil::{pivot, report};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/public");
const DEFAULT_SEED: u64 = 0x7669_6769_6c21_0009;
const DEFAULT_CASES: u64 = 3000;
/// One case in this many also runs through the binary.
const BINARY_EVERY: usize = 150;
/// The binary's peak resident set over every sampled case. Inputs stay under ~4 MiB, so a
/// process that keeps memory near what it holds stays well under this.
const MAX_CHILD_RSS_MIB: i64 = 400;

/// splitmix64: tiny, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A seed record: a JSON value (with the envelope it came in) or a flow log (header and lines).
#[derive(Clone)]
enum Unit {
    Json(Value),
    Flow { header: String, lines: Vec<String> },
}

fn corpus() -> Vec<Unit> {
    let mut files = Vec::new();
    collect(Path::new(FIX), &mut files);
    let mut units = Vec::new();
    for f in files {
        let name = f.to_string_lossy().to_string();
        if name.ends_with(".md") || name.ends_with("_manifest.json") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        if name.ends_with(".log") {
            let mut lines = text.lines().map(str::to_string);
            if let Some(header) = lines.next() {
                units.push(Unit::Flow {
                    header,
                    lines: lines.filter(|l| !l.trim().is_empty()).collect(),
                });
            }
            continue;
        }
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            explode(v, &mut units);
        } else {
            // JSON Lines: every line a record (a few per file is plenty).
            for l in text.lines().take(40) {
                if let Ok(v) = serde_json::from_str::<Value>(l) {
                    explode(v, &mut units);
                }
            }
        }
    }
    units
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect(&e, out);
        } else {
            out.push(e);
        }
    }
}

/// Containers become their records (each re-wrapped later in a random envelope); the rest stays.
fn explode(v: Value, units: &mut Vec<Unit>) {
    for key in ["Records", "findings", "Findings", "Events"] {
        if let Some(items) = v.get(key).and_then(Value::as_array) {
            units.extend(items.iter().take(40).cloned().map(Unit::Json));
            return;
        }
    }
    match v {
        Value::Array(items) => units.extend(items.into_iter().take(40).map(Unit::Json)),
        other => units.push(Unit::Json(other)),
    }
}

const CONTROLS: [&str; 9] = [
    "\u{1b}[2J",
    "\u{7}",
    "\u{8}",
    "\0",
    "\u{9b}31m",
    "\u{7f}",
    "\u{1b}]0;pwned\u{7}",
    "\r",
    "\u{85}",
];

fn hostile_string(r: &mut Rng) -> String {
    let mut s = String::from("x");
    for _ in 0..=r.below(4) {
        let c: &&str = r.pick(&CONTROLS);
        s.push_str(c);
        s.push('y');
    }
    s
}

fn huge_value(r: &mut Rng) -> Value {
    match r.below(6) {
        0 => Value::String("A".repeat(1 << (10 + r.below(10)))),
        1 => json!(u64::MAX),
        2 => json!(i64::MIN),
        3 => json!(1.0e300),
        4 => Value::Array((0..r.below(5000)).map(|i| json!(i)).collect()),
        _ => Value::String(format!("{}-{}", "9".repeat(30), hostile_string(r))),
    }
}

fn wrong_type(r: &mut Rng, v: &Value) -> Value {
    let choices = [
        json!(null),
        json!(true),
        json!(-1),
        json!(0.5),
        json!("string"),
        json!([]),
        json!({}),
        json!([{"a": 1}]),
        json!("2024-02-30T24:60:00+99:99"),
    ];
    let mut out = r.pick(&choices).clone();
    // Keep the wrong type wrong.
    if std::mem::discriminant(&out) == std::mem::discriminant(v) {
        out = json!({"was": v.clone()});
    }
    out
}

/// The number of nodes under `v`, to pick one at random.
fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Calls `f` on node `n` of `v` in depth-first order (0 is `v` itself).
fn at_nth(v: &mut Value, n: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
    if *n == 0 {
        f(v);
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| at_nth(x, n, f)),
        Value::Object(o) => o.values_mut().any(|x| at_nth(x, n, f)),
        _ => false,
    }
}

/// Replaces a random node of `v` (never the root of a record, so the record stays a record).
fn mutate_node(r: &mut Rng, v: &mut Value, nests: &mut Vec<String>) {
    let total = count(v);
    if total < 2 {
        return;
    }
    let mut n = 1 + r.below(total - 1);
    at_nth(v, &mut n, &mut |node| *node = mutation(r, node, nests));
}

fn mutation(r: &mut Rng, node: &Value, nests: &mut Vec<String>) -> Value {
    match r.below(5) {
        0 => wrong_type(r, node),
        1 => huge_value(r),
        2 => match node {
            Value::String(s) => Value::String(format!("{s}{}", hostile_string(r))),
            _ => Value::String(hostile_string(r)),
        },
        3 => {
            // Deep nesting is spliced in as text after serialisation: building it as a Value
            // would overflow this test's own stack when serialised.
            let depth = [64, 127, 129, 500, 5000][r.below(5)];
            let (open, close) = if r.chance(50) {
                ("[", "]")
            } else {
                ("{\"a\":", "}")
            };
            nests.push(format!("{}1{}", open.repeat(depth), close.repeat(depth)));
            Value::String(format!("__vigil_nest_{}__", nests.len() - 1))
        }
        _ => {
            // Controls appended to every string member of an object.
            let mut out = node.clone();
            if let Value::Object(o) = &mut out {
                for v in o.values_mut() {
                    if let Value::String(s) = v {
                        s.push_str(&hostile_string(r));
                    }
                }
            }
            out
        }
    }
}

fn envelope(r: &mut Rng, records: Vec<Value>) -> Vec<u8> {
    let pretty = r.chance(30);
    let ser = |v: &Value| {
        if pretty {
            serde_json::to_vec_pretty(v).unwrap()
        } else {
            serde_json::to_vec(v).unwrap()
        }
    };
    match r.below(9) {
        0 => ser(&json!({"Records": records})),
        1 => ser(&json!({"findings": records})),
        2 => ser(&json!({"Findings": records})),
        3 => ser(&json!({"Events": records.iter().map(|v| json!({
            "EventId": "x", "CloudTrailEvent": v.to_string()})).collect::<Vec<_>>()})),
        4 => ser(&json!(
            records
                .iter()
                .map(
                    |d| json!({"version": "0", "detail-type": "GuardDuty Finding",
                "source": "aws.guardduty", "detail": d})
                )
                .collect::<Vec<_>>()
        )),
        5 => ser(&json!(
            records
                .iter()
                .map(|d| json!({"detail-type": "AWS API Call via CloudTrail", "detail": d}))
                .collect::<Vec<_>>()
        )),
        6 => ser(&Value::Array(records)),
        _ => {
            let mut out = Vec::new();
            for v in &records {
                out.extend(serde_json::to_vec(v).unwrap());
                out.push(b'\n');
            }
            out
        }
    }
}

fn flow_text(r: &mut Rng, header: &str, lines: &[String]) -> Vec<u8> {
    let mut out = String::new();
    if !r.chance(10) {
        out.push_str(header);
        out.push('\n');
    }
    for _ in 0..=r.below(6) {
        let Some(line) = lines.get(r.below(lines.len())) else {
            break;
        };
        let mut fields: Vec<String> = line.split(' ').map(str::to_string).collect();
        for _ in 0..r.below(3) {
            let i = r.below(fields.len());
            fields[i] = match r.below(7) {
                0 => hostile_string(r),
                1 => "99999999999999999999999".to_string(),
                // Fits an i64 as seconds, not as milliseconds.
                6 => [
                    "9999999999999999",
                    "-9223372036854775808",
                    "9223372036854775",
                ][r.below(3)]
                .to_string(),
                2 => "-1".to_string(),
                3 => String::new(),
                4 => "9".repeat(1 << r.below(16)),
                _ => "2024-02-30T24:00:00Z".to_string(),
            };
        }
        if r.chance(10) {
            fields.truncate(r.below(fields.len()));
        }
        out.push_str(&fields.join(" "));
        out.push('\n');
    }
    out.into_bytes()
}

fn byte_mutations(r: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..r.below(3) {
        if bytes.is_empty() {
            return;
        }
        match r.below(5) {
            0 => {
                let i = r.below(bytes.len());
                bytes[i] ^= 1 << r.below(8);
            }
            1 => bytes.truncate(r.below(bytes.len())),
            2 if !other.is_empty() => {
                let at = r.below(bytes.len());
                let from = r.below(other.len());
                let len = r.below(other.len() - from + 1).min(4096);
                bytes.splice(at..at, other[from..from + len].iter().copied());
            }
            3 => {
                let at = r.below(bytes.len());
                let c = r.pick(&CONTROLS).as_bytes().to_vec();
                bytes.splice(at..at, c);
            }
            _ => {
                let i = r.below(bytes.len());
                bytes[i] = r.next() as u8;
            }
        }
    }
}

fn gzip(r: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    let mut gz = enc.finish().unwrap();
    match r.below(4) {
        0 => gz.truncate(r.below(gz.len())),
        1 => {
            // A second member, as concatenated S3 objects have.
            let again = gz.clone();
            gz.extend(again);
        }
        _ => {}
    }
    gz
}

/// One generated input: its bytes and a file name (sometimes hostile itself).
fn generate(r: &mut Rng, corpus: &[Unit]) -> (Vec<u8>, String) {
    let unit = r.pick(corpus).clone();
    let mut nests = Vec::new();
    let mut bytes = match unit {
        Unit::Flow { header, lines } => flow_text(r, &header, &lines),
        Unit::Json(first) => {
            let mut records = vec![first];
            for _ in 0..r.below(3) {
                if let Unit::Json(v) = r.pick(corpus) {
                    records.push(v.clone());
                }
            }
            for rec in &mut records {
                for _ in 0..r.below(4) {
                    mutate_node(r, rec, &mut nests);
                }
            }
            let mut b = envelope(r, records);
            for (i, nest) in nests.iter().enumerate() {
                let marker = format!("\"__vigil_nest_{i}__\"");
                b = replace_bytes(&b, marker.as_bytes(), nest.as_bytes());
            }
            b
        }
    };
    let other = match r.pick(corpus) {
        Unit::Json(v) => v.to_string().into_bytes(),
        Unit::Flow { lines, .. } => lines.join("\n").into_bytes(),
    };
    if r.chance(40) {
        byte_mutations(r, &mut bytes, &other);
    }
    if r.chance(15) {
        bytes = gzip(r, &bytes);
    }
    let name = if r.chance(10) {
        format!("in{}.json", hostile_string(r).replace('\0', ""))
    } else {
        "in.json".to_string()
    };
    (bytes, name)
}

fn replace_bytes(hay: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    match hay.windows(needle.len()).position(|w| w == needle) {
        Some(at) => [&hay[..at], with, &hay[at + needle.len()..]].concat(),
        None => hay.to_vec(),
    }
}

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
            text::to_string(&report::analysis(&loaded, &graph, &groups, summary())).unwrap(),
        ),
        (
            "analyze markdown",
            report::markdown(&loaded, &graph, &groups, &summary()),
        ),
        ("stderr", summary().lines().join("\n")),
    ];
    let (pivot_target, graph_target) = targets(r, &graph);
    let res = pivot::scan(&paths, &pivot_target, pivot::Window::all()).unwrap();
    out.push(("pivot table", report::pivot_table(&res)));
    let jsonl: Vec<String> = res
        .events
        .iter()
        .map(|h| text::json_raw(&h.raw).into_owned())
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
fn through_binary(dir: &Path, name: &str, target: &EntityId) -> Result<(), String> {
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
        let out = Command::cargo_bin("vigil")
            .unwrap()
            .args(&args)
            .current_dir(dir)
            .output()
            .map_err(|e| format!("{args:?}: {e}"))?;
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

/// Peak resident set of the largest child this process has waited for, in MiB.
fn children_peak_rss_mib() -> i64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    assert_eq!(rc, 0, "getrusage");
    // Linux reports ru_maxrss in KiB.
    ru.ru_maxrss / 1024
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
    let (mut bytes_total, mut binary_runs) = (0usize, 0usize);
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
            through_binary(&dir, &name, &target)
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
    let rss = children_peak_rss_mib();
    println!(
        "seed {seed:#x}: {cases} cases, {bytes_total} input bytes, {binary_runs} through the \
         binary, {:.1} s; binary peak RSS {rss} MiB",
        started.elapsed().as_secs_f64()
    );
    assert!(binary_runs > 0);
    assert!(
        rss < MAX_CHILD_RSS_MIB,
        "the binary's peak RSS was {rss} MiB (seed {seed:#x})"
    );
}
