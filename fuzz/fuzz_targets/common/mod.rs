//! What more than one fuzz target needs.

/// JSON text without the whitespace between its tokens.
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
