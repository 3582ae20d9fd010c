//! Hostile messages over a real socket (RELIABILITY.md, "Hostile input"): oversize messages,
//! protobuf that does not decode, answers whose violations or unknown-data report would not fit.
//! Each case gets its exact status code, and the connection and the server go on. Hostile JSON is
//! in `hostile_json.rs`; HTTP/2 abuse in `http2_abuse.rs`; `errors.rs` and `limits.rs` hold the
//! basic cases.

use std::time::{Duration, Instant};

use graphbridge::pb::{
    FromGraphRequest, ResponseAction, ToGraphRequest, TranslateStreamRequest, UnknownDataPolicy,
    response_action::Action, translate_stream_request::Request,
};
use graphbridge_testkit::{ISOLATE, ISOLATE_TYPE};
use prost::Message;
use tonic::Code;

use crate::support::{
    raw_grpc,
    server::{TestServer, channel, from, serves, still_serves, violations},
};

#[tokio::test]
async fn oversize_messages_are_refused_and_the_server_goes_on() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let limit = 4 * 1024 * 1024;

    // Over --max-message-bytes (4 MiB by default): RESOURCE_EXHAUSTED from the handler.
    let note = format!("\"{}\"", "x".repeat(5_000_000));
    let json = format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","note":{note}}}]"#);
    let status = client.from_graph(from(json.as_str())).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let size = from(json.as_str()).encoded_len();
    let expected = format!("request is {size} bytes, over the limit of {limit} bytes (--max-message-bytes)");
    assert_eq!(status.message(), expected);

    // A ToGraph request over the limit, made of many small actions.
    let action = ResponseAction {
        action: Some(Action::Unknown(graphbridge::pb::UnknownResponseAction { odata_type: "a.b".into() })),
        additional_data: [("x".to_owned(), "1".repeat(1000))].into(),
    };
    let status =
        client.to_graph(ToGraphRequest { actions: vec![action; 5000], ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().starts_with("request is 5"), "{}", status.message());
    still_serves(&server, &mut client).await;

    // 100 MB: refused from the message's length prefix, before the body is read (the server
    // does not buffer 100 MB), with the same status and message as any other oversize request.
    let huge = format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","note":"{}"}}]"#, "x".repeat(100 * 1024 * 1024));
    let size = from(huge.as_str()).encoded_len();
    let started = Instant::now();
    let status = client.from_graph(from(huge)).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(
        status.message(),
        format!("request is {size} bytes, over the limit of {limit} bytes (--max-message-bytes)")
    );
    assert!(started.elapsed() < Duration::from_secs(30), "refused in {:?}", started.elapsed());
    still_serves(&server, &mut client).await;
    server.stop().await;
}

const FROM_GRAPH: &str = "/graphbridge.v1.Translator/FromGraph";
const TO_GRAPH: &str = "/graphbridge.v1.Translator/ToGraph";

/// Requests that are not valid protobuf for their method, and what is wrong with each.
fn undecodable() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    // ToGraphRequest { actions: [ResponseAction { additional_data: {"x": <invalid UTF-8>} }] }
    let entry = [&[0x0a, 0x01, b'x', 0x12, 0x02][..], &[0xc3, 0x28]].concat(); // key "x", value C3 28
    let map_entry = [&[0xc2, 0x0c, entry.len() as u8][..], &entry].concat(); // field 200, wire type 2
    let action = [&[0x0a, map_entry.len() as u8][..], &map_entry].concat();
    vec![
        (FROM_GRAPH, "invalid UTF-8 in the string json", vec![0x0a, 0x03, b'[', 0xff, b']']),
        (FROM_GRAPH, "an overlong UTF-8 encoding in json", vec![0x0a, 0x02, 0xc0, 0xaf]),
        (FROM_GRAPH, "a lone surrogate encoded in UTF-8 (CESU) in json", vec![0x0a, 0x03, 0xed, 0xa0, 0x80]),
        (TO_GRAPH, "invalid UTF-8 in an additional_data value", action),
        (FROM_GRAPH, "truncated: json claims 16 bytes, 1 follows", vec![0x0a, 0x10, b'[']),
        (FROM_GRAPH, "truncated inside the tag varint", vec![0x80]),
        (TO_GRAPH, "truncated: an action claims 100 bytes", vec![0x0a, 0x64, 0x3a, 0x00]),
        (FROM_GRAPH, "a varint of 11 bytes", [&[0x10][..], &[0xff; 10], &[0x01]].concat()),
        (FROM_GRAPH, "an invalid wire type (7)", vec![0x0f, 0x00]),
        (FROM_GRAPH, "field number 0", vec![0x00, 0x00]),
        (FROM_GRAPH, "a group nested 200 deep", [vec![0x1b; 200], vec![0x1c; 200]].concat()),
        (FROM_GRAPH, "an unterminated group", vec![0x1b, 0x08, 0x01]),
    ]
}

