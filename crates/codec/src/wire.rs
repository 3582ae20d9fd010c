//! Requests read from their protobuf encoding, in place. ToGraph's actions are views of their
//! bytes that the writer reads like messages, so the request is never decoded into messages (nor
//! dropped): under load that decoding cost more than writing the JSON (BENCHMARKS.md §11).
//! FromGraph's and RuleFromGraph's JSON is read where it lies, not copied out first.
//!
//! Only what a caller's protobuf library writes for the fields is read here: anything else (a
//! field this build does not expect, a oneof case set twice, additional_data, an unknown type, a
//! complex value, anything malformed) makes `read` return None, and the request is then decoded
//! with prost. The two paths hand the codec the same values, so they answer alike.

use std::collections::BTreeMap;

use prost::encoding::decode_varint;

use crate::{
    Error, Policy, ToGraph,
    pb::ResponseAction,
    schema::{AdditionalData, GraphView, Hierarchy, PropertyKind, Shape, TypeInfo, Value},
    writer::actions_to_graph,
};

/// ToGraphRequest's field numbers.
const ACTIONS: u32 = 1;
const PRETTY: u32 = 2;
const UNKNOWN_DATA_POLICY: u32 = 3;

/// FromGraphRequest's and RuleFromGraphRequest's field numbers.
const JSON: u32 = 1;
const JSON_UNKNOWN_DATA_POLICY: u32 = 2;

/// protobuf wire types.
const VARINT: u64 = 0;
const LEN: u64 = 2;

/// The most items reserved at once from the request's length.
const MAX_RESERVED: usize = 1024;

/// Every view's additional_data: a request with any is read by prost.
static NO_ADDITIONAL_DATA: AdditionalData = BTreeMap::new();

/// A ToGraphRequest read from its encoding.
pub(crate) struct EncodedToGraph<'a> {
    pub pretty: bool,
    pub unknown_data_policy: i32,
    hierarchy: &'static Hierarchy,
    actions: Vec<Action>,
    /// Every property's value, action by action.
    values: Vec<Held<'a>>,
    /// The items of every flags property.
    numbers: Vec<i32>,
    /// The items of every collection of strings.
    strings: Vec<String>,
}

/// One action: its type (None if no case is set) and where its values are.
struct Action {
    info: Option<&'static TypeInfo>,
    values: usize,
}

/// One property's value, as `Value` without the borrow of the arenas.
#[derive(Clone, Copy)]
enum Held<'a> {
    /// Items `start..end` of `numbers`.
    Flags(usize, usize),
    Enum(i32),
    String(&'a str),
    /// Items `start..end` of `strings`.
    Strings(usize, usize),
    Bool(Option<bool>),
}

impl<'a> EncodedToGraph<'a> {
    /// Reads an encoded ToGraphRequest; None if prost is to decode it.
    pub(crate) fn read(mut bytes: &'a [u8]) -> Option<Self> {
        let hierarchy = ResponseAction::default().hierarchy().expect("ResponseAction is polymorphic");
        // Sized from the length for actions as callers write them (about 8 bytes and one or two
        // values each), so that a usual request is not regrown; bounded, as one action can be
        // as long as the request.
        let room = |bytes_each: usize| (bytes.len() / bytes_each).min(MAX_RESERVED);
        let mut request = Self {
            pretty: false,
            unknown_data_policy: 0,
            hierarchy,
            actions: Vec::with_capacity(room(8)),
            values: Vec::with_capacity(room(6)),
            numbers: Vec::with_capacity(room(4)),
            strings: Vec::new(),
        };
        while !bytes.is_empty() {
            match field(&mut bytes)? {
                (ACTIONS, LEN) => {
                    let action = len_delimited(&mut bytes)?;
                    request.action(action)?;
                }
                (PRETTY, VARINT) => request.pretty = decode_varint(&mut bytes).ok()? != 0,
                (UNKNOWN_DATA_POLICY, VARINT) => request.unknown_data_policy = decode_varint(&mut bytes).ok()? as i32,
                _ => return None,
            }
        }
        Some(request)
    }

