//! A strict, zero-copy JSON scanner (RFC 8259) and the few writing helpers the codec needs.
//!
//! serde_json keeps the last of duplicate keys, guesses number types and gives no JSON pointer;
//! this scanner rejects duplicates at every depth, bounds nesting, rejects lone surrogates and
//! hands back every value as its exact source slice, so unknown data is kept byte for byte.

use std::{
    borrow::Cow,
    collections::HashSet,
    fmt::{self, Write as _},
};

/// A syntax error: where it is (byte offset and JSON pointer) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset into the scanned text.
    pub offset: usize,
    /// JSON pointer of the innermost value being read.
    pub pointer: String,
    pub message: String,
}

impl SyntaxError {
    /// 1-based line and column (in characters) of the error in `src`.
    pub fn line_column(&self, src: &str) -> (usize, usize) {
        let before = &src[..floor_char_boundary(src, self.offset)];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
    }

    /// Prefixes the pointer with what `token` writes (`/` and a reference token), as the error
    /// leaves the container that holds the failed value.
    fn within(mut self, token: impl FnOnce(&mut String)) -> Self {
        let mut pointer = String::new();
        token(&mut pointer);
        pointer.push_str(&self.pointer);
        self.pointer = pointer;
        self
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The JSON type of a value, from its first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Null => "null",
            JsonType::Bool => "a boolean",
            JsonType::Number => "a number",
            JsonType::String => "a string",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
        })
    }
}

/// A validated value: its exact source text.
#[derive(Debug, Clone, Copy)]
pub struct Raw<'a> {
    pub text: &'a str,
    /// Byte offset of `text` in the whole input.
    pub offset: usize,
}

impl<'a> Raw<'a> {
    /// `text`, already validated as one JSON value, at `offset` in the whole input.
    pub fn new(text: &'a str, offset: usize) -> Self {
        Self { text, offset }
    }

    pub fn json_type(&self) -> JsonType {
        match self.text.as_bytes()[0] {
            b'n' => JsonType::Null,
            b't' | b'f' => JsonType::Bool,
            b'"' => JsonType::String,
            b'[' => JsonType::Array,
            b'{' => JsonType::Object,
            _ => JsonType::Number,
        }
    }

    /// The decoded string, if this is a string. It reads the text again: for tools looking at a
    /// document afterwards (the codec decodes each string as it scans it), hence `None` rather
    /// than a panic for text that `Raw::new` was wrongly given.
    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        match self.json_type() {
            JsonType::String => Scanner::new(self.text, usize::MAX).string().ok(),
            _ => None,
        }
    }

    /// The items of an array, if this is an array; read again, like `as_str`.
    pub fn items(&self) -> Option<Vec<Raw<'a>>> {
        if self.json_type() != JsonType::Array {
            return None;
        }
        let mut items = Vec::new();
        let mut scanner = Scanner::new(self.text, usize::MAX);
        let scanned = scanner.array(1, |s, _| {
            let mut item = s.value(2)?;
            item.offset += self.offset;
            items.push(item);
            Ok(())
        });
        scanned.ok().map(|()| items)
    }
}

/// A cursor over JSON text that validates as it goes.
///
/// The happy path allocates only for keys with escapes and for one stack of keys (duplicate
/// detection) shared by all the objects it reads. The JSON pointer of an error is built as the
/// error leaves each array and object, so no path is kept while scanning.
pub struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    max_depth: usize,
    /// Keys of the objects being read, innermost last, to detect duplicates.
    keys: Vec<Cow<'a, str>>,
}

type Result<T> = std::result::Result<T, SyntaxError>;

/// Objects with more members than this check duplicates with a hash set instead of a scan.
const LINEAR_KEY_CHECK: usize = 16;

/// Bytes that end a run of plain string content: the quote, the backslash, control characters.
static STRING_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The quotes, backslashes and control characters among the 8 bytes of `chunk` (little endian),
/// found 8 at a time with the classic "has zero byte" and "has byte less than" bit tricks: the
/// lowest set bit is the high bit of the first such byte (bits above it may be false positives).
fn special_bytes(chunk: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let quotes = zero_bytes(chunk ^ (ONES * u64::from(b'"')));
    let backslashes = zero_bytes(chunk ^ (ONES * u64::from(b'\\')));
    let controls = chunk.wrapping_sub(ONES * 0x20) & !chunk & HIGH;
    quotes | backslashes | controls
}

