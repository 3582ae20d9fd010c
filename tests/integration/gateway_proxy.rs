//! `--graph-proxy`: every connection to Graph and Entra ID is a CONNECT tunnel through the
//! proxy, with its credentials; a proxy that refuses the tunnel fails the call as UNAVAILABLE,
//! naming the proxy and its answer, and nothing reaches Graph. Against the test kit's proxy,
//! which records what it was asked, and against a real one: tinyproxy (Debian's tinyproxy-bin,
//! which `scripts/test` installs), checking the credentials itself.

use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use graphbridge::pb::GetDetectionRuleRequest;
use serde_json::json;
use tonic::Code;

use crate::support::{child::TIMEOUT, connect_proxy::ConnectProxy, gateway::Gateway, tool_on_path};

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
async fn a_proxy_that_refuses_the_tunnel_fails_the_call_as_unavailable_saying_what_it_answered() {
    for status in [407, 403] {
        let proxy = ConnectProxy::refusing(status).await;
        let gateway = Gateway::start(&["--graph-proxy", &proxy.url(), "--graph-max-retries", "0"]).await;
        gateway.graph.store(json!({"id": "r1", "displayName": "Rule one"}));

        let error = gateway.client().await.get_detection_rule(get()).await.expect_err("the proxy refused");
        assert_eq!(error.code(), Code::Unavailable, "{error:?}");
        let message = error.message();
        let says = format!("through the proxy {}: it refused the tunnel: HTTP/1.1 {status} Refused", proxy.addr);
        assert!(message.contains(&says), "{message}");
        assert!(!proxy.connects().is_empty(), "the tunnel was asked for");
        assert!(gateway.graph.token_requests().is_empty() && gateway.graph.graph_requests().is_empty());
    }
}

/// tinyproxy on a free port of 127.0.0.1, asking for Basic credentials; stopped when dropped.
struct Tinyproxy {
    addr: SocketAddr,
    child: Child,
    /// Its configuration and log.
    dir: tempfile::TempDir,
}

impl Tinyproxy {
    const USER: &str = "svc-graphbridge";
    /// tinyproxy's configuration takes no ':' in a password.
    const PASSWORD: &str = "s3cret-pass";

    async fn start() -> Self {
        let binary = tool_on_path("tinyproxy", "run scripts/test, or apt-get install tinyproxy-bin");
        // A port that was free a moment ago: tinyproxy cannot be given port 0.
        let addr = TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("tinyproxy.conf");
        let log = dir.path().join("tinyproxy.log");
        let (user, password) = (Self::USER, Self::PASSWORD);
        std::fs::write(
            &config,
            format!(
                "Port {}\nListen 127.0.0.1\nTimeout 30\nMaxClients 16\nBasicAuth {user} {password}\n\
                 LogFile \"{}\"\nLogLevel Connect\n",
                addr.port(),
                log.display()
            ),
        )
        .expect("write tinyproxy's configuration");
        let child = Command::new(binary)
            .args(["-d", "-c"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tinyproxy");
        let proxy = Tinyproxy { addr, child, dir };
        let deadline = Instant::now() + TIMEOUT;
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(Instant::now() < deadline, "tinyproxy is not listening on {addr}:\n{}", proxy.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        proxy
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("tinyproxy.log")).unwrap_or_default()
    }

    /// A credentials file for the gateway: tinyproxy's own, or a wrong password.
    fn credentials(&self, right: bool) -> PathBuf {
        let path = self.dir.path().join(if right { "right" } else { "wrong" });
        let password = if right { Self::PASSWORD } else { "not-the-password" };
        std::fs::write(&path, format!("{}:{password}\n", Self::USER)).expect("write the proxy credentials");
        path
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn tinyproxy_tunnels_the_gateway_with_the_right_credentials_and_refuses_the_wrong_ones() {
    let proxy = Tinyproxy::start().await;
    for right in [true, false] {
        let credentials = proxy.credentials(right).display().to_string();
        let flags = ["--graph-proxy", &proxy.url(), "--graph-proxy-credentials-file", &credentials];
        let gateway = Gateway::start(&[&flags[..], &["--graph-max-retries", "0"]].concat()).await;
        gateway.graph.store(json!({"id": "r1", "displayName": "Rule one"}));
        let answer = gateway.client().await.get_detection_rule(get()).await;
        if right {
            let rule = answer.unwrap_or_else(|error| panic!("{error:?}; tinyproxy's log:\n{}", proxy.log()));
            assert_eq!(rule.into_inner().display_name, "Rule one");
            let connect = format!("CONNECT {} HTTP/1.1", gateway.graph.addr);
            assert!(proxy.log().contains(&connect), "{connect:?} not in tinyproxy's log:\n{}", proxy.log());
        } else {
            let error = answer.expect_err("tinyproxy refused the credentials");
            assert_eq!(error.code(), Code::Unavailable, "{error:?}");
            // tinyproxy answers wrong credentials with 401, not 407.
            let says = format!("through the proxy {}: it refused the tunnel: HTTP/1.", proxy.addr);
            assert!(error.message().contains(&says) && error.message().contains(" 401 "), "{}", error.message());
            assert!(gateway.graph.token_requests().is_empty(), "nothing reaches Entra ID");
        }
    }
}
