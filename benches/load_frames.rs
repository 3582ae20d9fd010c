//! Writes the request bodies of `scripts/bench-load` (gRPC length-prefixed frames) and the
//! response bodies a correct server sends back, so the load test can check every response byte
//! count: `cargo bench --bench load_frames -- DIR`. Without DIR (as under a plain `cargo bench`)
//! it writes nothing.
//!
//! The ToGraph and FromGraph payloads are the 16 seed actions of `crates/codec/benches/codec.rs`.

use std::{fs, path::PathBuf};

use graphbridge_codec::{
    self as codec, Policy,
    pb::{FromGraphRequest, FromGraphResponse, ToGraphResponse},
};
use graphbridge_testkit::{DEPTH, payloads::payloads};
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
    let payload = payloads().into_iter().find(|p| p.name == "seed16").expect("the seed16 payload");

    let written =
        codec::to_graph(&payload.to_graph_request.actions, Policy::Preserve, false, DEPTH).expect("valid actions");
    let read = codec::from_graph(&payload.graph_json, Policy::Preserve, DEPTH).expect("valid Graph JSON");
    let files: [(&str, Vec<u8>); 6] = [
        ("health.req", frame(&HealthCheckRequest::default())),
        ("health.resp", frame(&HealthCheckResponse { status: ServingStatus::Serving.into() })),
        ("to_graph.req", frame(&payload.to_graph_request)),
        ("to_graph.resp", frame(&ToGraphResponse { json: written.json, unknown_data: written.unknown_data })),
        ("from_graph.req", frame(&FromGraphRequest { json: payload.graph_json.clone(), ..Default::default() })),
        ("from_graph.resp", frame(&FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data })),
    ];
    for (name, bytes) in files {
        fs::write(dir.join(name), &bytes).expect("write a frame");
        println!("{name:<16} {:>6} bytes", bytes.len());
    }
}
