//! The hunter: the rules compiled once (with their correlations' shapes and the lists), the two
//! halves run — matching on all cores (`gather.rs`), then the stateful part, Sigma correlation
//! rules (vigil's thresholds and sequences), over the matches in time order on one thread — and
//! the detections made: a plain rule's by rule and principal, a correlation's by group and burst.
//! Broad hunting rules match most of a trail (SigmaHQ's "AssumeRole misuse" matches every role
//! session's call), so nothing is kept per match that is not needed.

use super::gather::{BaseEvent, CHEAP_FIELDS, HuntSink, Matches, cheap_entities};
use super::insight::insight_detections;
use super::rules::{RuleError, RuleSet, rule_key};
use crate::ingest::walk;
use crate::ingest::{IngestError, InputError, source};
use crate::model::{Detection, EntityId, Ts};
use crate::pivot::Window;
use indexmap::IndexSet;
use rayon::prelude::*;
use rsigma_eval::{
    CorrelationAction, CorrelationConfig, CorrelationEngine, CorrelationEventMode,
    EvaluationResult, JsonEvent, ResultBody,
};
use rsigma_parser::CorrelationCondition;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Rules that may feed correlations (a base event says which it matched in one `u128`).
const MAX_BASE_RULES: usize = 128;

/// The compiled rules.
pub struct Hunter {
    pub(super) engine: CorrelationEngine,
    /// Rule keys (id, else title) by number, and the numbers of those that only feed
    /// correlations (`generate: false`): their matches alert through the correlation.
    pub(super) keys: Vec<String>,
    pub(super) number: HashMap<String, u16>,
    /// The base rules of correlations, by bit (a base event's `rules`).
    pub(super) base: Vec<u16>,
    pub(super) silent: BTreeSet<u16>,
    /// What correlations read of a base event: [`CHEAP_FIELDS`], then their group-by and
    /// counted fields.
    pub(super) fields: Vec<String>,
    /// Per correlation (by key): its base rules (bits), its group-by fields (indexes into
    /// `fields`) and its timespan — to gather the whole burst a detection belongs to.
    shapes: HashMap<String, Shape>,
    /// Threat lists (calls from their addresses are detections) and trusted lists (calls from
    /// theirs are not hunted).
    pub(super) intel: super::intel::Intel,
    pub rules: usize,
    pub correlations: usize,
    /// Rules that parsed but could not be compiled (or whose correlation names no rule).
    pub errors: Vec<RuleError>,
}

/// What a hunt found, and what it read.
#[derive(Debug, Default)]
pub struct HuntResult {
    pub detections: Vec<Detection>,
    /// Events not hunted because they came from an address on a trusted list, by list name.
    pub suppressed: Vec<(String, u64)>,
    pub errors: Vec<IngestError>,
    pub records: u64,
    pub files: usize,
}

