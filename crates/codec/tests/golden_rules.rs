//! Golden tests of the whole rule model, walked from DetectionRule through the schema API: every
//! enum member of every type a rule reaches, both ways, and the walked types pinned to the Graph
//! facts of `tests/fixtures/graph-facts.json`.

use std::collections::BTreeMap;

use graphbridge_codec::{
    self as codec, Policy,
    pb::DetectionRule,
    schema::{EnumSchema, GraphObject, GraphView, PropertyKind, Shape, Slot, Value},
};
use graphbridge_testkit::{
    DEPTH,
    facts::{TypeFacts, graph_facts},
    schema::{Holds, Node, Step, reachable_from_rule, writable},
};
use serde_json::{Value as Json, json};

/// The first member Graph accepts in a request.
fn first_writable(schema: &'static EnumSchema) -> i32 {
    writable(schema).next().expect("every enum has a writable member").number
}

/// Sets every required property of `object` that is not set (recursively), to the first value
/// of its kind: the smallest object ToGraph writes.
fn fill_required(object: &mut dyn GraphObject) {
    let Shape::Known(info) = object.shape() else { panic!("fill a known type") };
    for (index, property) in info.properties.iter().enumerate() {
        if !property.required || object.value(index).is_set() {
            continue;
        }
        match object.slot(index) {
            Slot::Flags(schema, field) => field.push(first_writable(schema)),
            Slot::Enum(schema, field) => *field = first_writable(schema),
            Slot::Strings(field) => field.push("value 1".into()),
            Slot::String(field) => *field = "value 1".into(),
            Slot::Bool(field) => *field = Some(true),
            Slot::Timestamp(field) => *field = Some(prost_types::Timestamp { seconds: 0, nanos: 0 }),
            Slot::Duration(field) => *field = Some(prost_types::Duration { seconds: 3600, nanos: 0 }),
            Slot::Object(slot) => fill_required(slot.fill()),
            Slot::Objects(list) => {
                let item = list.push();
                if let Some(hierarchy) = item.hierarchy() {
                    item.select(hierarchy.known[0].0);
                }
                fill_required(item);
            }
        }
    }
}

/// The object at `path` from `object`, created (with its required properties) where absent.
fn make_path<'a>(object: &'a mut dyn GraphObject, path: &[Step]) -> &'a mut dyn GraphObject {
    let Some((step, rest)) = path.split_first() else {
        return object;
    };
    let next = match (*step, object) {
        (Step::Property(index), object) => match object.slot(index) {
            Slot::Object(slot) => slot.fill(),
            _ => panic!("{step:?} is not a complex value"),
        },
        (Step::Item(index, case), object) => match object.slot(index) {
            Slot::Objects(list) => {
                let item = list.push();
                if let Some(qualified_name) = case {
                    assert!(item.select(qualified_name));
                }
                item
            }
            _ => panic!("{step:?} is not a collection"),
        },
    };
    fill_required(next);
    make_path(next, rest)
}

/// The object at `path` from `object`, which must exist.
fn follow<'a>(object: &'a dyn GraphView, path: &[Step]) -> &'a dyn GraphView {
    let Some((step, rest)) = path.split_first() else {
        return object;
    };
    let next = match (*step, object) {
        (Step::Property(index), object) => match object.value(index) {
            Value::Object(Some(nested)) => nested,
            _ => panic!("{step:?}: no complex value"),
        },
        (Step::Item(index, _), object) => match object.value(index) {
            Value::Objects(list) if !list.is_empty() => list.get(0),
            _ => panic!("{step:?}: no item"),
        },
    };
    follow(next, rest)
}

