//! ToGraph and FromGraph as the Translator RPCs define them (`translate`): exact Graph JSON, the
//! unknown-data policies and report, and every violation located. The socket tests check that
//! the service answers exactly this (tests/integration/translation.rs, errors.rs).

use graphbridge_codec::{
    pb::{
        DeviceIdEntityIdentifier, EmailEntityIdentifier, FileEntityIdentifier, FromGraphRequest, FromGraphResponse,
        IsolateDeviceResponseAction, IsolationType, MoveToJunkResponseAction, ResponseAction, ToGraphRequest,
        ToGraphResponse, UnknownDataKind, UnknownDataPolicy, response_action::Action,
    },
    translate::{self, Limits, TranslateError},
};
use graphbridge_testkit::{json::parse_json, refusals::violations};

fn to_graph(request: ToGraphRequest) -> Result<ToGraphResponse, TranslateError> {
    translate::to_graph(&Limits::UNBOUNDED, &request)
}

fn from_graph(json: &str, policy: UnknownDataPolicy) -> Result<FromGraphResponse, TranslateError> {
    translate::from_graph(
        &Limits::UNBOUNDED,
        &FromGraphRequest { json: json.into(), unknown_data_policy: policy.into() },
    )
}

fn isolate_full() -> ResponseAction {
    ResponseAction {
        action: Some(Action::IsolateDevice(IsolateDeviceResponseAction {
            identifier: vec![DeviceIdEntityIdentifier::DeviceId.into()],
            isolation_type: IsolationType::Full.into(),
        })),
        additional_data: Default::default(),
    }
}

const ISOLATE_FULL: &str = r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full"}]"##;

#[test]
fn to_graph_writes_exact_compact_graph_json() {
    let response = to_graph(ToGraphRequest { actions: vec![isolate_full()], ..Default::default() }).unwrap();
    assert_eq!(response.json, ISOLATE_FULL);
    assert!(response.unknown_data.is_empty());
}

#[test]
fn to_graph_pretty_prints_on_request() {
    let json =
        to_graph(ToGraphRequest { actions: vec![isolate_full()], pretty: true, ..Default::default() }).unwrap().json;
    assert!(
        json.starts_with("[\n  {\n    \"@odata.type\": \"#microsoft.graph.security.isolateDeviceResponseAction\",\n"),
        "{json}"
    );
    assert_eq!(parse_json(&json), parse_json(ISOLATE_FULL));
}

#[test]
fn from_graph_reads_one_object_or_an_array_and_names_without_hash() {
    let object = r#"{"@odata.type":"microsoft.graph.security.moveToJunkResponseAction",
                     "identifier":"recipientEmailAddress, networkMessageId"}"#;
    let expected = ResponseAction {
        action: Some(Action::MoveToJunk(MoveToJunkResponseAction {
            identifier: vec![
                EmailEntityIdentifier::NetworkMessageId.into(),
                EmailEntityIdentifier::RecipientEmailAddress.into(),
            ],
        })),
        additional_data: Default::default(),
    };
    for json in [object.to_owned(), format!("[{object}]")] {
        let response = from_graph(&json, UnknownDataPolicy::Preserve).unwrap();
        assert_eq!(response.actions, std::slice::from_ref(&expected));
        assert!(response.unknown_data.is_empty());
    }
}

#[test]
fn unknown_data_round_trips_through_both_rpcs() {
    let graph = r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId,macAddress",
        "isolationType":"full","comment":"new","budget":123456789012345678901234567890.50,"nested":{"a":[1,{"b":null}]}},
        {"@odata.type":"#microsoft.graph.security.quarantineEverythingResponseAction","identifier":"everything"},
        {"@odata.type":"#microsoft.graph.security.softDeleteResponseAction","identifier":"networkMessageId","ttl":null}]"##;
    let read = from_graph(graph, UnknownDataPolicy::Preserve).unwrap();

    let report: Vec<(&str, UnknownDataKind)> =
        read.unknown_data.iter().map(|u| (u.pointer.as_str(), u.kind())).collect();
    assert_eq!(
        report,
        [
            ("/0/identifier", UnknownDataKind::EnumMember),
            ("/0/comment", UnknownDataKind::Property),
            ("/0/budget", UnknownDataKind::Property),
            ("/0/nested", UnknownDataKind::Property),
            ("/1/@odata.type", UnknownDataKind::Type),
            ("/2/ttl", UnknownDataKind::Property),
        ]
    );
    assert_eq!(read.actions[0].additional_data["budget"], "123456789012345678901234567890.50");
    assert_eq!(read.actions[0].additional_data["identifier"], "\"deviceId,macAddress\"");
    let Some(Action::IsolateDevice(isolate)) = &read.actions[0].action else { panic!("{:?}", read.actions[0]) };
    assert!(isolate.identifier.is_empty(), "the unknown member keeps the whole value raw");
    assert_eq!(isolate.isolation_type, i32::from(IsolationType::Full));

    let written = to_graph(ToGraphRequest { actions: read.actions, ..Default::default() }).unwrap();
    assert_eq!(parse_json(&written.json), parse_json(graph));
    assert!(written.json.contains("123456789012345678901234567890.50"));
    assert_eq!(written.unknown_data.len(), 6, "{:?}", written.unknown_data);
}