#[tokio::test]
async fn undecodable_requests_leave_the_server_serving() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let raw_channel = channel(server.api).await.unwrap();
    for (method, what, body) in undecodable() {
        let status = raw_grpc::unary(raw_channel.clone(), method, body).await.expect_err(what);
        assert!(!status.message().is_empty(), "{what}: no message");
        serves(&mut client).await;
    }
    // On a stream, an undecodable item ends the stream with a status, after the good items.
    let good = TranslateStreamRequest { id: "1".into(), request: Some(Request::FromGraph(from(ISOLATE))) };
    let bad_id = vec![0x0a, 0x01, 0xff]; // id: invalid UTF-8
    let (answers, status) = raw_grpc::stream(raw_channel.clone(), vec![good.encode_to_vec(), bad_id]).await;
    assert_eq!(answers.len(), 1, "the good item is answered");
    assert_ne!(status.code(), Code::Ok, "the stream ends with an error status");
    still_serves(&server, &mut client).await;
    server.stop().await;
}

/// REGRESSION (bug: tonic-prost maps every protobuf decode error to INTERNAL): a request that
/// is not valid protobuf is the caller's mistake, so INVALID_ARGUMENT (never INTERNAL for bad input,
/// RELIABILITY.md bug 3), with prost's explanation in the message.
#[tokio::test]
async fn undecodable_requests_are_invalid_argument_not_internal() {
    let server = TestServer::start().await;
    let raw_channel = channel(server.api).await.unwrap();
    let mut wrong = Vec::new();
    for (method, what, body) in undecodable() {
        let status = raw_grpc::unary(raw_channel.clone(), method, body).await.expect_err(what);
        if status.code() != Code::InvalidArgument {
            wrong.push(format!("{method} with {what}: {:?} {:?}", status.code(), status.message()));
        }
    }
    let bad_id = vec![0x0a, 0x01, 0xff];
    let (_, status) = raw_grpc::stream(raw_channel, vec![bad_id]).await;
    if status.code() != Code::InvalidArgument {
        wrong.push(format!("a TranslateStream item with invalid UTF-8: {:?} {:?}", status.code(), status.message()));
    }
    assert!(wrong.is_empty(), "not INVALID_ARGUMENT:\n{}", wrong.join("\n"));
    server.stop().await;
}

