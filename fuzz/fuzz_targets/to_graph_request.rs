//! Arbitrary bytes decoded with prost as a `ToGraphRequest`, a `FromGraphRequest` and a
//! `TranslateStreamRequest`, then served exactly as the service serves them (limits, policy
//! value, codec, status). Never a panic, and what ToGraph writes must read back: its output is
//! one JSON value within the depth limit, FromGraph reads it, and writing what was read and
//! reading that again gives the same actions. ToGraph and FromGraph read in place from the bytes
//! (what their unary RPCs run) must answer exactly as of the decoded request: FromGraph's
//! response, written as its JSON is read, byte for byte as prost encodes the decoded path's.
#![no_main]

use graphbridge_codec::{
    self as codec, Policy, json,
    pb::{FromGraphRequest, ToGraphRequest, TranslateStreamRequest, translate_stream_request::Request},
    translate::{self, EncodedResponse, Limits, TranslateError},
};
use graphbridge_testkit::{DEPTH, refusals::check_refusal};
use libfuzzer_sys::fuzz_target;
use prost::Message;

const LIMITS: Limits = Limits { max_message_bytes: 1 << 20, max_json_depth: DEPTH };

/// A tight depth limit, so that additional_data values meet the limit often.
const SHALLOW: Limits = Limits { max_json_depth: 4, ..LIMITS };

fuzz_target!(|data: &[u8]| {
    for limits in [LIMITS, SHALLOW] {
        let decoded = ToGraphRequest::decode(data).map_err(TranslateError::from);
        let expected = decoded.and_then(|request| translate::to_graph(&limits, &request));
        assert_eq!(translate::to_graph_encoded(&limits, data), expected, "ToGraph: read in place and decoded differ");
        let decoded = FromGraphRequest::decode(data).map_err(TranslateError::from);
        let expected = decoded.and_then(|request| translate::from_graph(&limits, &request));
        assert_eq!(
            translate::from_graph_encoded(&limits, data),
            expected.map(EncodedResponse::of),
            "FromGraph: written as read and encoded from the decoded request differ"
        );
    }
    if let Ok(request) = ToGraphRequest::decode(data) {
        to_graph(&request);
    }
    if let Ok(request) = FromGraphRequest::decode(data) {
        from_graph(&request);
    }
    if let Ok(item) = TranslateStreamRequest::decode(data) {
        match &item.request {
            Some(Request::ToGraph(request)) => to_graph(request),
            Some(Request::FromGraph(request)) => from_graph(request),
            // Rule items are served by the same functions as their unary RPCs, which the
            // rule_to_graph_request target exercises in depth; here, only that they never panic
            // and every refusal is located.
            Some(Request::RuleToGraph(request)) => served(translate::rule_to_graph(&LIMITS, request)),
            Some(Request::RuleFromGraph(request)) => served(translate::rule_from_graph(&LIMITS, request)),
            Some(Request::MigrateRule(request)) => served(translate::migrate_rule(&LIMITS, request)),
            None => {}
        }
    }
});

fn served<T>(result: Result<T, translate::TranslateError>) {
    if let Err(error) = result {
        check_refusal(&error);
    }
}

fn from_graph(request: &FromGraphRequest) {
    for limits in [LIMITS, SHALLOW] {
        if let Err(error) = translate::from_graph(&limits, request) {
            check_refusal(&error);
        }
    }
}

fn to_graph(request: &ToGraphRequest) {
    for limits in [LIMITS, SHALLOW] {
        let depth = limits.max_json_depth;
        let written = match translate::to_graph(&limits, request) {
            Ok(written) => written,
            Err(error) => {
                check_refusal(&error);
                continue;
            }
        };
        json::single_value(&written.json, depth)
            .unwrap_or_else(|e| panic!("ToGraph wrote invalid JSON ({e:?}): {}", written.json));
        let read = codec::from_graph(&written.json, Policy::Preserve, depth)
            .unwrap_or_else(|e| panic!("FromGraph refused ToGraph's output ({e}): {}", written.json));
        let again = codec::to_graph(&read.actions, Policy::Preserve, false, depth)
            .unwrap_or_else(|e| panic!("ToGraph refused what FromGraph read ({e}) from {}", written.json));
        let reread = codec::from_graph(&again.json, Policy::Preserve, depth)
            .unwrap_or_else(|e| panic!("FromGraph refused ToGraph's output ({e}): {}", again.json));
        assert_eq!(read.actions, reread.actions, "not stable: {} then {}", written.json, again.json);
    }
}