/// Length of the plain string content at the start of `bytes`: up to the first quote, backslash
/// or control character. Eight bytes at a time; byte by byte only in the last few bytes.
fn plain_len(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut len = 0;
    for chunk in &mut chunks {
        let special = special_bytes(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if special != 0 {
            return len + (special.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    len + chunks.remainder().iter().take_while(|&&b| !STRING_SPECIAL[usize::from(b)]).count()
}

impl<'a> Scanner<'a> {
    /// `max_depth` bounds the nesting of arrays and objects, the outermost being depth 1.
    pub fn new(src: &'a str, max_depth: usize) -> Self {
        Self { src, pos: 0, max_depth, keys: Vec::new() }
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// An error at `offset`; its pointer is completed by the containers it leaves.
    #[cold]
    fn error(&self, offset: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError { offset, pointer: String::new(), message: message.into() }
    }

    pub fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied()
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Bytes not scanned yet.
    pub fn remaining(&self) -> usize {
        self.src.len() - self.pos
    }

    /// The text scanned from `start` (an earlier `offset()`, at a value) to here, as one value.
    pub fn since(&self, start: usize) -> Raw<'a> {
        Raw::new(&self.src[start..self.pos], start)
    }

    /// Fails unless only whitespace is left.
    pub fn finish(&mut self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(self.pos, "unexpected characters after the JSON value")),
        }
    }

    fn expect_byte(&mut self, byte: u8, what: &str) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(what))
        }
    }

    #[cold]
    fn unexpected(&self, expected: &str) -> SyntaxError {
        match self.src[self.pos..].chars().next() {
            None => self.error(self.pos, format!("unexpected end of input, expected {expected}")),
            Some(c) => self.error(self.pos, format!("unexpected {c:?}, expected {expected}")),
        }
    }

    fn enter(&self, depth: usize) -> Result<()> {
        if depth > self.max_depth {
            Err(self.error(self.pos, format!("nesting deeper than {} levels", self.max_depth)))
        } else {
            Ok(())
        }
    }

    /// Scans one value of any type at nesting `depth` (the depth a container here would have)
    /// and returns its text.
    #[inline]
    pub fn value(&mut self, depth: usize) -> Result<Raw<'a>> {
        // Strings, the most common values, are scanned right here; other values by `non_string`.
        if self.peek() != Some(b'"') {
            return self.non_string(depth);
        }
        let start = self.pos;
        self.skip_string()?;
        Ok(self.since(start))
    }

    fn non_string(&mut self, depth: usize) -> Result<Raw<'a>> {
        let start = self.pos;
        match self.bytes().get(start) {
            Some(b'{') => self.object(depth, |s, _| s.value(depth + 1).map(drop))?,
            Some(b'[') => self.array(depth, |s, _| s.value(depth + 1).map(drop))?,
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.unexpected("a JSON value")),
        }
        Ok(self.since(start))
    }

    /// Scans an object at `depth`, calling `member(scanner, key)` with the scanner positioned at
    /// each value, which the callback must consume. Duplicate keys are an error.
    pub fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, &Cow<'a, str>) -> Result<()>,
    ) -> Result<()> {
        self.enter(depth)?;
        self.expect_byte(b'{', "'{'")?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        // This object's keys are keys[first..]; past LINEAR_KEY_CHECK of them, also in key_set.
        let first = self.keys.len();
        let mut key_set: Option<HashSet<Cow<'a, str>>> = None;
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a string key"));
            }
            let key_offset = self.pos;
            let key = self.string()?;
            let seen = &self.keys[first..];
            let duplicate = if seen.len() < LINEAR_KEY_CHECK {
                seen.contains(&key)
            } else {
                !key_set.get_or_insert_with(|| seen.iter().cloned().collect()).insert(key.clone())
            };
            if duplicate {
                return Err(self.error(key_offset, format!("duplicate key {key:?}")));
            }
            self.keys.push(key.clone());
            self.expect_byte(b':', "':' after an object key")?;
            self.skip_ws();
            member(self, &key).map_err(|e| {
                e.within(|pointer| {
                    pointer.push('/');
                    push_pointer_token(pointer, &key);
                })
            })?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.keys.truncate(first);
                    return Ok(());
                }
                _ => return Err(self.unexpected("',' or '}' after an object member")),
            }
        }
    }

    /// Scans an array at `depth`, calling `item(scanner, index)` positioned at each item.
    pub fn array(&mut self, depth: usize, mut item: impl FnMut(&mut Self, usize) -> Result<()>) -> Result<()> {
        self.enter(depth)?;
        self.expect_byte(b'[', "'['")?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        for index in 0.. {
            self.skip_ws();
            item(self, index).map_err(|e| e.within(|pointer| push_index_token(pointer, index)))?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected("',' or ']' after an array item")),
            }
        }
        Ok(())
    }

    fn literal(&mut self, word: &str) -> Result<()> {
        if self.src[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.unexpected("a JSON value"))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.bytes().get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<()> {
        let start = self.pos;
        if self.bytes()[self.pos] == b'-' {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.digits() {
            0 => return Err(self.error(start, "invalid number: expected a digit")),
            n if n > 1 && self.bytes()[int_start] == b'0' => {
                return Err(self.error(start, "invalid number: leading zero"));
            }
            _ => {}
        }
        if self.bytes().get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error(start, "invalid number: expected a digit after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes().get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes().get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error(start, "invalid number: expected a digit in the exponent"));
            }
        }
        Ok(())
    }

    /// Moves past plain string content: up to the next quote, backslash or control character.
    fn skip_plain(&mut self) {
        self.pos += plain_len(&self.bytes()[self.pos..]);
    }

    /// Scans a string token and returns its decoded text (borrowed when it has no escapes).
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        self.expect_byte(b'"', "a string")?;
        let start = self.pos;
        self.skip_plain();
        if self.bytes().get(self.pos) == Some(&b'"') {
            self.pos += 1;
            return Ok(Cow::Borrowed(&self.src[start..self.pos - 1]));
        }
        let mut out = String::with_capacity(self.pos - start + 16);
        out.push_str(&self.src[start..self.pos]);
        self.escaped_string(start, Some(&mut out))?;
        Ok(Cow::Owned(out))
    }

    /// Scans a string token without decoding it.
    #[inline]
    fn skip_string(&mut self) -> Result<()> {
        self.expect_byte(b'"', "a string")?;
        let start = self.pos;
        self.skip_plain();
        if self.bytes().get(self.pos) == Some(&b'"') {
            self.pos += 1;
            return Ok(());
        }
        self.escaped_string(start, None)
    }

    /// The rest of a string that is not plain (its content starts at `start`): validated, and
    /// decoded into `out` when given.
    #[inline(never)]
    fn escaped_string(&mut self, start: usize, mut out: Option<&mut String>) -> Result<()> {
        loop {
            match self.bytes().get(self.pos) {
                None => return Err(self.error(start - 1, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let decoded = self.escape()?;
                    if let Some(out) = out.as_deref_mut() {
                        out.push(decoded);
                    }
                }
                Some(&b) if b < 0x20 => return Err(self.control_character(b)),
                Some(_) => {
                    let run_start = self.pos;
                    self.skip_plain();
                    if let Some(out) = out.as_deref_mut() {
                        out.push_str(&self.src[run_start..self.pos]);
                    }
                }
            }
        }
    }

    #[cold]
    fn control_character(&self, byte: u8) -> SyntaxError {
        self.error(self.pos, format!("control character U+{byte:04X} in a string must be escaped"))
    }

    /// Reads one escape sequence and returns the character it stands for.
    fn escape(&mut self) -> Result<char> {
        let at = self.pos;
        self.pos += 1; // the backslash
        let Some(&kind) = self.bytes().get(self.pos) else {
            return Err(self.error(at, "unterminated escape"));
        };
        self.pos += 1;
        let decoded = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4(at)?;
                match unit {
                    0xD800..=0xDBFF => {
                        if !self.src[self.pos..].starts_with("\\u") {
                            return Err(self.error(at, format!("lone surrogate \\u{unit:04X}")));
                        }
                        let low_at = self.pos;
                        self.pos += 2;
                        let low = self.hex4(low_at)?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error(at, format!("lone surrogate \\u{unit:04X}")));
                        }
                        let code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                        char::from_u32(code).expect("a surrogate pair is a valid scalar")
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error(at, format!("lone surrogate \\u{unit:04X}")));
                    }
                    _ => char::from_u32(u32::from(unit)).expect("not a surrogate"),
                }
            }
            _ => return Err(self.error(at, "invalid escape")),
        };
        Ok(decoded)
    }

    /// Reads the 4 hex digits after `\u`.
    fn hex4(&mut self, escape_at: usize) -> Result<u16> {
        let digits = self.src.get(self.pos..self.pos + 4).filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(digits) = digits else {
            return Err(self.error(escape_at, "invalid \\u escape: expected 4 hex digits"));
        };
        self.pos += 4;
        Ok(u16::from_str_radix(digits, 16).expect("checked hex digits"))
    }
}

