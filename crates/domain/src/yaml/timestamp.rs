//! YAML 1.1 timestamps as PyYAML's `timestamp_regexp` reads them and `datetime` validates them.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::resolve::{Cur, digit};

/// PyYAML's timestamp resolver: a `YYYY-MM-DD` date, or a datetime.
pub(super) fn is_timestamp(s: &str) -> bool {
    parse_timestamp(s).is_some_and(|t| t.time.is_some() || (t.month.len() == 2 && t.day.len() == 2))
}

/// The groups of `SafeConstructor.timestamp_regexp` (which, unlike the resolver, accepts
/// one-digit months and days in a plain date).
#[derive(Debug, Clone, Copy)]
struct TimestampParts<'a> {
    year: &'a str,
    month: &'a str,
    day: &'a str,
    time: Option<TimeParts<'a>>,
}

#[derive(Debug, Clone, Copy)]
struct TimeParts<'a> {
    hour: &'a str,
    minute: &'a str,
    second: &'a str,
    fraction: &'a str,
    /// `None`: naive; else (west of UTC, hours, minutes). `Z` is `(false, "0", "0")`.
    tz: Option<(bool, &'a str, &'a str)>,
}

fn parse_timestamp(s: &str) -> Option<TimestampParts<'_>> {
    let text = s.strip_suffix('\n').unwrap_or(s);
    let mut c = Cur::new(text);
    let take = |c: &mut Cur<'_>, min: usize, max: usize| -> Option<&str> {
        let start = c.i;
        while c.i - start < max && c.eat_if(digit) {}
        (c.i - start >= min).then(|| &text[start..c.i])
    };
    let year = take(&mut c, 4, 4)?;
    c.eat(b'-').then_some(())?;
    let month = take(&mut c, 1, 2)?;
    c.eat(b'-').then_some(())?;
    let day = take(&mut c, 1, 2)?;
    if c.done() {
        return Some(TimestampParts {
            year,
            month,
            day,
            time: None,
        });
    }
    if !(c.eat_if(|x| x == b'T' || x == b't') || c.eat_while(|x| x == b' ' || x == b'\t') > 0) {
        return None;
    }
    let hour = take(&mut c, 1, 2)?;
    c.eat(b':').then_some(())?;
    let minute = take(&mut c, 2, 2)?;
    c.eat(b':').then_some(())?;
    let second = take(&mut c, 2, 2)?;
    let mut fraction = "";
    if c.eat(b'.') {
        let start = c.i;
        c.eat_while(digit);
        fraction = &text[start..c.i];
    }
    let mut tz = None;
    if !c.done() {
        c.eat_while(|x| x == b' ' || x == b'\t');
        if c.eat(b'Z') {
            tz = Some((false, "0", "0"));
        } else {
            let negative = c.peek() == Some(b'-');
            c.eat_if(|x| x == b'-' || x == b'+').then_some(())?;
            let hours = take(&mut c, 1, 2)?;
            let minutes = if c.eat(b':') {
                take(&mut c, 2, 2)?
            } else {
                "0"
            };
            tz = Some((negative, hours, minutes));
        }
    }
    let time = TimeParts {
        hour,
        minute,
        second,
        fraction,
        tz,
    };
    c.done().then_some(TimestampParts {
        year,
        month,
        day,
        time: Some(time),
    })
}

/// What `construct_yaml_timestamp` builds, validated the way `datetime` validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timestamp {
    Date(NaiveDate),
    /// Wall time, and the UTC offset in minutes when the text has a zone.
    DateTime(NaiveDateTime, Option<i32>),
}

fn num(s: &str) -> u32 {
    // The matchers only let ASCII digits through, at most four of them.
    s.bytes().fold(0, |acc, b| acc * 10 + u32::from(b - b'0'))
}

pub(super) fn construct_timestamp(s: &str) -> Result<Timestamp, String> {
    let parts = parse_timestamp(s).ok_or_else(|| format!("{s:?} is not a YAML timestamp"))?;
    let (year, month, day) = (num(parts.year), num(parts.month), num(parts.day));
    if year == 0 {
        return Err("year 0 is out of range".into());
    }
    if !(1..=12).contains(&month) {
        return Err("month must be in 1..12".into());
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| "day is out of range for month".to_string())?;
    let Some(t) = parts.time else {
        return Ok(Timestamp::Date(date));
    };
    let (hour, minute, second) = (num(t.hour), num(t.minute), num(t.second));
    if hour > 23 {
        return Err("hour must be in 0..23".into());
    }
    if minute > 59 {
        return Err("minute must be in 0..59".into());
    }
    if second > 59 {
        return Err("second must be in 0..59".into());
    }
    // Python keeps six fraction digits and drops the rest.
    let micros = t.fraction.bytes().chain(std::iter::repeat(b'0')).take(6);
    let micros = micros.fold(0, |acc, b| acc * 10 + u32::from(b - b'0'));
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micros)
        .ok_or_else(|| "invalid time of day".to_string())?;
    let offset = match t.tz {
        None => None,
        Some((negative, hours, minutes)) => {
            let total = (num(hours) * 60 + num(minutes)) as i32;
            if total >= 24 * 60 {
                return Err("UTC offset must be strictly between -24 and 24 hours".into());
            }
            Some(if negative { -total } else { total })
        }
    };
    Ok(Timestamp::DateTime(NaiveDateTime::new(date, time), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructs_timestamps_like_datetime() {
        let date = NaiveDate::from_ymd_opt(2025, 1, 5);
        assert_eq!(
            construct_timestamp("2025-1-5").ok(),
            date.map(Timestamp::Date)
        );
        let Ok(Timestamp::DateTime(dt, Some(offset))) =
            construct_timestamp("2025-11-01 10:00:00.1234567 -05:30")
        else {
            panic!("not an aware datetime");
        };
        assert_eq!(offset, -330);
        assert_eq!(dt.to_string(), "2025-11-01 10:00:00.123456");
        for bad in [
            "2025-13-01",
            "2025-02-30",
            "0000-01-01",
            "2025-01-01 24:00:00",
            "2025-01-01T10:00:00+24:00",
        ] {
            assert!(construct_timestamp(bad).is_err(), "{bad:?}");
        }
    }
}
