"""A burn-in DaemonSet per pool with burn_in: it runs once on each new node, while the startup taint keeps
workloads off, and ends with the node labelled passed (taint lifted) or failed (cordoned, taint kept).

Init containers hold every GPU (and, on EFA pools, every EFA interface) of the node while they test it; each
leaves its exit code and output in a shared folder and exits 0, so the verdict always runs:
  dcgm         dcgmi diag -r <level> -j (DCGM starts its host engine embedded)
  all-reduce   nccl-tests all_reduce_perf over the node's GPUs (NVLink or PCIe), on multi-GPU nodes
  efa          the same with NCCL's peer-to-peer and shared-memory paths off, so every byte crosses EFA
The verdict (a Python standard-library program) labels, untaints or cordons the node and records an Event. The
DaemonSet selects only nodes without a verdict, so the label ends the pod and frees the GPUs.
"""

from __future__ import annotations

import inspect

from config.node_pools import NodePool
from core import burn_in
from core.burn_in import FAILED, PASSED, RESULT_LABEL, min_bus_bandwidth
from core.capacity import GpuCapacity
from core.isolation import pod_security_labels
from core.labels import EFA_RESOURCE, GPU_RESOURCE, GPU_TAINT, PART_OF, POOL_LABEL
from core.versions import IMAGES
from infra.cluster.rbac import account_with_cluster_role
from infra.gpu import burn_in_verdict, kube_api

NAMESPACE = "gpu-burn-in"
NAME = "gpu-burn-in"
RESULTS = "/results"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": PART_OF}
ALL_REDUCE = "/opt/nccl-tests/build/all_reduce_perf -b 256M -e 4G -f 2 -g {gpus}"


def _all_reduce(name: str, gpus: int, env: str = "") -> str:
    """Run all_reduce_perf, keep its output, exit code and average bus bandwidth; exit 0 so the verdict runs."""
    run = f"{env}{ALL_REDUCE.format(gpus=gpus)}"
    bandwidth = f"grep -o 'Avg bus bandwidth *: *[0-9.]*' {name}.log | awk '{{print $NF}}' > {name}.busbw"
    return f"cd {RESULTS}; {run} > {name}.log 2>&1; echo $? > {name}.rc; {bandwidth}; exit 0"


def check_containers(pool: NodePool, capacity: GpuCapacity) -> list[dict]:
    settings = pool.burn_in
    instance = capacity.instance
    gpus = instance.gpus if instance else 1
    limits = {GPU_RESOURCE: str(gpus)}
    if capacity.efa and instance:
        limits[EFA_RESOURCE] = str(instance.efa_interfaces)
    mounts = [{"name": "results", "mountPath": RESULTS}, {"name": "shm", "mountPath": "/dev/shm"}]
    root = {"runAsUser": 0, "runAsNonRoot": False, "allowPrivilegeEscalation": False}
    resources = {"requests": {**limits, "cpu": "2", "memory": "8Gi"}, "limits": {**limits, "memory": "16Gi"}}
    # -j prints the report on stdout, as JSON for the verdict.
    dcgm_command = f"cd {RESULTS}; dcgmi diag -r {settings.dcgm_level} -j > dcgm.json 2> dcgm.log; echo $? > dcgm.rc; exit 0"
    containers = [
        {
            "name": "dcgm",
            "image": IMAGES["dcgm"],
            "command": ["bash", "-c", dcgm_command],
            "resources": resources,
            "volumeMounts": mounts,
            # DCGM's diagnostics read GPU counters that need CAP_SYS_ADMIN (as its exporter does for profiling).
            "securityContext": {**root, "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}},
        }
    ]
    if settings.all_reduce and gpus > 1:
        containers.append(
            {"name": "all-reduce", "image": IMAGES["nccl-tests"], "command": ["bash", "-c", _all_reduce("nvlink", gpus)], "resources": resources, "volumeMounts": mounts, "securityContext": {**root, "capabilities": {"drop": ["ALL"]}}}
        )
        if capacity.efa:
            over_efa = "NCCL_P2P_DISABLE=1 NCCL_SHM_DISABLE=1 NCCL_NVLS_ENABLE=0 FI_PROVIDER=efa "
            containers.append(
                {"name": "efa", "image": IMAGES["nccl-tests"], "command": ["bash", "-c", _all_reduce("efa", gpus, over_efa)], "resources": resources, "volumeMounts": mounts, "securityContext": {**root, "capabilities": {"drop": ["ALL"]}}}
            )
    return containers


def daemon_set(pool: NodePool, capacity: GpuCapacity) -> dict:
    name = f"{NAME}-{pool.name}"
    settings = pool.burn_in
    minimum = min_bus_bandwidth(capacity.accelerator, settings.min_bus_bandwidth_gb_s) if settings.all_reduce else None
    tolerations = [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}]
    tolerations += [{"key": taint.key, "operator": "Exists"} for taint in (*capacity.startup_taints, *capacity.extra_taints)]
    selector = {"app.kubernetes.io/name": NAME, "llm-kit/pool": pool.name}
    pod = {
        "serviceAccountName": NAME,
        "priorityClassName": "system-node-critical",
        "tolerations": tolerations,
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": POOL_LABEL, "operator": "In", "values": [pool.name]},
                                # Once judged, the node leaves the DaemonSet and the pod (with its GPUs) goes.
                                {"key": RESULT_LABEL, "operator": "NotIn", "values": [PASSED, FAILED]},
                            ]
                        }
                    ]
                }
            }
        },
        "initContainers": check_containers(pool, capacity),
        "containers": [
            {
                "name": "verdict",
                "image": IMAGES["python"],
                "command": ["python", "/program/burn_in_verdict.py"],
                "env": [
                    {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "MIN_BUS_BANDWIDTH_NVLINK", "value": "" if minimum is None else str(minimum)},
                    {"name": "MIN_BUS_BANDWIDTH_EFA", "value": "" if settings.min_efa_bus_bandwidth_gb_s is None else str(settings.min_efa_bus_bandwidth_gb_s)},
                    {"name": "RESULTS", "value": RESULTS},
                    {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
                ],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                "volumeMounts": [{"name": "results", "mountPath": RESULTS, "readOnly": True}, {"name": "program", "mountPath": "/program", "readOnly": True}],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 65534,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": True,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
            }
        ],
        "volumes": [
            {"name": "results", "emptyDir": {}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
            {"name": "program", "configMap": {"name": NAME}},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {**LABELS, "llm-kit/pool": pool.name}},
        "spec": {"selector": {"matchLabels": selector}, "template": {"metadata": {"labels": {**LABELS, **selector}}, "spec": pod}},
    }


def burn_in_objects(pools: list[tuple[NodePool, GpuCapacity]]) -> list[dict]:
    chosen = [(pool, capacity) for pool, capacity in pools if pool.burn_in is not None]
    if not chosen:
        return []
    # Nodes are cluster-scoped and cannot be named ahead: the verdict may read and patch any node, nothing more.
    rules = [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    ]
    program = {
        "burn_in_verdict.py": inspect.getsource(burn_in_verdict),
        "burn_in.py": inspect.getsource(burn_in),
        "kube_api.py": inspect.getsource(kube_api),
    }
    return [
        # Privileged: the checks run as root with CAP_SYS_ADMIN on every GPU of the node, before any workload.
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": {**LABELS, **pod_security_labels("privileged")}}},
        *account_with_cluster_role(NAME, NAMESPACE, LABELS, rules),
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS}, "data": program},
        *(daemon_set(pool, capacity) for pool, capacity in chosen),
    ]
