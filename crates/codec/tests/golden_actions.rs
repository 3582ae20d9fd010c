//! Golden tests of the response actions, driven by the schema tables: every type, every property,
//! every enum member, both ways. A type added to proto/ is walked here without a new test.
//! `schema_matches_graph` pins the tables themselves to the Graph facts of
//! `tests/fixtures/graph-facts.json`, transcribed by hand.

use graphbridge_codec::{
    self as codec, Policy,
    pb::{ResponseAction, UnknownDataKind, response_action::Action},
    schema::{ENUMS, GraphType, PropertyKind, Slot, TypeVisitor},
};
use graphbridge_testkit::{
    DEPTH,
    facts::{TypeFacts, graph_facts},
    schema::{response_actions, sentinel, writable},
};
use serde_json::{Value as Json, json};

/// Runs `check` for every known type.
fn for_each_type(check: impl Fn(&str) -> Option<()>) {
    assert_eq!(Action::KNOWN_TYPES.len(), 30, "16 seed types and 14 incident-task subtypes");
    for name in Action::KNOWN_TYPES {
        check(name).unwrap_or_else(|| panic!("{name} is listed but not dispatched"));
    }
}

fn write(actions: Vec<ResponseAction>) -> Result<String, codec::Error> {
    codec::to_graph(&actions, Policy::Preserve, false, DEPTH).map(|w| w.json)
}

fn read(json: &str) -> codec::FromGraph {
    codec::from_graph(json, Policy::Preserve, DEPTH).unwrap_or_else(|e| panic!("{json}: {e}"))
}

fn action(case: Action) -> ResponseAction {
    ResponseAction { action: Some(case), additional_data: Default::default() }
}

/// The first writable member of each property: the smallest valid message of a type.
fn minimal<M: GraphType>() -> M {
    let mut message = M::default();
    for property in M::PROPERTIES {
        match (property.get_mut)(&mut message) {
            Slot::Flags(schema, field) => field.push(schema.members[0].number),
            Slot::Enum(schema, field) => *field = schema.members[0].number,
            Slot::Strings(field) => field.push("group 1".into()),
            Slot::String(field) => *field = "value 1".into(),
            _ => unreachable!("response actions hold only enums and strings"),
        }
    }
    message
}

/// The expected Graph JSON of `minimal::<M>()`, built from the names alone.
fn minimal_json<M: GraphType>() -> serde_json::Map<String, Json> {
    let mut object = serde_json::Map::new();
    object.insert("@odata.type".into(), json!(format!("#microsoft.graph.security.{}", M::GRAPH_NAME)));
    for property in M::PROPERTIES {
        let value = match property.kind {
            PropertyKind::Flags(schema) | PropertyKind::Enum(schema) => json!(schema.members[0].graph_name),
            PropertyKind::Strings => json!(["group 1"]),
            PropertyKind::String => json!("value 1"),
            _ => unreachable!("response actions hold only enums and strings"),
        };
        object.insert(property.graph_name.into(), value);
    }
    object
}

struct EveryMemberBothWays;

impl TypeVisitor for EveryMemberBothWays {
    type Output = ();

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) {
        let base_json = minimal_json::<M>();
        for (index, property) in M::PROPERTIES.iter().enumerate() {
            let variants: Vec<(M, Json)> = match property.kind {
                PropertyKind::Flags(schema) => {
                    let mut variants: Vec<(M, Json)> = writable(schema)
                        .map(|member| {
                            let mut message = minimal::<M>();
                            if let Slot::Flags(_, field) = (M::PROPERTIES[index].get_mut)(&mut message) {
                                *field = vec![member.number];
                            }
                            (message, json!(member.graph_name))
                        })
                        .collect();
                    // All members at once, given in reverse: written once each, in bit order.
                    let mut message = minimal::<M>();
                    if let Slot::Flags(_, field) = (M::PROPERTIES[index].get_mut)(&mut message) {
                        *field = writable(schema).rev().map(|m| m.number).collect();
                    }
                    let joined: Vec<&str> = writable(schema).map(|m| m.graph_name).collect();
                    variants.push((message, json!(joined.join(","))));
                    variants
                }
                PropertyKind::Enum(schema) => writable(schema)
                    .map(|member| {
                        let mut message = minimal::<M>();
                        if let Slot::Enum(_, field) = (M::PROPERTIES[index].get_mut)(&mut message) {
                            *field = member.number;
                        }
                        (message, json!(member.graph_name))
                    })
                    .collect(),
                PropertyKind::Strings => vec![(minimal::<M>(), json!(["group 1"]))],
                PropertyKind::String => vec![(minimal::<M>(), json!("value 1"))],
                _ => unreachable!("response actions hold only enums and strings"),
            };
            for (message, value) in variants {
                let mut expected = base_json.clone();
                expected.insert(property.graph_name.into(), value);
                let written = write(vec![action(wrap(message))]).expect("valid message");
                assert!(written.starts_with(&format!("[{{\"@odata.type\":\"{}\"", M::ODATA_TYPE)), "{written}");
                let parsed: Json = serde_json::from_str(&written).expect("valid JSON");
                assert_eq!(parsed, json!([expected]), "{}.{}", M::GRAPH_NAME, property.graph_name);

                let back = read(&written);
                assert!(back.unknown_data.is_empty(), "{:?}", back.unknown_data);
                let written_again = write(back.actions).expect("read back is valid");
                assert_eq!(written_again, written, "FromGraph -> ToGraph of {written}");
            }
        }
    }
}

