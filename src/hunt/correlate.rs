//! The second half of a hunt: the correlations (vigil's thresholds and sequences, as Sigma
//! correlation rules) over the matches' base events in time order — one engine per correlation
//! and share of its groups, on all cores — then every detection made: a plain rule's by rule and
//! principal, a correlation's by group and burst (every event of the group from its first
//! firing's window to a timespan after its last).

use super::gather::{BaseEvent, Matches, Strings, cheap_entities, cheap_region, read_entities};
use super::insight::insight_detections;
use super::rules::rule_key;
use super::run::{HuntResult, Hunter};
use crate::model::{Detection, EntityId, Ts};
use rayon::prelude::*;
use rsigma_eval::{
    CorrelationAction, CorrelationConfig, CorrelationEngine, CorrelationEventMode,
    EvaluationResult, Event, EventValue, ResultBody,
};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::hash::BuildHasher;

impl Hunter {
    /// The second half, over all the matches of a hunt's sources: the correlations in time
    /// order, then every detection in time order. A hunter correlates once (its correlations
    /// keep their windows' state).
    pub fn correlate(self, m: Matches) -> HuntResult {
        let Matches {
            plain,
            intel,
            suppressed,
            insights,
            mut base,
            strings,
            templates,
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
        // A firing's window is its group's events of the last timespan; the detection is the
        // whole burst: every event of the group's base rules from its first firing's window to
        // a timespan after its last firing.
        let (fired, by_group) = self.fire(&base, &strings, &templates);
        let group_of = |rule: &str, key: &Vec<Option<u32>>| {
            by_group
                .get(rule)
                .and_then(|g| g.get(key))
                .map_or(&[][..], Vec::as_slice)
        };
        let mut episodes: Vec<Episode> = Vec::new();
        // Each group's latest episode.
        let mut latest: HashMap<(String, Vec<Option<u32>>), usize> = HashMap::default();
        for f in fired {
            let Some(shape) = self.shapes.get(&f.rule) else {
                continue;
            };
            let members = group_of(&f.rule, &f.key);
            let time = base[f.at].time;
            // The engine's window: events at most a timespan (whole seconds) before this one.
            let from = time.millis().div_euclid(1000) * 1000 - shape.span_ms;
            let first = members
                .get(members.partition_point(|x| base[*x].time.millis() < from))
                .map_or(time, |x| base[*x].time.min(time));
            // One burst fires again and again: firings that touch the group's last episode
            // join it.
            let at = (f.rule.clone(), f.key.clone());
            match latest.get(&at).and_then(|i| episodes.get_mut(*i)) {
                Some(ep) if first <= ep.last => ep.last = ep.last.max(time),
                _ => {
                    latest.insert(at, episodes.len());
                    episodes.push(Episode {
                        header: f.header,
                        rule: f.rule,
                        key: f.key,
                        group: f.group,
                        first,
                        last: time,
                        events: Vec::new(),
                    });
                }
            }
        }
        for ep in &mut episodes {
            let Some(shape) = self.shapes.get(&ep.rule) else {
                continue;
            };
            let members = group_of(&ep.rule, &ep.key);
            if members.is_empty() {
                continue;
            }
            // Members are in time order: the burst is one run of them.
            let until = Ts(ep.last.millis().saturating_add(shape.span_ms));
            let from = members.partition_point(|x| base[*x].time < ep.first);
            let to = members.partition_point(|x| base[*x].time <= until);
            ep.events.extend(members.get(from..to).unwrap_or_default());
        }
        for mut ep in episodes {
            ep.events.sort_unstable();
            ep.events.dedup();
            let entities: BTreeSet<EntityId> = ep
                .events
                .iter()
                .flat_map(|x| {
                    let fields = &base[*x].fields;
                    cheap_entities(fields, &strings)
                        .into_iter()
                        .chain(read_entities(fields, &strings))
                })
                .collect();
            let regions: BTreeSet<&str> = ep
                .events
                .iter()
                .filter_map(|x| cheap_region(&base[*x].fields, &strings))
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
                regions: regions.into_iter().map(str::to_string).collect(),
            });
        }
        // A broad rule makes a detection per principal (tens of thousands over a busy day):
        // each is sorted and made entities on its own, so on every core.
        let plain: Vec<Detection> = plain
            .into_par_iter()
            .filter_map(|((rule, principal), agg)| {
                let h = templates.get(&rule).map(header)?;
                let group = strings
                    .get_index(principal as usize)
                    .filter(|p| !p.is_empty())
                    .map(|p| vec![format!("principal={p}")])
                    .unwrap_or_default();
                let rule = self.keys.get(rule as usize).cloned().unwrap_or_default();
                Some(agg.into_detection(rule, h.title, h.level, h.attack, group, &strings))
            })
            .collect();
        out.detections.extend(plain);
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
            .par_sort_by(|a, b| (a.first, &a.rule, &a.group).cmp(&(b.first, &b.rule, &b.group)));
        out
    }

    /// The correlations over the base events (in time order): each correlation's groups are
    /// shared out by their key among as many engines as there are cores, each fed its share
    /// in time order — a group's window and quiet time are its own, so the firings are those of
    /// one engine fed everything, found on every core. With the firings, the groups of each
    /// correlation that fired (by its key), whose events its detections are made of.
    fn fire(
        &self,
        base: &[BaseEvent],
        strings: &Strings,
        templates: &HashMap<u16, EvaluationResult>,
    ) -> (Vec<Firing>, HashMap<&str, Groups>) {
        // What the engines are given of a rule's match: which rule, nothing else. A rule with a
        // `name` and no id is given by its name (the engine finds a rule by the id a match
        // carries, and would miss it).
        let slim: HashMap<u16, EvaluationResult> = templates
            .iter()
            .map(|(n, t)| {
                let mut t = t.clone();
                t.header.rule_id = self.refs.get(usize::from(*n)).cloned().flatten();
                t.header.tags.clear();
                if let ResultBody::Detection(d) = &mut t.body {
                    d.matched_fields.clear();
                    d.matched_selections.clear();
                    d.event = None;
                }
                (*n, t)
            })
            .collect();
        // Each correlation's base events by group, a correlation per core (a broad base rule,
        // every read-only call, has half a trail's events), the groups that cannot fire left
        // out.
        let grouped: Vec<(usize, &Shape, Groups)> = self
            .correlations_of
            .par_iter()
            .enumerate()
            .filter_map(|(c, (key, _, _))| {
                let shape = self.shapes.get(key)?;
                let mut groups = Groups::default();
                for (i, e) in base.iter().enumerate() {
                    if e.rules & shape.mask != 0 {
                        groups.entry(shape.key_of(e)).or_default().push(i);
                    }
                }
                groups.retain(|_, events| shape.may_fire(events, base));
                Some((c, shape, groups))
            })
            .collect();
        let shares = rayon::current_num_threads().clamp(1, 64);
        let mut jobs: Vec<(usize, Vec<usize>)> = Vec::new();
        for (c, shape, groups) in &grouped {
            // An event matching two rules of an aliased group-by may belong to two groups at
            // once: such a correlation runs whole in one engine.
            let shares = if shape.aliased() { 1 } else { shares };
            let mut parts: Vec<Vec<usize>> = vec![Vec::new(); shares];
            for (key, events) in groups {
                let share = (rustc_hash::FxBuildHasher.hash_one(key) % shares as u64) as usize;
                if let Some(part) = parts.get_mut(share) {
                    part.extend(events);
                }
            }
            // Each engine is fed in time order (base events are).
            for part in &mut parts {
                part.sort_unstable();
            }
            jobs.extend(parts.into_iter().filter(|p| !p.is_empty()).map(|p| (*c, p)));
        }
        let mut fired: Vec<Firing> = jobs
            .into_par_iter()
            .flat_map_iter(|(c, events)| {
                let mut out = Vec::new();
                let Some((key, rules, corr)) = self.correlations_of.get(c) else {
                    return out.into_iter();
                };
                let Some(shape) = self.shapes.get(key) else {
                    return out.into_iter();
                };
                let mut engine = CorrelationEngine::new(engine_config());
                for r in rules {
                    // Compiled once already in `new`; an error cannot happen twice.
                    let _ = engine.add_rule(r);
                }
                if engine.add_correlation(corr).is_err() {
                    return out.into_iter();
                }
                for i in events {
                    let e = &base[i];
                    let results: Vec<EvaluationResult> = self
                        .base
                        .iter()
                        .enumerate()
                        .filter(|(bit, _)| e.rules & (1 << bit) != 0)
                        .filter_map(|(_, n)| slim.get(n).cloned())
                        .collect();
                    let event = Slim {
                        fields: &self.fields,
                        values: &e.fields,
                        strings,
                    };
                    for r in engine.process_with_detections(&event, results, engine_second(e)) {
                        let ResultBody::Correlation(body) = &r.body else {
                            continue;
                        };
                        out.push(Firing {
                            at: i,
                            rule: rule_key(&r.header.rule_id, &r.header.rule_title),
                            group: body
                                .group_key
                                .iter()
                                .map(|(f, v)| format!("{f}={v}"))
                                .collect(),
                            key: shape.key_named(&body.group_key, strings),
                            header: header(&r),
                        });
                    }
                }
                out.into_iter()
            })
            .collect();
        fired.sort_by(|a, b| (a.at, &a.rule, &a.group).cmp(&(b.at, &b.rule, &b.group)));
        // The groups of the correlations that fired, for their detections.
        let names: BTreeSet<&str> = fired.iter().map(|f| f.rule.as_str()).collect();
        let groups = grouped
            .into_iter()
            .filter_map(|(c, _, groups)| {
                let (key, _, _) = self.correlations_of.get(c)?;
                names
                    .contains(key.as_str())
                    .then_some((key.as_str(), groups))
            })
            .collect();
        (fired, groups)
    }
}

