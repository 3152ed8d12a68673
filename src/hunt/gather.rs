//! The first half of a hunt, on the loader's threads: each record matched (the rules that read
//! only what was called and how it ended once per combination of those values, the rules that
//! select no call but read named fields once per combination of theirs, the rules gated by a
//! call only on records of it, the rest on every record), and what the second half needs of a
//! match kept — a plain rule's matches
//! gathered by rule and principal, a correlation's base events as their time, id and the fields
//! correlations read (symbols), calls from listed addresses, Insights events.

use super::gate::gate_values;
use super::insight::{InsightEvent, InsightRecord};
use super::record::Record;
use super::run::Hunter;
use crate::ingest::cloudtrail::record_time_of;
use crate::ingest::walk::{Kind, Rec, Sink};
use crate::ingest::{self, IngestError, flow};
use crate::model::arn::classify_identifier;
use crate::model::entity::{caller_address, caller_address_text};
use crate::model::event_id::EventId;
use crate::model::{Detection, EntityId, EntityKind, Ts};
use crate::pivot::Window;
use indexmap::IndexSet;
use rsigma_eval::{EvaluationResult, Event, EventValue};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Events per file of one detection (a rule's matches by one principal), and of one rule,
/// whose entities come from the full entity model (the typed parse); past either, a match names
/// its principal, address, user agent and key only. Counted per principal too, so that one
/// busy principal does not leave the others' detections without their targets; bounded per
/// rule so that a rule which matches most of a trail (SigmaHQ's "AssumeRole misuse" matches
/// every role session's call) does not parse most of it.
const FULL_PARSE_PER_DETECTION: usize = 32;
const FULL_PARSE_PER_RULE: usize = 1_000;

/// The text of a hunt's symbols: each string once, its symbol its position (Fx-hashed: the keys
/// are log text, looked up for every field of every match).
pub(super) type Strings = IndexSet<Box<str>, rustc_hash::FxBuildHasher>;

/// The fields read from every match for the entities it names cheaply, and its region.
pub(super) const CHEAP_FIELDS: [&str; 5] = [
    "userIdentity.arn",
    "sourceIPAddress",
    "userAgent",
    "userIdentity.accessKeyId",
    "awsRegion",
];

/// A match's [`CHEAP_FIELDS`] (symbols in [`Matches::strings`]).
type Cheap = [Option<u32>; CHEAP_FIELDS.len()];

/// The text of field `i` of a base event's fields, when not empty.
fn field<'s>(fields: &[Option<u32>], i: usize, strings: &'s Strings) -> Option<&'s str> {
    fields
        .get(i)
        .copied()
        .flatten()
        .and_then(|s| strings.get_index(s as usize))
        .map(|s| &**s)
        .filter(|s| !s.is_empty())
}

/// The region of a match ([`CHEAP_FIELDS`]' last, a base event's fifth field).
pub(super) fn cheap_region<'s>(fields: &[Option<u32>], strings: &'s Strings) -> Option<&'s str> {
    field(fields, 4, strings)
}

/// The entities a match names cheaply: its principal, caller address, user agent and access key
/// ([`CHEAP_FIELDS`], the first four of a base event's fields).
pub(super) fn cheap_entities(fields: &[Option<u32>], strings: &Strings) -> Vec<EntityId> {
    let text = |i: usize| field(fields, i, strings);
    let mut out = Vec::with_capacity(4);
    out.extend(text(0).and_then(classify_identifier));
    out.extend(
        text(1)
            .and_then(caller_address_text)
            .map(|ip| EntityId::new(EntityKind::Ip, ip)),
    );
    out.extend(text(2).map(|ua| EntityId::new(EntityKind::Ua, ua)));
    out.extend(text(3).map(|k| EntityId::new(EntityKind::Key, k)));
    out
}

/// The entities named by the fields a base event was read for besides [`CHEAP_FIELDS`] (the
/// correlations' group-by and counted fields): the instances whose user data was read. A value
/// that names no entity (an API name, a count) names none.
pub(super) fn read_entities<'s>(
    fields: &'s [Option<u32>],
    strings: &'s Strings,
) -> impl Iterator<Item = EntityId> + 's {
    (CHEAP_FIELDS.len()..fields.len())
        .filter_map(|i| field(fields, i, strings))
        .filter_map(classify_identifier)
}

/// A plain rule's matches by one principal: their entities from the full parse, and the
/// cheap fields' values seen (symbols, made entities at the end: most matches repeat them).
#[derive(Default)]
pub(super) struct PlainAgg {
    events: Vec<(Ts, EventId)>,
    entities: BTreeSet<EntityId>,
    cheap: rustc_hash::FxHashSet<Cheap>,
}

