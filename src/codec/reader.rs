//! Graph JSON -> protobuf (FromGraph): strict about JSON, lenient about Graph.

use std::collections::BTreeMap;

use super::{
    Error, Policy, Violation,
    json::{JsonType, Member, Scanner, SyntaxError, push_index_token, push_pointer_token},
    property::{Decoded, decode},
    report::{Report, reserve_like_first},
};
use crate::{
    pb::{ResponseAction, UnknownData, UnknownDataKind, UnknownResponseAction, response_action::Action},
    schema::{GraphType, TypeVisitor},
};

const ODATA_TYPE: &str = "@odata.type";

/// The most actions reserved at once from a guess (see `Reader::reserve_like_first`).
const MAX_RESERVED_ACTIONS: usize = 1024;

/// The result of reading Graph JSON.
#[derive(Debug, Default, PartialEq)]
pub struct FromGraph {
    pub actions: Vec<ResponseAction>,
    pub unknown_data: Vec<UnknownData>,
}

/// Reads a JSON array of actions, or one action object.
pub fn from_graph(json: &str, policy: Policy, max_depth: usize) -> Result<FromGraph, Error> {
    let mut reader = Reader { policy, result: FromGraph::default(), violations: Vec::new(), members: Vec::new() };
    let mut scanner = Scanner::new(json, max_depth);
    let scanned = match scanner.peek() {
        Some(b'[') => scanner.array(1, |s, index| {
            let start = s.offset();
            reader.element(s, 2, At(Some(index)))?;
            if index == 0 {
                reader.reserve_like_first(s.offset() - start, json.len() - s.offset());
            }
            Ok(())
        }),
        // Depth as if in the array ToGraph will write it in, so both forms take the same input.
        Some(b'{') => reader.element(&mut scanner, 2, At(None)),
        Some(_) => scanner.value(1).map(|raw| {
            let found = raw.json_type();
            reader
                .violation(String::new(), format!("expected an array of actions or one action object, found {found}"));
        }),
        None => Err(SyntaxError {
            offset: 0,
            pointer: String::new(),
            message: "empty input: expected an array of actions or one action object".into(),
        }),
    };
    scanned.and_then(|()| scanner.finish()).map_err(|e| syntax_error(json, e))?;
    if reader.violations.is_empty() { Ok(reader.result) } else { Err(Error::Invalid(reader.violations)) }
}

fn syntax_error(json: &str, error: SyntaxError) -> Error {
    let (line, column) = error.line_column(json);
    Error::Syntax { field: format!("json{}", error.pointer), line, column, message: error.message }
}

/// Where an action is: its index in the top-level array, or `None` for a lone action object.
/// Pointers are built from it only for a report or a violation: most actions need none.
#[derive(Debug, Clone, Copy)]
struct At(Option<usize>);

impl At {
    /// The JSON pointer of the action, then of `tokens` within it.
    fn pointer(self, tokens: &[&str]) -> String {
        let mut pointer = String::with_capacity(32);
        if let Some(index) = self.0 {
            push_index_token(&mut pointer, index);
        }
        for token in tokens {
            pointer.push('/');
            push_pointer_token(&mut pointer, token);
        }
        pointer
    }
}

struct Reader<'a> {
    policy: Policy,
    result: FromGraph,
    violations: Vec<Violation>,
    /// The members of the action being read; reused from one action to the next.
    members: Vec<Member<'a>>,
}

impl<'a> Reader<'a> {
    fn violation(&mut self, pointer: String, description: impl Into<String>) {
        let mut field = pointer;
        field.insert_str(0, "json");
        self.violations.push(Violation::new(field, description));
    }

    /// After the first action (`first_len` bytes), reserves room for the `rest` of the input as
    /// if its actions were about like the first (a quarter more: they vary in size). The result
    /// is then allocated about once instead of regrown by doubling (see `reserve_like_first`).
    fn reserve_like_first(&mut self, first_len: usize, rest: usize) {
        let like_first = rest / first_len.max(1);
        let more = (like_first + like_first / 4 + 1).min(MAX_RESERVED_ACTIONS);
        self.result.actions.reserve(more);
        reserve_like_first(&mut self.result.unknown_data, more);
    }

    /// Reads the value at the scanner as one action at `at`.
    fn element(&mut self, scanner: &mut Scanner<'a>, depth: usize, at: At) -> Result<(), SyntaxError> {
        if scanner.peek() != Some(b'{') {
            let found = scanner.value(depth)?.json_type();
            self.violation(at.pointer(&[]), format!("expected an action object, found {found}"));
            return Ok(());
        }
        let mut members = std::mem::take(&mut self.members);
        members.clear();
        scanner.object(depth, |s, key| {
            members.push(Member { key: key.clone(), value: s.value(depth + 1)? });
            Ok(())
        })?;
        self.action(&members, at);
        self.members = members;
        Ok(())
    }

