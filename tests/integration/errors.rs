//! How the service reports a bad request: INVALID_ARGUMENT with every violation located in a
//! google.rpc.BadRequest (an undefined policy value too), RESOURCE_EXHAUSTED for size. Which
//! violations each input gives is the codec's (crates/codec/tests/translate_actions.rs).

use std::collections::BTreeMap;

use graphbridge::pb::{
    BlockFileResponseAction, FileEntityIdentifier, FromGraphRequest, IsolateDeviceResponseAction, ResponseAction,
    ToGraphRequest, UnknownResponseAction, response_action::Action,
};
use tonic::Code;

use crate::support::server::{TestServer, violations};

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
