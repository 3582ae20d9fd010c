//! Graph JSON -> protobuf (FromGraph, RuleFromGraph): strict about JSON, lenient about Graph.

use std::borrow::Cow;

use super::{
    Error, Policy, Violation,
    json::{JsonType, Member, Raw, Scanner, SyntaxError, push_index_token},
    path::{Path, Tail},
    property::{Decoded, WrongType, decode, expected},
    report::{Report, reserve_like_first},
};
use crate::{
    pb::{DetectionRule, ResponseAction, UnknownData, UnknownDataKind},
    schema::{AdditionalData, GraphObject, ObjectList, ObjectSlot, PropertyInfo, Shape, Slot, TypeInfo},
};

pub(super) const ODATA_TYPE: &str = "@odata.type";

/// The most items reserved at once from a guess (see `Reader::reserve_like_first`).
const MAX_RESERVED_ITEMS: usize = 1024;

/// The result of reading Graph JSON actions.
#[derive(Debug, Default, PartialEq)]
pub struct FromGraph {
    pub actions: Vec<ResponseAction>,
    pub unknown_data: Vec<UnknownData>,
}

/// Reads a JSON array of actions, or one action object.
pub fn from_graph(json: &str, policy: Policy, max_depth: usize) -> Result<FromGraph, Error> {
    let mut reader = Reader::new(policy, "actions");
    let mut actions = Vec::new();
    // The members of the action being read; reused from one action to the next.
    let mut members = Vec::new();
    let mut scanner = Scanner::new(json, max_depth);
    let scanned = match scanner.peek() {
        Some(b'[') => scanner.array(1, |s, index| {
            let start = s.offset();
            reader.path.push_item(index, actions.len());
            reader.scanned_item(s, 2, &mut members, &mut actions)?;
            reader.path.pop();
            if index == 0 {
                reader.reserve_like_first(&mut actions, s.offset() - start, json.len() - s.offset());
            }
            Ok(())
        }),
        // Depth as if in the array ToGraph will write it in, so both forms take the same input.
        Some(b'{') => reader.scanned_item(&mut scanner, 2, &mut members, &mut actions),
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
    reader.finish().map(|unknown_data| FromGraph { actions, unknown_data })
}

/// The result of reading Graph JSON detection rules.
#[derive(Debug, Default, PartialEq)]
pub struct RulesFromGraph {
    pub rules: Vec<DetectionRule>,
    /// The OData collection around the rules, if the input was one.
    pub collection: Option<Collection>,
    /// For one rule object: the fields it holds, nulls included, as update-mask paths. With the
    /// rule, RuleToGraph writes the same properties back (a PATCH body keeps its nulls).
    pub present: Vec<String>,
    pub unknown_data: Vec<UnknownData>,
}

/// An OData collection envelope's members other than `value`.
#[derive(Debug, Default, PartialEq)]
pub struct Collection {
    pub context: String,
    pub next_link: String,
    /// Its other members, as raw JSON text.
    pub other: AdditionalData,
}

const VALUE: &str = "value";
const CONTEXT: &str = "@odata.context";
const NEXT_LINK: &str = "@odata.nextLink";

/// Reads one detectionRule object, or an OData collection `{"value": [rules], ...}`.
pub fn rules_from_graph(json: &str, policy: Policy, max_depth: usize) -> Result<RulesFromGraph, Error> {
    let mut reader = Reader::new(policy, "rules");
    let mut read = RulesFromGraph::default();
    // One pass: the text is validated while it is read as a rule; if it turns out to be an
    // OData collection, the collection's members were kept aside.
    let mut scanner = Scanner::new(json, max_depth);
    let mut rule = DetectionRule::default();
    let mut envelope = Envelope::default();
    let scanned = match scanner.peek() {
        Some(b'{') => {
            reader.present = Some(Vec::new());
            reader.scan_object(&mut scanner, 1, &mut rule, Some(&mut envelope)).map(drop)
        }
        _ => scanner.value(1).map(|raw| {
            let found = raw.json_type();
            reader.violation(
                String::new(),
                format!("expected a detectionRule object or an OData collection of them, found {found}"),
            );
        }),
    };
    scanned.and_then(|()| scanner.finish()).map_err(|e| syntax_error(json, e))?;
    if envelope.seen == envelope.members.len() && is_collection(&envelope.members) {
        // What reading it as a rule reported (its "value" as an unknown property) is taken back.
        reader = Reader::new(policy, "rules");
        read.collection = Some(reader.collection(&envelope.members, &mut read.rules));
    } else if reader.present.is_some() {
        read.rules.push(rule);
    }
    read.present = reader.present.take().unwrap_or_default();
    read.unknown_data = reader.finish()?;
    Ok(read)
}

fn syntax_error(json: &str, error: SyntaxError) -> Error {
    let (line, column) = error.line_column(json);
    Error::Syntax { field: format!("json{}", error.pointer), line, column, message: error.message }
}

/// Scans the object at the scanner (at nesting `depth`) into `members`, in one pass.
fn scan_members<'a>(s: &mut Scanner<'a>, depth: usize, members: &mut Vec<Member<'a>>) -> Result<(), SyntaxError> {
    members.clear();
    s.object(depth, |s, key| {
        members.push(Member { key: key.clone(), value: s.value(depth + 1)? });
        Ok(())
    })
}

