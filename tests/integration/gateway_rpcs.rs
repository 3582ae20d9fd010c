//! DetectionRuleService's five RPCs against the fake Graph: the Graph request each sends (method,
//! path, headers, body as RuleToGraph writes it) and the protobuf it answers (as RuleFromGraph
//! reads Graph's answer, unknown data kept and counted).

use graphbridge::pb::{
    CreateDetectionRuleRequest, DeleteDetectionRuleRequest, GetDetectionRuleRequest, ListDetectionRulesRequest,
    RuleToGraphRequest, UpdateDetectionRuleRequest,
};
use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::{
    fixtures::{minimal_rule, rule_fixture},
    json::parse_json,
};
use serde_json::json;
use tonic::Code;

use crate::support::{fake_graph::Scripted, gateway::Gateway, server::http_get};

#[tokio::test]
async fn create_posts_the_rule_as_rule_to_graph_writes_it_and_answers_what_graph_stored() {
    let gateway = Gateway::start(&[]).await;
    let mut client = gateway.client().await;
    let rule = graphbridge::pb::DetectionRule { id: "encoded-powershell".into(), ..minimal_rule() };
    let created = client
        .create_detection_rule(CreateDetectionRuleRequest { rule: Some(rule.clone()) })
        .await
        .expect("created")
        .into_inner();

    let requests = gateway.graph.graph_requests();
    assert_eq!(requests.len(), 1);
    let post = &requests[0];
    assert_eq!((post.method.as_str(), post.uri.as_str()), ("POST", "/beta/security/rules/detectionRules"));
    assert_eq!(post.header("content-type"), "application/json");
    assert_eq!(post.header("authorization"), "Bearer token-1");
    let expected = translate::rule_to_graph(
        &Limits::UNBOUNDED,
        &RuleToGraphRequest { rule: Some(rule.clone()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(parse_json(&post.body), parse_json(&expected.json), "the body RuleToGraph writes");
    // The fake adds createdBy, as Graph sets it: the answer is Graph's entity, not the request.
    assert_eq!(created.id, "encoded-powershell");
    assert_eq!(created.display_name, rule.display_name);
    assert_eq!(created.created_by, "graphbridge-app");
}

#[tokio::test]
async fn get_reads_graphs_entity_with_unknown_enum_members_by_name_kept_and_counted() {
    let gateway = Gateway::start(&[]).await;
    let mut entity = parse_json(&rule_fixture("new-get"));
    entity["futureProperty"] = json!({"a": 1});
    let id = entity["id"].as_str().unwrap().to_owned();
    gateway.graph.store(entity);
    let mut client = gateway.client().await;
    let rule = client.get_detection_rule(GetDetectionRuleRequest { id: id.clone() }).await.expect("read").into_inner();

    assert_eq!(rule.id, id);
    assert_eq!(rule.additional_data.get("futureProperty").map(String::as_str), Some(r#"{"a":1}"#));
    let get = &gateway.graph.graph_requests()[0];
    assert_eq!(get.uri, format!("/beta/security/rules/detectionRules/{id}"));
    assert_eq!(get.header("prefer"), "include-unknown-enum-members");
    let client_request_id = get.header("client-request-id");
    assert_eq!(client_request_id.len(), 36, "a UUID: {client_request_id}");
    let (_, metrics) = http_get(gateway.server.admin, "/metrics").await;
    assert!(
        metrics.contains(r#"graphbridge_unknown_data_total{kind="property",graph_type="detectionRule"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"graphbridge_graph_requests_total{method="GET",status="200"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"graphbridge_token_requests_total{outcome="ok"} 1"#), "{metrics}");
}

#[tokio::test]
async fn an_id_is_one_path_segment_whatever_it_holds() {
    let gateway = Gateway::start(&[]).await;
    let mut client = gateway.client().await;
    let status = client
        .get_detection_rule(GetDetectionRuleRequest { id: "../../users/x?$top=1#".into() })
        .await
        .expect_err("no such rule");
    assert_eq!(status.code(), Code::NotFound);
    assert_eq!(
        gateway.graph.graph_requests()[0].uri,
        "/beta/security/rules/detectionRules/..%2F..%2Fusers%2Fx%3F%24top%3D1%23"
    );
}

#[tokio::test]
async fn update_patches_only_the_masked_fields_and_answers_the_whole_rule() {
    let gateway = Gateway::start(&[]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "Old name", "description": "kept"}));
    let mut client = gateway.client().await;
    let request = UpdateDetectionRuleRequest {
        rule: Some(graphbridge::pb::DetectionRule {
            id: "r1".into(),
            display_name: "New name".into(),
            description: "not masked: not sent".into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
    };
    let updated = client.update_detection_rule(request).await.expect("updated").into_inner();
    assert_eq!((updated.display_name.as_str(), updated.description.as_str()), ("New name", "kept"));
    let patch = &gateway.graph.graph_requests()[0];
    assert_eq!((patch.method.as_str(), patch.uri.as_str()), ("PATCH", "/beta/security/rules/detectionRules/r1"));
    assert_eq!(parse_json(&patch.body), json!({"displayName": "New name"}));
}

#[tokio::test]
async fn an_update_graph_answers_with_204_is_read_back() {
    let gateway = Gateway::start(&[]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "Stored name"}));
    gateway.graph.script([Scripted { status: 204, headers: Vec::new(), body: String::new() }]);
    let request = UpdateDetectionRuleRequest {
        rule: Some(graphbridge::pb::DetectionRule { id: "r1".into(), display_name: "x".into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
    };
    let rule = gateway.client().await.update_detection_rule(request).await.expect("updated").into_inner();
    assert_eq!(rule.display_name, "Stored name", "the rule as Graph holds it");
    let methods: Vec<String> = gateway.graph.graph_requests().iter().map(|r| r.method.to_string()).collect();
    assert_eq!(methods, ["PATCH", "GET"]);
}

#[tokio::test]
async fn delete_answers_empty_on_graphs_204() {
    let gateway = Gateway::start(&[]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "x"}));
    let mut client = gateway.client().await;
    client.delete_detection_rule(DeleteDetectionRuleRequest { id: "r1".into() }).await.expect("deleted");
    assert!(gateway.graph.rule("r1").is_none());
    let status = client.delete_detection_rule(DeleteDetectionRuleRequest { id: "r1".into() }).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn list_pages_through_every_rule_with_the_filter_sent_once_encoded() {
    let gateway = Gateway::start(&[]).await;
    for i in 0..7 {
        gateway.graph.store(json!({"id": format!("r{i}"), "displayName": format!("Rule {i}")}));
    }
    let mut client = gateway.client().await;
    let filter = "status eq 'enabled'";
    let (mut ids, mut token, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let request = ListDetectionRulesRequest { page_size: 3, page_token: token.clone(), filter: filter.into() };
        let page = client.list_detection_rules(request).await.expect("a page").into_inner();
        pages += 1;
        ids.extend(page.rules.into_iter().map(|rule| rule.id));
        if page.next_page_token.is_empty() {
            break;
        }
        assert!(!page.next_page_token.contains("skiptoken"), "opaque: {}", page.next_page_token);
        token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(ids, (0..7).map(|i| format!("r{i}")).collect::<Vec<_>>());
    let uris: Vec<String> = gateway.graph.graph_requests().into_iter().map(|r| r.uri).collect();
    assert_eq!(uris[0], "/beta/security/rules/detectionRules?$top=3&$filter=status%20eq%20%27enabled%27");
    assert_eq!(uris[1], "/beta/security/rules/detectionRules?$top=3&$skiptoken=3", "Graph's nextLink, as given");
}

#[tokio::test]
async fn page_size_defaults_to_100_and_is_capped_at_500() {
    let gateway = Gateway::start(&[]).await;
    let mut client = gateway.client().await;
    for (page_size, top) in [(0, 100), (7, 7), (100_000, 500)] {
        let request = ListDetectionRulesRequest { page_size, ..Default::default() };
        client.list_detection_rules(request).await.expect("a page");
        let uri = gateway.graph.graph_requests().pop().unwrap().uri;
        assert_eq!(uri, format!("/beta/security/rules/detectionRules?$top={top}"));
    }
    let status = client
        .list_detection_rules(ListDetectionRulesRequest { page_size: -1, ..Default::default() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().starts_with("page_size:"), "{}", status.message());
}
