//! A thousand concurrent DetectionRuleService calls against a slow Graph, to the real binary: they
//! wait for a turn at Graph (--graph-max-concurrent-requests) instead of piling requests onto it,
//! every one of them is answered, and the process stays inside a 64 MiB container.
//!
//! The calls carry no deadline, so every one must end OK: gateway calls are not shed (unlike the
//! Translator's), they queue for a Graph permit, and a waiting call is cheap. A deadline would
//! make the outcome depend on how fast this machine gets through the queue, which a shared
//! 2-core machine cannot promise; the test's own timeout bounds it instead.

use std::time::Duration;

use graphbridge::pb::{GetDetectionRuleRequest, detection_rule_service_client::DetectionRuleServiceClient};
use serde_json::json;

use crate::support::{
    child::{ChildServer, memory, mib},
    fake_graph::{FakeGraph, SECRET},
    server::{channel, http_get},
};

const MIB: u64 = 1024 * 1024;
/// The container memory limit the defaults are sized for (RELIABILITY.md, "Overload").
const CONTAINER_LIMIT: u64 = 64 * MIB;
const CONNECTIONS: usize = 4;
/// Per connection: under --max-concurrent-streams (256), so all of them are in flight at once.
const CALLS: usize = 250;
const GRAPH_PERMITS: usize = 32;
/// Each Graph answer takes this long: 1,000 calls through 32 permits take about 10 s at least.
const GRAPH_DELAY: Duration = Duration::from_millis(300);

/// The worker count is the container's (overload.rs explains why 2, not this machine's cores).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_calls_on_a_slow_graph_wait_for_a_turn_within_64_mib() {
    let graph = FakeGraph::start().await;
    graph.store(json!({"id": "r1", "displayName": "Encoded PowerShell", "description": "x".repeat(2000)}));
    graph.set_delay(GRAPH_DELAY);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, SECRET).expect("write the secret file");
    let permits = GRAPH_PERMITS.to_string();
    let mut flags = graph.flags(&secret);
    // A short drain: the clients' connections may still be closing at the SIGTERM.
    let extra = ["--worker-threads", "2", "--graph-max-concurrent-requests", &permits, "--drain-timeout", "2s"];
    flags.extend(extra.map(String::from));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    // Starting the child blocks this worker; nothing reaches the fake until the calls.
    let mut server = ChildServer::start(&flags, &[]);
    let (api, admin, pid) = (server.api_addr(), server.admin_addr(), server.pid());
    let idle = memory(pid).0;

    let mut calls = Vec::new();
    for _ in 0..CONNECTIONS {
        let client = DetectionRuleServiceClient::new(channel(api).await.expect("connect"));
        for _ in 0..CALLS {
            let mut client = client.clone();
            calls.push(tokio::spawn(async move {
                client.get_detection_rule(GetDetectionRuleRequest { id: "r1".into() }).await
            }));
        }
    }
    let mut failed = Vec::new();
    for call in calls {
        let outcome = tokio::time::timeout(Duration::from_secs(120), call).await.expect("answered in time");
        match outcome.expect("the call's task") {
            Ok(rule) => assert_eq!(rule.into_inner().id, "r1", "a wrong answer"),
            Err(status) => failed.push(format!("{:?}: {}", status.code(), status.message())),
        }
    }
    let (after, hwm) = memory(pid);
    let (_, metrics) = http_get(admin, "/metrics").await;
    let at_graph = graph.max_in_flight();
    eprintln!(
        "gateway memory: {} calls from {CONNECTIONS} connections, {} failed; at most {at_graph} at Graph \
         (--graph-max-concurrent-requests {GRAPH_PERMITS}); RSS idle {}, VmHWM {}, after {}",
        CONNECTIONS * CALLS,
        failed.len(),
        mib(idle),
        mib(hwm),
        mib(after)
    );

    assert!(failed.is_empty(), "calls that did not end OK: {:?}", &failed[..failed.len().min(5)]);
    assert!(at_graph <= GRAPH_PERMITS, "{at_graph} requests at Graph at once, over {GRAPH_PERMITS}");
    // The counter is live and the calls did overlap at Graph: the bound is not met by serializing.
    assert!(at_graph > 1, "never more than one request at Graph");
    assert_eq!(graph.graph_requests().len(), CONNECTIONS * CALLS, "one Graph request per call, none retried");
    assert!(
        metrics.contains(&format!(
            r#"graphbridge_graph_requests_total{{method="GET",status="200"}} {}"#,
            CONNECTIONS * CALLS
        )),
        "{metrics}"
    );
    assert!(hwm < CONTAINER_LIMIT, "VmHWM {} over the {} container limit", mib(hwm), mib(CONTAINER_LIMIT));
    assert!(server.terminate().success());
}
