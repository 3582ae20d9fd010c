//! Arbitrary bytes decoded with prost as a `RuleToGraphRequest` (and as a `RuleFromGraphRequest`),
//! then served exactly as the service serves them (limits, policy value, update mask, codec,
//! status). Never a panic, never INTERNAL, and what RuleToGraph writes must read back: its output
//! is one JSON value within the depth limit, RuleFromGraph reads it as one rule object, and
//! writing what was read with the mask it returned, then reading that again, gives the same rule.
//! RuleToGraph and RuleFromGraph read in place from the bytes (what their unary RPCs run) must
//! answer exactly as of the decoded request (RuleFromGraph's response, written as its JSON is
//! read, byte for byte as prost encodes the decoded path's).
#![no_main]

use graphbridge_codec::{
    self as codec, Policy, json,
    pb::{RuleFromGraphRequest, RuleToGraphRequest},
    translate::{self, EncodedResponse, Limits, TranslateError},
};
use graphbridge_testkit::{DEPTH, refusals::check_refusal};
use libfuzzer_sys::fuzz_target;
use prost::Message;

const LIMITS: Limits = Limits { max_message_bytes: 1 << 20, max_json_depth: DEPTH };

/// A tight depth limit, so that nested objects and additional_data values meet the limit often
/// (a rule's own objects nest 6 deep: rule, detectionAction, alertTemplate, entityMappings, list, item).
const SHALLOW: Limits = Limits { max_json_depth: 5, ..LIMITS };

fuzz_target!(|data: &[u8]| {
    for limits in [LIMITS, SHALLOW] {
        let decoded = RuleToGraphRequest::decode(data).map_err(TranslateError::from);
        let expected = decoded.and_then(|request| translate::rule_to_graph(&limits, &request));
        let encoded = translate::rule_to_graph_encoded(&limits, data);
        assert_eq!(encoded, expected, "RuleToGraph: read in place and decoded differ");
        let decoded = RuleFromGraphRequest::decode(data).map_err(TranslateError::from);
        let expected = decoded.and_then(|request| translate::rule_from_graph(&limits, &request));
        let encoded = translate::rule_from_graph_encoded(&limits, data);
        assert_eq!(encoded, expected.map(EncodedResponse::of), "RuleFromGraph: written as read and decoded differ");
    }
    if let Ok(request) = RuleToGraphRequest::decode(data) {
        rule_to_graph(&request);
    }
    if let Ok(request) = RuleFromGraphRequest::decode(data) {
        for limits in [LIMITS, SHALLOW] {
            if let Err(error) = translate::rule_from_graph(&limits, &request) {
                check_refusal(&error);
            }
        }
    }
});

fn rule_to_graph(request: &RuleToGraphRequest) {
    for limits in [LIMITS, SHALLOW] {
        let depth = limits.max_json_depth;
        let written = match translate::rule_to_graph(&limits, request) {
            Ok(written) => written,
            Err(error) => {
                check_refusal(&error);
                continue;
            }
        };
        json::single_value(&written.json, depth)
            .unwrap_or_else(|e| panic!("RuleToGraph wrote invalid JSON ({e:?}): {}", written.json));
        let read = codec::rules_from_graph(&written.json, Policy::Preserve, depth)
            .unwrap_or_else(|e| panic!("RuleFromGraph refused RuleToGraph's output ({e}): {}", written.json));
        assert!(
            read.collection.is_none() && read.rules.len() == 1,
            "RuleToGraph's output is not read as one rule object: {} -> {read:?}",
            written.json
        );
        let again = codec::rule_to_graph(&read.rules[0], Some(&read.present), Policy::Preserve, false, depth)
            .unwrap_or_else(|e| panic!("RuleToGraph refused what RuleFromGraph read ({e}) from {}", written.json));
        let reread = codec::rules_from_graph(&again.json, Policy::Preserve, depth)
            .unwrap_or_else(|e| panic!("RuleFromGraph refused RuleToGraph's output ({e}): {}", again.json));
        assert_eq!(read.rules, reread.rules, "not stable: {} then {}", written.json, again.json);
    }
}