/// How every correlation engine runs.
pub(super) fn engine_config() -> CorrelationConfig {
    CorrelationConfig {
        // The events of a firing are gathered afterwards (the whole burst), not kept by the
        // engine.
        correlation_event_mode: CorrelationEventMode::None,
        // A group that fired is quiet for ten minutes: a burst of 100 000 calls fires a few
        // times (whose windows overlap and become one detection), not on every call.
        action_on_match: CorrelationAction::Alert,
        suppress: Some(600),
        emit_detections: false,
        ..CorrelationConfig::default()
    }
}

/// The time an engine is given a base event at: its second (the engine counts whole seconds,
/// and clamps the second to `0..=i64::MAX / 2`).
fn engine_second(e: &BaseEvent) -> i64 {
    e.time.millis().div_euclid(1000)
}

/// A correlation's base events by group (indexes into the base events, in time order).
type Groups = HashMap<Vec<Option<u32>>, Vec<usize>>;

/// A correlation's firing: at which base event, which rule, for which group.
struct Firing {
    at: usize,
    rule: String,
    group: Vec<String>,
    /// The group as symbols, to find its events.
    key: Vec<Option<u32>>,
    header: Header,
}

/// A base event as a correlation engine reads it: the fields correlations group and count by.
struct Slim<'a> {
    fields: &'a [String],
    values: &'a [Option<u32>],
    strings: &'a Strings,
}