impl Hunter {
    /// Compiles `set` rule by rule: one that cannot be compiled is reported (with its file) and
    /// the rest still run.
    pub fn new(set: &RuleSet) -> Hunter {
        let config = CorrelationConfig {
            correlation_event_mode: CorrelationEventMode::Refs,
            max_correlation_events: 1_000,
            // A group that fired is quiet for ten minutes: a burst of 100 000 calls fires a few
            // times (each with its window's events, which overlap and become one detection
            // below), not on every call.
            action_on_match: CorrelationAction::Alert,
            suppress: Some(600),
            emit_detections: false,
            ..CorrelationConfig::default()
        };
        let mut h = Hunter {
            engine: CorrelationEngine::new(config),
            keys: Vec::new(),
            number: HashMap::default(),
            base: Vec::new(),
            silent: BTreeSet::new(),
            fields: CHEAP_FIELDS.iter().map(|f| f.to_string()).collect(),
            shapes: HashMap::default(),
            intel: super::intel::Intel::default(),
            rules: 0,
            correlations: 0,
            errors: set.errors.clone(),
        };
        let file_of = |key: &str| set.file_of(key).unwrap_or("(rules)").to_string();
        // Names (ids and `name`s) a correlation may use for a rule, to the rule's key.
        let mut known: HashMap<String, String> = HashMap::default();
        for r in &set.collection.rules {
            let key = rule_key(&r.id, &r.title);
            match h.engine.add_rule(r) {
                Ok(()) => {
                    h.rules += 1;
                    let n = h.keys.len() as u16;
                    h.number.insert(key.clone(), n);
                    h.keys.push(key.clone());
                    for name in r.id.iter().chain(r.name.iter()) {
                        known.insert(name.clone(), key.clone());
                    }
                }
                Err(e) => h.errors.push(RuleError {
                    file: file_of(&key),
                    line: 1,
                    message: format!("{}: {e}", r.title),
                }),
            }
        }
        for c in &set.collection.correlations {
            let key = rule_key(&c.id, &c.title);
            if let Some(missing) = c.rules.iter().find(|r| !known.contains_key(*r)) {
                h.errors.push(RuleError {
                    file: file_of(&key),
                    line: 1,
                    message: format!("{}: names rule `{missing}`, which is not loaded", c.title),
                });
                continue;
            }
            let new = c
                .rules
                .iter()
                .filter_map(|r| known.get(r).and_then(|k| h.number.get(k)))
                .filter(|n| !h.base.contains(n))
                .count();
            if h.base.len() + new > MAX_BASE_RULES {
                h.errors.push(RuleError {
                    file: file_of(&key),
                    line: 1,
                    message: format!(
                        "{}: more than {MAX_BASE_RULES} rules feed correlations; not loaded",
                        c.title
                    ),
                });
                continue;
            }
            if let Err(e) = h.engine.add_correlation(c) {
                h.errors.push(RuleError {
                    file: file_of(&key),
                    line: 1,
                    message: format!("{}: {e}", c.title),
                });
                continue;
            }
            h.correlations += 1;
            for r in &c.rules {
                if let Some(n) = known.get(r).and_then(|k| h.number.get(k)).copied() {
                    if !h.base.contains(&n) {
                        h.base.push(n);
                    }
                    if !c.generate {
                        h.silent.insert(n);
                    }
                }
            }
            let mut read: Vec<String> = c.group_by.clone();
            if let CorrelationCondition::Threshold {
                field: Some(fields),
                ..
            } = &c.condition
            {
                read.extend(fields.iter().cloned());
            }
            for a in &c.aliases {
                read.extend(a.mapping.values().cloned());
            }
            for f in read {
                if !h.fields.contains(&f) {
                    h.fields.push(f);
                }
            }
            let mask = c
                .rules
                .iter()
                .filter_map(|r| known.get(r).and_then(|k| h.number.get(k)))
                .filter_map(|n| h.base.iter().position(|b| b == n))
                .fold(0u128, |m, bit| m | 1 << bit);
            let group = c
                .group_by
                .iter()
                .filter_map(|g| h.fields.iter().position(|f| f == g))
                .collect();
            h.shapes.insert(
                key,
                Shape {
                    mask,
                    group,
                    span_ms: c.timespan.seconds.saturating_mul(1000) as i64,
                },
            );
        }
        h
    }

    /// Hunts with these threat and trusted lists too.
    /// The lists the hunt checks addresses against.
    pub fn intel(&self) -> &super::intel::Intel {
        &self.intel
    }

    pub fn with_intel(mut self, intel: super::intel::Intel) -> Hunter {
        self.intel = intel;
        self
    }

