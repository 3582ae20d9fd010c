//! protobuf -> Graph JSON (ToGraph, RuleToGraph): exact names, flags as one string, every
//! violation at once.

use super::{
    Error, Policy, Violation,
    json::{self, Scanner, SyntaxError, write_name, write_string},
    mask::{Mask, Want},
    odata::{BadTypeName, ODATA_TYPE, annotates_object, is_annotation, type_name, type_value},
    path::{Path, Tail},
    property::{Decoded, encode, judge},
    report::{Report, reserve_like_first},
};
use crate::{
    pb::{DetectionRule, ResponseAction, UnknownData, UnknownDataKind},
    schema::{GraphType, GraphView, PropertyInfo, Shape, TypeInfo, Value},
};

/// The result of writing Graph JSON.
#[derive(Debug, Default, PartialEq)]
pub struct ToGraph {
    pub json: String,
    pub unknown_data: Vec<UnknownData>,
}

/// Writes `actions` as the JSON array Graph expects in `detectionAction.responseActions`.
pub fn to_graph(actions: &[ResponseAction], policy: Policy, pretty: bool, max_depth: usize) -> Result<ToGraph, Error> {
    let raw_bytes = actions.iter().flat_map(|action| &action.additional_data).map(|(k, v)| k.len() + v.len() + 4).sum();
    actions_to_graph(actions.len(), |i| &actions[i], raw_bytes, policy, pretty, max_depth)
}

/// Writes `len` actions (messages or views of their encoding) as `to_graph` does; `raw_bytes`
/// is about the size of what their additional_data holds.
pub(crate) fn actions_to_graph<'o>(
    len: usize,
    get: impl Fn(usize) -> &'o dyn GraphView,
    raw_bytes: usize,
    policy: Policy,
    pretty: bool,
    max_depth: usize,
) -> Result<ToGraph, Error> {
    // A little over the compact output's size, so that it is allocated once (allocs bench): an
    // action's type and typed properties take ~100 to 165 bytes (the 16 seed actions).
    let estimate = len * 176 + raw_bytes + 2;
    let mut writer = Writer::new(policy, max_depth, "actions", estimate);
    writer.list(len, get);
    writer.finish(pretty)
}

/// Writes `rule` as a detectionRule object: every set field, or with `update_mask` (proto paths)
/// a PATCH body holding only the masked fields, those unset as null.
pub fn rule_to_graph(
    rule: &DetectionRule,
    update_mask: Option<&[String]>,
    policy: Policy,
    pretty: bool,
    max_depth: usize,
) -> Result<ToGraph, Error> {
    rule_view_to_graph(rule, update_mask, policy, pretty, max_depth)
}

/// Writes a detectionRule (a message or a view of its encoding) as `rule_to_graph` does.
pub(crate) fn rule_view_to_graph(
    rule: &dyn GraphView,
    update_mask: Option<&[String]>,
    policy: Policy,
    pretty: bool,
    max_depth: usize,
) -> Result<ToGraph, Error> {
    let mask = update_mask.map(|paths| Mask::parse(paths, &DetectionRule::INFO)).transpose().map_err(Error::Invalid)?;
    let mut writer = Writer::new(policy, max_depth, "rule", 2048);
    writer.patch = mask.is_some();
    writer.object(rule, mask.as_ref(), false);
    writer.finish(pretty)
}

/// Writes one property value as compact JSON (for reports quoting a value); `null` if unset.
pub fn value_to_graph(value: Value<'_>, max_depth: usize) -> Result<String, Error> {
    let mut writer = Writer::new(Policy::Preserve, max_depth, "", 64);
    match value {
        Value::Object(Some(object)) => {
            writer.object(object, None, false);
        }
        Value::Objects(list) => writer.list(list.len(), |i| list.get(i)),
        scalar if scalar.is_set() => {
            if let Err(problems) = encode(scalar, &mut writer.out) {
                let violations = problems.into_iter().map(|p| Violation::new("", p.description)).collect();
                return Err(Error::Invalid(violations));
            }
        }
        _ => writer.out.push_str("null"),
    }
    writer.finish(false).map(|written| written.json)
}

/// Writes any Graph object as compact JSON, everything it holds (for reports quoting a value).
pub fn object_to_graph(object: &dyn GraphView, max_depth: usize) -> Result<String, Error> {
    let mut writer = Writer::new(Policy::Preserve, max_depth, "", 256);
    writer.object(object, None, false);
    writer.finish(false).map(|written| written.json)
}

struct Writer {
    policy: Policy,
    max_depth: usize,
    out: String,
    unknown_data: Vec<UnknownData>,
    violations: Vec<Violation>,
    path: Path,
    /// Writing a PATCH body: Graph merges nested objects, so an unset required property is
    /// left as it is rather than missing; only clearing one is refused.
    patch: bool,
}

