//! Running the rules over CloudTrail: every record is matched on all cores (stateless Sigma
//! detection over a lazily read record), the matches are put in time order, and then the
//! stateful part — Sigma correlation rules, vigil's thresholds and sequences — runs over the few
//! matched events on one thread. Matches become [`Detection`]s: a plain rule's by acting
//! principal, a correlation's by its group and window.

use super::record::Record;
use super::rules::{RuleError, RuleSet};
use crate::ingest::walk::{self, Kind, Rec, Sink};
use crate::ingest::{self, IngestError, InputError, flow, source};
use crate::model::{Detection, EntityId, Ts};
use crate::pivot::Window;
use rayon::prelude::*;
use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, CorrelationEventMode, EvaluationResult, JsonEvent,
    ResultBody,
};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// The compiled rules.
pub struct Hunter {
    engine: CorrelationEngine,
    /// Rules that only feed correlations (`generate: false`): their matches alert through the
    /// correlation, not on their own.
    silent: BTreeSet<String>,
    pub rules: usize,
    pub correlations: usize,
    /// Rules that parsed but could not be compiled (or whose correlation names no rule).
    pub errors: Vec<RuleError>,
}

/// What a hunt found, and what it read.
#[derive(Debug, Default)]
pub struct HuntResult {
    pub detections: Vec<Detection>,
    pub errors: Vec<IngestError>,
    pub records: u64,
    pub files: usize,
}

/// An event at least one rule matched.
struct Matched {
    time: Ts,
    event_id: String,
    principal: Option<EntityId>,
    entities: Vec<EntityId>,
    json: serde_json::Value,
    results: Vec<EvaluationResult>,
}

impl Hunter {
    /// Compiles `set` rule by rule: one that cannot be compiled is reported (with its file) and
    /// the rest still run.
    pub fn new(set: &RuleSet) -> Hunter {
        let config = CorrelationConfig {
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: 10_000,
            // Base rules of a correlation say themselves whether they alert (`generate`).
            emit_detections: false,
            ..CorrelationConfig::default()
        };
        let referenced: BTreeSet<&str> = set
            .collection
            .correlations
            .iter()
            .filter(|c| !c.generate)
            .flat_map(|c| c.rules.iter().map(String::as_str))
            .collect();
        let silent = set
            .collection
            .rules
            .iter()
            .filter(|r| {
                r.id.iter()
                    .chain(r.name.iter())
                    .any(|k| referenced.contains(k.as_str()))
            })
            .map(|r| r.id.clone().unwrap_or_else(|| r.title.clone()))
            .collect();
        let mut h = Hunter {
            engine: CorrelationEngine::new(config),
            silent,
            rules: 0,
            correlations: 0,
            errors: set.errors.clone(),
        };
        let file_of = |id: &Option<String>, title: &str| {
            let key = id.clone().unwrap_or_else(|| title.to_string());
            set.sources
                .iter()
                .find(|(k, _)| *k == key)
                .map_or_else(|| "(rules)".to_string(), |(_, f)| f.clone())
        };
        let mut known: BTreeSet<String> = BTreeSet::new();
        for r in &set.collection.rules {
            match h.engine.add_rule(r) {
                Ok(()) => {
                    h.rules += 1;
                    known.extend(r.id.iter().cloned());
                    known.extend(r.name.iter().cloned());
                }
                Err(e) => h.errors.push(RuleError {
                    file: file_of(&r.id, &r.title),
                    line: 1,
                    message: format!("{}: {e}", r.title),
                }),
            }
        }
        for c in &set.collection.correlations {
            if let Some(missing) = c.rules.iter().find(|r| !known.contains(*r)) {
                h.errors.push(RuleError {
                    file: file_of(&c.id, &c.title),
                    line: 1,
                    message: format!("{}: names rule `{missing}`, which is not loaded", c.title),
                });
                continue;
            }
            match h.engine.add_correlation(c) {
                Ok(()) => h.correlations += 1,
                Err(e) => h.errors.push(RuleError {
                    file: file_of(&c.id, &c.title),
                    line: 1,
                    message: format!("{}: {e}", c.title),
                }),
            }
        }
        h
    }