/// Validates that `text` is exactly one JSON value (surrounding whitespace allowed) whose
/// containers nest at most `max_depth` levels, and returns it trimmed.
pub fn single_value(text: &str, max_depth: usize) -> Result<&str> {
    read_single(text, max_depth, |s| s.value(1)).map(|(value, _)| value)
}

/// Like `single_value`, with the value read by `read` (at depth 1) as it is validated.
pub fn read_single<'a, T>(
    text: &'a str,
    max_depth: usize,
    read: impl FnOnce(&mut Scanner<'a>) -> Result<T>,
) -> Result<(&'a str, T)> {
    let mut scanner = Scanner::new(text, max_depth);
    scanner.skip_ws();
    let start = scanner.offset();
    let read = read(&mut scanner)?;
    let value = scanner.since(start).text;
    scanner.finish()?;
    Ok((value, read))
}

/// Appends one RFC 6901 reference token.
pub fn push_pointer_token(out: &mut String, token: &str) {
    if !token.bytes().any(|b| b == b'~' || b == b'/') {
        out.push_str(token);
        return;
    }
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Appends `/index`, the reference token of an array item, without the formatting machinery.
pub fn push_index_token(out: &mut String, index: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = index;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.push('/');
    out.push_str(std::str::from_utf8(&digits[start..]).expect("ASCII digits"));
}

/// Writes a name from the schema as a JSON string: the schema's names need no escaping
/// (`schema::tests`), so they are not scanned for what would.
pub fn write_name(out: &mut String, name: &str) {
    out.reserve(name.len() + 2);
    out.push('"');
    out.push_str(name);
    out.push('"');
}

/// Appends `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut rest = s;
    loop {
        let plain = plain_len(rest.as_bytes());
        out.push_str(&rest[..plain]);
        let Some(&b) = rest.as_bytes().get(plain) else { break };
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                let _ = write!(out, "\\u{b:04x}");
            }
        }
        rest = &rest[plain + 1..];
    }
    out.push('"');
}

