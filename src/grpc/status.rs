//! The one place where each error type becomes a `tonic::Status`: its code, its details and how
//! loudly it is logged, in one exhaustive `match` per type.

use graphbridge_codec::{Error as CodecError, translate::TranslateError};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tracing::Level;

use crate::server::{admission::AdmissionError, metrics::code_label};

/// Why a Translator call failed, beyond the translation itself.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Translate(#[from] TranslateError),
    #[error("translation took longer than {after:?} (--request-timeout)")]
    Timeout { after: std::time::Duration },
    #[error("request: exactly one of to_graph, from_graph, rule_to_graph, rule_from_graph, migrate_rule must be set")]
    MissingRequest,
    #[error("translation failed unexpectedly: {0}")]
    Bug(String),
}

impl From<CallError> for Status {
    fn from(error: CallError) -> Self {
        let message = error.to_string();
        let (status, level) = match error {
            CallError::Translate(error) => return translate_status(error),
            CallError::Timeout { .. } => (Status::deadline_exceeded(message), Level::WARN),
            CallError::MissingRequest => (invalid_field("request", message), Level::DEBUG),
            CallError::Bug(_) => (Status::internal(message), Level::ERROR),
        };
        logged(status, level)
    }
}

/// A failed translation (the codec's error type: the orphan rule rules out a `From`).
pub(crate) fn translate_status(error: TranslateError) -> Status {
    let message = error.to_string();
    let status = match error {
        TranslateError::TooLarge { .. } => Status::resource_exhausted(message),
        TranslateError::BadPolicy { field, .. } => invalid_field(field, message),
        TranslateError::MissingRule => invalid_field("rule", message),
        TranslateError::Codec(error) => bad_request(&error),
    };
    logged(status, Level::DEBUG)
}

impl From<AdmissionError> for Status {
    fn from(error: AdmissionError) -> Self {
        let message = error.to_string();
        let status = match error {
            AdmissionError::TooLarge { .. } | AdmissionError::Overloaded { .. } | AdmissionError::OverBudget { .. } => {
                Status::resource_exhausted(message)
            }
        };
        logged(status, Level::DEBUG)
    }
}

/// Logs a failed call at `level`: a caller's mistake at debug only, as its message may quote the
/// caller's data (an unknown member, a key).
fn logged(status: Status, level: Level) -> Status {
    let (code, error) = (code_label(status.code()), status.message());
    match level {
        Level::ERROR => tracing::error!(code, error, "request failed"),
        Level::WARN => tracing::warn!(code, error, "request failed"),
        _ => tracing::debug!(code, error, "request refused"),
    }
    status
}

/// One violation of `field`; `message` (which names the field first, for the offline tool) is
/// its description without that name, so the status says it once.
fn invalid_field(field: &str, message: String) -> Status {
    let description = message.strip_prefix(field).and_then(|rest| rest.strip_prefix(": ")).unwrap_or(&message);
    bad_request(&CodecError::Invalid(vec![graphbridge_codec::Violation::new(field, description)]))
}

/// Violations sent in one status: its details travel in HTTP/2 trailers, which clients cap
/// (16 KiB for hyper): past that a client drops the whole connection, not only the call.
const MAX_VIOLATIONS: usize = 20;
/// Longest field or description, and longest message, in bytes: caller text quoted in one (a
/// type name) can be long.
const MAX_TEXT: usize = 256;
const MAX_MESSAGE: usize = 512;

fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let end = (0..=max).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    format!("{}…", &text[..end])
}

/// INVALID_ARGUMENT with a `google.rpc.BadRequest` listing the violations (the first
/// INVALID_ARGUMENT with a `google.rpc.BadRequest` listing the violations (the first
/// MAX_VIOLATIONS, each bounded, and a count of the rest).
fn bad_request(error: &CodecError) -> Status {
    let violations = error.violations();
    let mut details = ErrorDetails::new();
    for v in violations.iter().take(MAX_VIOLATIONS) {
        details.add_bad_request_violation(bounded(&v.field, MAX_TEXT), bounded(&v.description, MAX_TEXT));
    }
    if violations.len() > MAX_VIOLATIONS {
        let rest = violations.len() - MAX_VIOLATIONS;
        details.add_bad_request_violation("…", format!("{rest} more problems, not listed"));
    }
    Status::with_error_details(Code::InvalidArgument, bounded(&error.to_string(), MAX_MESSAGE), details)
}

/// The `google.rpc.Status` a unary call would have sent, details included: a stream item's
/// in-band error.
pub(crate) fn rpc_status(status: &Status) -> graphbridge_codec::proto::google::rpc::Status {
    use prost::Message;
    let fallback = || graphbridge_codec::proto::google::rpc::Status {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: Vec::new(),
    };
    graphbridge_codec::proto::google::rpc::Status::decode(status.details())
        .ok()
        .filter(|decoded| decoded.code == status.code() as i32)
        .unwrap_or_else(fallback)
}

#[cfg(test)]
mod tests {
    use graphbridge_codec::Violation;

    use super::*;

    #[test]
    fn many_long_violations_stay_well_under_a_clients_trailer_limit() {
        let violations = (0..120).map(|i| Violation::new(format!("json/{i}"), "é".repeat(5000))).collect();
        let status = translate_status(TranslateError::Codec(CodecError::Invalid(violations)));
        let listed = status.get_details_bad_request().expect("a BadRequest detail").field_violations;
        assert_eq!(listed.len(), MAX_VIOLATIONS + 1);
        assert!(listed.iter().all(|v| v.description.len() <= MAX_TEXT + '…'.len_utf8()));
        assert_eq!(listed[MAX_VIOLATIONS].description, "100 more problems, not listed");
        // Trailers carry the details base64-encoded and the message percent-encoded.
        let trailer_bytes = status.details().len() * 4 / 3 + status.message().len() * 3;
        assert!(trailer_bytes < 12 * 1024, "{trailer_bytes} bytes");
    }

    #[test]
    fn a_refused_field_is_named_once() {
        for (error, field) in [
            (TranslateError::MissingRule, "rule"),
            (TranslateError::BadPolicy { field: "unknown_data_policy", value: 9 }, "unknown_data_policy"),
        ] {
            let status = translate_status(error);
            assert!(status.message().starts_with(&format!("{field}: ")), "{}", status.message());
            assert!(!status.message().starts_with(&format!("{field}: {field}")), "{}", status.message());
            let listed = status.get_details_bad_request().expect("a BadRequest detail").field_violations;
            assert_eq!(listed[0].field, field);
            assert!(!listed[0].description.starts_with(field), "{}", listed[0].description);
        }
        let status = Status::from(CallError::MissingRequest);
        assert!(status.message().starts_with("request: exactly one of"), "{}", status.message());
    }

    #[test]
    fn every_refusal_of_the_admission_is_resource_exhausted() {
        for refused in [
            AdmissionError::TooLarge { size: 2, limit: 1 },
            AdmissionError::Overloaded { limit: 1 },
            AdmissionError::OverBudget { limit: 1 },
        ] {
            assert_eq!(Status::from(refused).code(), Code::ResourceExhausted);
        }
    }
}
