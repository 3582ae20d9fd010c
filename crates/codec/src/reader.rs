//! Graph JSON -> protobuf (FromGraph, RuleFromGraph): strict about JSON, lenient about Graph.
//!
//! One pass: each value is read into its target as it is scanned: messages, or the response's
//! encoding written as it is read (see `target`). A polymorphic object's type is
//! in its `@odata.type`, which Graph writes first but hand-written JSON may put anywhere: the
//! members before it are buffered until it names the type (see `source`).

use super::{
    Error, Policy, Violation,
    json::{Scanner, SyntaxError, push_index_token},
    mask::Present,
    odata::{BadTypeName, Collection, Envelope, ODATA_TYPE, is_annotation, type_name},
    path::{Path, Tail},
    property::{Decoded, WrongType, decode, expected},
    report::{Report, reserve_like_first},
    source::{Cursor, Source},
    target::{Items, Target},
};
use crate::{
    pb::{DetectionRule, ResponseAction, UnknownData, UnknownDataKind},
    schema::{GraphObject, GraphType, PropertyKind, Shape, TypeInfo},
};

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
    let mut actions = Vec::<ResponseAction>::new();
    let unknown_data = read_actions(json, policy, max_depth, &mut actions)?;
    Ok(FromGraph { actions, unknown_data })
}

