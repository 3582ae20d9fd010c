//! A real server on 127.0.0.1 port 0 and a generated client, with what the socket tests check
//! with them: BadRequest violations, plain HTTP on the admin port, that the server still serves.

use std::{net::SocketAddr, time::Duration};

use graphbridge::{
    cli::{
        config::{self, ServeConfig},
        serve::Sidecar,
    },
    pb::translator_client::TranslatorClient,
};
use graphbridge_codec::translate::TranslateError;
use graphbridge_testkit::{ISOLATE, refusals};
use tokio::{sync::oneshot, task::JoinHandle};
use tonic::{Code, Status, transport::Channel};

pub struct TestServer {
    pub api: SocketAddr,
    pub admin: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// The defaults of `graphbridge serve`, on ephemeral loopback ports, with `extra` flags.
pub fn config(extra: &[&str]) -> ServeConfig {
    let args = ["graphbridge", "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"];
    match config::parse(args.iter().chain(extra), |_| None).expect("valid test flags") {
        config::Command::Serve(config) => *config,
        other => panic!("not serve: {other:?}"),
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with_flags(&[]).await
    }

    pub async fn with_flags(extra: &[&str]) -> Self {
        let bound = Sidecar::bind(&config(extra)).expect("bind 127.0.0.1:0");
        let (api, admin) = (bound.api_addr(), bound.admin_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            bound.serve(async { drop(stopped.await) }).await.expect("server ran");
        });
        Self { api, admin, stop: Some(stop), task: Some(task) }
    }

    pub async fn client(&self) -> TranslatorClient<Channel> {
        channel(self.api).await.map(TranslatorClient::new).expect("connect to the API port")
    }

    /// Sends the shutdown signal and waits for the server to finish.
    pub async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        let task = self.task.take().expect("running");
        tokio::time::timeout(Duration::from_secs(15), task).await.expect("stopped in time").expect("server task");
    }
}

pub async fn channel(addr: SocketAddr) -> Result<Channel, tonic::transport::Error> {
    Channel::from_shared(format!("http://{addr}")).expect("valid uri").connect().await
}

/// The field violations of a status's google.rpc.BadRequest detail, as (field, description).
pub fn violations(status: &Status) -> Vec<(String, String)> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| (v.field, v.description)).collect())
        .unwrap_or_default()
}

/// A plain HTTP/1.1 GET: (status code, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect to the admin port");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send request");
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut response))
        .await
        .expect("response in time")
        .expect("read response");
    let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("an HTTP status line");
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// Reads until the peer closes or `wait` passes: true when the server closed the connection.
pub async fn closed_by_server(tcp: &mut tokio::net::TcpStream, wait: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout(deadline.saturating_duration_since(std::time::Instant::now()), tcp.read(&mut buf))
            .await
        {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

pub fn from(json: impl Into<String>) -> graphbridge::pb::FromGraphRequest {
    graphbridge::pb::FromGraphRequest { json: json.into(), ..Default::default() }
}

/// A normal call on `client`'s connection succeeds (checked after every hostile call).
pub async fn serves(client: &mut TranslatorClient<Channel>) {
    let read = client.from_graph(from(ISOLATE)).await.expect("still serves after a hostile call").into_inner();
    assert_eq!(read.actions.len(), 1);
}

/// Asserts that a call answered what the codec's translation of the same request answers: the
/// same response, or the status the service makes of the same refusal (INVALID_ARGUMENT with a
/// BadRequest of the same violations, RESOURCE_EXHAUSTED for a size, INVALID_ARGUMENT alone for
/// bytes that are not protobuf) with the same message.
#[track_caller]
pub fn assert_served_as_translated<T: PartialEq + std::fmt::Debug>(
    served: Result<T, Status>,
    translated: Result<T, TranslateError>,
    what: &str,
) {
    match (served, translated) {
        (Ok(served), Ok(translated)) => assert_eq!(served, translated, "{what}"),
        (Err(status), Err(error)) => {
            let expected = refusals::violations(&error);
            let (code, message) = match &error {
                TranslateError::TooLarge { .. } => (Code::ResourceExhausted, error.to_string()),
                TranslateError::Codec(codec) => (Code::InvalidArgument, codec.to_string()),
                TranslateError::NotProtobuf(_) => (Code::InvalidArgument, error.to_string()),
                // One invalid field, reported as the codec reports one violation.
                TranslateError::BadPolicy { .. } | TranslateError::MissingRule => {
                    (Code::InvalidArgument, format!("{}: {}", expected[0].0, expected[0].1))
                }
            };
            assert_eq!(status.code(), code, "{what}: {status:?}");
            assert_eq!(violations(&status), expected, "{what}");
            assert_eq!(status.message(), message, "{what}");
        }
        (served, translated) => panic!("{what}: served {served:?}, translated {translated:?}"),
    }
}

/// A normal call succeeds, on `client`'s connection and on a new one, and health answers.
pub async fn still_serves(server: &TestServer, client: &mut TranslatorClient<Channel>) {
    let read = client.from_graph(from(ISOLATE)).await.expect("the same connection still serves").into_inner();
    assert_eq!(read.actions.len(), 1);
    let mut fresh = server.client().await;
    let read = fresh.from_graph(from(ISOLATE)).await.expect("a new connection is served").into_inner();
    assert_eq!(read.actions.len(), 1);
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel(server.api).await.expect("connect"));
    let status =
        health.check(tonic_health::pb::HealthCheckRequest::default()).await.expect("health answers").into_inner();
    assert_eq!(status.status(), tonic_health::pb::health_check_response::ServingStatus::Serving);
}
