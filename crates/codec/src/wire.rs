//! Requests read from their protobuf encoding, in place. The Graph objects of ToGraph's actions
//! and of RuleToGraph's rule are views of their bytes that the writer reads like messages, so the
//! request is never decoded into messages (nor dropped): under load, that decoding cost more than
//! writing the JSON (BENCHMARKS.md §11). FromGraph's and RuleFromGraph's JSON is read where it
//! lies, not copied out first.
//!
//! Only what a caller's protobuf library writes for the fields is read here: anything else (a
//! field this build does not expect, a oneof case or a message field set twice, an unknown type,
//! anything malformed) makes `read` return None, and the request is then decoded with prost. The
//! two paths hand the codec the same values, so they answer alike.

use std::{collections::BTreeMap, ops::Range, sync::OnceLock};

use prost::encoding::decode_varint;
use prost_types::{Duration, Timestamp};

use crate::{
    Error, Policy, ToGraph,
    pb::{DetectionRule, ResponseAction},
    schema::{
        AdditionalData, Complex, GraphType, GraphView, Hierarchy, PropertyKind, Shape, TypeInfo, Value, ViewList,
    },
    writer::{actions_to_graph, rule_view_to_graph},
};

/// protobuf wire types.
const VARINT: u64 = 0;
const LEN: u64 = 2;

/// The most items of an arena reserved from a request's length: a long request may be long for
/// its strings, not its objects (further items regrow the arena as they come).
const MAX_RESERVED: usize = 64;

/// An object's additional_data when its encoding has none.
static NO_ADDITIONAL_DATA: AdditionalData = BTreeMap::new();

/// A collection with no item.
static NO_ITEMS: Vec<ResponseAction> = Vec::new();

/// A ToGraphRequest read from its encoding.
pub(crate) struct EncodedToGraph<'a> {
    pub pretty: bool,
    pub unknown_data_policy: i32,
    objects: Objects<'a>,
    /// The objects that are the actions.
    actions: Vec<usize>,
}

impl<'a> EncodedToGraph<'a> {
    /// Reads an encoded ToGraphRequest (actions 1, pretty 2, unknown_data_policy 3); None if prost
    /// is to decode it.
    pub(crate) fn read(mut bytes: &'a [u8]) -> Option<Self> {
        let mut objects = Objects::with_room(bytes.len());
        let mut actions = Vec::with_capacity(room(bytes.len(), 8));
        let (mut pretty, mut unknown_data_policy) = (false, 0);
        while !bytes.is_empty() {
            match field(&mut bytes)? {
                (1, LEN) => actions.push(objects.polymorphic(&ResponseAction::HIERARCHY, len_delimited(&mut bytes)?)?),
                (2, VARINT) => pretty = decode_varint(&mut bytes).ok()? != 0,
                (3, VARINT) => unknown_data_policy = decode_varint(&mut bytes).ok()? as i32,
                _ => return None,
            }
        }
        Some(Self { pretty, unknown_data_policy, objects, actions })
    }

    /// Writes the actions as `crate::to_graph` writes them decoded.
    pub(crate) fn write(self, policy: Policy, max_depth: usize) -> Result<ToGraph, Error> {
        let tree = Tree::new(self.objects);
        let views = tree.views();
        let get = |i: usize| &views[self.actions[i]] as &dyn GraphView;
        actions_to_graph(self.actions.len(), get, tree.additional_data_bytes(), policy, self.pretty, max_depth)
    }
}

/// A RuleToGraphRequest read from its encoding.
pub(crate) struct EncodedRuleToGraph<'a> {
    pub pretty: bool,
    pub unknown_data_policy: i32,
    objects: Objects<'a>,
    /// The object that is the rule.
    rule: Option<usize>,
    update_mask: Option<Vec<String>>,
}

