//! HTTP/2 abuse over a real socket, with a minimal raw HTTP/2 client (`graphbridge_testkit::h2`):
//! streams beyond --max-concurrent-streams, rapid reset, a stream whose responses are never read,
//! connections that never send the preface. Each case asserts what the server does and that it keeps serving.

use std::time::{Duration, Instant};

use graphbridge::pb::{FromGraphResponse, TranslateStreamRequest, translate_stream_request::Request};
use graphbridge_testkit::ISOLATE;
use prost::Message;
use tokio::{io::AsyncWriteExt, net::TcpStream};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

use crate::support::{
    h2,
    server::{TestServer, channel, closed_by_server, from, http_get, still_serves},
};

#[tokio::test]
async fn streams_beyond_max_concurrent_streams_are_refused_and_the_connection_goes_on() {
    let server = TestServer::with_flags(&["--max-concurrent-streams", "4"]).await;
    let path = "/graphbridge.v1.Translator/FromGraph";

    // A raw client ignores the server's limit: 40 calls opened at once, none sending a body.
    let mut tcp = h2::connect(server.api).await;
    let wait = Duration::from_secs(10);
    let (frames, closed) = h2::read_until(&mut tcp, wait, |f| f.iter().any(|f| f.kind == h2::SETTINGS)).await;
    assert!(!closed && frames.iter().any(|f| f.kind == h2::SETTINGS), "no SETTINGS from the server: {frames:?}");
    let opened: Vec<u32> = (0..40).map(|i| 1 + 2 * i).collect();
    let headers: Vec<u8> = opened.iter().flat_map(|&s| h2::request_headers(s, path, false)).collect();
    tcp.write_all(&headers).await.unwrap();
    let refused = |frames: &[h2::Frame]| -> Vec<u32> {
        frames
            .iter()
            .filter(|f| f.kind == h2::RST_STREAM && h2::error_code(f) == h2::REFUSED_STREAM)
            .map(|f| f.stream)
            .collect()
    };
    let (frames, closed) = h2::read_until(&mut tcp, wait, |f| refused(f).len() >= opened.len() - 4).await;
    assert!(!closed, "the connection was closed: {frames:?}");
    // A moment more: nothing else (no refusal of an admitted stream, no GOAWAY) follows.
    let (more, closed) = h2::read_until(&mut tcp, Duration::from_millis(300), |_| false).await;
    assert!(!closed && more.is_empty(), "{more:?}");
    let refused = refused(&frames);
    assert_eq!(refused, opened[4..], "each stream past the 4th is refused (REFUSED_STREAM), the rest are open");
    assert!(!frames.iter().any(|f| f.kind == h2::GOAWAY), "{frames:?}");

    // The 4 admitted calls still work: finish the first one.
    let request = from(ISOLATE).encode_to_vec();
    tcp.write_all(&h2::grpc_data(1, &request, true)).await.unwrap();
    let answered =
        |f: &[h2::Frame]| f.iter().any(|f| f.stream == 1 && f.kind == h2::HEADERS && f.flags & h2::END_STREAM != 0);
    let (frames, _) = h2::read_until(&mut tcp, wait, answered).await;
    let data = frames.iter().find(|f| f.stream == 1 && f.kind == h2::DATA).expect("a response message");
    let response = FromGraphResponse::decode(&data.payload[5..]).expect("a FromGraphResponse");
    assert_eq!(response.actions.len(), 1);
    assert!(frames.iter().any(|f| f.stream == 1 && f.kind == h2::HEADERS && f.flags & h2::END_STREAM != 0));

    // A well-behaved client queues its calls beyond the limit: 64 at once on one connection.
    let client = server.client().await;
    let calls: Vec<_> = (0..64)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move { client.from_graph(from(ISOLATE)).await.map(|r| r.into_inner().actions.len()) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().expect("queued by the client, then served"), 1);
    }
    drop(tcp);
    still_serves(&server, &mut server.client().await).await;
    server.stop().await;
}

#[tokio::test]
async fn rapid_reset_does_not_take_the_server_down() {
    let server = TestServer::start().await;
    let path = "/graphbridge.v1.Translator/FromGraph";
    let mut tcp = h2::connect(server.api).await;
    // 2,000 calls, each cancelled as soon as it is opened (CVE-2023-44487's pattern).
    let mut burst = Vec::new();
    for i in 0..2000u32 {
        let stream = 1 + 2 * i;
        burst.extend(h2::request_headers(stream, path, false));
        burst.extend(h2::frame(h2::RST_STREAM, 0, stream, &h2::CANCEL.to_be_bytes()));
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.write_all(&burst)).await;
    let (frames, closed) = h2::read_until(&mut tcp, Duration::from_secs(10), |_| false).await;
    // h2 counts the resets and sends GOAWAY ENHANCE_YOUR_CALM, closing only that connection.
    let goaway = frames.iter().find(|f| f.kind == h2::GOAWAY).expect("GOAWAY for the abusive connection");
    assert_eq!(h2::error_code(goaway), h2::ENHANCE_YOUR_CALM, "{goaway:?}");
    assert!(closed, "the abusive connection is closed");
    drop(tcp);
    still_serves(&server, &mut server.client().await).await;
    server.stop().await;
}

