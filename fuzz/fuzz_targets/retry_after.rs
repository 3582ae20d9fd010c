//! `graph::parse_retry_after` on any text as a `Retry-After` value, at a fuzzer-chosen `now`.
//! Input: the value, then optionally `\n` and `now` in whole seconds from the Unix epoch (negative:
//! before it; absent or unreadable: a fixed instant), so that the seeds stay readable text.
//! Never a panic, and:
//! - a value starting with a digit is seconds: accepted exactly when it is a plain decimal
//!   (`120`, `2.128`) a `Duration` holds (below 2^64 s); it reads to within 1 ns of its value (plus
//!   f64's relative precision past 2^52 ns, about 52 days), and whole seconds below 2^53 exactly;
//! - any other value is an HTTP date or refused: a date at or before `now` gives zero, a later one
//!   exactly the time from `now` to it;
//! - an accepted delay, written as the HTTP date that far from `now`, reads back as the same whole
//!   seconds, and the date as far before `now` as zero.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use graphbridge::graph::parse_retry_after;
use libfuzzer_sys::fuzz_target;

/// `now` when the input gives none: 2023-11-14T22:13:20Z.
const DEFAULT_NOW: u64 = 1_700_000_000;
/// The last second an HTTP date can name (9999-12-31T23:59:59Z): httpdate panics past it.
const LAST_HTTP_DATE: u64 = 253_402_300_799;
/// 2^64 s: the smallest number of seconds a `Duration` cannot hold.
const TOO_LONG: f64 = 18_446_744_073_709_551_616.0;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (value, now) = match text.split_once('\n') {
        Some((value, now)) => (value, now.trim().parse::<i64>().ok().and_then(at)),
        None => (&*text, None),
    };
    let now = now.unwrap_or(UNIX_EPOCH + Duration::from_secs(DEFAULT_NOW));
    let parsed = parse_retry_after(value, now);
    let trimmed = value.trim();
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        seconds(trimmed, parsed);
    } else {
        date(trimmed, now, parsed);
    }
    if let Some(delay) = parsed {
        as_dates(delay, now);
    }
});

/// `seconds` from the Unix epoch as a `SystemTime`, if the platform holds it.
fn at(seconds: i64) -> Option<SystemTime> {
    let offset = Duration::from_secs(seconds.unsigned_abs());
    if seconds < 0 { UNIX_EPOCH.checked_sub(offset) } else { UNIX_EPOCH.checked_add(offset) }
}

fn seconds(value: &str, parsed: Option<Duration>) {
    let number = plain_decimal(value).and_then(|_| value.parse::<f64>().ok());
    match (number, parsed) {
        (None, Some(delay)) => panic!("{value:?} is not a plain decimal, yet it was read as {delay:?}"),
        (None, None) => {}
        (Some(number), None) => assert!(number >= TOO_LONG, "the number of seconds {value:?} was refused"),
        (Some(number), Some(delay)) => {
            assert!(number < TOO_LONG, "{value:?} is past what a Duration holds, yet it was read as {delay:?}");
            let off = (delay.as_secs_f64() - number).abs();
            assert!(off <= number * f64::EPSILON + 1e-9, "{value:?} was read as {delay:?}");
        }
    }
    let Some((whole, fraction)) = plain_decimal(value) else { return };
    let whole = whole.trim_start_matches('0');
    if whole.len() > 19 {
        return; // 10^19 s or more: near 2^64 s, where f64 may round past what a Duration holds
    }
    let delay = parsed.unwrap_or_else(|| panic!("the plain decimal {value:?} was refused"));
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().expect("at most 19 digits") };
    // The value lies in [low, high] nanoseconds: digits past the ninth decimal are below 1 ns.
    let (nanos, rest) = fraction.split_at(fraction.len().min(9));
    let low = whole * 1_000_000_000 + format!("{nanos:0<9}").parse::<u128>().expect("nine digits");
    let high = low + u128::from(rest.bytes().any(|b| b != b'0'));
    // f64 is correctly rounded (half an ulp, relative 2^-53) and Duration rounds to the nearest ns.
    let tolerance = 1 + (high >> 52);
    let read = delay.as_nanos();
    assert!(
        read + tolerance >= low && read <= high + tolerance,
        "{value:?} was read as {delay:?}, more than {tolerance} ns off"
    );
    if low == high && low.is_multiple_of(1_000_000_000) && whole < 1 << 53 {
        assert_eq!(delay, Duration::from_secs(whole as u64), "whole seconds {value:?}");
    }
}

/// `digits` or `digits.digits`: Retry-After's delay-seconds, and the fractions Graph sends.
fn plain_decimal(value: &str) -> Option<(&str, &str)> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let fraction_ok = !value.contains('.') || !fraction.is_empty();
    (!whole.is_empty() && digits(whole) && digits(fraction) && fraction_ok).then_some((whole, fraction))
}

fn date(value: &str, now: SystemTime, parsed: Option<Duration>) {
    match (httpdate::parse_http_date(value), parsed) {
        (Ok(date), Some(delay)) if date <= now => assert_eq!(delay, Duration::ZERO, "a past date {value:?}"),
        (Ok(date), Some(delay)) => assert_eq!(now + delay, date, "the date {value:?} read as {delay:?}"),
        (Ok(_), None) => panic!("the HTTP date {value:?} was refused"),
        (Err(_), Some(delay)) => panic!("{value:?} is neither seconds nor an HTTP date, yet it was read as {delay:?}"),
        (Err(_), None) => {}
    }
}

/// The same whole seconds as HTTP dates after and before `now` (when they can be written).
fn as_dates(delay: Duration, now: SystemTime) {
    let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else { return };
    // HTTP dates have whole seconds, and so has `now` (the input gives it in seconds).
    let whole = Duration::from_secs(delay.as_secs());
    if let Some(later) = since_epoch.as_secs().checked_add(whole.as_secs()).filter(|s| *s <= LAST_HTTP_DATE) {
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(later));
        assert_eq!(parse_retry_after(&date, now), Some(whole), "{date:?} from {now:?}");
    }
    if let Some(earlier) = since_epoch.as_secs().checked_sub(whole.as_secs()).filter(|s| *s <= LAST_HTTP_DATE) {
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(earlier));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::ZERO), "{date:?} from {now:?}");
    }
}
