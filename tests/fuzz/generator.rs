//! The fuzz test's input generator: a seeded PRNG, a corpus of records from tests/fixtures/, and
//! the mutations (wrong types, huge values, controls, deep nesting, byte flips, truncation,
//! splices, gzip wrapping) over every envelope and format.

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Every fixture set (public AWS samples, the console's, and any other) seeds the corpus.
const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// splitmix64: tiny, seedable, good enough to pick mutations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A seed record: a JSON value (with the envelope it came in) or a flow log (header and lines).
#[derive(Clone)]
pub enum Unit {
    Json(Value),
    Flow { header: String, lines: Vec<String> },
}

pub fn corpus() -> Vec<Unit> {
    let mut files = Vec::new();
    collect(Path::new(FIX), &mut files);
    let mut units = Vec::new();
    for f in files {
        let name = f.to_string_lossy().to_string();
        if name.ends_with(".md") || name.ends_with(".py") || name.ends_with("_manifest.json") {
            continue;
        }
        let text = read_text(&f);
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

/// A fixture's text, gunzipped when it is gzip; empty when it is not UTF-8 text.
fn read_text(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        let _ = flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out);
        out
    } else {
        bytes
    };
    String::from_utf8(bytes).unwrap_or_default()
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
pub fn generate(r: &mut Rng, corpus: &[Unit]) -> (Vec<u8>, String) {
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
