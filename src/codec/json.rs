//! A strict, zero-copy JSON scanner (RFC 8259) and the few writing helpers the codec needs.
//!
//! serde_json keeps the last of duplicate keys, guesses number types and gives no JSON pointer;
//! this scanner rejects duplicates at every depth, bounds nesting, rejects lone surrogates and
//! hands back every value as its exact source slice, so unknown data is kept byte for byte.

use std::{borrow::Cow, collections::HashSet, fmt};

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

    /// The decoded string, if this is a string.
    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        (self.json_type() == JsonType::String).then(|| {
            let mut scanner = Scanner::new(self.text, usize::MAX);
            scanner.string().expect("validated when scanned")
        })
    }

    /// The items of an array, if this is an array.
    pub fn items(&self) -> Option<Vec<Raw<'a>>> {
        (self.json_type() == JsonType::Array).then(|| {
            let mut scanner = Scanner::new(self.text, usize::MAX);
            let mut items = Vec::new();
            scanner
                .array(0, |s, _| {
                    items.push(s.value(1)?);
                    Ok(())
                })
                .expect("validated when scanned");
            items.iter_mut().for_each(|item| item.offset += self.offset);
            items
        })
    }
}

/// One member of an object.
#[derive(Debug, Clone)]
pub struct Member<'a> {
    pub key: Cow<'a, str>,
    pub value: Raw<'a>,
}

enum Segment<'a> {
    Key(Cow<'a, str>),
    Index(usize),
}

/// A cursor over JSON text that validates as it goes.
pub struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    max_depth: usize,
    /// Path to the value being read, for error pointers.
    path: Vec<Segment<'a>>,
}

type Result<T> = std::result::Result<T, SyntaxError>;

/// Objects with more members than this check duplicates with a hash set instead of a scan.
const LINEAR_KEY_CHECK: usize = 16;

impl<'a> Scanner<'a> {
    /// `max_depth` bounds the nesting of arrays and objects, the outermost being depth 1.
    pub fn new(src: &'a str, max_depth: usize) -> Self {
        Self { src, pos: 0, max_depth, path: Vec::new() }
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError { offset, pointer: self.pointer(), message: message.into() }
    }

    /// RFC 6901 pointer of the current path.
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        for segment in &self.path {
            out.push('/');
            match segment {
                Segment::Key(key) => push_pointer_token(&mut out, key),
                Segment::Index(i) => out.push_str(&i.to_string()),
            }
        }
        out
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
    pub fn value(&mut self, depth: usize) -> Result<Raw<'a>> {
        let start = match self.peek() {
            Some(_) => self.pos,
            None => return Err(self.unexpected("a JSON value")),
        };
        match self.bytes()[start] {
            b'{' => self.object(depth, |s, _| s.value(depth + 1).map(drop))?,
            b'[' => self.array(depth, |s, _| s.value(depth + 1).map(drop))?,
            b'"' => self.string().map(drop)?,
            b't' => self.literal("true")?,
            b'f' => self.literal("false")?,
            b'n' => self.literal("null")?,
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return Err(self.unexpected("a JSON value")),
        }
        Ok(Raw { text: &self.src[start..self.pos], offset: start })
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
        let mut keys: Vec<Cow<'a, str>> = Vec::new();
        let mut key_set: HashSet<Cow<'a, str>> = HashSet::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.unexpected("a string key"));
            }
            let key_offset = self.pos;
            let key = self.string()?;
            let duplicate = if keys.len() < LINEAR_KEY_CHECK {
                let seen = keys.contains(&key);
                keys.push(key.clone());
                seen
            } else {
                if key_set.is_empty() {
                    key_set.extend(keys.iter().cloned());
                }
                !key_set.insert(key.clone())
            };
            if duplicate {
                return Err(self.error(key_offset, format!("duplicate key {key:?}")));
            }
            self.expect_byte(b':', "':' after an object key")?;
            self.path.push(Segment::Key(key.clone()));
            self.skip_ws();
            member(self, &key)?;
            self.path.pop();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
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
            self.path.push(Segment::Index(index));
            self.skip_ws();
            item(self, index)?;
            self.path.pop();
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

    /// Scans a string token and returns its decoded text (borrowed when it has no escapes).
    pub fn string(&mut self) -> Result<Cow<'a, str>> {
        self.expect_byte(b'"', "a string")?;
        let start = self.pos;
        let bytes = self.bytes();
        // Fast path: no escapes.
        loop {
            match bytes.get(self.pos) {
                None => return Err(self.error(start - 1, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Borrowed(&self.src[start..self.pos - 1]));
                }
                Some(b'\\') => break,
                Some(&b) if b < 0x20 => return Err(self.control_character(b)),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.src[start..self.pos]);
        loop {
            match bytes.get(self.pos) {
                None => return Err(self.error(start - 1, "unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(&b) if b < 0x20 => return Err(self.control_character(b)),
                Some(_) => {
                    let run_start = self.pos;
                    while bytes.get(self.pos).is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20) {
                        self.pos += 1;
                    }
                    out.push_str(&self.src[run_start..self.pos]);
                }
            }
        }
    }

    fn control_character(&self, byte: u8) -> SyntaxError {
        self.error(self.pos, format!("control character U+{byte:04X} in a string must be escaped"))
    }

    fn escape(&mut self, out: &mut String) -> Result<()> {
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
        out.push(decoded);
        Ok(())
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
    let mut scanner = Scanner::new(text, max_depth);
    let raw = scanner.value(1)?;
    scanner.finish()?;
    Ok(raw.text)
}

/// Appends one RFC 6901 reference token.
pub fn push_pointer_token(out: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1F => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(&s[run_start..]);
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
        assert_eq!(Raw { text: r#""\ud83d\ude00""#, offset: 0 }.as_str().unwrap(), "😀");
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
        assert_eq!(Raw { text: &out, offset: 0 }.as_str().unwrap(), original);
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
        let raw = Raw { text: "[\"a\", 2]", offset: 10 };
        let items = raw.items().unwrap();
        assert_eq!(items.iter().map(|r| (r.text, r.offset)).collect::<Vec<_>>(), [("\"a\"", 11), ("2", 16)]);
    }
}
