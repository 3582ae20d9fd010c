//! Property tests of the response actions:
//! - proto -> Graph JSON -> proto is the identity for valid messages;
//! - Graph JSON with arbitrary unknown properties, types and enum members -> proto -> Graph JSON
//!   keeps every property and value (numbers to the last digit);
//! - DROP reports exactly what PRESERVE keeps, and REJECT refuses exactly that.
//!
//! The generators are driven by the schema tables, so new types are covered without new code.

use std::collections::BTreeMap;

use graphbridge_codec::{
    self as codec, Policy,
    pb::{ResponseAction, UnknownResponseAction, response_action::Action},
    schema::{GraphType, Slot, TypeVisitor},
};
use graphbridge_testkit::{
    DEPTH,
    json::minified,
    schema::{Holds, TypeNode, response_actions, writable},
};
use proptest::{collection::vec, prelude::*, sample::select};
use serde_json::{Value as Json, value::RawValue};

/// Any JSON value as text, with the number forms that lose digits in other parsers.
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        "-?(0|[1-9][0-9]{0,40})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?",
        any::<String>().prop_map(|s| Json::String(s).to_string()),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::btree_map(any::<String>(), inner, 0..4).prop_map(|members| {
                let members: Vec<String> =
                    members.into_iter().map(|(k, v)| format!("{}:{v}", Json::String(k))).collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

/// Property names no known type declares.
fn unknown_key() -> impl Strategy<Value = String> {
    let known: Vec<&str> =
        response_actions().iter().flat_map(|(_, t)| t.info.properties.iter().map(|p| p.graph_name)).collect();
    any::<String>().prop_filter("not a known property", move |k| k != "@odata.type" && !known.contains(&k.as_str()))
}

fn extra_properties() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map(unknown_key(), json_text(), 0..4)
}

/// A known property's Graph JSON value: mostly known members, sometimes members from the future.
fn property_value(holds: &'static Holds) -> BoxedStrategy<String> {
    let future = "[a-zA-Z]{1,12}".prop_filter("unknown", |s| s != "deviceId");
    let names = |schema| writable(schema).map(|m| m.graph_name).collect::<Vec<&'static str>>();
    match *holds {
        Holds::Flags(schema) => {
            let members = names(schema);
            prop_oneof![
                3 => proptest::sample::subsequence(members.clone(), 1..=members.len()).prop_map(|m| Json::String(m.join(",")).to_string()),
                1 => (proptest::sample::subsequence(members, 0..=1), future).prop_map(|(mut m, f)| {
                    let mut tokens: Vec<String> = m.drain(..).map(String::from).collect();
                    tokens.push(f);
                    Json::String(tokens.join(",")).to_string()
                }),
            ]
            .boxed()
        }
        Holds::Enum(schema) => prop_oneof![
            3 => select(names(schema)).prop_map(|m| Json::String(m.into()).to_string()),
            1 => future.prop_map(|f| Json::String(f).to_string()),
        ]
        .boxed(),
        Holds::Strings => vec(any::<String>(), 0..4).prop_map(|v| Json::from(v).to_string()).boxed(),
        Holds::String => any::<String>().prop_map(|v| Json::from(v).to_string()).boxed(),
        _ => unreachable!("response actions hold only enums and strings"),
    }
}

/// One Graph action object as text: a known type (with or without '#') or an unknown type.
fn graph_action() -> impl Strategy<Value = String> {
    let types: Vec<&'static (&'static str, TypeNode)> = response_actions().iter().collect();
    let known = select(types).prop_flat_map(|(qualified_name, node)| {
        let values: Vec<_> = node.holds.iter().map(property_value).collect();
        (Just(*qualified_name), Just(node), values, extra_properties(), any::<bool>())
    });
    let known = known.prop_map(|(qualified_name, node, values, extra, hash)| {
        let mut members = vec![format!("\"@odata.type\":\"{}{qualified_name}\"", if hash { "#" } else { "" })];
        members
            .extend(node.info.properties.iter().zip(values).map(|(p, value)| format!("\"{}\":{value}", p.graph_name)));
        members.extend(extra.into_iter().map(|(k, v)| format!("{}:{v}", Json::String(k))));
        format!("{{{}}}", members.join(","))
    });
    let unknown =
        ("microsoft\\.graph\\.security\\.[a-z][a-zA-Z]{0,20}Action", extra_properties()).prop_map(|(name, extra)| {
            let mut members = vec![format!("\"@odata.type\":\"#{name}\"")];
            members.extend(extra.into_iter().map(|(k, v)| format!("{}:{v}", Json::String(k))));
            format!("{{{}}}", members.join(","))
        });
    prop_oneof![4 => known, 1 => unknown]
}

/// Builds a valid proto action of a known type from generated choices.
struct Build<'a> {
    choices: &'a [(Vec<bool>, Vec<String>)],
}

