"""Helper of scripts/deploy-check: reads manifests rendered by `kubectl kustomize`.

  check FILE...             the graphbridge invariants that no schema or policy scanner knows
                            (for a gateway, one that calls Graph: also its identity, key, mTLS, egress)
  podman-args FILE [N=V...] the graphbridge container's env and limits as `podman run` arguments
                            (one per line), with N=V replacing or adding environment variables

Needs PyYAML (yamllint brings it into the deploy venv).
"""

import math
import os
import re
import sys

import yaml

ADMIN_PORT = 9464
# What the gateway reaches: Graph and Entra ID over HTTPS, and DNS to find them.
GATEWAY_EGRESS = {("TCP", 443), ("UDP", 53), ("TCP", 53)}
WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"


def duration_seconds(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    number, unit = float(match[1]), match[2] or "s"
    return number * {"ms": 0.001, "s": 1, "m": 60}[unit]


def load(path):
    with open(path, encoding="utf-8") as file:
        return [doc for doc in yaml.safe_load_all(file) if doc]


def graphbridge_pods(docs):
    """Yields (resource, pod template, container, is_native_sidecar) for each graphbridge container."""
    for doc in docs:
        if doc.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
            continue
        template = doc["spec"]["template"]
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        for key in ("initContainers", "containers"):
            for container in template["spec"].get(key) or []:
                if container["name"] == "graphbridge":
                    yield name, template, container, key == "initContainers"


def env_of(container):
    return {e["name"]: e for e in container.get("env") or []}


def secret_mount(pod, container, path):
    """The read-only Secret volume mount holding the file at path, or why there is none."""
    mounts = [m for m in container.get("volumeMounts") or [] if path.startswith(m["mountPath"].rstrip("/") + "/")]
    if not mounts:
        return f"{path} is on no volume"
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    volume = next((v for v in pod.get("volumes") or [] if v["name"] == mount["name"]), {})
    if "secret" not in volume:
        return f"{path} is not on a Secret volume"
    if mount.get("readOnly") is not True:
        return f"{path}: the volume {mount['name']} must be mounted readOnly"
    return None


def egress_ports(policy):
    """The (protocol, port) pairs a NetworkPolicy lets out, or None when a rule allows any port."""
    allowed = set()
    for rule in policy["spec"].get("egress") or []:
        if not rule.get("ports"):
            return None
        allowed |= {(p.get("protocol", "TCP"), p.get("port")) for p in rule["ports"]}
    return allowed


def ports_text(ports):
    return ", ".join(f"{protocol}/{port}" for protocol, port in sorted(ports, key=lambda p: (p[1], p[0])))


def selects(policy, labels):
    selector = policy["spec"].get("podSelector") or {}
    return (selector.get("matchLabels") or {}).items() <= labels.items() and not selector.get("matchExpressions")


def check_gateway(where, docs, template, container, env):
    """A graphbridge that calls Graph: its workload identity, page-token key, mTLS and egress."""
    problems, pod = [], template["spec"]
    labels = template["metadata"].get("labels") or {}
    if labels.get(WORKLOAD_IDENTITY_LABEL) != "true":
        problems.append(f"{where}: the pod needs the label {WORKLOAD_IDENTITY_LABEL}: \"true\" (Workload Identity)")
    account = pod.get("serviceAccountName", "default")
    accounts = [d for d in docs if d["kind"] == "ServiceAccount" and d["metadata"]["name"] == account]
    annotations = (accounts[0]["metadata"].get("annotations") or {}) if accounts else {}
    if not annotations.get("azure.workload.identity/client-id"):
        problems.append(f"{where}: needs a ServiceAccount of its own annotated azure.workload.identity/client-id")
    if not annotations.get("azure.workload.identity/tenant-id") and "GRAPHBRIDGE_GRAPH_TENANT_ID" not in env:
        problems.append(f"{where}: no tenant (azure.workload.identity/tenant-id or GRAPHBRIDGE_GRAPH_TENANT_ID)")
    files = {
        "GRAPHBRIDGE_PAGE_TOKEN_KEY_FILE": "one key for all replicas, so that any accepts a page token",
        "GRAPHBRIDGE_TLS_CERT": "TLS on the API port",
        "GRAPHBRIDGE_TLS_KEY": "TLS on the API port",
        "GRAPHBRIDGE_TLS_CLIENT_CA": "mutual TLS: only known clients may write detection rules",
    }
    for variable, reason in files.items():
        if variable not in env:
            problems.append(f"{where}: {variable} is required ({reason})")
        elif problem := secret_mount(pod, container, env[variable].get("value", "")):
            problems.append(f"{where}: {variable}: {problem}")
    policies = [d for d in docs if d["kind"] == "NetworkPolicy" and "Egress" in d["spec"].get("policyTypes", [])]
    policies = [policy for policy in policies if selects(policy, labels)]
    if not policies:
        problems.append(f"{where}: no NetworkPolicy limits its egress")
    for policy in policies:
        allowed = egress_ports(policy)
        if allowed != GATEWAY_EGRESS:
            shown = "any port" if allowed is None else ports_text(allowed)
            problems.append(f"{where}: NetworkPolicy/{policy['metadata']['name']} must let out exactly "
                            f"{ports_text(GATEWAY_EGRESS)}, lets out {shown}")
    return problems


def check(paths):
    problems, seen = [], 0
    for path in paths:
        docs = load(path)
        for name, template, container, sidecar in graphbridge_pods(docs):
            seen += 1
            pod = template["spec"]
            where = f"{path}: {name}"
            env = env_of(container)
            value = lambda key, default: env[key]["value"] if key in env else default  # noqa: E731
            listen = value("GRAPHBRIDGE_LISTEN", "127.0.0.1:50051")
            admin = value("GRAPHBRIDGE_ADMIN_LISTEN", "0.0.0.0:9464")
            if admin != f"0.0.0.0:{ADMIN_PORT}":
                problems.append(f"{where}: the admin port must be 0.0.0.0:{ADMIN_PORT} for the probes, is {admin}")
            if sidecar:
                if container.get("restartPolicy") != "Always":
                    problems.append(f"{where}: a native sidecar needs restartPolicy: Always")
                if not listen.startswith("127.0.0.1:"):
                    problems.append(f"{where}: a sidecar's API must stay on loopback, is {listen}")
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                port = ((container.get(probe) or {}).get("grpc") or {}).get("port")
                if port != ADMIN_PORT:
                    problems.append(f"{where}: {probe} must be a grpc probe of port {ADMIN_PORT}, is {port}")
            budget = duration_seconds(value("GRAPHBRIDGE_PRESTOP_DELAY", "0s")) + duration_seconds(
                value("GRAPHBRIDGE_DRAIN_TIMEOUT", "10s")
            )
            grace = pod.get("terminationGracePeriodSeconds", 30)
            if grace <= budget:
                problems.append(f"{where}: terminationGracePeriodSeconds {grace} <= prestop + drain = {budget}s")
            limits = (container.get("resources") or {}).get("limits") or {}
            if "cpu" not in limits or "memory" not in limits:
                problems.append(f"{where}: needs cpu and memory limits (the workers follow the cpu limit)")
            workers = (env.get("GRAPHBRIDGE_WORKER_THREADS") or {}).get("valueFrom", {}).get("resourceFieldRef")
            if not workers or workers.get("resource") != "limits.cpu":
                problems.append(f"{where}: GRAPHBRIDGE_WORKER_THREADS must come from limits.cpu")
            security = container.get("securityContext") or {}
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: needs readOnlyRootFilesystem: true")
            if WORKLOAD_IDENTITY_LABEL in (template["metadata"].get("labels") or {}) or any(
                key.startswith(("GRAPHBRIDGE_GRAPH_", "GRAPHBRIDGE_PAGE_TOKEN_")) for key in env
            ):
                problems += check_gateway(where, docs, template, container, env)
    if not seen:
        problems.append(f"no graphbridge container in {' '.join(paths)}")
    for problem in problems:
        print(f"deploy-manifests: {problem}", file=sys.stderr)
    print(f"deploy-manifests: {seen} graphbridge containers checked, {len(problems)} problems")
    return 1 if problems else 0


def cpu_cores(quantity):
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def podman_memory(quantity):
    units = {"Ki": "k", "Mi": "m", "Gi": "g"}
    for suffix, unit in units.items():
        if quantity.endswith(suffix):
            return quantity[: -len(suffix)] + unit
    return quantity  # plain bytes


def podman_args(path, overrides):
    [(_, _, container, _)] = list(graphbridge_pods(load(path)))
    limits = container["resources"]["limits"]
    cpus = min(cpu_cores(limits["cpu"]), os.cpu_count() or 1)  # podman refuses more than the host has
    args = [f"--memory={podman_memory(limits['memory'])}", f"--cpus={cpus}"]
    env = {}
    for name, entry in env_of(container).items():
        if "value" in entry:
            env[name] = entry["value"]
        elif entry.get("valueFrom", {}).get("resourceFieldRef", {}).get("resource") == "limits.cpu":
            env[name] = str(math.ceil(cpu_cores(limits["cpu"])))  # divisor 1 rounds up
        else:
            raise SystemExit(f"deploy-manifests: cannot emulate env {name}: {entry}")
    env.update(override.split("=", 1) for override in overrides)
    args += [f"--env={name}={value}" for name, value in env.items()]
    print("\n".join(args))
    return 0


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "check":
        sys.exit(check(rest))
    if command == "podman-args":
        sys.exit(podman_args(rest[0], rest[1:]))
    raise SystemExit(__doc__)
