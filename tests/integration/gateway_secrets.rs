//! Graph credentials and tokens stay out of the real binary's log, at its most verbose (JSON lines,
//! RUST_LOG=trace), and out of every status a caller gets, through successes, a revoked token,
//! Graph's errors and Entra ID's refusals; and each Graph call still has its debug line with
//! Graph's request-id and graphbridge's client-request-id, which is what a support case needs.

use std::{
    collections::{BTreeMap, BTreeSet},
    time::Duration,
};

use graphbridge::pb::{
    CreateDetectionRuleRequest, DetectionRule, GetDetectionRuleRequest,
    detection_rule_service_client::DetectionRuleServiceClient,
};
use graphbridge_testkit::fixtures::minimal_rule;
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tonic::{Code, Status, transport::Channel};

use crate::support::{
    child::{ChildServer, TIMEOUT},
    fake_graph::{FakeGraph, Received, SECRET, Scripted},
    server::channel,
};

/// What the secret file holds after a bad rotation: Entra ID refuses it, and it is a secret too.
const WRONG_SECRET: &str = "a-wrongly-rotated-secret-value";
/// The projected service-account token of the workload identity case.
const PROJECTED: &str = "projected-service-account-token-value";

/// graphbridge (the real binary, logging everything as JSON) in front of a fake Graph that its
/// own runtime serves while the test drives calls through `block_on`.
struct Session {
    server: ChildServer,
    graph: FakeGraph,
    runtime: Runtime,
    dir: tempfile::TempDir,
}

impl Session {
    /// `credential` gives the credential flag for a file in `dir`, written beforehand.
    fn start(credential: impl FnOnce(&FakeGraph, &std::path::Path) -> Vec<String>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let graph = runtime.block_on(FakeGraph::start());
        graph.store(json!({"id": "r1", "displayName": "Encoded PowerShell"}));
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut flags = graph.urls();
        flags.extend(credential(&graph, dir.path()));
        // A short drain keeps a failed test's exit short.
        flags.extend(["--log-format", "json", "--drain-timeout", "1s"].map(String::from));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let server = ChildServer::start(&flags, &[("RUST_LOG", "trace")]);
        Session { server, graph, runtime, dir }
    }

    async fn client(&self) -> DetectionRuleServiceClient<Channel> {
        DetectionRuleServiceClient::new(channel(self.server.api_addr()).await.expect("connect to the API port"))
    }

    /// Runs `calls` within TIMEOUT x 3.
    fn run<T>(&self, calls: impl Future<Output = T>) -> T {
        self.runtime.block_on(async { tokio::time::timeout(TIMEOUT * 3, calls).await.expect("calls in time") })
    }

    /// Stops everything: (every stderr line, the Graph requests the fake received).
    fn finish(self) -> (Vec<String>, Vec<Received>) {
        let Session { server, graph, runtime, dir } = self;
        let requests = graph.graph_requests();
        // The client's connection goes with its runtime: left open, it would hold the graceful
        // shutdown up to --drain-timeout.
        drop(graph);
        drop(runtime);
        let lines = server.stop();
        drop(dir);
        (lines, requests)
    }
}

fn get(id: &str) -> GetDetectionRuleRequest {
    GetDetectionRuleRequest { id: id.into() }
}

/// Asserts that `text` (a log or a status) holds none of `secrets`, no issued access token
/// (`token-<n>`), no Authorization header, and no token request field.
fn assert_clean(text: &str, secrets: &[&str], what: &str) {
    // ASCII lower-casing keeps every byte offset.
    let lower = text.to_ascii_lowercase();
    let token = text
        .match_indices("token-")
        .map(|(at, _)| at)
        .find(|at| text[at + 6..].starts_with(|c: char| c.is_ascii_digit()));
    let found =
        secrets.iter().map(|secret| (*secret, text.find(secret))).chain([("an access token", token)]).chain(
            ["bearer", "authorization", "client_assertion", "client_secret"].map(|word| (word, lower.find(word))),
        );
    for (leak, at) in found {
        if let Some(at) = at {
            panic!("{what} holds {leak:?}: …{}…", around(text, at));
        }
    }
}

