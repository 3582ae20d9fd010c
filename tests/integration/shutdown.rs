//! SIGTERM: NOT_SERVING at once, in-flight work finishes, nothing accepted is lost, and the
//! process exits 0 within the deadline even when a client hangs.

use std::time::{Duration, Instant};

use graphbridge::pb::{
    FromGraphRequest, ToGraphRequest, TranslateStreamRequest, translate_stream_request::Request,
    translator_client::TranslatorClient,
};
use graphbridge_testkit::{ISOLATE, isolate_action};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::support::{
    child::ChildServer,
    server::{channel, http_get},
};

/// What one client saw: answers that were correct, and the code that finally stopped it.
struct Outcome {
    ok: usize,
    stopped_by: Option<Code>,
    /// The status that stopped it, for the failure message.
    why: String,
    /// tonic's client reports a call it started after the server's GOAWAY(NO_ERROR) as INTERNAL
    /// "h2 protocol error" (the h2 client refuses the stream itself: it never reached the server).
    refused_by_goaway: bool,
}

/// Calls ToGraph on its own connection until a call fails (at most 20 s), checking every answer.
async fn steady_client(api: std::net::SocketAddr) -> Outcome {
    let mut client = TranslatorClient::new(channel(api).await.expect("connect"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ok = 0;
    while Instant::now() < deadline {
        match client.to_graph(ToGraphRequest { actions: vec![isolate_action()], ..Default::default() }).await {
            Ok(response) => {
                assert_eq!(response.into_inner().json, format!("[{ISOLATE}]"), "an accepted call was answered wrongly");
                ok += 1;
            }
            Err(status) => {
                let why = format!("{status:?}");
                let refused_by_goaway = why.contains("GoAway(") && why.contains("NO_ERROR, Remote");
                return Outcome { ok, stopped_by: Some(status.code()), why, refused_by_goaway };
            }
        }
    }
    Outcome { ok, stopped_by: None, why: String::new(), refused_by_goaway: false }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_loses_no_accepted_call_and_exits_zero() {
    // Debug logs have one line per answered request: the server's own count of accepted calls.
    let flags = ["--prestop-delay", "300ms", "--drain-timeout", "5s", "--log-format", "json"];
    let mut server = ChildServer::start(&flags, &[("RUST_LOG", "graphbridge=debug")]);
    let (api, admin) = (server.api_addr(), server.admin_addr());
    let clients: Vec<_> = (0..6).map(|_| tokio::spawn(steady_client(api))).collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = Instant::now();
    server.sigterm();
    // During the pre-stop delay: still answering, but NOT_SERVING and not ready, on both ports.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for port in [api, admin] {
        let mut health = HealthClient::new(channel(port).await.expect("still accepting during pre-stop"));
        let status = health.check(HealthCheckRequest::default()).await.expect("health answers").into_inner();
        assert_eq!(status.status(), ServingStatus::NotServing);
    }
    assert_eq!(http_get(admin, "/readyz").await.0, 503);

    let status = tokio::task::spawn_blocking(move || {
        let status = server.wait(Duration::from_secs(10));
        (status, server)
    });
    let (status, mut server) = status.await.unwrap();
    let exited_after = signalled.elapsed();
    assert!(status.expect("exited in time").success());
    assert!(exited_after < Duration::from_secs(6), "exit took {exited_after:?}, past pre-stop + drain");

    let mut answered = 0;
    for client in clients {
        let outcome = client.await.expect("client task");
        answered += outcome.ok;
        // Refused (connection refused, or a stream past the GOAWAY that the server never read);
        // the log count below shows that no accepted call was lost.
        let code = outcome.stopped_by.expect("the server stopped answering");
        let refused = matches!(code, Code::Unavailable | Code::Cancelled) || outcome.refused_by_goaway;
        assert!(refused, "a call failed with {code:?}: {}", outcome.why);
    }
    let accepted = server
        .log_lines()
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|log| log["message"] == "request" && log["method"] == "ToGraph")
        .inspect(|log| assert_eq!(log["code"], "OK", "{log}"))
        .count();
    assert_eq!(accepted, answered, "every call the server accepted reached its client");
    assert!(answered > 0, "the load ran");
}

#[tokio::test]
async fn a_hung_client_does_not_hold_the_exit_past_the_drain_timeout() {
    let mut server = ChildServer::start(&["--drain-timeout", "1s"], &[]);
    let api = server.api_addr();
    // A TCP client that never sends the HTTP/2 preface, and a Watch stream that never ends.
    let _silent = tokio::net::TcpStream::connect(api).await.expect("connect");
    let mut health = HealthClient::new(channel(api).await.expect("connect"));
    let mut watch = health.watch(HealthCheckRequest::default()).await.expect("watch").into_inner();
    assert_eq!(watch.message().await.unwrap().unwrap().status(), ServingStatus::Serving);

    let signalled = Instant::now();
    server.sigterm();
    let (status, _server) =
        tokio::task::spawn_blocking(move || (server.wait(Duration::from_secs(10)), server)).await.unwrap();
    let exited_after = signalled.elapsed();
    assert!(status.expect("exited").success());
    assert!(exited_after >= Duration::from_millis(900), "it drained for the timeout: {exited_after:?}");
    assert!(exited_after < Duration::from_secs(5), "exit took {exited_after:?}");
}

#[tokio::test]
async fn an_open_stream_ends_cleanly_at_shutdown_without_waiting_for_the_deadline() {
    let mut server = ChildServer::start(&["--drain-timeout", "10s"], &[]);
    let mut client = TranslatorClient::new(channel(server.api_addr()).await.expect("connect"));
    let (items, inbound) = tokio::sync::mpsc::channel(4);
    let mut answers = client.translate_stream(ReceiverStream::new(inbound)).await.unwrap().into_inner();
    let item = || Some(Request::FromGraph(FromGraphRequest { json: format!("[{ISOLATE}]"), ..Default::default() }));
    items.send(TranslateStreamRequest { id: "before".into(), request: item() }).await.unwrap();
    assert_eq!(answers.message().await.unwrap().unwrap().id, "before");

    let signalled = Instant::now();
    server.sigterm();
    let end = tokio::time::timeout(Duration::from_secs(5), answers.message()).await.expect("the stream ends");
    let status = end.expect_err("ended with a status saying why");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("shutting down"), "{}", status.message());
    let (status, _server) =
        tokio::task::spawn_blocking(move || (server.wait(Duration::from_secs(10)), server)).await.unwrap();
    assert!(status.expect("exited").success());
    assert!(signalled.elapsed() < Duration::from_secs(5), "the stream did not hold the exit");
    drop(items);
}