#[test]
fn every_type_and_every_member_both_ways() {
    for_each_type(|name| Action::with_type(name, EveryMemberBothWays));
}

struct SentinelAndUnspecified;

impl TypeVisitor for SentinelAndUnspecified {
    type Output = ();

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) {
        for property in M::PROPERTIES {
            let (PropertyKind::Flags(schema) | PropertyKind::Enum(schema)) = property.kind else {
                continue;
            };
            let sentinel = sentinel(schema);
            let path = format!("actions[0].{}.{}", M::CASE_NAME, property.proto_name);
            for (number, expected_field, words) in
                [(sentinel.number, &path, "sentinel"), (0, &path, schema.unspecified)]
            {
                let mut message = minimal::<M>();
                match (property.get_mut)(&mut message) {
                    Slot::Flags(_, field) => *field = vec![number],
                    Slot::Enum(_, field) => *field = number,
                    _ => unreachable!("only enums have members"),
                }
                let Err(codec::Error::Invalid(violations)) = write(vec![action(wrap(message))]) else {
                    panic!("{path} = {number} was written");
                };
                let field = &violations[0].field;
                assert!(field.starts_with(expected_field.as_str()), "{field}");
                assert!(violations[0].description.contains(words), "{violations:?}");
            }

            // Graph's sentinel is read as unknown data, kept raw, so it round-trips.
            let mut object = minimal_json::<M>();
            object.insert(property.graph_name.into(), json!(sentinel.graph_name));
            let input = json!([object]).to_string();
            let read = read(&input);
            assert_eq!(read.unknown_data.len(), 1);
            assert_eq!(read.unknown_data[0].kind(), UnknownDataKind::EnumMember);
            assert_eq!(read.unknown_data[0].pointer, format!("/0/{}", property.graph_name));
            assert_eq!(read.actions[0].additional_data[property.graph_name], format!("\"{}\"", sentinel.graph_name));
            let written: Json = serde_json::from_str(&write(read.actions).unwrap()).unwrap();
            assert_eq!(written, serde_json::from_str::<Json>(&input).unwrap());
        }
    }
}

#[test]
fn sentinel_and_unspecified_are_refused_on_write_and_sentinel_is_kept_on_read() {
    for_each_type(|name| Action::with_type(name, SentinelAndUnspecified));
}

struct RequiredProperties;

impl TypeVisitor for RequiredProperties {
    type Output = ();

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) {
        let required: Vec<String> = M::PROPERTIES
            .iter()
            .filter(|p| p.required)
            .map(|p| format!("actions[0].{}.{}", M::CASE_NAME, p.proto_name))
            .collect();
        let Err(codec::Error::Invalid(violations)) = write(vec![action(wrap(M::default()))]) else {
            panic!("empty {} was written", M::GRAPH_NAME);
        };
        let fields: Vec<String> = violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, required, "all missing required properties are reported at once");
    }
}

#[test]
fn every_missing_required_property_is_reported() {
    for_each_type(|name| Action::with_type(name, RequiredProperties));
}

/// The response actions (properties in schema order) and every enum (members in schema order)
/// are the Graph facts: an oracle independent of proto/.
#[test]
fn schema_matches_graph() {
    let facts = graph_facts();
    let actual: Vec<TypeFacts> = response_actions().iter().map(|(_, node)| TypeFacts::of(node)).collect();
    let mut expected = facts.response_actions;
    expected.sort();
    assert_eq!(expected.len(), 30, "16 seed types and 14 incident-task subtypes");
    assert_eq!(actual, expected);

    let mut actual: Vec<(&str, Vec<&str>)> =
        ENUMS.iter().map(|e| (e.graph_name, e.members.iter().map(|m| m.graph_name).collect())).collect();
    actual.sort();
    let mut expected: Vec<(&str, Vec<&str>)> = facts
        .enums
        .iter()
        .map(|(name, members)| (name.as_str(), members.iter().map(String::as_str).collect()))
        .collect();
    expected.sort();
    assert_eq!(actual, expected);
}

/// README.md's first example, byte for byte both ways.
#[test]
fn the_readme_example_is_exact() {
    let input = r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full"}]"##;
    let read = read(input);
    assert_eq!(write(read.actions).unwrap(), input);
}
