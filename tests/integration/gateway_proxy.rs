//! `--graph-proxy`: every connection to Graph and Entra ID is a CONNECT tunnel through the
//! proxy, with its credentials; a proxy that refuses the tunnel fails the call as UNAVAILABLE,
//! naming the proxy, and nothing reaches Graph.

use graphbridge::pb::GetDetectionRuleRequest;
use serde_json::json;
use tonic::Code;

use crate::support::{connect_proxy::ConnectProxy, gateway::Gateway};

fn get() -> GetDetectionRuleRequest {
    GetDetectionRuleRequest { id: "r1".into() }
}

/// A credentials file, and the Proxy-Authorization it stands for.
fn credentials(dir: &tempfile::TempDir) -> (String, &'static str) {
    let path = dir.path().join("proxy-credentials");
    std::fs::write(&path, "svc-graphbridge:s3cret:with-colon\n").expect("write the proxy credentials");
    // base64("svc-graphbridge:s3cret:with-colon")
    (path.display().to_string(), "Basic c3ZjLWdyYXBoYnJpZGdlOnMzY3JldDp3aXRoLWNvbG9u")
}

#[tokio::test]
async fn entra_id_and_graph_are_reached_through_the_proxy_with_its_credentials() {
    let proxy = ConnectProxy::tunnelling().await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (file, authorization) = credentials(&dir);
    let gateway = Gateway::start(&["--graph-proxy", &proxy.url(), "--graph-proxy-credentials-file", &file]).await;
    gateway.graph.store(json!({"id": "r1", "displayName": "Rule one"}));

    let rule = gateway.client().await.get_detection_rule(get()).await.expect("served through the proxy");
    assert_eq!(rule.into_inner().display_name, "Rule one");

    assert_eq!(gateway.graph.token_requests().len(), 1);
    assert_eq!(gateway.graph.graph_requests().len(), 1);
    let connects = proxy.connects();
    assert!(!connects.is_empty(), "no connection went through the proxy");
    for connect in connects {
        assert_eq!(connect.target, gateway.graph.addr.to_string(), "tunnelled to Graph's host and port");
        assert_eq!(connect.authorization.as_deref(), Some(authorization));
    }
}

#[tokio::test]
async fn a_proxy_that_refuses_the_tunnel_fails_the_call_as_unavailable_naming_the_proxy() {
    for (status, says) in [(407, "proxy authorization required"), (403, "unsuccessful")] {
        let proxy = ConnectProxy::refusing(status).await;
        let gateway = Gateway::start(&["--graph-proxy", &proxy.url(), "--graph-max-retries", "0"]).await;
        gateway.graph.store(json!({"id": "r1", "displayName": "Rule one"}));

        let status = gateway.client().await.get_detection_rule(get()).await.expect_err("the proxy refused");
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        let message = status.message();
        assert!(message.contains(&format!("through the proxy {}", proxy.addr)) && message.contains(says), "{message}");
        assert!(!proxy.connects().is_empty(), "the tunnel was asked for");
        assert!(gateway.graph.token_requests().is_empty() && gateway.graph.graph_requests().is_empty());
    }
}