/// Re-indents valid JSON with two spaces, copying every token verbatim.
pub fn pretty(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 2);
    let mut indent = 0usize;
    let newline = |out: &mut String, indent: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent * 2));
    };
    let bytes = compact.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                out.push_str(&compact[start..=i]);
            }
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let next = bytes[i + 1..].iter().position(|b| !b.is_ascii_whitespace()).map(|p| i + 1 + p);
                if next.is_some_and(|n| bytes[n] == close) {
                    out.push(open as char);
                    out.push(close as char);
                    i = next.unwrap_or(i);
                } else {
                    out.push(open as char);
                    indent += 1;
                    newline(&mut out, indent);
                }
            }
            close @ (b'}' | b']') => {
                indent -= 1;
                newline(&mut out, indent);
                out.push(close as char);
            }
            b',' => {
                out.push(',');
                newline(&mut out, indent);
            }
            b':' => out.push_str(": "),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => {
                let start = i;
                while i + 1 < bytes.len() && !b",:{}[] \t\n\r\"".contains(&bytes[i + 1]) {
                    i += 1;
                }
                out.push_str(&compact[start..=i]);
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str) -> Result<&str> {
        single_value(text, 8)
    }

    fn error(text: &str) -> SyntaxError {
        scan(text).expect_err(text)
    }

    #[test]
    fn accepts_every_json_type_and_keeps_its_text() {
        for text in ["null", "true", "false", "0", "-0.5e+10", "12345678901234567890123", "\"a\\u00e9\"", "[]", "{}"] {
            assert_eq!(scan(text), Ok(text));
        }
        assert_eq!(scan(" [1, {\"a\": [true]}] \n"), Ok("[1, {\"a\": [true]}]"));
    }

    #[test]
    fn rejects_what_rfc_8259_rejects() {
        for text in [
            "",
            "NaN",
            "Infinity",
            "-",
            "01",
            "1.",
            "1e",
            "+1",
            "[1,]",
            "{\"a\":1,}",
            "{a:1}",
            "'a'",
            "[1 2]",
            "\"\t\"",
            "\"\\x\"",
            "\"\\u12\"",
            "tru",
            "[",
            "\"abc",
        ] {
            assert!(scan(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn trailing_characters_are_an_error() {
        let e = error("{} x");
        assert_eq!(e.offset, 3);
        assert!(e.message.contains("after the JSON value"), "{}", e.message);
    }

    #[test]
    fn duplicate_keys_are_an_error_at_any_depth_even_when_escaped() {
        let e = error(r#"{"a":{"b":1,"\u0062":2}}"#);
        assert_eq!(e.pointer, "/a");
        assert_eq!(e.message, "duplicate key \"b\"");
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":0")).collect();
        let text = format!("{{{},\"k39\":1}}", many.join(","));
        assert!(error(&text).message.contains("duplicate key \"k39\""));
    }

    #[test]
    fn depth_is_bounded_and_the_pointer_names_the_place() {
        assert!(scan(&format!("{}{}", "[".repeat(8), "]".repeat(8))).is_ok());
        let e = error(&format!("{}{}", "[".repeat(9), "]".repeat(9)));
        assert_eq!(e.message, "nesting deeper than 8 levels");
        assert_eq!(e.pointer, "/0/0/0/0/0/0/0/0");
        let deep = "[".repeat(100_000);
        assert!(single_value(&deep, 64).is_err());
    }

    #[test]
    fn surrogates_must_pair() {
        assert_eq!(Raw::new(r#""\ud83d\ude00""#, 0).as_str().unwrap(), "😀");
        for text in [r#""\ud83d""#, r#""\ude00""#, r#""\ud83dx""#, r#""\ud83d\u0041""#] {
            assert!(error(text).message.contains("lone surrogate"), "{text}");
        }
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        let e = error(r#"{"a/b~c":[1,}"#);
        assert_eq!(e.pointer, "/a~1b~0c/1");
    }

    #[test]
    fn line_and_column_count_characters() {
        let src = "[\n  \"é\", x]";
        let e = error(src);
        assert_eq!(e.line_column(src), (2, 8));
    }

    #[test]
    fn strings_are_written_escaped_and_read_back() {
        let original = "quote\" backslash\\ nl\n tab\t bell\u{7} é 😀";
        let mut out = String::new();
        write_string(&mut out, original);
        assert_eq!(out, r#""quote\" backslash\\ nl\n tab\t bell\u0007 é 😀""#);
        assert_eq!(Raw::new(&out, 0).as_str().unwrap(), original);
    }

    #[test]
    fn scanned_strings_are_decoded_borrowed_unless_escaped() {
        let mut scanner = Scanner::new(r#"["plain", "esc\"aped", "\u00e9"]"#, 8);
        let mut decoded = Vec::new();
        scanner
            .array(1, |s, _| {
                decoded.push(s.value(2)?.as_str().expect("a string"));
                Ok(())
            })
            .unwrap();
        assert_eq!(decoded, ["plain", "esc\"aped", "é"]);
        assert!(matches!(decoded[0], Cow::Borrowed(_)) && matches!(decoded[1], Cow::Owned(_)));
    }

    #[test]
    fn the_eight_byte_check_finds_the_first_special_byte() {
        let first_special = |chunk: [u8; 8]| match special_bytes(u64::from_le_bytes(chunk)) {
            0 => None,
            bits => Some(bits.trailing_zeros() / 8),
        };
        for byte in 0..=255u8 {
            for position in 0..8 {
                let mut chunk = *b"abcdefgh";
                chunk[position] = byte;
                let expected = STRING_SPECIAL[usize::from(byte)].then_some(position as u32);
                assert_eq!(first_special(chunk), expected, "byte {byte:#04x} at {position}");
                // A later special byte, or any byte after a special one, does not move the first.
                for later in [b'"', b'\\', 0x00, 0x1f, 0x80, 0xff] {
                    for after in position + 1..8 {
                        let mut chunk = chunk;
                        chunk[after] = later;
                        let expected = expected.or(STRING_SPECIAL[usize::from(later)].then_some(after as u32));
                        assert_eq!(first_special(chunk), expected, "{chunk:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn long_strings_decode_across_chunk_boundaries() {
        for length in 0..40 {
            for at in 0..=length {
                let plain: String = (0..length).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
                let (head, tail) = plain.split_at(at);
                let text = format!("\"{head}\\n{tail}é\"");
                assert_eq!(Raw::new(&text, 0).as_str().unwrap(), format!("{head}\n{tail}é"));
                let unescaped = format!("\"{plain}\"");
                assert_eq!(Raw::new(&unescaped, 0).as_str().unwrap(), plain);
                let control = format!("\"{head}\u{1}{tail}\"");
                assert!(scan(&control).unwrap_err().message.contains("U+0001"), "{control:?}");
            }
        }
    }

    #[test]
    fn long_strings_are_written_escaped_across_chunk_boundaries() {
        for length in 0..40 {
            for at in 0..=length {
                let plain: String = (0..length).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
                let (head, tail) = plain.split_at(at);
                for special in ["\"", "\\", "\n", "\u{1f}", "é"] {
                    let original = format!("{head}{special}{tail}");
                    let mut out = String::new();
                    write_string(&mut out, &original);
                    assert_eq!(Raw::new(&out, 0).as_str().unwrap(), original, "{out}");
                    assert_eq!(serde_json::from_str::<String>(&out).unwrap(), original, "{out}");
                }
            }
        }
    }

    #[test]
    fn index_tokens_are_decimal() {
        for index in [0, 7, 10, 12_345, usize::MAX] {
            let mut out = String::from("x");
            push_index_token(&mut out, index);
            assert_eq!(out, format!("x/{index}"));
        }
    }

    #[test]
    fn pretty_reindents_and_keeps_tokens() {
        let compact = r#"[{"a":[],"b":{"c":"x,{y}\"","d":1.50}},{}]"#;
        let expected = "[\n  {\n    \"a\": [],\n    \"b\": {\n      \"c\": \"x,{y}\\\"\",\n      \"d\": 1.50\n    }\n  },\n  {}\n]";
        assert_eq!(pretty(compact), expected);
        assert_eq!(pretty("[ 1 , [ ] ]"), "[\n  1,\n  []\n]");
    }

    #[test]
    fn items_have_offsets_into_the_whole_input() {
        let raw = Raw::new("[\"a\", 2]", 10);
        let items = raw.items().unwrap();
        assert_eq!(items.iter().map(|r| (r.text, r.offset)).collect::<Vec<_>>(), [("\"a\"", 11), ("2", 16)]);
        assert_eq!(Raw::new("[ ]", 0).items().unwrap().len(), 0);
        assert!(Raw::new("{}", 0).items().is_none());
    }
}