impl<'a> EncodedRuleToGraph<'a> {
    /// Reads an encoded RuleToGraphRequest (rule 1, update_mask 2, pretty 3,
    /// unknown_data_policy 4); None if prost is to decode it.
    pub(crate) fn read(mut bytes: &'a [u8]) -> Option<Self> {
        let mut objects = Objects::with_room(bytes.len());
        let (mut rule, mut update_mask) = (None, None);
        let (mut pretty, mut unknown_data_policy) = (false, 0);
        while !bytes.is_empty() {
            match field(&mut bytes)? {
                // prost merges a message field set twice.
                (1, LEN) if rule.is_none() => {
                    rule = Some(objects.plain(&DetectionRule::INFO, len_delimited(&mut bytes)?)?)
                }
                (2, LEN) if update_mask.is_none() => update_mask = Some(field_mask(len_delimited(&mut bytes)?)?),
                (3, VARINT) => pretty = decode_varint(&mut bytes).ok()? != 0,
                (4, VARINT) => unknown_data_policy = decode_varint(&mut bytes).ok()? as i32,
                _ => return None,
            }
        }
        Some(Self { pretty, unknown_data_policy, objects, rule, update_mask })
    }

    /// Writes the rule as `crate::rule_to_graph` writes it decoded; None without a rule.
    pub(crate) fn write(self, policy: Policy, max_depth: usize) -> Option<Result<ToGraph, Error>> {
        let rule = self.rule?;
        let tree = Tree::new(self.objects);
        let mask = self.update_mask.as_deref();
        Some(rule_view_to_graph(&tree.views()[rule], mask, policy, self.pretty, max_depth))
    }
}

fn room(len: usize, bytes_each: usize) -> usize {
    (len / bytes_each).min(MAX_RESERVED)
}

/// The Graph objects of a request, read from their encoding: a record of each, and their
/// values, in arenas.
struct Objects<'a> {
    objects: Vec<Object>,
    /// Every object's property values, in the order of its type's properties.
    values: Vec<Held<'a>>,
    /// The items of every flags property.
    numbers: Vec<i32>,
    /// The items of every collection of strings.
    strings: Vec<String>,
    timestamps: Vec<Timestamp>,
    durations: Vec<Duration>,
    /// Every collection of complex values: its items' range of `items`.
    lists: Vec<Range<usize>>,
    /// The items (objects) of all collections, each collection's together.
    items: Vec<usize>,
    /// The items of the collections being read, nested ones above those around them.
    pending: Vec<usize>,
    /// Every object's additional_data that has some.
    maps: Vec<AdditionalData>,
}

/// One object: its type (None: a polymorphic value with no case set), where its values begin,
/// and its additional_data.
struct Object {
    info: Option<&'static TypeInfo>,
    hierarchy: Option<&'static Hierarchy>,
    values: usize,
    additional_data: Option<usize>,
}

/// One property's value, as `Value` without the borrow of the arenas (indices into them). Its
/// kind is the property's: a value the encoding does not hold is `Unset`, its kind's default.
#[derive(Clone, Copy)]
enum Held<'a> {
    Unset,
    /// Items `start..end` of `numbers`.
    Flags(usize, usize),
    Enum(i32),
    String(&'a str),
    /// Items `start..end` of `strings`.
    Strings(usize, usize),
    Bool(bool),
    Timestamp(usize),
    Duration(usize),
    Object(usize),
    /// One of `lists`.
    Objects(usize),
}

impl<'a> Objects<'a> {
    /// Arenas sized from the request's length for objects as callers write them (about 8 bytes
    /// and one or two values each), so that a usual request is not regrown; bounded, as one
    /// value can be as long as the request.
    fn with_room(len: usize) -> Self {
        Self {
            objects: Vec::with_capacity(room(len, 8)),
            values: Vec::with_capacity(room(len, 6)),
            numbers: Vec::with_capacity(room(len, 4)),
            strings: Vec::new(),
            timestamps: Vec::new(),
            durations: Vec::new(),
            lists: Vec::new(),
            items: Vec::new(),
            pending: Vec::new(),
            maps: Vec::new(),
        }
    }

    /// Reads an encoded object of the type `info`; its index.
    fn plain(&mut self, info: &'static TypeInfo, bytes: &'a [u8]) -> Option<usize> {
        let object = self.objects.len();
        self.objects.push(Object { info: Some(info), hierarchy: None, values: 0, additional_data: None });
        self.members(object, info, info.additional_data, bytes)?;
        Some(object)
    }