impl Report for Writer {
    fn policy(&self) -> Policy {
        self.policy
    }

    fn report(&mut self, entry: UnknownData, dropped: bool) {
        self.unknown_data.push(UnknownData { dropped, ..entry });
    }

    fn reject(&mut self, entry: UnknownData) {
        // A rejected entry's `pointer` holds its proto path (see `Writer::entry`).
        self.violations
            .push(Violation::new(entry.pointer, format!("rejected by unknown_data_policy: {}", entry.detail)));
    }
}

impl Writer {
    fn new(policy: Policy, max_depth: usize, root: &'static str, capacity: usize) -> Self {
        Self {
            policy,
            max_depth,
            out: String::with_capacity(capacity),
            unknown_data: Vec::new(),
            violations: Vec::new(),
            path: Path::new(root),
            patch: false,
        }
    }

    fn finish(self, pretty: bool) -> Result<ToGraph, Error> {
        if !self.violations.is_empty() {
            return Err(Error::Invalid(self.violations));
        }
        let json = if pretty { json::pretty(&self.out) } else { self.out };
        Ok(ToGraph { json, unknown_data: self.unknown_data })
    }

    fn violation(&mut self, field: String, description: impl Into<String>) {
        self.violations.push(Violation::new(field, description));
    }

    /// Whether a container opened at the current path stays within `max_depth`, as the reader
    /// will judge the output; a violation if not.
    fn within_depth(&mut self) -> bool {
        if self.path.depth() < self.max_depth {
            return true;
        }
        let description = format!("nests deeper than the limit of {} levels (--max-json-depth)", self.max_depth);
        self.violation(self.path.proto(Tail::None), description);
        false
    }

    /// Writes a member's key, after a comma unless it is the object's first member.
    fn key(&mut self, key: &str) {
        self.comma();
        write_string(&mut self.out, key);
        self.out.push(':');
    }

    /// Writes a schema name's key, which `key` would scan for characters to escape in vain.
    fn name_key(&mut self, name: &'static str) {
        self.out.reserve(name.len() + 4);
        self.comma();
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
    }

    /// A comma before a member, unless it is the object's first.
    fn comma(&mut self) {
        if !self.out.ends_with('{') {
            self.out.push(',');
        }
    }

