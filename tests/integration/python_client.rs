//! Callers beyond Rust: Python stubs generated from `proto/` with the real protoc (grpcio-tools),
//! beside googleapis-common-protos, call every Translator RPC over a real socket and decode the
//! google.rpc.BadRequest of an error (tests/python/translator_client.py). `scripts/tools.sh`
//! installs the Python packages into `.tools/pyclient`.

use std::{path::Path, process::Command};

use crate::support::server::TestServer;

const PROTOS: &[&str] = &[
    "graphbridge/v1/graph.proto",
    "graphbridge/v1/response_action.proto",
    "graphbridge/v1/detection_rule.proto",
    "graphbridge/v1/translator.proto",
];

#[tokio::test]
async fn a_python_client_calls_every_translator_rpc() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = repo.join(".tools/pyclient/bin/python");
    assert!(python.is_file(), "{} missing: run scripts/test, or `source scripts/tools.sh` first", python.display());
    let stubs = tempfile::tempdir().expect("a temporary directory");

    // Only graphbridge's own files: google.rpc.Status is googleapis-common-protos' (README).
    let generated = Command::new(&python)
        .args(["-m", "grpc_tools.protoc", "-I", "proto"])
        .arg(format!("--python_out={}", stubs.path().display()))
        .arg(format!("--grpc_python_out={}", stubs.path().display()))
        .args(PROTOS)
        .current_dir(repo)
        .output()
        .expect("run grpc_tools.protoc");
    assert!(generated.status.success(), "protoc failed:\n{}", String::from_utf8_lossy(&generated.stderr));

    let server = TestServer::start().await;
    let mut client = Command::new(&python);
    client
        .arg(repo.join("tests/python/translator_client.py"))
        .arg(server.api.to_string())
        .arg(repo.join("tests/fixtures/rules"))
        .env("PYTHONPATH", stubs.path())
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let output = tokio::task::spawn_blocking(move || client.output())
        .await
        .expect("the client thread")
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("8 passed, 0 failed"),
        "the Python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    server.stop().await;
}