    /// The first, stateless half over the CloudTrail files under `paths`: every record matched
    /// on all cores, the matches kept.
    pub fn scan(&self, paths: &[PathBuf], window: Window) -> Result<Matches, InputError> {
        let files = source::expand(paths).map_err(|(path, source)| InputError { path, source })?;
        let mut out = files
            .par_iter()
            .map(|f| {
                let mut sink = HuntSink {
                    hunter: self,
                    window,
                    out: Matches::default(),
                };
                walk::walk_file(f, &mut sink);
                sink.out
            })
            .reduce(Matches::default, Matches::join);
        out.files = files.len();
        Ok(out)
    }

    /// [`Self::scan`] over objects that are not files (an S3 prefix's, as they arrive).
    pub fn scan_objects(
        &self,
        objects: impl Iterator<Item = (PathBuf, Result<Vec<u8>, String>)> + Send,
        window: Window,
    ) -> Matches {
        use rayon::iter::ParallelBridge;
        objects
            .par_bridge()
            .map(|(name, got)| {
                let mut sink = HuntSink {
                    hunter: self,
                    window,
                    out: Matches {
                        files: 1,
                        ..Matches::default()
                    },
                };
                match got {
                    Ok(bytes) => walk::walk_bytes(&name, bytes, &mut sink),
                    Err(why) => sink.out.errors.push(IngestError::file(&name, why)),
                }
                sink.out
            })
            .reduce(Matches::default, Matches::join)
    }

    /// The second half, over all the matches of a hunt's sources: the stateful rules in time
    /// order, and the grouping into detections. A hunter correlates once (its correlations keep
    /// their windows' state).
    pub fn correlate(mut self, m: Matches) -> HuntResult {
        let mut out = HuntResult {
            files: m.files,
            records: m.records,
            errors: m.errors,
            ..HuntResult::default()
        };
        let mut matched = m.matched;
        matched.sort_by(|a, b| (a.time, &a.event_id).cmp(&(b.time, &b.event_id)));
        matched.dedup_by(|a, b| a.time == b.time && a.event_id == b.event_id);
        let by_id: HashMap<&str, usize> = matched
            .iter()
            .enumerate()
            .map(|(i, m)| (m.event_id.as_str(), i))
            .collect();
        let engine = &mut self.engine;
        let mut groups: Groups = Groups::default();
        for (i, m) in matched.iter().enumerate() {
            let secs = m.time.millis().div_euclid(1000);
            let results = engine.process_with_detections(
                &JsonEvent::borrow(&m.json),
                m.results.clone(),
                secs,
            );
            for r in results {
                match &r.body {
                    ResultBody::Detection(_) => {
                        let h = &r.header;
                        let rule = h.rule_id.as_ref().unwrap_or(&h.rule_title);
                        if !self.silent.contains(rule) {
                            groups.add_plain(&r, i, m);
                        }
                    }
                    ResultBody::Correlation(c) => {
                        let events: Vec<usize> = c
                            .event_refs
                            .iter()
                            .flatten()
                            .filter_map(|e| e.id.as_deref().and_then(|id| by_id.get(id).copied()))
                            .chain(std::iter::once(i))
                            .collect();
                        let key: Vec<String> = c
                            .group_key
                            .iter()
                            .map(|(f, v)| format!("{f}={v}"))
                            .collect();
                        groups.add_correlation(&r, key, &events, &matched);
                    }
                }
            }
        }
        out.detections = groups.into_detections(&matched);
        out
    }
}

/// Detections being gathered: by (rule, principal) for plain rules, by (rule, group) for
/// correlations, each a list of matched-event numbers.
#[derive(Default)]
struct Groups {
    order: Vec<(GroupKey, Header)>,
    at: HashMap<GroupKey, usize>,
    events: Vec<Vec<usize>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    rule: String,
    by: Vec<String>,
    /// A correlation's firings that do not overlap are separate detections.
    episode: usize,
}

#[derive(Clone)]
struct Header {
    title: String,
    level: String,
    attack: Vec<String>,
    group: Vec<String>,
}

fn header(r: &EvaluationResult, group: Vec<String>) -> (String, Header) {
    let h = &r.header;
    let rule = h.rule_id.clone().unwrap_or_else(|| h.rule_title.clone());
    let header = Header {
        title: h.rule_title.clone(),
        level: h.level.map_or("medium", |l| l.as_str()).to_string(),
        attack: h
            .tags
            .iter()
            .filter(|t| t.starts_with("attack."))
            .cloned()
            .collect(),
        group,
    };
    (rule, header)
}

impl Groups {
    fn slot(&mut self, key: GroupKey, header: Header) -> usize {
        if let Some(i) = self.at.get(&key) {
            return *i;
        }
        let i = self.order.len();
        self.at.insert(key.clone(), i);
        self.order.push((key, header));
        self.events.push(Vec::new());
        i
    }

