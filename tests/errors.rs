//! Every bad input is INVALID_ARGUMENT (RESOURCE_EXHAUSTED for size) with a located violation.

mod common;

use std::collections::BTreeMap;

use common::{TestServer, violations};
use graphbridge::pb::{
    BlockFileResponseAction, FileEntityIdentifier, FromGraphRequest, IsolateDeviceResponseAction, ResponseAction,
    ToGraphRequest, UnknownDataPolicy, UnknownResponseAction, response_action::Action,
};
use tonic::Code;

fn action(action: Action, additional_data: &[(&str, &str)]) -> ResponseAction {
    let additional_data: BTreeMap<String, String> =
        additional_data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    ResponseAction { action: Some(action), additional_data }
}

fn block_sha1() -> Action {
    Action::BlockFile(BlockFileResponseAction {
        identifier: vec![FileEntityIdentifier::Sha1.into()],
        ..Default::default()
    })
}

#[tokio::test]
async fn to_graph_reports_every_violation_with_its_proto_path() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let actions = vec![
        action(block_sha1(), &[]),
        action(Action::IsolateDevice(IsolateDeviceResponseAction { identifier: vec![1, 2], isolation_type: 0 }), &[]),
        ResponseAction::default(),
        action(block_sha1(), &[("identifier", "\"sha256\""), ("@odata.type", "\"x\""), ("bad", "{\"a\":1,\"a\":2}")]),
        action(Action::Unknown(UnknownResponseAction::default()), &[]),
        action(
            Action::Unknown(UnknownResponseAction {
                odata_type: "#microsoft.graph.security.blockFileResponseAction".into(),
            }),
            &[],
        ),
    ];
    let status = client.to_graph(ToGraphRequest { actions, ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violations(&status).into_iter().map(|(field, _)| field).collect();
    assert_eq!(
        fields,
        [
            "actions[1].isolate_device.identifier[1]",
            "actions[1].isolate_device.isolation_type",
            "actions[2].action",
            "actions[3].additional_data[\"@odata.type\"]",
            "actions[3].additional_data[\"identifier\"]",
            "actions[3].additional_data[\"bad\"]",
            "actions[4].unknown.odata_type",
            "actions[5].unknown.odata_type",
        ]
    );
    let descriptions: Vec<String> = violations(&status).into_iter().map(|(_, d)| d).collect();
    assert!(descriptions[0].contains("DEVICE_ID_ENTITY_IDENTIFIER_UNKNOWN_FUTURE_VALUE"), "{descriptions:?}");
    assert!(descriptions[1].contains("ISOLATION_TYPE_UNSPECIFIED"), "{descriptions:?}");
    assert!(descriptions[5].contains("duplicate key"), "{descriptions:?}");
    assert!(descriptions[7].contains("use the case block_file"), "{descriptions:?}");
    assert!(
        status.message().starts_with("8 problems; first: actions[1].isolate_device.identifier[1]"),
        "{}",
        status.message()
    );
    server.stop().await;
}

#[tokio::test]
async fn reject_policy_turns_unknown_data_into_violations() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let reject = UnknownDataPolicy::Reject.into();
    let request = ToGraphRequest {
        actions: vec![action(block_sha1(), &[("x", "1")])],
        unknown_data_policy: reject,
        ..Default::default()
    };
    let status = client.to_graph(request).await.unwrap_err();
    assert_eq!(violations(&status)[0].0, "actions[0].additional_data[\"x\"]");

    let json = r##"[{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha1,sha512","x":1},
                    {"@odata.type":"#microsoft.graph.security.newResponseAction"}]"##;
    let status =
        client.from_graph(FromGraphRequest { json: json.into(), unknown_data_policy: reject }).await.unwrap_err();
    let fields: Vec<String> = violations(&status).into_iter().map(|(field, _)| field).collect();
    assert_eq!(fields, ["json/0/identifier", "json/0/x", "json/1/@odata.type"]);
    server.stop().await;
}

#[tokio::test]
async fn from_graph_locates_malformed_json() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
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
        let status =
            client.from_graph(FromGraphRequest { json: json.to_owned(), ..Default::default() }).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{json}");
        let found = violations(&status);
        assert!(found[0].0.starts_with(field), "{json}: {found:?}");
        assert!(found[0].1.contains(words), "{json}: {found:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn from_graph_reports_every_schema_violation_with_its_pointer() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let json = r##"[{"identifier":"deviceId"}, 7, {"@odata.type":5},
        {"@odata.type":"#microsoft.graph.security.allowFileResponseAction","identifier":["sha1"],"deviceGroupNames":["a",2]},
        {"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":1}]"##;
    let status = client.from_graph(FromGraphRequest { json: json.into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        violations(&status),
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
    server.stop().await;
}

#[tokio::test]
async fn oversize_json_is_resource_exhausted_and_the_server_goes_on() {
    let server = TestServer::with_flags(&["--max-message-bytes", "1024"]).await;
    let mut client = server.client().await;
    let json = format!("[{}]", vec!["{}"; 600].join(","));
    let status = client.from_graph(FromGraphRequest { json, ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("over the limit of 1024 bytes"), "{}", status.message());

    let many = vec![action(block_sha1(), &[]); 40];
    let status = client.to_graph(ToGraphRequest { actions: many, ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "output over the limit: {status:?}");

    let ok = client.from_graph(FromGraphRequest { json: "[]".into(), ..Default::default() }).await.unwrap();
    assert!(ok.get_ref().actions.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn an_undefined_policy_value_is_invalid() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let status = client.from_graph(FromGraphRequest { json: "[]".into(), unknown_data_policy: 42 }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violations(&status)[0].0, "unknown_data_policy");
    server.stop().await;
}
