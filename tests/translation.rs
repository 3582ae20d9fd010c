//! Translation over a real socket with the generated client.

mod common;

use common::TestServer;
use graphbridge::pb::{
    DeviceIdEntityIdentifier, EmailEntityIdentifier, FromGraphRequest, IsolateDeviceResponseAction, IsolationType,
    MoveToJunkResponseAction, ResponseAction, ToGraphRequest, UnknownDataKind, UnknownDataPolicy,
    response_action::Action,
};

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

#[tokio::test]
async fn to_graph_writes_exact_compact_graph_json() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let response =
        client.to_graph(ToGraphRequest { actions: vec![isolate_full()], ..Default::default() }).await.unwrap();
    assert_eq!(response.get_ref().json, ISOLATE_FULL);
    assert!(response.get_ref().unknown_data.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn to_graph_pretty_prints_on_request() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let request = ToGraphRequest { actions: vec![isolate_full()], pretty: true, ..Default::default() };
    let json = client.to_graph(request).await.unwrap().into_inner().json;
    assert!(
        json.starts_with("[\n  {\n    \"@odata.type\": \"#microsoft.graph.security.isolateDeviceResponseAction\",\n"),
        "{json}"
    );
    let compact: serde_json::Value = serde_json::from_str(ISOLATE_FULL).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap(), compact);
    server.stop().await;
}

#[tokio::test]
async fn from_graph_reads_one_object_or_an_array_and_names_without_hash() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
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
        let response = client.from_graph(FromGraphRequest { json, ..Default::default() }).await.unwrap().into_inner();
        assert_eq!(response.actions, std::slice::from_ref(&expected));
        assert!(response.unknown_data.is_empty());
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_data_round_trips_through_both_rpcs() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let graph = r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId,macAddress",
        "isolationType":"full","comment":"new","budget":123456789012345678901234567890.50,"nested":{"a":[1,{"b":null}]}},
        {"@odata.type":"#microsoft.graph.security.quarantineEverythingResponseAction","identifier":"everything"},
        {"@odata.type":"#microsoft.graph.security.softDeleteResponseAction","identifier":"networkMessageId","ttl":null}]"##;
    let read =
        client.from_graph(FromGraphRequest { json: graph.into(), ..Default::default() }).await.unwrap().into_inner();

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

    let request = ToGraphRequest { actions: read.actions, ..Default::default() };
    let written = client.to_graph(request).await.unwrap().into_inner();
    let expected: serde_json::Value = serde_json::from_str(graph).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&written.json).unwrap(), expected);
    assert!(written.json.contains("123456789012345678901234567890.50"));
    assert_eq!(written.unknown_data.len(), 6, "{:?}", written.unknown_data);
    server.stop().await;
}

#[tokio::test]
async fn drop_policy_discards_and_reports() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let graph = r##"[{"@odata.type":"#microsoft.graph.security.newResponseAction"},
        {"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full","x":1,"y":null}]"##;
    let request = FromGraphRequest { json: graph.into(), unknown_data_policy: UnknownDataPolicy::Drop.into() };
    let read = client.from_graph(request).await.unwrap().into_inner();
    assert_eq!(read.actions, [isolate_full()]);
    assert!(read.unknown_data.iter().all(|u| u.dropped));
    let pointers: Vec<&str> = read.unknown_data.iter().map(|u| u.pointer.as_str()).collect();
    assert_eq!(pointers, ["/0/@odata.type", "/1/x", "/1/y"]);
    server.stop().await;
}

#[tokio::test]
async fn a_null_known_property_means_absent_and_is_reported() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let graph = r##"{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha256","deviceGroupNames":null}"##;
    let read =
        client.from_graph(FromGraphRequest { json: graph.into(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(read.unknown_data.len(), 1);
    assert_eq!(read.unknown_data[0].kind(), UnknownDataKind::Null);
    assert!(read.unknown_data[0].dropped);
    assert!(read.actions[0].additional_data.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn an_empty_collection_is_kept_exactly() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let graph = r##"[{"@odata.type":"#microsoft.graph.security.allowFileResponseAction","deviceGroupNames":[],"identifier":"sha1"}]"##;
    let read =
        client.from_graph(FromGraphRequest { json: graph.into(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(read.unknown_data[0].kind(), UnknownDataKind::RawValue);
    let written = client.to_graph(ToGraphRequest { actions: read.actions, ..Default::default() }).await.unwrap();
    assert_eq!(written.get_ref().json, graph);
    server.stop().await;
}