    fn add_plain(&mut self, r: &EvaluationResult, i: usize, m: &Matched) {
        let by: Vec<String> = m
            .principal
            .iter()
            .map(|p| format!("principal={}", p.value))
            .collect();
        let (rule, header) = header(r, by.clone());
        let slot = self.slot(
            GroupKey {
                rule,
                by,
                episode: 0,
            },
            header,
        );
        self.events[slot].push(i);
    }

    fn add_correlation(
        &mut self,
        r: &EvaluationResult,
        by: Vec<String>,
        events: &[usize],
        matched: &[Matched],
    ) {
        let (rule, header) = header(r, by.clone());
        let first = events.iter().map(|e| matched[*e].time).min();
        // The group's latest episode goes on while this firing overlaps it.
        let mut episode = 0;
        while let Some(slot) = self.at.get(&GroupKey {
            rule: rule.clone(),
            by: by.clone(),
            episode,
        }) {
            let last = self.events[*slot].iter().map(|e| matched[*e].time).max();
            if first.is_some() && last.is_some() && first <= last {
                break;
            }
            episode += 1;
        }
        let slot = self.slot(GroupKey { rule, by, episode }, header);
        self.events[slot].extend_from_slice(events);
    }

    fn into_detections(self, matched: &[Matched]) -> Vec<Detection> {
        let mut out: Vec<Detection> = self
            .order
            .into_iter()
            .zip(self.events)
            .filter_map(|((key, h), mut events)| {
                events.sort_unstable();
                events.dedup();
                let first = matched.get(*events.first()?)?.time;
                let last = matched.get(*events.last()?)?.time;
                let entities: BTreeSet<&EntityId> = events
                    .iter()
                    .flat_map(|e| matched[*e].entities.iter())
                    .collect();
                Some(Detection {
                    rule: key.rule,
                    title: h.title,
                    level: h.level,
                    attack: h.attack,
                    events: events
                        .iter()
                        .map(|e| matched[*e].event_id.clone())
                        .collect(),
                    entities: entities.into_iter().cloned().collect(),
                    first,
                    last,
                    group: h.group,
                })
            })
            .collect();
        out.sort_by(|a, b| (a.first, &a.rule, &a.events).cmp(&(b.first, &b.rule, &b.events)));
        out
    }
}

/// The first half's result: the events some rule matched, and what was read.
#[derive(Default)]
pub struct Matches {
    matched: Vec<Matched>,
    pub errors: Vec<IngestError>,
    pub records: u64,
    pub files: usize,
}

impl Matches {
    pub fn join(mut self, other: Matches) -> Matches {
        self.matched.extend(other.matched);
        self.errors.extend(other.errors);
        self.records += other.records;
        self.files += other.files;
        self
    }

    /// How many events matched a rule.
    pub fn len(&self) -> usize {
        self.matched.len()
    }

    pub fn is_empty(&self) -> bool {
        self.matched.is_empty()
    }
}

struct HuntSink<'h> {
    hunter: &'h Hunter,
    window: Window,
    out: Matches,
}

impl Sink for HuntSink<'_> {
    fn record(&mut self, path: &Arc<PathBuf>, rec: Rec<'_>) {
        if rec.kind != Kind::Trail {
            return;
        }
        self.out.records += 1;
        let Some(record) = Record::parse(rec.raw) else {
            return;
        };
        // The window first: no rule runs on an event outside it.
        if let Some(t) = record.top_str("eventTime").and_then(|t| Ts::parse(&t))
            && !self.window.contains(t)
        {
            return;
        }
        let results = self.hunter.engine.evaluate(&record);
        if results.is_empty() {
            return;
        }
        match ingest::parse_event(path, &rec) {
            Ok(ev) if self.window.contains(ev.time) => self.out.matched.push(Matched {
                time: ev.time,
                json: rsigma_eval::Event::to_json(&record),
                event_id: ev.event_id,
                principal: ev.principal,
                entities: ev.entities,
                results,
            }),
            Ok(_) => {}
            Err(e) => self
                .out
                .errors
                .push(IngestError::record(path, rec.line, rec.index, e)),
        }
    }

    fn flow(&mut self, _: &Arc<PathBuf>, _: &flow::Layout, _: &str, _: u64) {}

    fn error(&mut self, err: IngestError) {
        self.out.errors.push(err);
    }
}
