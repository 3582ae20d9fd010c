//! JSON as the tests compare it: by value regardless of member order and whitespace
//! ([`parse_json`]), by exact text of its numbers ([`Tree`]), or up to whitespace ([`minified`]).

use std::collections::BTreeMap;

use serde_json::value::RawValue;

/// `text` as a JSON value, to compare JSON regardless of member order and whitespace.
pub fn parse_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

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

/// A JSON value in which numbers are their exact text (serde_json's own numbers are f64 or
/// 64-bit integers), strings their value and objects unordered.
#[derive(Debug, PartialEq)]
pub enum Tree {
    Object(BTreeMap<String, Tree>),
    Array(Vec<Tree>),
    String(String),
    /// A number, true, false or null: its exact text.
    Atom(String),
}

impl Tree {
    pub fn parse(text: &str) -> Result<Tree, String> {
        let raw: &RawValue = serde_json::from_str(text).map_err(|e| format!("{e}: {text}"))?;
        let text = raw.get();
        let error = |e: serde_json::Error| format!("{e}: {text}");
        Ok(match text.as_bytes()[0] {
            b'{' => {
                let members: BTreeMap<String, &RawValue> = serde_json::from_str(text).map_err(error)?;
                Tree::Object(
                    members.into_iter().map(|(k, v)| Ok((k, Tree::parse(v.get())?))).collect::<Result<_, String>>()?,
                )
            }
            b'[' => {
                let items: Vec<&RawValue> = serde_json::from_str(text).map_err(error)?;
                Tree::Array(items.into_iter().map(|v| Tree::parse(v.get())).collect::<Result<_, _>>()?)
            }
            b'"' => Tree::String(serde_json::from_str(text).map_err(error)?),
            _ => Tree::Atom(text.to_owned()),
        })
    }

    /// The value at an RFC 6901 pointer.
    pub fn pointer(&self, pointer: &str) -> Option<&Tree> {
        let Some(rest) = pointer.strip_prefix('/') else {
            return pointer.is_empty().then_some(self);
        };
        let (token, rest) = rest.find('/').map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = match self {
            Tree::Object(members) => members.get(&token)?,
            Tree::Array(items) => items.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
        next.pointer(rest)
    }

    /// The first difference from `other`, with its pointer.
    pub fn difference(&self, other: &Tree, at: &str) -> Option<String> {
        match (self, other) {
            (Tree::Object(a), Tree::Object(b)) => {
                let keys = |m: &BTreeMap<String, Tree>| m.keys().cloned().collect::<Vec<_>>();
                if keys(a) != keys(b) {
                    return Some(format!("{at}: keys {:?} != {:?}", keys(a), keys(b)));
                }
                a.iter().find_map(|(k, v)| v.difference(&b[k], &format!("{at}/{k}")))
            }
            (Tree::Array(a), Tree::Array(b)) if a.len() == b.len() => {
                a.iter().zip(b).enumerate().find_map(|(i, (x, y))| x.difference(y, &format!("{at}/{i}")))
            }
            _ if self == other => None,
            _ => Some(format!("{at}: {self:?} != {other:?}")),
        }
    }
}
