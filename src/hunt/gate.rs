//! A rule's gate: what a record must have been called to be matched at all — `eventName` one of
//! these, `eventSource` one of those — read off the rule's detections and conditions. Most
//! SigmaHQ CloudTrail rules select an API call and then test something else (a user agent, a
//! request parameter); a record of any other call cannot match them, and a trail repeats a few
//! hundred calls, so whether any gated rule is possible is decided once per call, not once per
//! record.
//!
//! A gate is necessary, never sufficient: it may let through a record the rule then does not
//! match, and never stops one the rule would match (a value that is not a plain string is let
//! through; a `not`, a keyword or a modifier adds no condition).

use rsigma_eval::{Event, EventValue};
use rsigma_parser::{ConditionExpr, Detection, Quantifier, SelectorPattern, SigmaRule, SigmaValue};
use std::collections::{BTreeMap, BTreeSet};

/// The fields a gate may test: what was called and its kind, on every record, with few values.
pub const GATE_FIELDS: [&str; 4] = ["eventSource", "eventName", "eventType", "eventCategory"];

/// Per field, the values (lowercased, as Sigma compares them) one of which it must hold. Empty
/// when the rule's detections say nothing that every match must satisfy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gate(BTreeMap<&'static str, BTreeSet<String>>);

impl Gate {
    /// The gate of `rule`: what each of its conditions needs, any one of which holds on a match.
    pub fn of(rule: &SigmaRule) -> Gate {
        let named = &rule.detection.named;
        any(rule
            .detection
            .conditions
            .iter()
            .map(|c| condition(c, named)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a record whose [`GATE_FIELDS`] hold `values` (in that order) may match.
    pub fn admits(&self, values: &[Option<EventValue<'_>>]) -> bool {
        self.0.iter().all(|(field, allowed)| {
            let at = GATE_FIELDS.iter().position(|f| f == field);
            match at.and_then(|i| values.get(i)) {
                // Absent: a plain string value never matches a missing field.
                Some(None) => false,
                Some(Some(EventValue::Str(s))) => allowed.contains(&s.to_lowercase()),
                // A list, a number, an object: Sigma may still match it; let it through.
                _ => true,
            }
        })
    }
}

/// Reads the [`GATE_FIELDS`] of a record, for [`Gate::admits`].
pub fn gate_values<'e>(record: &'e impl Event) -> [Option<EventValue<'e>>; GATE_FIELDS.len()] {
    GATE_FIELDS.map(|f| record.get_field(f))
}

/// Both hold: every field either constrains, constrained to the values both allow.
fn all(gates: impl IntoIterator<Item = Gate>) -> Gate {
    let mut out: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for g in gates {
        for (field, values) in g.0 {
            match out.get_mut(field) {
                Some(have) => have.retain(|v| values.contains(v)),
                None => {
                    out.insert(field, values);
                }
            }
        }
    }
    Gate(out)
}

/// One of them holds: only the fields every one constrains, to any value one allows. No
/// alternatives at all is no condition (not "never"): the engine decides such a rule.
fn any(gates: impl IntoIterator<Item = Gate>) -> Gate {
    let mut gates = gates.into_iter();
    let Some(first) = gates.next() else {
        return Gate::default();
    };
    gates.fold(first, |acc, g| {
        let mut out = BTreeMap::new();
        for (field, mut values) in acc.0 {
            if let Some(more) = g.0.get(field) {
                values.extend(more.iter().cloned());
                out.insert(field, values);
            }
        }
        Gate(out)
    })
}

fn condition(c: &ConditionExpr, named: &std::collections::HashMap<String, Detection>) -> Gate {
    match c {
        ConditionExpr::Identifier(name) => named.get(name).map(detection).unwrap_or_default(),
        ConditionExpr::And(cs) => all(cs.iter().map(|c| condition(c, named))),
        ConditionExpr::Or(cs) => any(cs.iter().map(|c| condition(c, named))),
        ConditionExpr::Not(_) => Gate::default(),
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let chosen = named
                .iter()
                .filter(|(name, _)| selects(pattern, name))
                .map(|(_, d)| detection(d));
            match quantifier {
                Quantifier::All => all(chosen),
                Quantifier::Any | Quantifier::Count(1..) => any(chosen),
                Quantifier::Count(0) => Gate::default(),
            }
        }
    }
}

/// Whether a selector's pattern (`them`, or a name with `*` wildcards) names `name`.
fn selects(pattern: &SelectorPattern, name: &str) -> bool {
    match pattern {
        // `them` leaves out identifiers that begin with an underscore (Sigma's specification).
        SelectorPattern::Them => !name.starts_with('_'),
        SelectorPattern::Pattern(p) => glob(p.as_bytes(), name.as_bytes()),
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

fn detection(d: &Detection) -> Gate {
    match d {
        Detection::AllOf(items) => all(items.iter().filter_map(|item| {
            let name = item.field.name.as_deref()?;
            let field = GATE_FIELDS.iter().find(|f| **f == name)?;
            if !item.field.modifiers.is_empty() || item.values.is_empty() {
                return None;
            }
            let values = item
                .values
                .iter()
                .map(|v| match v {
                    // An empty value may stand for a missing field: no condition.
                    SigmaValue::String(s) => s
                        .as_plain()
                        .filter(|p| !p.is_empty())
                        .map(|p| p.to_lowercase()),
                    _ => None,
                })
                .collect::<Option<BTreeSet<String>>>()?;
            Some(Gate(BTreeMap::from([(*field, values)])))
        })),
        Detection::AnyOf(ds) => any(ds.iter().map(detection)),
        _ => Gate::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hunt::Hunter;
    use crate::hunt::record::Record;
    use crate::pivot::Window;
    use rsigma_parser::parse_sigma_yaml;

    fn gate(yaml: &str) -> Gate {
        let rules = parse_sigma_yaml(yaml).unwrap().rules;
        Gate::of(&rules[0])
    }

    fn rule(detection: &str) -> String {
        format!(
            "title: t\nlogsource: {{product: aws, service: cloudtrail}}\ndetection:\n{detection}"
        )
    }

    fn admits(g: &Gate, record: &str) -> bool {
        let r = Record::parse(record).unwrap();
        g.admits(&gate_values(&r))
    }

    #[test]
    fn a_selected_call_gates_and_other_tests_do_not() {
        let g = gate(&rule(
            "  selection:\n    eventSource: ec2.amazonaws.com\n    eventName:\n      - RunInstances\n      - StartInstances\n    userAgent|contains: kali\n  condition: selection\n",
        ));
        assert!(admits(
            &g,
            r#"{"eventSource":"EC2.amazonaws.com","eventName":"runinstances"}"#
        ));
        assert!(!admits(
            &g,
            r#"{"eventSource":"ec2.amazonaws.com","eventName":"StopInstances"}"#
        ));
        assert!(
            !admits(&g, r#"{"eventSource":"ec2.amazonaws.com"}"#),
            "absent"
        );
        assert!(
            admits(
                &g,
                r#"{"eventSource":"ec2.amazonaws.com","eventName":["RunInstances"]}"#
            ),
            "a list is let through"
        );
    }

    #[test]
    fn or_keeps_only_what_every_branch_needs_and_not_needs_nothing() {
        let g = gate(&rule(
            "  a:\n    eventName: CreateUser\n  b:\n    eventName: CreateAccessKey\n    eventSource: iam.amazonaws.com\n  condition: a or b\n",
        ));
        assert!(
            admits(&g, r#"{"eventName":"CreateUser"}"#),
            "eventSource is not needed"
        );
        assert!(!admits(
            &g,
            r#"{"eventName":"DeleteUser","eventSource":"iam.amazonaws.com"}"#
        ));
        assert!(admits(
            &g,
            r#"{"eventName":"CreateAccessKey","eventSource":"x"}"#
        ));
        let g = gate(&rule(
            "  a:\n    eventName: CreateUser\n  b:\n    userAgent: x\n  condition: a or b\n",
        ));
        assert!(g.is_empty(), "one branch needs no call");
        let g = gate(&rule(
            "  a:\n    eventName: CreateUser\n  condition: not a\n",
        ));
        assert!(g.is_empty());
        let g = gate(&rule(
            "  sel:\n    eventName: CreateUser\n  filter:\n    eventName: DeleteUser\n  condition: sel and not filter\n",
        ));
        assert!(admits(&g, r#"{"eventName":"createuser"}"#));
        assert!(!admits(&g, r#"{"eventName":"DeleteUser"}"#));
    }

    #[test]
    fn selectors_wildcards_and_modifiers() {
        let g = gate(&rule(
            "  selection_a:\n    eventName: A\n  selection_b:\n    eventName: B\n  _filter:\n    eventName: C\n  condition: 1 of selection_*\n",
        ));
        assert!(admits(&g, r#"{"eventName":"b"}"#));
        assert!(!admits(&g, r#"{"eventName":"C"}"#));
        let g = gate(&rule(
            "  s1:\n    eventName: A\n  s2:\n    eventSource: x\n  condition: all of them\n",
        ));
        assert!(admits(&g, r#"{"eventName":"A","eventSource":"X"}"#));
        assert!(!admits(&g, r#"{"eventName":"A","eventSource":"y"}"#));
        // A wildcard, a modifier, a list of mappings with one free branch: no gate.
        for d in [
            "  s:\n    eventName: Create*\n  condition: s\n",
            "  s:\n    eventName|startswith: Create\n  condition: s\n",
            "  s:\n    - eventName: A\n    - userAgent: b\n  condition: s\n",
            "  s:\n    - evil\n  condition: s\n",
            "  s:\n    eventName: ''\n  condition: s\n",
        ] {
            assert!(gate(&rule(d)).is_empty(), "{d}");
        }
    }

    #[test]
    fn gated_hunts_find_what_ungated_hunts_find_on_real_trails() {
        // Stratus Red Team's detonations, Panther's labelled events and the CloudTrail User
        // Guide's examples: every bundled rule's matches with and without gates.
        let set = crate::hunt::RuleSet::bundled();
        let (gated, ungated) = (Hunter::new(&set), Hunter::ungated(&set));
        assert!(
            gated.gated * 2 > gated.rules - gated.remembered,
            "{} gated",
            gated.gated
        );
        assert_eq!(ungated.gated, 0);
        let paths = [std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/public"
        ))];
        let hunt = |h: Hunter| {
            let m = h.scan(&paths, Window::all()).unwrap();
            h.correlate(m)
        };
        let (a, b) = (hunt(gated), hunt(ungated));
        assert!(a.records > 300, "{} records", a.records);
        assert!(a.detections.len() > 30, "{} detections", a.detections.len());
        assert_eq!(a.detections, b.detections);
    }
}
