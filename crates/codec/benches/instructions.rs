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

use graphbridge_codec::{
    Policy,
    pb::{FromGraphRequest, RuleFromGraphRequest, RuleToGraphRequest},
    translate::{self, Limits},
};
use graphbridge_testkit::{DEPTH, fixtures::rule_fixture, payloads::payloads};
use prost::Message;

/// What the service runs for each method, on the payloads of the load benchmark.
const CALLS: &[&str] = &["ToGraph", "FromGraph", "RuleToGraph", "RuleFromGraph"];

/// The request bytes of `call`: 16 actions, or a whole rule as Graph returns it.
fn request(call: &str) -> Vec<u8> {
    let seed16 = payloads().into_iter().find(|p| p.name == "seed16").expect("the seed16 payload");
    let rule_json = serde_json::to_string(
        &serde_json::from_str::<serde_json::Value>(&rule_fixture("new-get")).expect("valid JSON"),
    )
    .expect("compact");
    match call {
        "ToGraph" => seed16.to_graph_bytes,
        "FromGraph" => FromGraphRequest { json: seed16.graph_json, ..Default::default() }.encode_to_vec(),
        "RuleToGraph" => {
            let read = graphbridge_codec::rules_from_graph(&rule_json, Policy::Preserve, DEPTH).expect("a rule");
            RuleToGraphRequest { rule: read.rules.into_iter().next(), ..Default::default() }.encode_to_vec()
        }
        _ => RuleFromGraphRequest { json: rule_json, ..Default::default() }.encode_to_vec(),
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
