//! `graphbridge convert to-graph|from-graph`: the real binary, stdin to stdout, exit codes.

use std::{
    io::{Read, Write},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use graphbridge_testkit::{ISOLATE, fixtures::rule_fixture, json::parse_json as parse};
use serde_json::json;

use crate::{ISOLATE_PROTO_JSON, support::child::TIMEOUT};

/// Graph JSON with an unknown property ("x") on a known type.
const ISOLATE_WITH_UNKNOWN: &str = r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full","x":1}]"##;

/// What one `graphbridge convert` run left.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `graphbridge convert <args>` with `stdin`, killing it if it outlives `TIMEOUT`.
fn convert(args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(crate::GRAPHBRIDGE)
        .arg("convert")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start graphbridge convert");
    // Readers and the writer run on their own threads, so no pipe can fill up and block the child.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).expect("UTF-8 output");
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let mut input = child.stdin.take().expect("piped stdin");
    let stdin = stdin.to_owned();
    // Closing stdin (dropping `input`) is the end of the input.
    let writer = thread::spawn(move || input.write_all(stdin.as_bytes()));

    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for graphbridge convert") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("graphbridge convert {args:?} did not finish within {TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    // The child may exit before reading all its input; a broken pipe then is not the test's concern.
    let _ = writer.join().expect("stdin writer");
    Run {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// Asserts a failed run: exit code 1, nothing on stdout, and `located` named on stderr.
fn assert_fails_naming(run: &Run, located: &str) {
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert_eq!(run.stdout, "", "a failure must write nothing to stdout: {run:#?}");
    assert!(run.stderr.contains(located), "{located:?} missing from stderr: {run:#?}");
}

#[test]
fn to_graph_prints_graph_json_and_a_newline() {
    let run = convert(&["to-graph"], &format!(r#"{{"actions":[{ISOLATE_PROTO_JSON}]}}"#));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(run.stdout, format!("[{ISOLATE}]\n"));
    assert_eq!(run.stderr, "", "nothing to note for a fully modelled action");
}

#[test]
fn from_graph_prints_typed_action_and_unknown_data() {
    let run = convert(&["from-graph"], ISOLATE_WITH_UNKNOWN);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let response = parse(&run.stdout);
    assert_eq!(
        response["actions"],
        json!([{
            "isolateDevice": {
                "identifier": ["DEVICE_ID_ENTITY_IDENTIFIER_DEVICE_ID"],
                "isolationType": "ISOLATION_TYPE_FULL",
            },
            "additionalData": { "x": "1" },
        }])
    );
    let unknown = response["unknownData"].as_array().expect("unknownData");
    assert_eq!(unknown.len(), 1, "{unknown:#?}");
    assert_eq!(unknown[0]["pointer"], "/0/x");
    assert_eq!(unknown[0]["kind"], "UNKNOWN_DATA_KIND_PROPERTY");
    assert_eq!(unknown[0]["property"], "x");
}

#[test]
fn from_graph_then_to_graph_reproduces_graph_json() {
    // A known type with an unknown nested property, a flags enum with two members, and an
    // unknown type: everything the schema does not model must survive the round trip.
    let graph = r##"[
        {"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full","x":{"nested":[1,2.5,"é"]}},
        {"@odata.type":"#microsoft.graph.security.blockFileResponseAction","deviceGroupNames":["g1"],"identifier":"sha1,sha256"},
        {"@odata.type":"#microsoft.graph.security.futureResponseAction","foo":true}
    ]"##;
    let from = convert(&["from-graph"], graph);
    assert_eq!(from.code, Some(0), "{from:#?}");
    let actions = parse(&from.stdout)["actions"].clone();
    assert_eq!(actions.as_array().map(Vec::len), Some(3), "{actions:#}");

    let to = convert(&["to-graph"], &json!({ "actions": actions }).to_string());
    assert_eq!(to.code, Some(0), "{to:#?}");
    assert_eq!(parse(&to.stdout), parse(graph));
}

#[test]
fn to_graph_missing_required_property_names_its_proto_path() {
    let request = r#"{"actions":[{"isolateDevice":{"identifier":["DEVICE_ID_ENTITY_IDENTIFIER_DEVICE_ID"]}}]}"#;
    let run = convert(&["to-graph"], request);
    assert_fails_naming(&run, "actions[0].isolate_device.isolation_type");
}

#[test]
fn to_graph_unknown_proto_json_field_is_named() {
    let run = convert(&["to-graph"], r#"{"actions":[],"bogus":1}"#);
    assert_fails_naming(&run, "bogus");
    assert!(run.stderr.contains("ToGraphRequest"), "{run:#?}");
}

#[test]
fn to_graph_malformed_proto_json_names_line_and_column() {
    let run = convert(&["to-graph"], r#"{"actions":["#);
    assert_fails_naming(&run, "line 1 column");
}

#[test]
fn from_graph_malformed_json_names_pointer_and_position() {
    let run = convert(&["from-graph"], r#"[{"@odata.type":"#);
    assert_fails_naming(&run, "json/0");
    assert!(run.stderr.contains("line 1, column"), "{run:#?}");
}

#[test]
fn from_graph_reject_policy_fails_on_unknown_property() {
    let run = convert(&["from-graph", "--unknown-data-policy", "reject"], ISOLATE_WITH_UNKNOWN);
    assert_fails_naming(&run, "json/0/x");
}

#[test]
fn from_graph_drop_policy_discards_but_reports_unknown_property() {
    let run = convert(&["from-graph", "--unknown-data-policy", "drop"], ISOLATE_WITH_UNKNOWN);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let response = parse(&run.stdout);
    assert_eq!(response["actions"][0].get("additionalData"), None, "{response:#}");
    assert_eq!(response["unknownData"][0]["pointer"], "/0/x");
    assert_eq!(response["unknownData"][0]["dropped"], true);
}

#[test]
fn from_graph_preserve_policy_is_the_default() {
    let explicit = convert(&["from-graph", "--unknown-data-policy", "preserve"], ISOLATE_WITH_UNKNOWN);
    let default = convert(&["from-graph"], ISOLATE_WITH_UNKNOWN);
    assert_eq!(explicit.code, Some(0), "{explicit:#?}");
    assert_eq!(explicit.stdout, default.stdout);
}

#[test]
fn a_patch_body_survives_rule_from_graph_then_rule_to_graph() {
    let graph = rule_fixture("new-update");
    let from = convert(&["rule-from-graph"], &graph);
    assert_eq!(from.code, Some(0), "{from:#?}");
    let read = parse(&from.stdout);
    // Proto-JSON writes a FieldMask as one string of camelCase paths.
    assert_eq!(read["updateMask"], "status,description,schedule.frequency,detectionAction.alertTemplate.severity");
    let request = json!({ "rule": read["rules"][0], "updateMask": read["updateMask"] });
    let to = convert(&["rule-to-graph"], &request.to_string());
    assert_eq!(to.code, Some(0), "{to:#?}");
    assert_eq!(parse(&to.stdout), parse(&graph));
}

#[test]
fn migrate_rule_prints_the_current_shape_and_lists_what_was_left_out() {
    let run = convert(&["migrate-rule"], &rule_fixture("old-get"));
    assert_eq!(run.code, Some(0), "{run:#?}");
    assert_eq!(parse(&run.stdout), parse(&rule_fixture("old-get.migrated")));
    assert_eq!(
        run.stderr.lines().filter(|l| l.starts_with("graphbridge: not migrated /")).count(),
        5,
        "{}",
        run.stderr
    );
}
