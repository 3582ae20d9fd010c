//! End to end: the real `grpcurl` against the real `graphbridge serve` binary.
//!
//! grpcurl comes from `scripts/tools.sh` (which `scripts/test` sources). Each test starts its own
//! server on ephemeral ports, so tests are independent and can run in parallel.

use std::{
    io::Write as _,
    path::PathBuf,
    process::{Command, Output, Stdio},
};

use graphbridge_testkit::{ISOLATE, fixtures::rule_fixture};
use serde_json::{Value, json};

use crate::{
    ISOLATE_PROTO_JSON,
    support::{
        child::{ChildServer as Server, TIMEOUT},
        fake_graph::{FakeGraph, SECRET},
        tool_on_path,
    },
};

fn grpcurl_path() -> PathBuf {
    tool_on_path("grpcurl", "run scripts/test, or `source scripts/tools.sh` first")
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

/// Calls `method` with `grpcurl -plaintext -d @`, the request JSON written to grpcurl's stdin
/// (the way to pass a request too large or awkward for the command line), and returns the
/// response messages.
fn call_stdin(server: &Server, method: &str, request: &str) -> Vec<Value> {
    let method = format!("graphbridge.v1.Translator/{method}");
    let args = ["-d", "@", &server.api, &method];
    let mut child = Command::new(grpcurl_path())
        .args(["-plaintext", "-max-time", &TIMEOUT.as_secs().to_string()])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run grpcurl");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let request = request.to_owned();
    // Written from another thread so that a full stdout pipe can never block the write.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let out = child.wait_with_output().expect("wait for grpcurl");
    let written = writer.join().expect("writer thread");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    assert!(
        out.status.success(),
        "grpcurl {args:?} failed with {}:\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
    );
    written.expect("write grpcurl's stdin");
    messages(&stdout)
}

/// The one response's `json` field (Graph JSON), parsed.
fn graph_json(responses: &[Value]) -> Value {
    assert_eq!(responses.len(), 1, "{responses:#?}");
    let text = responses[0]["json"].as_str().unwrap_or_else(|| panic!("no json: {:#}", responses[0]));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A small current-shape rule in proto3 JSON, as grpcurl takes it: camelCase field names, enum
/// value names, a google.protobuf.Duration as seconds with an "s".
const SMALL_RULE: &str = r#"{
    "id": "encoded-powershell",
    "displayName": "Encoded PowerShell",
    "status": "DETECTION_RULE_STATUS_ENABLED",
    "queryCondition": {"queryText": "DeviceProcessEvents | where ProcessCommandLine has \"-enc\""},
    "schedule": {"frequency": "3600s"},
    "detectionAction": {
        "alertTemplate": {
            "title": "Encoded PowerShell",
            "description": "A process ran encoded PowerShell.",
            "severity": "ALERT_SEVERITY_MEDIUM",
            "tactics": [{"tactic": "Execution", "techniques": [{"technique": "T1059", "subTechniques": ["T1059.001"]}]}]
        },
        "organizationalScope": {"deviceGroups": ["Servers"]}
    }
}"#;

#[test]
fn list_shows_both_services_and_health() {
    let server = Server::start(&[], &[]);
    let stdout = grpcurl_ok(&[&server.api, "list"]);
    let services: Vec<&str> = stdout.lines().collect();
    for service in ["graphbridge.v1.Translator", "graphbridge.v1.DetectionRuleService", "grpc.health.v1.Health"] {
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
fn describe_translator_lists_the_rule_rpcs() {
    let server = Server::start(&[], &[]);
    let stdout = grpcurl_ok(&[&server.api, "describe", "graphbridge.v1.Translator"]);
    for expected in [
        "rpc RuleToGraph ( .graphbridge.v1.RuleToGraphRequest ) returns ( .graphbridge.v1.RuleToGraphResponse );",
        "rpc RuleFromGraph ( .graphbridge.v1.RuleFromGraphRequest ) returns ( .graphbridge.v1.RuleFromGraphResponse );",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
}

/// The old-shape GET fixture, sent as RuleFromGraphRequest.json through grpcurl's stdin, comes back
/// as the rule in proto3 JSON; that rule and the update mask returned with it, sent back to
/// RuleToGraph as they are, give the fixture again.
#[test]
fn rule_from_graph_reads_a_fixture_given_on_stdin() {
    let server = Server::start(&[], &[]);
    let fixture = rule_fixture("old-get");
    let responses = call_stdin(&server, "RuleFromGraph", &json!({ "json": fixture }).to_string());
    assert_eq!(responses.len(), 1, "{responses:#?}");
    let response = &responses[0];
    assert_eq!(response.get("collection"), None, "false is not printed: {response:#}");
    let rules = response["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 1);
    let rule = &rules[0];
    assert_eq!(rule["id"], "41873");
    assert_eq!(rule["displayName"], "Rundll32 launching script via mshtml");
    assert_eq!(rule["isEnabled"], true);
    assert_eq!(rule["createdDateTime"], "2025-11-03T14:22:07.441830200Z");
    assert_eq!(rule["schedule"], json!({ "period": "24H", "nextRunDateTime": "2026-03-02T06:00:14.273551900Z" }));
    assert_eq!(rule["lastRunDetails"]["status"], "HUNTING_RULE_RUN_STATUS_COMPLETED");
    let template = &rule["detectionAction"]["alertTemplate"];
    assert_eq!(template["severity"], "ALERT_SEVERITY_HIGH");
    assert_eq!(template["mitreTechniques"], json!(["T1218.011", "T1059.007"]));
    assert_eq!(
        template["impactedAssets"][0],
        json!({ "impactedDeviceAsset": { "identifier": "DEVICE_ASSET_IDENTIFIER_DEVICE_ID" } })
    );
    let actions = rule["detectionAction"]["responseActions"].as_array().expect("responseActions");
    assert_eq!(actions.len(), 16, "every response action type once");
    assert_eq!(
        actions[0],
        json!({ "allowFile": { "identifier": ["FILE_ENTITY_IDENTIFIER_SHA256"], "deviceGroupNames": ["Build agents"] } })
    );
    // Annotations are kept as their raw JSON text.
    assert_eq!(
        rule["additionalData"],
        json!({
            "@odata.context": "\"https://graph.microsoft.com/beta/$metadata#security/rules/detectionRules/$entity\"",
            "@odata.type": "\"#microsoft.graph.security.detectionRule\"",
        })
    );
    // The nulls are reported, and listed in the mask (grpcurl prints a FieldMask as a message).
    let mask = &response["updateMask"];
    let paths: Vec<&str> =
        mask["paths"].as_array().expect("updateMask.paths").iter().map(|p| p.as_str().unwrap()).collect();
    for path in [
        "display_name",
        "last_run_details.failure_reason",
        "query_condition.last_modified_date_time",
        "detection_action.organizational_scope",
    ] {
        assert!(paths.contains(&path), "{path} missing from {paths:?}");
    }
    let nulls: Vec<&str> = response["unknownData"]
        .as_array()
        .expect("unknownData")
        .iter()
        .filter(|e| e["kind"] == "UNKNOWN_DATA_KIND_NULL")
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        nulls,
        [
            "/lastRunDetails/failureReason",
            "/lastRunDetails/errorCode",
            "/queryCondition/lastModifiedDateTime",
            "/detectionAction/organizationalScope"
        ]
    );

    let request = json!({ "rule": rule, "updateMask": mask }).to_string();
    let written = graph_json(&call_stdin(&server, "RuleToGraph", &request));
    let expected: Value = serde_json::from_str(&fixture).unwrap();
    assert_eq!(written, expected);
}

#[test]
fn rule_to_graph_writes_a_rule_given_in_proto_json() {
    let server = Server::start(&[], &[]);
    let request = format!(r#"{{"rule": {SMALL_RULE}}}"#);
    let written = graph_json(&call(&server, "RuleToGraph", &request));
    assert_eq!(written, small_rule_graph_json());
}

/// A PATCH body: a masked field that is unset is written as null. grpcurl 1.8.6 (golang/protobuf
/// jsonpb) reads and prints a google.protobuf.FieldMask as the plain message
/// `{"paths": ["status", "description"]}`, not in proto3 JSON's string form
/// ("status,description", camelCase); paths are passed through as written, so they are the proto
/// (snake_case) paths the server takes.
#[test]
fn rule_to_graph_with_an_update_mask_writes_a_patch_body() {
    let server = Server::start(&[], &[]);
    let rule = r#"{"status": "DETECTION_RULE_STATUS_DISABLED", "schedule": {"frequency": "3600s"}}"#;
    let request = format!(r#"{{"rule": {rule}, "updateMask": {{"paths": ["status", "description"]}}}}"#);
    let written = graph_json(&call(&server, "RuleToGraph", &request));
    assert_eq!(written, json!({ "status": "disabled", "description": null }));

    // Nested paths, into a set object and an unset one.
    let paths = r#"["status", "description", "schedule.next_run_date_time", "detection_action.organizational_scope"]"#;
    let request = format!(r#"{{"rule": {rule}, "updateMask": {{"paths": {paths}}}}}"#);
    let written = graph_json(&call(&server, "RuleToGraph", &request));
    assert_eq!(
        written,
        json!({
            "status": "disabled",
            "description": null,
            "schedule": { "nextRunDateTime": null },
            "detectionAction": { "organizationalScope": null },
        })
    );

    // The whole small rule, only some of it masked: a message path takes all of it.
    let paths = r#"["display_name", "schedule", "detection_action.alert_template.severity"]"#;
    let request = format!(r#"{{"rule": {SMALL_RULE}, "updateMask": {{"paths": {paths}}}}}"#);
    let written = graph_json(&call(&server, "RuleToGraph", &request));
    assert_eq!(
        written,
        json!({
            "displayName": "Encoded PowerShell",
            "schedule": { "frequency": "PT1H" },
            "detectionAction": { "alertTemplate": { "severity": "medium" } },
        })
    );
}

/// What goes wrong with a mask written the proto3 JSON way, so that the README can say so; if
/// grpcurl starts taking the string form (fullstorydev/grpcurl#393), update this test and the README.
#[test]
fn rule_to_graph_update_mask_pitfalls_with_grpcurl() {
    let server = Server::start(&[], &[]);
    let method = "graphbridge.v1.Translator/RuleToGraph";
    let rule = r#"{"status": "DETECTION_RULE_STATUS_DISABLED"}"#;

    // The proto3 JSON string form: grpcurl itself refuses it (exit 1, nothing sent).
    let request = format!(r#"{{"rule": {rule}, "updateMask": "status,description"}}"#);
    let out = grpcurl(&["-d", &request, &server.api, method]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains("expecting start of JSON object"), "{stderr}");

    // camelCase paths reach the server as they are: INVALID_ARGUMENT naming the path.
    let request = format!(r#"{{"rule": {rule}, "updateMask": {{"paths": ["status", "schedule.nextRunDateTime"]}}}}"#);
    let out = grpcurl(&["-d", &request, &server.api, method]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(67), "stderr: {stderr}");
    assert!(stderr.contains(r#""field":"update_mask.paths[1]""#), "{stderr}");
    assert!(stderr.contains(r#"ruleSchedule has no field \"nextRunDateTime\""#), "{stderr}");
}

#[test]
fn to_graph_writes_graph_json() {
    let server = Server::start(&[], &[]);
    let responses = call(&server, "ToGraph", &format!(r#"{{"actions":[{ISOLATE_PROTO_JSON}]}}"#));
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["json"].as_str(), Some(format!("[{ISOLATE}]").as_str()));
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
        r#"{{"id":"a","toGraph":{{"actions":[{ISOLATE_PROTO_JSON}]}}}} {{"id":"b","fromGraph":{{"json":"not json"}}}}"#
    );
    let responses = call(&server, "TranslateStream", &request);
    assert_eq!(responses.len(), 2, "{responses:#?}");
    assert_eq!(responses[0]["id"], "a");
    assert_eq!(responses[0]["toGraph"]["json"].as_str(), Some(format!("[{ISOLATE}]").as_str()));
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

/// The small rule as Graph stores it: what RuleToGraph writes of SMALL_RULE.
fn small_rule_graph_json() -> Value {
    json!({
        "id": "encoded-powershell",
        "displayName": "Encoded PowerShell",
        "status": "enabled",
        "queryCondition": {"queryText": "DeviceProcessEvents | where ProcessCommandLine has \"-enc\""},
        "schedule": {"frequency": "PT1H"},
        "detectionAction": {
            "alertTemplate": {
                "title": "Encoded PowerShell",
                "description": "A process ran encoded PowerShell.",
                "severity": "medium",
                "tactics": [{"tactic": "Execution", "techniques": [{"technique": "T1059", "subTechniques": ["T1059.001"]}]}]
            },
            "organizationalScope": {"deviceGroups": ["Servers"]}
        }
    })
}

/// The real binary in front of a fake Graph, which its own runtime serves while grpcurl runs.
/// Fields drop in order: the server first, the fake while nothing calls it any more.
struct Gateway {
    server: Server,
    graph: FakeGraph,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn gateway() -> Gateway {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let graph = runtime.block_on(FakeGraph::start());
    let dir = tempfile::tempdir().expect("a temporary directory");
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, SECRET).expect("write the secret file");
    let flags = graph.flags(&secret);
    let server = Server::start(&flags.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    Gateway { server, graph, _dir: dir, _runtime: runtime }
}

#[test]
fn describe_detection_rule_service_shows_its_rpcs_and_comments() {
    let server = Server::start(&[], &[]);
    let stdout = grpcurl_ok(&[&server.api, "describe", "graphbridge.v1.DetectionRuleService"]);
    for expected in [
        "graphbridge.v1.DetectionRuleService is a service:",
        "// Microsoft Defender custom detection rules, stored in Microsoft Graph",
        "// Reads one rule: GET /security/rules/detectionRules/{id}.",
        "rpc GetDetectionRule ( .graphbridge.v1.GetDetectionRuleRequest ) returns ( .graphbridge.v1.DetectionRule );",
        "rpc ListDetectionRules ( .graphbridge.v1.ListDetectionRulesRequest ) returns ( .graphbridge.v1.ListDetectionRulesResponse );",
        "rpc DeleteDetectionRule ( .graphbridge.v1.DeleteDetectionRuleRequest ) returns ( .google.protobuf.Empty );",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing:\n{stdout}");
    }
}

/// Graph's rule comes back in proto3 JSON: the rule RuleToGraph would have written it from.
#[test]
fn get_detection_rule_answers_graphs_rule_as_proto_json() {
    let gateway = gateway();
    gateway.graph.store(small_rule_graph_json());
    let method = "graphbridge.v1.DetectionRuleService/GetDetectionRule";
    let stdout = grpcurl_ok(&["-d", r#"{"id": "encoded-powershell"}"#, &gateway.server.api, method]);
    let expected: Value = serde_json::from_str(SMALL_RULE).unwrap();
    assert_eq!(messages(&stdout), [expected]);
    assert_eq!(gateway.graph.graph_requests()[0].uri, "/beta/security/rules/detectionRules/encoded-powershell");
}

/// What a person at grpcurl sees of a Graph error: Graph's message, and the details that name
/// Graph's error code and the request-id for a support case.
#[test]
fn get_detection_rule_not_found_shows_graphs_message_and_details() {
    let gateway = gateway();
    let method = "graphbridge.v1.DetectionRuleService/GetDetectionRule";
    let out = grpcurl(&["-d", r#"{"id": "no-such-rule"}"#, &gateway.server.api, method]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // grpcurl exits with 64 + the gRPC status code; NOT_FOUND is 5.
    assert_eq!(out.status.code(), Some(69), "stderr: {stderr}");
    let client_request_id = gateway.graph.graph_requests()[0].header("client-request-id").to_owned();
    for expected in [
        "Code: NotFound",
        "Message: Graph: The rule was not found.",
        r#""@type":"type.googleapis.com/google.rpc.ErrorInfo""#,
        r#""reason":"ITEM_NOT_FOUND""#,
        r#""domain":"127.0.0.1""#,
        r#""http_status":"404""#,
        r#""@type":"type.googleapis.com/google.rpc.RequestInfo""#,
        r#""requestId":"req-404-itemNotFound""#,
        &format!(r#""servingData":"{client_request_id}""#),
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
