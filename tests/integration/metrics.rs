//! The admin port's HTTP side: /metrics reflects calls; /livez and /readyz answer.

use graphbridge::pb::{FromGraphRequest, ToGraphRequest};

use crate::support::server::{TestServer, http_get};

#[tokio::test]
async fn metrics_count_calls_codes_bytes_and_unknown_data() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    client.to_graph(ToGraphRequest::default()).await.unwrap();
    let graph = r##"[{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha1,sha3","x":1},
                     {"@odata.type":"#microsoft.graph.security.futureResponseAction"}]"##;
    client.from_graph(FromGraphRequest { json: graph.into(), ..Default::default() }).await.unwrap();
    client.from_graph(FromGraphRequest { json: "{".into(), ..Default::default() }).await.unwrap_err();

    let (status, text) = http_get(server.admin, "/metrics").await;
    assert_eq!(status, 200);
    for expected in [
        r#"graphbridge_requests_total{method="ToGraph",code="OK"} 1"#,
        r#"graphbridge_requests_total{method="FromGraph",code="OK"} 1"#,
        r#"graphbridge_requests_total{method="FromGraph",code="INVALID_ARGUMENT"} 1"#,
        r#"graphbridge_request_duration_seconds_count{method="FromGraph"} 2"#,
        r#"graphbridge_unknown_data_total{kind="enum_member",graph_type="blockFileResponseAction"} 1"#,
        r#"graphbridge_unknown_data_total{kind="property",graph_type="blockFileResponseAction"} 1"#,
        r#"graphbridge_unknown_data_total{kind="type",graph_type="microsoft.graph.security.futureResponseAction"} 1"#,
        "graphbridge_in_flight_requests 0",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    let request_bytes: u64 = text
        .lines()
        .find_map(|line| line.strip_prefix(r#"graphbridge_request_bytes_total{method="FromGraph"} "#))
        .and_then(|n| n.parse().ok())
        .expect("request bytes of FromGraph");
    assert!(request_bytes > graph.len() as u64, "{request_bytes}");
    server.stop().await;
}

#[tokio::test]
async fn livez_and_readyz_answer_ok_while_serving() {
    let server = TestServer::start().await;
    assert_eq!(http_get(server.admin, "/livez").await, (200, "ok\n".to_owned()));
    assert_eq!(http_get(server.admin, "/readyz").await, (200, "ok\n".to_owned()));
    assert_eq!(http_get(server.admin, "/nope").await.0, 404);
    server.stop().await;
}
