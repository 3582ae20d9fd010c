//! Hostile Graph JSON over a real socket (RELIABILITY.md, "Hostile input"): every input of
//! `graphbridge_testkit::hostile` (malformed JSON of every kind, 10,000-digit numbers, nesting
//! 100,000 deep, wrong JSON types for every known property, `@odata.type` of every wrong shape)
//! is answered exactly as the codec answers it (crates/codec/tests/hostile_json.rs tests what that
//! is), in-band on a stream too, and the server keeps serving; strings of megabytes round-trip
//! where the answer fits. Hostile messages are in `hostile_messages.rs`.

use graphbridge::pb::{
    FromGraphRequest, ResponseAction, ToGraphRequest, TranslateStreamRequest, UnknownDataPolicy, UnknownResponseAction,
    response_action::Action, translate_stream_request::Request, translate_stream_response::Result as Outcome,
};
use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::{
    ISOLATE,
    hostile::{
        arrays_nested, long_numbers, malformed_actions, nested_100000_deep, odata_types_almost_known,
        odata_types_of_a_wrong_shape, odata_types_with_two_hashes, preview, single_action_nested_to_the_limit,
        wrong_types,
    },
};
use tonic::Code;

use crate::support::server::{TestServer, assert_served_as_translated, from, serves, still_serves};

/// Every hostile FromGraph input under PRESERVE and REJECT, and every hostile ToGraph request,
/// each followed by a normal call on the same connection.
#[tokio::test]
async fn every_hostile_input_is_answered_as_the_codec_answers_it_and_the_server_goes_on() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let limits = Limits::UNBOUNDED;
    let action = single_action_nested_to_the_limit();
    let inputs: Vec<String> = malformed_actions()
        .into_iter()
        .map(|(json, _, _)| json)
        .chain(nested_100000_deep().into_iter().map(|(json, _)| json))
        .chain(long_numbers().into_iter().map(|(_, json)| json))
        .chain(wrong_types().into_iter().map(|case| case.graph_json))
        .chain(odata_types_of_a_wrong_shape().into_iter().map(|(json, _)| json))
        .chain(odata_types_almost_known().into_iter().map(|(_, json)| json))
        .chain(odata_types_with_two_hashes().into_iter().map(|(_, json)| json))
        .chain([format!("[{action}]"), action])
        .collect();
    for json in &inputs {
        for policy in [UnknownDataPolicy::Preserve, UnknownDataPolicy::Reject] {
            let request = FromGraphRequest { json: json.clone(), unknown_data_policy: policy.into() };
            let served = client.from_graph(request.clone()).await.map(|r| r.into_inner());
            let what = format!("FromGraph {policy:?} of {}", preview(json));
            assert_served_as_translated(served, translate::from_graph(&limits, &request), &what);
            serves(&mut client).await;
        }
    }
    let nested_data = ["identifier", "x"].map(|key| {
        let action = ResponseAction {
            action: Some(Action::Unknown(UnknownResponseAction {
                odata_type: "microsoft.graph.security.newAction".into(),
            })),
            additional_data: [(key.to_owned(), arrays_nested(100_000))].into(),
        };
        ToGraphRequest { actions: vec![action], ..Default::default() }
    });
    for request in wrong_types().into_iter().map(|case| case.to_graph).chain(nested_data) {
        let served = client.to_graph(request.clone()).await.map(|r| r.into_inner());
        let what = format!("ToGraph of {}", preview(&format!("{:?}", request.actions)));
        assert_served_as_translated(served, translate::to_graph(&limits, &request), &what);
        serves(&mut client).await;
    }
    still_serves(&server, &mut client).await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_answered_in_band_on_a_stream_which_goes_on() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let cases = malformed_actions();
    let mut items: Vec<TranslateStreamRequest> = cases
        .iter()
        .enumerate()
        .map(|(i, (json, _, _))| TranslateStreamRequest {
            id: i.to_string(),
            request: Some(Request::FromGraph(from(json.as_str()))),
        })
        .collect();
    items.push(TranslateStreamRequest { id: "good".into(), request: Some(Request::FromGraph(from(ISOLATE))) });
    let mut answers = client.translate_stream(tokio_stream::iter(items)).await.unwrap().into_inner();
    for (i, (json, _, _)) in cases.iter().enumerate() {
        let answer = answers.message().await.unwrap().expect("one answer per item");
        assert_eq!(answer.id, i.to_string());
        let Some(Outcome::Error(error)) = answer.result else { panic!("{}: {answer:?}", preview(json)) };
        assert_eq!(error.code, Code::InvalidArgument as i32, "{}", preview(json));
    }
    let last = answers.message().await.unwrap().expect("the good item is answered");
    assert!(matches!(last.result, Some(Outcome::FromGraph(ref r)) if r.actions.len() == 1), "{last:?}");
    assert!(answers.message().await.unwrap().is_none());
    server.stop().await;
}