impl PlainAgg {
    /// The matches as one detection, in time order, their cheap fields made entities.
    pub(super) fn into_detection(
        mut self,
        rule: String,
        title: String,
        level: String,
        attack: Vec<String>,
        group: Vec<String>,
        strings: &Strings,
    ) -> Detection {
        self.events.sort_unstable();
        self.events.dedup();
        let mut regions = BTreeSet::new();
        for c in &self.cheap {
            self.entities.extend(cheap_entities(c, strings));
            regions.extend(cheap_region(c, strings));
        }
        Detection {
            rule,
            title,
            level,
            attack,
            first: self.events.first().map_or(Ts(0), |e| e.0),
            last: self.events.last().map_or(Ts(0), |e| e.0),
            events: self.events.into_iter().map(|e| e.1.to_string()).collect(),
            entities: self.entities.into_iter().collect(),
            group,
            records: 0,
            regions: regions.into_iter().map(str::to_string).collect(),
        }
    }
}

/// A base event of a correlation: when, which, the base rules it matched (a bit per rule
/// number), and the fields correlations read (symbols in [`Matches::strings`]).
pub(super) struct BaseEvent {
    pub(super) time: Ts,
    pub(super) event_id: EventId,
    pub(super) rules: u128,
    pub(super) fields: Box<[Option<u32>]>,
}

/// The first half's result: the plain rules' matches gathered, the correlations' base events,
/// and what was read.
#[derive(Default)]
pub struct Matches {
    pub(super) plain: HashMap<(u16, u32), PlainAgg>,
    /// Calls from addresses on threat lists, by (list, address).
    pub(super) intel: HashMap<(u16, u32), PlainAgg>,
    /// Events skipped for a trusted list, by list.
    pub(super) suppressed: HashMap<u16, u64>,
    /// CloudTrail Insights events (rare: a few a day at most).
    pub(super) insights: Vec<InsightEvent>,
    pub(super) base: Vec<BaseEvent>,
    pub(super) strings: Strings,
    /// A result of each rule, to give the correlation engine in the second half.
    pub(super) templates: HashMap<u16, EvaluationResult>,
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

    pub fn join(mut self, mut other: Matches) -> Matches {
        // The side with more strings is kept and the other's symbols mapped onto it (a
        // thread's matches joined with a file's, not the other way round); what is reported in
        // order stays in order.
        if self.strings.len() < other.strings.len() {
            std::mem::swap(&mut self, &mut other);
            std::mem::swap(&mut self.errors, &mut other.errors);
            std::mem::swap(&mut self.insights, &mut other.insights);
        }
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
        self.errors.extend(other.errors);
        self.records += other.records;
        self.files += other.files;
        self
    }
}

/// Hunts one file (or object) into `out`.
pub(super) struct HuntSink<'h> {
    pub(super) hunter: &'h Hunter,
    pub(super) window: Window,
    pub(super) out: Matches,
    /// How many of each detection's matches (by rule and principal) in this file had the full
    /// entity parse: counted per file, so which matches have it does not depend on how files
    /// were shared among cores.
    pub(super) parsed: HashMap<(u16, u32), usize>,
    pub(super) parsed_by_rule: HashMap<u16, usize>,
    /// The remembered rules' matches, and whether a gated rule may match, by the values of the
    /// fields they read (see `Hunter::memo`).
    pub(super) memo: Memo,
    /// Each keyed group's matches by the values of the fields its rules read (see
    /// `Hunter::keyed`), in the same order.
    pub(super) keyed: Vec<Memo>,
}

/// Rule outcomes by the values of the fields the rules read, encoded: the rules' numbers that
/// matched, and (for the remembered rules) whether any gate admits such a record.
#[derive(Default)]
pub(super) struct Memo {
    seen: HashMap<Box<[u8]>, Outcome>,
    key: Vec<u8>,
    /// Lookups and hits so far: fields whose combinations rarely repeat (a principal and an
    /// address, read by SigmaHQ's instance-credential rule) cost a key and an entry per record
    /// for nothing, and are evaluated directly once that shows.
    looked: u32,
    hits: u32,
}

/// Lookups after which a memo that hits less than half the time is given up.
const MEMO_TRIAL: u32 = 4_096;

/// The rules' numbers that matched, and the flag remembered with them.
type Outcome = (Box<[u16]>, bool);

/// Combinations remembered per file at most (a hostile file of unique values costs memory
/// once, not without bound).
const MEMO_MAX: usize = 50_000;

