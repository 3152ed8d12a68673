//! Field deserializers for the type quirks real AWS data has (FORMAT-NOTES.md): numbers that are
//! sometimes strings (`asn`, `srcport`), booleans that are sometimes strings (`readOnly`), account
//! ids that must stay strings, lists that are sometimes a single object (`answers`). A field of an
//! unexpected shape becomes `None` instead of failing the whole record.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use std::fmt;

/// The methods of a lenient visitor (whose value is an `Option`) for what it reads as absent:
/// numbers, or null and lists and objects (read through and dropped); and of one whose value is
/// an `Option<Cow<str>>`, for the strings it keeps.
macro_rules! absent {
    // Not absent: a string, borrowed from the input unless it had escapes.
    (strings kept) => {
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(std::borrow::Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(std::borrow::Cow::Owned(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(std::borrow::Cow::Owned(v)))
        }
    };
    (numbers) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
    (null, lists and objects) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    };
}

struct Stringish;

impl<'de> Visitor<'de> for Stringish {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Stringish)
    }
    absent!(null, lists and objects);
}

/// A string, or a number/bool written as its text; objects, arrays and null are `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(Stringish)
}

/// A non-empty trimmed string, as [`opt_string`].
pub fn opt_nonempty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(opt_string(d)?.filter(|s| !s.trim().is_empty()))
}

/// [`opt_nonempty`], borrowed from the input where the JSON allows it: account ids, on every
/// record, become entities whose values are copied from here anyway.
pub fn opt_nonempty_cow<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::borrow::Cow<'de, str>>, D::Error> {
    Ok(d.deserialize_any(StringishCow)?
        .filter(|s| !s.trim().is_empty()))
}

struct StringishCow;

impl<'de> Visitor<'de> for StringishCow {
    type Value = Option<std::borrow::Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    absent!(strings kept);
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Stringish.visit_u64(v).map(|s| s.map(Into::into))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Stringish.visit_i64(v).map(|s| s.map(Into::into))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Stringish.visit_f64(v).map(|s| s.map(Into::into))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Stringish.visit_bool(v).map(|s| s.map(Into::into))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(StringishCow)
    }
    absent!(null, lists and objects);
}

/// A number, or a string holding one.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(opt_string(d)?
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|f| f.is_finite()))
}

pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(opt_f64(d)?.filter(|f| *f >= 0.0).map(|f| f as u64))
}

pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(opt_u64(d)?.and_then(|v| u32::try_from(v).ok()))
}

/// `true`/`false`, or the strings `"true"`/`"false"` (CloudTrail's `mfaAuthenticated`, one
/// Panther `readOnly`), in any case and with spaces around. Every record has a `readOnly`: read
/// without writing it out as text first.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(Boolish)
}

struct Boolish;

impl<'de> Visitor<'de> for Boolish {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        Ok(if v.eq_ignore_ascii_case("true") {
            Some(true)
        } else if v.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        })
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Boolish)
    }
    absent!(numbers);
    absent!(null, lists and objects);
}

/// A list that may be `null`, absent, or a single object in place of a one-element list.
pub fn vec_or_one<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany<T> {
        Many(Vec<T>),
        One(T),
    }
    Ok(match Option::<OneOrMany<T>>::deserialize(d)? {
        Some(OneOrMany::Many(v)) => v,
        Some(OneOrMany::One(t)) => vec![t],
        None => Vec::new(),
    })
}

/// A list that may be `null` or absent.
pub fn vec_or_null<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A list whose non-object elements (a Python repr string in one Panther test) are skipped, and
/// whose objects of another shape (a field of the wrong type) are skipped too.
pub fn objects_only<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Item<T> {
        Obj(T),
        Other(IgnoredAny),
    }
    let items: Option<Vec<Item<T>>> = Option::deserialize(d)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| match i {
            Item::Obj(t) => Some(t),
            Item::Other(_) => None,
        })
        .collect())
}

/// [`objects_only`] for a `T` that reads any object (every field lenient), on a hot path: each
/// object is parsed as it streams by, where the untagged enum of [`objects_only`] first buffers
/// it (allocating) to be able to try again.
pub fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_any(ObjectsOnly(std::marker::PhantomData))
}

struct ObjectsOnly<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectsOnly<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of objects")
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(ObjectOnly(std::marker::PhantomData))? {
            out.extend(item);
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_any(self)
    }
}

/// One element of [`objects_only`]: an object parsed as `T`, anything else skipped.
struct ObjectOnly<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> de::DeserializeSeed<'de> for ObjectOnly<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOnly<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
}

/// [`opt_cow`] that reads any value: numbers, booleans, objects and arrays are `None` rather
/// than an error.
pub fn any_cow<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::borrow::Cow<'de, str>>, D::Error> {
    d.deserialize_any(AnyCow)
}

struct AnyCow;

impl<'de> Visitor<'de> for AnyCow {
    type Value = Option<std::borrow::Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    absent!(strings kept);
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    absent!(numbers);
    absent!(null, lists and objects);
}

/// An optional string that borrows from the input when it has no escapes. Serde's own
/// `Option<Cow<str>>` always allocates (`#[serde(borrow)]` reaches only a bare `Cow`), which was a
/// tenth of a million-event load.
pub fn opt_cow<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<std::borrow::Cow<'de, str>>, D::Error> {
    d.deserialize_option(OptCow)
}

