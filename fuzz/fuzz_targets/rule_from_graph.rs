//! Graph JSON -> DetectionRule -> Graph JSON -> DetectionRule (RuleFromGraph, then RuleToGraph):
//! any UTF-8 text, every policy, two depth limits. Never a panic, and:
//! - the policies agree: a syntax error is the same under every policy; DROP accepts exactly what
//!   PRESERVE accepts; what REJECT accepts, PRESERVE reads the same;
//! - what is read under a small depth limit is read identically under a larger one;
//! - one rule object: RuleToGraph of the rule with the `present` mask RuleFromGraph returned
//!   succeeds (compact and pretty), and RuleFromGraph of that output gives the same rule and the
//!   same mask. The one refusal allowed: a required property the input gave no value this build
//!   holds (absent, null, or dropped under DROP): FromGraph is lenient, ToGraph is strict. Under PRESERVE nothing is lost on the way: every
//!   input member is in the output (a `null` inside a collection item may be left out, as null
//!   means absent there), and under every policy nothing is added;
//! - an OData collection: each rule, written alone without a mask, reads back as the same rule.
#![no_main]

use std::borrow::Cow;

use graphbridge_codec::{
    self as codec, Error, Policy, RulesFromGraph,
    json::{JsonType, Raw, Scanner},
    pb::DetectionRule,
};
use graphbridge_testkit::{DEPTH, json::minified, refusals::check_error};
use libfuzzer_sys::fuzz_target;

const DEPTHS: [usize; 2] = [6, DEPTH];
const POLICIES: [Policy; 3] = [Policy::Preserve, Policy::Drop, Policy::Reject];

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let mut shallow: Option<Result<RulesFromGraph, Error>> = None;
    for depth in DEPTHS {
        let [preserve, drop, reject] = POLICIES.map(|policy| codec::rules_from_graph(json, policy, depth));
        for result in [&preserve, &drop, &reject] {
            if let Err(error) = result {
                check_error(error);
            }
        }
        match &preserve {
            Err(syntax @ Error::Syntax { .. }) => {
                assert_eq!(drop.as_ref().err(), Some(syntax), "DROP disagrees on a syntax error");
                assert_eq!(reject.as_ref().err(), Some(syntax), "REJECT disagrees on a syntax error");
            }
            Err(Error::Invalid(_)) => {
                assert!(drop.is_err(), "DROP accepted what PRESERVE refused: {json:?}");
                assert!(reject.is_err(), "REJECT accepted what PRESERVE refused: {json:?}");
            }
            Ok(read) => {
                let dropped =
                    drop.as_ref().unwrap_or_else(|e| panic!("DROP refused what PRESERVE read ({e}): {json:?}"));
                assert_eq!(dropped.collection, read.collection, "DROP read another envelope: {json:?}");
                if let Ok(rejected) = &reject {
                    assert_eq!(rejected.rules, read.rules, "REJECT read other rules: {json:?}");
                    assert_eq!(rejected.present, read.present, "REJECT read another mask: {json:?}");
                }
            }
        }
        if let Some(Ok(read)) = &shallow {
            let deeper = preserve.as_ref().unwrap_or_else(|e| panic!("a larger depth limit refused ({e}): {json:?}"));
            assert_eq!(deeper, read, "a larger depth limit read differently: {json:?}");
        }
        for (policy, result) in POLICIES.iter().zip([&preserve, &drop, &reject]) {
            if let Ok(read) = result {
                round_trip(json, read, *policy, depth);
            }
        }
        shallow = Some(preserve);
    }
});

fn round_trip(json: &str, read: &RulesFromGraph, policy: Policy, depth: usize) {
    if read.collection.is_some() {
        assert!(read.present.is_empty(), "a mask for a collection: {json:?}");
        for rule in &read.rules {
            let Some(written) = write(json, rule, None, policy, false, depth) else { continue };
            let again = read_one(json, &written, policy, depth);
            assert_eq!(
                &again.rules[0], rule,
                "a collection's rule written alone reads differently: {json:?} -> {written:?}"
            );
        }
        return;
    }
    assert_eq!(read.rules.len(), 1, "one rule object, not one rule: {json:?}");
    let rule = &read.rules[0];
    let Some(compact) = write(json, rule, Some(&read.present), policy, false, depth) else { return };
    let again = read_one(json, &compact, policy, depth);
    assert_eq!(&again.rules[0], rule, "not a fixed point: {json:?} -> {compact:?}");
    assert_eq!(sorted(&again.present), sorted(&read.present), "another mask: {json:?} -> {compact:?}");
    compare(json, &compact, policy == Policy::Preserve);
    // Pretty output re-indents raw values: what it reads back writes the same JSON up to whitespace.
    let pretty = write(json, rule, Some(&read.present), policy, true, depth).expect("compact was written");
    let again = read_one(json, &pretty, policy, depth);
    let rewritten = write(&pretty, &again.rules[0], Some(&again.present), policy, false, depth)
        .unwrap_or_else(|| panic!("pretty output read back is refused: {json:?} -> {pretty:?}"));
    assert_eq!(minified(&rewritten), minified(&compact), "pretty: {json:?} -> {pretty:?}");
}