/// Every enum and flags property of every type reachable from a rule (the rule model, both
/// action hierarchies, impacted assets), every member Graph accepts in a request, both ways:
/// written by RuleToGraph as its exact Graph name at the property's JSON pointer, and read back by
/// RuleFromGraph to the same number (and to the same rule).
#[test]
fn every_rule_type_and_every_member_both_ways() {
    let mut checked = 0;
    for reached in &reachable_from_rule() {
        let info = reached.node.info;
        for (index, property) in info.properties.iter().enumerate() {
            let (schema, flags) = match property.kind {
                PropertyKind::Flags(schema) => (schema, true),
                PropertyKind::Enum(schema) => (schema, false),
                _ => continue,
            };
            // Each member alone; for flags also all of them at once, given in reverse, which Graph
            // writes once each in member (bit) order.
            let mut variants: Vec<(Vec<i32>, String)> =
                writable(schema).map(|m| (vec![m.number], m.graph_name.to_owned())).collect();
            if flags {
                let all: Vec<&str> = writable(schema).map(|m| m.graph_name).collect();
                variants.push((writable(schema).rev().map(|m| m.number).collect(), all.join(",")));
            }
            let pointer = format!("{}/{}", reached.pointer, property.graph_name);
            let rule_with = |numbers: &[i32]| {
                let mut rule = DetectionRule::default();
                fill_required(&mut rule);
                match make_path(&mut rule, &reached.path).slot(index) {
                    Slot::Flags(_, field) => *field = numbers.to_vec(),
                    Slot::Enum(_, field) => *field = numbers[0],
                    _ => unreachable!("an enum property"),
                }
                rule
            };
            for (numbers, graph_text) in variants {
                let rule = rule_with(&numbers);
                let written = codec::rule_to_graph(&rule, None, Policy::Preserve, false, DEPTH)
                    .unwrap_or_else(|e| panic!("{pointer} = {graph_text}: {e}"));
                let parsed: Json = serde_json::from_str(&written.json).expect("valid JSON");
                assert_eq!(parsed.pointer(&pointer), Some(&json!(graph_text)), "{}", written.json);
                assert!(written.unknown_data.is_empty(), "{:?}", written.unknown_data);

                let read = codec::rules_from_graph(&written.json, Policy::Preserve, DEPTH)
                    .unwrap_or_else(|e| panic!("{}: {e}", written.json));
                assert!(read.unknown_data.is_empty(), "{pointer}: {:?}", read.unknown_data);
                let object = follow(&read.rules[0], &reached.path);
                assert!(matches!(object.shape(), Shape::Known(known) if std::ptr::eq(known, info)));
                let mut expected = numbers.clone();
                expected.sort_by_key(|n| schema.index_of_number(*n));
                match object.value(index) {
                    Value::Flags(_, read_numbers) => assert_eq!(read_numbers, expected, "{pointer}"),
                    Value::Enum(_, number) => assert_eq!(vec![number], expected, "{pointer}"),
                    _ => unreachable!("an enum property"),
                }
                assert_eq!(read.rules, [rule_with(&expected)], "{pointer} = {graph_text}");
                checked += 1;
            }
        }
    }
    // status 3, severity 5, errorCode 9 (noImpactedEntity is writable), run status 4, scopeType 1,
    // eventGroupingKind 2, asset identifiers 5 + 9 + 18, isolationType 2 on 3 types: 62; the 16
    // response actions' flags, each member and all at once: 5 x 2 + 5 + 5 + 5 x 3 + 2 x 5 + 5 + 4 = 54.
    assert_eq!(checked, 62 + 54, "members checked");
}

/// Every Graph type reachable from DetectionRule, with its properties (Graph names, Graph types,
/// required), is exactly the Graph facts' rule model and response actions; and each polymorphic
/// collection knows exactly the derived types the facts list.
#[test]
fn every_type_reachable_from_a_rule_matches_graph() {
    let reached = reachable_from_rule();
    let mut actual: Vec<TypeFacts> = reached
        .iter()
        .map(|r| {
            let info = r.node.info;
            assert_eq!(info.odata_type, format!("#microsoft.graph.security.{}", info.graph_name));
            if let Some(Step::Item(_, Some(qualified_name))) = r.path.last() {
                assert_eq!(*qualified_name, format!("microsoft.graph.security.{}", info.graph_name));
            }
            let mut facts = TypeFacts::of(r.node);
            facts.properties.sort();
            facts
        })
        .collect();
    actual.sort();

    let facts = graph_facts();
    assert_eq!(facts.rule_model.len(), 11 + 17 + 8 + 3, "rule model, entity mappings, automated actions, assets");
    let mut expected: Vec<TypeFacts> =
        facts.rule_model.into_iter().chain(facts.response_actions.iter().cloned()).collect();
    for facts in &mut expected {
        facts.properties.sort();
    }
    expected.sort();
    let names = |types: &[TypeFacts]| types.iter().map(|t| t.graph_name.clone()).collect::<Vec<_>>();
    assert_eq!(actual.len(), expected.len(), "{:?}", names(&actual));
    for (actual, expected) in actual.iter().zip(&expected) {
        assert_eq!(actual, expected);
    }

    let mut expected_derived = facts.derived_types;
    let mut response_action_names = names(&facts.response_actions);
    response_action_names.sort();
    expected_derived.insert("responseAction".to_owned(), response_action_names);
    let mut derived = BTreeMap::new();
    for r in &reached {
        for holds in &r.node.holds {
            if let Holds::Objects(items) = holds
                && let Node::Polymorphic { known, .. } = &**items
            {
                let mut names: Vec<String> = known.iter().map(|(_, node)| node.info.graph_name.to_owned()).collect();
                names.sort();
                derived.insert(items.graph_name(), names);
            }
        }
    }
    assert_eq!(derived, expected_derived);
}

/// The reader looks each member up from the index after the previous one (`find_from`): from any
/// starting index, every property of every type a rule reaches is found at its own index, and a
/// name that is no property (another type's, a changed case) is found nowhere.
#[test]
fn a_property_is_found_from_any_starting_index() {
    for reached in &reachable_from_rule() {
        let info = reached.node.info;
        for from in 0..=info.properties.len() + 1 {
            for (index, property) in info.properties.iter().enumerate() {
                assert_eq!(
                    info.find_from(property.graph_name, from),
                    Some(index),
                    "{}.{}",
                    info.graph_name,
                    property.graph_name
                );
                let recased = property.graph_name.to_uppercase();
                assert_eq!(info.find_from(&recased, from), None, "{}.{recased}", info.graph_name);
            }
            assert_eq!(info.find_from("@odata.type", from), None);
        }
    }
}
