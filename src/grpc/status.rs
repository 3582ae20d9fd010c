//! The one place where each error type becomes a `tonic::Status`: its code, its details and how
//! loudly it is logged, in one exhaustive `match` per type.

use graphbridge_codec::{Error as CodecError, translate::TranslateError};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tracing::Level;

use super::encoded::ToEncoded;
use crate::{
    graph::{GatewayError, GraphFailure, Operation, TokenError, TransportError},
    server::{
        admission::AdmissionError,
        metrics::{Call, code_label},
    },
};

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
        TranslateError::NotProtobuf(_) => Status::invalid_argument(message),
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

impl From<GatewayError> for Status {
    fn from(error: GatewayError) -> Self {
        let message = bounded(&error.to_string(), MAX_MESSAGE);
        // Graph's ids go into the log line too: they are what Microsoft support asks for.
        let ids = match &error {
            GatewayError::Graph { failure, .. } | GatewayError::Throttled { failure: Some(failure), .. } => {
                Some(GraphIds {
                    request_id: failure.request_id.clone(),
                    client_request_id: failure.client_request_id.clone(),
                })
            }
            _ => None,
        };
        let (status, level) = match error {
            GatewayError::NotConfigured => (Status::failed_precondition(message), Level::DEBUG),
            GatewayError::ReadOnly { .. } => (Status::permission_denied(message), Level::DEBUG),
            GatewayError::BadRequest { field, .. } => (invalid_field(field, message), Level::DEBUG),
            GatewayError::PageToken(_) => (invalid_field("page_token", message), Level::DEBUG),
            GatewayError::Write(error) => return translate_status(error),
            GatewayError::Graph { operation, host, failure } => {
                let code = graph_code(failure.status, operation);
                // Graph refusing graphbridge's own identity or permissions is the operator's to fix.
                let level = match code {
                    Code::Internal | Code::PermissionDenied | Code::Unavailable | Code::Unknown => Level::WARN,
                    _ => Level::DEBUG,
                };
                let details = graph_details(&host, Some(&failure), failure.retry_after);
                (Status::with_error_details(code, message, details), level)
            }
            GatewayError::Throttled { wait, failure, host, .. } => {
                let details = graph_details(&host, failure.as_deref(), Some(wait));
                (Status::with_error_details(Code::ResourceExhausted, message, details), Level::DEBUG)
            }
            GatewayError::DeadlineExceeded => (Status::deadline_exceeded(message), Level::DEBUG),
            GatewayError::Transport { error, .. } => match error {
                TransportError::Timeout(_) => (Status::deadline_exceeded(message), Level::WARN),
                TransportError::TooLarge { .. } => (Status::resource_exhausted(message), Level::WARN),
                TransportError::Connect(_) | TransportError::Failed(_) => (Status::unavailable(message), Level::WARN),
            },
            GatewayError::Token(error) => match error {
                TokenError::Transport(_) => (Status::unavailable(message), Level::ERROR),
                TokenError::Credential(_) | TokenError::Refused { .. } | TokenError::Unreadable => {
                    (Status::internal(message), Level::ERROR)
                }
            },
            GatewayError::UnreadableAnswer { .. } | GatewayError::ForeignNextLink => {
                (Status::internal(message), Level::ERROR)
            }
        };
        logged_with(status, level, ids.as_ref())
    }
}

/// The gRPC code of Graph's HTTP status, as google.rpc's HTTP mapping has it; 401 (after a new
/// token was tried) is graphbridge's own identity failing, not the caller's.
fn graph_code(http_status: u16, operation: Operation) -> Code {
    match http_status {
        400 => Code::InvalidArgument,
        401 => Code::Internal,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        409 if operation == Operation::Create => Code::AlreadyExists,
        409 => Code::Aborted,
        429 => Code::ResourceExhausted,
        500..=599 => Code::Unavailable,
        402..=499 => Code::FailedPrecondition,
        _ => Code::Unknown,
    }
}

/// ErrorInfo (Graph's host and error code, the HTTP status), RequestInfo (Graph's request-id,
/// and graphbridge's client-request-id as serving data) and RetryInfo when Graph asked to wait.
fn graph_details(host: &str, failure: Option<&GraphFailure>, retry_after: Option<std::time::Duration>) -> ErrorDetails {
    let mut details = ErrorDetails::new();
    if let Some(failure) = failure {
        let metadata = std::collections::HashMap::from([
            ("http_status".to_owned(), failure.status.to_string()),
            ("client_request_id".to_owned(), failure.client_request_id.clone()),
        ]);
        details.set_error_info(upper_snake(&failure.code, failure.status), host, metadata);
        details.set_request_info(bounded(&failure.request_id, MAX_TEXT), failure.client_request_id.clone());
    }
    if retry_after.is_some() {
        details.set_retry_info(retry_after);
    }
    details
}

