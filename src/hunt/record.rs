//! One CloudTrail record as the Sigma engine sees it, read lazily: the top-level fields are
//! located once by their quotes and brackets (`ingest::split::members`: borrowed from the
//! record's text, nothing parsed below them), a nested object is split only when a rule asks
//! for a field inside it, and the whole record parsed only for keyword rules. Most rules test `eventSource` and `eventName` first and stop there, so a hunt over a
//! million records parses very little.

use crate::ingest::split::{checked_members, members};
use rsigma_eval::{Event, EventValue, JsonEvent};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::OnceCell;

/// A record's top-level field: its name, its JSON text, and (once asked for) the field parsed
/// as a one-key object, for paths below it.
struct Top<'a> {
    key: Cow<'a, str>,
    raw: &'a str,
    /// A string field's text, decoded once: eighty rules ask for `eventSource` and `eventName`.
    text: OnceCell<Option<Cow<'a, str>>>,
    /// The field's value, for a plain dotted path below it (`userIdentity.type`).
    node: Node<'a>,
    /// The field as a one-key object (`{"key": value}`), the shape rsigma walks any other path
    /// from (through arrays, with brackets or escapes).
    nested: OnceCell<Value>,
}

/// A value below the top, split into its members (borrowed from the record's text) only when a
/// path walks through it. Every record is asked for `userIdentity.type` and its session
/// issuer's; building `userIdentity` as a `Value` tree for that cost a tenth of a hunt.
struct Node<'a> {
    raw: &'a str,
    /// `None` when the value is not an object.
    members: OnceCell<Option<Members<'a>>>,
}

/// An object's members in their order (a repeated key kept each time).
type Members<'a> = Vec<(Cow<'a, str>, Node<'a>)>;

impl<'a> Node<'a> {
    fn new(raw: &'a str) -> Node<'a> {
        Node {
            raw,
            members: OnceCell::new(),
        }
    }

    /// The member `key` of this object: the last of a repeated key, as serde_json's `Value`
    /// has it. `Err` when this is not an object.
    fn get(&self, key: &str) -> Result<Option<&Node<'a>>, ()> {
        // The record was checked as JSON in full when it was split: below the top, its
        // objects are split again without checking.
        let members = self.members.get_or_init(|| {
            checked_members(self.raw)?
                .map(|(k, v)| Some((string(k)?, Node::new(v))))
                .collect()
        });
        match members {
            Some(m) => Ok(m.iter().rev().find(|(k, _)| k == key).map(|(_, n)| n)),
            None => Err(()),
        }
    }
}

/// A JSON string's text (`"…"` as written): borrowed when it has no escapes, else decoded;
/// `None` when it is not a string or an escape is malformed.
fn string(quoted: &str) -> Option<Cow<'_, str>> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    // Most strings here are keys and short values: a loop over them beats a search call.
    let escaped = if inner.len() < 32 {
        inner.bytes().any(|c| c == b'\\')
    } else {
        memchr::memchr(b'\\', inner.as_bytes()).is_some()
    };
    if escaped {
        serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// A scalar's value (a string borrowed when it has no escapes); `None` for an object or a list.
fn scalar(text: &str) -> Option<EventValue<'_>> {
    match text.as_bytes().first() {
        Some(b'"') => string(text).map(EventValue::Str),
        Some(b'{') | Some(b'[') | None => None,
        _ => match serde_json::from_str::<Value>(text) {
            Ok(Value::Bool(b)) => Some(EventValue::Bool(b)),
            Ok(Value::Null) => Some(EventValue::Null),
            Ok(Value::Number(n)) => Some(match n.as_i64() {
                Some(i) => EventValue::Int(i),
                None => EventValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            }),
            _ => None,
        },
    }
}

impl<'a> Top<'a> {
    fn text(&self) -> Option<&Cow<'a, str>> {
        self.text.get_or_init(|| string(self.raw)).as_ref()
    }
}

pub struct Record<'a> {
    fields: Vec<Top<'a>>,
    /// Where each of the [`HOT`] keys is in `fields` (position + 1; 0 when absent): the rules
    /// ask for these on every record, and a `match` on the name beats comparing it with each
    /// of the record's thirty keys.
    hot: [u16; HOT.len()],
    full: OnceCell<JsonEvent<'static>>,
    text: &'a str,
}

