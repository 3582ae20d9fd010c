//! One typed property's value, to and from its Graph JSON form. The writer and the reader both
//! go through here, so a value is judged the same way in both directions.

use std::{borrow::Cow, fmt::Write as _};

use super::{
    json::{JsonType, Raw, SyntaxError, write_name, write_string},
    source::Source,
    time,
};
use crate::{
    pb::UnknownDataKind,
    schema::{EnumSchema, Slot, Value},
};

/// How a Graph JSON value fits a typed property.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Stored in the typed field.
    Typed,
    /// Valid for the property but without an exact typed form: to be kept raw.
    /// `kind` is `EnumMember` (a member this build does not know) or `RawValue`.
    Untyped { kind: UnknownDataKind, detail: String },
    /// The JSON type is wrong for the property.
    WrongType(WrongType),
}

/// A value of the wrong JSON type.
#[derive(Debug, PartialEq, Eq)]
pub struct WrongType {
    pub expected: &'static str,
    pub found: JsonType,
    /// The offending array index, if one item is wrong.
    pub item: Option<usize>,
}

impl WrongType {
    /// What is wrong with the value of `property`.
    pub fn message(&self, property: &str) -> String {
        let what = self.item.map_or_else(|| property.to_owned(), |i| format!("item {i} of {property}"));
        format!("{what} must be {}, found {}", self.expected, self.found)
    }
}

/// Reads the value at `s` (not null; at nesting `depth`) into `slot`, as it is scanned. The slot
/// is changed only when the result is `Typed`.
pub fn decode<'a>(slot: Slot<'_>, s: &mut impl Source<'a>, depth: usize) -> Result<Decoded, SyntaxError> {
    let expects = match slot {
        Slot::Strings(field) => return strings(field, s, depth),
        Slot::Bool(field) => {
            let raw = s.value(depth)?;
            return Ok(match raw.text {
                "true" => typed(field, true),
                "false" => typed(field, false),
                _ => expected("a boolean", &raw),
            });
        }
        // The reader reads complex values itself, object by object.
        Slot::Object(_) | Slot::Objects(_) => unreachable!("complex values are not decoded here"),
        Slot::Flags(..) => "a string of comma-separated enum members",
        Slot::Enum(..) => "a string enum member",
        Slot::Timestamp(_) => "a date-time string",
        Slot::Duration(_) => "an ISO 8601 duration string",
        Slot::String(_) => "a string",
    };
    Ok(match s.string_or_value(depth)? {
        Ok(text) => decode_string(slot, text),
        Err(other) => expected(expects, &other),
    })
}

/// Reads the string `text` into `slot`, one of those holding a string.
fn decode_string(slot: Slot<'_>, text: Cow<'_, str>) -> Decoded {
    match slot {
        Slot::Flags(schema, field) => {
            let mut bits = 0u64;
            let mut unknown = Vec::new();
            for token in flag_tokens(&text) {
                match known_member(schema, token) {
                    Some(index) => bits |= 1 << index,
                    None => unknown.push(token),
                }
            }
            if !unknown.is_empty() {
                return unknown_members(&unknown);
            }
            field.clear();
            field.reserve_exact(bits.count_ones() as usize);
            field
                .extend(schema.members.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, m)| m.number));
            Decoded::Typed
        }
        Slot::Enum(schema, field) => match known_member(schema, &text) {
            Some(index) => {
                *field = schema.members[index].number;
                Decoded::Typed
            }
            None => unknown_members(&[&text]),
        },
        Slot::Timestamp(field) => time::parse_timestamp(&text).map_or_else(untyped, |t| typed(field, t)),
        Slot::Duration(field) => time::parse_duration(&text).map_or_else(untyped, |d| typed(field, d)),
        // protobuf cannot tell "" from an absent string: kept raw, so that it round-trips.
        Slot::String(_) if text.is_empty() => {
            Decoded::Untyped { kind: UnknownDataKind::RawValue, detail: "empty string".into() }
        }
        Slot::String(field) => {
            // Into the field's own buffer: an encoder reuses one for every string it reads.
            field.clear();
            field.push_str(&text);
            Decoded::Typed
        }
        Slot::Strings(_) | Slot::Bool(_) | Slot::Object(_) | Slot::Objects(_) => {
            unreachable!("not a string property")
        }
    }
}

