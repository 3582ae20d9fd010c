//! Protobuf -> Graph JSON (ToGraph): exact names, flags as one string, every violation at once.

use std::collections::BTreeMap;

use super::{
    Error, Policy, Violation,
    json::{self, Raw, push_index_token, push_pointer_token, write_string},
    property::{Decoded, decode, encode},
    report::{Report, reserve_like_first},
};
use crate::{
    pb::{ResponseAction, UnknownData, UnknownDataKind, UnknownResponseAction, response_action::Action},
    schema::{ActionVisitor, GraphType, TypeVisitor, Value},
};

/// Nesting used by the output around a property value: the array and the action object.
const VALUE_DEPTH: usize = 2;

/// The result of writing Graph JSON.
#[derive(Debug, Default, PartialEq)]
pub struct ToGraph {
    pub json: String,
    pub unknown_data: Vec<UnknownData>,
}

/// Writes `actions` as the JSON array Graph expects in `detectionAction.responseActions`.
pub fn to_graph(actions: &[ResponseAction], policy: Policy, pretty: bool, max_depth: usize) -> Result<ToGraph, Error> {
    let mut writer = Writer {
        policy,
        max_depth,
        out: String::with_capacity(output_estimate(actions)),
        unknown_data: Vec::new(),
        violations: Vec::new(),
        written: 0,
    };
    writer.out.push('[');
    for (index, action) in actions.iter().enumerate() {
        let Some(case) = &action.action else {
            let field = format!("{}.action", action_path(index));
            writer.violations.push(Violation::new(field, "no action set: exactly one case must be set"));
            continue;
        };
        case.accept(WriteAction { writer: &mut writer, additional_data: &action.additional_data, index });
        if index == 0 {
            reserve_like_first(&mut writer.unknown_data, actions.len() - 1);
        }
    }
    writer.out.push(']');
    if !writer.violations.is_empty() {
        return Err(Error::Invalid(writer.violations));
    }
    let json = if pretty { json::pretty(&writer.out) } else { writer.out };
    Ok(ToGraph { json, unknown_data: writer.unknown_data })
}

/// The compact output's size, a little over: an action's type and typed properties take ~100 to
/// 165 bytes (the 16 seed actions), raw values their own length. Over rather than under, so the
/// string is allocated once (allocs bench: one allocation per call).
fn output_estimate(actions: &[ResponseAction]) -> usize {
    let raw =
        |action: &ResponseAction| action.additional_data.iter().map(|(k, v)| k.len() + v.len() + 4).sum::<usize>();
    actions.iter().map(|action| 176 + raw(action)).sum::<usize>() + 2
}

/// The proto path of the action at `index`; built only for a violation.
fn action_path(index: usize) -> String {
    format!("actions[{index}]")
}

struct Writer {
    policy: Policy,
    max_depth: usize,
    out: String,
    unknown_data: Vec<UnknownData>,
    violations: Vec<Violation>,
    /// Actions written so far: the index of the next one in the output.
    written: usize,
}

impl Report for Writer {
    fn policy(&self) -> Policy {
        self.policy
    }

    fn report(&mut self, entry: UnknownData, dropped: bool) {
        self.unknown_data.push(UnknownData { dropped, ..entry });
    }

    fn reject(&mut self, entry: UnknownData) {
        // A rejected entry's `pointer` holds its proto path (see `Object::entry`).
        self.violations
            .push(Violation::new(entry.pointer, format!("rejected by unknown_data_policy: {}", entry.detail)));
    }
}

/// One action object being written.
struct Object<'w> {
    writer: &'w mut Writer,
    index: usize,
    graph_type: &'w str,
    /// Output length before this object, to take it back if it is dropped.
    start: usize,
}

impl<'w> Object<'w> {
    fn open(writer: &'w mut Writer, index: usize, graph_type: &'w str, odata_type: &str) -> Self {
        let start = writer.out.len();
        if writer.written > 0 {
            writer.out.push(',');
        }
        writer.out.push_str("{\"@odata.type\":");
        write_string(&mut writer.out, odata_type);
        Object { writer, index, graph_type, start }
    }