/// The top-level keys of a CloudTrail record (the record contents the CloudTrail User Guide
/// documents), given slots by [`hot_slot`].
const HOT: [&str; 20] = [
    "eventSource",
    "eventName",
    "userIdentity",
    "eventTime",
    "eventID",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "readOnly",
    "requestParameters",
    "responseElements",
    "awsRegion",
    "eventType",
    "eventCategory",
    "recipientAccountId",
    "additionalEventData",
    "resources",
    "managementEvent",
    "serviceEventDetails",
];

/// A [`HOT`] key's slot.
fn hot_slot(key: &str) -> Option<usize> {
    Some(match key {
        "eventSource" => 0,
        "eventName" => 1,
        "userIdentity" => 2,
        "eventTime" => 3,
        "eventID" => 4,
        "sourceIPAddress" => 5,
        "userAgent" => 6,
        "errorCode" => 7,
        "errorMessage" => 8,
        "readOnly" => 9,
        "requestParameters" => 10,
        "responseElements" => 11,
        "awsRegion" => 12,
        "eventType" => 13,
        "eventCategory" => 14,
        "recipientAccountId" => 15,
        "additionalEventData" => 16,
        "resources" => 17,
        "managementEvent" => 18,
        "serviceEventDetails" => 19,
        _ => return None,
    })
}

impl<'a> Record<'a> {
    /// The record `text` (one JSON object, checked as JSON in full while its fields are
    /// found); `None` when it is not one.
    pub fn parse(text: &'a str) -> Option<Record<'a>> {
        let found = members(text)?;
        let mut fields = Vec::with_capacity(found.len());
        let mut hot = [0u16; HOT.len()];
        for (i, (key, raw)) in found.into_iter().enumerate() {
            let key = string(key)?;
            // The last of a repeated key, as serde_json's `Value` (the whole-record view) has it.
            if let (Some(slot), Ok(at)) = (hot_slot(&key), u16::try_from(i + 1)) {
                hot[slot] = at;
            }
            fields.push(Top {
                key,
                raw,
                text: OnceCell::new(),
                node: Node::new(raw),
                nested: OnceCell::new(),
            });
        }
        Some(Record {
            fields,
            hot,
            full: OnceCell::new(),
            text,
        })
    }

    fn top(&self, key: &str) -> Option<&Top<'a>> {
        match hot_slot(key) {
            Some(slot) => match self.hot[slot] {
                0 => None,
                at => self.fields.get(usize::from(at) - 1),
            },
            None => self.fields.iter().rev().find(|t| t.key == key),
        }
    }

    /// A top-level string field (borrowed when it has no escapes).
    pub fn top_str(&self, key: &str) -> Option<Cow<'a, str>> {
        self.top(key)?.text().cloned()
    }

    /// A top-level field's JSON text as written.
    pub fn top_raw(&self, key: &str) -> Option<&'a str> {
        self.top(key).map(|t| t.raw)
    }

    fn full(&self) -> &JsonEvent<'static> {
        self.full.get_or_init(|| {
            let mut v: Value = serde_json::from_str(self.text).unwrap_or(Value::Null);
            // `eventID` as `id`, the field rsigma reads a correlation's event reference from.
            if let (Value::Object(m), Some(id)) = (&mut v, self.top_str("eventID")) {
                m.entry("id")
                    .or_insert_with(|| Value::String(id.into_owned()));
            }
            JsonEvent::owned(v)
        })
    }
}

/// The part of a field path before its first `.` or `[` (Sigma's nested-field syntax).
fn root_of(path: &str) -> &str {
    // Bytes, not a `char` pattern: asked for every field a rule reads, of every record.
    let end = path
        .bytes()
        .position(|b| b == b'.' || b == b'[')
        .unwrap_or(path.len());
    &path[..end]
}

impl Event for Record<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        if let Some(top) = self.top(path) {
            return match top.raw.as_bytes().first() {
                Some(b'"') => top.text().map(|t| EventValue::Str(Cow::Borrowed(&**t))),
                Some(b'{') | Some(b'[') => nested(top).get(path).map(EventValue::from),
                _ => scalar(top.raw),
            };
        }
        let root = root_of(path);
        if root.len() == path.len() {
            return None;
        }
        let top = self.top(root)?;
        // A plain dotted path to a scalar is walked directly; anything else (arrays on the
        // way, escapes, brackets, an object at the end) the way rsigma walks it, its answer
        // copied out.
        if !path.bytes().any(|b| b == b'[' || b == b'\\') {
            let mut at = &top.node;
            let mut plain = true;
            for part in path[root.len() + 1..].split('.') {
                match at.get(part) {
                    Ok(Some(n)) => at = n,
                    Ok(None) => return None,
                    Err(()) => {
                        plain = false;
                        break;
                    }
                }
            }
            if plain && let Some(v) = scalar(at.raw) {
                return Some(v);
            }
        }
        JsonEvent::borrow(nested(top)).get_field(path).map(owned)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.full().any_string_value(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.full().all_string_values()
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.full().visit_string_values(visit)
    }

    fn to_json(&self) -> Value {
        self.full().to_json()
    }

    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        Some(self.fields.iter().map(|t| Cow::Borrowed(&*t.key)).collect())
    }

    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        for t in &self.fields {
            visit(&t.key);
        }
        true
    }
}

