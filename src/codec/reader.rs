//! Graph JSON -> protobuf (FromGraph): strict about JSON, lenient about Graph.

use std::collections::BTreeMap;

use super::{
    Error, Policy, Violation,
    json::{JsonType, Member, Scanner, SyntaxError, push_pointer_token},
    property::{Decoded, decode},
    report::Report,
};
use crate::{
    pb::{ResponseAction, UnknownData, UnknownDataKind, UnknownResponseAction, response_action::Action},
    schema::{GraphType, TypeVisitor},
};

const ODATA_TYPE: &str = "@odata.type";

/// The result of reading Graph JSON.
#[derive(Debug, Default, PartialEq)]
pub struct FromGraph {
    pub actions: Vec<ResponseAction>,
    pub unknown_data: Vec<UnknownData>,
}

/// Reads a JSON array of actions, or one action object.
pub fn from_graph(json: &str, policy: Policy, max_depth: usize) -> Result<FromGraph, Error> {
    let mut reader = Reader { policy, result: FromGraph::default(), violations: Vec::new() };
    let mut scanner = Scanner::new(json, max_depth);
    let scanned = match scanner.peek() {
        Some(b'[') => scanner.array(1, |s, index| reader.element(s, 2, &format!("/{index}"))),
        Some(b'{') => reader.element(&mut scanner, 1, ""),
        Some(_) => scanner.value(1).map(|raw| {
            let found = raw.json_type();
            reader.violation("", format!("expected an array of actions or one action object, found {found}"));
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

struct Reader {
    policy: Policy,
    result: FromGraph,
    violations: Vec<Violation>,
}

impl Reader {
    fn violation(&mut self, pointer: &str, description: impl Into<String>) {
        self.violations.push(Violation::new(format!("json{pointer}"), description));
    }

    /// Reads the value at the scanner as one action at `pointer`.
    fn element<'a>(&mut self, scanner: &mut Scanner<'a>, depth: usize, pointer: &str) -> Result<(), SyntaxError> {
        if scanner.peek() != Some(b'{') {
            let found = scanner.value(depth)?.json_type();
            self.violation(pointer, format!("expected an action object, found {found}"));
            return Ok(());
        }
        let mut members = Vec::new();
        scanner.object(depth, |s, key| {
            members.push(Member { key: key.clone(), value: s.value(depth + 1)? });
            Ok(())
        })?;
        self.action(&members, pointer);
        Ok(())
    }

    fn action(&mut self, members: &[Member<'_>], pointer: &str) {
        let Some(tag) = members.iter().find(|m| m.key == ODATA_TYPE) else {
            self.violation(pointer, "missing \"@odata.type\": the action's type cannot be known");
            return;
        };
        let type_pointer = format!("{pointer}/@odata.type");
        let Some(odata_type) = tag.value.as_str() else {
            self.violation(&type_pointer, format!("\"@odata.type\" must be a string, found {}", tag.value.json_type()));
            return;
        };
        // Graph writes a '#'; Microsoft's docs sometimes omit it.
        let qualified_name = odata_type.strip_prefix('#').unwrap_or(&odata_type);
        if qualified_name.is_empty() {
            self.violation(&type_pointer, "\"@odata.type\" is empty");
            return;
        }
        let properties = members.iter().filter(|m| m.key != ODATA_TYPE);
        let known = Action::with_type(qualified_name, ReadKnown { reader: self, members: properties.clone(), pointer });
        if known.is_none() {
            self.unknown_type(qualified_name, properties, pointer);
        }
    }

    fn unknown_type<'m, 'a: 'm>(
        &mut self,
        qualified_name: &str,
        properties: impl Iterator<Item = &'m Member<'a>>,
        pointer: &str,
    ) {
        let entry = UnknownData {
            pointer: format!("{pointer}/@odata.type"),
            kind: UnknownDataKind::Type.into(),
            graph_type: qualified_name.to_owned(),
            detail: format!("unknown type \"{qualified_name}\""),
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

impl Report for Reader {
    fn policy(&self) -> Policy {
        self.policy
    }

    fn report(&mut self, entry: UnknownData, dropped: bool) {
        self.result.unknown_data.push(UnknownData { dropped, ..entry });
    }

    fn reject(&mut self, entry: UnknownData) {
        let pointer = entry.pointer.clone();
        self.violation(&pointer, format!("{} (unknown data is rejected by unknown_data_policy)", entry.detail));
    }
}

/// Reads the members of an action of a known type `M`.
struct ReadKnown<'r, I> {
    reader: &'r mut Reader,
    members: I,
    pointer: &'r str,
}

impl<'r, 'm, 'a: 'm, I: Iterator<Item = &'m Member<'a>>> TypeVisitor for ReadKnown<'r, I> {
    type Output = ();

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) {
        let Self { reader, members, pointer } = self;
        let mut message = M::default();
        let mut additional_data = BTreeMap::new();
        for member in members {
            // Built only for a report or a violation: most members need none.
            let member_pointer = || {
                let mut pointer = format!("{pointer}/");
                push_pointer_token(&mut pointer, &member.key);
                pointer
            };
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
                    entry(UnknownDataKind::Property, &member.key, format!("unknown property of {}", M::GRAPH_NAME));
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
                    let at = wrong.item.map_or_else(member_pointer, |i| format!("{}/{i}", member_pointer()));
                    reader.violation(&at, wrong.message(property.graph_name));
                }
            }
        }
        reader.result.actions.push(ResponseAction { additional_data, action: Some(wrap(message)) });
    }
}
