//! What the reader reads values from: the scanner, which validates the text as it goes, or
//! members buffered ahead of time. A polymorphic object's members that come before its
//! `@odata.type` can only be read once that names the type (see `Reader::polymorphic`); they
//! are buffered already decoded, then read through the same code as the members streamed after
//! it, so no text is scanned twice.

use std::borrow::Cow;

use super::json::{Raw, Scanner, SyntaxError};

type Result<T> = std::result::Result<T, SyntaxError>;

/// A sequence of JSON values, read one at a time; `depth` is the nesting a container at the
/// read position would have (the outermost being 1).
pub trait Source<'a> {
    /// The first byte of the next value, not consumed.
    fn peek(&mut self) -> Option<u8>;
    /// Where the next value starts, for `since`.
    fn offset(&self) -> usize;
    /// The value read from `start`, an earlier `offset`, to here.
    fn since(&self, start: usize) -> Raw<'a>;
    /// The next value, as its text.
    fn value(&mut self, depth: usize) -> Result<Raw<'a>>;
    /// The next value decoded if it is a string, else as its text.
    fn string_or_value(&mut self, depth: usize) -> Result<std::result::Result<Cow<'a, str>, Raw<'a>>>;
    /// The next value, an object: `member(source, key)` reads each member's value.
    fn object(&mut self, depth: usize, member: impl FnMut(&mut Self, &Cow<'a, str>) -> Result<()>) -> Result<()>;
    /// The next value, an array: `item(source, index)` reads each item.
    fn array(&mut self, depth: usize, item: impl FnMut(&mut Self, usize) -> Result<()>) -> Result<()>;
    /// The next value, kept to be read later (by a `Cursor`).
    fn buffer(&mut self, depth: usize) -> Result<Buffered<'a>>;
}

impl<'a> Source<'a> for Scanner<'a> {
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        Scanner::peek(self)
    }

    #[inline]
    fn offset(&self) -> usize {
        Scanner::offset(self)
    }

    #[inline]
    fn since(&self, start: usize) -> Raw<'a> {
        Scanner::since(self, start)
    }

    #[inline]
    fn value(&mut self, depth: usize) -> Result<Raw<'a>> {
        Scanner::value(self, depth)
    }

    #[inline]
    fn string_or_value(&mut self, depth: usize) -> Result<std::result::Result<Cow<'a, str>, Raw<'a>>> {
        if Scanner::peek(self) == Some(b'"') { self.string().map(Ok) } else { Scanner::value(self, depth).map(Err) }
    }

    #[inline]
    fn object(&mut self, depth: usize, member: impl FnMut(&mut Self, &Cow<'a, str>) -> Result<()>) -> Result<()> {
        Scanner::object(self, depth, member)
    }

    #[inline]
    fn array(&mut self, depth: usize, item: impl FnMut(&mut Self, usize) -> Result<()>) -> Result<()> {
        Scanner::array(self, depth, item)
    }

    fn buffer(&mut self, depth: usize) -> Result<Buffered<'a>> {
        let next = Scanner::peek(self);
        let start = Scanner::offset(self);
        let kind = match next {
            Some(b'"') => Kind::String(self.string()?),
            Some(b'[') => {
                let mut items = Vec::new();
                Scanner::array(self, depth, |s, _| {
                    items.push(s.buffer(depth + 1)?);
                    Ok(())
                })?;
                Kind::Array(items)
            }
            Some(b'{') => {
                let mut members = Vec::new();
                Scanner::object(self, depth, |s, key| {
                    members.push((key.clone(), s.buffer(depth + 1)?));
                    Ok(())
                })?;
                Kind::Object(members)
            }
            _ => {
                Scanner::value(self, depth)?;
                Kind::Other
            }
        };
        Ok(Buffered { raw: Scanner::since(self, start), kind })
    }
}

/// A value read ahead: validated, its text, and decoded as far as reading it may need.
#[derive(Debug, Clone)]
pub struct Buffered<'a> {
    raw: Raw<'a>,
    kind: Kind<'a>,
}