/// RuleToGraph; None for the one allowed refusal (a required property without a value).
fn write(
    json: &str,
    rule: &DetectionRule,
    mask: Option<&[String]>,
    policy: Policy,
    pretty: bool,
    depth: usize,
) -> Option<String> {
    match codec::rule_to_graph(rule, mask, policy, pretty, depth) {
        Ok(written) => Some(written.json),
        Err(Error::Invalid(violations))
            if violations.iter().all(|v| v.description.starts_with("required: Graph property ")) =>
        {
            None
        }
        Err(e) => panic!(
            "RuleToGraph ({policy:?}, depth {depth}, mask {mask:?}) refused what RuleFromGraph read from {json:?}: {e} {:?}",
            e.violations()
        ),
    }
}

fn read_one(json: &str, written: &str, policy: Policy, depth: usize) -> RulesFromGraph {
    let again = codec::rules_from_graph(written, policy, depth).unwrap_or_else(|e| {
        panic!("RuleFromGraph ({policy:?}, depth {depth}) refused RuleToGraph's {written:?} (from {json:?}): {e}")
    });
    assert!(again.collection.is_none() && again.rules.len() == 1, "one rule became {again:?}: {json:?} -> {written:?}");
    again
}

fn sorted(paths: &[String]) -> Vec<&str> {
    let mut paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    paths.sort_unstable();
    paths
}

/// Compares the input and output documents member by member: nothing added, and when `whole`
/// (PRESERVE) nothing lost either but a null inside a collection item.
fn compare(input: &str, output: &str, whole: bool) {
    let parse = |text| Scanner::new(text, usize::MAX).value(1).expect("accepted by RuleFromGraph");
    walk(&parse(input), &parse(output), whole, false, &mut String::new(), (input, output));
}

fn walk(input: &Raw<'_>, output: &Raw<'_>, whole: bool, in_item: bool, at: &mut String, docs: (&str, &str)) {
    match (input.json_type(), output.json_type()) {
        (JsonType::Object, JsonType::Object) => {
            let (inputs, outputs) = (members(input), members(output));
            for (key, _) in &outputs {
                assert!(
                    inputs.iter().any(|(k, _)| k == key),
                    "member {at}/{key} was added: {:?} -> {:?}",
                    docs.0,
                    docs.1
                );
            }
            for (key, value) in &inputs {
                let len = at.len();
                at.push('/');
                at.push_str(key);
                match outputs.iter().find(|(k, _)| k == key) {
                    Some((_, written)) => walk(value, written, whole, in_item, at, docs),
                    None => assert!(
                        !whole || (in_item && value.json_type() == JsonType::Null),
                        "member {at} was lost: {:?} -> {:?}",
                        docs.0,
                        docs.1
                    ),
                }
                at.truncate(len);
            }
        }
        (JsonType::Array, JsonType::Array) => {
            let (inputs, outputs) = (input.items().unwrap(), output.items().unwrap());
            if inputs.iter().all(|i| i.json_type() == JsonType::Object) {
                if whole {
                    assert_eq!(inputs.len(), outputs.len(), "items of {at} were lost: {:?} -> {:?}", docs.0, docs.1);
                }
                // Under DROP an unknown type's item is left out: compare what is left in order
                // only when nothing was left out.
                if inputs.len() == outputs.len() {
                    for (i, (item_in, item_out)) in inputs.iter().zip(&outputs).enumerate() {
                        let len = at.len();
                        at.push_str(&format!("/{i}"));
                        walk(item_in, item_out, whole, true, at, docs);
                        at.truncate(len);
                    }
                }
            }
        }
        // Scalars may be normalised (flags in bit order, '#' on a type name); a value the
        // reader could not type is kept raw. A null written for a masked property is fine.
        _ => {}
    }
}

fn members<'a>(raw: &Raw<'a>) -> Vec<(Cow<'a, str>, Raw<'a>)> {
    let mut members = Vec::new();
    Scanner::new(raw.text, usize::MAX)
        .object(1, |s, key| {
            members.push((key.clone(), s.value(2)?));
            Ok(())
        })
        .expect("an object");
    members
}
