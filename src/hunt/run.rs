//! Running the rules over CloudTrail. Every record is matched on all cores (stateless Sigma
//! detection over a lazily read record). A rule that alerts on its own gathers its matches there
//! and then, by rule and principal; a correlation's base rules keep, per match, only its time, id
//! and the few fields correlations group and count by. Then the stateful part — Sigma
//! correlation rules: vigil's thresholds and sequences — runs over those in time order on one
//! thread. Broad hunting rules match most of a trail (SigmaHQ's "AssumeRole misuse" matches every
//! role session's call), so nothing here is kept per match that is not needed.

use super::record::Record;
use super::rules::{RuleError, RuleSet};
use crate::ingest::walk::{self, Kind, Rec, Sink};
use crate::ingest::{self, IngestError, InputError, flow, source};
use crate::model::arn::classify_identifier;
use crate::model::entity::caller_address;
use crate::model::{Detection, EntityId, EntityKind, Ts};
use crate::pivot::Window;
use indexmap::IndexSet;
use rayon::prelude::*;
use rsigma_eval::{
    CorrelationAction, CorrelationConfig, CorrelationEngine, CorrelationEventMode,
    EvaluationResult, Event, EventValue, JsonEvent, ResultBody,
};
use rsigma_parser::CorrelationCondition;
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Events of one rule whose entities come from the full entity model (the typed parse); past
/// this, a rule's matches name their principal, address, user agent and key only. Bounds the
/// cost of a rule that matches most of a trail.
const FULL_PARSE_PER_RULE: usize = 2_000;

/// Rules that may feed correlations (a base event says which it matched in one `u128`).
const MAX_BASE_RULES: usize = 128;

/// The fields read from every match for the entities it names cheaply.
const CHEAP_FIELDS: [&str; 4] = [
    "userIdentity.arn",
    "sourceIPAddress",
    "userAgent",
    "userIdentity.accessKeyId",
];