/// Reads the value at `s` into a collection of strings; the first item that is no string
/// decides what the collection is, and the rest is only scanned.
fn strings<'a>(field: &mut Vec<String>, s: &mut impl Source<'a>, depth: usize) -> Result<Decoded, SyntaxError> {
    if s.peek() != Some(b'[') {
        let other = s.value(depth)?;
        return Ok(expected("an array of strings", &other));
    }
    let mut strings = Vec::new();
    let mut problem = None;
    s.array(depth, |s, index| {
        if problem.is_some() {
            return s.value(depth + 1).map(drop);
        }
        match s.string_or_value(depth + 1)? {
            Ok(text) => strings.push(text.into_owned()),
            Err(other) if other.json_type() == JsonType::Null => {
                let detail = format!("null item at {index}");
                problem = Some(Decoded::Untyped { kind: UnknownDataKind::RawValue, detail });
            }
            Err(other) => {
                let found = other.json_type();
                problem = Some(Decoded::WrongType(WrongType { expected: "a string", found, item: Some(index) }));
            }
        }
        Ok(())
    })?;
    Ok(match problem {
        Some(problem) => problem,
        None if strings.is_empty() => {
            Decoded::Untyped { kind: UnknownDataKind::RawValue, detail: "empty collection".into() }
        }
        None => {
            *field = strings;
            Decoded::Typed
        }
    })
}

/// How the value at `s` (a known property's value held in additional_data) would be read into a
/// property of `value`'s kind. Complex values are checked for their JSON type only.
pub fn judge<'a>(value: Value<'_>, s: &mut impl Source<'a>, depth: usize) -> Result<Decoded, SyntaxError> {
    match value {
        Value::Flags(schema, _) => decode(Slot::Flags(schema, &mut Vec::new()), s, depth),
        Value::Enum(schema, _) => decode(Slot::Enum(schema, &mut 0), s, depth),
        Value::Strings(_) => decode(Slot::Strings(&mut Vec::new()), s, depth),
        Value::String(_) => decode(Slot::String(&mut String::new()), s, depth),
        Value::Bool(_) => decode(Slot::Bool(&mut None), s, depth),
        Value::Timestamp(_) => decode(Slot::Timestamp(&mut None), s, depth),
        Value::Duration(_) => decode(Slot::Duration(&mut None), s, depth),
        Value::Object(_) | Value::Objects(_) => {
            let raw = s.value(depth)?;
            Ok(match (value, raw.json_type()) {
                (Value::Object(_), found) if found != JsonType::Object => expected("an object", &raw),
                (Value::Objects(_), found) if found != JsonType::Array => expected("an array of objects", &raw),
                _ => {
                    let detail = if raw.text.len() <= 2 { "empty value" } else { "complex value kept raw" };
                    Decoded::Untyped { kind: UnknownDataKind::RawValue, detail: detail.into() }
                }
            })
        }
    }
}

fn typed<T>(field: &mut Option<T>, value: T) -> Decoded {
    *field = Some(value);
    Decoded::Typed
}

/// A valid value of the property's JSON type whose text has no exact typed form: kept raw.
fn untyped(why: time::NotTyped) -> Decoded {
    Decoded::Untyped { kind: UnknownDataKind::RawValue, detail: why.into() }
}

/// The comma-separated tokens of a flags value, each trimmed (like `split(',')`, which is
/// slower on such short strings).
fn flag_tokens(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        let comma = current.bytes().position(|b| b == b',');
        rest = comma.map(|i| &current[i + 1..]);
        Some(trimmed(&current[..comma.unwrap_or(current.len())]))
    })
}

/// `token.trim()`, without its Unicode tables for a token that starts and ends with a letter or
/// digit, as members do.
fn trimmed(token: &str) -> &str {
    match token.as_bytes() {
        [first, .., last] | [first @ last] if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() => token,
        _ => token.trim(),
    }
}

/// A member this build can hold in a typed field: known, and not Graph's sentinel (which stands
/// for "a member you did not opt into" and is kept raw so that it round-trips).
fn known_member(schema: &EnumSchema, graph_name: &str) -> Option<usize> {
    schema.index_of_name(graph_name).filter(|&i| !schema.members[i].is_sentinel())
}

