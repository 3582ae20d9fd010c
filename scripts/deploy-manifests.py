"""Helper of scripts/deploy-check: reads manifests rendered by `kubectl kustomize`.

  check FILE...             the graphbridge invariants that no schema or policy scanner knows
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


def duration_seconds(text):
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)?", text)
    if not match:
        raise ValueError(f"not a duration: {text!r}")
    number, unit = float(match[1]), match[2] or "s"
    return number * {"ms": 0.001, "s": 1, "m": 60}[unit]


def graphbridge_pods(path):
    """Yields (resource, pod spec, container, is_native_sidecar) for each graphbridge container."""
    with open(path, encoding="utf-8") as file:
        for doc in yaml.safe_load_all(file):
            if not doc or doc.get("kind") not in ("Deployment", "StatefulSet", "DaemonSet"):
                continue
            pod = doc["spec"]["template"]["spec"]
            name = f"{doc['kind']}/{doc['metadata']['name']}"
            for key in ("initContainers", "containers"):
                for container in pod.get(key) or []:
                    if container["name"] == "graphbridge":
                        yield name, pod, container, key == "initContainers"


def env_of(container):
    return {e["name"]: e for e in container.get("env") or []}


def check(paths):
    problems, seen = [], 0
    for path in paths:
        for name, pod, container, sidecar in graphbridge_pods(path):
            seen += 1
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
    [(_, _, container, _)] = list(graphbridge_pods(path))
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
