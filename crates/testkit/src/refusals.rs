//! What every refusal must carry, as the service renders it: a message, and every codec error
//! located by at least one violation (the fuzz targets' oracle); and the violations a refusal
//! carries, as the service reports them.

use graphbridge_codec::{Error, translate::TranslateError};

/// Renders a codec error as the service would (message and violations): at least one violation,
/// and a syntax error at a 1-based line and column of `json`.
pub fn check_error(error: &Error) {
    let _ = error.to_string();
    assert!(!error.violations().is_empty(), "an error without a violation");
    if let Error::Syntax { line, column, field, .. } = error {
        assert!(*line >= 1 && *column >= 1, "line/column are 1-based");
        assert!(field.starts_with("json"), "{field}");
    }
}

/// A refused translation request: a message, and a codec error with a violation. (The error
/// type has no internal case: every refusal is the caller's.)
pub fn check_refusal(error: &TranslateError) {
    assert!(!error.to_string().is_empty(), "a refusal without a message");
    if let TranslateError::Codec(error) = error {
        assert!(!error.violations().is_empty(), "a codec error without a violation: {error:?}");
    }
}

/// The violations of a refusal as (field, description): what the service's INVALID_ARGUMENT
/// status carries in its google.rpc.BadRequest. None for a size (RESOURCE_EXHAUSTED) or bytes
/// that are not protobuf (no field to name).
pub fn violations(error: &TranslateError) -> Vec<(String, String)> {
    match error {
        TranslateError::Codec(error) => error.violations().into_iter().map(|v| (v.field, v.description)).collect(),
        TranslateError::BadPolicy { field, .. } => vec![one_field(field, error)],
        TranslateError::MissingRule => vec![one_field("rule", error)],
        TranslateError::TooLarge { .. } | TranslateError::NotProtobuf(_) => Vec::new(),
    }
}

/// The violation of one field, whose message names it first: the field is named once, as the
/// violation's field, not again in its description.
fn one_field(field: &str, error: &TranslateError) -> (String, String) {
    let message = error.to_string();
    let description = message.strip_prefix(&format!("{field}: ")).expect("the message names its field first");
    (field.to_owned(), description.to_owned())
}