    fn key(&mut self, key: &str) {
        self.writer.out.push(',');
        write_string(&mut self.writer.out, key);
        self.writer.out.push(':');
    }

    fn close(self) {
        self.writer.out.push('}');
        self.writer.written += 1;
    }

    /// Takes the object back out of the output.
    fn discard(self) {
        self.writer.out.truncate(self.start);
    }

    fn additional_data_path(&self, key: &str) -> String {
        format!("{}.additional_data[{key:?}]", action_path(self.index))
    }

    /// A report entry for the member `key`, pointing into the output (or, when the policy
    /// rejects it, to `proto_path()` in the request).
    fn entry(
        &self,
        kind: UnknownDataKind,
        key: &str,
        property: &str,
        detail: String,
        proto_path: impl FnOnce() -> String,
    ) -> UnknownData {
        let pointer = if self.writer.policy == Policy::Reject {
            proto_path()
        } else {
            let mut pointer = String::with_capacity(8 + key.len());
            push_index_token(&mut pointer, self.writer.written);
            pointer.push('/');
            push_pointer_token(&mut pointer, key);
            pointer
        };
        UnknownData {
            pointer,
            kind: kind.into(),
            graph_type: self.graph_type.to_owned(),
            property: property.to_owned(),
            detail,
            dropped: false,
        }
    }

    /// Validates a raw additional_data value; None (and a violation) if it is not one JSON value.
    fn checked_raw<'v>(&mut self, key: &str, raw: &'v str) -> Option<&'v str> {
        let budget = self.writer.max_depth.saturating_sub(VALUE_DEPTH);
        match json::single_value(raw, budget) {
            Ok(value) => Some(value),
            Err(e) => {
                let (line, column) = e.line_column(raw);
                let at = if e.pointer.is_empty() { String::new() } else { format!(" at {}", e.pointer) };
                let description = format!("not one JSON value (line {line}, column {column}{at}): {}", e.message);
                self.writer.violations.push(Violation::new(self.additional_data_path(key), description));
                None
            }
        }
    }

    /// Writes additional_data entries that are no typed property. Each is unknown data, under
    /// the policy, when `each_is_unknown`; otherwise (an unknown type's) all are written.
    fn write_unknown_properties<'d>(
        &mut self,
        entries: impl Iterator<Item = (&'d String, &'d String)>,
        each_is_unknown: bool,
    ) {
        for (key, raw) in entries {
            if key == "@odata.type" {
                let path = self.additional_data_path(key);
                self.writer
                    .violations
                    .push(Violation::new(path, "\"@odata.type\" is written from the action case, not additional_data"));
                continue;
            }
            let Some(raw) = self.checked_raw(key, raw) else {
                continue;
            };
            if each_is_unknown {
                let detail = ["property unknown to ", self.graph_type].concat();
                let entry = self.entry(UnknownDataKind::Property, key, key, detail, || self.additional_data_path(key));
                if !self.writer.keep_unknown(entry) {
                    continue;
                }
            }
            self.key(key);
            self.writer.out.push_str(raw);
        }
    }
}

struct WriteAction<'w> {
    writer: &'w mut Writer,
    additional_data: &'w BTreeMap<String, String>,
    index: usize,
}

