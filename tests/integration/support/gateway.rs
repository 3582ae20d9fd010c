//! graphbridge in front of the fake Graph: the server, its client for `DetectionRuleService`,
//! and the secret file it reads.

use graphbridge::pb::detection_rule_service_client::DetectionRuleServiceClient;
use tonic::{Request, transport::Channel};

use super::{
    fake_graph::{FakeGraph, SECRET},
    server::{TestServer, channel},
};

pub struct Gateway {
    pub graph: FakeGraph,
    pub server: TestServer,
    /// Holds the secret file (and any other) for as long as the server runs.
    pub dir: tempfile::TempDir,
}

impl Gateway {
    /// A fake Graph, and graphbridge using it with a client secret and `extra` flags.
    pub async fn start(extra: &[&str]) -> Self {
        let graph = FakeGraph::start().await;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let secret = dir.path().join("client-secret");
        std::fs::write(&secret, format!("{SECRET}\n")).expect("write the secret file");
        let mut flags = graph.flags(&secret);
        flags.extend(extra.iter().map(|flag| flag.to_string()));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = TestServer::with_flags(&flags).await;
        Gateway { graph, server, dir }
    }

    pub async fn client(&self) -> DetectionRuleServiceClient<Channel> {
        channel(self.server.api).await.map(DetectionRuleServiceClient::new).expect("connect to the API port")
    }
}

/// `message` with a gRPC deadline of `millis`.
pub fn within<T>(message: T, millis: u64) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(std::time::Duration::from_millis(millis));
    request
}