#[tokio::test]
async fn strings_of_megabytes_round_trip_where_the_answer_fits() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // 3 MB of JSON text with escapes and non-ASCII, so the scanner's slow path runs too.
    let (unit, decoded_unit) = ("abc\\\"é😀\\u00e9\\n", "abc\"é😀é\n");
    let repeats = 3_000_000 / unit.len();
    let (text, decoded) = (unit.repeat(repeats), decoded_unit.repeat(repeats));
    let block = r##""@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha1""##;
    let places = [
        format!(r#"[{{{block},"deviceGroupNames":["a","{text}"]}}]"#),
        format!(r#"[{{{block},"note":{{"deep":["{text}"]}}}}]"#),
    ];
    for (place, json) in places.iter().enumerate() {
        assert!(json.len() > 3_000_000 && json.len() < 4 * 1024 * 1024, "{}", json.len());
        let read = client.from_graph(from(json.as_str())).await.expect("a 3 MB string is fine").into_inner();
        let action = &read.actions[0];
        match (place, &action.action) {
            (0, Some(Action::BlockFile(block))) => assert_eq!(block.device_group_names, ["a", decoded.as_str()]),
            (1, Some(Action::BlockFile(_))) => {
                assert_eq!(action.additional_data["note"], format!(r#"{{"deep":["{text}"]}}"#))
            }
            other => panic!("place {place}: {other:?}"),
        }
        let request = ToGraphRequest { actions: read.actions.clone(), ..Default::default() };
        let written = client.to_graph(request).await.expect("written back").into_inner();
        let again = client.from_graph(from(written.json)).await.expect("read again").into_inner();
        assert_eq!(again.actions, read.actions, "place {place}");
    }
    // As a type name or a key, the text is answered three times (in the action, and twice in
    // its unknown-data entry): 1 MB round-trips, 3 MB makes an answer over the limit, refused.
    let sized = |size: usize| (unit.repeat(size / unit.len()), decoded_unit.repeat(size / unit.len()));
    let ((one_mb, one_mb_decoded), three_mb) = (sized(1_000_000), &text);
    let type_name = |t: &str| format!(r##"[{{"@odata.type":"#microsoft.graph.security.{t}"}}]"##);
    let key = |k: &str| format!(r#"[{{{block},"{k}":1}}]"#);
    for (json, check) in [(type_name(&one_mb), 0), (key(&one_mb), 1)] {
        let read = client.from_graph(from(json.as_str())).await.expect("1 MB is fine").into_inner();
        match (check, &read.actions[0].action) {
            (0, Some(Action::Unknown(u))) => {
                assert_eq!(u.odata_type, format!("microsoft.graph.security.{one_mb_decoded}"))
            }
            (1, Some(Action::BlockFile(_))) => assert_eq!(read.actions[0].additional_data[&one_mb_decoded], "1"),
            other => panic!("{other:?}"),
        }
        let written = client.to_graph(ToGraphRequest { actions: read.actions.clone(), ..Default::default() }).await;
        let again = client.from_graph(from(written.expect("written back").into_inner().json)).await;
        assert_eq!(again.expect("read again").into_inner().actions, read.actions);
    }
    for json in [type_name(three_mb), key(three_mb)] {
        let status = client.from_graph(from(json)).await.expect_err("the answer is over the limit");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        let words = "over the limit of 4194304 bytes (--max-message-bytes)";
        assert!(status.message().contains(words), "{}", status.message());
    }
    still_serves(&server, &mut client).await;
    server.stop().await;
}