/// `badRequest` -> `BAD_REQUEST`, `Request_ResourceNotFound` -> `REQUEST_RESOURCE_NOT_FOUND`;
/// `HTTP_<status>` when Graph sent no code. ErrorInfo reasons are at most 63 characters.
fn upper_snake(code: &str, http_status: u16) -> String {
    let mut reason = String::new();
    let mut previous: Option<char> = None;
    for c in code.chars().filter(char::is_ascii) {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                reason.push('_');
            }
            reason.push(c.to_ascii_uppercase());
        } else if !reason.is_empty() && !reason.ends_with('_') {
            reason.push('_');
        }
        previous = Some(c);
    }
    let reason = reason.trim_matches('_');
    if reason.is_empty() || !reason.starts_with(|c: char| c.is_ascii_uppercase()) {
        return format!("HTTP_{http_status}");
    }
    reason.chars().take(63).collect::<String>().trim_end_matches('_').to_owned()
}

/// A unary call's answer: its response or the status of its error, counted in `call`.
pub(crate) fn answered<T: ToEncoded, E>(call: Call<'_>, result: Result<T, E>) -> Result<tonic::Response<T>, Status>
where
    Status: From<E>,
{
    match result {
        Ok(response) => {
            call.finish(Code::Ok, response.encoding_len());
            Ok(tonic::Response::new(response))
        }
        Err(error) => {
            let status = Status::from(error);
            call.finish(status.code(), 0);
            Err(status)
        }
    }
}

/// Logs a failed call at `level`: a caller's mistake at debug only, as its message may quote the
/// caller's data (an unknown member, a key).
fn logged(status: Status, level: Level) -> Status {
    logged_with(status, level, None)
}

/// The ids of the Graph request that answered a failed call.
struct GraphIds {
    request_id: String,
    client_request_id: String,
}

/// `logged`, with the ids of Graph's answer when Graph answered.
fn logged_with(status: Status, level: Level, graph: Option<&GraphIds>) -> Status {
    let (code, error) = (code_label(status.code()), status.message());
    let request_id = graph.map(|ids| ids.request_id.as_str());
    let client_request_id = graph.map(|ids| ids.client_request_id.as_str());
    match level {
        Level::ERROR => tracing::error!(code, error, request_id, client_request_id, "request failed"),
        Level::WARN => tracing::warn!(code, error, request_id, client_request_id, "request failed"),
        _ => tracing::debug!(code, error, request_id, client_request_id, "request refused"),
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

    #[test]
    fn graph_codes_become_upper_snake_reasons() {
        for (code, reason) in [
            ("badRequest", "BAD_REQUEST"),
            ("Request_ResourceNotFound", "REQUEST_RESOURCE_NOT_FOUND"),
            ("itemNotFound", "ITEM_NOT_FOUND"),
            ("TooManyRequests", "TOO_MANY_REQUESTS"),
            ("UnknownError", "UNKNOWN_ERROR"),
            ("", "HTTP_503"),
            ("-- 42", "HTTP_503"),
            ("é", "HTTP_503"),
        ] {
            assert_eq!(upper_snake(code, 503), reason, "{code:?}");
        }
        assert!(upper_snake(&"a".repeat(100), 400).len() <= 63);
    }

    #[test]
    fn every_graph_status_has_its_code() {
        use Operation::*;
        for (http, operation, code) in [
            (400, Get, Code::InvalidArgument),
            (401, Get, Code::Internal),
            (403, Update, Code::PermissionDenied),
            (404, Delete, Code::NotFound),
            (409, Create, Code::AlreadyExists),
            (409, Update, Code::Aborted),
            (412, Update, Code::FailedPrecondition),
            (429, List, Code::ResourceExhausted),
            (500, Get, Code::Unavailable),
            (503, Get, Code::Unavailable),
            (302, Get, Code::Unknown),
        ] {
            assert_eq!(graph_code(http, operation), code, "{http} {operation:?}");
        }
    }
}