impl ActionVisitor for WriteAction<'_> {
    type Output = ();

    fn known<M: GraphType>(self, message: &M) {
        let WriteAction { writer, additional_data, index } = self;
        let mut object = Object::open(writer, index, M::GRAPH_NAME, M::ODATA_TYPE);
        for property in M::PROPERTIES {
            let value = (property.get)(message);
            let field_path = || format!("{}.{}.{}", action_path(index), M::CASE_NAME, property.proto_name);
            let raw = additional_data.get(property.graph_name);
            if value.is_set() {
                if raw.is_some() {
                    let description = format!("also set as the typed field {}; set one or the other", field_path());
                    let violation = Violation::new(object.additional_data_path(property.graph_name), description);
                    object.writer.violations.push(violation);
                    continue;
                }
                object.key(property.graph_name);
                if let Err(problems) = encode(value, &mut object.writer.out) {
                    for problem in problems {
                        let at = problem.item.map_or_else(field_path, |i| format!("{}[{i}]", field_path()));
                        object.writer.violations.push(Violation::new(at, problem.description));
                    }
                }
            } else if let Some(raw) = raw {
                if !write_raw_property::<M>(&mut object, property.graph_name, property.get_mut, raw)
                    && property.required
                {
                    let description =
                        format!("required: the value of Graph property {} was dropped", property.graph_name);
                    object.writer.violations.push(Violation::new(field_path(), description));
                }
            } else if property.required {
                let mut description = format!("required: Graph property {} must be set", property.graph_name);
                if let Value::Enum(schema, _) = value {
                    description.push_str(&format!(" ({} is not a member)", schema.unspecified));
                }
                object.writer.violations.push(Violation::new(field_path(), description));
            }
        }
        object.write_unknown_properties(additional_data.iter().filter(|(key, _)| M::property(key).is_none()), true);
        object.close();
    }

    fn unknown(self, message: &UnknownResponseAction) {
        let WriteAction { writer, additional_data, index } = self;
        let name = message.odata_type.strip_prefix('#').unwrap_or(&message.odata_type);
        let field = || format!("{}.unknown.odata_type", action_path(index));
        if name.is_empty() {
            writer.violations.push(Violation::new(
                field(),
                "required: the Graph type name, e.g. microsoft.graph.security.newResponseAction",
            ));
            return;
        }
        if name.starts_with('#') {
            writer.violations.push(Violation::new(field(), "more than one leading '#'"));
            return;
        }
        if let Some(case) = Action::with_type(name, CaseName) {
            writer.violations.push(Violation::new(field(), format!("{name} is a known type: use the case {case}")));
            return;
        }
        let mut object = Object::open(writer, index, name, &format!("#{name}"));
        let entry =
            object.entry(UnknownDataKind::Type, "@odata.type", "", ["unknown type \"", name, "\""].concat(), || {
                format!("{}.unknown", action_path(index))
            });
        if !object.writer.keep_unknown(entry) {
            object.discard();
            return;
        }
        object.write_unknown_properties(additional_data.iter(), false);
        object.close();
    }
}

/// Writes a known property held raw in additional_data, judged as FromGraph would judge it.
/// Returns false when nothing was written.
fn write_raw_property<M: GraphType>(
    object: &mut Object<'_>,
    graph_name: &str,
    slot: for<'a> fn(&'a mut M) -> crate::schema::Slot<'a>,
    raw: &str,
) -> bool {
    let Some(raw) = object.checked_raw(graph_name, raw) else {
        return true;
    };
    let mut scratch = M::default();
    let keep = match decode(slot(&mut scratch), &Raw::new(raw, 0)) {
        Decoded::Typed => true,
        Decoded::Untyped { kind, detail } => {
            let entry = object.entry(kind, graph_name, graph_name, detail, || object.additional_data_path(graph_name));
            object.writer.keep_untyped(entry)
        }
        Decoded::WrongType(wrong) => {
            let path = object.additional_data_path(graph_name);
            object.writer.violations.push(Violation::new(path, wrong.message(graph_name)));
            return true;
        }
    };
    if keep {
        object.key(graph_name);
        object.writer.out.push_str(raw);
    }
    keep
}

/// Finds the oneof case name of a known type.
struct CaseName;

impl TypeVisitor for CaseName {
    type Output = &'static str;

    fn visit<M: GraphType>(self, _: fn(M) -> Action) -> &'static str {
        M::CASE_NAME
    }
}
