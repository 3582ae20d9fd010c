//! TranslateStream with detection-rule items: each answered in-band with its id, exactly as its
//! unary RPC answers it, and a bad rule among good ones does not end the stream.

use graphbridge::pb::{
    MigrateRuleRequest, RuleFromGraphRequest, RuleToGraphRequest, TranslateStreamRequest,
    translate_stream_request::Request, translate_stream_response::Result as Outcome,
};
use graphbridge_testkit::{fixtures::rule_fixture, json::parse_json};
use tonic::Code;

use crate::support::server::TestServer;

fn item(id: &str, request: Request) -> TranslateStreamRequest {
    TranslateStreamRequest { id: id.into(), request: Some(request) }
}

fn rule_from_graph(json: impl Into<String>) -> Request {
    Request::RuleFromGraph(RuleFromGraphRequest { json: json.into(), ..Default::default() })
}

fn migrate(json: impl Into<String>) -> Request {
    Request::MigrateRule(MigrateRuleRequest { json: json.into(), pretty: true, ..Default::default() })
}

#[tokio::test]
async fn rule_items_are_answered_in_band_like_their_unary_calls() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let new_get = rule_fixture("new-get");
    let read = client
        .rule_from_graph(RuleFromGraphRequest { json: new_get.clone(), ..Default::default() })
        .await
        .expect("the fixture reads")
        .into_inner();
    let rule = read.rules[0].clone();
    let items = vec![
        item("read", rule_from_graph(new_get.clone())),
        item("bad-json", rule_from_graph("{\"displayName\":")),
        item("write", Request::RuleToGraph(RuleToGraphRequest { rule: Some(rule.clone()), ..Default::default() })),
        item("no-rule", Request::RuleToGraph(RuleToGraphRequest::default())),
        item("migrate", migrate(rule_fixture("old-get"))),
        item("migrate-a-list", migrate(rule_fixture("list"))),
        item("read-again", rule_from_graph(new_get)),
    ];
    let mut responses = client.translate_stream(tokio_stream::iter(items)).await.unwrap().into_inner();
    let mut answered = Vec::new();
    while let Some(response) = responses.message().await.expect("the stream is not ended by a bad item") {
        answered.push(response);
    }
    let ids: Vec<&str> = answered.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["read", "bad-json", "write", "no-rule", "migrate", "migrate-a-list", "read-again"]);

    let Some(Outcome::RuleFromGraph(first)) = &answered[0].result else { panic!("{:?}", answered[0]) };
    assert_eq!(first, &read, "a stream item is answered as the unary call is");
    let Some(Outcome::Error(error)) = &answered[1].result else { panic!("{:?}", answered[1]) };
    assert_eq!(error.code, Code::InvalidArgument as i32);
    assert!(error.message.contains("not valid JSON"), "{}", error.message);

    let Some(Outcome::RuleToGraph(written)) = &answered[2].result else { panic!("{:?}", answered[2]) };
    let unary = client
        .rule_to_graph(RuleToGraphRequest { rule: Some(rule), ..Default::default() })
        .await
        .expect("the rule writes")
        .into_inner();
    assert_eq!(written, &unary);
    let Some(Outcome::Error(error)) = &answered[3].result else { panic!("{:?}", answered[3]) };
    assert_eq!(error.code, Code::InvalidArgument as i32);
    assert!(error.message.contains("rule: required"), "{}", error.message);

    let Some(Outcome::MigrateRule(migrated)) = &answered[4].result else { panic!("{:?}", answered[4]) };
    assert_eq!(parse_json(&migrated.json), parse_json(&rule_fixture("old-get.migrated")));
    let Some(Outcome::Error(error)) = &answered[5].result else { panic!("{:?}", answered[5]) };
    assert_eq!(error.code, Code::InvalidArgument as i32, "MigrateRule takes one rule, not a collection");

    assert_eq!(answered[6].result, answered[0].result);
    server.stop().await;
}
