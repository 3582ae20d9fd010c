//! TranslateStream: every item answered with its id; a bad item does not end the stream.

use graphbridge::pb::{
    FromGraphRequest, ToGraphRequest, TranslateStreamRequest, translate_stream_request::Request,
    translate_stream_response::Result as Outcome,
};
use tonic::Code;
use tonic_types::pb::BadRequest;

use crate::support::server::TestServer;

fn item(id: &str, request: Option<Request>) -> TranslateStreamRequest {
    TranslateStreamRequest { id: id.into(), request }
}

fn from_graph(json: &str) -> Option<Request> {
    Some(Request::FromGraph(FromGraphRequest { json: json.into(), ..Default::default() }))
}

#[tokio::test]
async fn every_item_is_answered_in_order_and_errors_stay_in_band() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let good =
        r##"[{"@odata.type":"#microsoft.graph.security.runAntivirusScanResponseAction","identifier":"deviceId"}]"##;
    let items = vec![
        item("a", from_graph(good)),
        item("b", from_graph("{oops")),
        item("c", None),
        item("d", Some(Request::ToGraph(ToGraphRequest::default()))),
        item("e", from_graph(good)),
    ];
    let mut responses = client.translate_stream(tokio_stream::iter(items)).await.unwrap().into_inner();
    let mut answered = Vec::new();
    while let Some(response) = responses.message().await.unwrap() {
        answered.push(response);
    }
    let ids: Vec<&str> = answered.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);

    let Some(Outcome::FromGraph(first)) = &answered[0].result else { panic!("{:?}", answered[0]) };
    assert_eq!(first.actions.len(), 1);
    let Some(Outcome::Error(error)) = &answered[1].result else { panic!("{:?}", answered[1]) };
    assert_eq!(error.code, Code::InvalidArgument as i32);
    let bad_request: BadRequest = error
        .details
        .iter()
        .find_map(|any| {
            any.type_url.ends_with("google.rpc.BadRequest").then(|| prost::Message::decode(&any.value[..]).unwrap())
        })
        .expect("the same BadRequest detail as the unary call");
    assert_eq!(bad_request.field_violations[0].field, "json");
    let Some(Outcome::Error(error)) = &answered[2].result else { panic!("{:?}", answered[2]) };
    assert!(error.message.contains("exactly one of to_graph, from_graph"), "{}", error.message);
    let Some(Outcome::ToGraph(empty)) = &answered[3].result else { panic!("{:?}", answered[3]) };
    assert_eq!(empty.json, "[]");
    assert_eq!(answered[4].result, answered[0].result);
    server.stop().await;
}