#[derive(Debug, Clone)]
enum Kind<'a> {
    String(Cow<'a, str>),
    Array(Vec<Buffered<'a>>),
    Object(Vec<(Cow<'a, str>, Buffered<'a>)>),
    /// A number, a boolean or null: its text is all there is.
    Other,
}

/// Reads one buffered value, as the scanner read it.
pub struct Cursor<'b, 'a>(pub &'b Buffered<'a>);

impl<'a> Cursor<'_, 'a> {
    /// The value read as what it is not. The reader peeks before it reads a container, so this
    /// does not happen; an error all the same, as the scanner would give.
    #[cold]
    fn mismatch(&self, expected: &str) -> SyntaxError {
        let (raw, message) = (self.0.raw, format!("expected {expected}"));
        SyntaxError { offset: raw.offset, pointer: String::new(), message }
    }
}

impl<'a> Source<'a> for Cursor<'_, 'a> {
    fn peek(&mut self) -> Option<u8> {
        self.0.raw.text.bytes().next()
    }

    fn offset(&self) -> usize {
        self.0.raw.offset
    }

    fn since(&self, _start: usize) -> Raw<'a> {
        self.0.raw
    }

    fn value(&mut self, _depth: usize) -> Result<Raw<'a>> {
        Ok(self.0.raw)
    }

    fn string_or_value(&mut self, _depth: usize) -> Result<std::result::Result<Cow<'a, str>, Raw<'a>>> {
        Ok(match &self.0.kind {
            Kind::String(text) => Ok(text.clone()),
            _ => Err(self.0.raw),
        })
    }

    fn object(&mut self, _depth: usize, mut member: impl FnMut(&mut Self, &Cow<'a, str>) -> Result<()>) -> Result<()> {
        let buffered = self.0;
        let Kind::Object(members) = &buffered.kind else { return Err(self.mismatch("an object")) };
        members.iter().try_for_each(|(key, value)| member(&mut Cursor(value), key))
    }

    fn array(&mut self, _depth: usize, mut item: impl FnMut(&mut Self, usize) -> Result<()>) -> Result<()> {
        let buffered = self.0;
        let Kind::Array(items) = &buffered.kind else { return Err(self.mismatch("an array")) };
        items.iter().enumerate().try_for_each(|(index, value)| item(&mut Cursor(value), index))
    }

    fn buffer(&mut self, _depth: usize) -> Result<Buffered<'a>> {
        Ok(self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything `source` holds, read through `Source` alone, as (depth, what) lines.
    fn read<'a>(source: &mut impl Source<'a>, depth: usize, out: &mut Vec<String>) -> Result<()> {
        match source.peek() {
            Some(b'{') => source.object(depth, |s, key| {
                out.push(format!("{depth} key {key}"));
                read(s, depth + 1, out)
            }),
            Some(b'[') => source.array(depth, |s, index| {
                out.push(format!("{depth} item {index}"));
                read(s, depth + 1, out)
            }),
            _ => {
                let start = source.offset();
                let value = source.string_or_value(depth)?;
                out.push(format!("{value:?} {}", source.since(start).text));
                Ok(())
            }
        }
    }

    #[test]
    fn a_buffered_value_reads_like_the_text_it_came_from() {
        let json = r#" {"a": [1, "x\"y", {"b": null, "c": "plain"}], "d": {}, "e": [], "f": true}"#;
        let mut streamed = Vec::new();
        read(&mut Scanner::new(json, 8), 1, &mut streamed).unwrap();
        let buffered = Scanner::new(json, 8).buffer(1).unwrap();
        assert_eq!(buffered.raw.text, json.trim_start());
        let mut replayed = Vec::new();
        read(&mut Cursor(&buffered), 1, &mut replayed).unwrap();
        assert_eq!(streamed, replayed);
        assert!(streamed.contains(&r#"Ok("x\"y") "x\"y""#.to_owned()), "{streamed:?}");
    }

    #[test]
    fn buffering_validates_like_scanning() {
        for json in [r#"{"a": [1, {"b": 2, "b": 3}]}"#, "[[[[1]]]]", r#"{"a": "\ud800"}"#] {
            let scanned = Scanner::new(json, 3).value(1).unwrap_err();
            assert_eq!(Scanner::new(json, 3).buffer(1).unwrap_err(), scanned, "{json}");
        }
    }
}