    /// Reads one encoded ResponseAction.
    fn action(&mut self, mut bytes: &'a [u8]) -> Option<()> {
        let values = self.values.len();
        let mut info = None;
        while !bytes.is_empty() {
            let (number, LEN) = field(&mut bytes)? else { return None };
            let case = self.hierarchy.case(number)?;
            if info.replace(case).is_some() {
                return None; // prost merges a case set twice
            }
            let encoded = len_delimited(&mut bytes)?;
            self.object(case, encoded)?;
        }
        self.actions.push(Action { info, values });
        Some(())
    }

    /// Reads the encoded message of the Graph type `info` into `values`.
    fn object(&mut self, info: &'static TypeInfo, mut bytes: &'a [u8]) -> Option<()> {
        let first = self.values.len();
        for property in info.properties {
            self.values.push(match property.kind {
                PropertyKind::Flags(_) => Held::Flags(self.numbers.len(), self.numbers.len()),
                PropertyKind::Enum(_) => Held::Enum(0),
                PropertyKind::String => Held::String(""),
                PropertyKind::Strings => Held::Strings(self.strings.len(), self.strings.len()),
                PropertyKind::Bool => Held::Bool(None),
                PropertyKind::Timestamp | PropertyKind::Duration | PropertyKind::Object | PropertyKind::Objects => {
                    return None;
                }
            });
        }
        while !bytes.is_empty() {
            let (number, wire_type) = field(&mut bytes)?;
            let index = info.properties.iter().position(|p| p.number == number)?;
            let held = &mut self.values[first + index];
            match (*held, wire_type) {
                (Held::Flags(start, end), LEN) if end == self.numbers.len() => {
                    let mut packed = len_delimited(&mut bytes)?;
                    while !packed.is_empty() {
                        self.numbers.push(decode_varint(&mut packed).ok()? as i32);
                    }
                    *held = Held::Flags(start, self.numbers.len());
                }
                (Held::Flags(start, end), VARINT) if end == self.numbers.len() => {
                    self.numbers.push(decode_varint(&mut bytes).ok()? as i32);
                    *held = Held::Flags(start, end + 1);
                }
                (Held::Enum(_), VARINT) => *held = Held::Enum(decode_varint(&mut bytes).ok()? as i32),
                (Held::String(_), LEN) => *held = Held::String(std::str::from_utf8(len_delimited(&mut bytes)?).ok()?),
                (Held::Strings(start, end), LEN) if end == self.strings.len() => {
                    let text = std::str::from_utf8(len_delimited(&mut bytes)?).ok()?;
                    self.strings.push(text.to_owned());
                    *held = Held::Strings(start, end + 1);
                }
                (Held::Bool(_), VARINT) => *held = Held::Bool(Some(decode_varint(&mut bytes).ok()? != 0)),
                // Another wire type (an error, or prost's to read), or a repeated field's items
                // with another field's in between.
                _ => return None,
            }
        }
        Some(())
    }

    /// Writes the actions as `crate::to_graph` writes them decoded.
    pub(crate) fn to_graph(&self, policy: Policy, max_depth: usize) -> Result<ToGraph, Error> {
        let views: Vec<View<'_>> = (0..self.actions.len()).map(|index| View { request: self, index }).collect();
        actions_to_graph(views.len(), |i| &views[i], 0, policy, self.pretty, max_depth)
    }
}

/// A FromGraphRequest or RuleFromGraphRequest read from its encoding, its JSON borrowed.
pub(crate) struct EncodedJson<'a> {
    pub json: &'a str,
    pub unknown_data_policy: i32,
}

