//! The real `graphbridge serve` binary with Graph settings it cannot use: it stops at start-up,
//! before binding a port, with exit code 2 and the flag named on stderr; and with only the
//! variables Azure Workload Identity injects (AZURE_*), it reaches Graph.

use std::{
    io::Read as _,
    path::Path,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use graphbridge::pb::{GetDetectionRuleRequest, detection_rule_service_client::DetectionRuleServiceClient};
use serde_json::json;

use crate::support::{
    child::{ChildServer, TIMEOUT},
    fake_graph::{CLIENT_ID, FakeGraph, SECRET, TENANT},
    server::channel,
};

/// Runs `graphbridge serve ARGS` with `env` and none of the test's own GRAPHBRIDGE_*, AZURE_* or
/// RUST_LOG, asserts that it exits with code 2 on its own, and returns its stderr.
fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(crate::GRAPHBRIDGE);
    command.args(["serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"]).args(args);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("GRAPHBRIDGE_") || name.starts_with("AZURE_") || name == "RUST_LOG" {
            command.env_remove(&*name);
        }
    }
    let mut child = command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start graphbridge");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // A setting that is wrongly accepted leaves a server running: stop it rather than hang.
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for graphbridge") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("graphbridge serve {args:?} is still running: the setting was accepted");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let stderr = reader.join().expect("stderr reader");
    assert_eq!(status.code(), Some(2), "graphbridge serve {args:?} exited with {status}; stderr:\n{stderr}");
    stderr
}

/// Asserts that `stderr` names `flag` and says `why`.
fn assert_says(stderr: &str, flag: &str, why: &str) {
    assert!(stderr.contains(flag), "{flag} not named:\n{stderr}");
    assert!(stderr.contains(why), "{why:?} not said:\n{stderr}");
}

/// The tenant, client and a secret file: a complete identity, for the cases about the rest.
fn identity(dir: &Path) -> Vec<String> {
    let secret = dir.join("client-secret");
    std::fs::write(&secret, SECRET).expect("write the secret file");
    ["--graph-tenant-id", TENANT, "--graph-client-id", CLIENT_ID, "--graph-client-secret-file"]
        .into_iter()
        .map(str::to_owned)
        .chain([secret.display().to_string()])
        .collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn http_graph_url_off_loopback_is_refused() {
    let stderr = refused(&["--graph-url", "http://graph.example.com/beta"], &[]);
    assert_says(&stderr, "--graph-url", "http:// is only accepted for a loopback host");
}

#[test]
fn http_authority_url_off_loopback_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = identity(dir.path());
    args.extend(["--graph-authority-url".into(), "http://login.example.com".into()]);
    let stderr = refused(&strs(&args), &[]);
    assert_says(&stderr, "--graph-authority-url", "http:// is only accepted for a loopback host");
}

/// AZURE_AUTHORITY_HOST fills --graph-authority-url, and is held to the same rule.
#[test]
fn http_authority_host_off_loopback_from_the_environment_is_refused() {
    let stderr = refused(&[], &[("AZURE_AUTHORITY_HOST", "http://login.example.com/")]);
    assert_says(&stderr, "--graph-authority-url", "http:// is only accepted for a loopback host");
}

#[test]
fn a_missing_page_token_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-key");
    let stderr = refused(&["--page-token-key-file", &missing.display().to_string()], &[]);
    assert_says(&stderr, "--page-token-key-file", "no such file");
}

/// Read at start-up, not first when a page token is sealed.
#[test]
fn a_page_token_key_shorter_than_32_bytes_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("page-token-key");
    std::fs::write(&key, [0x5a; 31]).unwrap();
    let stderr = refused(&["--page-token-key-file", &key.display().to_string()], &[]);
    assert_says(&stderr, "--page-token-key-file", "holds 31 bytes: at least 32 are needed");
}

#[test]
fn a_missing_client_secret_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-secret");
    let args = ["--graph-tenant-id", TENANT, "--graph-client-id", CLIENT_ID, "--graph-client-secret-file"];
    let stderr = refused(&[&args[..], &[&missing.display().to_string()]].concat(), &[]);
    assert_says(&stderr, "--graph-client-secret-file", "no such file");
}