    /// Reads an encoded polymorphic value of `hierarchy`; its index.
    fn polymorphic(&mut self, hierarchy: &'static Hierarchy, mut bytes: &'a [u8]) -> Option<usize> {
        let object = self.objects.len();
        self.objects.push(Object { info: None, hierarchy: Some(hierarchy), values: 0, additional_data: None });
        while !bytes.is_empty() {
            let (number, LEN) = field(&mut bytes)? else { return None };
            let encoded = len_delimited(&mut bytes)?;
            if number == hierarchy.additional_data {
                self.map_entry(object, encoded)?;
                continue;
            }
            // An unknown type's case is no case here: prost reads it.
            let case = hierarchy.case(number)?;
            if self.objects[object].info.replace(case).is_some() {
                return None; // prost merges a case set twice
            }
            self.members(object, case, 0, encoded)?;
        }
        Some(object)
    }

    /// Reads a complex value. No Graph type holds itself (the testkit's schema walker would not
    /// end), so this nests no deeper than the schema does.
    fn complex(&mut self, complex: Complex, bytes: &'a [u8]) -> Option<usize> {
        match complex {
            Complex::Type(info) => self.plain(info, bytes),
            Complex::Polymorphic(hierarchy) => self.polymorphic(hierarchy, bytes),
        }
    }

    /// Reads the encoded members of `object`, of the type `info`, whose additional_data is field
    /// `additional_data` (0: none).
    fn members(
        &mut self,
        object: usize,
        info: &'static TypeInfo,
        additional_data: u32,
        mut bytes: &'a [u8],
    ) -> Option<()> {
        let first = self.values.len();
        self.objects[object].values = first;
        self.values.resize(first + info.properties.len(), Held::Unset);
        // The collection whose items are being read (its property, where its items start in
        // `pending`): encoders write a collection's items one after another.
        let mut run: Option<(usize, usize)> = None;
        while !bytes.is_empty() {
            let (number, wire_type) = field(&mut bytes)?;
            let index = if number == additional_data { None } else { Some(property_index(info, number)?) };
            if let Some((collection, start)) = run
                && index != Some(collection)
            {
                self.end_collection(first + collection, start);
                run = None;
            }
            let Some(index) = index else {
                if wire_type != LEN {
                    return None;
                }
                let entry = len_delimited(&mut bytes)?;
                self.map_entry(object, entry)?;
                continue;
            };
            let property = &info.properties[index];
            if let (PropertyKind::Objects, LEN) = (property.kind, wire_type) {
                // Items of a collection already ended (others in between) are prost's to merge.
                if run.is_none() {
                    let Held::Unset = self.values[first + index] else { return None };
                    run = Some((index, self.pending.len()));
                }
                let item = self.complex(property.complex?, len_delimited(&mut bytes)?)?;
                self.pending.push(item);
                continue;
            }
            let held = match (self.values[first + index], property.kind, wire_type) {
                (held, PropertyKind::Flags(_), LEN | VARINT) => {
                    let start = items_start(held, self.numbers.len())?;
                    if wire_type == LEN {
                        let mut packed = len_delimited(&mut bytes)?;
                        while !packed.is_empty() {
                            self.numbers.push(decode_varint(&mut packed).ok()? as i32);
                        }
                    } else {
                        self.numbers.push(decode_varint(&mut bytes).ok()? as i32);
                    }
                    Held::Flags(start, self.numbers.len())
                }
                (_, PropertyKind::Enum(_), VARINT) => Held::Enum(decode_varint(&mut bytes).ok()? as i32),
                (_, PropertyKind::String, LEN) => Held::String(utf8(len_delimited(&mut bytes)?)?),
                (held, PropertyKind::Strings, LEN) => {
                    let start = items_start(held, self.strings.len())?;
                    self.strings.push(utf8(len_delimited(&mut bytes)?)?.to_owned());
                    Held::Strings(start, self.strings.len())
                }
                (_, PropertyKind::Bool, VARINT) => Held::Bool(decode_varint(&mut bytes).ok()? != 0),
                // prost merges a message field set twice.
                (Held::Unset, PropertyKind::Timestamp, LEN) => {
                    let (seconds, nanos) = seconds_nanos(len_delimited(&mut bytes)?)?;
                    self.timestamps.push(Timestamp { seconds, nanos });
                    Held::Timestamp(self.timestamps.len() - 1)
                }
                (Held::Unset, PropertyKind::Duration, LEN) => {
                    let (seconds, nanos) = seconds_nanos(len_delimited(&mut bytes)?)?;
                    self.durations.push(Duration { seconds, nanos });
                    Held::Duration(self.durations.len() - 1)
                }
                (Held::Unset, PropertyKind::Object, LEN) => {
                    Held::Object(self.complex(property.complex?, len_delimited(&mut bytes)?)?)
                }
                // Another wire type (an error, or prost's to read), or a repeated field's items
                // with another field's in between.
                _ => return None,
            };
            self.values[first + index] = held;
        }
        if let Some((collection, start)) = run {
            self.end_collection(first + collection, start);
        }
        Some(())
    }

