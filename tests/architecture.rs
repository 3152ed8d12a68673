//! The rooms of ARCHITECTURE.md, checked on the source: the pure core does no IO, and imports point
//! one way (a lower room never names a higher one). A change that breaks the layering fails here,
//! with the file and line.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Lines of code (comments dropped) of every file of a room, with their location.
fn code_lines(room: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let path = root.join(room);
    let files = if path.is_dir() {
        rust_files(&path)
    } else {
        vec![path.with_extension("rs")]
    };
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if !code.trim().is_empty() {
                out.push((format!("{}:{}", f.display(), i + 1), code.to_string()));
            }
        }
    }
    assert!(!out.is_empty(), "no source in src/{room}");
    out
}

fn assert_never(room: &str, banned: &[&str]) {
    let hits: Vec<String> = code_lines(room)
        .into_iter()
        .filter(|(_, code)| banned.iter().any(|b| code.contains(b)))
        .map(|(at, code)| format!("{at}: {}", code.trim()))
        .collect();
    assert!(
        hits.is_empty(),
        "src/{room} must not use {banned:?}:\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_app_core_is_pure() {
    assert_never(
        "app",
        &[
            "tokio",
            "crossterm",
            "std::thread",
            "std::fs",
            "Instant",
            "SystemTime",
            "crate::console",
            "crate::views",
            "crate::cli",
        ],
    );
}

#[test]
fn imports_point_one_way() {
    assert_never(
        "views",
        &["crate::console", "crate::cli", "crate::demo", "crate::aws"],
    );
    for room in [
        "model",
        "ingest",
        "graph",
        "pivot",
        "hunt",
        "actions",
        "integrity",
    ] {
        assert_never(
            room,
            &[
                "crate::console",
                "crate::cli",
                "crate::app",
                "crate::views",
                "crate::aws",
                "crate::demo",
                "ratatui",
            ],
        );
    }
    assert_never(
        "model",
        &[
            "crate::ingest",
            "crate::graph",
            "crate::pivot",
            "crate::actions",
        ],
    );
    // Only src/aws imports the SDK.
    for room in [
        "app", "views", "console", "actions", "demo", "cli", "ingest",
    ] {
        assert_never(room, &["aws_sdk_", "aws_config", "aws_smithy"]);
    }
}