    /// Writes a collection of `len` objects; those left out (unknown types dropped) leave no gap.
    fn list<'o>(&mut self, len: usize, get: impl Fn(usize) -> &'o dyn GraphView) {
        if !self.within_depth() {
            return;
        }
        self.out.push('[');
        let mut written = 0;
        for index in 0..len {
            self.path.push_item(index, written);
            if self.object(get(index), None, written > 0) {
                written += 1;
            }
            self.path.pop();
            if index == 0 {
                reserve_like_first(&mut self.unknown_data, len - 1);
            }
        }
        self.out.push(']');
    }

    /// Writes `object` (after a comma if `comma`) under `mask`; false when nothing was written.
    fn object(&mut self, object: &dyn GraphView, mask: Option<&Mask>, comma: bool) -> bool {
        if !self.within_depth() {
            return false;
        }
        let start = self.out.len();
        if comma {
            self.out.push(',');
        }
        let written = match object.shape() {
            Shape::Known(info) => {
                self.known(object, info, mask);
                true
            }
            Shape::Unknown(name) => self.unknown(object, name),
            Shape::Unset => {
                let field = object.hierarchy().map_or("", |h| h.field);
                let path = self.path.proto(Tail::Field { case: "", field });
                self.violation(path, format!("no {field} set: exactly one case must be set"));
                false
            }
        };
        if !written {
            self.out.truncate(start);
        }
        written
    }

    fn known(&mut self, object: &dyn GraphView, info: &'static TypeInfo, mask: Option<&Mask>) {
        let additional_data = object.additional_data();
        let polymorphic = object.hierarchy().is_some();
        self.out.push('{');
        if polymorphic {
            self.name_key(ODATA_TYPE);
            write_name(&mut self.out, info.odata_type);
        }
        self.annotations(object, polymorphic);
        for (index, property) in info.properties.iter().enumerate() {
            let want = Want::of(mask, property);
            if matches!(want, Want::Skip) {
                continue;
            }
            let value = object.value(index);
            let field_path = |path: &Path| path.proto(Tail::Field { case: info.case_name, field: property.proto_name });
            let raw = additional_data.get(property.graph_name);
            if value.is_set() {
                if raw.is_some() {
                    let description =
                        format!("also set as the typed field {}; set one or the other", field_path(&self.path));
                    self.violation(self.path.proto(Tail::Key(property.graph_name)), description);
                    continue;
                }
                let part = if let Want::Part(part) = want { Some(part) } else { None };
                self.property(info, property, value, part);
            } else if let Some(raw) = raw {
                if !self.raw_property(info, property, value, raw) && property.required && !self.patch {
                    let description =
                        format!("required: the value of Graph property {} was dropped", property.graph_name);
                    self.violation(field_path(&self.path), description);
                }
            } else {
                match want {
                    Want::Whole { clear: true } => self.null(info, property),
                    Want::Part(part) => {
                        self.name_key(property.graph_name);
                        self.path.push_property(property, info.case_name);
                        self.nulls(property.object().expect("a mask reaches only into single objects"), part);
                        self.path.pop();
                    }
                    _ if property.required && !self.patch => {
                        let mut description = format!("required: Graph property {} must be set", property.graph_name);
                        if let Value::Enum(schema, _) = value {
                            description.push_str(&format!(" ({} is not a member)", schema.unspecified));
                        }
                        self.violation(field_path(&self.path), description);
                    }
                    _ => {}
                }
            }
        }
        self.unknown_properties(object, info);
        self.out.push('}');
    }

    /// Writes a set property's value.
    fn property(&mut self, info: &TypeInfo, property: &'static PropertyInfo, value: Value<'_>, part: Option<&Mask>) {
        self.name_key(property.graph_name);
        self.path.push_property(property, info.case_name);
        match value {
            Value::Object(Some(nested)) => {
                if !self.object(nested, part, false) {
                    // Left out (an unknown type dropped): null keeps the output well-formed.
                    self.out.push_str("null");
                }
            }
            Value::Objects(list) => self.list(list.len(), |i| list.get(i)),
            scalar => {
                if let Err(problems) = encode(scalar, &mut self.out) {
                    for problem in problems {
                        let mut at = self.path.proto(Tail::None);
                        if let Some(i) = problem.item {
                            at.push_str(&format!("[{i}]"));
                        }
                        self.violation(at, problem.description);
                    }
                }
            }
        }
        self.path.pop();
    }

    /// Writes null for a masked, unset property (which clears it in Graph).
    fn null(&mut self, info: &TypeInfo, property: &PropertyInfo) {
        if property.required {
            let path = self.path.proto(Tail::Field { case: info.case_name, field: property.proto_name });
            let description = format!(
                "required: Graph property {} cannot be cleared (it is in update_mask but not set)",
                property.graph_name
            );
            self.violation(path, description);
            return;
        }
        self.name_key(property.graph_name);
        self.out.push_str("null");
    }

    /// Writes the masked part of an unset complex value of type `info`: nulls all the way down.
    fn nulls(&mut self, info: &'static TypeInfo, mask: &Mask) {
        if !self.within_depth() {
            return;
        }
        self.out.push('{');
        for property in info.properties {
            match Want::of(Some(mask), property) {
                Want::Skip => {}
                Want::Whole { .. } => self.null(info, property),
                Want::Part(part) => {
                    self.name_key(property.graph_name);
                    self.path.push_property(property, info.case_name);
                    self.nulls(property.object().expect("a mask reaches only into single objects"), part);
                    self.path.pop();
                }
            }
        }
        self.out.push('}');
    }

    /// Writes the additional_data entries that are annotations (`@odata.context`, ...), first.
    /// `@odata.type` of a polymorphic value comes from its case, not from there.
    fn annotations(&mut self, object: &dyn GraphView, polymorphic: bool) {
        for (key, raw) in object.additional_data().iter().filter(|(key, _)| annotates_object(key)) {
            if polymorphic && key == ODATA_TYPE {
                let path = self.path.proto(Tail::Key(key));
                self.violation(path, "\"@odata.type\" is written from the oneof case, not additional_data");
                continue;
            }
            if let Some(raw) = self.checked_raw(key, raw) {
                self.key(key);
                self.out.push_str(raw);
            }
        }
    }

    /// Writes the additional_data entries that are neither typed properties nor leading
    /// annotations; each is unknown data, under the policy, unless the type is open.
    fn unknown_properties(&mut self, object: &dyn GraphView, info: &TypeInfo) {
        let entries = object.additional_data().iter().filter(|(key, _)| !annotates_object(key));
        for (key, raw) in entries.filter(|(key, _)| info.find(key).is_none()) {
            let Some(raw) = self.checked_raw(key, raw) else {
                continue;
            };
            if !info.open && !is_annotation(key) {
                let detail = ["property unknown to ", info.graph_name].concat();
                let entry = self.entry(UnknownDataKind::Property, info.graph_name, key, key, detail);
                if !self.keep_unknown(entry) {
                    continue;
                }
            }
            self.key(key);
            self.out.push_str(raw);
        }
    }

    /// Writes an object of a type this build does not know, all of it from additional_data.
    fn unknown(&mut self, object: &dyn GraphView, name: &str) -> bool {
        let field = Tail::Field { case: "unknown", field: "odata_type" };
        let name = match type_name(name) {
            Ok(name) => name,
            Err(bad) => {
                self.violation(
                    self.path.proto(field),
                    match bad {
                        BadTypeName::Empty => {
                            "required: the Graph type name, e.g. microsoft.graph.security.newResponseAction"
                        }
                        BadTypeName::MoreThanOneHash => "more than one leading '#'",
                    },
                );
                return false;
            }
        };
        if let Some(known) = object.hierarchy().and_then(|h| h.get(name)) {
            let description = format!("{name} is a known type: use the case {}", known.case_name);
            self.violation(self.path.proto(field), description);
            return false;
        }
        let detail = ["unknown type \"", name, "\""].concat();
        let entry = self.entry(UnknownDataKind::Type, name, ODATA_TYPE, "", detail);
        if !self.keep_unknown(entry) {
            return false;
        }
        self.out.push('{');
        self.name_key(ODATA_TYPE);
        write_string(&mut self.out, &type_value(name));
        self.annotations(object, true);
        for (key, raw) in object.additional_data().iter().filter(|(key, _)| !annotates_object(key)) {
            if let Some(raw) = self.checked_raw(key, raw) {
                self.key(key);
                self.out.push_str(raw);
            }
        }
        self.out.push('}');
        true
    }

    /// Writes a known property held raw in additional_data, judged as the reader would judge it.
    /// Returns false when nothing was written.
    fn raw_property(&mut self, info: &TypeInfo, property: &PropertyInfo, value: Value<'_>, raw: &str) -> bool {
        let key = property.graph_name;
        let Some((raw, judged)) = self.read_raw(key, raw, |s| judge(value, s, 1)) else {
            return true;
        };
        let keep = match judged {
            Decoded::Typed => true,
            Decoded::Untyped { kind, detail } => {
                let entry = self.entry(kind, info.graph_name, key, key, detail);
                self.keep_untyped(entry)
            }
            Decoded::WrongType(wrong) => {
                let path = self.path.proto(Tail::Key(key));
                self.violation(path, wrong.message(key));
                return true;
            }
        };
        if keep {
            self.name_key(key);
            self.out.push_str(raw);
        }
        keep
    }

    /// Validates a raw additional_data value; None (and a violation) if it is not one JSON value.
    fn checked_raw<'v>(&mut self, key: &str, raw: &'v str) -> Option<&'v str> {
        self.read_raw(key, raw, |s| s.value(1)).map(|(value, _)| value)
    }

    /// Validates a raw additional_data value as `read` reads it; None (and a violation) if it is
    /// not one JSON value.
    fn read_raw<'v, T>(
        &mut self,
        key: &str,
        raw: &'v str,
        read: impl FnOnce(&mut Scanner<'v>) -> Result<T, SyntaxError>,
    ) -> Option<(&'v str, T)> {
        // The value sits inside the containers of the path and its object.
        let budget = self.max_depth.saturating_sub(self.path.depth() + 1);
        match json::read_single(raw, budget, read) {
            Ok(read) => Some(read),
            Err(e) => {
                let (line, column) = e.line_column(raw);
                let at = if e.pointer.is_empty() { String::new() } else { format!(" at {}", e.pointer) };
                let description = format!("not one JSON value (line {line}, column {column}{at}): {}", e.message);
                self.violation(self.path.proto(Tail::Key(key)), description);
                None
            }
        }
    }

    /// A report entry for the member `key` of the object being written, pointing into the
    /// output (or, when the policy rejects it, to the entry's proto path in the request).
    fn entry(&self, kind: UnknownDataKind, graph_type: &str, key: &str, property: &str, detail: String) -> UnknownData {
        let pointer = if self.policy == Policy::Reject {
            match kind {
                UnknownDataKind::Type => self.path.proto(Tail::Field { case: "", field: "unknown" }),
                _ => self.path.proto(Tail::Key(key)),
            }
        } else {
            let mut pointer = self.path.pointer(true, Tail::None);
            pointer.push('/');
            json::push_pointer_token(&mut pointer, key);
            pointer
        };
        UnknownData {
            pointer,
            kind: kind.into(),
            graph_type: graph_type.to_owned(),
            property: property.to_owned(),
            detail,
            dropped: false,
        }
    }
}
