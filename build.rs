//! Embeds the bundled demo scenarios (demo/, data only) and hunting rules (rules/) into the binary,
//! so `vigil demo` and `vigil hunt` work from an installed binary with no repository beside it.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// `dir` (under the crate) embedded as `pub static NAME: &[(&str, &[u8])]` in `OUT_DIR/file`:
/// each file's path relative to `dir`, and its bytes.
fn embed(dir: &str, name: &str, file: &str) {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join(dir);
    println!("cargo:rerun-if-changed={dir}");
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut src = format!("pub static {name}: &[(&str, &[u8])] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let _ = writeln!(
            src,
            "    ({rel:?}, include_bytes!({:?})),",
            f.display().to_string()
        );
    }
    src.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join(file);
    if let Err(e) = std::fs::write(&out, src) {
        panic!("cannot write {}: {e}", out.display());
    }
}

fn main() {
    embed("demo", "FILES", "demo_files.rs");
    embed("rules", "RULES", "rule_files.rs");
}