impl Memo {
    /// The outcome for `record` by its values of `fields`: the matching rules' numbers into
    /// `out` and the flag `eval` returns, `eval` (which pushes the numbers itself) run only the
    /// first time a combination is seen. A record with an object or a list where a value was
    /// expected is evaluated on the spot, not remembered.
    fn recall(
        &mut self,
        fields: &[impl AsRef<str>],
        record: &Record<'_>,
        out: &mut Vec<u16>,
        eval: impl FnOnce(&mut Vec<u16>) -> bool,
    ) -> bool {
        if self.looked >= MEMO_TRIAL && self.hits < MEMO_TRIAL / 2 {
            return eval(out);
        }
        self.looked = self.looked.saturating_add(1);
        self.key.clear();
        let keyed = fields
            .iter()
            .all(|f| push_key(&mut self.key, record.get_field(f.as_ref()).as_ref()));
        if keyed && let Some((rules, flag)) = self.seen.get(&self.key[..]) {
            self.hits = self.hits.saturating_add(1);
            out.extend_from_slice(rules);
            return *flag;
        }
        let start = out.len();
        let flag = eval(out);
        if keyed && self.seen.len() < MEMO_MAX {
            let rules = out.get(start..).unwrap_or_default().into();
            self.seen.insert(self.key.as_slice().into(), (rules, flag));
        }
        flag
    }
}

impl HuntSink<'_> {
    /// The numbers of the remembered rules that match `record`, into `out`, and whether any
    /// gated rule may match it: both decided once per combination of the values of what was
    /// called and how it ended (`Hunter::memo_fields`, which hold the gates' fields).
    fn memo_matches(&mut self, record: &Record<'_>, out: &mut Vec<u16>) -> bool {
        let h = self.hunter;
        if h.memo.rule_count() == 0 && h.gates.is_empty() {
            return false;
        }
        let templates = &mut self.out.templates;
        self.memo.recall(&h.memo_fields, record, out, |out| {
            if h.memo.rule_count() > 0 {
                take(h, templates, h.memo.evaluate(record), out);
            }
            let values = gate_values(record);
            h.gates.iter().any(|g| g.admits(&values))
        })
    }

    /// The numbers of the keyed groups' rules that match `record`, into `out`: each group
    /// evaluated once per combination of the values of the fields its rules read.
    fn keyed_matches(&mut self, record: &Record<'_>, out: &mut Vec<u16>) {
        let h = self.hunter;
        if self.keyed.len() < h.keyed.len() {
            self.keyed.resize_with(h.keyed.len(), Memo::default);
        }
        let templates = &mut self.out.templates;
        for (group, memo) in h.keyed.iter().zip(self.keyed.iter_mut()) {
            memo.recall(&group.fields, record, out, |out| {
                take(h, templates, group.engine.evaluate(record), out);
                false
            });
        }
    }

    /// Reports `rec`, which is not a JSON object, with serde_json's word for what is wrong.
    fn refuse(&mut self, path: &Arc<PathBuf>, rec: &Rec<'_>) {
        let why = match serde_json::from_str::<serde::de::IgnoredAny>(rec.raw) {
            Err(e) => e.to_string(),
            Ok(_) => "not a JSON object".to_string(),
        };
        self.out.errors.push(IngestError::record(
            path,
            rec.line,
            rec.index,
            format!("invalid CloudTrail record: {why}"),
        ));
    }
}

/// The rule numbers of `results` into `out`, each rule's first result kept as its template.
fn take(
    h: &Hunter,
    templates: &mut HashMap<u16, EvaluationResult>,
    results: Vec<EvaluationResult>,
    out: &mut Vec<u16>,
) {
    for r in results {
        if let Some(n) = h.number_of(&r) {
            out.push(n);
            templates.entry(n).or_insert(r);
        }
    }
}

/// Appends a field's value to a memo key (a tag, then the value; a string's length first, so
/// that no two combinations encode alike). `false` for an object or a list where a value was
/// expected: such a record is not remembered.
fn push_key(key: &mut Vec<u8>, v: Option<&EventValue<'_>>) -> bool {
    match v {
        None => key.push(0),
        Some(EventValue::Str(s)) => {
            key.push(1);
            key.extend_from_slice(&(s.len() as u64).to_le_bytes());
            key.extend_from_slice(s.as_bytes());
        }
        Some(EventValue::Bool(b)) => key.extend_from_slice(&[2, u8::from(*b)]),
        Some(EventValue::Int(i)) => {
            key.push(3);
            key.extend_from_slice(&i.to_le_bytes());
        }
        Some(EventValue::Float(x)) => {
            key.push(4);
            key.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        Some(EventValue::Null) => key.push(5),
        Some(_) => return false,
    }
    true
}

/// A field's value as text, for a symbol (strings as they are, numbers and booleans written).
fn field_text(v: EventValue<'_>) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        EventValue::Str(s) => Some(s),
        EventValue::Int(n) => Some(n.to_string().into()),
        EventValue::Float(f) => Some(f.to_string().into()),
        EventValue::Bool(b) => Some(b.to_string().into()),
        _ => None,
    }
}

