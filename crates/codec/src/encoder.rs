//! The protobuf encoding of what the reader reads, written as it reads (a `Target`): FromGraph's
//! and RuleFromGraph's answers without a message tree built, encoded and dropped per call.
//!
//! It writes what prost writes for the messages the reader would fill, byte for byte: fields in
//! field-number order, map entries in key order, proto3 defaults left out. Each nested message
//! gets a one-byte length, widened when it is closed if it must be; an object left out (an
//! unknown type dropped, a collection with a null item) is cut off the end again.

use std::ops::Range;

use prost::encoding::{WireType, encode_varint, encoded_len_varint};
use prost_types::{Duration, Timestamp};

use crate::{
    schema::{Complex, Hierarchy, PropertyInfo, PropertyKind, Shape, Slot, TypeInfo},
    target::{Items, Target},
};

/// Room for the messages open at once (a rule's nest 6 deep) and their fields.
const OPEN_MESSAGES: usize = 8;
const OPEN_FIELDS: usize = 32;

/// Writes a response's repeated message field (FromGraph's actions, RuleFromGraph's rules) item
/// by item, as the reader reads them.
pub struct Encoder {
    out: Vec<u8>,
    /// The messages being written, innermost last.
    frames: Vec<Frame>,
    /// The field number and start of every field written in the open messages, by message.
    fields: Vec<(u32, usize)>,
    /// The additional_data entries of the open messages, by message: key and value in `text`.
    kept: Vec<(Range<usize>, Range<usize>)>,
    text: String,
    /// Scalar values as the reader reads them, before they are written.
    scratch: Scratch,
    /// The response's field holding the items, and their type.
    field: u32,
    item: Complex,
    items: usize,
}

/// One message being written.
struct Frame {
    /// Its field number in the message around it.
    number: u32,
    /// Where its tag starts, and where its content starts (after its one-byte length).
    header: usize,
    content: usize,
    /// Its Graph type; `None` for a polymorphic value's wrapper.
    info: Option<&'static TypeInfo>,
    hierarchy: Option<&'static Hierarchy>,
    /// A polymorphic value's case: its properties are the case's, its unknown data the wrapper's.
    case: bool,
    additional_data: u32,
    /// Where its fields start in `Encoder::fields`, and its additional_data in `Encoder::kept`.
    fields: usize,
    kept: usize,
    /// The properties holding a value (the schema's types have at most 64).
    set: u64,
    /// The collection property being read.
    list: Option<List>,
}

/// Where a collection property's items start, to empty it again.
#[derive(Clone, Copy)]
struct List {
    index: usize,
    out: usize,
    fields: usize,
    items: usize,
}

#[derive(Default)]
struct Scratch {
    numbers: Vec<i32>,
    number: i32,
    strings: Vec<String>,
    string: String,
    boolean: Option<bool>,
    timestamp: Option<Timestamp>,
    duration: Option<Duration>,
}

impl Encoder {
    /// Items of type `item` in the response's repeated field `field`, read from `json_len` bytes
    /// of JSON.
    pub fn new(field: u32, item: Complex, json_len: usize) -> Self {
        Self {
            // Sized once: the encoding is about as long as the JSON or shorter (names become
            // field numbers), and regrowing from nothing by doubling would allocate again and
            // again for each small answer.
            out: Vec::with_capacity(json_len),
            frames: Vec::with_capacity(OPEN_MESSAGES),
            fields: Vec::with_capacity(OPEN_FIELDS),
            kept: Vec::new(),
            text: String::new(),
            scratch: Scratch::default(),
            field,
            item,
            items: 0,
        }
    }

    /// The encoding written so far, to which the response's other fields are appended.
    pub fn into_bytes(self) -> Vec<u8> {
        debug_assert!(self.frames.is_empty(), "every message is closed");
        self.out
    }

    fn top(&self) -> &Frame {
        self.frames.last().expect("a message is open")
    }

