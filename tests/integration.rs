//! Every integration test in one binary: each file of tests/ is a module here, so the AWS SDK
//! is linked once, not once per file (cargo's default, twenty links). The shared harnesses: moto's
//! server (support/moto.rs), tmux (support/tmux.rs), the headless console (tui_support/), a
//! mixed case folder (support/case_folder.rs).
// Tests may unwrap: a panic is the failure report. (`[lints]` in Cargo.toml denies it elsewhere.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/case_folder.rs"]
mod case_folder;
#[path = "support/moto.rs"]
mod moto_support;
#[path = "support/tmux.rs"]
mod tmux;
mod tui_support;

mod actions_demo;
mod architecture;
mod case;
mod cli;
mod console_loop;
mod contract;
mod demo_reject;
mod demo_scenarios;
mod e2e_actions_tmux;
mod e2e_respond_tmux;
mod e2e_tmux;
mod fuzz;
mod hostile;
mod hunt;
mod ingest_public;
mod integrity;
mod keymaps;
mod malformed;
mod messages;
mod moto_actions;
mod moto_doctor;
mod moto_evidence;
mod moto_history;
mod moto_live;
mod moto_s3;
mod record_replay;
mod tui_actions;
mod tui_bytes;
mod tui_reducer;
mod tui_screens;
mod webhook;