/// The field as a one-key object, parsed on first use.
fn nested<'r>(top: &'r Top<'_>) -> &'r Value {
    top.nested.get_or_init(|| {
        let v: Value = serde_json::from_str(top.raw).unwrap_or(Value::Null);
        let mut m = serde_json::Map::new();
        m.insert(top.key.to_string(), v);
        Value::Object(m)
    })
}

/// A value that outlives the event it was read from.
fn owned(v: EventValue<'_>) -> EventValue<'static> {
    match v {
        EventValue::Str(s) => EventValue::Str(Cow::Owned(s.into_owned())),
        EventValue::Int(n) => EventValue::Int(n),
        EventValue::Float(f) => EventValue::Float(f),
        EventValue::Bool(b) => EventValue::Bool(b),
        EventValue::Null => EventValue::Null,
        EventValue::Array(a) => EventValue::Array(a.into_iter().map(owned).collect()),
        EventValue::Map(m) => EventValue::Map(
            m.into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), owned(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_top_nested_and_escaped_read_as_the_json_says() {
        let text = r#"{"eventName":"Run\"Instances","readOnly":false,"n":3,"x":null,
            "requestParameters":{"instanceType":"p3.2xlarge","items":[{"a":"b"}]},
            "eventID":"e1"}"#;
        let r = Record::parse(text).unwrap();
        assert_eq!(
            r.get_field("eventName"),
            Some(EventValue::Str("Run\"Instances".into()))
        );
        assert_eq!(r.get_field("readOnly"), Some(EventValue::Bool(false)));
        assert_eq!(r.get_field("n"), Some(EventValue::Int(3)));
        assert_eq!(r.get_field("x"), Some(EventValue::Null));
        assert_eq!(
            r.get_field("requestParameters.instanceType"),
            Some(EventValue::Str("p3.2xlarge".into()))
        );
        assert_eq!(r.get_field("requestParameters.missing"), None);
        assert_eq!(r.get_field("requestParameters.instanceType.x"), None);
        assert_eq!(
            r.get_field("requestParameters.items.a"),
            Some(EventValue::Str("b".into())),
            "through an array, as rsigma walks it"
        );
        assert_eq!(r.get_field("missing.field"), None);
        assert_eq!(r.to_json()["id"], "e1");
        assert!(r.any_string_value(&|s| s == "b"));
        assert!(Record::parse("[1,2]").is_none());
    }

    #[test]
    fn nested_paths_read_as_rsigma_reads_the_whole_record() {
        // A dotted key below the top (a tag key may hold dots), a repeated key, an escape, an
        // array of objects, a scalar on the way, null and numbers below the top.
        let text = r#"{"eventName":"A","eventName":"B","userIdentity":{"type":"AssumedRole","type":"Root",
            "sessionContext":{"sessionIssuer":{"type":"Ro\u006ce","n":7,"z":null}}},
            "requestParameters":{"tags":{"a.b":"x","a":{"b":"y"}},
            "list":[{"k":"v1"},{"k":"v2"}],"s":"t"}}"#;
        let r = Record::parse(text).unwrap();
        let whole = JsonEvent::owned(serde_json::from_str(text).unwrap());
        for path in [
            "eventName",
            "userIdentity.type",
            "userIdentity.sessionContext.sessionIssuer.type",
            "userIdentity.sessionContext.sessionIssuer.n",
            "userIdentity.sessionContext.sessionIssuer.z",
            "userIdentity.sessionContext.sessionIssuer.missing",
            "userIdentity.sessionContext",
            "requestParameters.tags.a.b",
            "requestParameters.list.k",
            "requestParameters.s.t",
            "requestParameters.list[1].k",
        ] {
            assert_eq!(r.get_field(path), whole.get_field(path), "{path}");
        }
        assert_eq!(
            r.get_field("requestParameters.tags.a.b"),
            Some(EventValue::Str("y".into()))
        );
    }
}