    fn top_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a message is open")
    }

    fn property(&self, index: usize) -> &'static PropertyInfo {
        let info = self.top().info.expect("a typed message");
        &info.properties[index]
    }

    /// Opens a message of type `complex` as field `number` of the open one (or of the response).
    fn open(&mut self, number: u32, complex: Complex) {
        let (info, hierarchy, additional_data) = match complex {
            Complex::Type(info) => (Some(info), None, info.additional_data),
            Complex::Polymorphic(hierarchy) => (None, Some(hierarchy), hierarchy.additional_data),
        };
        self.open_frame(number, info, hierarchy, additional_data, false);
    }

    fn open_frame(
        &mut self,
        number: u32,
        info: Option<&'static TypeInfo>,
        hierarchy: Option<&'static Hierarchy>,
        additional_data: u32,
        case: bool,
    ) {
        let header = self.out.len();
        put_key(number, WireType::LengthDelimited, &mut self.out);
        self.out.push(0);
        let (fields, kept, content) = (self.fields.len(), self.kept.len(), self.out.len());
        self.frames.push(Frame {
            number,
            header,
            content,
            info,
            hierarchy,
            case,
            additional_data,
            fields,
            kept,
            set: 0,
            list: None,
        });
    }

    /// Closes the innermost value opened by `open` (a polymorphic value's case with it), keeping
    /// it or cutting it off.
    fn close(&mut self, keep: bool) {
        let frame = self.frames.pop().expect("a message is open");
        if frame.case {
            self.close_frame(&frame, keep);
            let wrapper = self.frames.pop().expect("a case is in its wrapper");
            self.close_frame(&wrapper, keep);
        } else {
            self.close_frame(&frame, keep);
        }
    }

    fn close_frame(&mut self, frame: &Frame, keep: bool) {
        if !keep {
            self.out.truncate(frame.header);
            self.fields.truncate(frame.fields);
            if !frame.case {
                self.kept.truncate(frame.kept);
            }
            return;
        }
        // A case's unknown data is its wrapper's, written with the wrapper's fields.
        if !frame.case {
            self.write_kept(frame);
        }
        self.in_field_order(frame.fields);
        let len = self.out.len() - frame.content;
        if len < 0x80 {
            self.out[frame.content - 1] = len as u8;
        } else {
            let mut prefix = [0; 10];
            let mut rest = &mut prefix[..];
            encode_varint(len as u64, &mut rest);
            let written = 10 - rest.len();
            self.out.splice(frame.content - 1..frame.content, prefix[..written].iter().copied());
        }
        if !self.frames.is_empty() {
            self.fields.push((frame.number, frame.header));
        }
    }

    /// Writes the additional_data entries of `frame` as prost writes a map: by key, each once.
    fn write_kept(&mut self, frame: &Frame) {
        let mut kept = self.kept.split_off(frame.kept);
        if kept.is_empty() {
            return;
        }
        let text = &self.text;
        kept.sort_by(|(a, _), (b, _)| text[a.clone()].cmp(&text[b.clone()]));
        for (i, (key, value)) in kept.iter().enumerate() {
            if kept.get(i + 1).is_some_and(|(next, _)| text[next.clone()] == text[key.clone()]) {
                continue; // a later value for the key replaces it, as in a map
            }
            let (key, value) = (&text[key.clone()], &text[value.clone()]);
            self.fields.push((frame.additional_data, self.out.len()));
            put_key(frame.additional_data, WireType::LengthDelimited, &mut self.out);
            put_varint((string_len(1, key) + string_len(2, value)) as u64, &mut self.out);
            for (number, text) in [(1, key), (2, value)] {
                if !text.is_empty() {
                    write_string(number, text, &mut self.out);
                }
            }
        }
        if self.kept.is_empty() {
            self.text.clear();
        }
    }

    /// Puts the fields written since `first` (the open message's) in field-number order, as
    /// prost writes them, when the JSON held them in another order.
    fn in_field_order(&mut self, first: usize) {
        let fields = &mut self.fields[first..];
        if fields.is_sorted_by_key(|(number, _)| *number) {
            self.fields.truncate(first);
            return;
        }
        let end = self.out.len();
        let mut spans: Vec<(u32, Range<usize>)> = fields
            .iter()
            .enumerate()
            .map(|(i, &(number, start))| (number, start..fields.get(i + 1).map_or(end, |&(_, next)| next)))
            .collect();
        spans.sort_by_key(|(number, _)| *number); // stable: a collection's items keep their order
        let start = spans.iter().map(|(_, span)| span.start).min().expect("a field");
        let mut ordered = Vec::with_capacity(end - start);
        for (_, span) in &spans {
            ordered.extend_from_slice(&self.out[span.clone()]);
        }
        self.out[start..].copy_from_slice(&ordered);
        self.fields.truncate(first);
    }

    /// Writes the scalar just read into property `index`'s slot.
    fn write_scalar(&mut self, index: usize) {
        let property = self.property(index);
        let number = property.number;
        let scratch = &self.scratch;
        let out = &mut self.out;
        let start = out.len();
        match property.kind {
            PropertyKind::Flags(_) if !scratch.numbers.is_empty() => {
                let len: usize = scratch.numbers.iter().map(|&n| encoded_len_varint(n as u64)).sum();
                put_key(number, WireType::LengthDelimited, out);
                put_varint(len as u64, out);
                for &n in &scratch.numbers {
                    put_varint(n as u64, out);
                }
            }
            PropertyKind::Enum(_) if scratch.number != 0 => {
                put_key(number, WireType::Varint, out);
                put_varint(scratch.number as u64, out);
            }
            PropertyKind::Strings => {
                for string in &scratch.strings {
                    write_string(number, string, out);
                }
            }
            PropertyKind::String if !scratch.string.is_empty() => write_string(number, &scratch.string, out),
            PropertyKind::Bool => {
                if let Some(value) = scratch.boolean {
                    put_key(number, WireType::Varint, out);
                    put_varint(u64::from(value), out);
                }
            }
            PropertyKind::Timestamp => {
                if let Some(t) = &scratch.timestamp {
                    write_seconds_nanos(number, t.seconds, t.nanos, out);
                }
            }
            PropertyKind::Duration => {
                if let Some(d) = &scratch.duration {
                    write_seconds_nanos(number, d.seconds, d.nanos, out);
                }
            }
            _ => {}
        }
        if out.len() > start {
            self.fields.push((number, start));
            self.top_mut().set |= 1 << index;
        }
    }

    fn list_mut(&mut self, index: usize) -> &mut List {
        let list = self.top_mut().list.as_mut().expect("a collection is being read");
        debug_assert_eq!(list.index, index, "the collection being read");
        list
    }
}

