//! The hunter: the rules compiled once (with their correlations' shapes and the lists), and the
//! first half run — every record matched on all cores (`gather.rs`); the second half, the
//! correlations and the detections, is `correlate.rs`. Broad hunting rules match most of a trail
//! (SigmaHQ's "AssumeRole misuse" matches every role session's call), so nothing is kept per
//! match that is not needed.

use super::correlate::{GroupField, Shape, engine_config};
use super::gate::{GATE_FIELDS, Gate};
use super::gather::{CHEAP_FIELDS, HuntSink, Matches};
use super::rules::{RuleError, RuleSet, rule_key};
use crate::ingest::walk;
use crate::ingest::{IngestError, InputError, source};
use crate::model::Detection;
use crate::pivot::Window;
use rayon::prelude::*;
use rsigma_eval::{CorrelationEngine, EvaluationResult};
use rsigma_parser::{CorrelationCondition, CorrelationRule, Modifier, SigmaRule};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Rules that may feed correlations (a base event says which it matched in one `u128`).
const MAX_BASE_RULES: usize = 128;

/// Fields a rule's outcome may be remembered by: on every record, with few values — what was
/// called (`eventSource`, `eventName`), by what kind of identity, read-only or not, and how it
/// ended (`errorCode`). A rule that reads only these gives the same answer for every record
/// that has the same values, and a trail repeats a few hundred such combinations.
const MEMO_FIELDS: [&str; 8] = [
    "eventSource",
    "eventName",
    "errorCode",
    "userIdentity.type",
    "userIdentity.sessionContext.sessionIssuer.type",
    "readOnly",
    "eventType",
    "eventCategory",
];

/// The compiled rules.
pub struct Hunter {
    /// The rules that select no call and read what no field names (keywords, a field compared
    /// with another), evaluated on every record; and the correlations' checker.
    pub(super) engine: CorrelationEngine,
    /// How many rules [`Self::engine`] evaluates (none: it is not asked).
    pub(super) every: usize,
    /// The rules that select no call but read named fields (a user agent, a principal): one
    /// engine per set of fields read, evaluated once per combination of their values — a
    /// trail repeats its user agents.
    pub(super) keyed: Vec<Keyed>,
    /// The rules that read other fields but match only records of the calls their gates name
    /// (`gate.rs`): evaluated on a record only when one of [`Self::gates`] admits it, which is
    /// decided once per combination of what was called.
    pub(super) gated_engine: rsigma_eval::Engine,
    pub(super) gates: Vec<Gate>,
    /// The rules that read only [`MEMO_FIELDS`], evaluated once per combination of their values
    /// ([`Self::memo_fields`], in that order: those fields, and the gates' when there are
    /// gates, whose answer is remembered with the rules').
    pub(super) memo: rsigma_eval::Engine,
    pub(super) memo_fields: Vec<&'static str>,
    /// Rule keys (id, else title) by number, and the numbers of those that only feed
    /// correlations (`generate: false`): their matches alert through the correlation.
    pub(super) keys: Vec<String>,
    /// How correlations may name each rule (its id, else its `name`), by number.
    pub(super) refs: Vec<Option<String>>,
    pub(super) number: HashMap<String, u16>,
    /// The base rules of correlations, by bit (a base event's `rules`).
    pub(super) base: Vec<u16>,
    pub(super) silent: BTreeSet<u16>,
    /// What correlations read of a base event: [`CHEAP_FIELDS`], then their group-by and
    /// counted fields.
    pub(super) fields: Vec<String>,
    /// Per correlation (by key): its base rules (bits), its group-by fields (indexes into
    /// `fields`) and its timespan — to gather the whole burst a detection belongs to.
    pub(super) shapes: HashMap<String, Shape>,
    /// Each loaded correlation with its base rules: what an engine of one correlation (for one
    /// share of its groups) is built from.
    pub(super) correlations_of: Vec<(String, Vec<SigmaRule>, CorrelationRule)>,
    /// Threat lists (calls from their addresses are detections) and trusted lists (calls from
    /// theirs are not hunted).
    pub(super) intel: super::intel::Intel,
    pub rules: usize,
    /// Of those, the rules evaluated once per combination of [`MEMO_FIELDS`]' values.
    pub remembered: usize,
    /// Of those, the rules evaluated only on records of the calls their gates name.
    pub gated: usize,
    /// Of those, the rules evaluated once per combination of the values of the fields they read.
    pub keyed_rules: usize,
    pub correlations: usize,
    /// Rules that parsed but could not be compiled (or whose correlation names no rule).
    pub errors: Vec<RuleError>,
}