#[test]
fn drop_policy_discards_and_reports() {
    let graph = r##"[{"@odata.type":"#microsoft.graph.security.newResponseAction"},
        {"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full","x":1,"y":null}]"##;
    let read = from_graph(graph, UnknownDataPolicy::Drop).unwrap();
    assert_eq!(read.actions, [isolate_full()]);
    assert!(read.unknown_data.iter().all(|u| u.dropped));
    let pointers: Vec<&str> = read.unknown_data.iter().map(|u| u.pointer.as_str()).collect();
    assert_eq!(pointers, ["/0/@odata.type", "/1/x", "/1/y"]);
}

#[test]
fn a_null_known_property_means_absent_and_is_reported() {
    let graph = r##"{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha256","deviceGroupNames":null}"##;
    let read = from_graph(graph, UnknownDataPolicy::Preserve).unwrap();
    assert_eq!(read.unknown_data.len(), 1);
    assert_eq!(read.unknown_data[0].kind(), UnknownDataKind::Null);
    assert!(read.unknown_data[0].dropped);
    assert!(read.actions[0].additional_data.is_empty());
}

#[test]
fn an_empty_collection_is_kept_exactly() {
    let graph = r##"[{"@odata.type":"#microsoft.graph.security.allowFileResponseAction","deviceGroupNames":[],"identifier":"sha1"}]"##;
    let read = from_graph(graph, UnknownDataPolicy::Preserve).unwrap();
    assert_eq!(read.unknown_data[0].kind(), UnknownDataKind::RawValue);
    let written = to_graph(ToGraphRequest { actions: read.actions, ..Default::default() }).unwrap();
    assert_eq!(written.json, graph);
}

#[test]
fn reject_policy_turns_unknown_data_into_violations() {
    let block_sha1 = Action::BlockFile(graphbridge_codec::pb::BlockFileResponseAction {
        identifier: vec![FileEntityIdentifier::Sha1.into()],
        ..Default::default()
    });
    let action =
        ResponseAction { action: Some(block_sha1), additional_data: [("x".to_owned(), "1".to_owned())].into() };
    let request = ToGraphRequest {
        actions: vec![action],
        unknown_data_policy: UnknownDataPolicy::Reject.into(),
        ..Default::default()
    };
    let error = to_graph(request).unwrap_err();
    assert_eq!(violations(&error)[0].0, "actions[0].additional_data[\"x\"]");

    let json = r##"[{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha1,sha512","x":1},
                    {"@odata.type":"#microsoft.graph.security.newResponseAction"}]"##;
    let error = from_graph(json, UnknownDataPolicy::Reject).unwrap_err();
    let fields: Vec<String> = violations(&error).into_iter().map(|(field, _)| field).collect();
    assert_eq!(fields, ["json/0/identifier", "json/0/x", "json/1/@odata.type"]);
}

#[test]
fn from_graph_locates_malformed_json() {
    let cases = [
        ("", "json", "empty input"),
        ("[{\"@odata.type\":\"#x\",\n \"a\":1,\"a\":2}]", "json/0", "line 2, column 8: duplicate key \"a\""),
        ("[{\"@odata.type\":\"#x\"}] trailing", "json", "unexpected characters after the JSON value"),
        ("[{\"x\": NaN}]", "json/0/x", "expected a JSON value"),
        ("[{\"x\": \"\\ud800\"}]", "json/0/x", "lone surrogate"),
        (
            &format!("[{{\"x\":{}{}}}]", "[".repeat(100), "]".repeat(100)),
            "json/0/x/0/0",
            "nesting deeper than 64 levels",
        ),
    ];
    for (json, field, words) in cases {
        let error = from_graph(json, UnknownDataPolicy::Preserve).unwrap_err();
        assert!(matches!(error, TranslateError::Codec(_)), "{json}: {error:?}");
        let found = violations(&error);
        assert!(found[0].0.starts_with(field), "{json}: {found:?}");
        assert!(found[0].1.contains(words), "{json}: {found:?}");
    }
}

#[test]
fn from_graph_reports_every_schema_violation_with_its_pointer() {
    let json = r##"[{"identifier":"deviceId"}, 7, {"@odata.type":5},
        {"@odata.type":"#microsoft.graph.security.allowFileResponseAction","identifier":["sha1"],"deviceGroupNames":["a",2]},
        {"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":1}]"##;
    let error = from_graph(json, UnknownDataPolicy::Preserve).unwrap_err();
    assert!(matches!(error, TranslateError::Codec(_)), "{error:?}");
    assert_eq!(
        violations(&error),
        [
            ("json/0".into(), "missing \"@odata.type\": the value's type cannot be known".into()),
            ("json/1".into(), "expected an object, found a number".into()),
            ("json/2/@odata.type".into(), "\"@odata.type\" must be a string, found a number".into()),
            (
                "json/3/identifier".into(),
                "identifier must be a string of comma-separated enum members, found an array".into()
            ),
            ("json/3/deviceGroupNames/1".into(), "item 1 of deviceGroupNames must be a string, found a number".into()),
            ("json/4/isolationType".into(), "isolationType must be a string enum member, found a number".into()),
        ]
    );
}