/// The length of a string field `number` of a message (nothing when empty, as in proto3).
fn string_len(number: u32, text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        encoded_len_varint(u64::from(number << 3)) + encoded_len_varint(text.len() as u64) + text.len()
    }
}

/// Writes a varint: inline for one byte, as most are (keys, short lengths and enum values).
#[inline]
fn put_varint(value: u64, out: &mut Vec<u8>) {
    if value < 0x80 {
        out.push(value as u8);
    } else {
        encode_varint(value, out);
    }
}

/// Writes a field's key.
#[inline]
fn put_key(number: u32, wire_type: WireType, out: &mut Vec<u8>) {
    put_varint(u64::from(number << 3 | wire_type as u32), out);
}

fn write_string(number: u32, text: &str, out: &mut Vec<u8>) {
    put_key(number, WireType::LengthDelimited, out);
    put_varint(text.len() as u64, out);
    out.extend_from_slice(text.as_bytes());
}

/// A `google.protobuf.FieldMask` of `paths`, field `number`.
pub fn write_field_mask<'p>(number: u32, paths: impl Iterator<Item = &'p str> + Clone, out: &mut Vec<u8>) {
    let len: usize = paths.clone().map(|path| 1 + encoded_len_varint(path.len() as u64) + path.len()).sum();
    put_key(number, WireType::LengthDelimited, out);
    put_varint(len as u64, out);
    for path in paths {
        write_string(1, path, out);
    }
}

