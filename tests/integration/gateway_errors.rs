//! What a failed gateway call tells its caller: the gRPC code of each Graph answer, Graph's
//! message, and the details to act on (ErrorInfo, RequestInfo with Graph's request-id,
//! RetryInfo); and the refusals made before anything is sent.

use graphbridge::pb::{
    CreateDetectionRuleRequest, DeleteDetectionRuleRequest, DetectionRule, GetDetectionRuleRequest,
    UpdateDetectionRuleRequest,
};
use graphbridge_testkit::fixtures::minimal_rule;
use serde_json::json;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::support::{
    fake_graph::{FakeGraph, Scripted},
    gateway::Gateway,
    server::{TestServer, violations},
};

fn get(id: &str) -> GetDetectionRuleRequest {
    GetDetectionRuleRequest { id: id.into() }
}

fn create() -> CreateDetectionRuleRequest {
    CreateDetectionRuleRequest { rule: Some(DetectionRule { id: "r1".into(), ..minimal_rule() }) }
}

fn update() -> UpdateDetectionRuleRequest {
    UpdateDetectionRuleRequest {
        rule: Some(DetectionRule { id: "r1".into(), display_name: "x".into(), ..Default::default() }),
        update_mask: Some(prost_types::FieldMask { paths: vec!["display_name".into()] }),
    }
}

/// ErrorInfo's reason and HTTP status, and RequestInfo's request id.
fn graph_details(status: &Status) -> (String, String, String, String) {
    let info = status.get_details_error_info().expect("an ErrorInfo detail");
    let request = status.get_details_request_info().expect("a RequestInfo detail");
    let http = info.metadata.get("http_status").cloned().unwrap_or_default();
    (info.reason, info.domain, http, request.request_id)
}

#[tokio::test]
async fn each_graph_error_has_its_code_with_graphs_message_and_request_id() {
    let gateway = Gateway::start(&["--graph-max-retries", "0"]).await;
    let mut client = gateway.client().await;
    let host = "127.0.0.1";
    for (http, graph_code, code, reason) in [
        (400, "BadRequest", Code::InvalidArgument, "BAD_REQUEST"),
        (403, "Forbidden", Code::PermissionDenied, "FORBIDDEN"),
        (404, "itemNotFound", Code::NotFound, "ITEM_NOT_FOUND"),
        (409, "Conflict", Code::Aborted, "CONFLICT"),
        (412, "PreconditionFailed", Code::FailedPrecondition, "PRECONDITION_FAILED"),
        (429, "TooManyRequests", Code::ResourceExhausted, "TOO_MANY_REQUESTS"),
        (500, "InternalServerError", Code::Unavailable, "INTERNAL_SERVER_ERROR"),
        (503, "ServiceUnavailable", Code::Unavailable, "SERVICE_UNAVAILABLE"),
    ] {
        gateway.graph.script([Scripted::error(http, graph_code, &format!("Graph says {http}"))]);
        let status = client.get_detection_rule(get("r1")).await.expect_err("Graph failed");
        assert_eq!(status.code(), code, "HTTP {http}: {status:?}");
        assert_eq!(status.message(), format!("Graph: Graph says {http}"));
        let (got_reason, domain, got_http, request_id) = graph_details(&status);
        assert_eq!((got_reason.as_str(), domain.as_str(), got_http), (reason, host, http.to_string()));
        assert_eq!(request_id, format!("req-{http}-{graph_code}"), "Graph's innerError.request-id");
    }
}

#[tokio::test]
async fn a_conflict_means_exists_only_on_create() {
    let gateway = Gateway::start(&[]).await;
    let mut client = gateway.client().await;
    client.create_detection_rule(create()).await.expect("created");
    let status = client.create_detection_rule(create()).await.expect_err("exists");
    assert_eq!(status.code(), Code::AlreadyExists);
    gateway.graph.script([Scripted::error(409, "Conflict", "Changed meanwhile")]);
    let status = client.update_detection_rule(update()).await.expect_err("conflict");
    assert_eq!(status.code(), Code::Aborted);
}

#[tokio::test]
async fn throttling_past_the_retries_carries_graphs_delay_in_retry_info() {
    let gateway = Gateway::start(&["--graph-max-retries", "0"]).await;
    let mut client = gateway.client().await;
    gateway.graph.script([Scripted::throttled("7")]);
    let status = client.get_detection_rule(get("r1")).await.expect_err("throttled");
    assert_eq!(status.code(), Code::ResourceExhausted);
    let retry = status.get_details_retry_info().expect("a RetryInfo detail");
    assert_eq!(retry.retry_delay, Some(std::time::Duration::from_secs(7)));
}

#[tokio::test]
async fn a_token_graph_still_refuses_after_a_new_one_is_internal() {
    let gateway = Gateway::start(&[]).await;
    let mut client = gateway.client().await;
    let refused = || Scripted::error(401, "InvalidAuthenticationToken", "Access token has expired.");
    gateway.graph.script([refused(), refused()]);
    let status = client.get_detection_rule(get("r1")).await.expect_err("refused twice");
    assert_eq!(status.code(), Code::Internal, "graphbridge's identity failed, not the caller's: {status:?}");
    assert_eq!(gateway.graph.graph_requests().len(), 2, "one retry with a new token");
    assert_eq!(gateway.graph.token_requests().len(), 2);
}