/// The compiled rules.
pub struct Hunter {
    engine: CorrelationEngine,
    /// Rule keys (id, else title) by number, and the numbers of those that only feed
    /// correlations (`generate: false`): their matches alert through the correlation.
    keys: Vec<String>,
    number: HashMap<String, u16>,
    /// The base rules of correlations, by bit (a base event's `rules`).
    base: Vec<u16>,
    silent: BTreeSet<u16>,
    /// What correlations read of a base event: [`CHEAP_FIELDS`], then their group-by and
    /// counted fields.
    fields: Vec<String>,
    /// Per correlation (by key): its base rules (bits), its group-by fields (indexes into
    /// `fields`) and its timespan — to gather the whole burst a detection belongs to.
    shapes: HashMap<String, Shape>,
    /// Threat lists (calls from their addresses are detections) and trusted lists (calls from
    /// theirs are not hunted).
    intel: super::intel::Intel,
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

fn key_of(id: &Option<String>, title: &str) -> String {
    id.clone().unwrap_or_else(|| title.to_string())
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
        let file_of = |key: &str| {
            set.sources
                .iter()
                .find(|(k, _)| k == key)
                .map_or_else(|| "(rules)".to_string(), |(_, f)| f.clone())
        };
        // Names (ids and `name`s) a correlation may use for a rule, to the rule's key.
        let mut known: HashMap<String, String> = HashMap::default();
        for r in &set.collection.rules {
            let key = key_of(&r.id, &r.title);
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
            let key = key_of(&c.id, &c.title);
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
                let rule = key_of(&r.header.rule_id, &r.header.rule_title);
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
            });
        }
        for ((rule, principal), mut agg) in plain.drain() {
            agg.events.sort_unstable();
            agg.events.dedup();
            for c in &agg.cheap {
                agg.entities.extend(cheap_entities(c, &strings));
            }
            let Some(h) = templates.get(&rule).map(header) else {
                continue;
            };
            out.detections.push(Detection {
                rule: self.keys.get(rule as usize).cloned().unwrap_or_default(),
                title: h.title,
                level: h.level,
                attack: h.attack,
                first: agg.events.first().map_or(Ts(0), |e| e.0),
                last: agg.events.last().map_or(Ts(0), |e| e.0),
                events: agg.events.into_iter().map(|e| e.1.to_string()).collect(),
                entities: agg.entities.into_iter().collect(),
                group: strings
                    .get_index(principal as usize)
                    .filter(|p| !p.is_empty())
                    .map(|p| vec![format!("principal={p}")])
                    .unwrap_or_default(),
            });
        }
        out.detections.extend(insight_detections(insights));
        for ((list, ip), mut agg) in intel {
            let Some(l) = self.intel.lists.get(list as usize) else {
                continue;
            };
            agg.events.sort_unstable();
            agg.events.dedup();
            for c in &agg.cheap {
                agg.entities.extend(cheap_entities(c, &strings));
            }
            let ip = strings.get_index(ip as usize).map_or("", |s| &**s);
            out.detections.push(Detection {
                rule: format!("intel:{}", l.name),
                title: format!("CloudTrail calls from an address on {}", l.name),
                level: "high".into(),
                attack: Vec::new(),
                first: agg.events.first().map_or(Ts(0), |e| e.0),
                last: agg.events.last().map_or(Ts(0), |e| e.0),
                events: agg.events.into_iter().map(|e| e.1.to_string()).collect(),
                entities: agg.entities.into_iter().collect(),
                group: vec![format!("ip={ip}"), format!("list={}", l.name)],
            });
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

/// The entities a match names cheaply: its principal, caller address, user agent and access key
/// ([`CHEAP_FIELDS`], the first four of a base event's fields).
fn cheap_entities(fields: &[Option<u32>], strings: &IndexSet<Box<str>>) -> Vec<EntityId> {
    let text = |i: usize| {
        fields
            .get(i)
            .copied()
            .flatten()
            .and_then(|s| strings.get_index(s as usize))
            .map(|s| &**s)
            .filter(|s| !s.is_empty())
    };
    let mut out = Vec::with_capacity(4);
    out.extend(text(0).and_then(classify_identifier));
    out.extend(
        text(1)
            .and_then(caller_address)
            .map(|ip| EntityId::new(EntityKind::Ip, ip.to_string())),
    );
    out.extend(text(2).map(|ua| EntityId::new(EntityKind::Ua, ua)));
    out.extend(text(3).map(|k| EntityId::new(EntityKind::Key, k)));
    out
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

/// A plain rule's matches by one principal: their entities from the full parse, and the
/// cheap fields' values seen (symbols, made entities at the end: most matches repeat them).
#[derive(Default)]
struct PlainAgg {
    events: Vec<(Ts, Box<str>)>,
    entities: BTreeSet<EntityId>,
    cheap: rustc_hash::FxHashSet<[Option<u32>; 4]>,
}

/// A base event of a correlation: when, which, the base rules it matched (a bit per rule
/// number), and the fields correlations read (symbols in [`Matches::strings`]).
struct BaseEvent {
    time: Ts,
    event_id: Box<str>,
    rules: u128,
    fields: Box<[Option<u32>]>,
}

/// The first half's result: the plain rules' matches gathered, the correlations' base events,
/// and what was read.
#[derive(Default)]
pub struct Matches {
    plain: HashMap<(u16, u32), PlainAgg>,
    /// Calls from addresses on threat lists, by (list, address).
    intel: HashMap<(u16, u32), PlainAgg>,
    /// Events skipped for a trusted list, by list.
    suppressed: HashMap<u16, u64>,
    /// CloudTrail Insights events (rare: a few a day at most).
    insights: Vec<InsightEvent>,
    base: Vec<BaseEvent>,
    strings: IndexSet<Box<str>>,
    /// A result of each rule, to give the correlation engine in the second half.
    templates: HashMap<u16, EvaluationResult>,
    /// How many of each rule's matches had the full entity parse.
    parsed: HashMap<u16, usize>,
    pub errors: Vec<IngestError>,
    pub records: u64,
    pub files: usize,
}

impl Matches {
    fn sym(&mut self, s: &str) -> u32 {
        match self.strings.get_index_of(s) {
            Some(i) => i as u32,
            None => self.strings.insert_full(s.into()).0 as u32,
        }
    }

    pub fn join(mut self, other: Matches) -> Matches {
        let map: Vec<u32> = other.strings.iter().map(|s| self.sym(s)).collect();
        let re = |s: u32| map.get(s as usize).copied().unwrap_or(0);
        self.insights.extend(other.insights);
        for (k, n) in other.suppressed {
            *self.suppressed.entry(k).or_default() += n;
        }
        for ((list, ip), agg) in other.intel {
            let mine = self.intel.entry((list, re(ip))).or_default();
            mine.events.extend(agg.events);
            mine.entities.extend(agg.entities);
            mine.cheap
                .extend(agg.cheap.into_iter().map(|c| c.map(|f| f.map(re))));
        }
        for ((rule, p), agg) in other.plain {
            let mine = self.plain.entry((rule, re(p))).or_default();
            mine.events.extend(agg.events);
            mine.entities.extend(agg.entities);
            mine.cheap
                .extend(agg.cheap.into_iter().map(|c| c.map(|f| f.map(re))));
        }
        self.base.extend(other.base.into_iter().map(|mut e| {
            for f in e.fields.iter_mut() {
                *f = f.map(re);
            }
            e
        }));
        for (k, v) in other.templates {
            self.templates.entry(k).or_insert(v);
        }
        for (k, v) in other.parsed {
            *self.parsed.entry(k).or_default() += v;
        }
        self.errors.extend(other.errors);
        self.records += other.records;
        self.files += other.files;
        self
    }
}

struct HuntSink<'h> {
    hunter: &'h Hunter,
    window: Window,
    out: Matches,
}

/// A field's value as text, for a symbol (strings as they are, numbers and booleans written).
fn field_text(v: EventValue<'_>) -> Option<String> {
    match v {
        EventValue::Str(s) => Some(s.into_owned()),
        EventValue::Int(n) => Some(n.to_string()),
        EventValue::Float(f) => Some(f.to_string()),
        EventValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
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
        let Some(time) = record.top_str("eventTime").and_then(|t| Ts::parse(&t)) else {
            return;
        };
        // The window first: no rule runs on an event outside it.
        if !self.window.contains(time) {
            return;
        }
        if record.top_str("eventCategory").as_deref() == Some("Insight")
            || record.top_str("eventType").as_deref() == Some("AwsCloudTrailInsight")
        {
            match serde_json::from_str::<InsightRecord>(rec.raw) {
                Ok(i) => self.out.insights.push(InsightEvent { time, record: i }),
                Err(e) => self.out.errors.push(IngestError::record(
                    path,
                    rec.line,
                    rec.index,
                    format!("invalid CloudTrail Insights event: {e}"),
                )),
            }
            return;
        }
        let h = self.hunter;
        let caller = record
            .top_str("sourceIPAddress")
            .and_then(|s| caller_address(&s));
        let mut listed = None;
        if let Some(ip) = caller
            && !h.intel.is_empty()
        {
            let find =
                |l: &super::intel::IntelList| h.intel.lists.iter().position(|x| std::ptr::eq(x, l));
            if let Some(l) = h.intel.trusted_ip(ip).and_then(find) {
                *self.out.suppressed.entry(l as u16).or_default() += 1;
                return;
            }
            listed = h.intel.threat_ip(ip).and_then(find);
        }
        let results = h.engine.evaluate(&record);
        if results.is_empty() && listed.is_none() {
            return;
        }
        let event_id: Box<str> = record
            .top_str("eventID")
            .map_or_else(|| format!("vigil-line-{}", rec.line).into(), |s| s.into());
        let fields: Vec<Option<u32>> = h
            .fields
            .iter()
            .map(|f| {
                record
                    .get_field(f)
                    .and_then(field_text)
                    .map(|t| self.out.sym(&t))
            })
            .collect();
        let principal = fields[0].unwrap_or_else(|| self.out.sym(""));
        if let (Some(l), Some(ip)) = (listed, caller) {
            let ip = self.out.sym(&ip.to_string());
            let agg = self.out.intel.entry((l as u16, ip)).or_default();
            agg.events.push((time, event_id.clone()));
            agg.cheap
                .insert([fields[0], fields[1], fields[2], fields[3]]);
        }
        let mut base_bits = 0u128;
        let mut full: Option<Vec<EntityId>> = None;
        for r in results {
            let Some(&n) = h
                .number
                .get(r.header.rule_id.as_ref().unwrap_or(&r.header.rule_title))
            else {
                continue;
            };
            if let Some(bit) = h.base.iter().position(|b| *b == n) {
                base_bits |= 1 << bit;
            }
            if !h.silent.contains(&n) {
                let parsed = self.out.parsed.entry(n).or_default();
                let want_full = *parsed < FULL_PARSE_PER_RULE;
                if want_full && full.is_none() {
                    full = Some(match ingest::parse_event(path, &rec) {
                        Ok(ev) => ev.entities,
                        Err(e) => {
                            self.out
                                .errors
                                .push(IngestError::record(path, rec.line, rec.index, e));
                            Vec::new()
                        }
                    });
                }
                if want_full {
                    *parsed += 1;
                }
                let cheap = [fields[0], fields[1], fields[2], fields[3]];
                let agg = self.out.plain.entry((n, principal)).or_default();
                agg.events.push((time, event_id.clone()));
                agg.cheap.insert(cheap);
                if want_full {
                    agg.entities.extend(full.iter().flatten().cloned());
                }
            }
            self.out.templates.entry(n).or_insert(r);
        }
        if base_bits != 0 {
            self.out.base.push(BaseEvent {
                time,
                event_id,
                rules: base_bits,
                fields: fields.into_boxed_slice(),
            });
        }
    }

    fn flow(&mut self, _: &Arc<PathBuf>, _: &flow::Layout, _: &str, _: u64) {}

    fn error(&mut self, err: IngestError) {
        self.out.errors.push(err);
    }
}

/// A CloudTrail Insights event, as the CloudTrail User Guide documents it: no caller of its own,
/// the API and the unusual rate under `insightDetails`.
#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InsightRecord {
    #[serde(rename = "eventID")]
    event_id: String,
    #[serde(rename = "sharedEventID")]
    shared_event_id: String,
    recipient_account_id: Option<String>,
    insight_details: InsightDetails,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct InsightDetails {
    state: String,
    event_source: String,
    event_name: String,
    insight_type: String,
    insight_context: InsightContext,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct InsightContext {
    statistics: InsightStatistics,
    attributions: Vec<Attribution>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct InsightStatistics {
    baseline: Average,
    insight: Average,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Average {
    average: f64,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Attribution {
    attribute: String,
    insight: Vec<AttributionValue>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct AttributionValue {
    value: String,
}

struct InsightEvent {
    time: Ts,
    record: InsightRecord,
}

/// One detection per insight (its Start and End events share `sharedEventID`): "AttachRolePolicy
/// call rate 12× baseline", with the principals and user agents CloudTrail attributes it to.
fn insight_detections(mut insights: Vec<InsightEvent>) -> Vec<Detection> {
    insights.sort_by(|a, b| {
        (&a.record.shared_event_id, a.time).cmp(&(&b.record.shared_event_id, b.time))
    });
    let mut out: Vec<Detection> = Vec::new();
    for chunk in insights.chunk_by(|a, b| {
        !a.record.shared_event_id.is_empty() && a.record.shared_event_id == b.record.shared_event_id
    }) {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        let d = &first.record.insight_details;
        let stats = chunk
            .iter()
            .map(|i| &i.record.insight_details.insight_context.statistics)
            .find(|s| s.insight.average > 0.0)
            .unwrap_or(&d.insight_context.statistics);
        let what = if d.insight_type == "ApiErrorRateInsight" {
            "error rate"
        } else {
            "call rate"
        };
        let ratio = if stats.baseline.average > 0.0 {
            format!(
                "{:.0}× baseline",
                stats.insight.average / stats.baseline.average
            )
        } else {
            "above a zero baseline".to_string()
        };
        let mut entities: BTreeSet<EntityId> = BTreeSet::new();
        for i in chunk {
            let r = &i.record;
            entities.extend(
                r.recipient_account_id
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .map(|a| EntityId::new(EntityKind::Account, a)),
            );
            for a in &r.insight_details.insight_context.attributions {
                for v in &a.insight {
                    match a.attribute.as_str() {
                        "userIdentityArn" => entities.extend(classify_identifier(&v.value)),
                        "userAgent" if !v.value.is_empty() => {
                            entities.insert(EntityId::new(EntityKind::Ua, v.value.clone()));
                        }
                        _ => {}
                    }
                }
            }
        }
        out.push(Detection {
            rule: format!("insight:{}", d.insight_type),
            title: format!("{} {what} {ratio}", d.event_name),
            level: "medium".into(),
            attack: Vec::new(),
            events: chunk.iter().map(|i| i.record.event_id.clone()).collect(),
            entities: entities.into_iter().collect(),
            first: first.time,
            last: last.time,
            group: vec![
                format!("api={}/{}", d.event_source, d.event_name),
                format!(
                    "insight={}",
                    if first.record.shared_event_id.is_empty() {
                        &first.record.event_id
                    } else {
                        &first.record.shared_event_id
                    }
                ),
                format!(
                    "state={}",
                    chunk
                        .iter()
                        .map(|i| i.record.insight_details.state.as_str())
                        .collect::<Vec<_>>()
                        .join("→")
                ),
            ],
        });
    }
    out
}
