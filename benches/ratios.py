#!/usr/bin/env python3
"""Ratios of the last `cargo bench --bench codec` and `--bench gateway` runs, from criterion's
saved estimates.

    python3 benches/ratios.py [target/criterion]

Times are criterion's median estimates. A ratio above 1 means graphbridge is faster:
`x serde` = the baseline's time / graphbridge's time for the same payload.
- to_graph: graphbridge (protobuf bytes -> Graph JSON) against serde_value (the same Graph JSON
  through a serde_json::Value and back) and prost_reflect (bytes -> DynamicMessage -> proto3 JSON).
- from_graph: graphbridge_codec (Graph JSON -> protobuf message) against serde_value_parse (the
  same bytes into a serde_json::Value), and graphbridge (Graph JSON -> protobuf bytes) against
  prost_reflect (proto3 JSON -> DynamicMessage -> bytes).
- gateway: graphbridge (the RPC through the gateway to the Graph emulator) against plain_http (the
  same GET of the emulator by a plain HTTP client): `x plain` = graphbridge's time / plain_http's,
  so here above 1 is the gateway's cost; `+ µs` = the difference.
"""

import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
runs = {}
for bench in root.glob("*/*/new/benchmark.json"):
    meta = json.loads(bench.read_text())
    estimates = json.loads((bench.parent / "estimates.json").read_text())
    group = runs.setdefault(meta["group_id"], {"bytes": (meta["throughput"] or {}).get("Bytes")})
    group[meta["function_id"]] = estimates["median"]["point_estimate"]


def fmt(ns):
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


def mib_s(group, name):
    return group["bytes"] / group[name] * 1e9 / 2**20


PAYLOADS = ["one", "seed16", "batch1000", "unknown16", "rule-old-get", "rule-new-get"]
print("| ToGraph | Graph JSON | graphbridge | (codec alone) | serde_value | prost_reflect | x serde_value | x prost_reflect |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
for payload in PAYLOADS:
    g = runs.get(f"to_graph/{payload}")
    if g:
        print(f"| {payload} | {g['bytes']} B | {fmt(g['graphbridge'])} ({mib_s(g, 'graphbridge'):.0f} MiB/s)"
              f" | {fmt(g['graphbridge_codec'])} | {fmt(g['serde_value'])} | {fmt(g['prost_reflect'])}"
              f" | {g['serde_value'] / g['graphbridge']:.2f} | {g['prost_reflect'] / g['graphbridge']:.2f} |")
print()
print("| FromGraph | Graph JSON | graphbridge_codec | graphbridge (+ encode) | serde_value_parse | serde_value"
      " | prost_reflect | codec x serde_value_parse | x prost_reflect |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
for payload in PAYLOADS:
    g = runs.get(f"from_graph/{payload}")
    if g:
        print(f"| {payload} | {g['bytes']} B | {fmt(g['graphbridge_codec'])} ({mib_s(g, 'graphbridge_codec'):.0f} MiB/s)"
              f" | {fmt(g['graphbridge'])} | {fmt(g['serde_value_parse'])} | {fmt(g['serde_value'])}"
              f" | {fmt(g['prost_reflect'])} | {g['serde_value_parse'] / g['graphbridge_codec']:.2f}"
              f" | {g['prost_reflect'] / g['graphbridge']:.2f} |")

GATEWAY = [("get", "GetDetectionRule (one rule)"), ("list", "ListDetectionRules (a page of 10)")]
if any(f"gateway/{call}" in runs for call, _ in GATEWAY):
    print()
    print("| call | plain_http | graphbridge | x plain | + µs | codec_alone | grpc_health |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    for call, title in GATEWAY:
        g = runs.get(f"gateway/{call}")
        if g:
            plain, gateway = g["plain_http"], g["graphbridge"]
            health = fmt(g["grpc_health"]) if "grpc_health" in g else ""
            print(f"| {title} | {fmt(plain)} | {fmt(gateway)} | {gateway / plain:.2f} | {(gateway - plain) / 1000:.1f}"
                  f" | {fmt(g['codec_alone'])} | {health} |")