struct OptCow;

impl<'de> Visitor<'de> for OptCow {
    type Value = Option<std::borrow::Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    absent!(strings kept);
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    #[derive(serde::Deserialize)]
    struct T<'a> {
        #[serde(borrow, default, deserialize_with = "super::opt_cow")]
        s: Option<Cow<'a, str>>,
    }

    #[derive(serde::Deserialize)]
    struct R<'a> {
        #[serde(rename = "ARN", borrow, default, deserialize_with = "super::any_cow")]
        arn: Option<Cow<'a, str>>,
    }

    #[derive(serde::Deserialize)]
    struct L<'a> {
        #[serde(borrow, default, deserialize_with = "super::objects")]
        resources: Vec<R<'a>>,
    }

    #[derive(serde::Deserialize)]
    struct Strict {
        #[serde(rename = "ARN")]
        arn: String,
    }

    #[derive(serde::Deserialize)]
    struct LStrict {
        #[serde(default, deserialize_with = "super::objects_only")]
        resources: Vec<Strict>,
    }

    const MIXED: &str = r#"{"resources":[{"ARN":"a"},"{'ARN': 'repr'}",1,true,null,[{"ARN":"x"}],{"ARN":3},{"ARN":"b","type":{"x":[1]}}]}"#;

    #[test]
    fn objects_keeps_every_object_and_skips_the_rest() {
        let l: L = serde_json::from_str(MIXED).unwrap();
        let arns: Vec<Option<&str>> = l.resources.iter().map(|r| r.arn.as_deref()).collect();
        assert_eq!(arns, [Some("a"), None, Some("b")]);
        assert!(matches!(l.resources[0].arn, Some(Cow::Borrowed("a"))));
        for empty in [r#"{"resources":null}"#, r#"{}"#, r#"{"resources":[]}"#] {
            let l: L = serde_json::from_str(empty).unwrap();
            assert!(l.resources.is_empty(), "{empty}");
        }
        assert!(serde_json::from_str::<L>(r#"{"resources":"x"}"#).is_err());
    }

    #[test]
    fn objects_only_skips_objects_of_another_shape() {
        let l: LStrict = serde_json::from_str(MIXED).unwrap();
        let arns: Vec<&str> = l.resources.iter().map(|r| r.arn.as_str()).collect();
        assert_eq!(arns, ["a", "b"]);
    }

    #[derive(serde::Deserialize)]
    struct B {
        #[serde(default, deserialize_with = "super::opt_bool")]
        b: Option<bool>,
    }

    #[derive(serde::Deserialize)]
    struct N<'a> {
        #[serde(borrow, default, deserialize_with = "super::opt_nonempty_cow")]
        n: Option<Cow<'a, str>>,
        #[serde(default, deserialize_with = "super::opt_nonempty")]
        o: Option<String>,
    }

    #[test]
    fn opt_nonempty_cow_reads_as_opt_nonempty_does_and_borrows() {
        for v in [
            r#""123456789012""#,
            r#"" 123 ""#,
            r#""""#,
            r#""  ""#,
            r#""a\"b""#,
            "123456789012",
            "-4",
            "1.5",
            "true",
            "null",
            "[1]",
            r#"{"a":1}"#,
        ] {
            let text = format!(r#"{{"n":{v},"o":{v}}}"#);
            let n: N = serde_json::from_str(&text).unwrap();
            assert_eq!(n.n.as_deref(), n.o.as_deref(), "{v}");
        }
        let n: N = serde_json::from_str(r#"{"n":"123456789012"}"#).unwrap();
        assert!(matches!(n.n, Some(Cow::Borrowed("123456789012"))));
        assert!(n.o.is_none());
    }

    #[test]
    fn opt_bool_reads_booleans_and_their_text_and_nothing_else() {
        let cases = [
            (r#"{"b":true}"#, Some(true)),
            (r#"{"b":false}"#, Some(false)),
            (r#"{"b":" TRUE "}"#, Some(true)),
            (r#"{"b":"False"}"#, Some(false)),
            (r#"{"b":"tru\u0065"}"#, Some(true)),
            (r#"{"b":"yes"}"#, None),
            (r#"{"b":1}"#, None),
            (r#"{"b":-1.5}"#, None),
            (r#"{"b":null}"#, None),
            (r#"{"b":[true]}"#, None),
            (r#"{"b":{"x":true}}"#, None),
            (r#"{}"#, None),
        ];
        for (json, want) in cases {
            let b: B = serde_json::from_str(json).unwrap();
            assert_eq!(b.b, want, "{json}");
        }
    }

    #[test]
    fn opt_cow_borrows_plain_strings_and_owns_escaped_ones() {
        let t: T = serde_json::from_str(r#"{"s":"plain"}"#).unwrap();
        assert!(matches!(t.s, Some(Cow::Borrowed("plain"))));
        let t: T = serde_json::from_str(r#"{"s":"a\"b"}"#).unwrap();
        assert!(matches!(t.s, Some(Cow::Owned(ref s)) if s == "a\"b"));
        let t: T = serde_json::from_str(r#"{"s":null}"#).unwrap();
        assert!(t.s.is_none());
        let t: T = serde_json::from_str(r#"{}"#).unwrap();
        assert!(t.s.is_none());
        assert!(serde_json::from_str::<T>(r#"{"s":3}"#).is_err());
    }
}
