//! Timestamps of documents for [`TopicModel::topics_over_time`](crate::TopicModel::topics_over_time).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, in whole seconds since 1970-01-01T00:00:00 UTC (negative before 1970, so
/// the State of the Union's 1790 works). Dates are parsed as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`
/// (a missing month or day is the first), like pandas' `to_datetime` on such strings. In JSON
/// it is its [`Display`](fmt::Display) text (`1790-01-01`, `1789-10-08T15:05:45`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

const DAY: i64 = 86_400;

impl Timestamp {
    /// Midnight UTC of a calendar date (proleptic Gregorian).
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Timestamp {
        Timestamp(days_from_civil(i64::from(year), i64::from(month), i64::from(day)) * DAY)
    }

    /// Parses a date (see [`crate::preprocess::parse_date`]); the error says what is wrong.
    pub fn parse(s: &str) -> Result<Timestamp, String> {
        let (y, m, d) = crate::preprocess::parse_date(s)?;
        Ok(Timestamp::from_ymd(y, m.unwrap_or(1), d.unwrap_or(1)))
    }

    /// Seconds since the epoch.
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// `(year, month, day)` of the date part.
    pub fn ymd(self) -> (i64, u8, u8) {
        civil_from_days(self.0.div_euclid(DAY))
    }
}

impl FromStr for Timestamp {
    type Err = String;
    /// A date ([`Timestamp::parse`]), optionally followed by `THH:MM:SS` (what `Display` writes).
    fn from_str(s: &str) -> Result<Self, String> {
        let Some((date, time)) = s.trim().split_once('T') else {
            return Timestamp::parse(s);
        };
        let day = Timestamp::parse(date)?;
        let parts: Vec<&str> = time.split(':').collect();
        let field = |i: usize, max: i64| -> Result<i64, String> {
            let v: i64 = parts
                .get(i)
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| format!("time `{time}` is not HH:MM:SS"))?;
            if (0..max).contains(&v) {
                Ok(v)
            } else {
                Err(format!("time `{time}` is out of range"))
            }
        };
        if parts.len() != 3 {
            return Err(format!("time `{time}` is not HH:MM:SS"));
        }
        Ok(Timestamp(
            day.0 + field(0, 24)? * 3600 + field(1, 60)? * 60 + field(2, 60)?,
        ))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `YYYY-MM-DD`, with `THH:MM:SS` when not midnight (bin edges usually are not).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")?;
        let secs = self.0.rem_euclid(DAY);
        if secs != 0 {
            write!(
                f,
                "T{:02}:{:02}:{:02}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60
            )?;
        }
        Ok(())
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(Timestamp::from_ymd(1970, 1, 1).0, 0);
        assert_eq!(Timestamp::parse("2000-03-01").unwrap().0, 951_868_800);
        assert_eq!(Timestamp::parse("1790").unwrap().to_string(), "1790-01-01");
        assert_eq!(Timestamp::parse("2024-02-29").unwrap().ymd(), (2024, 2, 29));
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59");
        assert!(Timestamp::parse("2023-02-29").is_err());
        for t in [
            Timestamp(-5_687_484_854),
            Timestamp(0),
            Timestamp(1_700_000_000),
        ] {
            assert_eq!(t.to_string().parse::<Timestamp>(), Ok(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        }
        assert!("2020-01-01T25:00:00".parse::<Timestamp>().is_err());
        for days in [-80_000i64, -1, 0, 59, 20_000, 40_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }
}
