//! ToGraph, FromGraph, RuleToGraph and RuleFromGraph from the request's encoding
//! (`translate::*_encoded`, what the service runs) answer exactly what they answer for the
//! decoded request, for any bytes: requests as prost writes them (random actions of every type
//! and random rules, some with unknown data, update masks or invalid values; random Graph JSON of
//! rules and actions), and the same bytes changed, cut, or merged with another request. Which requests are read in place is tested beside the reader
//! (crates/codec/src/wire.rs).

use graphbridge_codec::{
    self as codec, Policy,
    pb::{
        FromGraphRequest, ResponseAction, RuleFromGraphRequest, RuleToGraphRequest, ToGraphRequest, ToGraphResponse,
        response_action::Action,
    },
    translate::{self, EncodedResponse, Limits, TranslateError},
};
use graphbridge_testkit::{
    DEPTH,
    payloads::payloads,
    rule_gen::{rule_json, valid_rule},
};
use proptest::{collection::vec, prelude::*};
use prost::Message;

const LIMITS: Limits = Limits { max_message_bytes: 1 << 20, max_json_depth: DEPTH };

/// A depth limit that the actions' additional_data values meet.
const SHALLOW: Limits = Limits { max_json_depth: 3, ..LIMITS };

/// What the service answered before it read requests in place.
fn decoded(limits: &Limits, bytes: &[u8]) -> Result<ToGraphResponse, TranslateError> {
    translate::to_graph(limits, &ToGraphRequest::decode(bytes)?)
}

/// Random actions (as a random rule holds them); `plain` ones without unknown data, as a
/// caller's own actions mostly are.
fn actions(entropy: &[u8], plain: bool) -> Vec<ResponseAction> {
    let mut actions = valid_rule(entropy).detection_action.map(|d| d.response_actions).unwrap_or_default();
    if plain {
        actions.retain(|a| !matches!(a.action, Some(Action::Unknown(_))));
        actions.iter_mut().for_each(|a| a.additional_data.clear());
    }
    actions
}

/// A change to an encoded request.
#[derive(Debug, Clone)]
enum Change {
    /// The byte at (index modulo the length) set to a value.
    Set(usize, u8),
    /// Cut after (index modulo the length) bytes.
    Cut(usize),
    /// Bytes inserted at (index modulo the length).
    Insert(usize, Vec<u8>),
    /// The request encoded again, appended: prost merges the two.
    Twice,
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Change::Set(i, b)),
        any::<usize>().prop_map(Change::Cut),
        (any::<usize>(), vec(any::<u8>(), 1..4)).prop_map(|(i, b)| Change::Insert(i, b)),
        Just(Change::Twice),
    ]
}

fn apply(bytes: &mut Vec<u8>, change: &Change) {
    let at = |i: usize| if bytes.is_empty() { 0 } else { i % bytes.len() };
    match change {
        Change::Set(i, b) if !bytes.is_empty() => {
            let i = at(*i);
            bytes[i] = *b;
        }
        Change::Set(..) => {}
        Change::Cut(i) => bytes.truncate(at(*i)),
        Change::Insert(i, inserted) => {
            let i = at(*i);
            bytes.splice(i..i, inserted.iter().copied());
        }
        Change::Twice => bytes.extend_from_within(..),
    }
}

/// Runs `check` on `bytes`, and again after `changes`.
fn checked_as_changed(
    mut bytes: Vec<u8>,
    changes: &[Change],
    check: fn(&[u8]) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    check(&bytes)?;
    if !changes.is_empty() {
        changes.iter().for_each(|change| apply(&mut bytes, change));
        check(&bytes)?;
    }
    Ok(())
}

fn to_graph_answers_alike(bytes: &[u8]) -> Result<(), TestCaseError> {
    for limits in [LIMITS, SHALLOW] {
        prop_assert_eq!(translate::to_graph_encoded(&limits, bytes), decoded(&limits, bytes));
    }
    Ok(())
}

