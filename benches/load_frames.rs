//! Writes the request bodies of `scripts/bench-load` (gRPC length-prefixed frames) and the
//! response bodies a correct server sends back, so the load test can check every response byte
//! count: `cargo bench --bench load_frames -- DIR`. Without DIR (as under a plain `cargo bench`)
//! it writes nothing. The echo server of the load test (`benches/echo_server.rs`) answers with
//! these response bodies, so that it moves the same bytes as graphbridge.
//!
//! The ToGraph and FromGraph payloads are the 16 seed actions of `crates/codec/benches/codec.rs`;
//! RuleToGraph and RuleFromGraph move a whole rule, the `new-get` fixture compacted as in that
//! bench (Graph's own responses carry no indentation).

use std::{fs, path::PathBuf};

use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::payloads::{LoadRequests, load_requests};
use prost::Message;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse, health_check_response::ServingStatus};

/// A gRPC message frame: uncompressed flag, big-endian length, the message.
fn frame(message: &impl Message) -> Vec<u8> {
    let bytes = message.encode_to_vec();
    let mut framed = Vec::with_capacity(5 + bytes.len());
    framed.push(0);
    framed.extend_from_slice(&u32::try_from(bytes.len()).expect("small message").to_be_bytes());
    framed.extend_from_slice(&bytes);
    framed
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter) to every bench binary.
    let Some(dir) = std::env::args().skip(1).find(|arg| !arg.starts_with("--")).map(PathBuf::from) else {
        println!("load_frames: no output directory given, nothing written (see scripts/bench-load)");
        return;
    };
    fs::create_dir_all(&dir).expect("output directory");
    // The expected responses come from the translations the service runs, under its default
    // limits, which these payloads are far below.
    let limits = Limits::UNBOUNDED;
    let LoadRequests { to_graph, from_graph, rule_to_graph, rule_from_graph } = load_requests();
    let read_rule = translate::rule_from_graph(&limits, &rule_from_graph).expect("a valid rule");
    let files: [(&str, Vec<u8>); 10] = [
        ("health.req", frame(&HealthCheckRequest::default())),
        ("health.resp", frame(&HealthCheckResponse { status: ServingStatus::Serving.into() })),
        ("to_graph.req", frame(&to_graph)),
        ("to_graph.resp", frame(&translate::to_graph(&limits, &to_graph).expect("valid actions"))),
        ("from_graph.req", frame(&from_graph)),
        ("from_graph.resp", frame(&translate::from_graph(&limits, &from_graph).expect("valid Graph JSON"))),
        ("rule_to_graph.req", frame(&rule_to_graph)),
        ("rule_to_graph.resp", frame(&translate::rule_to_graph(&limits, &rule_to_graph).expect("a valid rule"))),
        ("rule_from_graph.req", frame(&rule_from_graph)),
        ("rule_from_graph.resp", frame(&read_rule)),
    ];
    for (name, bytes) in files {
        fs::write(dir.join(name), &bytes).expect("write a frame");
        println!("{name:<20} {:>6} bytes", bytes.len());
    }
}
