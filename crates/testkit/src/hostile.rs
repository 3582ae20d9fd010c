//! Hostile Graph JSON, shared by the codec's tests (what each input is read or refused as, and
//! where) and the socket tests (the service answers each the same way, and keeps serving).

use std::collections::BTreeMap;

use graphbridge_codec::{
    pb::{ResponseAction, ToGraphRequest},
    schema::GraphObject,
};

use crate::{
    DEPTH, ISOLATE, ISOLATE_TYPE,
    schema::{Holds, response_actions},
};

/// Malformed FromGraph input of every kind: (JSON, the field of the first violation, words of its
/// description). Trailing garbage, empty input, duplicate keys however spelled, lone surrogates,
/// NaN and Infinity, and what is no array of actions nor an action.
pub fn malformed_actions() -> Vec<(String, &'static str, &'static str)> {
    let t = ISOLATE_TYPE;
    let many_keys: String = (0..40).map(|i| format!(",\"k{i}\":{i}")).collect();
    vec![
        // Malformed.
        (format!("[{{\"@odata.type\" \"{t}\"}}]"), "json/0", "line 1, column 17: unexpected '\"', expected ':'"),
        ("[{'@odata.type':1}]".into(), "json/0", "unexpected '\\'', expected a string key"),
        (format!("[{{\"@odata.type\":\"{t}\",}}]"), "json/0", "expected a string key"),
        ("[{}, ]".into(), "json/1", "unexpected ']', expected a JSON value"),
        ("[{} {}]".into(), "json", "expected ',' or ']' after an array item"),
        (format!("[{{\"@odata.type\":\"{t}"), "json/0/@odata.type", "unterminated string"),
        ("[{\"@odata.type\":tru}]".into(), "json/0/@odata.type", "expected a JSON value"),
        ("[{\"a\":\"\\x\"}]".into(), "json/0/a", "invalid escape"),
        ("[{\"a\":\"\\u12G4\"}]".into(), "json/0/a", "invalid \\u escape: expected 4 hex digits"),
        ("[{\"a\":\"tab\there\"}]".into(), "json/0/a", "control character U+0009 in a string must be escaped"),
        ("[{\"a\":01}]".into(), "json/0/a", "invalid number: leading zero"),
        ("[{\"a\":1.}]".into(), "json/0/a", "invalid number: expected a digit after '.'"),
        ("[{\"a\":-}]".into(), "json/0/a", "invalid number: expected a digit"),
        ("[{\"a\":1e+}]".into(), "json/0/a", "expected a digit in the exponent"),
        ("[{\"a\":+1}]".into(), "json/0/a", "unexpected '+', expected a JSON value"),
        ("[{\"a\":.5}]".into(), "json/0/a", "unexpected '.', expected a JSON value"),
        ("\u{feff}[]".into(), "json", "unexpected '\\u{feff}', expected a JSON value"),
        ("[\n{\"a\":\n\n  ]}".into(), "json/0/a", "line 4, column 3: unexpected ']'"),
        // Trailing garbage.
        ("[] []".into(), "json", "line 1, column 4: unexpected characters after the JSON value"),
        (format!("{ISOLATE}\n,"), "json", "line 2, column 1: unexpected characters after the JSON value"),
        ("[]\u{0}".into(), "json", "unexpected characters after the JSON value"),
        // Empty.
        ("".into(), "json", "empty input: expected an array of actions or one action object"),
        (" \n\t\r ".into(), "json", "empty input: expected an array of actions or one action object"),
        // Duplicate keys, at any depth, however spelled.
        (format!("[{{\"@odata.type\":\"{t}\",\"@odata.type\":\"{t}\"}}]"), "json/0", "duplicate key \"@odata.type\""),
        (
            format!("[{{\"@odata.type\":\"{t}\",\"@odata\\u002etype\":\"#x\"}}]"),
            "json/0",
            "duplicate key \"@odata.type\"",
        ),
        ("[{\"x\":{\"y\":[{\"z\":1,\"z\":2}]}}]".into(), "json/0/x/y/0", "duplicate key \"z\""),
        (format!("[{{\"@odata.type\":\"#x\"{many_keys},\"k39\":0}}]"), "json/0", "duplicate key \"k39\""),
        // Lone surrogates, in values and in keys.
        ("[{\"a\":\"\\ud800\"}]".into(), "json/0/a", "lone surrogate \\uD800"),
        ("[{\"a\":\"\\udfff\"}]".into(), "json/0/a", "lone surrogate \\uDFFF"),
        ("[{\"a\":\"\\ud83d\\u0041\"}]".into(), "json/0/a", "lone surrogate \\uD83D"),
        ("[{\"a\":\"x\\ud83d\"}]".into(), "json/0/a", "lone surrogate \\uD83D"),
        ("[{\"\\udc00\":1}]".into(), "json/0", "lone surrogate \\uDC00"),
        // NaN and Infinity are not JSON.
        ("[{\"a\":NaN}]".into(), "json/0/a", "unexpected 'N', expected a JSON value"),
        ("[{\"a\":Infinity}]".into(), "json/0/a", "unexpected 'I', expected a JSON value"),
        ("[{\"a\":-Infinity}]".into(), "json/0/a", "invalid number: expected a digit"),
        (format!("[{{\"@odata.type\":\"{t}\",\"identifier\":NaN}}]"), "json/0/identifier", "unexpected 'N'"),
        // Not an array of actions or an action.
        ("\"[]\"".into(), "json", "expected an array of actions or one action object, found a string"),
        ("42".into(), "json", "expected an array of actions or one action object, found a number"),
        ("null".into(), "json", "expected an array of actions or one action object, found null"),
        ("[[]]".into(), "json/0", "expected an object, found an array"),
        ("[{}]".into(), "json/0", "missing \"@odata.type\": the value's type cannot be known"),
    ]
}

