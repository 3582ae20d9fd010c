//! The codec's errors: every one is the caller's mistake, located.

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
