//! What more than one fuzz target needs.

/// JSON text without the whitespace between its tokens.
#[allow(dead_code)] // not every target that includes this module compares JSON text
pub fn minified(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::with_capacity(json.len()), false, false);
    for c in json.chars() {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, _, '"') => in_string = !in_string,
            (false, _, ' ' | '\n' | '\r' | '\t') => continue,
            _ => {}
        }
        out.push(c);
    }
    out
}

/// A refused request, as the service would answer it: a message, and every codec error located.
/// (The error type has no internal case: every refusal is the caller's.)
#[allow(dead_code)] // not every target that includes this module refuses requests
pub fn check_refusal(error: &graphbridge_codec::translate::TranslateError) {
    assert!(!error.to_string().is_empty(), "a refusal without a message");
    if let graphbridge_codec::translate::TranslateError::Codec(error) = error {
        assert!(!error.violations().is_empty(), "a codec error without a violation: {error:?}");
    }
}