/// A `google.protobuf.Timestamp` or `Duration`, field `number`.
fn write_seconds_nanos(number: u32, seconds: i64, nanos: i32, out: &mut Vec<u8>) {
    let seconds_len = if seconds != 0 { 1 + encoded_len_varint(seconds as u64) } else { 0 };
    let nanos_len = if nanos != 0 { 1 + encoded_len_varint(nanos as u64) } else { 0 };
    put_key(number, WireType::LengthDelimited, out);
    put_varint((seconds_len + nanos_len) as u64, out);
    if seconds != 0 {
        put_key(1, WireType::Varint, out);
        put_varint(seconds as u64, out);
    }
    if nanos != 0 {
        put_key(2, WireType::Varint, out);
        put_varint(nanos as u64, out);
    }
}

impl Target for Encoder {
    fn hierarchy(&self) -> Option<&'static Hierarchy> {
        self.top().hierarchy
    }

    fn shape(&self) -> Shape<'_> {
        self.top().info.map_or(Shape::Unset, Shape::Known)
    }

    fn select(&mut self, qualified_name: &str) -> bool {
        let hierarchy = self.top().hierarchy.expect("a polymorphic value");
        match hierarchy.known_case(qualified_name) {
            Some((number, info)) => {
                self.open_frame(number, Some(info), None, 0, true);
                true
            }
            None => {
                let unknown = &hierarchy.unknown;
                self.fields.push((unknown.number, self.out.len()));
                put_key(unknown.number, WireType::LengthDelimited, &mut self.out);
                put_varint(string_len(unknown.odata_type, qualified_name) as u64, &mut self.out);
                if !qualified_name.is_empty() {
                    write_string(unknown.odata_type, qualified_name, &mut self.out);
                }
                false
            }
        }
    }

    fn slot(&mut self, index: usize) -> Slot<'_> {
        let kind = self.property(index).kind;
        let scratch = &mut self.scratch;
        match kind {
            PropertyKind::Flags(schema) => {
                scratch.numbers.clear();
                Slot::Flags(schema, &mut scratch.numbers)
            }
            PropertyKind::Enum(schema) => {
                scratch.number = 0;
                Slot::Enum(schema, &mut scratch.number)
            }
            PropertyKind::Strings => {
                scratch.strings.clear();
                Slot::Strings(&mut scratch.strings)
            }
            PropertyKind::String => {
                scratch.string.clear();
                Slot::String(&mut scratch.string)
            }
            PropertyKind::Bool => {
                scratch.boolean = None;
                Slot::Bool(&mut scratch.boolean)
            }
            PropertyKind::Timestamp => {
                scratch.timestamp = None;
                Slot::Timestamp(&mut scratch.timestamp)
            }
            PropertyKind::Duration => {
                scratch.duration = None;
                Slot::Duration(&mut scratch.duration)
            }
            PropertyKind::Object | PropertyKind::Objects => unreachable!("property {index} holds objects"),
        }
    }

    fn read(&mut self, index: usize) {
        self.write_scalar(index);
    }

    fn is_set(&self, index: usize) -> bool {
        self.top().set & (1 << index) != 0
    }

    fn keep_raw(&mut self, key: &str, raw: &str) {
        // A case's unknown data is its wrapper's: kept entries belong to the innermost message
        // that is no case, which writes them.
        let start = self.text.len();
        self.text.push_str(key);
        let middle = self.text.len();
        self.text.push_str(raw);
        self.kept.push((start..middle, middle..self.text.len()));
    }

    fn object(&mut self, index: usize) -> &mut Self {
        let property = self.property(index);
        self.open(property.number, property.complex.expect("an object property has a type"));
        self
    }

    fn end_object(&mut self, index: usize, keep: bool) {
        self.close(keep);
        if keep {
            self.top_mut().set |= 1 << index;
        }
    }

    fn begin_list(&mut self, index: usize) {
        let list = List { index, out: self.out.len(), fields: self.fields.len(), items: 0 };
        self.top_mut().list = Some(list);
    }

    fn item(&mut self, index: usize) -> &mut Self {
        self.object(index)
    }

    fn end_item(&mut self, index: usize, keep: bool) {
        self.close(keep);
        if keep {
            self.list_mut(index).items += 1;
            self.top_mut().set |= 1 << index;
        }
    }

    fn items(&self, index: usize) -> usize {
        self.top().list.filter(|list| list.index == index).map_or(0, |list| list.items)
    }

    fn clear_list(&mut self, index: usize) {
        let list = *self.list_mut(index);
        self.out.truncate(list.out);
        self.fields.truncate(list.fields);
        let top = self.top_mut();
        top.list = Some(List { items: 0, ..list });
        top.set &= !(1 << index);
    }
}