    /// Moves the items read from `pending[start..]` to `items`, as the collection held by
    /// `values[value]`.
    fn end_collection(&mut self, value: usize, start: usize) {
        let from = self.items.len();
        self.items.extend(self.pending.drain(start..));
        self.lists.push(from..self.items.len());
        self.values[value] = Held::Objects(self.lists.len() - 1);
    }

    /// Reads one encoded additional_data entry (key 1, value 2) of `object`.
    fn map_entry(&mut self, object: usize, mut bytes: &'a [u8]) -> Option<()> {
        let (mut key, mut value) = ("", "");
        while !bytes.is_empty() {
            match field(&mut bytes)? {
                (1, LEN) => key = utf8(len_delimited(&mut bytes)?)?,
                (2, LEN) => value = utf8(len_delimited(&mut bytes)?)?,
                _ => return None,
            }
        }
        let map = *self.objects[object].additional_data.get_or_insert_with(|| {
            self.maps.push(BTreeMap::new());
            self.maps.len() - 1
        });
        self.maps[map].insert(key.to_owned(), value.to_owned());
        Some(())
    }
}

/// A FromGraphRequest or RuleFromGraphRequest read from its encoding, its JSON borrowed.
pub(crate) struct EncodedJson<'a> {
    pub json: &'a str,
    pub unknown_data_policy: i32,
}

impl<'a> EncodedJson<'a> {
    /// Reads the encoded request (json 1, unknown_data_policy 2); None if prost is to decode it.
    pub(crate) fn read(mut bytes: &'a [u8]) -> Option<Self> {
        let mut request = Self { json: "", unknown_data_policy: 0 };
        while !bytes.is_empty() {
            match field(&mut bytes)? {
                (1, LEN) => request.json = utf8(len_delimited(&mut bytes)?)?,
                (2, VARINT) => request.unknown_data_policy = decode_varint(&mut bytes).ok()? as i32,
                _ => return None,
            }
        }
        Some(request)
    }
}

/// Where a repeated scalar field's items start in their arena, now `len` long: its first item
/// starts them, a further one continues them; None if other items came between (prost's to
/// merge).
fn items_start(held: Held<'_>, len: usize) -> Option<usize> {
    match held {
        Held::Unset => Some(len),
        Held::Flags(start, end) | Held::Strings(start, end) if end == len => Some(start),
        _ => None,
    }
}

/// The index of the property of field `number`: properties are numbered from 1 in order, unless
/// the schema says otherwise.
fn property_index(info: &TypeInfo, number: u32) -> Option<usize> {
    let guess = (number as usize).wrapping_sub(1);
    match info.properties.get(guess) {
        Some(property) if property.number == number => Some(guess),
        _ => info.properties.iter().position(|p| p.number == number),
    }
}

/// The next field's number and wire type; None where prost would fail.
fn field(bytes: &mut &[u8]) -> Option<(u32, u64)> {
    let key = decode_varint(bytes).ok()?;
    let number = u32::try_from(key >> 3).ok().filter(|&n| n > 0)?;
    Some((number, key & 7))
}

