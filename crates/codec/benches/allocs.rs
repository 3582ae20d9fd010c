//! Heap allocations per translated action, counted by a global allocator, for each payload and
//! direction, beside the same counts for the baselines of `benches/codec.rs`.
//!
//! `cargo bench --bench allocs` prints one table (no timing: the counts are exact and stable).

use std::{
    alloc::{GlobalAlloc, Layout, System},
    hint::black_box,
    sync::atomic::{AtomicU64, Ordering::Relaxed},
};

use graphbridge_codec::{
    self as codec, Policy,
    pb::{FromGraphRequest, FromGraphResponse, ToGraphRequest, ToGraphResponse},
    translate::{self, Limits},
};
use graphbridge_testkit::{
    DEPTH,
    baselines::{from_graph_proto_json, from_proto_json, reflect_message, serde_value_roundtrip, to_proto_json},
    payloads::{Payload, payloads},
};
use prost::Message;

/// Counts allocations (a `realloc` counts as one: it may move the block) and bytes requested.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new_size.saturating_sub(layout.size()) as u64, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations and bytes of one call of `f` (after a first, uncounted call).
fn count<T>(mut f: impl FnMut() -> T) -> (u64, u64) {
    black_box(f());
    let (a, b) = (ALLOCATIONS.load(Relaxed), BYTES.load(Relaxed));
    let out = f();
    let counted = (ALLOCATIONS.load(Relaxed) - a, BYTES.load(Relaxed) - b);
    drop(black_box(out));
    counted
}

fn row(direction: &str, payload: &Payload, what: &str, (allocations, bytes): (u64, u64)) {
    let per_action = allocations as f64 / payload.actions as f64;
    println!(
        "{direction:<10} {:<10} {what:<18} {allocations:>8} {per_action:>10.2} {:>12.0}",
        payload.name,
        bytes as f64 / payload.actions as f64
    );
}

fn to_graph(actions: &[graphbridge_codec::pb::ResponseAction]) -> codec::ToGraph {
    codec::to_graph(actions, Policy::Preserve, false, DEPTH).expect("valid")
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter) to every bench binary: nothing to filter here.
    let to_descriptor = reflect_message("graphbridge.v1.ToGraphRequest");
    let from_descriptor = reflect_message("graphbridge.v1.FromGraphResponse");
    println!(
        "{:<10} {:<10} {:<18} {:>8} {:>10} {:>12}",
        "direction", "payload", "bench", "allocs", "per action", "bytes/action"
    );
    for payload in payloads() {
        let Payload { to_graph_request, to_graph_bytes, graph_json, .. } = &payload;
        let proto_json = &from_graph_proto_json(&payload);
        row(
            "to_graph",
            &payload,
            "graphbridge",
            // What the service runs: the request read in place.
            count(|| translate::to_graph_encoded(&Limits::UNBOUNDED, to_graph_bytes).expect("valid")),
        );
        row(
            "to_graph",
            &payload,
            "graphbridge_decoded",
            count(|| {
                let request = ToGraphRequest::decode(to_graph_bytes.as_slice()).expect("valid request");
                let written = to_graph(&request.actions);
                ToGraphResponse { json: written.json, unknown_data: written.unknown_data }
            }),
        );
        row("to_graph", &payload, "graphbridge_codec", count(|| to_graph(&to_graph_request.actions)));
        row("to_graph", &payload, "serde_value", count(|| serde_value_roundtrip(graph_json)));
        row("to_graph", &payload, "prost_reflect", count(|| to_proto_json(&to_descriptor, to_graph_bytes)));

        let from_graph = || codec::from_graph(graph_json, Policy::Preserve, DEPTH).expect("valid");
        let request = FromGraphRequest { json: graph_json.clone(), ..Default::default() }.encode_to_vec();
        row(
            "from_graph",
            &payload,
            "graphbridge",
            // What the service runs: the response written as the JSON is read.
            count(|| translate::from_graph_encoded(&Limits::UNBOUNDED, &request).expect("valid")),
        );
        row(
            "from_graph",
            &payload,
            "graphbridge_decoded",
            count(|| {
                let read = from_graph();
                FromGraphResponse { actions: read.actions, unknown_data: read.unknown_data }.encode_to_vec()
            }),
        );
        row("from_graph", &payload, "graphbridge_codec", count(from_graph));
        row(
            "from_graph",
            &payload,
            "serde_value_parse",
            count(|| serde_json::from_str::<serde_json::Value>(graph_json).expect("valid")),
        );
        row("from_graph", &payload, "prost_reflect", count(|| from_proto_json(&from_descriptor, proto_json)));
    }
}
