//! Entra ID tokens: one request for many waiting calls, reuse until shortly before expiry, a new
//! one when Graph refuses it, and each credential kind's token request (client secret, signed
//! certificate assertion, workload identity's rotated file).

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use graphbridge::pb::{GetDetectionRuleRequest, detection_rule_service_client::DetectionRuleServiceClient};
use serde_json::json;

use crate::support::{
    fake_graph::{CLIENT_ID, FakeGraph, SECRET, TENANT},
    gateway::Gateway,
    server::{TestServer, channel},
};

fn get() -> GetDetectionRuleRequest {
    GetDetectionRuleRequest { id: "r1".into() }
}

/// The token request's form fields.
fn form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

async fn serve_with(graph: &FakeGraph, credential: [&str; 2]) -> TestServer {
    let mut flags = graph.urls();
    flags.extend(credential.iter().map(|s| s.to_string()));
    TestServer::with_flags(&flags.iter().map(String::as_str).collect::<Vec<_>>()).await
}

#[tokio::test]
async fn many_concurrent_calls_share_one_token_request() {
    let gateway = Gateway::start(&[]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "x"}));
    let client = gateway.client().await;
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move { client.get_detection_rule(get()).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("served");
    }
    let tokens = gateway.graph.token_requests();
    assert_eq!(tokens.len(), 1, "one token for all");
    let form = form(&tokens[0].body);
    assert_eq!(tokens[0].uri, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(tokens[0].header("content-type"), "application/x-www-form-urlencoded");
    assert_eq!(field(&form, "grant_type"), "client_credentials");
    assert_eq!(field(&form, "client_id"), CLIENT_ID);
    assert_eq!(field(&form, "scope"), format!("http://{}/.default", gateway.graph.addr), "the Graph origin's scope");
    assert_eq!(field(&form, "client_secret"), SECRET);
    assert!(gateway.graph.graph_requests().iter().all(|r| r.header("authorization") == "Bearer token-1"));
}

#[tokio::test]
async fn a_token_is_replaced_ahead_of_its_expiry() {
    let gateway = Gateway::start(&[]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "x"}));
    // Refreshed at half its lifetime when that is under five minutes: after 1 s here.
    gateway.graph.set_token_lifetime(2);
    let mut client = gateway.client().await;
    client.get_detection_rule(get()).await.expect("served");
    client.get_detection_rule(get()).await.expect("served");
    assert_eq!(gateway.graph.token_requests().len(), 1, "still fresh");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.get_detection_rule(get()).await.expect("served");
    assert_eq!(gateway.graph.token_requests().len(), 2, "replaced before it expired");
    let last = gateway.graph.graph_requests().pop().unwrap();
    assert_eq!(last.header("authorization"), "Bearer token-2");
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_and_the_call_succeeds() {
    let gateway = Gateway::start(&[]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "x"}));
    let mut client = gateway.client().await;
    client.get_detection_rule(get()).await.expect("served");
    gateway.graph.revoke_tokens();
    client.get_detection_rule(get()).await.expect("served with a new token");
    let requests = gateway.graph.graph_requests();
    let used: Vec<&str> = requests.iter().map(|r| r.header("authorization")).collect();
    assert_eq!(used, ["Bearer token-1", "Bearer token-1", "Bearer token-2"]);
}

#[tokio::test]
async fn a_certificate_signs_a_fresh_assertion_for_each_token_request() {
    let graph = FakeGraph::start().await;
    graph.store(json!({"id": "r1", "displayName": "x"}));
    graph.set_token_lifetime(2);
    let certificate = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gateway/app-certificate.pem");
    let server = serve_with(&graph, ["--graph-client-certificate-file", certificate]).await;
    let mut client = DetectionRuleServiceClient::new(channel(server.api).await.unwrap());
    client.get_detection_rule(get()).await.expect("served");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.get_detection_rule(get()).await.expect("served");

    let assertions: Vec<String> = graph
        .token_requests()
        .iter()
        .map(|request| {
            let form = form(&request.body);
            assert_eq!(field(&form, "client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
            assert_eq!(field(&form, "client_secret"), "");
            field(&form, "client_assertion").to_owned()
        })
        .collect();
    assert_eq!(assertions.len(), 2);
    assert_ne!(assertions[0], assertions[1], "a new jti and time for each");
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(assertions[0].split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["aud"], format!("http://{}/{TENANT}/oauth2/v2.0/token", graph.addr));
    assert_eq!(claims["iss"], CLIENT_ID);
}

#[tokio::test]
async fn workload_identity_reads_the_rotated_token_file_for_each_token_request() {
    let graph = FakeGraph::start().await;
    graph.store(json!({"id": "r1", "displayName": "x"}));
    graph.set_token_lifetime(2);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, "projected-token-1").unwrap();
    graph.accept_federated_token("projected-token-1");
    let server = serve_with(&graph, ["--graph-federated-token-file", file.to_str().unwrap()]).await;
    let mut client = DetectionRuleServiceClient::new(channel(server.api).await.unwrap());
    client.get_detection_rule(get()).await.expect("served");

    // Kubernetes rotates the projected token in place; Entra ID accepts only the new one.
    std::fs::write(&file, "projected-token-2\n").unwrap();
    graph.accept_federated_token("projected-token-2");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client.get_detection_rule(get()).await.expect("served with the rotated token");
    let sent: Vec<String> =
        graph.token_requests().iter().map(|r| field(&form(&r.body), "client_assertion").to_owned()).collect();
    assert_eq!(sent, ["projected-token-1", "projected-token-2"]);
}
