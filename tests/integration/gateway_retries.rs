//! Retries, throttling and deadlines: what is sent again and when, against the fake Graph.
//! Times are only lower bounds (a wait Graph asked for) or "failed before the deadline": never
//! how fast something ran.

use std::time::{Duration, Instant, SystemTime};

use graphbridge::pb::{CreateDetectionRuleRequest, DetectionRule, GetDetectionRuleRequest};
use graphbridge_testkit::fixtures::minimal_rule;
use serde_json::json;
use tonic::Code;

use crate::support::{
    fake_graph::Scripted,
    gateway::{Gateway, within},
    server::{TestServer, http_get},
};

fn get() -> GetDetectionRuleRequest {
    GetDetectionRuleRequest { id: "r1".into() }
}

fn create() -> CreateDetectionRuleRequest {
    CreateDetectionRuleRequest { rule: Some(DetectionRule { id: "r1".into(), ..minimal_rule() }) }
}

async fn stored() -> Gateway {
    let gateway = Gateway::start(&[]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "Rule one"}));
    gateway
}

#[tokio::test]
async fn throttling_is_waited_out_as_retry_after_says_in_each_of_its_forms() {
    // Delays in seconds, and (None) an HTTP date, with the least wait each asks for.
    for (seconds, at_least) in [(Some("1"), 1000), (Some("0.4"), 400), (None, 1000)] {
        let gateway = stored().await;
        // An HTTP date holds whole seconds: made 3 s ahead just before the call, it asks for over
        // 2 s. (Made before the loop, it could be past by now on a slow machine: the other forms
        // wait 1.4 s.)
        let retry_after =
            seconds.map_or_else(|| httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3)), str::to_owned);
        let retry_after = retry_after.as_str();
        gateway.graph.script([Scripted::throttled(retry_after)]);
        let rule = gateway.client().await.get_detection_rule(get()).await.expect("served after the wait");
        assert_eq!(rule.into_inner().display_name, "Rule one");
        let requests = gateway.graph.graph_requests();
        assert_eq!(requests.len(), 2, "{retry_after}");
        let waited = requests[1].at - requests[0].at;
        assert!(waited >= Duration::from_millis(at_least), "{retry_after}: sent again after {waited:?}");
        assert_eq!(
            requests[0].header("client-request-id"),
            requests[1].header("client-request-id"),
            "one client-request-id for a request and its retries"
        );
    }
}

#[tokio::test]
async fn a_post_that_got_a_503_is_sent_once_but_a_throttled_post_is_sent_again() {
    let gateway = Gateway::start(&[]).await;
    let mut client = gateway.client().await;
    gateway.graph.script([Scripted::error(503, "ServiceUnavailable", "Try later")]);
    let status = client.create_detection_rule(create()).await.expect_err("not retried");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(gateway.graph.graph_requests().len(), 1, "Graph may have created it: never sent twice");

    gateway.graph.script([Scripted::throttled("0.1")]);
    client.create_detection_rule(create()).await.expect("created after the throttle");
    assert_eq!(gateway.graph.graph_requests().len(), 3);
}