impl<'a> EncodedJson<'a> {
    /// Reads the encoded request; None if prost is to decode it.
    pub(crate) fn read(mut bytes: &'a [u8]) -> Option<Self> {
        let mut request = Self { json: "", unknown_data_policy: 0 };
        while !bytes.is_empty() {
            match field(&mut bytes)? {
                (JSON, LEN) => request.json = std::str::from_utf8(len_delimited(&mut bytes)?).ok()?,
                (JSON_UNKNOWN_DATA_POLICY, VARINT) => {
                    request.unknown_data_policy = decode_varint(&mut bytes).ok()? as i32;
                }
                _ => return None,
            }
        }
        Some(request)
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

/// One action of an `EncodedToGraph`, as the writer reads it.
struct View<'r> {
    request: &'r EncodedToGraph<'r>,
    index: usize,
}

impl GraphView for View<'_> {
    fn shape(&self) -> Shape<'_> {
        self.request.actions[self.index].info.map_or(Shape::Unset, Shape::Known)
    }

    fn value(&self, index: usize) -> Value<'_> {
        let request = self.request;
        let action = &request.actions[self.index];
        let info = action.info.expect("an unset case has no properties");
        match (request.values[action.values + index], info.properties[index].kind) {
            (Held::Flags(start, end), PropertyKind::Flags(schema)) => {
                Value::Flags(schema, &request.numbers[start..end])
            }
            (Held::Enum(number), PropertyKind::Enum(schema)) => Value::Enum(schema, number),
            (Held::String(text), _) => Value::String(text),
            (Held::Strings(start, end), _) => Value::Strings(&request.strings[start..end]),
            (Held::Bool(value), _) => Value::Bool(value),
            _ => unreachable!("values are held as their property's kind"),
        }
    }

    fn additional_data(&self) -> &AdditionalData {
        &NO_ADDITIONAL_DATA
    }

    fn hierarchy(&self) -> Option<&'static Hierarchy> {
        Some(self.request.hierarchy)
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::{
        DEFAULT_MAX_DEPTH,
        pb::{FromGraphRequest, ToGraphRequest, UnknownResponseAction, response_action::Action as Case},
        schema::{EnumSchema, GraphObject, Slot},
    };

    /// One action of every known type, every property set (flags with two members).
    fn every_type() -> Vec<ResponseAction> {
        let hierarchy = ResponseAction::default().hierarchy().unwrap();
        let mut actions = Vec::new();
        for (name, info) in hierarchy.known {
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
    fn read_as_decoded(bytes: &[u8]) -> EncodedToGraph<'_> {
        let encoded = EncodedToGraph::read(bytes).expect("read in place");
        let decoded = ToGraphRequest::decode(bytes).unwrap();
        assert_eq!((encoded.pretty, encoded.unknown_data_policy), (decoded.pretty, decoded.unknown_data_policy));
        assert_eq!(
            encoded.to_graph(Policy::Preserve, DEFAULT_MAX_DEPTH),
            crate::to_graph(&decoded.actions, Policy::Preserve, decoded.pretty, DEFAULT_MAX_DEPTH)
        );
        encoded
    }

    #[test]
    fn every_action_type_and_property_is_read_in_place() {
        let actions = every_type();
        assert_eq!(actions.len(), ResponseAction::default().hierarchy().unwrap().cases.len());
        let bytes = request(actions);
        let encoded = read_as_decoded(&bytes);
        assert!(encoded.to_graph(Policy::Preserve, DEFAULT_MAX_DEPTH).is_ok());
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
        let bytes = request(actions);
        let encoded = read_as_decoded(&bytes);
        assert!(encoded.to_graph(Policy::Preserve, DEFAULT_MAX_DEPTH).is_err());
    }

    #[test]
    fn items_unpacked_or_repeated_are_read_as_prost_reads_them() {
        // isolateDevice (case 7): identifier (1) as an unpacked item, then a packed one after
        // isolationType (2), which comes twice: the last one counts.
        let inner = [0x08, 0x01, 0x10, 0x02, 0x0a, 0x01, 0x02, 0x10, 0x01];
        let action = [&[0x3a, inner.len() as u8][..], &inner].concat();
        let bytes = [&[0x0a, action.len() as u8][..], &action, &[0x10, 0x01, 0x10, 0x00]].concat();
        let encoded = read_as_decoded(&bytes);
        assert!(!encoded.pretty);
        assert_eq!(encoded.numbers, [1, 2]);
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
        let with_data = ResponseAction {
            additional_data: [("x".to_owned(), "1".to_owned())].into(),
            ..every_type().swap_remove(0)
        };
        let unknown = ResponseAction {
            action: Some(Case::Unknown(UnknownResponseAction { odata_type: "microsoft.graph.x".into() })),
            ..Default::default()
        };
        for (what, bytes) in [
            ("a case set twice", action(&[isolate, isolate].concat())),
            ("additional_data", request(vec![with_data])),
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
    }
}