/// `raw` is not of the JSON type the property needs.
pub fn expected(what: &'static str, raw: &Raw<'_>) -> Decoded {
    Decoded::WrongType(WrongType { expected: what, found: raw.json_type(), item: None })
}

fn unknown_members(tokens: &[&str]) -> Decoded {
    let mut detail = String::from("unknown enum member(s): ");
    for (i, token) in tokens.iter().enumerate() {
        let _ = write!(detail, "{}{token:?}", if i > 0 { ", " } else { "" });
    }
    Decoded::Untyped { kind: UnknownDataKind::EnumMember, detail }
}

/// A problem with a typed value, relative to the property's proto path.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Index into a repeated field, if the problem is one element.
    pub item: Option<usize>,
    pub description: String,
}

/// Appends the Graph JSON form of a set `value` to `out`, or returns every problem with it.
pub fn encode(value: Value<'_>, out: &mut String) -> Result<(), Vec<Invalid>> {
    match value {
        Value::Flags(schema, numbers) => {
            let mut bits = 0u64;
            let mut problems = Vec::new();
            for (item, &number) in numbers.iter().enumerate() {
                match writable_member(schema, number) {
                    Ok(index) => bits |= 1 << index,
                    Err(description) => problems.push(Invalid { item: Some(item), description }),
                }
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            out.push('"');
            let mut first = true;
            for (_, member) in schema.members.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0) {
                if !std::mem::take(&mut first) {
                    out.push(',');
                }
                out.push_str(member.graph_name); // member names need no escaping
            }
            out.push('"');
            Ok(())
        }
        Value::Enum(schema, number) => {
            let index =
                writable_member(schema, number).map_err(|description| vec![Invalid { item: None, description }])?;
            write_name(out, schema.members[index].graph_name);
            Ok(())
        }
        Value::Strings(strings) => {
            out.push('[');
            for (i, s) in strings.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, s);
            }
            out.push(']');
            Ok(())
        }
        Value::String(text) => {
            write_string(out, text);
            Ok(())
        }
        Value::Bool(value) => {
            out.push_str(if value == Some(true) { "true" } else { "false" });
            Ok(())
        }
        Value::Timestamp(Some(t)) => time::write_timestamp(out, t).map_err(invalid),
        Value::Duration(Some(d)) => time::write_duration(out, d).map_err(invalid),
        // Never set values (see `Value::is_set`); complex values are written by the writer.
        Value::Timestamp(None) | Value::Duration(None) | Value::Object(_) | Value::Objects(_) => {
            unreachable!("not a set scalar value")
        }
    }
}

fn invalid(description: String) -> Vec<Invalid> {
    vec![Invalid { item: None, description }]
}

