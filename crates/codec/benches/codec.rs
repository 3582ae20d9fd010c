//! The codec alone, both directions, against its baselines in the same group (BENCHMARKS.md):
//!
//! - `serde_value`: the floor, the same Graph JSON parsed into a `serde_json::Value` and written
//!   back (`serde_value_parse`: parsing only);
//! - `prost_reflect`: the generic peer, descriptor-driven transcoding with `DynamicMessage`
//!   between proto3 JSON and protobuf bytes, as a generic gRPC-JSON transcoder does.
//!
//! `graphbridge` starts and ends where the peer does (protobuf bytes on one side, JSON text on the
//! other), running what the service runs: ToGraph's request read in place, FromGraph's response
//! written as the JSON is read; `graphbridge_decoded` is the path before (messages decoded, or
//! read and then encoded); `graphbridge_codec` is the codec call alone. Every bench of a group counts the Graph
//! JSON bytes of the payload as its throughput, so throughput ratios are time ratios.
//!
//! `cargo bench --bench codec` (filter: `cargo bench --bench codec -- from_graph/seed16`).

// The binary's allocator, so the benches time what the service does (the baselines run on it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use graphbridge_codec::{
    self as codec, Policy,
    pb::{FromGraphRequest, RuleFromGraphRequest, RuleFromGraphResponse, RuleToGraphRequest, ToGraphRequest},
    translate::{self, Limits},
};
use graphbridge_testkit::{
    DEPTH,
    baselines::{from_graph_proto_json, from_proto_json, reflect_message, serde_value_roundtrip, to_proto_json},
    fixtures::compact_rule_fixture,
    payloads::{Payload, payloads},
};
use prost::Message;

fn to_graph(c: &mut Criterion) {
    let descriptor = reflect_message("graphbridge.v1.ToGraphRequest");
    for payload in payloads() {
        let mut group = c.benchmark_group(format!("to_graph/{}", payload.name));
        group.throughput(Throughput::Bytes(payload.graph_json.len() as u64));
        let Payload { to_graph_request, to_graph_bytes, graph_json, .. } = &payload;
        // What the service runs: the request read in place (BENCHMARKS.md §11); `graphbridge_decoded`
        // is what it ran before, the request decoded with prost first.
        group.bench_function("graphbridge", |b| {
            b.iter(|| {
                translate::to_graph_encoded(&Limits::UNBOUNDED, black_box(to_graph_bytes.as_slice())).expect("valid")
            })
        });
        group.bench_function("graphbridge_decoded", |b| {
            b.iter(|| {
                let request = ToGraphRequest::decode(black_box(to_graph_bytes.as_slice())).expect("valid request");
                translate::to_graph(&Limits::UNBOUNDED, &request).expect("valid actions")
            })
        });
        group.bench_function("graphbridge_codec", |b| {
            b.iter(|| codec::to_graph(black_box(&to_graph_request.actions), Policy::Preserve, false, DEPTH))
        });
        group.bench_function("serde_value", |b| b.iter(|| serde_value_roundtrip(black_box(graph_json))));
        group.bench_function("prost_reflect", |b| b.iter(|| to_proto_json(&descriptor, black_box(to_graph_bytes))));
        group.finish();
    }
}

fn from_graph(c: &mut Criterion) {
    let descriptor = reflect_message("graphbridge.v1.FromGraphResponse");
    for payload in payloads() {
        let mut group = c.benchmark_group(format!("from_graph/{}", payload.name));
        group.throughput(Throughput::Bytes(payload.graph_json.len() as u64));
        let Payload { graph_json, .. } = &payload;
        let proto_json = &from_graph_proto_json(&payload);
        // What the service runs: the response written as the JSON is read (BENCHMARKS.md §12);
        // `graphbridge_decoded`, what it ran before: the JSON read into messages, then encoded.
        let request = FromGraphRequest { json: graph_json.clone(), ..Default::default() };
        let request_bytes = request.encode_to_vec();
        group.bench_function("graphbridge", |b| {
            b.iter(|| translate::from_graph_encoded(&Limits::UNBOUNDED, black_box(&request_bytes)).expect("valid"))
        });
        group.bench_function("graphbridge_decoded", |b| {
            b.iter(|| translate::from_graph(&Limits::UNBOUNDED, black_box(&request)).expect("valid").encode_to_vec())
        });
        group.bench_function("graphbridge_codec", |b| {
            b.iter(|| codec::from_graph(black_box(graph_json), Policy::Preserve, DEPTH))
        });
        group.bench_function("serde_value_parse", |b| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(graph_json)).expect("valid JSON"))
        });
        group.bench_function("serde_value", |b| b.iter(|| serde_value_roundtrip(black_box(graph_json))));
        group.bench_function("prost_reflect", |b| b.iter(|| from_proto_json(&descriptor, black_box(proto_json))));
        group.finish();
    }
}

