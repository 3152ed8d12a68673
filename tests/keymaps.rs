//! Keymaps: the shipped maps parse, every command is bound by default, and errors name the file
//! and line and stop the console before it takes over the terminal (exit 2).

use assert_cmd::Command;
use predicates::prelude::*;
use vigil::app::keymap::{Command as Cmd, Context, DEFAULT_TOML, Keymap, KeymapError, VIM_TOML};

#[test]
fn shipped_keymaps_parse() {
    let d = Keymap::parse("keymaps/default.toml", DEFAULT_TOML).expect("default");
    let v = Keymap::parse("keymaps/vim.toml", VIM_TOML).expect("vim");
    assert!(!d.bindings(Context::Findings).is_empty());
    let merged = d.merged(v);
    assert!(!merged.bindings(Context::Graph).is_empty());
}

#[test]
fn every_command_has_a_default_binding() {
    let d = Keymap::default_map().expect("default");
    for c in Cmd::ALL.iter().filter(|c| **c != Cmd::Noop) {
        let bound = d.contexts.values().flatten().any(|b| b.command == *c);
        assert!(bound, "{} has no key in keymaps/default.toml", c.as_str());
    }
}

fn err(text: &str) -> KeymapError {
    Keymap::parse("user.toml", text).expect_err("should fail")
}

#[test]
fn errors_name_file_and_line() {
    let e = err("[findings]\nj = { cmd = \"down\" }\nz = { cmd = \"explode\" }\n");
    assert!(
        matches!(e, KeymapError::UnknownCommand { line: 3, .. }),
        "{e}"
    );
    assert!(e.to_string().starts_with("user.toml:3:"), "{e}");

    let e = err("[trail]\n\"hyper-q\" = { cmd = \"quit\" }\n");
    assert!(matches!(e, KeymapError::BadKey { line: 2, .. }), "{e}");

    // The same key written two ways is a duplicate.
    let e = err("[graph]\nenter = { cmd = \"recenter\" }\nEnter = { cmd = \"mark\" }\n");
    assert!(
        matches!(
            e,
            KeymapError::Duplicate {
                line: 3,
                other_line: 2,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("user.toml:3:"), "{e}");

    // TOML itself rejects a key written twice, with its line.
    let e = err("[graph]\nm = { cmd = \"mark\" }\nm = { cmd = \"depth\" }\n");
    assert!(matches!(e, KeymapError::Syntax { line: 3, .. }), "{e}");

    let e = err("[graph]\ng = { cmd = \"top\" }\n\"g g\" = { cmd = \"top\" }\n");
    assert!(matches!(e, KeymapError::Prefix { .. }), "{e}");

    let e = err("[nowhere]\nq = { cmd = \"quit\" }\n");
    assert!(matches!(e, KeymapError::UnknownContext { .. }), "{e}");
}

#[test]
fn keymap_check_cli() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[findings]\nj = { cmd = \"down\" }\nz = { cmd = \"explode\" }\n",
    )
    .unwrap();
    Command::cargo_bin("vigil")
        .unwrap()
        .args(["keymap", "check"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "bad.toml:3: unknown command `explode`",
        ));
    Command::cargo_bin("vigil")
        .unwrap()
        .args(["keymap", "check", "keymaps/vim.toml"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
}

#[test]
fn keymap_errors_stop_open_before_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[graph]\nenter = { cmd = \"recenter\" }\nEnter = { cmd = \"mark\" }\n",
    )
    .unwrap();
    Command::cargo_bin("vigil")
        .unwrap()
        .args([
            "open",
            "--findings",
            "tests/fixtures/tui/findings.json",
            "--keymap",
        ])
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("bad.toml:3:"));
}

#[test]
fn keymap_print_round_trips() {
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(["keymap", "print"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let reparsed = Keymap::parse("printed.toml", &text).expect("print output parses");
    assert_eq!(
        reparsed.contexts.len(),
        Keymap::default_map().unwrap().contexts.len()
    );
    let out = Command::cargo_bin("vigil")
        .unwrap()
        .args(["keymap", "print", "--context", "trail"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("[trail]"));
    assert!(!text.contains("[findings]"));
}
