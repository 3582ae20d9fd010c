//! The guard on accepted connections (RELIABILITY.md, finding 7): a connection that sends
//! nothing within --first-bytes-timeout is closed, and each port serves at most
//! --max-connections at once without starving the other port.

use std::time::Duration;

use graphbridge::pb::ToGraphRequest;
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::support::server::{TestServer, channel, closed_by_server, http_get};

/// The first bytes of the HTTP/2 client preface: enough to count as having spoken.
const HALF_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

async fn admin_is_healthy(server: &TestServer) {
    let mut health = HealthClient::new(channel(server.admin).await.expect("connect to the admin port"));
    let status = health.check(HealthCheckRequest::default()).await.expect("admin health").into_inner();
    assert_eq!(status.status(), ServingStatus::Serving);
    assert_eq!(http_get(server.admin, "/readyz").await.0, 200);
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_first_bytes_timeout() {
    let server = TestServer::with_flags(&["--first-bytes-timeout", "300ms"]).await;
    let mut silent = [TcpStream::connect(server.api).await.unwrap(), TcpStream::connect(server.admin).await.unwrap()];
    let mut spoke = TcpStream::connect(server.api).await.unwrap();
    spoke.write_all(HALF_PREFACE).await.unwrap();

    for tcp in &mut silent {
        assert!(closed_by_server(tcp, Duration::from_secs(5)).await, "a silent connection was kept");
    }
    // Past the timeout, a connection that spoke in time is still open (HTTP/2 then governs it).
    assert!(!closed_by_server(&mut spoke, Duration::from_millis(600)).await, "a connection that spoke was closed");
    let mut client = server.client().await;
    client.to_graph(ToGraphRequest::default()).await.expect("served");
    drop(spoke);
    server.stop().await;
}

#[tokio::test]
async fn each_port_serves_at_most_max_connections_and_the_other_port_goes_on() {
    let server = TestServer::with_flags(&["--max-connections", "3"]).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tcp = TcpStream::connect(server.api).await.unwrap();
        tcp.write_all(HALF_PREFACE).await.unwrap();
        held.push(tcp);
    }
    // The fourth waits in the backlog: connecting succeeds (the kernel does it), being served does not.
    let waiting = tokio::spawn(async move {
        let mut client = graphbridge::pb::translator_client::TranslatorClient::new(channel(server.api).await?);
        client.to_graph(ToGraphRequest::default()).await.map_err(|status| status.to_string())?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "a connection past --max-connections was served");
    admin_is_healthy(&server).await;

    // A slot frees when a connection closes, and the waiting one is served.
    drop(held.pop());
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("served once a slot was free")
        .unwrap()
        .expect("the call succeeded");
    drop(held);
    server.stop().await;
}
