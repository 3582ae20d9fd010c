#!/usr/bin/env python3
"""Writes a big Graph JSON batch to stdout for timing `graphbridge convert from-graph` (BENCHMARKS.md):

    python3 benches/big_graph_json.py [ACTIONS] > /tmp/big.json    # default 1000 actions, ~3 MB

Each action is of one of the 16 seed types with the properties Graph may add later (nested
objects, arrays, 30-digit numbers, escapes, non-ASCII text): about 3 KB of mostly unknown data,
the worst case for the allocator (every unknown property is kept raw and reported).
"""

import json
import sys

TYPES = {
    "stopAndQuarantineFile": "deviceId,sha1",
    "disableUser": "accountSid",
    "forceUserPasswordReset": "accountSid",
    "markUserAsCompromised": "accountObjectId",
    "collectInvestigationPackage": "deviceId",
    "initiateInvestigation": "deviceId",
    "isolateDevice": "deviceId",
    "restrictAppExecution": "deviceId",
    "runAntivirusScan": "deviceId",
    "allowFile": "sha256",
    "blockFile": "sha1,initiatingProcessSHA256",
    "hardDelete": "networkMessageId,recipientEmailAddress",
    "softDelete": "networkMessageId,recipientEmailAddress",
    "moveToInbox": "networkMessageId,recipientEmailAddress",
    "moveToDeletedItems": "networkMessageId,recipientEmailAddress",
    "moveToJunk": "networkMessageId,recipientEmailAddress",
}


def action(i):
    name, identifier = list(TYPES.items())[i % len(TYPES)]
    a = {"@odata.type": f"#microsoft.graph.security.{name}ResponseAction", "identifier": identifier}
    if name == "isolateDevice":
        a["isolationType"] = "full"
    a["retentionDays"] = 123456789012345678901234567890 + i
    a["comment"] = f'Blocked by rule "Ransomware – stage {i}"\nOwner: SOC\\Tier2 é中'
    a["enforcement"] = {
        "mode": "audit",
        "since": "2026-11-29T10:11:12.1234567Z",
        "scope": {"tenants": [f"a6d4e3b1-0f1c-4b6a-9d2e-{i:012d}"] * 4, "weights": [1, 2.5, -3e8, None, True]},
    }
    a["tags"] = [{"key": f"tag{k}", "value": f"value {k} of action {i}"} for k in range(50)]
    return a


count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
json.dump([action(i) for i in range(count)], sys.stdout, ensure_ascii=False, separators=(",", ":"))