fn writable_member(schema: &EnumSchema, number: i32) -> Result<usize, String> {
    if number == 0 {
        return Err(format!("{} is not a member: choose a value", schema.unspecified));
    }
    let Some(index) = schema.index_of_number(number) else {
        let mut message = format!("{number} is not a value of {}; valid: ", schema.graph_name);
        for (i, m) in schema.members.iter().filter(|m| !m.is_sentinel()).enumerate() {
            let _ = write!(message, "{}{} ({})", if i > 0 { ", " } else { "" }, m.proto_name, m.number);
        }
        return Err(message);
    };
    let member = &schema.members[index];
    if member.is_sentinel() {
        return Err(format!(
            "{} is Graph's evolvable-enum sentinel \"{}\", which Graph rejects in requests",
            member.proto_name, member.graph_name
        ));
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{FILE_ENTITY_IDENTIFIER, ISOLATION_TYPE};

    /// Decodes `text`, scanned whole.
    fn decode(slot: Slot<'_>, text: &str) -> Decoded {
        crate::json::read_single(text, 8, |s| super::decode(slot, s, 1)).unwrap().1
    }

    #[test]
    fn a_string_is_read_unescaped_and_an_empty_one_is_kept_raw() {
        let mut field = String::new();
        assert_eq!(decode(Slot::String(&mut field), r#""a\"b é""#), Decoded::Typed);
        assert_eq!(field, "a\"b é");
        let empty = decode(Slot::String(&mut field), r#""""#);
        assert!(matches!(empty, Decoded::Untyped { kind: UnknownDataKind::RawValue, .. }), "{empty:?}");
        assert_eq!(field, "a\"b é", "unchanged unless typed");
        let wrong = decode(Slot::String(&mut field), "12");
        assert_eq!(wrong, Decoded::WrongType(WrongType { expected: "a string", found: JsonType::Number, item: None }));
        let mut out = String::new();
        encode(Value::String("a\"b"), &mut out).unwrap();
        assert_eq!(out, r#""a\"b""#);
    }

    #[test]
    fn flags_are_read_trimmed_deduplicated_in_bit_order() {
        let mut field = vec![];
        let d = decode(Slot::Flags(&FILE_ENTITY_IDENTIFIER, &mut field), r#"" sha256 ,sha1,sha256""#);
        assert_eq!(d, Decoded::Typed);
        assert_eq!(field, [1, 3]);
    }

    #[test]
    fn flag_tokens_split_like_str_split() {
        for text in ["", "a", "a,", ",a", " a , b ,,c", "\u{a0}é ,\tü\n", "ab,c1,\u{2003}d\u{2003}, e\u{85}"] {
            let expected: Vec<&str> = text.split(',').map(str::trim).collect();
            assert_eq!(flag_tokens(text).collect::<Vec<_>>(), expected, "{text:?}");
        }
    }

    #[test]
    fn a_flags_value_with_any_unknown_member_is_left_untouched() {
        let mut field = vec![9];
        let d = decode(Slot::Flags(&FILE_ENTITY_IDENTIFIER, &mut field), r#""sha1,SHA256,,unknownFutureValue""#);
        assert_eq!(
            d,
            Decoded::Untyped {
                kind: UnknownDataKind::EnumMember,
                detail: r#"unknown enum member(s): "SHA256", "", "unknownFutureValue""#.into()
            }
        );
        assert_eq!(field, [9]);
    }

    #[test]
    fn wrong_json_types_are_named() {
        let mut flags = vec![];
        assert_eq!(
            decode(Slot::Flags(&FILE_ENTITY_IDENTIFIER, &mut flags), r#"["sha1"]"#),
            Decoded::WrongType(WrongType {
                expected: "a string of comma-separated enum members",
                found: JsonType::Array,
                item: None
            })
        );
        let wrong = WrongType { expected: "a string", found: JsonType::Number, item: Some(1) };
        assert_eq!(wrong.message("deviceGroupNames"), "item 1 of deviceGroupNames must be a string, found a number");
        let mut strings = vec![];
        assert_eq!(
            decode(Slot::Strings(&mut strings), r#"["a", 1]"#),
            Decoded::WrongType(WrongType { expected: "a string", found: JsonType::Number, item: Some(1) })
        );
    }

    #[test]
    fn flags_are_written_in_bit_order_each_once() {
        let mut out = String::new();
        encode(Value::Flags(&FILE_ENTITY_IDENTIFIER, &[4, 1, 2, 1]), &mut out).unwrap();
        assert_eq!(out, r#""sha1,initiatingProcessSHA1,initiatingProcessSHA256""#);
    }

    #[test]
    fn every_bad_flag_is_reported_with_its_index() {
        let problems = encode(Value::Flags(&FILE_ENTITY_IDENTIFIER, &[1, 0, 5, 42]), &mut String::new()).unwrap_err();
        let items: Vec<_> = problems.iter().map(|p| p.item).collect();
        assert_eq!(items, [Some(1), Some(2), Some(3)]);
        assert!(problems[0].description.contains("FILE_ENTITY_IDENTIFIER_UNSPECIFIED"));
        assert!(problems[1].description.contains("sentinel"));
        assert!(problems[2].description.starts_with("42 is not a value of fileEntityIdentifier"));
    }

    #[test]
    fn plain_enums_read_and_write_member_names() {
        let mut field = 0;
        assert_eq!(decode(Slot::Enum(&ISOLATION_TYPE, &mut field), r#""selective""#), Decoded::Typed);
        let mut out = String::new();
        encode(Value::Enum(&ISOLATION_TYPE, field), &mut out).unwrap();
        assert_eq!(out, r#""selective""#);
        assert!(matches!(
            decode(Slot::Enum(&ISOLATION_TYPE, &mut field), r#""Full""#),
            Decoded::Untyped { kind: UnknownDataKind::EnumMember, .. }
        ));
    }
}