/// Files that exist but cannot be used are read at start-up too.
#[test]
fn an_unusable_secret_certificate_or_ca_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.display().to_string()
    };
    let ids = ["--graph-tenant-id", TENANT, "--graph-client-id", CLIENT_ID];
    let empty = write("empty-secret", "\n");
    let stderr = refused(&[&ids[..], &["--graph-client-secret-file", &empty]].concat(), &[]);
    assert_says(&stderr, "--graph-client-secret-file", "is empty");
    let not_pem = write("certificate.pem", "not a certificate");
    let stderr = refused(&[&ids[..], &["--graph-client-certificate-file", &not_pem]].concat(), &[]);
    assert_says(&stderr, "--graph-client-certificate-file", "no PEM certificate");
    let stderr = refused(&["--graph-ca-file", &not_pem], &[]);
    assert_says(&stderr, "--graph-ca-file", "no PEM certificate");
}

/// The proxy from its variable, held to the same rules as the flag; its credentials file is
/// read at start-up, and its content is never echoed.
#[test]
fn an_unusable_proxy_or_proxy_credentials_file_is_refused() {
    let stderr = refused(&[], &[("GRAPHBRIDGE_GRAPH_PROXY", "https://proxy.example:3128")]);
    assert_says(&stderr, "--graph-proxy", "the proxy is reached with http://");
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("proxy-credentials");
    std::fs::write(&credentials, "password-without-user\n").unwrap();
    let args = ["--graph-proxy", "http://proxy.example:3128", "--graph-proxy-credentials-file"];
    let stderr = refused(&[&args[..], &[&credentials.display().to_string()]].concat(), &[]);
    assert_says(&stderr, "--graph-proxy-credentials-file", "expected one line, user:password");
    assert!(!stderr.contains("password-without-user"), "the credentials were echoed:\n{stderr}");
}

/// A secret file from a flag and a federated token from the pod's AZURE_FEDERATED_TOKEN_FILE:
/// which one to use is not guessed.
#[test]
fn two_kinds_of_credential_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("federated-token");
    std::fs::write(&token, "projected-service-account-token").unwrap();
    let token = token.display().to_string();
    let stderr = refused(&strs(&identity(dir.path())), &[("AZURE_FEDERATED_TOKEN_FILE", &token)]);
    assert_says(&stderr, "--graph-client-secret-file", "give only one");
    assert_says(&stderr, "--graph-federated-token-file", "AZURE_FEDERATED_TOKEN_FILE");
}

#[test]
fn a_credential_without_a_tenant_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = identity(dir.path()).into_iter().skip(2).collect();
    assert_eq!(args[0], "--graph-client-id", "the tenant left out");
    let stderr = refused(&strs(&args), &[]);
    assert_says(&stderr, "--graph-tenant-id", "is required with a Graph credential");
    assert!(stderr.contains("AZURE_TENANT_ID"), "the variable is named too:\n{stderr}");
}

/// As a pod labelled for Azure Workload Identity runs it: tenant, client, token file and
/// authority only from AZURE_* (the authority is the fake's); Graph's URL is graphbridge's own
/// setting. The projected token is sent as the client assertion, and the call succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_workload_identity_variables_alone_reach_graph() {
    const PROJECTED: &str = "projected-service-account-token";
    let graph = FakeGraph::start().await;
    graph.accept_federated_token(PROJECTED);
    graph.store(json!({"id": "r1", "displayName": "Encoded PowerShell"}));
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("azure-identity-token");
    std::fs::write(&token, format!("{PROJECTED}\n")).unwrap();
    let (token, authority) = (token.display().to_string(), format!("http://{}", graph.addr));
    let graph_url = format!("http://{}/beta", graph.addr);
    let env = [
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_FEDERATED_TOKEN_FILE", token.as_str()),
        ("AZURE_AUTHORITY_HOST", authority.as_str()),
    ];
    // Starting the child blocks this worker; the fake answers on the other one.
    let server = ChildServer::start(&["--graph-url", &graph_url], &env);

    let mut client = DetectionRuleServiceClient::new(channel(server.api_addr()).await.expect("connect"));
    let rule = client.get_detection_rule(GetDetectionRuleRequest { id: "r1".into() }).await.expect("the rule");
    assert_eq!(rule.into_inner().display_name, "Encoded PowerShell");

    let tokens = graph.token_requests();
    assert_eq!(tokens.len(), 1, "one token for the call");
    assert_eq!(tokens[0].uri, format!("/{TENANT}/oauth2/v2.0/token"));
    let form: Vec<(String, String)> = tokens[0]
        .body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
        .collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(field("client_id"), Some(CLIENT_ID));
    assert_eq!(field("client_assertion"), Some(PROJECTED), "the file's content, trimmed");
    assert_eq!(field("client_assertion_type"), Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
    assert_eq!(field("client_secret"), None);
    assert_eq!(graph.graph_requests()[0].header("authorization"), "Bearer token-1");
}
