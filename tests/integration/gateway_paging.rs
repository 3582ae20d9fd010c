//! Page tokens: opaque and sealed, good only with their filter, accepted by every replica that
//! shares the key; and a `@odata.nextLink` outside --graph-url is never requested.

use graphbridge::pb::{
    ListDetectionRulesRequest, ListDetectionRulesResponse, detection_rule_service_client::DetectionRuleServiceClient,
};
use serde_json::json;
use tonic::{Code, transport::Channel};

use crate::support::{
    fake_graph::{FakeGraph, Scripted},
    gateway::Gateway,
    server::violations,
};

fn list(token: &str, filter: &str) -> ListDetectionRulesRequest {
    ListDetectionRulesRequest { page_size: 2, page_token: token.into(), filter: filter.into() }
}

async fn first_page(client: &mut DetectionRuleServiceClient<Channel>, filter: &str) -> ListDetectionRulesResponse {
    client.list_detection_rules(list("", filter)).await.expect("the first page").into_inner()
}

fn store_rules(graph: &FakeGraph) {
    for i in 0..5 {
        graph.store(json!({"id": format!("r{i}"), "displayName": format!("Rule {i}")}));
    }
}

#[tokio::test]
async fn a_changed_token_or_another_filter_is_invalid_argument_and_nothing_is_sent() {
    let gateway = Gateway::start(&[]).await;
    store_rules(&gateway.graph);
    let mut client = gateway.client().await;
    let token = first_page(&mut client, "status eq 'enabled'").await.next_page_token;
    let sent = gateway.graph.graph_requests().len();

    let mut changed = token.clone().into_bytes();
    let middle = changed.len() / 2;
    changed[middle] = if changed[middle] == b'A' { b'B' } else { b'A' };
    for (token, filter) in [
        (String::from_utf8(changed).unwrap(), "status eq 'enabled'"),
        (token.clone(), "status eq 'disabled'"),
        (token.clone(), ""),
        ("not a token".to_owned(), "status eq 'enabled'"),
    ] {
        let status = client.list_detection_rules(list(&token, filter)).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(violations(&status)[0].0, "page_token");
    }
    assert_eq!(gateway.graph.graph_requests().len(), sent, "nothing sent for a refused token");
    client.list_detection_rules(list(&token, "status eq 'enabled'")).await.expect("the untouched token works");
}

#[tokio::test]
async fn replicas_sharing_the_key_accept_each_others_tokens_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("page-token-key");
    std::fs::write(&key, b"0123456789abcdef0123456789abcdef-shared").unwrap();
    let key = key.to_str().unwrap();
    let replica_a = Gateway::start(&["--page-token-key-file", key]).await;
    store_rules(&replica_a.graph);
    let token = first_page(&mut replica_a.client().await, "").await.next_page_token;

    // Replica B: same key, its own process state, the same Graph URL shape (its own fake).
    let replica_b = Gateway::start(&["--page-token-key-file", key]).await;
    store_rules(&replica_b.graph);
    let page = replica_b.client().await.list_detection_rules(list(&token, "")).await.expect("accepted").into_inner();
    assert_eq!(page.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["r2", "r3"]);

    let own_key = Gateway::start(&[]).await;
    let status = own_key.client().await.list_detection_rules(list(&token, "")).await.expect_err("another key");
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_next_link_outside_the_graph_url_fails_the_call_and_is_never_requested() {
    let gateway = Gateway::start(&[]).await;
    let elsewhere = FakeGraph::start().await;
    let own = format!("http://{}", gateway.graph.addr);
    for next_link in [
        format!("http://{}/beta/security/rules/detectionRules?$skiptoken=2", elsewhere.addr),
        format!("{own}/beta/users?$skiptoken=2"),
        format!("{own}/v1.0/security/rules/detectionRules?$skiptoken=2"),
        format!("{own}/beta/security/rules/detectionRulesX?$skiptoken=2"),
        "https://graph.microsoft.com/beta/security/rules/detectionRules?$skiptoken=2".to_owned(),
    ] {
        let collection = json!({"value": [{"id": "r1", "displayName": "x"}], "@odata.nextLink": next_link});
        gateway.graph.script([Scripted::ok(&collection.to_string())]);
        let status = gateway.client().await.list_detection_rules(list("", "")).await.expect_err("not followed");
        assert_eq!(status.code(), Code::Internal, "{next_link}: {status:?}");
        assert!(status.message().contains("nextLink"), "{}", status.message());
    }
    assert!(elsewhere.graph_requests().is_empty() && elsewhere.token_requests().is_empty());
    assert_eq!(gateway.graph.graph_requests().len(), 5, "only the first pages were requested");
}