impl TypeVisitor for Build<'_> {
    type Output = Action;

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) -> Action {
        let mut message = M::default();
        for (property, (bits, strings)) in M::PROPERTIES.iter().zip(self.choices) {
            match (property.get_mut)(&mut message) {
                Slot::Flags(schema, field) => {
                    // Canonical: member order, each once, at least one; never the sentinel.
                    field.extend(writable(schema).zip(bits).filter(|(_, on)| **on).map(|(m, _)| m.number));
                    if field.is_empty() {
                        field.push(schema.members[0].number);
                    }
                }
                Slot::Enum(schema, field) => *field = schema.members[bits.iter().filter(|b| **b).count() % 2].number,
                Slot::Strings(field) => *field = strings.clone(),
                // Never empty: an empty string is an unset one, and identifierValue is required.
                Slot::String(field) => *field = format!("v{}", strings.concat()),
                _ => unreachable!("response actions hold only enums and strings"),
            }
        }
        wrap(message)
    }
}

fn proto_action() -> impl Strategy<Value = ResponseAction> {
    let known = (select(Action::KNOWN_TYPES), vec((vec(any::<bool>(), 8), vec(any::<String>(), 0..3)), 2))
        .prop_map(|(name, choices)| Action::with_type(name, Build { choices: &choices }).expect("known"));
    let unknown = "microsoft\\.graph\\.[a-zA-Z.]{1,30}"
        .prop_filter("not known", |n| !Action::KNOWN_TYPES.contains(&n.as_str()))
        .prop_map(|odata_type| Action::Unknown(UnknownResponseAction { odata_type }));
    (prop_oneof![4 => known, 1 => unknown], extra_properties())
        .prop_map(|(action, additional_data)| ResponseAction { action: Some(action), additional_data })
}

type RawObject = BTreeMap<String, Box<RawValue>>;

/// Asserts that `output` holds the same actions as `input`: unknown data byte for byte, known
/// properties by value (their formatting is canonicalized), `@odata.type` always with its '#'.
fn assert_same_graph_json(output: &str, input: &str) -> Result<(), TestCaseError> {
    let parse = |text: &str| serde_json::from_str::<Vec<RawObject>>(text).expect("an array of objects");
    let (output, input) = (parse(output), parse(input));
    prop_assert_eq!(output.len(), input.len());
    let known = ["identifier", "isolationType", "deviceGroupNames"];
    for (out, expected) in output.iter().zip(&input) {
        prop_assert_eq!(out.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
        for (key, value) in expected {
            let (got, want) = (out[key].get(), value.get());
            if key == "@odata.type" {
                prop_assert_eq!(got.replacen("\"#", "\"", 1), want.replacen("\"#", "\"", 1));
            } else if known.contains(&key.as_str()) {
                prop_assert_eq!(
                    serde_json::from_str::<Json>(got).unwrap(),
                    serde_json::from_str::<Json>(want).unwrap()
                );
            } else {
                prop_assert_eq!(got, want, "unknown property {} must be kept byte for byte", key);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn proto_to_graph_to_proto_is_identity(actions in vec(proto_action(), 0..6)) {
        let written = codec::to_graph(&actions, Policy::Preserve, false, DEPTH).expect("valid actions");
        let read = codec::from_graph(&written.json, Policy::Preserve, DEPTH).expect("own output reads");
        prop_assert_eq!(read.actions, actions);
    }

    #[test]
    fn graph_to_proto_to_graph_keeps_every_property(actions in vec(graph_action(), 0..6)) {
        let input = format!("[{}]", actions.join(","));
        let read = codec::from_graph(&input, Policy::Preserve, DEPTH).expect("Graph JSON reads");
        let written = codec::to_graph(&read.actions, Policy::Preserve, false, DEPTH).expect("read actions write");
        assert_same_graph_json(&written.json, &input)?;
        let pretty = codec::to_graph(&read.actions, Policy::Preserve, true, DEPTH).expect("read actions write");
        prop_assert_eq!(minified(&pretty.json), written.json);
    }

    #[test]
    fn drop_reports_exactly_what_preserve_keeps(actions in vec(graph_action(), 0..6)) {
        let input = format!("[{}]", actions.join(","));
        let kept = codec::from_graph(&input, Policy::Preserve, DEPTH).expect("reads");
        let dropped = codec::from_graph(&input, Policy::Drop, DEPTH).expect("reads");
        let pointers = |r: &codec::FromGraph| r.unknown_data.iter().map(|u| u.pointer.clone()).collect::<Vec<_>>();
        prop_assert_eq!(pointers(&kept), pointers(&dropped));
        prop_assert!(dropped.actions.iter().all(|a| !matches!(a.action, Some(Action::Unknown(_)))));
        let rejected = codec::from_graph(&input, Policy::Reject, DEPTH);
        let unknown = kept.unknown_data.iter().filter(|u| u.kind() != graphbridge_codec::pb::UnknownDataKind::RawValue).count();
        match rejected {
            Ok(_) => prop_assert_eq!(unknown, 0),
            Err(codec::Error::Invalid(violations)) => prop_assert_eq!(violations.len(), unknown),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}