/// Up to 200 bytes of `text` each side of `at`.
fn around(text: &str, at: usize) -> &str {
    let start = (0..=at.saturating_sub(200)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let end = ((at + 200).min(text.len())..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
    &text[start..end]
}

#[test]
fn assert_clean_catches_each_kind_of_leak() {
    for leak in [SECRET, "token-12", "Bearer abc", "AUTHORIZATION: x", "client_assertion=x", "client_secret=x"] {
        let text = format!("{{\"message\":\"before {leak} after\"}}");
        let caught = std::panic::catch_unwind(|| assert_clean(&text, &[SECRET], "a test text"));
        assert!(caught.is_err(), "{leak:?} not caught");
    }
    assert_clean("--page-token-key-file, token-bucket, tokens: 3", &[SECRET], "a clean text");
}

/// Everything a caller gets of a status: code, message, details, metadata.
fn status_text(status: &Status) -> String {
    format!(
        "{:?} {} {} {:?}",
        status.code(),
        status.message(),
        String::from_utf8_lossy(status.details()),
        status.metadata()
    )
}

/// The log lines that are JSON objects (the binary logs JSON lines; anything else is skipped).
fn json_logs(lines: &[String]) -> Vec<Value> {
    lines.iter().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// The `graph call` debug lines: one per attempt sent to Graph, with Graph's `request-id` (the
/// fake answers `req-<status>`), the `client-request-id` that was sent and the attempt's number
/// within its call (0, 1, ... in order, the send after a refused token included); together the
/// lines account for every request the fake received.
fn assert_each_graph_call_logged_with_its_ids(logs: &[Value], requests: &[Received]) {
    let calls: Vec<&Value> = logs.iter().filter(|log| log["message"] == "graph call").collect();
    let mut logged: BTreeMap<String, usize> = BTreeMap::new();
    for call in &calls {
        assert_eq!(call["level"], "DEBUG", "{call}");
        let status = call["status"].as_str().unwrap_or_else(|| panic!("no status: {call}"));
        assert_eq!(call["request_id"].as_str(), Some(format!("req-{status}").as_str()), "Graph's request-id: {call}");
        let client_request_id = call["client_request_id"].as_str().unwrap_or_else(|| panic!("no id: {call}"));
        assert_eq!(client_request_id.len(), 36, "a UUID: {call}");
        let attempts = logged.entry(client_request_id.to_owned()).or_default();
        assert_eq!(call["attempt"].as_u64(), Some(*attempts as u64), "attempts of one call in order: {call}");
        *attempts += 1;
    }
    let mut sent: BTreeMap<String, usize> = BTreeMap::new();
    for request in requests {
        *sent.entry(request.header("client-request-id").to_owned()).or_default() += 1;
    }
    assert_eq!(logged, sent, "one line per Graph request, by client-request-id");
}

/// A client secret through every kind of outcome: the caller's statuses and the whole log carry
/// neither the secret (nor a wrong one), nor a token, nor a header.
#[test]
fn a_client_secret_and_tokens_reach_neither_the_log_nor_a_caller() {
    let session = Session::start(|_, dir| {
        let secret = dir.join("client-secret");
        std::fs::write(&secret, format!("{SECRET}\n")).expect("write the secret file");
        vec!["--graph-client-secret-file".into(), secret.display().to_string()]
    });
    let secret_file = session.dir.path().join("client-secret");
    let graph = &session.graph;
    let statuses = session.run(async {
        let mut client = session.client().await;
        let mut statuses = Vec::new();
        let mut failed = |status: Status, code: Code| {
            assert_eq!(status.code(), code, "{status:?}");
            statuses.push(status);
        };
        client.get_detection_rule(get("r1")).await.expect("a first call");
        failed(client.get_detection_rule(get("no-such-rule")).await.unwrap_err(), Code::NotFound);
        graph.script([Scripted::error(403, "Forbidden", "Insufficient privileges to complete the operation.")]);
        failed(client.get_detection_rule(get("r1")).await.unwrap_err(), Code::PermissionDenied);
        let rule = DetectionRule { id: "r1".into(), ..minimal_rule() };
        let exists = client.create_detection_rule(CreateDetectionRuleRequest { rule: Some(rule) }).await;
        failed(exists.unwrap_err(), Code::AlreadyExists);
        graph.script([Scripted::error(503, "serviceNotAvailable", "Try again."), Scripted::throttled("0.1")]);
        client.get_detection_rule(get("r1")).await.expect("after a 503 and a 429");

        // Revoked: Graph refuses the token, graphbridge gets another and tries once more.
        graph.revoke_tokens();
        client.get_detection_rule(get("r1")).await.expect("with a new token");
        // Refused again with the new one: graphbridge's identity fails, INTERNAL.
        let refused = || Scripted::error(401, "InvalidAuthenticationToken", "Access token validation failure.");
        graph.script([refused(), refused()]);
        failed(client.get_detection_rule(get("r1")).await.unwrap_err(), Code::Internal);
        // A bad rotation: Entra ID refuses the secret file's new content when the token that
        // failed last (still cached: only the first 401 of a call drops one) is revoked.
        std::fs::write(&secret_file, WRONG_SECRET).unwrap();
        graph.revoke_tokens();
        failed(client.get_detection_rule(get("r1")).await.unwrap_err(), Code::Internal);
        std::fs::write(&secret_file, SECRET).unwrap();
        // Short-lived tokens: replaced ahead of expiry (at half their 2 s lifetime).
        graph.set_token_lifetime(2);
        client.get_detection_rule(get("r1")).await.expect("after the secret is fixed");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        client.get_detection_rule(get("r1")).await.expect("with a token replaced ahead of expiry");
        statuses
    });
    let token_requests = session.graph.token_requests().len();
    let (lines, requests) = session.finish();

    // token-1, token-2 after the revocation, token-3 refused by Graph, the wrong secret refused
    // by Entra ID, token-4 and its replacement token-5.
    assert_eq!(token_requests, 6, "tokens issued, refused and replaced");
    for status in &statuses {
        assert_clean(&status_text(status), &[SECRET, WRONG_SECRET], "a status");
    }
    let entra = statuses.last().expect("Entra ID's refusal");
    assert!(entra.message().contains("AADSTS7000215"), "Entra ID's reason is passed on: {entra:?}");
    assert_clean(&lines.join("\n"), &[SECRET, WRONG_SECRET], "the log");
    let logs = json_logs(&lines);
    assert_each_graph_call_logged_with_its_ids(&logs, &requests);
    // Entra ID's refusal is the one failure Graph did not answer.
    let answered_by_graph = ["NOT_FOUND", "PERMISSION_DENIED", "ALREADY_EXISTS", "INTERNAL"];
    assert_failures_logged_with_graphs_ids(&logs, &requests, &answered_by_graph);
}

/// The line of each failed call that Graph answered carries the ids of that answer: Graph's
/// `request-id` (what Microsoft support asks for) and the `client-request-id` sent. `codes`: the
/// codes of those calls, in order; other failures carry no ids.
fn assert_failures_logged_with_graphs_ids(logs: &[Value], requests: &[Received], codes: &[&str]) {
    let sent: BTreeSet<&str> = requests.iter().map(|request| request.header("client-request-id")).collect();
    let failures = logs.iter().filter(|log| log["message"] == "request failed" || log["message"] == "request refused");
    let mut with_ids = Vec::new();
    for failure in failures {
        let Some(client_request_id) = failure["client_request_id"].as_str() else {
            assert!(failure.get("request_id").is_none(), "{failure}");
            continue;
        };
        assert!(sent.contains(client_request_id), "an id sent to Graph: {failure}");
        let request_id = failure["request_id"].as_str().unwrap_or_default();
        assert!(request_id.starts_with("req-"), "Graph's request-id: {failure}");
        with_ids.push(failure["code"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(with_ids, codes, "the failures logged with Graph's ids");
}

/// Azure Workload Identity: the projected token is a credential too, sent as a client assertion;
/// neither it nor the assertion field reaches the log, also when Entra ID refuses it.
#[test]
fn a_federated_token_reaches_neither_the_log_nor_a_caller() {
    let session = Session::start(|graph, dir| {
        graph.accept_federated_token(PROJECTED);
        let token = dir.join("azure-identity-token");
        std::fs::write(&token, PROJECTED).expect("write the token file");
        vec!["--graph-federated-token-file".into(), token.display().to_string()]
    });
    let graph = &session.graph;
    let refused = session.run(async {
        let mut client = session.client().await;
        client.get_detection_rule(get("r1")).await.expect("a first call");
        // Kubernetes rotated the token and Entra ID no longer takes the one in the file.
        graph.accept_federated_token("another-projected-token");
        graph.revoke_tokens();
        client.get_detection_rule(get("r1")).await.unwrap_err()
    });
    let (lines, requests) = session.finish();

    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    assert_clean(&status_text(&refused), &[PROJECTED], "a status");
    assert_clean(&lines.join("\n"), &[PROJECTED], "the log");
    assert_each_graph_call_logged_with_its_ids(&json_logs(&lines), &requests);
}
