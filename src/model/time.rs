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

impl Ts {
    pub const MIN: Ts = Ts(i64::MIN);
    pub const MAX: Ts = Ts(i64::MAX);

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
        if ms.abs() > 1e16 {
            return None;
        }
        Some(Ts(ms.round() as i64))
    }

    /// Parses every textual form listed in the module docs. Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Ts> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.is_empty() {
            return None;
        }
        if let Ok(n) = s.parse::<f64>() {
            return Ts::from_epoch_number(n);
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
        Ts(self.0.div_euclid(3_600_000) * 3_600_000)
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

/// Accepts a string in any supported form or an epoch number; anything unparsable is `None`
/// rather than an error, because a bad timestamp deep in a finding must not lose the finding.
pub fn de_opt_ts<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Ts>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<'a> {
        Num(f64),
        #[serde(borrow)]
        Str(std::borrow::Cow<'a, str>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        Some(Raw::Num(n)) => Ts::from_epoch_number(n),
        Some(Raw::Str(s)) => Ts::parse(&s),
        Some(Raw::Other(_)) | None => None,
    })
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

fn parse_iso(b: &[u8]) -> Option<Ts> {
    let mut c = Cursor { b, i: 0 };
    let y = c.digits(4)?;
    if !c.eat(b'-') {
        return None;
    }
    let mo = c.digits(2)?;
    if !c.eat(b'-') {
        return None;
    }
    let d = c.digits(2)?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms_of_day: i64 = 0;
    if c.peek().is_some() {
        if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return None;
        }
        c.skip_spaces();
        let h = c.digits(2)?;
        c.skip_spaces();
        if !c.eat(b':') {
            return None;
        }
        c.skip_spaces();
        let mi = c.digits(2)?;
        c.skip_spaces();
        let mut s = 0;
        if c.eat(b':') {
            c.skip_spaces();
            s = c.digits(2)?;
        }
        if h > 23 || mi > 59 || s > 60 {
            return None;
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
                return None;
            }
        }
        ms_of_day = (i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s)) * 1000 + frac_ms;
        c.skip_spaces();
        match c.peek() {
            None => {}
            Some(b'Z') | Some(b'z') => c.i += 1,
            Some(sign @ (b'+' | b'-')) => {
                c.i += 1;
                let oh = c.digits(2)?;
                c.eat(b':');
                let om = c.digits(2).unwrap_or(0);
                let off = (i64::from(oh) * 60 + i64::from(om)) * 60_000;
                ms_of_day -= if sign == b'+' { off } else { -off };
            }
            Some(_) => return None,
        }
        if c.i != b.len() {
            return None;
        }
    }
    let days = days_from_civil(i64::from(y), mo, d);
    Some(Ts(days * 86_400_000 + ms_of_day))
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
    fn civil_round_trip_across_eras() {
        for days in [-800_000i64, -1, 0, 1, 18_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