/// Arrays and objects nested 100,000 deep, inside a known action, an unknown one, one action
/// object, or alone: (JSON, the field of the violation at the nesting limit).
pub fn nested_100000_deep() -> Vec<(String, String)> {
    let n = 100_000;
    let arrays = arrays_nested(n);
    let objects = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    // The innermost container read before the limit is at depth 64: items of the 62 arrays
    // (or members of the 62 objects) between the action's property (depth 3) and there.
    let deep_arrays = "/0".repeat(DEPTH - 2);
    let deep_objects = "/a".repeat(DEPTH - 2);
    vec![
        (
            format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","identifier":{arrays}}}]"#),
            format!("json/0/identifier{deep_arrays}"),
        ),
        (
            format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","identifier":{objects}}}]"#),
            format!("json/0/identifier{deep_objects}"),
        ),
        (format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","x":{arrays}}}]"#), format!("json/0/x{deep_arrays}")),
        (format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","x":{objects}}}]"#), format!("json/0/x{deep_objects}")),
        (
            format!(r##"[{{"@odata.type":"#microsoft.graph.security.newAction","x":{arrays}}}]"##),
            format!("json/0/x{deep_arrays}"),
        ),
        // One action object instead of an array: nested as if it were the array's one item.
        (format!(r#"{{"@odata.type":"{ISOLATE_TYPE}","x":{arrays}}}"#), format!("json/x{deep_arrays}")),
        // Never closed.
        (format!(r#"[{{"@odata.type":"{ISOLATE_TYPE}","x":{}"#, "[".repeat(n)), format!("json/0/x{deep_arrays}")),
        (arrays, format!("json{}", "/0".repeat(DEPTH))),
    ]
}

/// Empty arrays nested `depth` deep: `[[…]]`.
pub fn arrays_nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// `text` cut to 120 characters, for failure messages about megabyte inputs.
pub fn preview(text: &str) -> String {
    let end = text.char_indices().nth(120).map_or(text.len(), |(i, _)| i);
    format!("{:?}{}", &text[..end], if end < text.len() { "…" } else { "" })
}

/// A number of 10,000 digits, and as a fraction and an exponent of as many: (number, an
/// isolateDevice action holding it as the unknown properties `retention` and `nested`).
pub fn long_numbers() -> Vec<(String, String)> {
    let digits = digits_10000();
    [digits.clone(), format!("-0.{digits}e-99999"), format!("{digits}.{digits}E+{digits}")]
        .into_iter()
        .map(|number| {
            let json = format!(
                r##"[{{"@odata.type":"{ISOLATE_TYPE}","identifier":"deviceId","isolationType":"full","retention":{number},"nested":{{"n":[{number}]}}}}]"##
            );
            (number, json)
        })
        .collect()
}

/// 10,000 digits, none of them 0.
pub fn digits_10000() -> String {
    (0..10_000).map(|i| char::from(b'1' + (i % 9) as u8)).collect()
}

/// One property of a known type given a value of the wrong JSON type, both ways.
#[derive(Debug, Clone)]
pub struct WrongType {
    /// The FromGraph input, and the pointer and description of its one violation.
    pub graph_json: String,
    pub pointer: String,
    pub description: String,
    /// The same value held raw in additional_data: judged the same way by ToGraph, at
    /// `proto_field`.
    pub to_graph: ToGraphRequest,
    pub proto_field: String,
}

/// Every wrong JSON type for every property of every response action.
pub fn wrong_types() -> Vec<WrongType> {
    let mut cases = Vec::new();
    for (qualified_name, node) in response_actions() {
        for (property, holds) in node.info.properties.iter().zip(&node.holds) {
            for (value, description, item) in wrong_values(property.graph_name, holds) {
                let graph_json =
                    format!(r#"[{{"@odata.type":"{}","{}":{value}}}]"#, node.info.odata_type, property.graph_name);
                let pointer =
                    format!("json/0/{}{}", property.graph_name, item.map_or(String::new(), |i| format!("/{i}")));
                let mut action = ResponseAction::default();
                assert!(action.select(qualified_name), "{qualified_name} is known");
                action.additional_data = BTreeMap::from([(property.graph_name.to_owned(), value)]);
                let to_graph = ToGraphRequest { actions: vec![action], ..Default::default() };
                let proto_field = format!("actions[0].additional_data[\"{}\"]", property.graph_name);
                cases.push(WrongType { graph_json, pointer, description, to_graph, proto_field });
            }
        }
    }
    cases
}

/// What each wrong JSON type gives for each kind of property: (value, description, item index).
fn wrong_values(property: &str, holds: &Holds) -> Vec<(String, String, Option<usize>)> {
    let scalar = |expected: &str| {
        [("1", "a number"), ("-0.5e3", "a number"), ("true", "a boolean"), ("[\"x\"]", "an array"), ("{}", "an object")]
            .iter()
            .map(|(value, found)| (value.to_string(), format!("{property} must be {expected}, found {found}"), None))
            .collect()
    };
    match holds {
        Holds::Flags(_) => scalar("a string of comma-separated enum members"),
        Holds::Enum(_) => scalar("a string enum member"),
        Holds::String => scalar("a string"),
        Holds::Strings => {
            let whole = |value: &str, found: &str| {
                (value.to_owned(), format!("{property} must be an array of strings, found {found}"), None)
            };
            let item = |value: &str, index: usize, found: &str| {
                (value.to_owned(), format!("item {index} of {property} must be a string, found {found}"), Some(index))
            };
            vec![
                whole("\"Servers\"", "a string"),
                whole("7", "a number"),
                whole("false", "a boolean"),
                whole("{\"0\":\"a\"}", "an object"),
                item("[1]", 0, "a number"),
                item("[\"a\",true]", 1, "a boolean"),
                item("[\"a\",\"b\",[\"c\"]]", 2, "an array"),
                item("[\"a\",{}]", 1, "an object"),
            ]
        }
        _ => unreachable!("response actions hold only enums and strings"),
    }
}

/// `@odata.type` values that name no type at all: (JSON of an action with it, the description of
/// the violation at `json/0/@odata.type`).
pub fn odata_types_of_a_wrong_shape() -> Vec<(String, &'static str)> {
    [
        ("5", "\"@odata.type\" must be a string, found a number"),
        ("null", "\"@odata.type\" must be a string, found null"),
        ("true", "\"@odata.type\" must be a string, found a boolean"),
        (
            r##"["#microsoft.graph.security.isolateDeviceResponseAction"]"##,
            "\"@odata.type\" must be a string, found an array",
        ),
        (
            r##"{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction"}"##,
            "\"@odata.type\" must be a string, found an object",
        ),
        ("\"\"", "\"@odata.type\" is empty"),
        ("\"#\"", "\"@odata.type\" is empty"),
    ]
    .into_iter()
    .map(|(value, description)| (format!(r#"[{{"@odata.type":{value},"identifier":"deviceId"}}]"#), description))
    .collect()
}

/// Type names that are almost a known one (names match exactly): (name, JSON of an action of
/// that type with an isolateDevice action's properties).
pub fn odata_types_almost_known() -> Vec<(String, String)> {
    let suffix = "microsoft.graph.security.isolateDeviceResponseAction";
    [
        "#microsoft.graph.security.IsolateDeviceResponseAction".to_owned(), // wrong case
        "#MICROSOFT.GRAPH.SECURITY.ISOLATEDEVICERESPONSEACTION".to_owned(),
        "#isolateDeviceResponseAction".to_owned(), // no namespace
        "isolateDeviceResponseAction".to_owned(),
        "#microsoft.graph.isolateDeviceResponseAction".to_owned(), // wrong namespace
        "#microsoft.graph.security.".to_owned(),
        format!("#{suffix} "), // whitespace
        format!("#{suffix}\n"),
        format!("#{suffix}\u{0}"),
        format!("#\u{200b}{suffix}"),
        format!("#{suffix}ResponseAction"),
        "#x".repeat(100),
    ]
    .into_iter()
    .map(|name| {
        let mut quoted = String::new();
        graphbridge_codec::json::write_string(&mut quoted, &name);
        let json = format!(r#"[{{"@odata.type":{quoted},"identifier":"deviceId","isolationType":"full"}}]"#);
        (name, json)
    })
    .collect()
}

/// Type names with two '#', of a known and an unknown type: (name, JSON of an action of it).
pub fn odata_types_with_two_hashes() -> Vec<(String, String)> {
    [format!("##{}", &ISOLATE_TYPE[1..]), "##microsoft.graph.security.newResponseAction".to_owned()]
        .into_iter()
        .map(|name| {
            let json = format!(r#"[{{"@odata.type":"{name}","identifier":"deviceId"}}]"#);
            (name, json)
        })
        .collect()
}

/// One isolateDevice action object (not in an array) with a value nested to the depth limit:
/// 64 levels counting the object.
pub fn single_action_nested_to_the_limit() -> String {
    let value = arrays_nested(DEPTH - 1);
    format!(r#"{{"@odata.type":"{ISOLATE_TYPE}","identifier":"deviceId","isolationType":"full","x":{value}}}"#)
}