#[tokio::test]
async fn a_stream_whose_responses_are_never_read_holds_one_permit_and_nothing_else() {
    let server = TestServer::with_flags(&["--max-concurrent-requests", "2"]).await;
    // ~10 KB per answer, so flow control fills up soon.
    let action = format!(r##"{{"@odata.type":"#microsoft.graph.security.newAction","pad":"{}"}}"##, "p".repeat(10_000));
    let item = |i: usize| TranslateStreamRequest {
        id: i.to_string(),
        request: Some(Request::FromGraph(from(format!("[{action}]")))),
    };
    let mut greedy = server.client().await;
    let (items, inbound) = tokio::sync::mpsc::channel(1);
    let answers = greedy.translate_stream(tokio_stream::wrappers::ReceiverStream::new(inbound)).await.unwrap();
    // Never read: `answers` is held but not polled. Push items until backpressure stops us.
    let mut pushed = 0;
    while pushed < 5000 {
        match tokio::time::timeout(Duration::from_millis(500), items.send(item(pushed))).await {
            Ok(Ok(())) => pushed += 1,
            Ok(Err(_)) => panic!("the stream was closed after {pushed} items"),
            Err(_) => break,
        }
    }
    assert!(pushed < 5000, "no backpressure: the server buffered every answer");
    eprintln!("a reader that never reads: backpressure after {pushed} items of 10 KB");

    // Others are served meanwhile: another call (the second permit) and health.
    let mut other = server.client().await;
    for _ in 0..20 {
        assert_eq!(other.from_graph(from(ISOLATE)).await.expect("served").into_inner().actions.len(), 1);
    }
    let mut health = HealthClient::new(channel(server.api).await.unwrap());
    assert_eq!(
        health.check(HealthCheckRequest::default()).await.unwrap().into_inner().status(),
        ServingStatus::Serving
    );
    assert_eq!(http_get(server.admin, "/readyz").await.0, 200);

    // Giving up on the stream frees its permit.
    drop((items, answers, greedy));
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut clients = [server.client().await, server.client().await];
    loop {
        let [a, b] = &mut clients;
        let (x, y) = tokio::join!(a.from_graph(from(ISOLATE)), b.from_graph(from(ISOLATE)));
        match (x, y) {
            (Ok(_), Ok(_)) => break,
            (x, y) if Instant::now() > deadline => panic!("permit not released: {x:?} {y:?}"),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn connections_without_a_preface_do_not_block_anyone() {
    let server = TestServer::start().await;
    let mut silent = Vec::new();
    for addr in [server.api, server.admin] {
        for _ in 0..50 {
            silent.push(TcpStream::connect(addr).await.expect("connect"));
        }
    }
    // Half a preface, then nothing.
    let mut partial = Vec::new();
    for _ in 0..10 {
        let mut tcp = TcpStream::connect(server.api).await.unwrap();
        tcp.write_all(&h2::PREFACE[..10]).await.unwrap();
        partial.push(tcp);
    }
    // Everyone else is served meanwhile, on both ports.
    let mut client = server.client().await;
    still_serves(&server, &mut client).await;
    assert_eq!(http_get(server.admin, "/readyz").await.0, 200);
    let mut admin_health = HealthClient::new(channel(server.admin).await.unwrap());
    let status = admin_health.check(HealthCheckRequest::default()).await.unwrap().into_inner();
    assert_eq!(status.status(), ServingStatus::Serving);

    // Something that is not HTTP/2 at all on the API port is closed promptly.
    for garbage in
        [&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", &[0u8; 64]]
    {
        let mut tcp = TcpStream::connect(server.api).await.unwrap();
        tcp.write_all(garbage).await.unwrap();
        assert!(closed_by_server(&mut tcp, Duration::from_secs(5)).await, "{garbage:?} was not closed");
    }
    // A wrong preface after the real one: the connection is closed.
    let mut tcp = TcpStream::connect(server.api).await.unwrap();
    tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n").await.unwrap();
    assert!(closed_by_server(&mut tcp, Duration::from_secs(5)).await, "a bad preface was not closed");

    // (Closing silent connections after --first-bytes-timeout: tests/connections.rs.)
    drop((silent, partial));
    still_serves(&server, &mut client).await;
    server.stop().await;
}
