"""A Python caller of graphbridge.v1.Translator, from stubs generated with the real protoc
(grpcio-tools) from proto/, with googleapis-common-protos installed as a Python service would have
it. Run by tests/python_client.rs:

    python translator_client.py HOST:PORT FIXTURES_DIR

with the generated stubs (proto/graphbridge/v1/*.proto only: google.rpc.Status comes from
googleapis-common-protos) on PYTHONPATH. Prints one line per check and exits non-zero on failure.
"""

import json
import sys

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from graphbridge.v1 import (
    detection_rule_pb2,
    graph_pb2,
    response_action_pb2,
    translator_pb2,
    translator_pb2_grpc,
)

ISOLATE_GRAPH = [
    {
        "@odata.type": "#microsoft.graph.security.isolateDeviceResponseAction",
        "identifier": "deviceId",
        "isolationType": "full",
    }
]


def isolate_full():
    return response_action_pb2.ResponseAction(
        isolate_device=response_action_pb2.IsolateDeviceResponseAction(
            identifier=[response_action_pb2.DEVICE_ID_ENTITY_IDENTIFIER_DEVICE_ID],
            isolation_type=response_action_pb2.ISOLATION_TYPE_FULL,
        )
    )


def bad_request(status):
    """The google.rpc.BadRequest detail of a google.rpc.Status, as (field, description) pairs."""
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            found = error_details_pb2.BadRequest()
            detail.Unpack(found)
            return [(v.field, v.description) for v in found.field_violations]
    raise AssertionError(f"no BadRequest detail in {status}")


def check_custom_options():
    options = response_action_pb2.IsolateDeviceResponseAction.DESCRIPTOR.GetOptions()
    assert options.Extensions[graph_pb2.graph_type] == "isolateDeviceResponseAction", options
    field = response_action_pb2.IsolateDeviceResponseAction.DESCRIPTOR.fields_by_name["isolation_type"]
    assert field.GetOptions().Extensions[graph_pb2.graph_property] == "isolationType"
    # The Status of TranslateStream is googleapis' own: one google.rpc.Status in the pool.
    assert translator_pb2.TranslateStreamResponse.DESCRIPTOR.fields_by_name["error"].message_type is (
        status_pb2.Status.DESCRIPTOR
    )


def check_to_graph(stub):
    answer = stub.ToGraph(translator_pb2.ToGraphRequest(actions=[isolate_full()]))
    assert json.loads(answer.json) == ISOLATE_GRAPH, answer.json


def check_to_graph_error(stub):
    sentinel = response_action_pb2.ResponseAction(
        isolate_device=response_action_pb2.IsolateDeviceResponseAction(
            identifier=[response_action_pb2.DEVICE_ID_ENTITY_IDENTIFIER_UNKNOWN_FUTURE_VALUE],
        )
    )
    try:
        stub.ToGraph(translator_pb2.ToGraphRequest(actions=[sentinel]))
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
        fields = [field for field, _ in bad_request(rpc_status.from_call(error))]
        assert fields == [
            "actions[0].isolate_device.identifier[0]",
            "actions[0].isolate_device.isolation_type",
        ], fields
        return
    raise AssertionError("ToGraph accepted unknownFutureValue")


def check_from_graph(stub):
    answer = stub.FromGraph(translator_pb2.FromGraphRequest(json=json.dumps(ISOLATE_GRAPH)))
    assert list(answer.actions) == [isolate_full()], answer
    assert not answer.unknown_data, answer.unknown_data


def check_translate_stream(stub):
    items = [
        translator_pb2.TranslateStreamRequest(
            id="good", from_graph=translator_pb2.FromGraphRequest(json=json.dumps(ISOLATE_GRAPH))
        ),
        translator_pb2.TranslateStreamRequest(id="bad", from_graph=translator_pb2.FromGraphRequest(json="[oops")),
        translator_pb2.TranslateStreamRequest(id="rule", rule_from_graph=translator_pb2.RuleFromGraphRequest(json="{}")),
    ]
    answers = list(stub.TranslateStream(iter(items)))
    assert [a.id for a in answers] == ["good", "bad", "rule"], answers
    assert answers[0].WhichOneof("result") == "from_graph", answers[0]
    assert answers[1].WhichOneof("result") == "error", answers[1]
    assert answers[1].error.code == code_pb2.INVALID_ARGUMENT, answers[1]
    assert bad_request(answers[1].error)[0][0] == "json/0", answers[1]
    assert answers[2].WhichOneof("result") == "rule_from_graph", answers[2]


def check_rule_to_graph(stub):
    rule = detection_rule_pb2.DetectionRule(
        display_name="Encoded PowerShell",
        status=detection_rule_pb2.DETECTION_RULE_STATUS_ENABLED,
    )
    rule.schedule.frequency.FromSeconds(3600)
    answer = stub.RuleToGraph(translator_pb2.RuleToGraphRequest(rule=rule))
    assert json.loads(answer.json) == {
        "displayName": "Encoded PowerShell",
        "status": "enabled",
        "schedule": {"frequency": "PT1H"},
    }, answer.json
    patch = translator_pb2.RuleToGraphRequest(rule=rule)
    patch.update_mask.paths.extend(["status", "description"])
    answer = stub.RuleToGraph(patch)
    assert json.loads(answer.json) == {"status": "enabled", "description": None}, answer.json


def check_rule_from_graph(stub, fixtures):
    with open(f"{fixtures}/new-get.json", encoding="utf-8") as fixture:
        answer = stub.RuleFromGraph(translator_pb2.RuleFromGraphRequest(json=fixture.read()))
    assert len(answer.rules) == 1 and answer.rules[0].display_name, answer
    assert not answer.collection
    assert "display_name" in answer.update_mask.paths, answer.update_mask


def check_migrate_rule(stub, fixtures):
    with open(f"{fixtures}/old-get.json", encoding="utf-8") as fixture:
        answer = stub.MigrateRule(translator_pb2.MigrateRuleRequest(json=fixture.read()))
    with open(f"{fixtures}/old-get.migrated.json", encoding="utf-8") as golden:
        assert json.loads(answer.json) == json.load(golden), answer.json
    assert answer.not_migrated, "old-get has members without an exact equivalent"


def main():
    target, fixtures = sys.argv[1], sys.argv[2]
    checks = [
        ("custom options and imports", lambda stub: check_custom_options()),
        ("ToGraph", check_to_graph),
        ("ToGraph error with BadRequest", check_to_graph_error),
        ("FromGraph", check_from_graph),
        ("TranslateStream", check_translate_stream),
        ("RuleToGraph", check_rule_to_graph),
        ("RuleFromGraph", lambda stub: check_rule_from_graph(stub, fixtures)),
        ("MigrateRule", lambda stub: check_migrate_rule(stub, fixtures)),
    ]
    failed = 0
    with grpc.insecure_channel(target) as channel:
        stub = translator_pb2_grpc.TranslatorStub(channel)
        for name, check in checks:
            try:
                check(stub)
                print(f"ok: {name}")
            except Exception as error:  # report every check, then fail
                failed += 1
                print(f"FAILED: {name}: {error!r}")
    print(f"python client: {len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
