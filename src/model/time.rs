//! UTC instants as milliseconds since the Unix epoch, and the many textual forms AWS data uses for them.
//!
//! Parsing is hand-written rather than delegated to a date crate because it sits on the hot path of
//! CloudTrail ingest (one `eventTime` per record) and must accept the quirks listed in FORMAT-NOTES.md:
//! ISO 8601 with or without fractional seconds and with `Z` or a numeric offset, Panther's
//! `YYYY-MM-DD HH:MM:SS[.fff]`, the AWS docs' stray spaces (`23: 46: 28Z`), and epoch seconds or millis.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ts(pub i64);

/// Epoch numbers above this are milliseconds, below it seconds (1e11 s is the year 5138).
const MILLIS_THRESHOLD: f64 = 1e11;
/// The furthest an instant from the data may lie from the epoch (1e16 ms, ~317,000 years).
const MAX_ABS_MILLIS: i64 = 10_000_000_000_000_000;

impl Ts {
    pub const MIN: Ts = Ts(i64::MIN);
    pub const MAX: Ts = Ts(i64::MAX);
    /// An hour, in the milliseconds a `Ts` counts.
    pub const HOUR_MS: i64 = 3_600_000;

    pub fn millis(self) -> i64 {
        self.0
    }

    /// An epoch number in seconds or milliseconds, told apart by magnitude.
    pub fn from_epoch_number(n: f64) -> Option<Ts> {
        if !n.is_finite() {
            return None;
        }
        let ms = if n.abs() >= MILLIS_THRESHOLD {
            n
        } else {
            n * 1000.0
        };
        if ms.abs() > MAX_ABS_MILLIS as f64 {
            return None;
        }
        Some(Ts(ms.round() as i64))
    }

    /// Epoch seconds (flow logs' `start`/`end`), within the range every instant here keeps to
    /// (about ±300,000 years), so later arithmetic on instants cannot overflow.
    pub fn from_epoch_secs(secs: i64) -> Option<Ts> {
        secs.checked_mul(1000)
            .filter(|ms| ms.unsigned_abs() <= MAX_ABS_MILLIS as u64)
            .map(Ts)
    }

    /// Parses every textual form listed in the module docs. Returns `None` for anything else,
    /// including impossible instants (see [`Ts::parse_checked`]).
    pub fn parse(s: &str) -> Option<Ts> {
        Ts::parse_checked(s).ok()
    }

    /// Like [`Ts::parse`], saying what is wrong: a text that is shaped like a time but names no
    /// real instant (`2024-02-30`, hour 24, minute 60, offset `+99:99`) is refused, not rolled
    /// over into another day.
    pub fn parse_checked(s: &str) -> Result<Ts, TimeError> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.is_empty() {
            return Err(TimeError::NotATime);
        }
        if let Ok(n) = s.parse::<f64>() {
            return Ts::from_epoch_number(n).ok_or(TimeError::EpochOutOfRange);
        }
        parse_iso(b)
    }

    /// RFC 3339 with milliseconds, always `Z`: `2024-05-01T12:00:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let (y, mo, d, h, mi, s, ms) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
    }

    /// RFC 3339 without fractional seconds, the form CloudTrail itself writes.
    pub fn to_rfc3339_secs(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// `YYYY-MM-DD HH:MM:SS` for tables.
    pub fn to_short(self) -> String {
        let (y, mo, d, h, mi, s, _) = self.civil();
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
    }

    fn civil(self) -> (i64, u32, u32, u32, u32, u32, u32) {
        let ms = self.0.rem_euclid(1000) as u32;
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, sod / 3600, (sod / 60) % 60, sod % 60, ms)
    }

    /// The start of the UTC hour holding this instant.
    pub fn hour_floor(self) -> Ts {
        Ts(self.0.div_euclid(Ts::HOUR_MS) * Ts::HOUR_MS)
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// The RFC 3339 text [`Serialize`] writes (any form [`Ts::parse`] reads).
impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ts::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a time")))
    }
}

