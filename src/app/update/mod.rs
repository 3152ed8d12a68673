//! The reducer: `update(&mut State, Msg) -> Vec<Effect>`. Pure: no IO, no clock, no randomness.
//! Keys are resolved to commands here, through the keymap held in the state.

mod action_results;
mod actions;
mod command_line;
mod commands;
mod detective;
mod findings;
mod graph;
mod keys;
mod lookup;
mod screens;
mod status;
mod trail;

pub use self::command_line::run_command_line;
use self::findings::add_findings;
pub use self::findings::recompute_list;
pub use self::graph::{open_graph, rebuild_graph};
use self::keys::on_key;
pub use self::screens::open_detail;
use self::screens::pretty_lines;
use self::status::{info, warn};
use self::trail::refresh_views;
pub use self::trail::{open_trail, refresh_trail};
use super::msg::{Effect, Msg};
use super::state::*;
use crate::pivot::TrailIndex;

pub fn update(s: &mut State, msg: Msg) -> Vec<Effect> {
    let mut fx = apply(s, msg);
    trail::refresh_top_profile(s);
    fx.extend(lookup::sync(s));
    fx
}

fn apply(s: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(k) => on_key(s, k),
        Msg::Resize { width, height } => {
            s.width = width;
            s.height = height;
            Vec::new()
        }
        Msg::Tick { now } => {
            s.now = Some(now);
            if let Some(d) = s.drill.as_mut()
                && d.started.is_none()
            {
                d.started = Some(now);
            }
            Vec::new()
        }
        Msg::Findings(batch) => {
            // The wait a skip shortened is over.
            s.quiet_skipped = None;
            add_findings(s, batch);
            Vec::new()
        }
        Msg::Detections(found) => {
            // Threat-hunting rules at low level match much of a trail (SigmaHQ's AssumeRole
            // misuse: every call of every role session): a mark on every row marks nothing.
            // They stay findings; the trail marks medium and above, the highest first.
            for d in found.iter().filter(|d| level_rank(&d.level) >= 2) {
                let technique = d
                    .techniques()
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| d.rule.split(':').next().unwrap_or("").to_string());
                let rank = level_rank(&d.level);
                for ev in &d.events {
                    let mark = s.hunt_marks.entry(ev.clone()).or_insert_with(|| HuntMark {
                        technique: technique.clone(),
                        title: d.title.clone(),
                        level: rank,
                        detections: 0,
                    });
                    mark.detections += 1;
                    if rank > mark.level {
                        mark.technique = technique.clone();
                        mark.title = d.title.clone();
                        mark.level = rank;
                    }
                }
            }
            add_findings(s, found.iter().map(|d| d.to_finding()).collect());
            Vec::new()
        }
        Msg::Intel(intel) => {
            s.intel = intel;
            Vec::new()
        }
        Msg::QuietSkipped(d) => {
            s.quiet_skipped = Some(d);
            Vec::new()
        }
        Msg::LoadErrors { count, first } => {
            s.load_errors += count;
            if count > 0 {
                // One status line for the whole load, however many files fail: the running total
                // and the latest file's first error (its Display escapes it); the log has the rest.
                let total = crate::model::text::thousands(s.load_errors);
                let text = match first {
                    Some(f) => {
                        format!("{total} record(s) could not be read (see the log); latest: {f}")
                    }
                    None => format!("{total} record(s) could not be read (see the log)"),
                };
                warn(s, text);
            }
            Vec::new()
        }
        Msg::Progress(p) => {
            s.index_state = IndexState::Loading(p);
            Vec::new()
        }
        Msg::IndexedPart(ix) => {
            // A segment of the index (whole files): searchable at once.
            if let Some(built) = ix.built {
                match s.index.as_mut() {
                    Some(index) => index.absorb(built.index),
                    None => s.index = Some(built.index),
                }
                refresh_views(s);
            }
            Vec::new()
        }
        Msg::Indexed(ix) => {
            let ix = *ix;
            s.evidence = Some(ix.evidence);
            let Some(built) = ix.built else {
                // A recorded message read back without its data: the replay builds it first.
                warn(
                    s,
                    "the evidence of this load was not rebuilt; nothing indexed",
                );
                return Vec::new();
            };
            s.graph = built.graph;
            s.graph_findings = ix.findings.min(s.findings.len());
            for f in &s.findings[s.graph_findings..] {
                s.graph.add_finding(f);
            }
            s.graph_findings = s.findings.len();
            if ix.parts > 0 {
                // The index came in segments (kept, with anything the API added meanwhile);
                // this message brought the graph. API events are added to it again.
                if let Some(index) = s.index.as_ref().filter(|i| i.api_rows() > 0) {
                    let body = format!("{{\"Records\":[{}]}}", index.api_records().join(","));
                    let name = std::path::Path::new("cloudtrail:LookupEvents");
                    let loaded = crate::ingest::load_bytes(name, body.into_bytes());
                    for ev in &loaded.events {
                        s.graph.add_event(ev);
                    }
                }
                s.index_state = IndexState::Ready {
                    events: ix.events,
                    elapsed_ms: ix.elapsed_ms,
                };
                refresh_views(s);
                return Vec::new();
            }
            // Events a live session already had from LookupEvents stay: the new index is the
            // local files' and the API's.
            let carried = s
                .index
                .as_ref()
                .filter(|ix| ix.api_rows() > 0)
                .map(TrailIndex::api_records);
            let mut index = built.index;
            if let Some(records) = carried {
                let body = format!("{{\"Records\":[{}]}}", records.join(","));
                let name = std::path::Path::new("cloudtrail:LookupEvents");
                let loaded = crate::ingest::load_bytes(name, body.into_bytes());
                let graph = &mut s.graph;
                index.merge(loaded.events, true, |ev| graph.add_event(ev));
            }
            s.index = Some(index);
            s.index_state = IndexState::Ready {
                events: ix.events,
                elapsed_ms: ix.elapsed_ms,
            };
            refresh_views(s);
            Vec::new()
        }
        Msg::Integrity(totals) => {
            s.integrity = Some(totals);
            Vec::new()
        }
        Msg::RawLoaded { row, text } => {
            for v in s.stack.iter_mut() {
                if let View::Event(e) = v
                    && e.row == row
                {
                    e.raw = Some(
                        text.clone()
                            .map(|t| pretty_lines(&t))
                            .map_err(|e| e.to_string()),
                    );
                }
            }
            Vec::new()
        }
        Msg::Polled {
            failed,
            administrators,
        } => {
            s.administrators = administrators;
            if let Some(f) = failed.first() {
                let more = match failed.len() {
                    1 => String::new(),
                    n => format!(" (+{} more)", n - 1),
                };
                warn(s, format!("live: {}: {}{more}", f.source, f.reason));
            }
            s.failing = failed;
            Vec::new()
        }
        Msg::Signal(sig) => {
            s.quit = true;
            info(s, format!("{}: quitting", sig.as_str()));
            vec![Effect::Quit]
        }
        Msg::Lookup(u) => lookup::on_update(s, u),
        Msg::Detective { id, report } => detective::on_report(s, id, report),
        Msg::Recording { path, error } => {
            match (&path, error) {
                (_, Some(e)) => warn(s, e),
                (Some(p), None) => info(s, format!("recording to {p}")),
                (None, None) => info(s, "recording stopped"),
            }
            s.recording = path;
            Vec::new()
        }
        m @ (Msg::PlanReady { .. }
        | Msg::Audit { .. }
        | Msg::ActionDone { .. }
        | Msg::SnapshotProgress { .. }
        | Msg::CommandStatus { .. }
        | Msg::EvidenceRecorded { .. }
        | Msg::Account(_)) => action_results::on_msg(s, m),
    }
}

/// Sigma's levels in order (informational 0 … critical 4).
fn level_rank(level: &str) -> u8 {
    match level {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}
