//! The real `graphbridge serve` binary's log lines on stderr: JSON shape, per-request debug lines,
//! no request bodies at INFO or above, and no colours when stderr is not a terminal.

use graphbridge::pb::{
    BlockFileResponseAction, FileEntityIdentifier, FromGraphRequest, ResponseAction, ToGraphRequest,
    response_action::Action, translator_client::TranslatorClient,
};
use serde_json::Value;
use tonic::{Code, transport::Channel};

use crate::support::child::{ChildServer as Server, TIMEOUT, serving_addresses};

/// Placed in request bodies; a log line carrying it would be a leak of caller data.
const MARKER: &str = "secret-body-marker-42";

/// Runs `graphbridge serve --log-format json` with `RUST_LOG=debug`, makes one ToGraph call that
/// succeeds and one FromGraph call with invalid JSON, both carrying `MARKER`, then stops the
/// server and returns its stderr lines parsed (a line that is not JSON fails here).
fn json_session() -> Vec<Value> {
    json_session_lines()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}")))
        .collect()
}

/// `json_session`'s stderr lines as written.
fn json_session_lines() -> Vec<String> {
    let server = Server::start(&["--log-format", "json"], &[("RUST_LOG", "debug")]);
    let calls = async {
        let channel = Channel::from_shared(format!("http://{}", server.api))
            .expect("valid uri")
            .connect()
            .await
            .expect("connect to the API port");
        let mut client = TranslatorClient::new(channel);
        let block = BlockFileResponseAction {
            device_group_names: vec![MARKER.into()],
            identifier: vec![FileEntityIdentifier::Sha1.into()],
        };
        let action = ResponseAction { action: Some(Action::BlockFile(block)), ..Default::default() };
        let request = ToGraphRequest { actions: vec![action], ..Default::default() };
        let written = client.to_graph(request).await.expect("ToGraph").into_inner();
        assert!(written.json.contains(MARKER), "{}", written.json);

        // Invalid: the array and object are never closed.
        let json = format!(
            r##"[{{"@odata.type":"#microsoft.graph.security.blockFileResponseAction","deviceGroupNames":["{MARKER}"]"##
        );
        let status = client.from_graph(FromGraphRequest { json, ..Default::default() }).await.expect_err("bad JSON");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    };
    // The client's runtime is gone before the SIGTERM, and its connection with it: an idle
    // connection left open would hold the server's graceful shutdown up to --drain-timeout.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async { tokio::time::timeout(TIMEOUT, calls).await.expect("calls in time") });
    drop(runtime);
    server.stop()
}

/// The keys of the top-level object of `line`, duplicates included (serde_json keeps only the
/// last of a duplicate key). `line` must already be known to be valid JSON.
fn top_level_keys(line: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut chars = line.chars();
    // The last string closed directly in the top-level object, while only a ':' may follow it.
    let mut candidate: Option<String> = None;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => text.extend([c].into_iter().chain(chars.next())),
                        '"' => break,
                        c => text.push(c),
                    }
                }
                candidate = (depth == 1).then_some(text);
            }
            ':' => keys.extend(candidate.take()),
            c if c.is_whitespace() => {}
            '{' | '[' => (depth, candidate) = (depth + 1, None),
            '}' | ']' => (depth, candidate) = (depth.saturating_sub(1), None),
            _ => candidate = None,
        }
    }
    keys
}

/// The lines whose message is `message`.
fn with_message<'a>(logs: &'a [Value], message: &str) -> Vec<&'a Value> {
    logs.iter().filter(|log| log["message"] == message).collect()
}

#[test]
fn json_lines_are_objects_with_timestamp_level_and_message() {
    let logs = json_session();
    assert!(!logs.is_empty());
    for log in &logs {
        let object = log.as_object().unwrap_or_else(|| panic!("not a JSON object: {log}"));
        for field in ["timestamp", "level", "message"] {
            assert!(object.get(field).is_some_and(Value::is_string), "no string {field:?} in {log}");
        }
    }
}

#[test]
fn top_level_keys_lists_duplicates_and_skips_nested_keys_and_strings() {
    let line = r#"{"a":{"b":1,"a":[{"a":0}]},"c":"x\":y","d":["e:"],"a":2}"#;
    serde_json::from_str::<Value>(line).expect("valid JSON");
    assert_eq!(top_level_keys(line), ["a", "c", "d", "a"]);
}

#[test]
fn json_lines_have_no_duplicate_keys() {
    for line in json_session_lines() {
        let mut keys = top_level_keys(&line);
        keys.sort();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before, "duplicate key in {line}");
    }
}

#[test]
fn json_serving_line_names_both_ports() {
    let logs = json_session();
    let serving = with_message(&logs, "serving");
    assert_eq!(serving.len(), 1, "{logs:#?}");
    assert_eq!(serving[0]["level"], "INFO");
    for port in ["api", "admin"] {
        let addr = serving[0][port].as_str().unwrap_or_else(|| panic!("no {port} in {}", serving[0]));
        assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    }
}

#[test]
fn json_request_lines_carry_method_code_and_latency() {
    let logs = json_session();
    let requests = with_message(&logs, "request");
    for (method, code) in [("ToGraph", "OK"), ("FromGraph", "INVALID_ARGUMENT")] {
        let line = requests
            .iter()
            .find(|log| log["method"] == method)
            .unwrap_or_else(|| panic!("no request line for {method}: {requests:#?}"));
        assert_eq!(line["level"], "DEBUG", "{line}");
        assert_eq!(line["code"], code, "{line}");
        assert!(line["latency_us"].is_u64(), "no numeric latency_us: {line}");
    }
    assert_eq!(requests.len(), 2, "one line per call: {requests:#?}");
}

#[test]
fn request_bodies_stay_out_of_info_and_above() {
    let logs = json_session();
    let carrying: Vec<&Value> = logs.iter().filter(|log| log.to_string().contains(MARKER)).collect();
    let loud: Vec<&&Value> = carrying.iter().filter(|log| log["level"] != "DEBUG" && log["level"] != "TRACE").collect();
    assert!(loud.is_empty(), "request body data logged at INFO or above: {loud:#?}");
    // Observed: not even at DEBUG (neither the successful call nor the invalid-JSON error echoes
    // the body), so this is asserted too; a change here deserves a look.
    assert!(carrying.is_empty(), "request body data logged at DEBUG: {carrying:#?}");
}

#[test]
fn text_format_has_no_ansi_escapes_on_a_pipe() {
    let server = Server::start(&[], &[]);
    let lines = server.stop();
    assert!(lines.iter().any(|line| serving_addresses(line).is_some()), "{lines:#?}");
    let escaped: Vec<&String> = lines.iter().filter(|line| line.contains('\x1b')).collect();
    assert!(escaped.is_empty(), "ANSI escapes on a pipe: {escaped:#?}");
}