/// Why a text is not an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("not a time (RFC 3339, e.g. 2024-05-01T12:00:00Z, or epoch seconds/milliseconds)")]
    NotATime,
    #[error("no such date: {year:04}-{month:02} has {days} days")]
    NoSuchDay { year: i64, month: u32, days: u32 },
    #[error("no such month: {0:02}")]
    NoSuchMonth(u32),
    #[error("hour {0} is out of range (00-23)")]
    Hour(u32),
    #[error("minute {0} is out of range (00-59)")]
    Minute(u32),
    #[error("second {0} is out of range (00-60)")]
    Second(u32),
    #[error("UTC offset {hours:02}:{minutes:02} is out of range (at most 23:59)")]
    Offset { hours: u32, minutes: u32 },
    #[error("epoch number is out of range")]
    EpochOutOfRange,
}

/// A time field of a record as it was written: absent (or `null`, or empty), a real instant, or
/// something that is not one. Records with an invalid time are refused with a located error by
/// their parser, so an impossible `2024-02-30` never turns silently into March 1st or no time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TimeField {
    #[default]
    Absent,
    At(Ts),
    Invalid {
        /// The text as written, cut to [`TimeField::SHOWN`] characters for messages.
        text: String,
        why: TimeError,
    },
}

impl TimeField {
    /// How much of an invalid value a message quotes (it is attacker-controlled and may be huge).
    pub const SHOWN: usize = 40;

    /// The instant, or why `field` cannot be used (an absent field is `Ok(None)`).
    pub fn checked(&self, field: &str) -> Result<Option<Ts>, BadTime> {
        match self {
            TimeField::Absent => Ok(None),
            TimeField::At(t) => Ok(Some(*t)),
            TimeField::Invalid { text, why } => Err(BadTime {
                field: field.to_string(),
                text: text.clone(),
                why: *why,
            }),
        }
    }

    fn invalid(text: &str, why: TimeError) -> TimeField {
        let mut cut: String = text.chars().take(TimeField::SHOWN).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        TimeField::Invalid { text: cut, why }
    }
}

/// A record's time field that names no real instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} `{text}` is not a real time: {why}")]
pub struct BadTime {
    pub field: String,
    pub text: String,
    pub why: TimeError,
}

/// Read by a visitor rather than an untagged enum: untagged buffers the value and builds (and
/// formats) an error for each shape it tries, once per record on the hot path of a load.
impl<'de> Deserialize<'de> for TimeField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimeVisitor)
    }
}

struct TimeVisitor;

impl TimeVisitor {
    fn text(s: &str) -> TimeField {
        if s.trim().is_empty() {
            return TimeField::Absent;
        }
        match Ts::parse_checked(s) {
            Ok(t) => TimeField::At(t),
            Err(why) => TimeField::invalid(s, why),
        }
    }

    fn number(n: f64) -> TimeField {
        match Ts::from_epoch_number(n) {
            Some(t) => TimeField::At(t),
            None => TimeField::invalid(&n.to_string(), TimeError::EpochOutOfRange),
        }
    }

    fn other() -> TimeField {
        TimeField::invalid("an object, array or boolean", TimeError::NotATime)
    }
}