/// The top-level members that would make an OData collection, and how many members there were.
#[derive(Default)]
struct Envelope<'a> {
    members: Vec<Member<'a>>,
    seen: usize,
}

/// An OData collection: a `value` array beside nothing but control information (a rule with a
/// property named `value` stays a rule).
fn is_collection(members: &[Member<'_>]) -> bool {
    members.iter().any(|m| m.key == VALUE && m.value.json_type() == JsonType::Array)
        && members.iter().all(|m| m.key == VALUE || is_annotation(&m.key))
}

/// Control information and annotations (`@odata.context`, `@odata.etag`, `name@odata.type`):
/// not properties, kept verbatim wherever they are, never reported.
fn is_annotation(key: &str) -> bool {
    key.contains('@')
}

struct Reader {
    policy: Policy,
    unknown_data: Vec<UnknownData>,
    violations: Vec<Violation>,
    path: Path,
    /// The update-mask paths of the fields read, when reading one rule.
    present: Option<Vec<String>>,
}

impl Reader {
    fn new(policy: Policy, root: &'static str) -> Self {
        Self { policy, unknown_data: Vec::new(), violations: Vec::new(), path: Path::new(root), present: None }
    }

    fn finish(self) -> Result<Vec<UnknownData>, Error> {
        if self.violations.is_empty() { Ok(self.unknown_data) } else { Err(Error::Invalid(self.violations)) }
    }

    fn violation(&mut self, pointer: String, description: impl Into<String>) {
        let mut field = pointer;
        field.insert_str(0, "json");
        self.violations.push(Violation::new(field, description));
    }

    fn pointer(&self, tail: Tail<'_>) -> String {
        self.path.pointer(false, tail)
    }

    /// After the first item (`first_len` bytes), reserves room for the `rest` of the input as if
    /// its items were about like the first (a quarter more: they vary in size). The result is then
    /// allocated about once instead of regrown by doubling (see `reserve_like_first`).
    fn reserve_like_first<T>(&mut self, items: &mut Vec<T>, first_len: usize, rest: usize) {
        let like_first = rest / first_len.max(1);
        let more = (like_first + like_first / 4 + 1).min(MAX_RESERVED_ITEMS);
        items.reserve(more);
        reserve_like_first(&mut self.unknown_data, more);
    }

    /// Reads `raw` as a new item of `list` at the current path.
    fn item(&mut self, raw: &Raw<'_>, list: &mut dyn ObjectList) {
        if raw.json_type() != JsonType::Object {
            return self.not_an_object(raw.json_type());
        }
        let kept = self.scan_object(&mut Scanner::new(raw.text, usize::MAX), 0, list.push(), None);
        if !kept.expect("validated when scanned") {
            list.pop();
        }
    }

    /// Scans the value at the scanner (at `depth`) as a new item of `list`, its members into
    /// `members`, without scanning it twice.
    fn scanned_item<'a>(
        &mut self,
        scanner: &mut Scanner<'a>,
        depth: usize,
        members: &mut Vec<Member<'a>>,
        list: &mut dyn ObjectList,
    ) -> Result<(), SyntaxError> {
        if scanner.peek() != Some(b'{') {
            let found = scanner.value(depth)?.json_type();
            self.not_an_object(found);
            return Ok(());
        }
        scan_members(scanner, depth, members)?;
        self.push(members, list);
        Ok(())
    }

    fn push(&mut self, members: &[Member<'_>], list: &mut dyn ObjectList) {
        if !self.object(members, list.push()) {
            list.pop();
        }
    }

    fn not_an_object(&mut self, found: JsonType) {
        self.violation(self.pointer(Tail::None), format!("expected an object, found {found}"));
    }

    /// Reads `members` into `object`; false when it is to be left out (an unknown type dropped).
    fn object(&mut self, members: &[Member<'_>], object: &mut dyn GraphObject) -> bool {
        match object.hierarchy() {
            Some(_) => self.polymorphic(members, object),
            None => {
                self.properties(members, object);
                true
            }
        }
    }

    /// Reads a value of a polymorphic type, whose `@odata.type` names its concrete type.
    fn polymorphic(&mut self, members: &[Member<'_>], object: &mut dyn GraphObject) -> bool {
        let Some(tag) = members.iter().find(|m| m.key == ODATA_TYPE) else {
            self.violation(self.pointer(Tail::None), "missing \"@odata.type\": the value's type cannot be known");
            return true;
        };
        let Some(odata_type) = tag.value.as_str() else {
            let found = tag.value.json_type();
            self.violation(
                self.pointer(Tail::Key(ODATA_TYPE)),
                format!("\"@odata.type\" must be a string, found {found}"),
            );
            return true;
        };
        // Graph writes a '#'; Microsoft's docs sometimes omit it.
        let qualified_name = odata_type.strip_prefix('#').unwrap_or(&odata_type);
        let problem = if qualified_name.is_empty() {
            "\"@odata.type\" is empty"
        } else if qualified_name.starts_with('#') {
            "\"@odata.type\" has more than one leading '#'"
        } else {
            ""
        };
        if !problem.is_empty() {
            self.violation(self.pointer(Tail::Key(ODATA_TYPE)), problem);
            return true;
        }
        let properties = members.iter().filter(|m| m.key != ODATA_TYPE);
        if object.select(qualified_name) {
            self.properties(properties, object);
            return true;
        }
        let entry = UnknownData {
            pointer: self.pointer(Tail::Key(ODATA_TYPE)),
            kind: UnknownDataKind::Type.into(),
            graph_type: qualified_name.to_owned(),
            detail: ["unknown type \"", qualified_name, "\""].concat(),
            ..Default::default()
        };
        if !self.keep_unknown(entry) {
            return false;
        }
        object.additional_data_mut().extend(properties.map(|m| (m.key.to_string(), m.value.text.to_owned())));
        true
    }

    /// Reads the properties of an object whose type is known.
    fn properties<'m, 'a: 'm>(
        &mut self,
        members: impl IntoIterator<Item = &'m Member<'a>>,
        object: &mut dyn GraphObject,
    ) {
        let Shape::Known(info) = object.shape() else { unreachable!("read only into a known type") };
        for member in members {
            self.member(info, &member.key, &member.value, object);
        }
    }

    /// Reads one member of an object of the known type `info`.
    fn member(&mut self, info: &'static TypeInfo, key: &str, raw: &Raw<'_>, object: &mut dyn GraphObject) {
        let keep_raw = match info.find(key) {
            _ if is_annotation(key) => true,
            None if info.open => true,
            None => {
                let entry = self.entry(info, UnknownDataKind::Property, key, key, || {
                    ["unknown property of ", info.graph_name].concat()
                });
                self.keep_unknown(entry)
            }
            Some(index) => self.property(info, index, raw, object),
        };
        if keep_raw {
            object.additional_data_mut().insert(key.to_owned(), raw.text.to_owned());
        }
    }

    /// Reads property `index` of `object`; true when its raw value is to be kept in additional_data.
    fn property(&mut self, info: &'static TypeInfo, index: usize, raw: &Raw<'_>, object: &mut dyn GraphObject) -> bool {
        let property = &info.properties[index];
        if raw.json_type() == JsonType::Null {
            // Where a mask can say so (one rule), the null is kept as a masked, unset field.
            let masked = self.present.is_some() && self.path.field_path(property).is_some();
            let detail = if masked { "null: unset, and listed in the update mask" } else { "null means absent" };
            let entry =
                self.entry(info, UnknownDataKind::Null, property.graph_name, property.graph_name, || detail.into());
            self.report(entry, !masked);
            self.mark_present(property, None, false);
            return false;
        }
        let present_before = self.present.as_ref().map(Vec::len);
        self.path.push_property(property, info.case_name);
        // Complex values are read by a scanner over their (validated) text, in one pass.
        let mut scanner = Scanner::new(raw.text, usize::MAX);
        let decoded = match (object.slot(index), raw.json_type()) {
            (Slot::Object(slot), JsonType::Object) => self.scan_into(&mut scanner, 0, slot),
            (Slot::Objects(list), JsonType::Array) => self.scan_list(&mut scanner, 0, list),
            (Slot::Object(_), _) => Ok(expected("an object", raw)),
            (Slot::Objects(_), _) => Ok(expected("an array of objects", raw)),
            (slot, _) => Ok(decode(slot, raw)),
        };
        self.path.pop();
        let decoded = decoded.expect("validated when scanned");
        self.settle(info, index, decoded, present_before, object)
    }

    /// Reports how property `index`'s value was read and notes it as present; true when its raw
    /// value is to be kept in additional_data.
    fn settle(
        &mut self,
        info: &'static TypeInfo,
        index: usize,
        decoded: Decoded,
        present_before: Option<usize>,
        object: &mut dyn GraphObject,
    ) -> bool {
        let property = &info.properties[index];
        let keep_raw = match decoded {
            Decoded::Typed => false,
            Decoded::Untyped { kind, detail } => {
                let entry = self.entry(info, kind, property.graph_name, property.graph_name, || detail);
                self.keep_untyped(entry)
            }
            Decoded::WrongType(wrong) => {
                self.path.push_property(property, info.case_name);
                let mut at = self.pointer(Tail::None);
                self.path.pop();
                if let Some(i) = wrong.item {
                    push_index_token(&mut at, i);
                }
                self.violation(at, wrong.message(property.graph_name));
                false
            }
        };
        // What the policy dropped (all items of a collection, an unknown member) is not held:
        // masked, it would be written back as a null, which clears it in Graph.
        if keep_raw || object.value(index).is_set() {
            self.mark_present(property, present_before, property.object.is_some());
        }
        keep_raw
    }

    /// Adds `property` to the fields read, unless it is an object whose own fields were added.
    fn mark_present(&mut self, property: &PropertyInfo, before: Option<usize>, object: bool) {
        let Some(present) = &self.present else {
            return; // not reading one rule: the common case, and free
        };
        if (!object || Some(present.len()) == before)
            && let Some(path) = self.path.field_path(property)
            && let Some(present) = &mut self.present
        {
            present.push(path);
        }
    }

    /// Reads the object at the scanner into the optional complex value `slot`.
    fn scan_into(
        &mut self,
        s: &mut Scanner<'_>,
        depth: usize,
        slot: &mut dyn ObjectSlot,
    ) -> Result<Decoded, SyntaxError> {
        if !self.scan_object(s, depth, slot.fill(), None)? {
            slot.clear();
        }
        Ok(Decoded::Typed)
    }

    /// Reads the object at the scanner (at nesting `depth`) into `object`, each nested value in
    /// the same pass; false when it is to be left out (an unknown type dropped). `envelope`, for
    /// the top level, also collects what an OData collection's members would be.
    fn scan_object<'a>(
        &mut self,
        s: &mut Scanner<'a>,
        depth: usize,
        object: &mut dyn GraphObject,
        mut envelope: Option<&mut Envelope<'a>>,
    ) -> Result<bool, SyntaxError> {
        if object.hierarchy().is_some() {
            // Its type comes from "@odata.type", wherever that is: the members are read first.
            let mut members = Vec::new();
            scan_members(s, depth, &mut members)?;
            return Ok(self.polymorphic(&members, object));
        }
        let Shape::Known(info) = object.shape() else { unreachable!("a plain object has one type") };
        s.object(depth, |s, key| {
            if let Some(envelope) = envelope.as_deref_mut() {
                envelope.seen += 1;
            }
            let Some(index) = info.find(key).filter(|_| !is_annotation(key)) else {
                let raw = s.value(depth + 1)?;
                if let Some(envelope) = envelope.as_deref_mut()
                    && (key == VALUE || is_annotation(key))
                {
                    envelope.members.push(Member { key: key.clone(), value: raw });
                }
                self.member(info, key, &raw, object);
                return Ok(());
            };
            let (start, next) = (s.offset(), s.peek());
            let present_before = self.present.as_ref().map(Vec::len);
            self.path.push_property(&info.properties[index], info.case_name);
            let decoded = match (object.slot(index), next) {
                (Slot::Object(slot), Some(b'{')) => Some(self.scan_into(s, depth + 1, slot)?),
                (Slot::Objects(list), Some(b'[')) => Some(self.scan_list(s, depth + 1, list)?),
                _ => None,
            };
            self.path.pop();
            match decoded {
                Some(decoded) => {
                    if self.settle(info, index, decoded, present_before, object) {
                        object.additional_data_mut().insert(key.to_string(), s.since(start).text.to_owned());
                    }
                }
                None => {
                    let raw = s.value(depth + 1)?;
                    self.member(info, key, &raw, object);
                }
            }
            Ok(())
        })?;
        Ok(true)
    }

    /// Reads the array at the scanner into `list`. A collection with no typed form (empty, or
    /// with a null item) is left empty, to be kept raw, and what its items reported is taken back.
    fn scan_list(
        &mut self,
        s: &mut Scanner<'_>,
        depth: usize,
        list: &mut dyn ObjectList,
    ) -> Result<Decoded, SyntaxError> {
        let (reported, violated) = (self.unknown_data.len(), self.violations.len());
        list.clear();
        let mut items = 0;
        let mut problem = None;
        s.array(depth, |s, index| {
            items += 1;
            match (s.peek(), &problem) {
                (Some(b'{'), None) => {
                    self.path.push_item(index, list.len());
                    let kept = self.scan_object(s, depth + 1, list.push(), None)?;
                    self.path.pop();
                    if !kept {
                        list.pop();
                    }
                }
                (_, Some(_)) => {
                    s.value(depth + 1)?;
                }
                (Some(b'n'), None) => {
                    s.value(depth + 1)?;
                    let detail = format!("null item at {index}");
                    problem = Some(Decoded::Untyped { kind: UnknownDataKind::RawValue, detail });
                }
                (_, None) => {
                    let found = s.value(depth + 1)?.json_type();
                    problem = Some(Decoded::WrongType(WrongType { expected: "an object", found, item: Some(index) }));
                }
            }
            Ok(())
        })?;
        if items == 0 {
            // protobuf cannot tell an empty collection from an absent one: kept raw.
            return Ok(Decoded::Untyped { kind: UnknownDataKind::RawValue, detail: "empty collection".into() });
        }
        let Some(problem) = problem else {
            return Ok(Decoded::Typed);
        };
        list.clear();
        self.unknown_data.truncate(reported);
        self.violations.truncate(violated);
        Ok(problem)
    }

    /// A report entry for the member `key` of an object of type `info` at the current path.
    fn entry(
        &self,
        info: &TypeInfo,
        kind: UnknownDataKind,
        key: &str,
        property: &str,
        detail: impl FnOnce() -> String,
    ) -> UnknownData {
        UnknownData {
            pointer: self.pointer(Tail::Key(key)),
            kind: kind.into(),
            graph_type: info.graph_name.to_owned(),
            property: property.to_owned(),
            detail: detail(),
            dropped: false,
        }
    }

    /// The collection envelope around rules.
    fn collection(&mut self, members: &[Member<'_>], rules: &mut Vec<DetectionRule>) -> Collection {
        let mut collection = Collection::default();
        for member in members {
            let text = |reader: &mut Self, field: &mut String| match member.value.as_str() {
                Some(value) => *field = Cow::into_owned(value),
                None => {
                    let found = member.value.json_type();
                    reader
                        .violation(reader.pointer(Tail::Key(&member.key)), format!("must be a string, found {found}"));
                }
            };
            match &*member.key {
                VALUE => {
                    // An array: see `is_collection`.
                    let items = member.value.items().unwrap_or_default();
                    rules.reserve(items.len());
                    self.path.push_property(&COLLECTION_VALUE, "");
                    for (index, item) in items.iter().enumerate() {
                        self.path.push_item(index, rules.len());
                        self.item(item, rules);
                        self.path.pop();
                    }
                    self.path.pop();
                }
                CONTEXT => text(self, &mut collection.context),
                NEXT_LINK => text(self, &mut collection.next_link),
                _ => {
                    collection.other.insert(member.key.to_string(), member.value.text.to_owned());
                }
            }
        }
        collection
    }
}

/// The `value` member of an OData collection, as a step of a path.
static COLLECTION_VALUE: crate::schema::PropertyInfo = crate::schema::PropertyInfo {
    graph_name: VALUE,
    proto_name: "rules",
    required: false,
    object: None,
    kind: crate::schema::PropertyKind::Objects,
};

impl Report for Reader {
    fn policy(&self) -> Policy {
        self.policy
    }

    fn report(&mut self, entry: UnknownData, dropped: bool) {
        self.unknown_data.push(UnknownData { dropped, ..entry });
    }

    fn reject(&mut self, entry: UnknownData) {
        self.violation(entry.pointer, format!("rejected by unknown_data_policy: {}", entry.detail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `json` with every object's "@odata.type" member moved to its end.
    fn type_last(json: &str) -> String {
        fn copy(s: &mut Scanner<'_>, out: &mut String) {
            match s.peek() {
                Some(b'{') => {
                    let mut members = Vec::new();
                    s.object(0, |s, key| {
                        let mut value = String::new();
                        copy(s, &mut value);
                        members.push((key.to_string(), value));
                        Ok(())
                    })
                    .unwrap();
                    members.sort_by_key(|(key, _)| key == ODATA_TYPE);
                    let members: Vec<String> = members
                        .iter()
                        .map(|(key, value)| {
                            let mut member = String::new();
                            crate::json::write_string(&mut member, key);
                            [member, ":".into(), value.clone()].concat()
                        })
                        .collect();
                    *out += &["{", &members.join(","), "}"].concat();
                }
                Some(b'[') => {
                    let mut items = Vec::new();
                    s.array(0, |s, _| {
                        let mut item = String::new();
                        copy(s, &mut item);
                        items.push(item);
                        Ok(())
                    })
                    .unwrap();
                    *out += &["[", &items.join(","), "]"].concat();
                }
                _ => *out += s.value(0).unwrap().text,
            }
        }
        let mut out = String::new();
        copy(&mut Scanner::new(json, usize::MAX), &mut out);
        assert_ne!(out, json.replace([' ', '\n'], ""), "no object to reorder");
        out
    }

    #[test]
    fn where_odata_type_sits_in_an_object_does_not_matter() {
        // Graph writes it first; Microsoft's docs and hand-written JSON do not always.
        let actions = r###"[
            {"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha1,sha256,later",
             "deviceGroupNames":["a"],"newProp":{"x":[1,{"y":null}]},"nullProp":null},
            {"@odata.type":"microsoft.graph.security.isolateDeviceResponseAction","isolationType":"full","identifier":7},
            {"@odata.type":"#microsoft.graph.security.someFutureResponseAction","identifier":"x"},
            {"@odata.type":"##bad","identifier":"deviceId"},
            {"@odata.type":"#microsoft.graph.security.disableUserResponseAction","identifier":"accountSid","n":1e400}
        ]"###;
        for policy in [Policy::Preserve, Policy::Drop, Policy::Reject] {
            let (first, last) = (from_graph(actions, policy, 8), from_graph(&type_last(actions), policy, 8));
            assert_eq!(format!("{first:?}"), format!("{last:?}"), "{policy:?}");
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/rules");
        for file in ["old-get.json", "new-get.json", "list.json"] {
            let json = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            for policy in [Policy::Preserve, Policy::Drop] {
                let first = rules_from_graph(&json, policy, 32).unwrap();
                let last = rules_from_graph(&type_last(&json), policy, 32).unwrap();
                assert_eq!(first, last, "{file} {policy:?}");
            }
        }
    }

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
        assert!(read.actions.capacity() <= 2 * MAX_RESERVED_ITEMS, "{}", read.actions.capacity());
        assert!(read.unknown_data.capacity() <= 2 * 4096, "{}", read.unknown_data.capacity());
    }
}