/// Rules that select no call and read the same named fields.
pub(super) struct Keyed {
    pub(super) fields: Vec<String>,
    pub(super) engine: rsigma_eval::Engine,
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
        Hunter::build(set, true)
    }

    /// [`Self::new`] with every rule that is not remembered evaluated on every record (no
    /// gates, no keyed groups) and every correlation group given to an engine: what those
    /// shortcuts are checked against.
    #[cfg(test)]
    pub(super) fn ungated(set: &RuleSet) -> Hunter {
        Hunter::build(set, false)
    }

    fn build(set: &RuleSet, gating: bool) -> Hunter {
        let mut h = Hunter {
            engine: CorrelationEngine::new(engine_config()),
            every: 0,
            keyed: Vec::new(),
            gated_engine: rsigma_eval::Engine::new(),
            gates: Vec::new(),
            memo: rsigma_eval::Engine::new(),
            memo_fields: Vec::new(),
            keys: Vec::new(),
            refs: Vec::new(),
            number: HashMap::default(),
            base: Vec::new(),
            silent: BTreeSet::new(),
            fields: CHEAP_FIELDS.iter().map(|f| f.to_string()).collect(),
            shapes: HashMap::default(),
            correlations_of: Vec::new(),
            intel: super::intel::Intel::default(),
            rules: 0,
            remembered: 0,
            gated: 0,
            keyed_rules: 0,
            correlations: 0,
            errors: set.errors.clone(),
        };
        let file_of = |key: &str| set.file_of(key).unwrap_or("(rules)").to_string();
        // Names (ids and `name`s) a correlation may use for a rule, to the rule's key.
        let mut known: HashMap<String, String> = HashMap::default();
        for r in &set.collection.rules {
            let key = rule_key(&r.id, &r.title);
            let reads = fields_read(r);
            let memo = reads
                .as_ref()
                .is_some_and(|f| f.iter().all(|f| MEMO_FIELDS.contains(&f.as_str())));
            let gate = if gating && !memo {
                Gate::of(r)
            } else {
                Gate::default()
            };
            // Fields read by name, and no call selected: remembered by those fields' values.
            let keyed_by = reads
                .as_ref()
                .filter(|f| {
                    gating
                        && !memo
                        && gate.is_empty()
                        && !f.is_empty()
                        && !f.iter().any(|f| f.contains('*'))
                })
                .map(|f| f.iter().cloned().collect::<Vec<String>>());
            let added = if memo {
                h.memo.add_rule(r).map_err(|e| e.to_string())
            } else if !gate.is_empty() {
                h.gated_engine.add_rule(r).map_err(|e| e.to_string())
            } else if let Some(fields) = keyed_by {
                match h.keyed.iter_mut().find(|k| k.fields == fields) {
                    Some(k) => k.engine.add_rule(r),
                    None => {
                        let mut engine = rsigma_eval::Engine::new();
                        let added = engine.add_rule(r);
                        if added.is_ok() {
                            h.keyed.push(Keyed { fields, engine });
                        }
                        added
                    }
                }
                .map_err(|e| e.to_string())
                .map(|()| h.keyed_rules += 1)
            } else {
                h.engine
                    .add_rule(r)
                    .map_err(|e| e.to_string())
                    .map(|()| h.every += 1)
            };
            match added {
                Ok(()) => {
                    if !gate.is_empty() {
                        h.gates.push(gate);
                        h.gated += 1;
                    }
                    if memo {
                        h.remembered += 1;
                        for f in reads.iter().flatten() {
                            if let Some(m) = MEMO_FIELDS.iter().find(|m| **m == f.as_str())
                                && !h.memo_fields.contains(m)
                            {
                                h.memo_fields.push(m);
                            }
                        }
                    }
                    h.rules += 1;
                    let n = h.keys.len() as u16;
                    h.number.insert(key.clone(), n);
                    h.keys.push(key.clone());
                    h.refs.push(r.id.clone().or_else(|| r.name.clone()));
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
        // The gates' answer is remembered with the remembered rules': its fields are in the key.
        if !h.gates.is_empty() {
            for f in GATE_FIELDS {
                if !h.memo_fields.contains(&f) {
                    h.memo_fields.push(f);
                }
            }
        }
        h.memo_fields
            .sort_by_key(|f| MEMO_FIELDS.iter().position(|m| m == f));
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
            let base_rules: Vec<SigmaRule> = set
                .collection
                .rules
                .iter()
                .filter(|r| {
                    r.id.iter()
                        .chain(r.name.iter())
                        .any(|n| c.rules.contains(n))
                })
                .cloned()
                .collect();
            h.correlations_of.push((key.clone(), base_rules, c.clone()));
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
            let pos = |f: &str| h.fields.iter().position(|x| x == f);
            let bit_of = |r: &str| {
                let n = known.get(r).and_then(|k| h.number.get(k))?;
                h.base.iter().position(|b| b == n)
            };
            let group: Vec<(String, GroupField)> = c
                .group_by
                .iter()
                .filter_map(|g| {
                    // An alias names a field per rule (`aliases: {user: {rule_a: …, rule_b: …}}`).
                    let at = match c.aliases.iter().find(|a| &a.alias == g) {
                        Some(a) => GroupField::Alias(
                            a.mapping
                                .iter()
                                .filter_map(|(r, f)| Some((1u128 << bit_of(r)?, pos(f)?)))
                                .collect(),
                        ),
                        None => GroupField::Field(pos(g)?),
                    };
                    Some((g.clone(), at))
                })
                .collect();
            let mut shape = Shape {
                mask,
                group,
                span_ms: c.timespan.seconds.saturating_mul(1000) as i64,
                least: 0,
            };
            if gating && !shape.aliased() {
                shape.least = least_matches(c);
            }
            h.shapes.insert(key, shape);
        }
        h
    }

    /// A match's rule number.
    pub(super) fn number_of(&self, r: &EvaluationResult) -> Option<u16> {
        let key = r.header.rule_id.as_ref().unwrap_or(&r.header.rule_title);
        self.number.get(key).copied()
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
        // One `Matches` per worker, not per file: joining maps every symbol again.
        let mut out = files
            .par_iter()
            .fold(Matches::default, |out, f| {
                let mut sink = HuntSink {
                    hunter: self,
                    window,
                    out,
                    parsed: HashMap::default(),
                    parsed_by_rule: HashMap::default(),
                    memo: Default::default(),
                    keyed: Vec::new(),
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
            parsed: HashMap::default(),
            parsed_by_rule: HashMap::default(),
            memo: Default::default(),
            keyed: Vec::new(),
        };
        match got {
            Ok(bytes) => walk::walk_bytes(name, bytes, &mut sink),
            Err(why) => sink.out.errors.push(IngestError::file(name, why)),
        }
        sink.out
    }
}

/// How many base-rule matches one group needs within the timespan before `c` can fire (0: no
/// such bound is known): a count (`event_count`) or distinct values (`value_count`) of at least
/// `n` needs `n` matches. A group with fewer in every window is not worth an engine's time.
/// Sequences count rules, not matches (one event may match two), and sums and averages may
/// be met by one event: no bound.
fn least_matches(c: &CorrelationRule) -> u64 {
    use rsigma_parser::{ConditionOperator, CorrelationType};
    let CorrelationCondition::Threshold { predicates, .. } = &c.condition else {
        return 0;
    };
    if !matches!(
        c.correlation_type,
        CorrelationType::EventCount | CorrelationType::ValueCount
    ) || c.timespan.seconds == 0
    {
        return 0;
    }
    predicates
        .iter()
        .map(|(op, n)| match op {
            ConditionOperator::Gte | ConditionOperator::Eq => *n,
            ConditionOperator::Gt => n.saturating_add(1),
            ConditionOperator::Lt | ConditionOperator::Lte | ConditionOperator::Neq => 0,
        })
        .max()
        .unwrap_or(0)
}

/// The fields `rule`'s detections read, or `None` when it reads what no field names: keywords
/// (any value of the record), array blocks, another field's value (`fieldref`).
fn fields_read(rule: &SigmaRule) -> Option<BTreeSet<String>> {
    use rsigma_parser::Detection;
    fn walk(d: &Detection, out: &mut BTreeSet<String>) -> Option<()> {
        match d {
            Detection::AllOf(items) => {
                for i in items {
                    if i.field.has_modifier(Modifier::FieldRef) {
                        return None;
                    }
                    out.insert(i.field.name.clone()?);
                }
                Some(())
            }
            Detection::AnyOf(ds) | Detection::And(ds) => ds.iter().try_for_each(|d| walk(d, out)),
            _ => None,
        }
    }
    let mut out = BTreeSet::new();
    for d in rule.detection.named.values() {
        walk(d, &mut out)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound of each correlation of `yaml` (a base rule named `b` is given).
    fn least(yaml: &str) -> u64 {
        let mut set = RuleSet::default();
        set.add(
            "t.yml",
            &format!(
                "title: b\nname: b\nlogsource: {{product: aws, service: cloudtrail}}\n\
                 detection: {{s: {{eventName: X}}, condition: s}}\n---\n\
                 title: c\ncorrelation:\n  rules: [b]\n  group-by: [userIdentity.arn]\n{yaml}"
            ),
        );
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let c = set.collection.correlations.first().expect("a correlation");
        least_matches(c)
    }

    #[test]
    fn counts_bound_a_group_and_sequences_and_sums_do_not() {
        let count = "  type: event_count\n  timespan: 10m\n  condition:";
        assert_eq!(least(&format!("{count} {{gte: 10}}\n")), 10);
        assert_eq!(least(&format!("{count} {{gt: 9}}\n")), 10);
        assert_eq!(least(&format!("{count} {{gt: 9, lte: 20}}\n")), 10);
        assert_eq!(least(&format!("{count} {{lt: 3}}\n")), 0);
        assert_eq!(
            least(
                "  type: value_count\n  timespan: 10m\n  condition: {field: eventName, gte: 25}\n"
            ),
            25
        );
        assert_eq!(
            least("  type: value_sum\n  timespan: 10m\n  condition: {field: n, gte: 25}\n"),
            0
        );
        assert_eq!(
            least("  type: temporal\n  timespan: 10m\n  condition: {gte: 2}\n"),
            0
        );
    }
}
