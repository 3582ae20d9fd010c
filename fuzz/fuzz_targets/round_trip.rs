//! FromGraph -> ToGraph -> FromGraph is a fixed point: for any UTF-8 input that
//! FromGraph accepts under PRESERVE, ToGraph of the result succeeds (compact and pretty), FromGraph
//! of that output gives the same actions, and nothing is lost on the way: every input property
//! is in the output (a `null` known property may be left out, as null means absent), nothing is
//! added, and every value kept in additional_data comes back byte for byte. The one refusal
//! allowed: an action without a required property (FromGraph is lenient, ToGraph is strict).
#![no_main]

use std::borrow::Cow;

use graphbridge_codec::{
    self as codec, Error, FromGraph, Policy,
    json::{JsonType, Raw, Scanner},
    pb::{ResponseAction, response_action::Action},
};
use graphbridge_testkit::{DEPTH, json::minified};
use libfuzzer_sys::fuzz_target;

const DEPTHS: [usize; 2] = [5, DEPTH];

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    for depth in DEPTHS {
        let Ok(first) = codec::from_graph(json, Policy::Preserve, depth) else { continue };
        for pretty in [false, true] {
            let written = match codec::to_graph(&first.actions, Policy::Preserve, pretty, depth) {
                Ok(written) => written,
                // By design, FromGraph reads an action without a required property (Graph never
                // sends one) and ToGraph refuses to write it: the one allowed refusal.
                Err(Error::Invalid(violations))
                    if violations.iter().all(|v| v.description.starts_with("required: Graph property ")) =>
                {
                    break;
                }
                Err(e) => panic!("ToGraph refused what FromGraph read from {json:?} (depth {depth}): {e}"),
            };
            let second = codec::from_graph(&written.json, Policy::Preserve, depth)
                .unwrap_or_else(|e| panic!("FromGraph refused ToGraph's {:?} (depth {depth}): {e}", written.json));
            if pretty {
                // Pretty output re-indents raw values: equal up to whitespace.
                assert_eq!(
                    minified_values(&first.actions),
                    minified_values(&second.actions),
                    "pretty: {json:?} -> {:?}",
                    written.json
                );
            } else {
                assert_eq!(first.actions, second.actions, "not a fixed point: {json:?} -> {:?}", written.json);
                nothing_lost(json, &written.json, &first);
            }
        }
    }
});

/// The actions with the whitespace between the tokens of additional_data values removed.
fn minified_values(actions: &[ResponseAction]) -> Vec<ResponseAction> {
    let mut actions = actions.to_vec();
    for action in &mut actions {
        action.additional_data.values_mut().for_each(|v| *v = minified(v));
    }
    actions
}

type Members<'a> = Vec<(Cow<'a, str>, Raw<'a>)>;

/// The members of each action object of a document FromGraph accepted (an array or one object).
fn objects(json: &str) -> Vec<Members<'_>> {
    let mut scanner = Scanner::new(json, usize::MAX);
    let top = scanner.value(1).expect("accepted by FromGraph");
    let items = if top.json_type() == JsonType::Array { top.items().expect("an array") } else { vec![top] };
    items
        .into_iter()
        .map(|item| {
            let mut members = Vec::new();
            Scanner::new(item.text, usize::MAX)
                .object(1, |s, key| {
                    members.push((key.clone(), s.value(2)?));
                    Ok(())
                })
                .expect("an action object");
            members
        })
        .collect()
}

fn nothing_lost(input: &str, output: &str, read: &FromGraph) {
    let (inputs, outputs) = (objects(input), objects(output));
    assert_eq!(inputs.len(), outputs.len(), "actions were added or lost: {input:?} -> {output:?}");
    for ((input_members, output_members), action) in inputs.iter().zip(&outputs).zip(&read.actions) {
        let (type_in, type_out) = (odata_type(input_members), odata_type(output_members));
        assert_eq!(
            type_out,
            format!("#{}", type_in.strip_prefix('#').unwrap_or(&type_in)),
            "the type changed: {input:?} -> {output:?}"
        );
        for (key, value) in input_members.iter().filter(|(k, _)| k != "@odata.type") {
            match find(output_members, key) {
                None => assert!(
                    value.json_type() == JsonType::Null && !matches!(action.action, Some(Action::Unknown(_))),
                    "property {key:?} was lost: {input:?} -> {output:?}"
                ),
                Some(written) => {
                    if is_raw(action, key) {
                        assert_eq!(written, value.text, "the raw value of {key:?} changed: {input:?} -> {output:?}");
                    }
                }
            }
        }
        for (key, _) in output_members {
            assert!(find(input_members, key).is_some(), "property {key:?} was added: {input:?} -> {output:?}");
        }
    }
}

fn find<'a>(members: &Members<'a>, key: &str) -> Option<&'a str> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| v.text)
}

fn odata_type(members: &Members<'_>) -> String {
    let raw = members.iter().find(|(k, _)| k == "@odata.type").expect("@odata.type").1;
    raw.as_str().expect("a string").into_owned()
}

fn is_raw(action: &ResponseAction, key: &str) -> bool {
    action.additional_data.contains_key(key)
}
