//! The codec's errors and their gRPC status.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One problem with a request, at a location: a proto path
/// (`actions[3].isolate_device.isolation_type`) or `json` plus a JSON pointer (`json/2/identifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self { field: field.into(), description: description.into() }
    }
}

/// Why a translation failed. Every case is the caller's mistake: the codec has no internal errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The JSON text itself is malformed; nothing after this point was read.
    #[error("json is not valid JSON: line {line}, column {column} (at {field}): {message}")]
    Syntax { field: String, line: usize, column: usize, message: String },
    /// The input is well-formed but breaks the schema or the request's policy; all problems.
    #[error("{}", summarize(.0))]
    Invalid(Vec<Violation>),
}

fn summarize(violations: &[Violation]) -> String {
    match violations {
        [only] => format!("{}: {}", only.field, only.description),
        [first, rest @ ..] => {
            format!(
                "{} problems; first: {}: {} (see the BadRequest details)",
                rest.len() + 1,
                first.field,
                first.description
            )
        }
        [] => "invalid request".to_owned(),
    }
}

impl Error {
    pub fn violations(&self) -> Vec<Violation> {
        match self {
            Error::Syntax { field, line, column, message } => {
                vec![Violation::new(field.clone(), format!("line {line}, column {column}: {message}"))]
            }
            Error::Invalid(violations) => violations.clone(),
        }
    }
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
/// MAX_VIOLATIONS, each bounded, and a count of the rest).
impl From<Error> for Status {
    fn from(error: Error) -> Self {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_long_violations_stay_well_under_a_clients_trailer_limit() {
        let violations = (0..120).map(|i| Violation::new(format!("json/{i}"), "é".repeat(5000))).collect();
        let status = Status::from(Error::Invalid(violations));
        let listed = status.get_details_bad_request().expect("a BadRequest detail").field_violations;
        assert_eq!(listed.len(), MAX_VIOLATIONS + 1);
        assert!(listed.iter().all(|v| v.description.len() <= MAX_TEXT + '…'.len_utf8()));
        assert_eq!(listed[MAX_VIOLATIONS].description, "100 more problems, not listed");
        // Trailers carry the details base64-encoded and the message percent-encoded.
        let trailer_bytes = status.details().len() * 4 / 3 + status.message().len() * 3;
        assert!(trailer_bytes < 12 * 1024, "{trailer_bytes} bytes");
    }
}
