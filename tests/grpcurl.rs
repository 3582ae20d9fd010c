//! End to end: the real `grpcurl` against the real `graphbridge serve` binary.
//!
//! grpcurl comes from `scripts/tools.sh` (which `scripts/test` sources). Each test starts its own
//! server on ephemeral ports, so tests are independent and can run in parallel.

mod common;

use std::{
    path::PathBuf,
    process::{Command, Output, Stdio},
};

use common::child::{ChildServer as Server, TIMEOUT};
use serde_json::{Value, json};

const ISOLATE_FULL: &str = r#"{"isolateDevice":{"identifier":["DEVICE_ID_ENTITY_IDENTIFIER_DEVICE_ID"],"isolationType":"ISOLATION_TYPE_FULL"}}"#;
const ISOLATE_FULL_GRAPH: &str = r##"[{"@odata.type":"#microsoft.graph.security.isolateDeviceResponseAction","identifier":"deviceId","isolationType":"full"}]"##;

/// grpcurl's path; a missing grpcurl fails the test rather than skipping it.
fn grpcurl_path() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("grpcurl"))
        .find(|path| path.is_file())
        .expect("grpcurl not found on PATH: run scripts/test, or `source scripts/tools.sh` first")
}

/// Runs `grpcurl -plaintext <args>`; grpcurl's own -max-time bounds the call.
fn grpcurl(args: &[&str]) -> Output {
    Command::new(grpcurl_path())
        .args(["-plaintext", "-max-time", &TIMEOUT.as_secs().to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run grpcurl")
}

/// Runs grpcurl, asserts it succeeded and returns its stdout.
fn grpcurl_ok(args: &[&str]) -> String {
    let out = grpcurl(args);
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    assert!(
        out.status.success(),
        "grpcurl {args:?} failed with {}:\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
    );
    stdout
}

/// grpcurl prints each response message as its own JSON document.
fn messages(stdout: &str) -> Vec<Value> {
    serde_json::Deserializer::from_str(stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|error| panic!("grpcurl output is not JSON ({error}): {stdout}"))
}

fn call(server: &Server, method: &str, request: &str) -> Vec<Value> {
    let method = format!("graphbridge.v1.Translator/{method}");
    messages(&grpcurl_ok(&["-d", request, &server.api, &method]))
}

#[test]
fn list_shows_translator_and_health() {
    let server = Server::start(&[], &[]);
    let stdout = grpcurl_ok(&[&server.api, "list"]);
    let services: Vec<&str> = stdout.lines().collect();
    for service in ["graphbridge.v1.Translator", "grpc.health.v1.Health"] {
        assert!(services.contains(&service), "{service} missing: {services:?}");
    }
}

#[test]
fn describe_response_action_shows_oneof_and_additional_data() {
    let server = Server::start(&[], &[]);
    let stdout = grpcurl_ok(&[&server.api, "describe", "graphbridge.v1.ResponseAction"]);
    for expected in ["oneof action", "isolate_device", "unknown", "additional_data"] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
}

#[test]
fn to_graph_writes_graph_json() {
    let server = Server::start(&[], &[]);
    let responses = call(&server, "ToGraph", &format!(r#"{{"actions":[{ISOLATE_FULL}]}}"#));
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["json"].as_str(), Some(ISOLATE_FULL_GRAPH));
}

#[test]
fn from_graph_reads_typed_action_and_reports_unknown_property() {
    let server = Server::start(&[], &[]);
    let graph =
        r##"[{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","identifier":"sha1","newProp":"x"}]"##;
    let request = json!({ "json": graph }).to_string();
    let responses = call(&server, "FromGraph", &request);
    assert_eq!(responses.len(), 1);
    let response = &responses[0];
    assert_eq!(
        response["actions"],
        json!([{
            "blockFile": { "identifier": ["FILE_ENTITY_IDENTIFIER_SHA1"] },
            "additionalData": { "newProp": "\"x\"" },
        }])
    );
    let unknown = response["unknownData"].as_array().expect("unknownData");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert_eq!(unknown[0]["pointer"], "/0/newProp");
    assert_eq!(unknown[0]["kind"], "UNKNOWN_DATA_KIND_PROPERTY");
    assert_eq!(unknown[0]["property"], "newProp");
}

#[test]
fn translate_stream_answers_each_item_with_its_id() {
    let server = Server::start(&[], &[]);
    let request = format!(
        r#"{{"id":"a","toGraph":{{"actions":[{ISOLATE_FULL}]}}}} {{"id":"b","fromGraph":{{"json":"not json"}}}}"#
    );
    let responses = call(&server, "TranslateStream", &request);
    assert_eq!(responses.len(), 2, "{responses:#?}");
    assert_eq!(responses[0]["id"], "a");
    assert_eq!(responses[0]["toGraph"]["json"].as_str(), Some(ISOLATE_FULL_GRAPH));
    assert_eq!(responses[1]["id"], "b");
    assert_eq!(responses[1]["error"]["code"], 3, "{:#}", responses[1]);
}

#[test]
fn bad_to_graph_is_invalid_argument_with_decoded_bad_request() {
    let server = Server::start(&[], &[]);
    let request = r#"{"actions":[{"isolateDevice":{"identifier":["DEVICE_ID_ENTITY_IDENTIFIER_DEVICE_ID"]}}]}"#;
    let out = grpcurl(&["-d", request, &server.api, "graphbridge.v1.Translator/ToGraph"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // grpcurl exits with 64 + the gRPC status code; INVALID_ARGUMENT is 3.
    assert_eq!(out.status.code(), Some(67), "stderr: {stderr}");
    for expected in [
        "Code: InvalidArgument",
        r#""@type":"type.googleapis.com/google.rpc.BadRequest""#,
        r#""field":"actions[0].isolate_device.isolation_type""#,
    ] {
        assert!(stderr.contains(expected), "{expected:?} missing:\n{stderr}");
    }
}

#[test]
fn health_is_serving_on_api_port() {
    let server = Server::start(&[], &[]);
    let stdout = grpcurl_ok(&[&server.api, "grpc.health.v1.Health/Check"]);
    assert_eq!(messages(&stdout), [json!({ "status": "SERVING" })]);
}

#[test]
fn health_is_serving_on_admin_port() {
    let server = Server::start(&[], &[]);
    let stdout = grpcurl_ok(&[&server.admin, "grpc.health.v1.Health/Check"]);
    assert_eq!(messages(&stdout), [json!({ "status": "SERVING" })]);
}

#[test]
fn sigterm_exits_zero() {
    // Sent right after the `serving` line: the handler is installed before the ports are bound.
    let mut server = Server::start(&[], &[]);
    let status = server.terminate();
    assert!(status.success(), "graphbridge exited with {status} on SIGTERM");
}