impl Items for Encoder {
    type Item = Encoder;

    fn len(&self) -> usize {
        self.items
    }

    fn push(&mut self) -> &mut Encoder {
        self.open(self.field, self.item);
        self
    }

    fn end(&mut self, keep: bool) {
        self.close(keep);
        self.items += usize::from(keep);
    }

    fn reserve(&mut self, _more: usize, _first_len: usize) {
        // Sized for the whole JSON when made.
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::{
        Policy,
        pb::{FromGraphResponse, ResponseAction},
        reader::{from_graph, read_actions},
        schema::tests::every_type,
    };

    #[test]
    fn every_type_fits_the_set_of_properties_read() {
        for info in every_type() {
            assert!(info.properties.len() <= 64, "{}: the set of properties read is 64 bits", info.graph_name);
        }
    }

    /// The actions' encoding as written while reading `json`, and as prost encodes the messages.
    fn both(json: &str, policy: Policy) -> (Vec<u8>, Vec<u8>) {
        let mut encoder = Encoder::new(1, Complex::Polymorphic(&ResponseAction::HIERARCHY), json.len());
        read_actions(json, policy, 16, &mut encoder).expect("valid");
        let actions = from_graph(json, policy, 16).expect("valid").actions;
        (encoder.into_bytes(), FromGraphResponse { actions, unknown_data: Vec::new() }.encode_to_vec())
    }

    #[test]
    fn members_in_any_order_are_written_in_field_order() {
        let long = "x".repeat(300);
        let json = format!(
            r##"[{{"zeta":1,"identifier":"sha1","@odata.type":"#microsoft.graph.security.blockFileResponseAction",
                  "deviceGroupNames":["{long}"],"alpha":{{"deep":"{long}"}}}},
                 {{"@odata.type":"#microsoft.graph.security.someFutureResponseAction","b":2,"a":1}},
                 {{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","isolationType":"full",
                  "identifier":"deviceId"}}]"##
        );
        let (written, encoded) = both(&json, Policy::Preserve);
        assert_eq!(written, encoded);
        assert!(written.len() > 600, "lengths past one byte were widened: {}", written.len());
    }

    #[test]
    fn what_is_left_out_is_cut_off() {
        let json = r##"[{"@odata.type":"#microsoft.graph.security.someFutureResponseAction","b":2},
                        {"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","isolationType":"full",
                         "identifier":"deviceId"}]"##;
        let (written, encoded) = both(json, Policy::Drop);
        assert_eq!(written, encoded);
        let decoded = FromGraphResponse::decode(written.as_slice()).expect("valid");
        assert_eq!(decoded.actions.len(), 1);
    }
}
