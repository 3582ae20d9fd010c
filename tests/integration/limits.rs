//! Limits: overload sheds at once while health keeps answering, oversize and deadline codes.

use std::time::{Duration, Instant};

use graphbridge::pb::{
    BlockFileResponseAction, FromGraphRequest, ResponseAction, ToGraphRequest, TranslateStreamRequest,
    response_action::Action, translate_stream_request::Request, translate_stream_response,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::support::server::{TestServer, channel, http_get, still_serves};

async fn health(addr: std::net::SocketAddr) -> ServingStatus {
    let mut client = HealthClient::new(channel(addr).await.expect("connect"));
    client.check(HealthCheckRequest::default()).await.expect("health answers").into_inner().status()
}

#[tokio::test]
async fn overload_sheds_at_once_while_health_answers_and_recovers() {
    let server = TestServer::with_flags(&["--max-concurrent-requests", "1"]).await;
    let mut client = server.client().await;

    // An open stream holds the only permit; its first answer proves the server took it.
    let (items, inbound) = tokio::sync::mpsc::channel(4);
    let mut answers = client.translate_stream(ReceiverStream::new(inbound)).await.unwrap().into_inner();
    let item = Request::FromGraph(FromGraphRequest { json: "[]".into(), ..Default::default() });
    items.send(TranslateStreamRequest { id: "1".into(), request: Some(item) }).await.unwrap();
    assert_eq!(answers.message().await.unwrap().unwrap().id, "1");

    let started = Instant::now();
    let status = client.to_graph(ToGraphRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(status.message().contains("--max-concurrent-requests"), "{}", status.message());
    assert!(started.elapsed() < Duration::from_secs(5), "shed at once, not queued");
    let status = client.translate_stream(tokio_stream::empty()).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted);
    // Refused from its headers: not one byte of a 1 MB body was read.
    let large = FromGraphRequest { json: format!("[{}]", " ".repeat(1 << 20)), ..Default::default() };
    assert_eq!(client.from_graph(large).await.unwrap_err().code(), Code::ResourceExhausted);

    assert_eq!(health(server.api).await, ServingStatus::Serving);
    assert_eq!(health(server.admin).await, ServingStatus::Serving);
    assert_eq!(http_get(server.admin, "/readyz").await.0, 200);
    let (_, metrics) = http_get(server.admin, "/metrics").await;
    assert!(metrics.contains(r#"graphbridge_shed_requests_total{method="ToGraph"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"graphbridge_in_flight_requests 1"#), "{metrics}");
    assert!(metrics.contains(r#"graphbridge_request_bytes_total{method="FromGraph"} 0"#), "{metrics}");

    // Closing the stream frees the permit: the next call succeeds.
    drop(items);
    assert!(answers.message().await.unwrap().is_none());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match client.to_graph(ToGraphRequest::default()).await {
            Ok(response) => break assert_eq!(response.into_inner().json, "[]"),
            Err(status) if status.code() == Code::ResourceExhausted && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(status) => panic!("did not recover: {status:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn an_oversize_request_message_is_resource_exhausted() {
    let server = TestServer::with_flags(&["--max-message-bytes", "4096"]).await;
    let mut client = server.client().await;
    let action = ResponseAction {
        action: Some(Action::BlockFile(BlockFileResponseAction { identifier: vec![1], device_group_names: vec![] })),
        additional_data: [("note".to_owned(), format!("\"{}\"", "x".repeat(5000)))].into(),
    };
    let status = client.to_graph(ToGraphRequest { actions: vec![action], ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().starts_with("request is 50"), "{}", status.message());
    server.stop().await;
}

/// The rule RPCs sit behind the same limits: a rule too large to read, and a migration whose
/// answer (the rule twice, as JSON and as protobuf) would be too large to send.
#[tokio::test]
async fn oversize_rules_are_resource_exhausted() {
    let server = TestServer::with_flags(&["--max-message-bytes", "4096"]).await;
    let mut client = server.client().await;
    let big = format!(r#"{{"displayName":"{}"}}"#, "x".repeat(5000));
    let request = graphbridge::pb::RuleFromGraphRequest { json: big, ..Default::default() };
    let status = client.rule_from_graph(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let near = format!(r#"{{"displayName":"{}"}}"#, "x".repeat(2500));
    let request = graphbridge::pb::MigrateRuleRequest { json: near, ..Default::default() };
    let status = client.migrate_rule(request).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().starts_with("the response is"), "{}", status.message());
    still_serves(&server, &mut client).await;
    server.stop().await;
}

#[tokio::test]
async fn a_stream_item_over_the_limit_ends_the_stream_after_the_items_before_it() {
    let server = TestServer::with_flags(&["--max-message-bytes", "4096", "--max-in-flight-bytes", "65536"]).await;
    let mut client = server.client().await;
    let item = |id: &str, json: String| TranslateStreamRequest {
        id: id.into(),
        request: Some(Request::FromGraph(FromGraphRequest { json, ..Default::default() })),
    };
    let items =
        vec![item("small", "[]".into()), item("large", format!("[{}]", " ".repeat(5000))), item("after", "[]".into())];
    let mut answers = client.translate_stream(tokio_stream::iter(items)).await.unwrap().into_inner();
    assert_eq!(answers.message().await.unwrap().unwrap().id, "small");
    let status = answers.message().await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().starts_with("request is 50"), "{}", status.message());
    assert!(status.message().ends_with("over the limit of 4096 bytes (--max-message-bytes)"), "{}", status.message());
    server.stop().await;
}

#[tokio::test]
async fn a_request_over_its_time_is_deadline_exceeded_and_the_server_goes_on() {
    let server = TestServer::with_flags(&["--request-timeout", "1ms"]).await;
    let mut client = server.client().await;
    // About 3 MB of actions: well past the inline threshold, so it runs on the timed blocking pool.
    let action = r##"{"@odata.type":"#microsoft.graph.security.hardDeleteResponseAction","identifier":"networkMessageId","n":[1,2,3]}"##;
    let json = format!("[{}]", vec![action; 30_000].join(","));
    let status = client.from_graph(FromGraphRequest { json, ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("--request-timeout"), "{}", status.message());

    let small = client.from_graph(FromGraphRequest { json: format!("[{action}]"), ..Default::default() }).await;
    assert_eq!(small.unwrap().into_inner().actions.len(), 1, "small requests run inline, untimed");
    server.stop().await;
}

#[tokio::test]
async fn a_stream_item_over_its_time_is_answered_in_band_and_the_stream_goes_on() {
    let server = TestServer::with_flags(&["--request-timeout", "1ms"]).await;
    let mut client = server.client().await;
    let action = r##"{"@odata.type":"#microsoft.graph.security.hardDeleteResponseAction","identifier":"networkMessageId","n":[1,2,3]}"##;
    let item = |id: &str, json: String| TranslateStreamRequest {
        id: id.into(),
        request: Some(Request::FromGraph(FromGraphRequest { json, ..Default::default() })),
    };
    let large = format!("[{}]", vec![action; 30_000].join(","));
    let items = vec![item("large", large), item("after", format!("[{action}]"))];
    let mut answers = client.translate_stream(tokio_stream::iter(items)).await.unwrap().into_inner();
    let timed_out = answers.message().await.unwrap().unwrap();
    assert_eq!(timed_out.id, "large");
    let Some(translate_stream_response::Result::Error(status)) = timed_out.result else {
        panic!("{} was answered, not timed out", timed_out.id)
    };
    assert_eq!(Code::from(status.code), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message.contains("--request-timeout"), "{}", status.message);
    let after = answers.message().await.unwrap().unwrap();
    assert_eq!(after.id, "after");
    assert!(matches!(after.result, Some(translate_stream_response::Result::FromGraph(_))), "{:?}", after.id);
    assert!(answers.message().await.unwrap().is_none());
    server.stop().await;
}