impl Sink for HuntSink<'_> {
    fn record(&mut self, path: &Arc<PathBuf>, rec: Rec<'_>) {
        if rec.kind != Kind::Trail {
            return;
        }
        self.out.records += 1;
        // Checked as JSON in full while its fields are found: a malformed record is refused
        // here, never hunted.
        let Some(record) = Record::parse(rec.raw) else {
            self.refuse(path, &rec);
            return;
        };
        // A plain `eventTime` read at once; anything else (absent, Panther's `p_event_time`, an
        // epoch number, an impossible date) as the ingest reads it, and refused as it refuses it.
        let plain = record.top_str("eventTime").and_then(|t| Ts::parse(&t));
        let time = match plain {
            Some(t) => t,
            None => {
                match record_time_of(record.top_raw("eventTime"), record.top_raw("p_event_time")) {
                    Ok(t) => t,
                    Err(e) => {
                        self.out.errors.push(IngestError::record(
                            path,
                            rec.line,
                            rec.index,
                            e.to_string(),
                        ));
                        return;
                    }
                }
            }
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
        let mut matched: Vec<u16> = Vec::new();
        let gate_open = self.memo_matches(&record, &mut matched);
        self.keyed_matches(&record, &mut matched);
        if h.every > 0 {
            take(
                h,
                &mut self.out.templates,
                h.engine.evaluate(&record),
                &mut matched,
            );
        }
        if gate_open {
            take(
                h,
                &mut self.out.templates,
                h.gated_engine.evaluate(&record),
                &mut matched,
            );
        }
        if matched.is_empty() && listed.is_none() {
            return;
        }
        let event_id = record.top_str("eventID").map_or_else(
            || EventId::Text(format!("vigil-line-{}", rec.line).into()),
            |s| EventId::new(&s),
        );
        // Correlations read more of a base event than a plain rule's match needs.
        let base_bits = matched
            .iter()
            .filter_map(|n| h.base.iter().position(|b| b == n))
            .fold(0u128, |bits, bit| bits | 1 << bit);
        let read = if base_bits == 0 {
            CHEAP_FIELDS.len()
        } else {
            h.fields.len()
        };
        let fields: Vec<Option<u32>> = h
            .fields
            .iter()
            .take(read)
            .map(|f| {
                record
                    .get_field(f)
                    .and_then(field_text)
                    .map(|t| self.out.sym(&t))
            })
            .collect();
        let principal = fields[0].unwrap_or_else(|| self.out.sym(""));
        let cheap: Cheap = std::array::from_fn(|i| fields[i]);
        let wants_full = |sink: &Self, n: u16| {
            !h.silent.contains(&n)
                && sink.parsed.get(&(n, principal)).copied().unwrap_or(0) < FULL_PARSE_PER_DETECTION
                && sink.parsed_by_rule.get(&n).copied().unwrap_or(0) < FULL_PARSE_PER_RULE
        };
        let full = matched
            .iter()
            .any(|n| wants_full(self, *n))
            .then(|| match ingest::parse_event(path, &rec) {
                Ok(ev) => ev.entities,
                Err(e) => {
                    self.out
                        .errors
                        .push(IngestError::record(path, rec.line, rec.index, e));
                    Vec::new()
                }
            });
        if let (Some(l), Some(ip)) = (listed, caller) {
            let ip = self.out.sym(&ip.to_string());
            let agg = self.out.intel.entry((l as u16, ip)).or_default();
            agg.events.push((time, event_id.clone()));
            agg.cheap.insert(cheap);
        }
        for n in matched {
            if !h.silent.contains(&n) {
                let want_full = wants_full(self, n);
                if want_full {
                    *self.parsed.entry((n, principal)).or_default() += 1;
                    *self.parsed_by_rule.entry(n).or_default() += 1;
                }
                let agg = self.out.plain.entry((n, principal)).or_default();
                agg.events.push((time, event_id.clone()));
                agg.cheap.insert(cheap);
                if want_full {
                    agg.entities.extend(full.iter().flatten().cloned());
                }
            }
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
