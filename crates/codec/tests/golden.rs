//! Golden tests driven by the schema tables: every type, every property, every enum member, both
//! ways, for the response actions and for every type reachable from a detection rule. A type
//! added to proto/ is walked here without a new test. `schema_matches_graph` and
//! `every_type_reachable_from_a_rule_matches_graph` pin the tables themselves to the Graph facts
//! (graph-schema.md §2.1, §2.2, §3.1, §3.2, §5), transcribed by hand.

use std::collections::BTreeMap;

use graphbridge_codec::{
    self as codec, Policy,
    pb::{DetectionRule, ResponseAction, UnknownDataKind, response_action::Action},
    schema::{ENUMS, EnumSchema, GraphObject, GraphType, Shape, Slot, TypeInfo, TypeVisitor, Value},
};
use serde_json::{Value as Json, json};

const DEPTH: usize = codec::DEFAULT_MAX_DEPTH;

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
        let value = match (property.get_mut)(&mut M::default()) {
            Slot::Flags(schema, _) | Slot::Enum(schema, _) => json!(schema.members[0].graph_name),
            Slot::Strings(_) => json!(["group 1"]),
            Slot::String(_) => json!("value 1"),
            _ => unreachable!("response actions hold only enums and strings"),
        };
        object.insert(property.graph_name.into(), value);
    }
    object
}

fn writable(schema: &EnumSchema) -> impl DoubleEndedIterator<Item = &graphbridge_codec::schema::Member> {
    schema.members.iter().filter(|m| !m.is_sentinel())
}

struct EveryMemberBothWays;

impl TypeVisitor for EveryMemberBothWays {
    type Output = ();