impl Event for Slim<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let at = self.fields.iter().position(|f| f == path)?;
        let sym = self.values.get(at).copied().flatten()?;
        let text = self.strings.get_index(sym as usize)?;
        Some(EventValue::Str(std::borrow::Cow::Borrowed(text)))
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.values
            .iter()
            .flatten()
            .filter_map(|s| self.strings.get_index(*s as usize))
            .any(|t| pred(t))
    }

    fn all_string_values(&self) -> Vec<std::borrow::Cow<'_, str>> {
        self.values
            .iter()
            .flatten()
            .filter_map(|s| self.strings.get_index(*s as usize))
            .map(|t| std::borrow::Cow::Borrowed(&**t))
            .collect()
    }

    fn to_json(&self) -> serde_json::Value {
        let map = self
            .fields
            .iter()
            .zip(self.values)
            .filter_map(|(f, v)| {
                let text = self.strings.get_index((*v)? as usize)?;
                Some((f.clone(), serde_json::Value::String(text.to_string())))
            })
            .collect();
        serde_json::Value::Object(map)
    }
}

/// What a correlation groups and counts over.
pub(super) struct Shape {
    pub(super) mask: u128,
    /// Each group-by field: its name and where a base event has it.
    pub(super) group: Vec<(String, GroupField)>,
    pub(super) span_ms: i64,
    /// Base-rule matches a group needs within the timespan to fire (0: unknown; see
    /// `run::least_matches`).
    pub(super) least: u64,
}

/// Where a base event has a group-by field (in `fields`): one place, or, for an alias, one per
/// base rule (by its bit).
pub(super) enum GroupField {
    Field(usize),
    Alias(Vec<(u128, usize)>),
}

impl Shape {
    /// A base event's group (symbols; `None` where it lacks the field).
    fn key_of(&self, e: &BaseEvent) -> Vec<Option<u32>> {
        self.group
            .iter()
            .map(|(_, at)| {
                let f = match at {
                    GroupField::Field(f) => *f,
                    GroupField::Alias(per_rule) => {
                        per_rule.iter().find(|(bit, _)| e.rules & bit != 0)?.1
                    }
                };
                e.fields.get(f).copied().flatten()
            })
            .collect()
    }

