//! OData JSON around Graph's properties: `@odata.type` and the type names in it, annotations,
//! and the collection envelope of a list of rules (`value`, `@odata.context`, `@odata.nextLink`).
//! The reader and the writer both go through here, so both agree on what each member is.

use super::{
    json::{Scanner, SyntaxError},
    path::Tail,
    reader::Reader,
    report::Policy,
    source::Source,
};
use crate::{
    pb::DetectionRule,
    schema::{AdditionalData, Complex, GraphType, PropertyInfo, PropertyKind},
};

/// The annotation naming the type of a polymorphic value.
pub const ODATA_TYPE: &str = "@odata.type";

/// Why an `@odata.type` value names no type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadTypeName {
    Empty,
    MoreThanOneHash,
}

/// The namespace-qualified type name in an `@odata.type` value. Graph writes a '#' before it;
/// Microsoft's docs sometimes omit it.
pub fn type_name(odata_type: &str) -> Result<&str, BadTypeName> {
    match odata_type.strip_prefix('#').unwrap_or(odata_type) {
        "" => Err(BadTypeName::Empty),
        name if name.starts_with('#') => Err(BadTypeName::MoreThanOneHash),
        name => Ok(name),
    }
}

/// The `@odata.type` value of the type `qualified_name`, as Graph writes it.
pub fn type_value(qualified_name: &str) -> String {
    ["#", qualified_name].concat()
}

/// Control information and annotations (`@odata.context`, `@odata.etag`, `name@odata.type`):
/// not properties, kept verbatim wherever they are, never reported as unknown.
pub fn is_annotation(key: &str) -> bool {
    key.contains('@')
}

/// An annotation of the object itself (`@odata.context`), not of one of its properties
/// (`name@odata.type`): written before the properties, as Graph does.
pub fn annotates_object(key: &str) -> bool {
    key.starts_with('@')
}

const VALUE: &str = "value";
const CONTEXT: &str = "@odata.context";
const NEXT_LINK: &str = "@odata.nextLink";

/// An OData collection envelope's members other than `value`.
#[derive(Debug, Default, PartialEq)]
pub struct Collection {
    pub context: String,
    pub next_link: String,
    /// Its other members, as raw JSON text.
    pub other: AdditionalData,
}

/// The `value` member of an OData collection, as a step of a path: RuleFromGraphResponse.rules.
static COLLECTION_VALUE: PropertyInfo = PropertyInfo {
    graph_name: VALUE,
    proto_name: "rules",
    number: 1,
    required: false,
    complex: Some(Complex::Type(&<DetectionRule as GraphType>::INFO)),
    kind: PropertyKind::Objects,
};

/// What RuleFromGraph's top-level object is as an OData collection, read beside reading it as a
/// rule for as long as it can be one: a `value` array beside nothing but annotations (a rule with
/// a property named `value` stays a rule).
pub struct Envelope {
    /// Reads the rules in `value`, with a report of its own: one of the two readings is dropped.
    reader: Reader,
    rules: Vec<DetectionRule>,
    collection: Collection,
    has_value: bool,
}

impl Envelope {
    pub fn new(policy: Policy) -> Self {
        let reader = Reader::new(policy, "rules");
        Self { reader, rules: Vec::new(), collection: Collection::default(), has_value: false }
    }

    /// Reads the top-level member `key` at the scanner as a member of the envelope; false, with
    /// nothing read, if no collection has such a member.
    pub fn member(&mut self, key: &str, s: &mut Scanner<'_>) -> Result<bool, SyntaxError> {
        let text = match key {
            VALUE if s.peek() == Some(b'[') => {
                self.has_value = true;
                self.reader.path.push_property(&COLLECTION_VALUE, "");
                self.reader.items(s, 2, &mut self.rules)?;
                self.reader.path.pop();
                return Ok(true);
            }
            CONTEXT => &mut self.collection.context,
            NEXT_LINK => &mut self.collection.next_link,
            _ if is_annotation(key) => {
                let raw = s.value(2)?;
                self.collection.other.insert(key.to_owned(), raw.text.to_owned());
                return Ok(true);
            }
            _ => return Ok(false),
        };
        match s.string_or_value(2)? {
            Ok(value) => *text = value.into_owned(),
            Err(other) => {
                let found = other.json_type();
                self.reader.violation(self.reader.pointer(Tail::Key(key)), format!("must be a string, found {found}"));
            }
        }
        Ok(true)
    }

    /// The collection's reader (its report), rules and envelope, if the object was one.
    pub fn finish(self) -> Option<(Reader, Vec<DetectionRule>, Collection)> {
        self.has_value.then_some((self.reader, self.rules, self.collection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_name_takes_at_most_one_hash() {
        let names = ["#a.b", "a.b", "#", "", "##a.b", "#a#b"];
        let parsed: Vec<_> = names.iter().map(|name| type_name(name)).collect();
        use BadTypeName::*;
        assert_eq!(parsed, [Ok("a.b"), Ok("a.b"), Err(Empty), Err(Empty), Err(MoreThanOneHash), Ok("a#b")]);
        assert_eq!(type_value("a.b"), "#a.b");
    }

    #[test]
    fn a_rule_has_no_property_an_envelope_has() {
        // The envelope reads only members that are no property of a rule (see `Reader::rule`).
        for key in [VALUE, CONTEXT, NEXT_LINK] {
            assert!(DetectionRule::INFO.find(key).is_none(), "{key}");
        }
    }
}
