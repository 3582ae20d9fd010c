//! The codec alone, both directions, against its baselines in the same group (BENCHMARKS.md):
//!
//! - `serde_value`: the floor, the same Graph JSON parsed into a `serde_json::Value` and written
//!   back (`serde_value_parse`: parsing only);
//! - `prost_reflect`: the generic peer, descriptor-driven transcoding with `DynamicMessage`
//!   between proto3 JSON and protobuf bytes, as a generic gRPC-JSON transcoder does.
//!
//! `graphbridge` starts and ends where the peer does (protobuf bytes on one side, JSON text on the
//! other); `graphbridge_codec` is the codec call alone. Every bench of a group counts the Graph
//! JSON bytes of the payload as its throughput, so throughput ratios are time ratios.
//!
//! `cargo bench --bench codec` (filter: `cargo bench --bench codec -- from_graph/seed16`).

mod common;

use std::hint::black_box;

use common::{Payload, payloads, reflect_message};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use graphbridge::{
    codec::{self, Policy},
    pb::{FromGraphResponse, ToGraphRequest, ToGraphResponse},
};
use prost::Message;

fn to_graph(c: &mut Criterion) {
    let descriptor = reflect_message("graphbridge.v1.ToGraphRequest");
    for payload in payloads() {
        let mut group = c.benchmark_group(format!("to_graph/{}", payload.name));
        group.throughput(Throughput::Bytes(payload.graph_json.len() as u64));
        let Payload { to_graph_request, to_graph_bytes, graph_json, .. } = &payload;
        group.bench_function("graphbridge", |b| {
            b.iter(|| {
                let request = ToGraphRequest::decode(black_box(to_graph_bytes.as_slice())).expect("valid request");
                let written =
                    codec::to_graph(&request.actions, Policy::Preserve, false, common::DEPTH).expect("valid actions");
                ToGraphResponse { json: written.json, unknown_data: written.unknown_data }
            })
        });
        group.bench_function("graphbridge_codec", |b| {
            b.iter(|| codec::to_graph(black_box(&to_graph_request.actions), Policy::Preserve, false, common::DEPTH))
        });
        group.bench_function("serde_value", |b| b.iter(|| common::serde_value_roundtrip(black_box(graph_json))));
        group.bench_function("prost_reflect", |b| {
            b.iter(|| common::to_proto_json(&descriptor, black_box(to_graph_bytes)))
        });
        group.finish();
    }
}

fn from_graph(c: &mut Criterion) {
    let descriptor = reflect_message("graphbridge.v1.FromGraphResponse");
    for payload in payloads() {
        let mut group = c.benchmark_group(format!("from_graph/{}", payload.name));
        group.throughput(Throughput::Bytes(payload.graph_json.len() as u64));
        let Payload { graph_json, proto_json, .. } = &payload;
        group.bench_function("graphbridge", |b| {
            b.iter(|| {
                let read = codec::from_graph(black_box(graph_json), Policy::Preserve, common::DEPTH).expect("valid");
                FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data }.encode_to_vec()
            })
        });
        group.bench_function("graphbridge_codec", |b| {
            b.iter(|| codec::from_graph(black_box(graph_json), Policy::Preserve, common::DEPTH))
        });
        group.bench_function("serde_value_parse", |b| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(graph_json)).expect("valid JSON"))
        });
        group.bench_function("serde_value", |b| b.iter(|| common::serde_value_roundtrip(black_box(graph_json))));
        group.bench_function("prost_reflect", |b| {
            b.iter(|| common::from_proto_json(&descriptor, black_box(proto_json)))
        });
        group.finish();
    }
}

criterion_group!(benches, to_graph, from_graph);
criterion_main!(benches);