#[tokio::test]
async fn an_unreadable_or_oversized_answer_is_an_error_never_ok() {
    let gateway = Gateway::start(&["--max-message-bytes", "4096"]).await;
    let mut client = gateway.client().await;
    for (answer, code) in [
        (Scripted::ok("{\"id\": "), Code::Internal),
        (Scripted::ok("[1,2]"), Code::Internal),
        (Scripted::ok(r#"{"value": []}"#), Code::Internal),
        (Scripted::ok("\u{1}"), Code::Internal),
        (Scripted::ok(&json!({"id": "r1", "description": "x".repeat(5000)}).to_string()), Code::ResourceExhausted),
    ] {
        gateway.graph.script([answer.clone()]);
        let status = client.get_detection_rule(get("r1")).await.expect_err("not a rule");
        assert_eq!(status.code(), code, "{}: {status:?}", &answer.body[..answer.body.len().min(40)]);
    }
}

#[tokio::test]
async fn a_callers_mistake_is_invalid_argument_and_nothing_is_sent() {
    let gateway = Gateway::start(&[]).await;
    let mut client = gateway.client().await;
    let status = client.get_detection_rule(get("")).await.unwrap_err();
    assert_eq!((status.code(), violations(&status)[0].0.as_str()), (Code::InvalidArgument, "id"));
    let status = client.create_detection_rule(CreateDetectionRuleRequest { rule: None }).await.unwrap_err();
    assert_eq!((status.code(), violations(&status)[0].0.as_str()), (Code::InvalidArgument, "rule"));
    let mut no_mask = update();
    no_mask.update_mask = None;
    let status = client.update_detection_rule(no_mask).await.unwrap_err();
    assert_eq!((status.code(), violations(&status)[0].0.as_str()), (Code::InvalidArgument, "update_mask"));
    let mut no_id = update();
    no_id.rule.as_mut().unwrap().id.clear();
    let status = client.update_detection_rule(no_id).await.unwrap_err();
    assert_eq!((status.code(), violations(&status)[0].0.as_str()), (Code::InvalidArgument, "rule.id"));
    // A create body without what Graph requires: the violations RuleToGraph reports.
    let status = client
        .create_detection_rule(CreateDetectionRuleRequest { rule: Some(DetectionRule::default()) })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(violations(&status).iter().any(|(field, _)| field == "rule.display_name"), "{:?}", violations(&status));
    assert!(gateway.graph.graph_requests().is_empty());
}

#[tokio::test]
async fn read_only_refuses_every_write_before_anything_is_sent() {
    let gateway = Gateway::start(&["--graph-read-only"]).await;
    let mut client = gateway.client().await;
    let refusals = [
        client.create_detection_rule(create()).await.unwrap_err(),
        client.update_detection_rule(update()).await.unwrap_err(),
        client.delete_detection_rule(DeleteDetectionRuleRequest { id: "r1".into() }).await.unwrap_err(),
    ];
    for status in refusals {
        assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
        assert!(status.message().contains("--graph-read-only"), "{}", status.message());
    }
    assert!(gateway.graph.graph_requests().is_empty() && gateway.graph.token_requests().is_empty());
    gateway.graph.store(json!({"id": "r1", "displayName": "x"}));
    client.get_detection_rule(get("r1")).await.expect("reads are served");
}

#[tokio::test]
async fn without_credentials_the_service_names_the_settings_and_the_translator_is_unchanged() {
    let graph = FakeGraph::start().await;
    let urls = graph.urls();
    let server = TestServer::with_flags(&urls[..4].iter().map(String::as_str).collect::<Vec<_>>()).await;
    let mut client = graphbridge::pb::detection_rule_service_client::DetectionRuleServiceClient::new(
        crate::support::server::channel(server.api).await.unwrap(),
    );
    let status = client.get_detection_rule(get("r1")).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    for flag in ["--graph-tenant-id", "--graph-client-secret-file", "--graph-federated-token-file"] {
        assert!(status.message().contains(flag), "{}", status.message());
    }
    assert!(graph.graph_requests().is_empty());
    crate::support::server::serves(&mut server.client().await).await;
}

#[tokio::test]
async fn entra_id_refusing_graphbridges_secret_is_internal_with_its_error_code() {
    let gateway = Gateway::start(&[]).await;
    std::fs::write(gateway.dir.path().join("client-secret"), "a rotated-away secret").unwrap();
    let mut client = gateway.client().await;
    let status = client.get_detection_rule(get("r1")).await.unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(status.message().contains("AADSTS7000215"), "{}", status.message());
    assert!(!status.message().contains("rotated-away"), "the secret stays out: {}", status.message());
    assert!(!status.message().contains("Trace ID"), "Entra ID's first line only: {}", status.message());
}
