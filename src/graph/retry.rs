//! When to send a Graph request again, and after how long.

use std::time::{Duration, SystemTime};

use hyper::{Method, StatusCode};

/// First backoff without `Retry-After`; it doubles per retry, with full jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// Longest `Retry-After` honoured for a call without a deadline: past it the call fails with
/// RESOURCE_EXHAUSTED and the delay in its RetryInfo, for the caller to decide.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(60);

/// Why an attempt is retried: the `reason` label of the retry metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    Throttled,
    Unavailable,
    Connect,
    Connection,
    Timeout,
    Unauthorized,
}

impl RetryReason {
    pub(crate) fn label(self) -> &'static str {
        match self {
            RetryReason::Throttled => "throttled",
            RetryReason::Unavailable => "unavailable",
            RetryReason::Connect => "connect",
            RetryReason::Connection => "connection",
            RetryReason::Timeout => "timeout",
            RetryReason::Unauthorized => "unauthorized",
        }
    }
}

/// What became of one attempt, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    Answered(StatusCode),
    /// No connection: the request was never sent.
    NotSent,
    /// The connection failed or timed out after the request may have been sent.
    Lost {
        timed_out: bool,
    },
    /// The answer was over the size limit: sending again would only read it again.
    Oversized,
}

/// Whether `method` may be sent again after `attempt`: a POST only when it cannot have been
/// applied (throttled, or never sent), since Graph documents no idempotency key.
pub(crate) fn retry_reason(method: &Method, attempt: Attempt) -> Option<RetryReason> {
    let idempotent = method != Method::POST;
    match attempt {
        Attempt::Answered(StatusCode::TOO_MANY_REQUESTS) => Some(RetryReason::Throttled),
        Attempt::Answered(StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT)
            if idempotent =>
        {
            Some(RetryReason::Unavailable)
        }
        Attempt::NotSent => Some(RetryReason::Connect),
        Attempt::Lost { timed_out } if idempotent => {
            Some(if timed_out { RetryReason::Timeout } else { RetryReason::Connection })
        }
        _ => None,
    }
}

/// `Retry-After` as a delay from `now`: whole seconds (`digits`, RFC 9110's delay-seconds) or
/// fractional ones (`digits.digits`: Graph's own samples send `2.128`), or an HTTP date. None when
/// it is absent, negative or unreadable; other number forms (`1.`, `1e3`) are not delays a server
/// sends, so they are refused rather than guessed at.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.starts_with(|c: char| c.is_ascii_digit()) {
        let (whole, fraction) = value.split_once('.').unwrap_or((value, "0"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(whole) && digits(fraction)) {
            return None;
        }
        let seconds: f64 = value.parse().ok()?;
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff with full jitter for retry number `retry` (0 for the first), from a
/// uniform `jitter` in [0, 1).
pub(crate) fn backoff(retry: u32, jitter: f64) -> Duration {
    let ceiling = BACKOFF_BASE.saturating_mul(1 << retry.min(16)).min(BACKOFF_CAP);
    ceiling.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_is_sent_again_only_when_it_cannot_have_been_applied() {
        let post = Method::POST;
        assert_eq!(retry_reason(&post, Attempt::Answered(StatusCode::TOO_MANY_REQUESTS)), Some(RetryReason::Throttled));
        assert_eq!(retry_reason(&post, Attempt::NotSent), Some(RetryReason::Connect));
        for attempt in [
            Attempt::Answered(StatusCode::SERVICE_UNAVAILABLE),
            Attempt::Answered(StatusCode::BAD_GATEWAY),
            Attempt::Answered(StatusCode::GATEWAY_TIMEOUT),
            Attempt::Lost { timed_out: false },
            Attempt::Lost { timed_out: true },
            Attempt::Oversized,
        ] {
            assert_eq!(retry_reason(&post, attempt), None, "{attempt:?}");
        }
    }

    #[test]
    fn get_patch_and_delete_are_retried_on_transient_failures_only() {
        for method in [Method::GET, Method::PATCH, Method::DELETE] {
            for status in [502, 503, 504] {
                let attempt = Attempt::Answered(StatusCode::from_u16(status).unwrap());
                assert_eq!(retry_reason(&method, attempt), Some(RetryReason::Unavailable));
            }
            assert_eq!(retry_reason(&method, Attempt::Lost { timed_out: true }), Some(RetryReason::Timeout));
            for status in [200, 400, 401, 403, 404, 409, 500, 501] {
                assert_eq!(retry_reason(&method, Attempt::Answered(StatusCode::from_u16(status).unwrap())), None);
            }
        }
    }

    #[test]
    fn retry_after_reads_seconds_fractions_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 2.128 ", now), Some(Duration::from_millis(2128)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        for bad in ["", "-1", "soon", "1e999", "NaN", "inf", "1.5.2", "1.", "1e3", "1.5e2", "0x10", "1_000", "2 s"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_jitters_below_it() {
        assert_eq!(backoff(0, 1.0), BACKOFF_BASE);
        assert_eq!(backoff(2, 1.0), BACKOFF_BASE * 4);
        assert_eq!(backoff(40, 1.0), BACKOFF_CAP);
        assert_eq!(backoff(3, 0.0), Duration::ZERO);
        assert!(backoff(3, 0.5) < backoff(3, 1.0));
    }
}