    /// Whether an alias names the group-by field per rule (`aliases:`): an event matching two
    /// of the rules may then be in two groups.
    pub(super) fn aliased(&self) -> bool {
        self.group
            .iter()
            .any(|(_, at)| matches!(at, GroupField::Alias(_)))
    }

    /// Whether a group whose base events are `events` (indexes into `base`, in time order)
    /// can fire at all: some timespan (whole seconds, as the engine counts) holds the matches
    /// it needs. Groups are independent, so leaving out one that cannot fire changes no
    /// other's firings — and most principals of a busy day never come near a threshold.
    fn may_fire(&self, events: &[usize], base: &[BaseEvent]) -> bool {
        if self.least <= 1 {
            return true;
        }
        // What the engine is given: the second, and a match per base rule the event matched.
        let at = |i: usize| {
            base.get(i).map_or((0, 0), |e| {
                let second = engine_second(e).clamp(0, i64::MAX / 2);
                (second, u64::from((e.rules & self.mask).count_ones()))
            })
        };
        let span = self.span_ms / 1000;
        let (mut from, mut inside) = (0, 0u64);
        for (to, &i) in events.iter().enumerate() {
            let (second, n) = at(i);
            inside += n;
            while let Some(&j) = events.get(from)
                && from < to
                && at(j).0 < second - span
            {
                inside -= at(j).1;
                from += 1;
            }
            if inside >= self.least {
                return true;
            }
        }
        false
    }

    /// A firing's group (the engine names only the fields it had) as symbols.
    fn key_named(&self, pairs: &[(String, String)], strings: &Strings) -> Vec<Option<u32>> {
        self.group
            .iter()
            .map(|(name, _)| {
                let (_, v) = pairs.iter().find(|(k, _)| k == name)?;
                strings.get_index_of(v.as_str()).map(|s| s as u32)
            })
            .collect()
    }
}

/// A correlation's firings for one group, joined while they overlap.
struct Episode {
    rule: String,
    group: Vec<String>,
    /// The group as symbols, in the correlation's group-by order.
    key: Vec<Option<u32>>,
    header: Header,
    /// The first firing's window start and the last firing.
    first: Ts,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::event_id::EventId;

    /// Base events at these seconds, each matching the rules `bits`.
    fn events(at: &[(i64, u128)]) -> Vec<BaseEvent> {
        at.iter()
            .enumerate()
            .map(|(n, (secs, bits))| BaseEvent {
                time: Ts(1_714_560_000_000 + secs * 1000 + 999),
                event_id: EventId::new(&format!("e{n}")),
                rules: *bits,
                fields: Box::new([]),
            })
            .collect()
    }

    fn shape(least: u64, span_secs: i64) -> Shape {
        Shape {
            mask: 0b11,
            group: Vec::new(),
            span_ms: span_secs * 1000,
            least,
        }
    }

    fn may_fire(s: &Shape, base: &[BaseEvent]) -> bool {
        let all: Vec<usize> = (0..base.len()).collect();
        s.may_fire(&all, base)
    }

    #[test]
    fn a_group_may_fire_only_with_enough_matches_within_one_timespan() {
        let three = shape(3, 600);
        // Three within ten minutes, the last exactly a timespan after the first (the engine
        // keeps what is not older than the timespan, in whole seconds).
        assert!(may_fire(&three, &events(&[(0, 1), (300, 1), (600, 1)])));
        assert!(!may_fire(&three, &events(&[(0, 1), (300, 1), (601, 1)])));
        // The window slides: the first is gone, three later ones are close enough.
        assert!(may_fire(
            &three,
            &events(&[(0, 1), (700, 1), (800, 1), (900, 1)])
        ));
        assert!(!may_fire(&three, &events(&[(0, 1), (1, 1)])));
        // An event that matched two base rules is given to the engine twice; a rule outside
        // the correlation is not.
        assert!(may_fire(&three, &events(&[(0, 0b11), (60, 1)])));
        assert!(!may_fire(&three, &events(&[(0, 0b101), (60, 1)])));
        // No bound known: every group goes to the engine.
        assert!(may_fire(&shape(0, 600), &events(&[(0, 1)])));
        assert!(may_fire(&shape(1, 600), &events(&[(0, 1)])));
    }
}