/// REGRESSION (bug: error details are unbounded, and gRPC sends them in HTTP/2 trailers): a
/// request with many violations (or one that echoes a long name) gets a status whose
/// `grpc-status-details-bin` and `grpc-message` exceed the 16 KiB header list a tonic/hyper client
/// accepts by default, and the client tears down the stream or the whole connection (GOAWAY
/// COMPRESSION_ERROR), failing every other call on it with INTERNAL "h2 protocol error". The
/// status must stay INVALID_ARGUMENT with the first violations, and the connection must live.
#[tokio::test]
async fn errors_with_many_violations_stay_invalid_argument_and_keep_the_connection() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // A stream on the same connection, open across the bad calls.
    let (items, inbound) = tokio::sync::mpsc::channel(4);
    let mut answers = client.translate_stream(tokio_stream::wrappers::ReceiverStream::new(inbound)).await.unwrap();
    let answers = answers.get_mut();
    let item = |id: &str| TranslateStreamRequest { id: id.into(), request: Some(Request::FromGraph(from(ISOLATE))) };
    items.send(item("before")).await.unwrap();
    assert_eq!(answers.message().await.unwrap().expect("answered").id, "before");

    let mut wrong = Vec::new();
    // 1,000 actions without a type: 1,000 violations.
    let json = format!("[{}]", vec!["{}"; 1000].join(","));
    match client.from_graph(from(json)).await {
        Err(status) if status.code() == Code::InvalidArgument => {
            assert!(status.message().starts_with("1000 problems; first: json/0: missing"), "{}", status.message());
            assert_eq!(violations(&status)[0].0, "json/0");
        }
        other => wrong.push(format!("1,000 violations: {other:?}")),
    }
    // 1,000 empty actions for ToGraph.
    let request = ToGraphRequest { actions: vec![ResponseAction::default(); 1000], ..Default::default() };
    match client.to_graph(request).await {
        Err(status) if status.code() == Code::InvalidArgument => {
            assert_eq!(violations(&status)[0].0, "actions[0].action");
        }
        other => wrong.push(format!("ToGraph of 1,000 empty actions: {other:?}")),
    }
    // One violation that quotes a 4 KB type name (REJECT).
    let name = "#x".repeat(2_000);
    let reject = FromGraphRequest {
        json: format!(r#"[{{"@odata.type":"{name}"}}]"#),
        unknown_data_policy: UnknownDataPolicy::Reject.into(),
    };
    match client.from_graph(reject).await {
        Err(status) if status.code() == Code::InvalidArgument => {
            assert_eq!(violations(&status)[0].0, "json/0/@odata.type");
        }
        other => wrong.push(format!("a 4 KB type name under REJECT: {:.300}", format!("{other:?}"))),
    }
    // The stream opened before is still open and answering.
    let after = match items.send(item("after")).await {
        Ok(()) => answers.message().await.map(|a| a.map(|a| a.id)),
        Err(_) => Ok(None),
    };
    if !matches!(&after, Ok(Some(id)) if id == "after") {
        wrong.push(format!("the stream on the same connection: {after:?}"));
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    server.stop().await;
}

/// REGRESSION (bug: the unknown-data report is unbounded and several times the size of its
/// input, and the FromGraph response size is not checked): 1 MB of Graph JSON with 100,000 small
/// unknown properties is answered with an 11 MB response, which tonic refuses to send, so the
/// caller gets OUT_OF_RANGE "encoded message length too large" (and a TranslateStream ends).
/// A response must either fit --max-message-bytes or be refused as RESOURCE_EXHAUSTED naming
/// the flag; on a stream, that is the item's answer and the stream goes on.
#[tokio::test]
async fn the_unknown_data_report_cannot_push_a_response_past_the_limit() {
    let server = TestServer::start().await;
    let mut client = server.client().await.max_decoding_message_size(64 * 1024 * 1024);
    let limit = 4 * 1024 * 1024;
    let properties: String = (0..100_000).map(|i| format!(",\"k{i}\":0")).collect();
    let many_unknown =
        format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","identifier":"deviceId","isolationType":"full"{properties}}}]"#);
    // 3 MB of commas: 3,000,001 unknown (empty) members, each quoted in the report.
    let commas = format!(
        r#"[{{"@odata.type":"{ISOLATE_TYPE}","identifier":"{}","isolationType":"full"}}]"#,
        ",".repeat(3_000_000)
    );
    let mut wrong = Vec::new();
    for (what, json) in [("100,000 unknown properties", &many_unknown), ("3 MB of commas", &commas)] {
        assert!(json.len() < limit);
        match client.from_graph(from(json.as_str())).await {
            Ok(response) => assert!(response.get_ref().encoded_len() <= limit, "{what}: answered over the limit"),
            Err(status)
                if status.code() == Code::ResourceExhausted && status.message().contains("--max-message-bytes") => {}
            Err(status) => wrong.push(format!("{what}: {:?} {}", status.code(), status.message())),
        }
    }
    let items = vec![
        TranslateStreamRequest { id: "big".into(), request: Some(Request::FromGraph(from(many_unknown))) },
        TranslateStreamRequest { id: "next".into(), request: Some(Request::FromGraph(from(ISOLATE))) },
    ];
    let mut answers = client.translate_stream(tokio_stream::iter(items)).await.unwrap().into_inner();
    let mut ids = Vec::new();
    loop {
        match answers.message().await {
            Ok(Some(answer)) => ids.push(answer.id),
            Ok(None) => break,
            Err(status) => {
                wrong.push(format!("the stream ended after {ids:?}: {:?} {}", status.code(), status.message()));
                break;
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
    assert_eq!(ids, ["big", "next"]);
    server.stop().await;
}
