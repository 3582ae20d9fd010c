//! Runs one of the service's translations a given number of times, for
//! `scripts/bench-instructions`, which counts the instructions it executes under valgrind: a
//! count that does not move with the machine's load, where criterion's times move by ±10 % on a
//! shared machine (BENCHMARKS.md §13).
//!
//! `instructions CALL ITERATIONS`; without arguments (as `cargo bench` runs it) it lists the calls.

// The binary's allocator, so the counts include what the service's allocations cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{hint::black_box, process::ExitCode};

use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::payloads::load_requests;
use prost::Message;

/// What the service runs for each method, on the payloads of the load benchmark.
const CALLS: &[&str] = &["ToGraph", "FromGraph", "RuleToGraph", "RuleFromGraph"];

/// The request bytes of `call`, as bench-load sends them.
fn request(call: &str) -> Vec<u8> {
    let requests = load_requests();
    match call {
        "ToGraph" => requests.to_graph.encode_to_vec(),
        "FromGraph" => requests.from_graph.encode_to_vec(),
        "RuleToGraph" => requests.rule_to_graph.encode_to_vec(),
        _ => requests.rule_from_graph.encode_to_vec(),
    }
}

fn run(call: &str, request: &[u8]) {
    let limits = &Limits::UNBOUNDED;
    match call {
        "ToGraph" => drop(black_box(translate::to_graph_encoded(limits, black_box(request)).expect("valid"))),
        "FromGraph" => drop(black_box(translate::from_graph_encoded(limits, black_box(request)).expect("valid"))),
        "RuleToGraph" => drop(black_box(translate::rule_to_graph_encoded(limits, black_box(request)).expect("valid"))),
        _ => drop(black_box(translate::rule_from_graph_encoded(limits, black_box(request)).expect("valid"))),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [call, iterations] = args.as_slice() else {
        println!("instructions CALL ITERATIONS (scripts/bench-instructions); CALL: {}", CALLS.join(", "));
        return ExitCode::SUCCESS;
    };
    let (Some(call), Ok(iterations)) = (CALLS.iter().find(|c| *c == call), iterations.parse::<u32>()) else {
        eprintln!("unknown call {call:?} or bad count {iterations:?}; CALL: {}", CALLS.join(", "));
        return ExitCode::FAILURE;
    };
    let request = request(call);
    for _ in 0..iterations {
        run(call, &request);
    }
    ExitCode::SUCCESS
}