/// Whole rules (the fixtures' GET responses of both shapes), in the same groups' shape: the
/// ratios script reads them like the action payloads.
fn rules(c: &mut Criterion) {
    let request_descriptor = reflect_message("graphbridge.v1.RuleToGraphRequest");
    let response_descriptor = reflect_message("graphbridge.v1.RuleFromGraphResponse");
    for name in ["old-get", "new-get"] {
        let graph_json = compact_rule_fixture(name);
        let read = codec::rules_from_graph(&graph_json, Policy::Preserve, DEPTH).expect("valid rule");
        let request = RuleToGraphRequest { rule: read.rules.first().cloned(), ..Default::default() };
        let request_bytes = request.encode_to_vec();
        let response = RuleFromGraphResponse { rules: read.rules, ..Default::default() };
        let proto_json = to_proto_json(&response_descriptor, &response.encode_to_vec());

        let mut group = c.benchmark_group(format!("to_graph/rule-{name}"));
        group.throughput(Throughput::Bytes(graph_json.len() as u64));
        // As the actions' groups: read in place, and (before §11) decoded first.
        group.bench_function("graphbridge", |b| {
            b.iter(|| translate::rule_to_graph_encoded(&Limits::UNBOUNDED, black_box(&request_bytes)).expect("valid"))
        });
        group.bench_function("graphbridge_decoded", |b| {
            b.iter(|| {
                let request = RuleToGraphRequest::decode(black_box(request_bytes.as_slice())).expect("valid request");
                translate::rule_to_graph(&Limits::UNBOUNDED, &request).expect("valid rule")
            })
        });
        let rule = request.rule.as_ref().expect("a rule");
        group.bench_function("graphbridge_codec", |b| {
            b.iter(|| codec::rule_to_graph(black_box(rule), None, Policy::Preserve, false, DEPTH))
        });
        group.bench_function("serde_value", |b| b.iter(|| serde_value_roundtrip(black_box(&graph_json))));
        group.bench_function("prost_reflect", |b| {
            b.iter(|| to_proto_json(&request_descriptor, black_box(&request_bytes)))
        });
        group.finish();

        let mut group = c.benchmark_group(format!("from_graph/rule-{name}"));
        group.throughput(Throughput::Bytes(graph_json.len() as u64));
        let request = RuleFromGraphRequest { json: graph_json.clone(), ..Default::default() };
        let request_bytes = request.encode_to_vec();
        group.bench_function("graphbridge", |b| {
            b.iter(|| translate::rule_from_graph_encoded(&Limits::UNBOUNDED, black_box(&request_bytes)).expect("valid"))
        });
        group.bench_function("graphbridge_decoded", |b| {
            b.iter(|| {
                translate::rule_from_graph(&Limits::UNBOUNDED, black_box(&request)).expect("valid").encode_to_vec()
            })
        });
        group.bench_function("graphbridge_codec", |b| {
            b.iter(|| codec::rules_from_graph(black_box(&graph_json), Policy::Preserve, DEPTH))
        });
        group.bench_function("serde_value_parse", |b| {
            b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&graph_json)).expect("valid JSON"))
        });
        group.bench_function("serde_value", |b| b.iter(|| serde_value_roundtrip(black_box(&graph_json))));
        group.bench_function("prost_reflect", |b| {
            b.iter(|| from_proto_json(&response_descriptor, black_box(&proto_json)))
        });
        group.finish();
    }
}

criterion_group!(benches, to_graph, from_graph, rules);
criterion_main!(benches);