    /// The first, stateless half over the CloudTrail files under `paths`: every record matched
    /// on all cores.
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
            .map(|(name, got)| self.scan_object(&name, got, window))
            .reduce(Matches::default, Matches::join)
    }

    /// [`Self::scan`] over one object (its content, or why it could not be read), on the
    /// calling thread.
    pub fn scan_object(
        &self,
        name: &std::path::Path,
        got: Result<Vec<u8>, String>,
        window: Window,
    ) -> Matches {
        let mut sink = HuntSink {
            hunter: self,
            window,
            out: Matches {
                files: 1,
                ..Matches::default()
            },
        };
        match got {
            Ok(bytes) => walk::walk_bytes(name, bytes, &mut sink),
            Err(why) => sink.out.errors.push(IngestError::file(name, why)),
        }
        sink.out
    }

    /// The second half, over all the matches of a hunt's sources: the correlations in time
    /// order, then every detection in time order. A hunter correlates once (its correlations
    /// keep their windows' state).
    pub fn correlate(mut self, m: Matches) -> HuntResult {
        let Matches {
            mut plain,
            intel,
            suppressed,
            insights,
            mut base,
            strings,
            templates,
            parsed: _,
            errors,
            records,
            files,
        } = m;
        let mut out = HuntResult {
            files,
            records,
            errors,
            suppressed: suppressed
                .into_iter()
                .filter_map(|(l, n)| Some((self.intel.lists.get(l as usize)?.name.clone(), n)))
                .collect(),
            ..HuntResult::default()
        };
        out.suppressed.sort();
        base.sort_by(|a, b| (a.time, &a.event_id).cmp(&(b.time, &b.event_id)));
        base.dedup_by(|a, b| a.time == b.time && a.event_id == b.event_id);
        let at: HashMap<&str, usize> = base
            .iter()
            .enumerate()
            .map(|(i, e)| (&*e.event_id, i))
            .collect();
        let mut episodes: Vec<Episode> = Vec::new();
        for (i, e) in base.iter().enumerate() {
            let results: Vec<EvaluationResult> = self
                .base
                .iter()
                .enumerate()
                .filter(|(bit, _)| e.rules & (1 << bit) != 0)
                .filter_map(|(_, n)| templates.get(n).cloned())
                .collect();
            let json = self.small_json(e, &strings);
            let fired = self.engine.process_with_detections(
                &JsonEvent::borrow(&json),
                results,
                e.time.millis().div_euclid(1000),
            );
            for r in fired {
                let ResultBody::Correlation(c) = &r.body else {
                    continue;
                };
                let mut events: Vec<usize> = c
                    .event_refs
                    .iter()
                    .flatten()
                    .filter_map(|x| x.id.as_deref().and_then(|id| at.get(id).copied()))
                    .collect();
                events.push(i);
                let group: Vec<String> = c
                    .group_key
                    .iter()
                    .map(|(f, v)| format!("{f}={v}"))
                    .collect();
                let rule = rule_key(&r.header.rule_id, &r.header.rule_title);
                let first = events.iter().map(|x| base[*x].time).min().unwrap_or(e.time);
                // One burst fires again and again: firings that touch the group's last
                // episode join it.
                match episodes
                    .iter_mut()
                    .rev()
                    .find(|ep| ep.rule == rule && ep.group == group)
                {
                    Some(ep) if first <= ep.last => {
                        ep.last = ep.last.max(e.time);
                        ep.events.extend(events);
                    }
                    _ => episodes.push(Episode {
                        header: header(&r),
                        rule,
                        group_values: c.group_key.iter().map(|(_, v)| v.clone()).collect(),
                        group,
                        last: e.time,
                        events,
                    }),
                }
            }
        }
        // A firing lists the events of its window; the detection is the whole burst: every
        // event of the group's base rules from its first firing's window to a timespan after
        // its last firing.
        let fired: BTreeSet<String> = episodes.iter().map(|ep| ep.rule.clone()).collect();
        let mut by_group: HashMap<(&str, Vec<Option<u32>>), Vec<usize>> = HashMap::default();
        for (i, e) in base.iter().enumerate() {
            for (rule, shape) in &self.shapes {
                if e.rules & shape.mask == 0 || !fired.contains(rule) {
                    continue;
                }
                let key: Vec<Option<u32>> = shape
                    .group
                    .iter()
                    .map(|f| e.fields.get(*f).copied().flatten())
                    .collect();
                by_group.entry((rule.as_str(), key)).or_default().push(i);
            }
        }
        for ep in &mut episodes {
            let Some(shape) = self.shapes.get(&ep.rule) else {
                continue;
            };
            let key: Vec<Option<u32>> = ep
                .group_values
                .iter()
                .map(|v| strings.get_index_of(v.as_str()).map(|s| s as u32))
                .collect();
            let Some(members) = by_group.get(&(ep.rule.as_str(), key)) else {
                continue;
            };
            let first = ep
                .events
                .iter()
                .map(|x| base[*x].time)
                .min()
                .unwrap_or(ep.last);
            let until = Ts(ep.last.millis().saturating_add(shape.span_ms));
            ep.events.extend(
                members
                    .iter()
                    .filter(|x| base[**x].time >= first && base[**x].time <= until),
            );
        }
        for mut ep in episodes {
            ep.events.sort_unstable();
            ep.events.dedup();
            let entities: BTreeSet<EntityId> = ep
                .events
                .iter()
                .flat_map(|x| cheap_entities(&base[*x].fields, &strings))
                .collect();
            out.detections.push(Detection {
                rule: ep.rule,
                title: ep.header.title,
                level: ep.header.level,
                attack: ep.header.attack,
                first: ep.events.first().map_or(Ts(0), |x| base[*x].time),
                last: ep.events.last().map_or(Ts(0), |x| base[*x].time),
                events: ep
                    .events
                    .iter()
                    .map(|x| base[*x].event_id.to_string())
                    .collect(),
                entities: entities.into_iter().collect(),
                group: ep.group,
                records: 0,
            });
        }
        for ((rule, principal), agg) in plain.drain() {
            let Some(h) = templates.get(&rule).map(header) else {
                continue;
            };
            let group = strings
                .get_index(principal as usize)
                .filter(|p| !p.is_empty())
                .map(|p| vec![format!("principal={p}")])
                .unwrap_or_default();
            let rule = self.keys.get(rule as usize).cloned().unwrap_or_default();
            out.detections
                .push(agg.into_detection(rule, h.title, h.level, h.attack, group, &strings));
        }
        out.detections.extend(insight_detections(insights));
        for ((list, ip), agg) in intel {
            let Some(l) = self.intel.lists.get(list as usize) else {
                continue;
            };
            let ip = strings.get_index(ip as usize).map_or("", |s| &**s);
            out.detections.push(agg.into_detection(
                format!("intel:{}", l.name),
                format!("CloudTrail calls from an address on {}", l.name),
                "high".into(),
                Vec::new(),
                vec![format!("ip={ip}"), format!("list={}", l.name)],
                &strings,
            ));
        }
        out.detections
            .sort_by(|a, b| (a.first, &a.rule, &a.group).cmp(&(b.first, &b.rule, &b.group)));
        out
    }

    /// What a correlation reads of a base event, as JSON (the fields at their dotted paths).
    fn small_json(&self, e: &BaseEvent, strings: &IndexSet<Box<str>>) -> serde_json::Value {
        let mut v = serde_json::json!({ "id": &*e.event_id });
        for (path, sym) in self.fields.iter().zip(e.fields.iter()) {
            let Some(text) = sym.and_then(|s| strings.get_index(s as usize)) else {
                continue;
            };
            let mut at = &mut v;
            let mut parts = path.split('.').peekable();
            while let Some(p) = parts.next() {
                let Some(obj) = at.as_object_mut() else { break };
                if parts.peek().is_none() {
                    obj.insert(p.to_string(), serde_json::Value::String(text.to_string()));
                    break;
                }
                at = obj
                    .entry(p.to_string())
                    .or_insert_with(|| serde_json::json!({}));
            }
        }
        v
    }
}

/// What a correlation groups and counts over.
struct Shape {
    mask: u128,
    group: Vec<usize>,
    span_ms: i64,
}

/// A correlation's firings for one group, joined while they overlap.
struct Episode {
    rule: String,
    group: Vec<String>,
    /// The group's values, in the correlation's group-by order.
    group_values: Vec<String>,
    header: Header,
    last: Ts,
    events: Vec<usize>,
}

struct Header {
    title: String,
    level: String,
    attack: Vec<String>,
}

fn header(r: &EvaluationResult) -> Header {
    let h = &r.header;
    Header {
        title: h.rule_title.clone(),
        level: h.level.map_or("medium", |l| l.as_str()).to_string(),
        attack: h
            .tags
            .iter()
            .filter(|t| t.starts_with("attack."))
            .cloned()
            .collect(),
    }
}
