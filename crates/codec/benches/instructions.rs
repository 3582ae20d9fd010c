//! Runs one of the service's translations a given number of times, for
//! `scripts/bench-instructions`, which counts the instructions it executes under valgrind: a
//! count that does not move with the machine's load, where criterion's times move by ±10 % on a
//! shared machine (BENCHMARKS.md §13).
//!
//! `instructions CALL ITERATIONS`; without arguments (as `cargo bench` runs it) it lists the calls.
//!
//! Two references, less than any translation of a call must do, on the same JSON:
//! - `instructions value/CALL ITERATIONS`: serde_json doing the call's JSON half alone, with no
//!   protobuf, no schema and no answer: reading the JSON into a `serde_json::Value` (FromGraph,
//!   RuleFromGraph), or writing the answer's JSON from one (ToGraph, RuleToGraph).
//! - `instructions syntax/CALL ITERATIONS` (FromGraph, RuleFromGraph): serde_json checking the
//!   JSON's syntax alone, into a borrowed `RawValue`: no allocation, nothing read out of it.

// The binary's allocator, so the counts include what the service's allocations cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{hint::black_box, process::ExitCode};

use graphbridge_codec::translate::{self, Limits};
use graphbridge_testkit::payloads::load_requests;
use prost::Message;

/// What the service runs for each method, on the payloads of the load benchmark.
const CALLS: &[&str] = &["ToGraph", "FromGraph", "RuleToGraph", "RuleFromGraph"];

/// The references, by the prefix that names them before a call.
const REFERENCES: &[&str] = &["value", "syntax"];

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

/// serde_json doing part of a call's work on the same JSON (see the module's doc).
enum Reference {
    /// Reading the JSON into a `serde_json::Value`.
    Read(String),
    /// Checking the JSON's syntax alone.
    Check(String),
    /// Writing the answer's JSON from a `serde_json::Value`.
    Write(serde_json::Value),
}

impl Reference {
    /// Reference `name` of `call`; None where it has none (a syntax check of a written answer).
    fn new(name: &str, call: &str) -> Option<Self> {
        let requests = load_requests();
        let limits = &Limits::UNBOUNDED;
        let read = |json| if name == "value" { Self::Read(json) } else { Self::Check(json) };
        let written = |json: String| Self::Write(serde_json::from_str(&json).expect("valid JSON"));
        Some(match call {
            "FromGraph" => read(requests.from_graph.json),
            "RuleFromGraph" => read(requests.rule_from_graph.json),
            _ if name != "value" => return None,
            "ToGraph" => written(translate::to_graph(limits, &requests.to_graph).expect("valid").json),
            _ => written(translate::rule_to_graph(limits, &requests.rule_to_graph).expect("valid").json),
        })
    }

    fn run(&self) {
        match self {
            Self::Read(json) => {
                drop(black_box(serde_json::from_str::<serde_json::Value>(black_box(json)).expect("valid JSON")))
            }
            Self::Check(json) => {
                black_box(serde_json::from_str::<&serde_json::value::RawValue>(black_box(json)).expect("valid JSON"));
            }
            Self::Write(value) => drop(black_box(serde_json::to_string(black_box(value)).expect("writable"))),
        }
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
        let (calls, references) = (CALLS.join(", "), REFERENCES.join(", "));
        println!(
            "instructions [REFERENCE/]CALL ITERATIONS (scripts/bench-instructions); CALL: {calls}; REFERENCE: {references}"
        );
        return ExitCode::SUCCESS;
    };
    let (reference, name) = match call.split_once('/') {
        Some((reference, name)) => (Some(reference), name),
        None => (None, call.as_str()),
    };
    let known = CALLS.contains(&name) && reference.is_none_or(|r| REFERENCES.contains(&r));
    let (true, Ok(iterations)) = (known, iterations.parse::<u32>()) else {
        eprintln!("unknown call {call:?} or bad count {iterations:?}; CALL: {}", CALLS.join(", "));
        return ExitCode::FAILURE;
    };
    if let Some(reference) = reference {
        let Some(reference) = Reference::new(reference, name) else {
            eprintln!("{call}: no such reference (a syntax check is of the JSON a call reads)");
            return ExitCode::FAILURE;
        };
        for _ in 0..iterations {
            reference.run();
        }
    } else {
        let request = request(name);
        for _ in 0..iterations {
            run(name, &request);
        }
    }
    ExitCode::SUCCESS
}