impl<'de> serde::de::Visitor<'de> for TimeVisitor {
    type Value = TimeField;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a time")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TimeField, E> {
        Ok(TimeVisitor::text(v))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<TimeField, E> {
        Ok(TimeVisitor::number(v))
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TimeField, E> {
        Ok(TimeVisitor::number(v as f64))
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TimeField, E> {
        Ok(TimeVisitor::number(v as f64))
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<TimeField, E> {
        Ok(TimeVisitor::other())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<TimeField, E> {
        Ok(TimeField::Absent)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<TimeField, E> {
        Ok(TimeField::Absent)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TimeField, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<TimeField, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(TimeVisitor::other())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<TimeField, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(TimeVisitor::other())
    }
}

/// Days since the epoch → (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since the epoch.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn skip_spaces(&mut self) {
        while self.i < self.b.len() && self.b[self.i] == b' ' {
            self.i += 1;
        }
    }
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = *self.b.get(self.i)?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
            self.i += 1;
        }
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
}

/// Days in `month` (1-12) of proleptic Gregorian `year`.
fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse_iso(b: &[u8]) -> Result<Ts, TimeError> {
    use TimeError::NotATime;
    let mut c = Cursor { b, i: 0 };
    let y = c.digits(4).ok_or(NotATime)?;
    if !c.eat(b'-') {
        return Err(NotATime);
    }
    let mo = c.digits(2).ok_or(NotATime)?;
    if !c.eat(b'-') {
        return Err(NotATime);
    }
    let d = c.digits(2).ok_or(NotATime)?;
    if !(1..=12).contains(&mo) {
        return Err(TimeError::NoSuchMonth(mo));
    }
    let days = days_in_month(i64::from(y), mo);
    if !(1..=days).contains(&d) {
        return Err(TimeError::NoSuchDay {
            year: i64::from(y),
            month: mo,
            days,
        });
    }
    let mut ms_of_day: i64 = 0;
    if c.peek().is_some() {
        if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return Err(NotATime);
        }
        c.skip_spaces();
        let h = c.digits(2).ok_or(NotATime)?;
        c.skip_spaces();
        if !c.eat(b':') {
            return Err(NotATime);
        }
        c.skip_spaces();
        let mi = c.digits(2).ok_or(NotATime)?;
        c.skip_spaces();
        let mut s = 0;
        if c.eat(b':') {
            c.skip_spaces();
            s = c.digits(2).ok_or(NotATime)?;
        }
        if h > 23 {
            return Err(TimeError::Hour(h));
        }
        if mi > 59 {
            return Err(TimeError::Minute(mi));
        }
        // 60 is a leap second (RFC 3339 allows it); it counts as the next second's start.
        if s > 60 {
            return Err(TimeError::Second(s));
        }
        let mut frac_ms: i64 = 0;
        if c.eat(b'.') || c.eat(b',') {
            let mut scale = 100;
            let start = c.i;
            while let Some(ch) = c.peek() {
                if !ch.is_ascii_digit() {
                    break;
                }
                frac_ms += i64::from(ch - b'0') * scale;
                scale /= 10;
                c.i += 1;
            }
            if c.i == start {
                return Err(NotATime);
            }
        }
        ms_of_day = (i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * 1000 + frac_ms;
        c.skip_spaces();
        match c.peek() {
            None => {}
            Some(b'Z') | Some(b'z') => c.i += 1,
            Some(sign @ (b'+' | b'-')) => {
                c.i += 1;
                let oh = c.digits(2).ok_or(NotATime)?;
                // `+05:30`, `+0530` or `+05`; a colon must be followed by the minutes.
                let om = if c.eat(b':') {
                    c.digits(2).ok_or(NotATime)?
                } else {
                    c.digits(2).unwrap_or(0)
                };
                if oh > 23 || om > 59 {
                    return Err(TimeError::Offset {
                        hours: oh,
                        minutes: om,
                    });
                }
                let off = (i64::from(oh) * 60 + i64::from(om)) * 60_000;
                ms_of_day -= if sign == b'+' { off } else { -off };
            }
            Some(_) => return Err(NotATime),
        }
        if c.i != b.len() {
            return Err(NotATime);
        }
    }
    let days = days_from_civil(i64::from(y), mo, d);
    Ok(Ts(days * 86_400_000 + ms_of_day))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_parses_to_the_same_instant() {
        let want = Ts::parse("2021-11-18T17:41:02Z").unwrap();
        assert_eq!(want.to_rfc3339(), "2021-11-18T17:41:02.000Z");
        for s in [
            "2021-11-18T17:41:02.000Z",
            "2021-11-18T09:41:02-08:00",
            "2021-11-18T18:41:02+01:00",
            "2021-11-18 17:41:02",
            "2021-11-18 17:41:02.000000000",
            "2021-11-18T17: 41: 02Z",
            "1637257262",
            "1637257262000",
        ] {
            assert_eq!(Ts::parse(s), Some(want), "{s}");
        }
        assert_eq!(Ts::parse("2020-05-26T22:21:48.385Z").unwrap().0 % 1000, 385);
        assert_eq!(
            Ts::from_epoch_number(1_637_257_262.5).unwrap().0,
            1_637_257_262_500
        );
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "yesterday",
            "2021-13-01T00:00:00Z",
            "2021-11-18T17:41:02Q",
            "Aug 1, 2024 1:33:28 PM",
        ] {
            assert_eq!(Ts::parse(s), None, "{s}");
        }
    }

    #[test]
    fn rejects_impossible_instants_and_says_why() {
        for (s, why) in [
            ("2024-02-30T00:00:00Z", "2024-02 has 29 days"),
            ("2023-02-29", "2023-02 has 28 days"),
            ("2024-04-31 10:00:00", "2024-04 has 30 days"),
            ("2024-00-10T00:00:00Z", "no such month"),
            ("2024-05-01T24:00:00Z", "hour 24"),
            ("2024-05-01T12:60:00Z", "minute 60"),
            ("2024-05-01T12:00:61Z", "second 61"),
            ("2024-05-01T12:00:00+99:99", "offset 99:99"),
            ("2024-05-01T12:00:00-24:00", "offset 24:00"),
            ("2024-05-01T12:00:00+05:", "not a time"),
            ("1e300", "epoch number"),
        ] {
            let err = Ts::parse_checked(s).expect_err(s);
            assert!(err.to_string().contains(why), "{s}: {err}");
            assert_eq!(Ts::parse(s), None, "{s}");
        }
        // The edges that do exist.
        for s in [
            "2024-02-29T23:59:59Z",
            "2000-02-29",
            "2024-12-31T23:59:60Z",
            "2024-05-01T12:00:00+23:59",
            "2024-05-01T12:00:00-0530",
        ] {
            assert!(Ts::parse(s).is_some(), "{s}");
        }
    }

    #[test]
    fn epoch_seconds_stay_in_range() {
        assert_eq!(
            Ts::from_epoch_secs(1_418_530_010),
            Some(Ts(1_418_530_010_000))
        );
        assert_eq!(Ts::from_epoch_secs(-1), Some(Ts(-1000)));
        for s in [
            i64::MAX,
            i64::MIN,
            9_999_999_999_999_999,
            10_000_000_000_001,
        ] {
            assert_eq!(Ts::from_epoch_secs(s), None, "{s}");
        }
    }

    #[test]
    fn a_time_field_keeps_what_was_wrong() {
        let f: TimeField = serde_json::from_str(r#""2024-02-30T00:00:00Z""#).unwrap();
        let err = f.checked("eventTime").unwrap_err();
        assert_eq!(
            err.to_string(),
            "eventTime `2024-02-30T00:00:00Z` is not a real time: no such date: 2024-02 has 29 days"
        );
        let f: TimeField = serde_json::from_str("null").unwrap();
        assert_eq!(f.checked("eventTime"), Ok(None));
        let f: TimeField = serde_json::from_str("1637257262").unwrap();
        assert_eq!(f, TimeField::At(Ts(1_637_257_262_000)));
        let long = format!("\"{}\"", "9".repeat(500));
        let f: TimeField = serde_json::from_str(&long).unwrap();
        let msg = f.checked("createdAt").unwrap_err().to_string();
        assert!(msg.len() < 200, "an attacker's huge value is cut: {msg}");
        let f: TimeField = serde_json::from_str("{}").unwrap();
        assert!(f.checked("createdAt").is_err());
        for other in ["true", "[1, 2]", r#"{"a": [1]}"#] {
            let f: TimeField = serde_json::from_str(other).unwrap();
            assert!(
                matches!(
                    f,
                    TimeField::Invalid {
                        why: TimeError::NotATime,
                        ..
                    }
                ),
                "{other}"
            );
        }
        for empty in [r#""""#, r#""   ""#] {
            let f: TimeField = serde_json::from_str(empty).unwrap();
            assert_eq!(f, TimeField::Absent, "{empty}");
        }
        let f: TimeField = serde_json::from_str("1637257262.5").unwrap();
        assert_eq!(f, TimeField::At(Ts(1_637_257_262_500)));
        let f: TimeField = serde_json::from_str("-1").unwrap();
        assert_eq!(f, TimeField::At(Ts(-1000)));
        // An escaped string (serde hands it over as a transient &str) still parses.
        let f: TimeField = serde_json::from_str(r#""2021-11-18T17:41:02\u005a""#).unwrap();
        assert_eq!(f, TimeField::At(Ts(1_637_257_262_000)));
    }

    #[test]
    fn civil_round_trip_across_eras() {
        for days in [-800_000i64, -1, 0, 1, 18_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