/// The bytes of a length-delimited field's value.
fn len_delimited<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(decode_varint(bytes).ok()?).ok()?;
    let value = bytes.get(..len)?;
    *bytes = &bytes[len..];
    Some(value)
}

fn utf8(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}

/// An encoded google.protobuf.Timestamp or Duration (seconds 1, nanos 2).
fn seconds_nanos(mut bytes: &[u8]) -> Option<(i64, i32)> {
    let (mut seconds, mut nanos) = (0, 0);
    while !bytes.is_empty() {
        match field(&mut bytes)? {
            (1, VARINT) => seconds = decode_varint(&mut bytes).ok()? as i64,
            (2, VARINT) => nanos = decode_varint(&mut bytes).ok()? as i32,
            _ => return None,
        }
    }
    Some((seconds, nanos))
}

/// An encoded google.protobuf.FieldMask (paths 1).
fn field_mask(mut bytes: &[u8]) -> Option<Vec<String>> {
    let mut paths = Vec::new();
    while !bytes.is_empty() {
        let (1, LEN) = field(&mut bytes)? else { return None };
        paths.push(utf8(len_delimited(&mut bytes)?)?.to_owned());
    }
    Some(paths)
}

/// The objects read, with a view of each (and of each collection) for the writer. A view
/// reaches the others through the tree, so they are made once the tree is in place.
struct Tree<'t> {
    objects: Objects<'t>,
    views: OnceLock<Vec<View<'t>>>,
    lists: OnceLock<Vec<ListView<'t>>>,
}

impl<'t> Tree<'t> {
    fn new(objects: Objects<'t>) -> Self {
        Self { objects, views: OnceLock::new(), lists: OnceLock::new() }
    }

    fn views(&'t self) -> &'t [View<'t>] {
        self.views.get_or_init(|| (0..self.objects.objects.len()).map(|object| View { tree: self, object }).collect())
    }

    fn lists(&'t self) -> &'t [ListView<'t>] {
        self.lists.get_or_init(|| (0..self.objects.lists.len()).map(|list| ListView { tree: self, list }).collect())
    }

    /// About the size of all additional_data, as the writer sizes its output.
    fn additional_data_bytes(&self) -> usize {
        self.objects.maps.iter().flatten().map(|(k, v)| k.len() + v.len() + 4).sum()
    }
}

/// One object of a `Tree`, as the writer reads it.
struct View<'t> {
    tree: &'t Tree<'t>,
    object: usize,
}

impl View<'_> {
    fn record(&self) -> &Object {
        &self.tree.objects.objects[self.object]
    }
}

impl GraphView for View<'_> {
    fn shape(&self) -> Shape<'_> {
        self.record().info.map_or(Shape::Unset, Shape::Known)
    }

    fn value(&self, index: usize) -> Value<'_> {
        let tree = self.tree;
        let objects = &tree.objects;
        let record = self.record();
        let info = record.info.expect("an unset case has no properties");
        match (objects.values[record.values + index], info.properties[index].kind) {
            (Held::Flags(start, end), PropertyKind::Flags(schema)) => {
                Value::Flags(schema, &objects.numbers[start..end])
            }
            (Held::Unset, PropertyKind::Flags(schema)) => Value::Flags(schema, &[]),
            (Held::Enum(number), PropertyKind::Enum(schema)) => Value::Enum(schema, number),
            (Held::Unset, PropertyKind::Enum(schema)) => Value::Enum(schema, 0),
            (Held::String(text), _) => Value::String(text),
            (Held::Unset, PropertyKind::String) => Value::String(""),
            (Held::Strings(start, end), _) => Value::Strings(&objects.strings[start..end]),
            (Held::Unset, PropertyKind::Strings) => Value::Strings(&[]),
            (Held::Bool(value), _) => Value::Bool(Some(value)),
            (Held::Unset, PropertyKind::Bool) => Value::Bool(None),
            (Held::Timestamp(at), _) => Value::Timestamp(Some(&objects.timestamps[at])),
            (Held::Unset, PropertyKind::Timestamp) => Value::Timestamp(None),
            (Held::Duration(at), _) => Value::Duration(Some(&objects.durations[at])),
            (Held::Unset, PropertyKind::Duration) => Value::Duration(None),
            (Held::Object(at), _) => Value::Object(Some(&tree.views()[at] as &dyn GraphView)),
            (Held::Unset, PropertyKind::Object) => Value::Object(None),
            (Held::Objects(list), _) => Value::Objects(&tree.lists()[list]),
            (Held::Unset, PropertyKind::Objects) => Value::Objects(&NO_ITEMS as &dyn ViewList),
            _ => unreachable!("values are held as their property's kind"),
        }
    }

    fn additional_data(&self) -> &AdditionalData {
        self.record().additional_data.map_or(&NO_ADDITIONAL_DATA, |map| &self.tree.objects.maps[map])
    }

    fn hierarchy(&self) -> Option<&'static Hierarchy> {
        self.record().hierarchy
    }
}