    fn visit<M: GraphType>(self, wrap: fn(M) -> Action) {
        let base_json = minimal_json::<M>();
        for (index, property) in M::PROPERTIES.iter().enumerate() {
            let variants: Vec<(M, Json)> = match (property.get_mut)(&mut M::default()) {
                Slot::Flags(schema, _) => {
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
                Slot::Enum(schema, _) => writable(schema)
                    .map(|member| {
                        let mut message = minimal::<M>();
                        if let Slot::Enum(_, field) = (M::PROPERTIES[index].get_mut)(&mut message) {
                            *field = member.number;
                        }
                        (message, json!(member.graph_name))
                    })
                    .collect(),
                Slot::Strings(_) => vec![(minimal::<M>(), json!(["group 1"]))],
                Slot::String(_) => vec![(minimal::<M>(), json!("value 1"))],
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
            let (Slot::Flags(schema, _) | Slot::Enum(schema, _)) = (property.get_mut)(&mut M::default()) else {
                continue;
            };
            let sentinel = schema.members.iter().find(|m| m.is_sentinel()).expect("every Graph enum has one");
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

struct Describe;

impl TypeVisitor for Describe {
    type Output = (String, Vec<(String, String, bool)>);

    fn visit<M: GraphType>(self, _: fn(M) -> Action) -> Self::Output {
        let properties = M::PROPERTIES
            .iter()
            .map(|p| {
                let kind = match (p.get_mut)(&mut M::default()) {
                    Slot::Flags(schema, _) => format!("flags {}", schema.graph_name),
                    Slot::Enum(schema, _) => format!("enum {}", schema.graph_name),
                    Slot::Strings(_) => "Collection(Edm.String)".to_owned(),
                    Slot::String(_) => "Edm.String".to_owned(),
                    _ => unreachable!("response actions hold only enums and strings"),
                };
                (p.graph_name.to_owned(), kind, p.required)
            })
            .collect();
        (M::GRAPH_NAME.to_owned(), properties)
    }
}

/// A property as the tests describe it: Graph name, Graph type, required by ToGraph.
type PropertyFacts = (String, String, bool);

/// The response actions (graph-schema.md §2.1, §2.2), transcribed by hand: an oracle
/// independent of proto/.
fn response_action_facts() -> Vec<(&'static str, Vec<PropertyFacts>)> {
    let identifier = |e: &str| ("identifier".to_owned(), format!("flags {e}"), true);
    let groups = ("deviceGroupNames".to_owned(), "Collection(Edm.String)".to_owned(), false);
    let identifier_value = || ("identifierValue".to_owned(), "Edm.String".to_owned(), true);
    vec![
        ("allowFileResponseAction", vec![groups.clone(), identifier("fileEntityIdentifier")]),
        ("blockFileResponseAction", vec![groups, identifier("fileEntityIdentifier")]),
        ("collectInvestigationPackageResponseAction", vec![identifier("deviceIdEntityIdentifier")]),
        ("disableUserResponseAction", vec![identifier("disableUserEntityIdentifier")]),
        ("forceUserPasswordResetResponseAction", vec![identifier("forceUserPasswordResetEntityIdentifier")]),
        ("hardDeleteResponseAction", vec![identifier("emailEntityIdentifier")]),
        ("initiateInvestigationResponseAction", vec![identifier("deviceIdEntityIdentifier")]),
        (
            "isolateDeviceResponseAction",
            vec![identifier("deviceIdEntityIdentifier"), ("isolationType".into(), "enum isolationType".into(), true)],
        ),
        ("markUserAsCompromisedResponseAction", vec![identifier("markUserAsCompromisedEntityIdentifier")]),
        ("moveToDeletedItemsResponseAction", vec![identifier("emailEntityIdentifier")]),
        ("moveToInboxResponseAction", vec![identifier("emailEntityIdentifier")]),
        ("moveToJunkResponseAction", vec![identifier("emailEntityIdentifier")]),
        ("restrictAppExecutionResponseAction", vec![identifier("deviceIdEntityIdentifier")]),
        ("runAntivirusScanResponseAction", vec![identifier("deviceIdEntityIdentifier")]),
        ("softDeleteResponseAction", vec![identifier("emailEntityIdentifier")]),
        ("stopAndQuarantineFileResponseAction", vec![identifier("stopAndQuarantineFileEntityIdentifier")]),
        // The incident-task branch (§2.2): identifierValue from the abstract base, and own properties.
        ("collectInvestigationPackageIncidentTaskResponseAction", vec![identifier_value()]),
        ("disableUserIncidentTaskResponseAction", vec![identifier_value()]),
        ("enableUserIncidentTaskResponseAction", vec![identifier_value()]),
        ("forceUserPasswordResetIncidentTaskResponseAction", vec![identifier_value()]),
        ("hardDeleteEmailIncidentTaskResponseAction", vec![identifier_value()]),
        (
            "isolateDeviceIncidentTaskResponseAction",
            vec![identifier_value(), ("isolationType".into(), "enum isolationType".into(), true)],
        ),
        ("markUserAsCompromisedIncidentTaskResponseAction", vec![identifier_value()]),
        ("requireSignInIncidentTaskResponseAction", vec![identifier_value()]),
        ("restrictAppExecutionIncidentTaskResponseAction", vec![identifier_value()]),
        ("runAntivirusScanIncidentTaskResponseAction", vec![identifier_value()]),
        ("softDeleteIncidentTaskResponseAction", vec![identifier_value()]),
        (
            "stopAndQuarantineFileIncidentTaskResponseAction",
            vec![identifier_value(), ("deviceId".into(), "Edm.String".into(), false)],
        ),
        ("unIsolateDeviceIncidentTaskResponseAction", vec![identifier_value()]),
        ("unRestrictAppExecutionIncidentTaskResponseAction", vec![identifier_value()]),
    ]
}

/// The Graph facts, transcribed from graph-schema.md: an oracle independent of proto/.
#[test]
fn schema_matches_graph() {
    let expected_types = response_action_facts();
    let actual: Vec<_> = Action::KNOWN_TYPES.iter().map(|name| Action::with_type(name, Describe).unwrap()).collect();
    let mut expected: Vec<_> = expected_types.into_iter().map(|(name, props)| (name.to_owned(), props)).collect();
    expected.sort();
    assert_eq!(expected.len(), 30, "16 seed types and 14 incident-task subtypes");
    assert_eq!(actual, expected);

    let expected_enums = [
        ("deviceIdEntityIdentifier", &["deviceId", "unknownFutureValue"][..]),
        (
            "disableUserEntityIdentifier",
            &["accountSid", "initiatingProcessAccountSid", "requestAccountSid", "onPremSid", "unknownFutureValue"],
        ),
        ("emailEntityIdentifier", &["networkMessageId", "recipientEmailAddress", "unknownFutureValue"]),
        (
            "fileEntityIdentifier",
            &["sha1", "initiatingProcessSHA1", "sha256", "initiatingProcessSHA256", "unknownFutureValue"],
        ),
        (
            "forceUserPasswordResetEntityIdentifier",
            &["accountSid", "initiatingProcessAccountSid", "requestAccountSid", "onPremSid", "unknownFutureValue"],
        ),
        ("isolationType", &["full", "selective", "unknownFutureValue"]),
        (
            "markUserAsCompromisedEntityIdentifier",
            &[
                "accountObjectId",
                "initiatingProcessAccountObjectId",
                "servicePrincipalId",
                "recipientObjectId",
                "unknownFutureValue",
            ],
        ),
        ("stopAndQuarantineFileEntityIdentifier", &["deviceId", "sha1", "initiatingProcessSHA1", "unknownFutureValue"]),
        // graph-schema.md §3.2: the rule model's enums.
        ("alertSeverity", &["unknown", "informational", "low", "medium", "high", "unknownFutureValue"]),
        ("detectionRuleStatus", &["enabled", "disabled", "autoDisabled", "unknownFutureValue"]),
        (
            "deviceAssetIdentifier",
            &[
                "deviceId",
                "deviceName",
                "remoteDeviceName",
                "targetDeviceName",
                "destinationDeviceName",
                "unknownFutureValue",
            ],
        ),
        // Learn only (§3.2 notes): not yet in Graph's metadata.
        ("eventGroupingKind", &["alertPerEvent", "singleAlert", "unknownFutureValue"]),
        (
            "huntingRuleErrorCode",
            &[
                "queryExecutionFailed",
                "queryExecutionThrottling",
                "queryExceededResultSize",
                "queryLimitsExceeded",
                "queryTimeout",
                "alertCreationFailed",
                "alertReportNotFound",
                "partialRowsFailed",
                "unknownFutureValue",
                "noImpactedEntity",
            ],
        ),
        ("huntingRuleRunStatus", &["running", "completed", "failed", "partiallyFailed", "unknownFutureValue"]),
        (
            "mailboxAssetIdentifier",
            &[
                "accountUpn",
                "fileOwnerUpn",
                "initiatingProcessAccountUpn",
                "lastModifyingAccountUpn",
                "targetAccountUpn",
                "senderFromAddress",
                "senderDisplayName",
                "recipientEmailAddress",
                "senderMailFromAddress",
                "unknownFutureValue",
            ],
        ),
        ("scopeType", &["deviceGroup", "unknownFutureValue"]),
        (
            "userAssetIdentifier",
            &[
                "accountObjectId",
                "accountSid",
                "accountUpn",
                "accountName",
                "accountDomain",
                "accountId",
                "requestAccountSid",
                "requestAccountName",
                "requestAccountDomain",
                "recipientObjectId",
                "processAccountObjectId",
                "initiatingAccountSid",
                "initiatingProcessAccountUpn",
                "initiatingAccountName",
                "initiatingAccountDomain",
                "servicePrincipalId",
                "servicePrincipalName",
                "targetAccountUpn",
                "unknownFutureValue",
            ],
        ),
    ];
    let mut actual: Vec<(&str, Vec<&str>)> =
        ENUMS.iter().map(|e| (e.graph_name, e.members.iter().map(|m| m.graph_name).collect())).collect();
    actual.sort();
    let mut expected: Vec<(&str, Vec<&str>)> = expected_enums.iter().map(|(n, m)| (*n, m.to_vec())).collect();
    expected.sort();
    assert_eq!(actual, expected);
}

#[test]
fn the_spec_example_is_exact() {
    let input = r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full"}]"##;
    let read = read(input);
    assert_eq!(write(read.actions).unwrap(), input);
}

// ---- The whole rule model, walked from DetectionRule through the schema API ----

/// A step from an object to one it holds: property `index` (a single complex value), or the
/// first item of collection property `index`, of the known type with this qualified name when the
/// collection is polymorphic.
#[derive(Debug, Clone, Copy)]
enum Step {
    Property(usize),
    Item(usize, Option<&'static str>),
}

/// A Graph type reached from DetectionRule, by its first path.
#[derive(Debug)]
struct Reached {
    info: &'static TypeInfo,
    path: Vec<Step>,
    /// The JSON pointer of an object of the type in a rule written with `minimal_rule` and `path`.
    pointer: String,
    /// As graph-schema.md writes them: Graph name, Graph type, required by ToGraph.
    properties: Vec<PropertyFacts>,
}

/// What the schema says a property holds, learned through `slot`, in graph-schema.md's words.
/// For a complex value it reaches into (a default of) it.
fn property_type(object: &mut dyn GraphObject, index: usize) -> String {
    let complex = |object: &mut dyn GraphObject| match (object.hierarchy(), object.shape()) {
        // The abstract base of a polymorphic value, e.g. ResponseAction -> responseAction.
        (Some(hierarchy), _) => lower_camel(hierarchy.message),
        (None, Shape::Known(info)) => info.graph_name.to_owned(),
        (None, shape) => panic!("a single-type value of shape {shape:?}"),
    };
    match object.slot(index) {
        Slot::Flags(schema, _) => format!("flags {}", schema.graph_name),
        Slot::Enum(schema, _) => format!("enum {}", schema.graph_name),
        Slot::Strings(_) => "Collection(Edm.String)".to_owned(),
        Slot::String(_) => "Edm.String".to_owned(),
        Slot::Bool(_) => "Edm.Boolean".to_owned(),
        Slot::Timestamp(_) => "Edm.DateTimeOffset".to_owned(),
        Slot::Duration(_) => "Edm.Duration".to_owned(),
        Slot::Object(slot) => complex(slot.fill()),
        Slot::Objects(list) => format!("Collection({})", complex(list.push())),
    }
}

fn lower_camel(pascal: &str) -> String {
    let mut chars = pascal.chars();
    chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Every Graph type reachable from DetectionRule (each once, by its first path), and every
/// polymorphic collection's known types by the abstract base's name.
fn reachable() -> (Vec<Reached>, BTreeMap<String, Vec<&'static str>>) {
    fn walk(
        object: &mut dyn GraphObject,
        path: Vec<Step>,
        pointer: String,
        reached: &mut Vec<Reached>,
        derived: &mut BTreeMap<String, Vec<&'static str>>,
    ) {
        let Shape::Known(info) = object.shape() else { panic!("{pointer}: not a known type") };
        if reached.iter().any(|r| r.info.graph_name == info.graph_name) {
            return;
        }
        let properties = (0..info.properties.len())
            .map(|i| {
                let p = &info.properties[i];
                (p.graph_name.to_owned(), property_type(object, i), p.required)
            })
            .collect();
        reached.push(Reached { info, path: path.clone(), pointer: pointer.clone(), properties });
        for (index, property) in info.properties.iter().enumerate() {
            let pointer = format!("{pointer}/{}", property.graph_name);
            match object.slot(index) {
                Slot::Object(slot) => {
                    let next = [&path[..], &[Step::Property(index)]].concat();
                    walk(slot.fill(), next, pointer, reached, derived);
                }
                Slot::Objects(list) => {
                    let item = list.push();
                    let Some(hierarchy) = item.hierarchy() else {
                        let next = [&path[..], &[Step::Item(index, None)]].concat();
                        walk(item, next, format!("{pointer}/0"), reached, derived);
                        continue;
                    };
                    let names = hierarchy.known.iter().map(|(_, info)| info.graph_name).collect();
                    derived.insert(lower_camel(hierarchy.message), names);
                    for (qualified_name, case) in hierarchy.known {
                        assert_eq!(*qualified_name, format!("microsoft.graph.security.{}", case.graph_name));
                        assert!(item.select(qualified_name), "{qualified_name} is known");
                        let next = [&path[..], &[Step::Item(index, Some(qualified_name))]].concat();
                        walk(&mut *item, next, format!("{pointer}/0"), reached, derived);
                    }
                }
                _ => {}
            }
        }
    }
    let (mut reached, mut derived) = (Vec::new(), BTreeMap::new());
    walk(&mut DetectionRule::default(), Vec::new(), String::new(), &mut reached, &mut derived);
    (reached, derived)
}

/// The first member Graph accepts in a request.
fn first_writable(schema: &EnumSchema) -> i32 {
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
fn follow<'a>(object: &'a dyn GraphObject, path: &[Step]) -> &'a dyn GraphObject {
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
    let (reached, _) = reachable();
    let mut checked = 0;
    for reached in &reached {
        for (index, property) in reached.info.properties.iter().enumerate() {
            let mut scratch = DetectionRule::default();
            let (schema, flags) = match make_path(&mut scratch, &reached.path).slot(index) {
                Slot::Flags(schema, _) => (schema, true),
                Slot::Enum(schema, _) => (schema, false),
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
                assert!(matches!(object.shape(), Shape::Known(info) if std::ptr::eq(info, reached.info)));
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

type TypeFacts = (&'static str, bool, Vec<PropertyFacts>);

/// The detection-rule model, transcribed by hand from graph-schema.md §5 (PROD, plus the two
/// members only Learn documents): an oracle independent of proto/. `required` is what ToGraph
/// enforces: `Nullable="false"` for a value a request must carry in both Graph shapes; each
/// deviation from the Nullable column is commented.
fn rule_model_facts() -> Vec<TypeFacts> {
    const STRING: &str = "Edm.String";
    const STRINGS: &str = "Collection(Edm.String)";
    const INSTANT: &str = "Edm.DateTimeOffset";
    const DURATION: &str = "Edm.Duration";
    let p = |name: &str, kind: &str, required: bool| (name.to_owned(), kind.to_owned(), required);
    let columns = |required: bool, names: &[&str]| -> Vec<PropertyFacts> {
        names.iter().map(|name| p(name, STRING, required)).collect()
    };
    let collection = |of: &str| format!("Collection({of})");
    vec![
        // §5.1
        (
            "detectionRule",
            false,
            vec![
                p("createdBy", STRING, false),        // Nullable=false, but read-only
                p("createdDateTime", INSTANT, false), // Nullable=false, but read-only
                p("description", STRING, false),
                // Nullable=false in PROD, nullable in USNAT (§7.3): not required.
                p("detectionAction", "detectionAction", false),
                p("detectorId", STRING, false),
                p("displayName", STRING, true),
                p("id", STRING, false), // the key: server-assigned in the retired create API
                p("isEnabled", "Edm.Boolean", false), // Nullable=false, but retired: use status
                p("lastModifiedBy", STRING, false), // Nullable=false, but read-only
                p("lastModifiedDateTime", INSTANT, false), // Nullable=false, but read-only
                p("lastRunDetails", "runDetails", false),
                // Nullable=false in PROD, nullable in USNAT (§7.3): not required.
                p("queryCondition", "queryCondition", false),
                p("schedule", "ruleSchedule", false),           // as queryCondition
                p("status", "enum detectionRuleStatus", false), // Nullable=false, PROD only
            ],
        ),
        // §5.2
        (
            "detectionAction",
            false,
            vec![
                p("alertTemplate", "alertTemplate", true),
                p("automatedActions", "automatedActionSet", false),
                p("organizationalScope", "organizationalScope", false),
                p("responseActions", &collection("responseAction"), false),
            ],
        ),
        // §5.3
        (
            "alertTemplate",
            false,
            vec![
                p("category", STRING, false),
                p("customDetails", "alertCustomDetails", false),
                p("description", STRING, true),
                p("entityMappings", "entityMappingConfiguration", false), // Nullable=false, PROD only
                // Learn only, not in PROD/CLEAN: deliberately modelled by detection_rule.proto.
                p("eventGroupingKind", "enum eventGroupingKind", false),
                p("impactedAssets", &collection("impactedAsset"), false),
                p("mitreTechniques", STRINGS, false),
                p("recommendedActions", STRING, false),
                p("severity", "enum alertSeverity", true),
                p("tactics", &collection("mitreTactic"), false),
                p("title", STRING, true),
            ],
        ),
        // An open type (dictionary): no declared properties.
        ("alertCustomDetails", true, vec![]),
        ("mitreTactic", false, vec![p("tactic", STRING, true), p("techniques", &collection("mitreTechnique"), false)]),
        ("mitreTechnique", false, vec![p("subTechniques", STRINGS, false), p("technique", STRING, true)]),
        // §5.4
        (
            "entityMappingConfiguration",
            false,
            [
                ("accounts", "accountEntityMapping"),
                ("amazonResources", "amazonResourceEntityMapping"),
                ("azureResources", "azureResourceEntityMapping"),
                ("cloudApplications", "cloudApplicationEntityMapping"),
                ("dns", "dnsEntityMapping"),
                ("files", "fileEntityMapping"),
                ("googleCloudResources", "googleCloudResourceEntityMapping"),
                ("hosts", "hostEntityMapping"),
                ("ips", "ipEntityMapping"),
                ("mailboxes", "mailboxEntityMapping"),
                ("mailClusters", "mailClusterEntityMapping"),
                ("mailMessages", "mailMessageEntityMapping"),
                ("oAuthApplications", "oAuthApplicationEntityMapping"),
                ("processes", "processEntityMapping"),
                ("registryValues", "registryValueEntityMapping"),
                ("securityGroups", "securityGroupEntityMapping"),
                ("urls", "urlEntityMapping"),
            ]
            .iter()
            .map(|(name, item)| p(name, &collection(item), false))
            .collect(),
        ),
        (
            "accountEntityMapping",
            false,
            columns(
                false,
                &[
                    "aadUserIdColumn",
                    "dnsDomainColumn",
                    "nameColumn",
                    "ntDomainColumn",
                    "sidColumn",
                    "upnColumn",
                    "upnSuffixColumn",
                ],
            ),
        ),
        ("amazonResourceEntityMapping", false, columns(true, &["amazonResourceIdColumn"])),
        ("azureResourceEntityMapping", false, columns(true, &["resourceIdColumn"])),
        ("cloudApplicationEntityMapping", false, columns(false, &["appIdColumn", "nameColumn"])),
        ("dnsEntityMapping", false, columns(true, &["domainNameColumn", "hostIpAddressColumn", "serverIpColumn"])),
        ("fileEntityMapping", false, columns(false, &["nameColumn", "sha1Column", "sha256Column"])),
        ("googleCloudResourceEntityMapping", false, columns(true, &["fullResourceNameColumn"])),
        (
            "hostEntityMapping",
            false,
            columns(false, &["deviceIdColumn", "dnsDomainColumn", "nameColumn", "netBiosNameColumn", "ntDomainColumn"]),
        ),
        ("ipEntityMapping", false, columns(false, &["addressColumn", "scopeColumn"])),
        ("mailboxEntityMapping", false, columns(true, &["primaryAddressColumn"])),
        ("mailClusterEntityMapping", false, columns(true, &["queryColumn", "sourceColumn"])),
        (
            "mailMessageEntityMapping",
            false,
            columns(true, &["networkMessageIdColumn", "recipientColumn", "senderColumn", "subjectColumn"]),
        ),
        ("oAuthApplicationEntityMapping", false, columns(true, &["oAuthAppIdColumn"])),
        ("processEntityMapping", false, columns(false, &["sha1Column", "sha256Column"])),
        ("registryValueEntityMapping", false, columns(true, &["keyColumn", "valueNameColumn"])),
        (
            "securityGroupEntityMapping",
            false,
            columns(false, &["distinguishedNameColumn", "objectIdColumn", "sidColumn"]),
        ),
        ("urlEntityMapping", false, columns(true, &["addressColumn"])),
        // §5.5
        (
            "automatedActionSet",
            false,
            [
                ("allowFiles", "fileAction"),
                ("blockFiles", "fileAction"),
                ("collectInvestigationPackages", "deviceAction"),
                ("disableUsers", "accountSidAction"),
                ("forceUserPasswordResets", "accountSidAction"),
                ("hardDeleteEmails", "emailAction"),
                ("initiateInvestigations", "deviceAction"),
                ("isolateDevices", "isolateDeviceAction"),
                ("markUsersAsCompromised", "accountObjectIdAction"),
                ("moveEmailsToDeletedItems", "emailAction"),
                ("moveEmailsToInbox", "emailAction"),
                ("moveEmailsToJunk", "emailAction"),
                ("restrictAppExecutions", "deviceAction"),
                ("runAntivirusScans", "deviceAction"),
                ("softDeleteEmails", "emailAction"),
                ("stopAndQuarantineFiles", "stopAndQuarantineFileAction"),
            ]
            .iter()
            .map(|(name, item)| p(name, &collection(item), false))
            .collect(),
        ),
        ("accountObjectIdAction", false, columns(true, &["accountObjectIdColumn"])),
        ("accountSidAction", false, columns(true, &["accountSidColumn"])),
        ("deviceAction", false, columns(true, &["deviceIdColumn"])),
        (
            "isolateDeviceAction",
            false,
            vec![p("deviceIdColumn", STRING, true), p("isolationType", "enum isolationType", true)],
        ),
        ("emailAction", false, columns(true, &["networkMessageIdColumn", "recipientColumn"])),
        (
            "fileAction",
            false,
            vec![
                p("deviceGroupNames", STRINGS, false),
                p("sha1Column", STRING, false),
                p("sha256Column", STRING, false),
            ],
        ),
        ("stopAndQuarantineFileAction", false, columns(true, &["deviceIdColumn", "sha1Column"])),
        // §5.6
        (
            "organizationalScope",
            false,
            vec![
                p("deviceGroups", STRINGS, false),
                p("scopeNames", STRINGS, false),
                // Nullable=false in both shapes, but retired: current-shape bodies carry only deviceGroups.
                p("scopeType", "enum scopeType", false),
            ],
        ),
        ("queryCondition", false, vec![p("lastModifiedDateTime", INSTANT, false), p("queryText", STRING, true)]),
        (
            "ruleSchedule",
            false,
            vec![
                p("frequency", DURATION, false), // Nullable=false, PROD only
                // Learn only, not in PROD/CLEAN: deliberately modelled by detection_rule.proto.
                p("lookback", DURATION, false),
                p("nextRunDateTime", INSTANT, false),
                p("period", STRING, false),
            ],
        ),
        (
            "runDetails",
            false,
            vec![
                p("errorCode", "enum huntingRuleErrorCode", false),
                p("failureReason", STRING, false),
                p("lastRunDateTime", INSTANT, false),
                p("status", "enum huntingRuleRunStatus", false),
            ],
        ),
        // §5.7 (not flags, unlike the response actions' identifiers)
        ("impactedDeviceAsset", false, vec![p("identifier", "enum deviceAssetIdentifier", true)]),
        ("impactedMailboxAsset", false, vec![p("identifier", "enum mailboxAssetIdentifier", true)]),
        ("impactedUserAsset", false, vec![p("identifier", "enum userAssetIdentifier", true)]),
    ]
}

/// Every Graph type reachable from DetectionRule, with its properties (Graph names, Graph types,
/// required), is exactly the hand-transcribed table of graph-schema.md §5 and §2; and each
/// polymorphic collection knows exactly the derived types graph-schema.md lists.
#[test]
fn every_type_reachable_from_a_rule_matches_graph() {
    let (reached, derived) = reachable();
    let mut actual: Vec<(&str, bool, Vec<PropertyFacts>)> = reached
        .iter()
        .map(|r| {
            assert_eq!(r.info.odata_type, format!("#microsoft.graph.security.{}", r.info.graph_name));
            let mut properties = r.properties.clone();
            properties.sort();
            (r.info.graph_name, r.info.open, properties)
        })
        .collect();
    actual.sort();

    let response_actions = response_action_facts();
    let mut expected = rule_model_facts();
    assert_eq!(expected.len(), 11 + 17 + 8 + 3, "rule model, entity mappings, automated actions, assets");
    expected.extend(response_actions.iter().map(|(name, properties)| (*name, false, properties.clone())));
    for (_, _, properties) in &mut expected {
        properties.sort();
    }
    expected.sort();
    assert_eq!(actual.len(), expected.len(), "{:?}", actual.iter().map(|t| t.0).collect::<Vec<_>>());
    for (actual, expected) in actual.iter().zip(&expected) {
        assert_eq!(actual, expected);
    }

    let mut response_action_names: Vec<&str> = response_actions.iter().map(|(name, _)| *name).collect();
    response_action_names.sort();
    let impacted_assets = vec!["impactedDeviceAsset", "impactedMailboxAsset", "impactedUserAsset"];
    let expected_derived = BTreeMap::from([
        ("impactedAsset".to_owned(), impacted_assets),
        ("responseAction".to_owned(), response_action_names),
    ]);
    let derived: BTreeMap<String, Vec<&str>> = derived
        .into_iter()
        .map(|(base, mut names)| {
            names.sort();
            (base, names)
        })
        .collect();
    assert_eq!(derived, expected_derived);
}