/// Reads a JSON array of actions, or one action object, into `actions`; returns the unknown-data
/// report.
pub fn read_actions<C>(json: &str, policy: Policy, max_depth: usize, actions: &mut C) -> Result<Vec<UnknownData>, Error>
where
    C: Items + ?Sized,
{
    let mut reader = Reader::new(policy, "actions");
    let mut scanner = Scanner::new(json, max_depth);
    let scanned = match scanner.peek() {
        Some(b'[') => reader.items(&mut scanner, 1, actions),
        // Depth as if in the array ToGraph will write it in, so both forms take the same input.
        Some(b'{') => reader.item(&mut scanner, 2, actions),
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
    reader.finish()
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

/// Reads one detectionRule object, or an OData collection `{"value": [rules], ...}`.
pub fn rules_from_graph(json: &str, policy: Policy, max_depth: usize) -> Result<RulesFromGraph, Error> {
    let mut rule = DetectionRule::default();
    let read = read_rules(json, policy, max_depth, &mut rule as &mut dyn GraphObject)?;
    let unknown_data = read.unknown_data;
    Ok(match read.found {
        Rules::One { present } => {
            RulesFromGraph { rules: vec![rule], collection: None, present: present.into_paths(), unknown_data }
        }
        Rules::Collection { rules, collection } => {
            RulesFromGraph { rules, collection: Some(collection), present: Vec::new(), unknown_data }
        }
    })
}

/// What RuleFromGraph's JSON held.
pub enum Rules {
    /// One rule, read into the target, with the fields it holds.
    One { present: Present },
    /// An OData collection of rules (the target holds what reading it as a rule left).
    Collection { rules: Vec<DetectionRule>, collection: Collection },
}

/// What `read_rules` read, and the unknown-data report.
pub struct RulesRead {
    pub found: Rules,
    pub unknown_data: Vec<UnknownData>,
}

/// Reads one detectionRule object into `rule`, or an OData collection `{"value": [rules], ...}`.
pub fn read_rules<O>(json: &str, policy: Policy, max_depth: usize, rule: &mut O) -> Result<RulesRead, Error>
where
    O: Target + ?Sized,
{
    let mut reader = Reader::new(policy, "rules");
    let mut scanner = Scanner::new(json, max_depth);
    let mut envelope = None;
    let scanned = match scanner.peek() {
        Some(b'{') => {
            reader.present = Some(Present::for_rule());
            envelope = Some(Envelope::new(policy));
            reader.rule(&mut scanner, rule, &mut envelope)
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
    if let Some((reader, rules, collection)) = envelope.and_then(Envelope::finish) {
        // What reading it as a rule reported (its "value" as an unknown property) is left out.
        let unknown_data = reader.finish()?;
        return Ok(RulesRead { found: Rules::Collection { rules, collection }, unknown_data });
    }
    let present = reader.present.take();
    let unknown_data = reader.finish()?;
    // Anything but an object was a violation: one rule was read.
    let present = present.expect("a rule object was read");
    Ok(RulesRead { found: Rules::One { present }, unknown_data })
}

fn syntax_error(json: &str, error: SyntaxError) -> Error {
    let (line, column) = error.line_column(json);
    Error::Syntax { field: format!("json{}", error.pointer), line, column, message: error.message }
}

/// What a polymorphic object's members are read as, once its `@odata.type` is read.
#[derive(Clone, Copy)]
enum Typed {
    /// The properties of this known type.
    Known(&'static TypeInfo),
    /// Additional data of a type this build does not know.
    Unknown,
    /// Nothing: the type is not valid (a violation; the value is kept), or it is unknown and
    /// left out under the policy.
    Skipped { keep: bool },
}

/// Reads Graph JSON into messages, with the unknown-data report and the violations found.
pub struct Reader {
    policy: Policy,
    unknown_data: Vec<UnknownData>,
    violations: Vec<Violation>,
    pub path: Path,
    /// The fields read, when reading one rule.
    present: Option<Present>,
}

impl Reader {
    pub fn new(policy: Policy, root: &'static str) -> Self {
        Self { policy, unknown_data: Vec::new(), violations: Vec::new(), path: Path::new(root), present: None }
    }

    fn finish(self) -> Result<Vec<UnknownData>, Error> {
        if self.violations.is_empty() { Ok(self.unknown_data) } else { Err(Error::Invalid(self.violations)) }
    }

    pub fn violation(&mut self, pointer: String, description: impl Into<String>) {
        let mut field = pointer;
        field.insert_str(0, "json");
        self.violations.push(Violation::new(field, description));
    }

    pub fn pointer(&self, tail: Tail<'_>) -> String {
        self.path.pointer(false, tail)
    }

    /// After the first item (`first_len` bytes), reserves room for the `rest` of the input as if
    /// its items were about like the first (a quarter more: they vary in size). The result is then
    /// allocated about once instead of regrown by doubling (see `reserve_like_first`).
    fn reserve_like_first<C: Items + ?Sized>(&mut self, items: &mut C, first_len: usize, rest: usize) {
        let like_first = rest / first_len.max(1);
        let more = (like_first + like_first / 4 + 1).min(MAX_RESERVED_ITEMS);
        items.reserve(more, first_len);
        reserve_like_first(&mut self.unknown_data, more);
    }

    /// Reads the array at the scanner (at `depth`) as items of `items`.
    pub fn items<C: Items + ?Sized>(
        &mut self,
        s: &mut Scanner<'_>,
        depth: usize,
        items: &mut C,
    ) -> Result<(), SyntaxError> {
        s.array(depth, |s, index| {
            let start = s.offset();
            self.path.push_item(index, items.len());
            self.item(s, depth + 1, items)?;
            self.path.pop();
            if index == 0 {
                self.reserve_like_first(items, s.offset() - start, s.remaining());
            }
            Ok(())
        })
    }

    /// Reads the value at the scanner (at `depth`) as a new item of `list`.
    fn item<C>(&mut self, s: &mut Scanner<'_>, depth: usize, list: &mut C) -> Result<(), SyntaxError>
    where
        C: Items + ?Sized,
    {
        if s.peek() != Some(b'{') {
            let found = s.value(depth)?.json_type();
            self.violation(self.pointer(Tail::None), format!("expected an object, found {found}"));
            return Ok(());
        }
        let kept = self.object(s, depth, list.push())?;
        list.end(kept);
        Ok(())
    }

    /// Reads RuleFromGraph's top-level object as a rule; while it may still be an OData
    /// collection, `envelope` reads it as one too.
    fn rule<O: Target + ?Sized>(
        &mut self,
        s: &mut Scanner<'_>,
        rule: &mut O,
        envelope: &mut Option<Envelope>,
    ) -> Result<(), SyntaxError> {
        let info = &DetectionRule::INFO;
        let mut next = 0;
        s.object(1, |s, key| {
            if let Some(index) = info.find_from(key, next).filter(|_| !is_annotation(key)) {
                *envelope = None; // a rule's property: a rule
                next = index + 1;
                return self.property(info, index, key, s, 2, rule);
            }
            let start = s.offset();
            let enveloped = match envelope {
                Some(envelope) => envelope.member(key, s)?,
                None => false,
            };
            if !enveloped {
                *envelope = None;
                s.value(2)?;
            }
            self.other_member(info, key, s.since(start).text, rule);
            Ok(())
        })
    }

    /// Reads the object at `s` (at nesting `depth`) into `object`; false when it is to be left out
    /// (an unknown type dropped).
    fn object<'a, O: Target + ?Sized>(
        &mut self,
        s: &mut impl Source<'a>,
        depth: usize,
        object: &mut O,
    ) -> Result<bool, SyntaxError> {
        if object.hierarchy().is_some() {
            return self.polymorphic(s, depth, object);
        }
        let Shape::Known(info) = object.shape() else { unreachable!("a plain object has one type") };
        let mut next = 0;
        s.object(depth, |s, key| self.member(info, key, &mut next, s, depth + 1, object))?;
        Ok(true)
    }

    /// Reads an object of a polymorphic type, whose `@odata.type` names its concrete type: the
    /// members before it are buffered until then, those after it are read as they come.
    fn polymorphic<'a, O: Target + ?Sized>(
        &mut self,
        s: &mut impl Source<'a>,
        depth: usize,
        object: &mut O,
    ) -> Result<bool, SyntaxError> {
        let mut typed = None;
        let mut buffered = Vec::new();
        let mut next = 0;
        s.object(depth, |s, key| {
            if let Some(typed) = typed {
                return self.typed_member(typed, key, &mut next, s, depth + 1, object);
            }
            if key != ODATA_TYPE {
                buffered.push((key.clone(), s.buffer(depth + 1)?));
                return Ok(());
            }
            let read = self.odata_type(s, depth + 1, object)?;
            typed = Some(read);
            for (key, value) in &buffered {
                self.typed_member(read, key, &mut next, &mut Cursor(value), depth + 1, object)?;
            }
            Ok(())
        })?;
        match typed {
            None => {
                self.violation(self.pointer(Tail::None), "missing \"@odata.type\": the value's type cannot be known");
                Ok(true)
            }
            Some(Typed::Skipped { keep }) => Ok(keep),
            Some(_) => Ok(true),
        }
    }

    /// Reads the `@odata.type` at `s` and makes `object` of the type it names.
    fn odata_type<'a, O: Target + ?Sized>(
        &mut self,
        s: &mut impl Source<'a>,
        depth: usize,
        object: &mut O,
    ) -> Result<Typed, SyntaxError> {
        // Made only when needed: most objects read have a known type.
        let pointer = |reader: &Self| reader.pointer(Tail::Key(ODATA_TYPE));
        let odata_type = match s.string_or_value(depth)? {
            Ok(odata_type) => odata_type,
            Err(other) => {
                let found = other.json_type();
                self.violation(pointer(self), format!("\"@odata.type\" must be a string, found {found}"));
                return Ok(Typed::Skipped { keep: true });
            }
        };
        let qualified_name = match type_name(&odata_type) {
            Ok(name) => name,
            Err(bad) => {
                self.violation(
                    pointer(self),
                    match bad {
                        BadTypeName::Empty => "\"@odata.type\" is empty",
                        BadTypeName::MoreThanOneHash => "\"@odata.type\" has more than one leading '#'",
                    },
                );
                return Ok(Typed::Skipped { keep: true });
            }
        };
        if object.select(qualified_name) {
            let Shape::Known(info) = object.shape() else { unreachable!("a selected type is known") };
            return Ok(Typed::Known(info));
        }
        let entry = UnknownData {
            pointer: pointer(self),
            kind: UnknownDataKind::Type.into(),
            graph_type: qualified_name.to_owned(),
            detail: ["unknown type \"", qualified_name, "\""].concat(),
            ..Default::default()
        };
        Ok(if self.keep_unknown(entry) { Typed::Unknown } else { Typed::Skipped { keep: false } })
    }

    /// Reads a member of a polymorphic object whose `@odata.type` was read.
    fn typed_member<'a, O: Target + ?Sized>(
        &mut self,
        typed: Typed,
        key: &str,
        next: &mut usize,
        s: &mut impl Source<'a>,
        depth: usize,
        object: &mut O,
    ) -> Result<(), SyntaxError> {
        match typed {
            Typed::Known(info) => self.member(info, key, next, s, depth, object),
            Typed::Unknown => {
                let raw = s.value(depth)?;
                object.keep_raw(key, raw.text);
                Ok(())
            }
            Typed::Skipped { .. } => s.value(depth).map(drop),
        }
    }

    /// Reads the member `key` at `s` of an object of the known type `info`; `next` is where to
    /// look for its property first, the index after the previous member's.
    fn member<'a, O: Target + ?Sized>(
        &mut self,
        info: &'static TypeInfo,
        key: &str,
        next: &mut usize,
        s: &mut impl Source<'a>,
        depth: usize,
        object: &mut O,
    ) -> Result<(), SyntaxError> {
        // No property's name holds an '@' (`schema::tests`): a member found is no annotation.
        match info.find_from(key, *next) {
            Some(index) => {
                *next = index + 1;
                self.property(info, index, key, s, depth, object)
            }
            None => {
                let raw = s.value(depth)?;
                self.other_member(info, key, raw.text, object);
                Ok(())
            }
        }
    }

    /// Keeps a member that is no property of `info` raw: an annotation, or unknown data (under
    /// the policy) unless the type is open.
    fn other_member<O: Target + ?Sized>(&mut self, info: &'static TypeInfo, key: &str, raw: &str, object: &mut O) {
        let keep = is_annotation(key) || info.open || {
            let entry = self.entry(info, UnknownDataKind::Property, key, key, || {
                ["unknown property of ", info.graph_name].concat()
            });
            self.keep_unknown(entry)
        };
        if keep {
            object.keep_raw(key, raw);
        }
    }

    /// Reads the value at `s` as property `index` of `object`, of the known type `info`; its
    /// member `key` is kept raw in additional_data if it has no typed form.
    fn property<'a, O: Target + ?Sized>(
        &mut self,
        info: &'static TypeInfo,
        index: usize,
        key: &str,
        s: &mut impl Source<'a>,
        depth: usize,
        object: &mut O,
    ) -> Result<(), SyntaxError> {
        let property = &info.properties[index];
        let next = s.peek();
        let start = s.offset();
        if next == Some(b'n') {
            s.value(depth)?;
            self.null(info, index);
            return Ok(());
        }
        let mark = self.present.as_ref().map(Present::mark);
        self.path.push_property(property, info.case_name);
        let decoded = match (property.kind, next) {
            (PropertyKind::Object, Some(b'{')) => self.object_into(s, depth, index, object),
            (PropertyKind::Objects, Some(b'[')) => self.list(s, depth, index, object),
            (PropertyKind::Object, _) => s.value(depth).map(|other| expected("an object", &other)),
            (PropertyKind::Objects, _) => s.value(depth).map(|other| expected("an array of objects", &other)),
            _ => decode(object.slot(index), s, depth).inspect(|decoded| {
                if *decoded == Decoded::Typed {
                    object.read(index);
                }
            }),
        };
        self.path.pop();
        if self.settle(info, index, decoded?, mark, object) {
            object.keep_raw(key, s.since(start).text);
        }
        Ok(())
    }

    /// A null for property `index` of `info`: absent, or where a mask can say so (one rule) a
    /// masked, unset field.
    fn null(&mut self, info: &'static TypeInfo, index: usize) {
        let property = &info.properties[index];
        let masked = self.present.is_some() && Present::can_name(&self.path);
        let detail = if masked { "null: unset, and listed in the update mask" } else { "null means absent" };
        let entry = self.entry(info, UnknownDataKind::Null, property.graph_name, property.graph_name, || detail.into());
        self.report(entry, !masked);
        if let Some(present) = &mut self.present {
            present.note(&self.path, property);
        }
    }

    /// Reports how property `index`'s value was read and notes it as present (its value read
    /// from `mark`); true when its raw value is to be kept in additional_data.
    fn settle<O: Target + ?Sized>(
        &mut self,
        info: &'static TypeInfo,
        index: usize,
        decoded: Decoded,
        mark: Option<usize>,
        object: &O,
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
        if let (Some(present), Some(mark)) = (&mut self.present, mark)
            && (keep_raw || object.is_set(index))
        {
            present.note_read(&self.path, property, mark);
        }
        keep_raw
    }

    /// Reads the object at `s` as the value of object property `index` of `object`.
    fn object_into<'a, O: Target + ?Sized>(
        &mut self,
        s: &mut impl Source<'a>,
        depth: usize,
        index: usize,
        object: &mut O,
    ) -> Result<Decoded, SyntaxError> {
        let kept = self.object(s, depth, object.object(index))?;
        object.end_object(index, kept);
        Ok(Decoded::Typed)
    }

    /// Reads the array at `s` into collection property `property` of `object`. A collection with
    /// no typed form (empty, or with a null item) is left empty, to be kept raw, and what its items
    /// reported is taken back.
    fn list<'a, O: Target + ?Sized>(
        &mut self,
        s: &mut impl Source<'a>,
        depth: usize,
        property: usize,
        object: &mut O,
    ) -> Result<Decoded, SyntaxError> {
        let (reported, violated) = (self.unknown_data.len(), self.violations.len());
        object.begin_list(property);
        let mut items = 0;
        let mut problem = None;
        // An update mask names no field within a collection's items: none is noted there.
        let present = self.present.take();
        let read = s.array(depth, |s, index| {
            items += 1;
            match (s.peek(), &problem) {
                (Some(b'{'), None) => {
                    self.path.push_item(index, object.items(property));
                    let kept = self.object(s, depth + 1, object.item(property))?;
                    self.path.pop();
                    object.end_item(property, kept);
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
        });
        self.present = present;
        read?;
        if items == 0 {
            // protobuf cannot tell an empty collection from an absent one: kept raw.
            return Ok(Decoded::Untyped { kind: UnknownDataKind::RawValue, detail: "empty collection".into() });
        }
        let Some(problem) = problem else {
            return Ok(Decoded::Typed);
        };
        object.clear_list(property);
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
}

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