#[tokio::test]
async fn reads_are_retried_on_transient_failures_up_to_the_limit() {
    let gateway = stored().await;
    let mut client = gateway.client().await;
    let unavailable = || Scripted::error(503, "ServiceUnavailable", "Try later");
    gateway.graph.script([
        Scripted::error(502, "BadGateway", "x"),
        unavailable(),
        Scripted::error(504, "GatewayTimeout", "x"),
    ]);
    client.get_detection_rule(get()).await.expect("the fourth attempt answers");
    assert_eq!(gateway.graph.graph_requests().len(), 4);

    gateway.graph.script([unavailable(), unavailable(), unavailable(), unavailable()]);
    let status = client.get_detection_rule(get()).await.expect_err("three retries, then the error");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(gateway.graph.graph_requests().len(), 8);
    let (_, metrics) = http_get(gateway.server.admin, "/metrics").await;
    assert!(metrics.contains(r#"graphbridge_graph_retries_total{reason="unavailable"} 6"#), "{metrics}");
}

#[tokio::test]
async fn a_wait_past_the_callers_deadline_fails_at_once() {
    let gateway = stored().await;
    let mut client = gateway.client().await;
    gateway.graph.script([Scripted::throttled("30")]);
    let started = Instant::now();
    let status = client.get_detection_rule(within(get(), 5000)).await.expect_err("cannot wait 30 s");
    assert_eq!(status.code(), Code::ResourceExhausted, "failed at once, not at the deadline: {status:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(gateway.graph.graph_requests().len(), 1);
    use tonic_types::StatusExt;
    assert_eq!(status.get_details_retry_info().unwrap().retry_delay, Some(Duration::from_secs(30)));

    // The window is shared: the next call does not add to Graph's count either.
    let status = client.get_detection_rule(within(get(), 5000)).await.expect_err("still throttled");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(gateway.graph.graph_requests().len(), 1, "nothing sent during the window");
}

/// Found by the retry_after fuzz target: an absurd delay overflowed the deadline arithmetic.
#[tokio::test]
async fn an_absurd_retry_after_is_resource_exhausted_not_a_panic() {
    let gateway = stored().await;
    let mut client = gateway.client().await;
    for retry_after in ["10000000000000000000", "9999999999999999999.5"] {
        gateway.graph.script([Scripted::throttled(retry_after)]);
        let status = client.get_detection_rule(within(get(), 5000)).await.expect_err("not waited");
        assert_eq!(status.code(), Code::ResourceExhausted, "{retry_after}: {status:?}");
    }
}

#[tokio::test]
async fn without_a_deadline_a_wait_over_a_minute_is_not_made() {
    let gateway = stored().await;
    let mut client = gateway.client().await;
    gateway.graph.script([Scripted::throttled("120")]);
    for _ in 0..2 {
        let status = client.get_detection_rule(get()).await.expect_err("not waited");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert!(status.message().contains("(60s)"), "{}", status.message());
    }
    assert_eq!(gateway.graph.graph_requests().len(), 1, "the second call kept out of the window too");
}

#[tokio::test]
async fn calls_wait_for_the_throttling_window_another_call_was_given() {
    let gateway = stored().await;
    gateway.graph.script([Scripted::throttled("1.5")]);
    let (mut first, mut second) = (gateway.client().await, gateway.client().await);
    let throttled = tokio::spawn(async move { first.get_detection_rule(get()).await });
    while gateway.graph.graph_requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    second.get_detection_rule(get()).await.expect("served after the window");
    throttled.await.unwrap().expect("served after the window");
    let requests = gateway.graph.graph_requests();
    assert_eq!(requests.len(), 3);
    for later in &requests[1..] {
        let after = later.at - requests[0].at;
        assert!(after >= Duration::from_millis(1400), "sent {after:?} into a 1.5 s window");
    }
}

#[tokio::test]
async fn a_slow_graph_is_bounded_by_the_timeout_and_the_deadline() {
    let gateway = Gateway::start(&["--graph-timeout", "300ms", "--graph-max-retries", "1"]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "Rule one"}));
    gateway.graph.set_delay(Duration::from_secs(3));
    let mut client = gateway.client().await;
    let status = client.get_detection_rule(get()).await.expect_err("too slow");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("--graph-timeout"), "{}", status.message());
    assert_eq!(gateway.graph.graph_requests().len(), 2, "a read that timed out is sent again once");

    let slow = Gateway::start(&[]).await;
    slow.graph.set_delay(Duration::from_secs(5));
    let status = slow.client().await.get_detection_rule(within(get(), 500)).await.expect_err("past the deadline");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
}

#[tokio::test]
async fn a_connection_that_fails_before_sending_is_retried_even_for_a_post() {
    // A port that was just closed: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let gateway = Gateway::start(&[]).await;
    let dir = &gateway.dir;
    let secret = dir.path().join("client-secret");
    let authority = format!("http://{}", gateway.graph.addr);
    let graph_url = format!("http://{closed}/beta");
    let flags = [
        "--graph-url",
        &graph_url,
        "--graph-authority-url",
        &authority,
        "--graph-tenant-id",
        crate::support::fake_graph::TENANT,
        "--graph-client-id",
        crate::support::fake_graph::CLIENT_ID,
        "--graph-client-secret-file",
        secret.to_str().unwrap(),
    ];
    let server = TestServer::with_flags(&flags).await;
    let mut client = graphbridge::pb::detection_rule_service_client::DetectionRuleServiceClient::new(
        crate::support::server::channel(server.api).await.unwrap(),
    );
    let status = client.create_detection_rule(create()).await.expect_err("nothing listens");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("cannot connect"), "{}", status.message());
    let (_, metrics) = http_get(server.admin, "/metrics").await;
    assert!(metrics.contains(r#"graphbridge_graph_retries_total{reason="connect"} 3"#), "{metrics}");
}
