//! `Edm.DateTimeOffset` and `Edm.Duration` text, as Graph writes them.
//!
//! Graph writes instants in UTC with 7 fractional digits (.NET's 100 ns ticks:
//! `2023-06-25T09:37:28.6149005Z`) and durations in ISO 8601 day-time form (`PT1H`, `P1D`).

use std::fmt::Write as _;

use prost_types::{Duration, Timestamp};

const NANOS_PER_TICK: i32 = 100;
const SECONDS_PER_DAY: i64 = 86_400;
/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, as Unix seconds: Edm.DateTimeOffset's range.
const MIN_SECONDS: i64 = -62_135_596_800;
const MAX_SECONDS: i64 = 253_402_300_799;

/// Why a text has no exact typed form; the value is then kept raw.
pub type NotTyped = &'static str;

/// Parses RFC 3339 in UTC (`Z`), 0 to 9 fractional digits.
pub fn parse_timestamp(text: &str) -> Result<Timestamp, NotTyped> {
    const SHAPE: NotTyped = "not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.fffffff]Z)";
    let b = text.as_bytes();
    // Date and time are ASCII: slicing them below then stays on character boundaries.
    if b.len() < 20
        || !b[..19].is_ascii()
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(SHAPE);
    }
    let number = |range: std::ops::Range<usize>| -> Result<i64, NotTyped> {
        let digits = &text[range];
        if digits.bytes().all(|c| c.is_ascii_digit()) { digits.parse().map_err(|_| SHAPE) } else { Err(SHAPE) }
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = &text[19..];
    let mut nanos = 0i32;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(SHAPE);
        }
        if digits > 7 && fraction[7..digits].bytes().any(|c| c != b'0') {
            return Err("finer than Graph's 100 ns precision");
        }
        let kept = digits.min(9);
        nanos = fraction[..kept].parse::<i32>().map_err(|_| SHAPE)? * 10i32.pow(9 - kept as u32);
        rest = &fraction[digits..];
    }
    match rest {
        "Z" | "z" => {}
        _ if rest.starts_with(['+', '-']) => return Err("an offset other than Z (Graph writes UTC)"),
        _ => return Err(SHAPE),
    }
    if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err("not a calendar date");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("not a time of day");
    }
    let seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    Ok(Timestamp { seconds, nanos })
}

/// Appends `"YYYY-MM-DDThh:mm:ss.fffffffZ"` (quoted). Graph keeps 100 ns ticks: finer
/// precision, or an instant outside years 1 to 9999, is an error rather than a rounding.
pub fn write_timestamp(out: &mut String, timestamp: &Timestamp) -> Result<(), String> {
    let Timestamp { seconds, nanos } = *timestamp;
    if !(0..1_000_000_000).contains(&nanos) {
        return Err(format!("nanos {nanos} is out of range 0..1000000000"));
    }
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        return Err(format!("seconds {seconds} is outside Edm.DateTimeOffset's years 1 to 9999"));
    }
    if nanos % NANOS_PER_TICK != 0 {
        return Err(format!("nanos {nanos} is finer than Graph's 100 ns precision"));
    }
    let (days, second_of_day) = (seconds.div_euclid(SECONDS_PER_DAY), seconds.rem_euclid(SECONDS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60);
    let ticks = nanos / NANOS_PER_TICK;
    let _ = write!(out, "\"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{ticks:07}Z\"");
    Ok(())
}

/// Parses an ISO 8601 day-time duration: `[-]P[nD][T[nH][nM][n[.f]S]]`.
pub fn parse_duration(text: &str) -> Result<Duration, NotTyped> {
    const SHAPE: NotTyped = "not an ISO 8601 duration (e.g. PT1H, P1D, PT30M)";
    let (negative, body) = match text.strip_prefix('-') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let body = body.strip_prefix('P').ok_or(SHAPE)?;
    let (date, time) = match body.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return Err(SHAPE),
        None => (body, None),
    };
    if date.is_empty() && time.is_none() {
        return Err(SHAPE);
    }
    let mut seconds: i64 = 0;
    let mut nanos: i32 = 0;
    let mut add = |count: i64, unit: i64| -> Result<(), NotTyped> {
        seconds = count.checked_mul(unit).and_then(|s| seconds.checked_add(s)).ok_or("too long")?;
        Ok(())
    };
    if !date.is_empty() {
        let days = date.strip_suffix('D').ok_or("years, months and weeks have no fixed length")?;
        add(whole(days).ok_or(SHAPE)?, SECONDS_PER_DAY)?;
    }
    if let Some(mut time) = time {
        for (designator, unit) in [('H', 3600), ('M', 60)] {
            if let Some((count, rest)) = time.split_once(designator) {
                add(whole(count).ok_or(SHAPE)?, unit)?;
                time = rest;
            }
        }
        if let Some(count) = time.strip_suffix('S') {
            let (integer, fraction) = count.split_once('.').unwrap_or((count, ""));
            add(whole(integer).ok_or(SHAPE)?, 1)?;
            if count.contains('.') {
                if fraction.is_empty() || fraction.len() > 9 || !fraction.bytes().all(|c| c.is_ascii_digit()) {
                    return Err(SHAPE);
                }
                nanos = fraction.parse::<i32>().map_err(|_| SHAPE)? * 10i32.pow(9 - fraction.len() as u32);
            }
        } else if !time.is_empty() {
            return Err(SHAPE);
        }
    }
    Ok(if negative { Duration { seconds: -seconds, nanos: -nanos } } else { Duration { seconds, nanos } })
}