/// One collection of complex values of a `Tree`.
struct ListView<'t> {
    tree: &'t Tree<'t>,
    list: usize,
}

impl ViewList for ListView<'_> {
    fn len(&self) -> usize {
        self.tree.objects.lists[self.list].len()
    }

    fn get(&self, index: usize) -> &dyn GraphView {
        let objects = &self.tree.objects;
        &self.tree.views()[objects.items[objects.lists[self.list].start + index]]
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_types::FieldMask;

    use super::*;
    use crate::{
        DEFAULT_MAX_DEPTH,
        pb::{
            DetectionAction, FromGraphRequest, OrganizationalScope, RuleToGraphRequest, ToGraphRequest,
            UnknownResponseAction, response_action::Action as Case,
        },
        schema::{EnumSchema, GraphObject, Slot},
    };

    /// One action of every known type, every property set (flags with two members).
    fn every_type() -> Vec<ResponseAction> {
        let mut actions = Vec::new();
        for (name, _, info) in ResponseAction::HIERARCHY.known {
            let mut action = ResponseAction::default();
            assert!(action.select(name));
            for index in 0..info.properties.len() {
                match action.slot(index) {
                    Slot::Flags(schema, field) => *field = writable(schema).take(2).collect(),
                    Slot::Enum(schema, field) => *field = writable(schema).last().unwrap(),
                    Slot::String(field) => *field = "é\"x".into(),
                    Slot::Strings(field) => *field = vec!["a".into(), String::new()],
                    Slot::Bool(field) => *field = Some(true),
                    _ => unreachable!("actions hold no complex values nor instants"),
                }
            }
            actions.push(action);
        }
        actions
    }

    fn writable(schema: &EnumSchema) -> impl Iterator<Item = i32> {
        schema.members.iter().filter(|m| !m.is_sentinel()).map(|m| m.number)
    }

    fn request(actions: Vec<ResponseAction>) -> Vec<u8> {
        ToGraphRequest { actions, pretty: true, unknown_data_policy: 2 }.encode_to_vec()
    }

    /// Reads `bytes` in place, and asserts the same answer as the decoded request's.
    fn read_as_decoded(bytes: &[u8]) -> Result<ToGraph, Error> {
        let encoded = EncodedToGraph::read(bytes).expect("read in place");
        let decoded = ToGraphRequest::decode(bytes).unwrap();
        assert_eq!((encoded.pretty, encoded.unknown_data_policy), (decoded.pretty, decoded.unknown_data_policy));
        let written = encoded.write(Policy::Preserve, DEFAULT_MAX_DEPTH);
        assert_eq!(written, crate::to_graph(&decoded.actions, Policy::Preserve, decoded.pretty, DEFAULT_MAX_DEPTH));
        written
    }

    #[test]
    fn every_action_type_and_property_is_read_in_place() {
        let actions = every_type();
        assert_eq!(actions.len(), ResponseAction::HIERARCHY.cases.len());
        assert!(read_as_decoded(&request(actions)).is_ok());
    }

    #[test]
    fn invalid_values_are_refused_as_when_decoded() {
        // No case, an unspecified enum, a number no member has: the writer's violations.
        let mut actions = every_type();
        actions.push(ResponseAction::default());
        let isolate = actions.iter_mut().find_map(|a| match &mut a.action {
            Some(Case::IsolateDevice(isolate)) => Some(isolate),
            _ => None,
        });
        let isolate = isolate.unwrap();
        isolate.isolation_type = 0;
        isolate.identifier = vec![42];
        assert!(read_as_decoded(&request(actions)).is_err());
    }

    #[test]
    fn rules_as_graph_sends_them_are_read_in_place() {
        // Nested and polymorphic objects, collections, instants, durations, additional_data.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/rules");
        for file in ["old-get.json", "new-get.json", "list.json"] {
            let json = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
            let read = crate::rules_from_graph(&json, Policy::Preserve, DEFAULT_MAX_DEPTH).unwrap();
            let present = (!read.present.is_empty()).then(|| FieldMask { paths: read.present.clone() });
            for (rule, update_mask) in read.rules.into_iter().flat_map(|r| [(r.clone(), None), (r, present.clone())]) {
                let request =
                    RuleToGraphRequest { rule: Some(rule), update_mask, pretty: false, unknown_data_policy: 0 };
                let bytes = request.encode_to_vec();
                let encoded = EncodedRuleToGraph::read(&bytes).unwrap_or_else(|| panic!("{file}: read in place"));
                let written = encoded.write(Policy::Preserve, DEFAULT_MAX_DEPTH).expect("a rule");
                let mask = request.update_mask.as_ref().map(|m| &m.paths[..]);
                let rule = request.rule.as_ref().unwrap();
                let decoded = crate::rule_to_graph(rule, mask, Policy::Preserve, false, DEFAULT_MAX_DEPTH);
                assert_eq!(written, decoded, "{file}");
                assert!(written.is_ok(), "{file}");
            }
        }
    }

    #[test]
    fn items_unpacked_or_repeated_are_read_as_prost_reads_them() {
        // isolateDevice (case 7): identifier (1) as an unpacked item, then a packed one after
        // isolationType (2), which comes twice: the last one counts.
        let inner = [0x08, 0x01, 0x10, 0x02, 0x0a, 0x01, 0x02, 0x10, 0x01];
        let action = [&[0x3a, inner.len() as u8][..], &inner].concat();
        let bytes = [&[0x0a, action.len() as u8][..], &action, &[0x10, 0x01, 0x10, 0x00]].concat();
        // Identifier 2 is the sentinel: refused alike.
        assert!(read_as_decoded(&bytes).is_err());
        let encoded = EncodedToGraph::read(&bytes).unwrap();
        assert!(!encoded.pretty);
        assert_eq!(encoded.objects.numbers, [1, 2]);
    }

    #[test]
    fn a_collection_is_read_in_place_when_its_items_come_together() {
        // A rule whose detection action (field 8) holds two response actions (field 4) and an
        // organizational scope (field 3): the items together, then split by the scope.
        let item = |action: ResponseAction| DetectionAction { response_actions: vec![action], ..Default::default() };
        let [first, second] = [item(every_type().remove(0)), item(every_type().remove(1))].map(|a| a.encode_to_vec());
        let scope = OrganizationalScope { device_groups: vec!["g".into()], ..Default::default() };
        let scope = DetectionAction { organizational_scope: Some(scope), ..Default::default() }.encode_to_vec();
        let request = |detection_action: Vec<u8>| {
            let rule = [&[0x42], &encode_len(detection_action.len())[..], &detection_action].concat();
            [&[0x0a], &encode_len(rule.len())[..], &rule].concat()
        };
        let together = request([&first[..], &second, &scope].concat());
        let encoded = EncodedRuleToGraph::read(&together).expect("read in place");
        let decoded = RuleToGraphRequest::decode(&together[..]).unwrap();
        let rule = decoded.rule.as_ref().unwrap();
        assert_eq!(rule.detection_action.as_ref().unwrap().response_actions.len(), 2);
        let written = encoded.write(Policy::Preserve, DEFAULT_MAX_DEPTH).expect("a rule");
        assert_eq!(written, crate::rule_to_graph(rule, None, Policy::Preserve, false, DEFAULT_MAX_DEPTH));
        // prost merges the items around the scope into one collection: left to it.
        let split = request([&first[..], &scope, &second].concat());
        assert!(EncodedRuleToGraph::read(&split).is_none());
    }

    fn encode_len(len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        prost::encoding::encode_varint(len as u64, &mut out);
        out
    }

    #[test]
    fn an_additional_data_key_set_twice_keeps_its_last_value_as_prost_does() {
        let entry = |value: u8| [0xc2, 0x0c, 0x06, 0x0a, 0x01, b'x', 0x12, 0x01, value];
        let action = [&[0x3a, 0x04, 0x08, 0x01, 0x10, 0x01][..], &entry(b'1'), &entry(b'2')].concat();
        let bytes = [&[0x0a, action.len() as u8][..], &action].concat();
        let written = read_as_decoded(&bytes).unwrap();
        assert!(written.json.ends_with(r#""x":2}]"#), "{}", written.json);
    }

    #[test]
    fn json_is_read_where_it_lies_as_prost_reads_it() {
        let request = FromGraphRequest { json: "[{\"é\":1}]".into(), unknown_data_policy: 3 };
        let bytes = request.encode_to_vec();
        let encoded = EncodedJson::read(&bytes).expect("read in place");
        assert_eq!((encoded.json, encoded.unknown_data_policy), (&request.json[..], 3));
        assert_eq!(encoded.json.as_ptr(), bytes[2..].as_ptr(), "borrowed, not copied");
        // Fields repeated: the last one counts; none: the defaults.
        let twice = [bytes.clone(), FromGraphRequest { json: "[]".into(), ..request }.encode_to_vec()].concat();
        assert_eq!(EncodedJson::read(&twice).map(|r| r.json), Some("[]"));
        assert_eq!(EncodedJson::read(&[]).map(|r| (r.json, r.unknown_data_policy)), Some(("", 0)));
        for (what, bytes) in [
            ("invalid UTF-8", vec![0x0a, 0x01, 0xff]),
            ("a field this build does not know", vec![0x18, 0x01]),
            ("a wrong wire type", vec![0x08, 0x01]),
            ("a length past the end", vec![0x0a, 0x02, b'[']),
        ] {
            assert!(EncodedJson::read(&bytes).is_none(), "{what}");
        }
    }

    #[test]
    fn what_prost_merges_skips_or_refuses_is_left_to_prost() {
        let isolate = [0x3a, 0x02, 0x10, 0x01];
        let action = |inner: &[u8]| [&[0x0a, inner.len() as u8][..], inner].concat();
        let unknown = ResponseAction {
            action: Some(Case::Unknown(UnknownResponseAction { odata_type: "microsoft.graph.x".into() })),
            ..Default::default()
        };
        for (what, bytes) in [
            ("a case set twice", action(&[isolate, isolate].concat())),
            ("an unknown type", request(vec![unknown])),
            ("a field this build does not know", action(&[0x3a, 0x02, 0x18, 0x01])),
            ("a top-level field this build does not know", vec![0x20, 0x01]),
            ("field number 0", vec![0x02, 0x00]),
            ("a wrong wire type", action(&[0x3a, 0x02, 0x12, 0x00])),
            ("invalid UTF-8", action(&[0x8a, 0x01, 0x03, 0x0a, 0x01, 0xff])),
            ("a length past the end", vec![0x0a, 0x05, 0x3a]),
            ("a varint past the end", vec![0x10, 0x80]),
        ] {
            assert!(EncodedToGraph::read(&bytes).is_none(), "{what}");
        }
        for (what, bytes) in [
            ("a rule set twice", vec![0x0a, 0x00, 0x0a, 0x00]),
            // createdDateTime (10) of the rule, twice.
            ("a message field set twice", vec![0x0a, 0x06, 0x52, 0x02, 0x08, 0x01, 0x52, 0x00]),
            ("an update mask set twice", vec![0x12, 0x00, 0x12, 0x00]),
            ("a field of a timestamp this build does not know", vec![0x0a, 0x04, 0x52, 0x02, 0x18, 0x01]),
            ("a field of an update mask this build does not know", vec![0x12, 0x02, 0x10, 0x01]),
        ] {
            assert!(EncodedRuleToGraph::read(&bytes).is_none(), "{what}");
        }
    }
}