fn rule_to_graph_answers_alike(bytes: &[u8]) -> Result<(), TestCaseError> {
    for limits in [LIMITS, SHALLOW] {
        let decoded = RuleToGraphRequest::decode(bytes).map_err(TranslateError::from);
        let expected = decoded.and_then(|request| translate::rule_to_graph(&limits, &request));
        prop_assert_eq!(translate::rule_to_graph_encoded(&limits, bytes), expected);
    }
    Ok(())
}

/// A random rule: made as a caller would, or read from Graph's JSON with the update mask of what
/// that JSON holds, as RuleFromGraph answers it (a PATCH body's round trip).
fn rule_request(entropy: &[u8], from_graph: bool, pretty: bool, policy: i32) -> RuleToGraphRequest {
    let (rule, paths) = if from_graph {
        let read =
            codec::rules_from_graph(&rule_json(entropy).input, Policy::Preserve, DEPTH).expect("Graph JSON reads");
        (read.rules.into_iter().next(), Some(read.present))
    } else {
        (Some(valid_rule(entropy)), None)
    };
    let update_mask = paths.map(|paths| prost_types::FieldMask { paths });
    RuleToGraphRequest { rule, update_mask, pretty, unknown_data_policy: policy }
}

/// FromGraphRequest and RuleFromGraphRequest have the same fields: both read `bytes`. The
/// response written as the JSON is read is, byte for byte, prost's encoding of the decoded path's.
fn json_answers_alike(bytes: &[u8]) -> Result<(), TestCaseError> {
    for limits in [LIMITS, SHALLOW] {
        let decoded = FromGraphRequest::decode(bytes).map_err(TranslateError::from);
        let expected = decoded.and_then(|request| translate::from_graph(&limits, &request));
        prop_assert_eq!(translate::from_graph_encoded(&limits, bytes), expected.map(EncodedResponse::of));
        let decoded = RuleFromGraphRequest::decode(bytes).map_err(TranslateError::from);
        let expected = decoded.and_then(|request| translate::rule_from_graph(&limits, &request));
        prop_assert_eq!(translate::rule_from_graph_encoded(&limits, bytes), expected.map(EncodedResponse::of));
    }
    Ok(())
}

/// Graph JSON: a random rule, or actions as Graph writes them.
fn graph_json(entropy: &[u8], rule: bool) -> String {
    if rule {
        rule_json(entropy).input
    } else {
        let payloads = payloads();
        let index = entropy.first().map_or(0, |&b| usize::from(b) % payloads.len());
        payloads.into_iter().nth(index).expect("a payload").graph_json
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn reading_in_place_answers_as_decoding(
        entropy in vec(any::<u8>(), 0..256),
        plain in any::<bool>(),
        pretty in any::<bool>(),
        policy in 0..5i32,
        changes in vec(change(), 0..3),
    ) {
        let request = ToGraphRequest { actions: actions(&entropy, plain), pretty, unknown_data_policy: policy };
        checked_as_changed(request.encode_to_vec(), &changes, to_graph_answers_alike)?;
    }

    #[test]
    fn reading_rules_in_place_answers_as_decoding(
        entropy in vec(any::<u8>(), 0..256),
        from_graph in any::<bool>(),
        pretty in any::<bool>(),
        policy in 0..5i32,
        changes in vec(change(), 0..3),
    ) {
        let request = rule_request(&entropy, from_graph, pretty, policy);
        checked_as_changed(request.encode_to_vec(), &changes, rule_to_graph_answers_alike)?;
    }

    #[test]
    fn reading_json_in_place_answers_as_decoding(
        entropy in vec(any::<u8>(), 0..256),
        rule in any::<bool>(),
        policy in 0..5i32,
        changes in vec(change(), 0..3),
    ) {
        let request = FromGraphRequest { json: graph_json(&entropy, rule), unknown_data_policy: policy };
        checked_as_changed(request.encode_to_vec(), &changes, json_answers_alike)?;
    }
}