/// Appends the duration as Graph (.NET's XmlConvert) writes it, quoted: `"P1D"`, `"PT1H30M"`,
/// `"PT0.5S"`, `"PT0S"`.
pub fn write_duration(out: &mut String, duration: &Duration) -> Result<(), String> {
    let Duration { seconds, nanos } = *duration;
    if nanos.abs() >= 1_000_000_000 || (seconds > 0 && nanos < 0) || (seconds < 0 && nanos > 0) {
        return Err(format!("seconds {seconds} and nanos {nanos} do not make a duration (same sign, |nanos| < 1e9)"));
    }
    out.push('"');
    if seconds < 0 || nanos < 0 {
        out.push('-');
    }
    let (total, nanos) = (seconds.unsigned_abs(), nanos.unsigned_abs());
    let (days, rest) = (total / SECONDS_PER_DAY as u64, total % SECONDS_PER_DAY as u64);
    let (hours, minutes, secs) = (rest / 3600, rest / 60 % 60, rest % 60);
    out.push('P');
    if days > 0 {
        let _ = write!(out, "{days}D");
    }
    if hours > 0 || minutes > 0 || secs > 0 || nanos > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            let _ = write!(out, "{hours}H");
        }
        if minutes > 0 {
            let _ = write!(out, "{minutes}M");
        }
        if secs > 0 || nanos > 0 || (hours == 0 && minutes == 0) {
            let _ = write!(out, "{secs}");
            if nanos > 0 {
                let fraction = format!("{nanos:09}");
                let _ = write!(out, ".{}", fraction.trim_end_matches('0'));
            }
            out.push('S');
        }
    }
    out.push('"');
    Ok(())
}

/// A non-empty run of ASCII digits.
fn whole(digits: &str) -> Option<i64> {
    (!digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01 (inverse of `days_from_civil`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timestamp_text(t: &Timestamp) -> String {
        let mut out = String::new();
        write_timestamp(&mut out, t).unwrap();
        out
    }

    #[test]
    fn graphs_timestamps_round_trip_with_seven_digits() {
        for text in ["2023-06-25T09:37:28.6149005Z", "0001-01-01T00:00:00.0000000Z", "9999-12-31T23:59:59.9999999Z"] {
            let parsed = parse_timestamp(text).unwrap();
            assert_eq!(timestamp_text(&parsed), format!("\"{text}\""));
        }
        let t = parse_timestamp("1970-01-01T00:00:01.5Z").unwrap();
        assert_eq!((t.seconds, t.nanos), (1, 500_000_000));
        assert_eq!(
            timestamp_text(&parse_timestamp("2024-02-29T12:00:00Z").unwrap()),
            "\"2024-02-29T12:00:00.0000000Z\""
        );
    }

    #[test]
    fn timestamps_agree_with_unix_time() {
        assert_eq!(parse_timestamp("2023-06-25T09:37:28Z").unwrap().seconds, 1_687_685_848);
        assert_eq!(parse_timestamp("0001-01-01T00:00:00Z").unwrap().seconds, MIN_SECONDS);
        assert_eq!(parse_timestamp("9999-12-31T23:59:59Z").unwrap().seconds, MAX_SECONDS);
        assert_eq!(parse_timestamp("1969-12-31T23:59:59Z").unwrap().seconds, -1);
    }

    #[test]
    fn what_has_no_exact_form_is_refused() {
        for text in [
            "2023-06-25T09:37:28+02:00",
            "2023-02-29T00:00:00Z",
            "2023-06-25 09:37:28Z",
            "2023-06-25T24:00:00Z",
            "2023-06-25T09:37:28.Z",
            "2023-06-25T09:37:28.12345678Z",
            "2023-06-25T09:37:0é",
            "2023-06-25T09:37:é0Z",
            "0000-01-01T00:00:00Z",
            "2023-6-25T09:37:28Z",
        ] {
            assert!(parse_timestamp(text).is_err(), "{text}");
        }
        let mut out = String::new();
        assert!(write_timestamp(&mut out, &Timestamp { seconds: 0, nanos: 150 }).unwrap_err().contains("100 ns"));
        assert!(write_timestamp(&mut out, &Timestamp { seconds: MAX_SECONDS + 1, nanos: 0 }).is_err());
        assert!(write_timestamp(&mut out, &Timestamp { seconds: 0, nanos: -1 }).is_err());
    }

    #[test]
    fn durations_are_written_as_graph_writes_them() {
        let text = |seconds, nanos| {
            let mut out = String::new();
            write_duration(&mut out, &Duration { seconds, nanos }).unwrap();
            out
        };
        assert_eq!(text(3600, 0), "\"PT1H\"");
        assert_eq!(text(86_400, 0), "\"P1D\"");
        assert_eq!(text(90_061, 0), "\"P1DT1H1M1S\"");
        assert_eq!(text(0, 0), "\"PT0S\"");
        assert_eq!(text(0, 500_000_000), "\"PT0.5S\"");
        assert_eq!(text(-5400, 0), "\"-PT1H30M\"");
        for text in ["PT1H", "P1D", "P1DT1H1M1S", "PT0S", "PT0.5S", "-PT1H30M", "PT3H", "PT12H"] {
            let parsed = parse_duration(text).unwrap();
            let mut out = String::new();
            write_duration(&mut out, &parsed).unwrap();
            assert_eq!(out, format!("\"{text}\""));
        }
        assert_eq!(parse_duration("PT24H").unwrap().seconds, 86_400);
        assert_eq!(parse_duration("PT90M").unwrap().seconds, 5400);
    }

    #[test]
    fn durations_without_a_fixed_length_or_shape_are_refused() {
        for text in
            ["P1M", "P1Y", "P1W", "PT", "P", "1H", "PT1H2", "PTH", "PT1.S", "P1DT", "PT-1H", "P99999999999999999999D"]
        {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        assert!(write_duration(&mut String::new(), &Duration { seconds: 1, nanos: -1 }).is_err());
    }
}
