//! The sidecar over real sockets and as a real process, one behaviour per module. One test
//! binary, not one per file: linking each against the whole server was most of the time of a
//! rebuild (BENCHMARKS.md, "Test build"). The translations themselves are tested in the codec's
//! own tests (crates/codec/tests/); here, that the service answers what they answer, and how it
//! behaves under hostile input, load, limits and shutdown.

mod connections;
mod convert;
mod errors;
mod gateway_errors;
mod gateway_memory;
mod gateway_paging;
mod gateway_proxy;
mod gateway_retries;
mod gateway_rpcs;
mod gateway_secrets;
mod gateway_settings;
mod gateway_tokens;
mod grpcurl;
mod hostile_json;
mod hostile_messages;
mod http2_abuse;
mod limits;
mod logs;
mod metrics;
mod migration;
mod overload;
mod python_client;
mod rules;
mod shutdown;
mod streaming;
mod streaming_rules;
mod support;
mod tls;
mod translation;

/// The `graphbridge` binary under test: only an integration test of the package knows its path.
const GRAPHBRIDGE: &str = env!("CARGO_BIN_EXE_graphbridge");

/// The proto3 JSON of `graphbridge_testkit::ISOLATE`'s action, as grpcurl and `graphbridge convert`
/// read and write it.
const ISOLATE_PROTO_JSON: &str = r#"{"isolateDevice":{"identifier":["DEVICE_ID_ENTITY_IDENTIFIER_DEVICE_ID"],"isolationType":"ISOLATION_TYPE_FULL"}}"#;