    fn action(&mut self, members: &[Member<'a>], at: At) {
        let Some(tag) = members.iter().find(|m| m.key == ODATA_TYPE) else {
            self.violation(at.pointer(&[]), "missing \"@odata.type\": the action's type cannot be known");
            return;
        };
        let Some(odata_type) = tag.value.as_str() else {
            let found = tag.value.json_type();
            self.violation(at.pointer(&[ODATA_TYPE]), format!("\"@odata.type\" must be a string, found {found}"));
            return;
        };
        // Graph writes a '#'; Microsoft's docs sometimes omit it.
        let qualified_name = odata_type.strip_prefix('#').unwrap_or(&odata_type);
        if qualified_name.is_empty() {
            self.violation(at.pointer(&[ODATA_TYPE]), "\"@odata.type\" is empty");
            return;
        }
        if qualified_name.starts_with('#') {
            self.violation(at.pointer(&[ODATA_TYPE]), "\"@odata.type\" has more than one leading '#'");
            return;
        }
        let properties = members.iter().filter(|m| m.key != ODATA_TYPE);
        let known = Action::with_type(qualified_name, ReadKnown { reader: self, members: properties.clone(), at });
        if known.is_none() {
            self.unknown_type(qualified_name, properties, at);
        }
    }

    fn unknown_type<'m>(&mut self, qualified_name: &str, properties: impl Iterator<Item = &'m Member<'a>>, at: At)
    where
        'a: 'm,
    {
        let entry = UnknownData {
            pointer: at.pointer(&[ODATA_TYPE]),
            kind: UnknownDataKind::Type.into(),
            graph_type: qualified_name.to_owned(),
            detail: ["unknown type \"", qualified_name, "\""].concat(),
            ..Default::default()
        };
        if self.keep_unknown(entry) {
            let additional_data = properties.map(|m| (m.key.to_string(), m.value.text.to_owned())).collect();
            self.result.actions.push(ResponseAction {
                additional_data,
                action: Some(Action::Unknown(UnknownResponseAction { odata_type: qualified_name.to_owned() })),
            });
        }
    }
}

impl Report for Reader<'_> {
    fn policy(&self) -> Policy {
        self.policy
    }

    fn report(&mut self, entry: UnknownData, dropped: bool) {
        self.result.unknown_data.push(UnknownData { dropped, ..entry });
    }

    fn reject(&mut self, entry: UnknownData) {
        self.violation(entry.pointer, format!("rejected by unknown_data_policy: {}", entry.detail));
    }
}

/// Reads the members of an action of a known type `M`.
struct ReadKnown<'r, 'a, I> {
    reader: &'r mut Reader<'a>,
    members: I,
    at: At,
}

impl<'r, 'm, 'a: 'm, I: Iterator<Item = &'m Member<'a>>> TypeVisitor for ReadKnown<'r, 'a, I> {
    type Output = ();

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) {
        let Self { reader, members, at } = self;
        let mut message = M::default();
        let mut additional_data = BTreeMap::new();
        for member in members {
            let member_pointer = || at.pointer(&[&member.key]);
            let entry = |kind: UnknownDataKind, property: &str, detail: String| UnknownData {
                pointer: member_pointer(),
                kind: kind.into(),
                graph_type: M::GRAPH_NAME.to_owned(),
                property: property.to_owned(),
                detail,
                dropped: false,
            };
            let raw = &member.value;
            let Some(property) = M::property(&member.key) else {
                let entry =
                    entry(UnknownDataKind::Property, &member.key, ["unknown property of ", M::GRAPH_NAME].concat());
                if reader.keep_unknown(entry) {
                    additional_data.insert(member.key.to_string(), raw.text.to_owned());
                }
                continue;
            };
            if raw.json_type() == JsonType::Null {
                reader.report(entry(UnknownDataKind::Null, property.graph_name, "null means absent".into()), true);
                continue;
            }
            match decode((property.get_mut)(&mut message), raw) {
                Decoded::Typed => {}
                Decoded::Untyped { kind, detail } => {
                    if reader.keep_untyped(entry(kind, property.graph_name, detail)) {
                        additional_data.insert(member.key.to_string(), raw.text.to_owned());
                    }
                }
                Decoded::WrongType(wrong) => {
                    let mut at = member_pointer();
                    if let Some(i) = wrong.item {
                        push_index_token(&mut at, i);
                    }
                    reader.violation(at, wrong.message(property.graph_name));
                }
            }
        }
        reader.result.actions.push(ResponseAction { additional_data, action: Some(wrap(message)) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_reserved_from_the_first_action_is_bounded() {
        // A short first action full of unknown data, then a long one: the guess would be huge.
        let unknown: String = (0..40).map(|i| format!(r#","p{i}":0"#)).collect();
        let json = format!(
            r##"[{{"@odata.type":"#microsoft.graph.security.runAntivirusScanResponseAction"{unknown}}},{{"@odata.type":"#b","x":"{}"}}]"##,
            "y".repeat(1 << 20)
        );
        let read = from_graph(&json, Policy::Preserve, 8).unwrap();
        assert_eq!((read.actions.len(), read.unknown_data.len()), (2, 41));
        assert!(read.actions.capacity() <= 2 * MAX_RESERVED_ACTIONS, "{}", read.actions.capacity());
        assert!(read.unknown_data.capacity() <= 2 * 4096, "{}", read.unknown_data.capacity());
    }
}
