"""verify_cluster checks of the running cluster: nodes, GPU and EFA resources, Karpenter, device plugins, NodePools."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from kubernetes.client.exceptions import ApiException
from kubernetes.utils import parse_quantity

from core.burn_in import FAILED as BURN_IN_FAILED
from core.burn_in import RESULT_LABEL as BURN_IN_LABEL
from core.burn_in import TAINT_KEY as BURN_IN_TAINT_KEY
from core.instances import INSTANCE_TYPES
from core.labels import AMI_FAMILY_LABEL, EFA_LABEL, EFA_RESOURCE, GPU_RESOURCE, INSTANCE_TYPE_LABEL, POOL_LABEL
from core.naming import SYSTEM_POOL
from scripts._checks import Check, fail, ok, skip, warn
from scripts._cluster import Cluster

GPU = GPU_RESOURCE
EFA = EFA_RESOURCE
KARPENTER = ("kube-system", "karpenter")
DEVICE_PLUGINS = (
    ("nvidia-device-plugin", "AL2023 GPU pools", "al2023"),
    ("aws-efa-k8s-device-plugin", "EFA pools", "efa"),
)


def _labels(obj: Any) -> dict[str, str]:
    return (obj.metadata.labels if obj.metadata else None) or {}


def _count(resources: dict[str, str] | None, name: str) -> int:
    return int(parse_quantity((resources or {}).get(name, "0")))


def nodes_ready(cluster: Cluster) -> list[Check]:
    nodes = cluster.nodes()
    if not nodes:
        return [
            fail(
                "nodes",
                "the cluster has no nodes",
                "check the system node group: aws eks describe-nodegroup --cluster-name NAME --nodegroup-name system",
            )
        ]
    not_ready = []
    for node in nodes:
        conditions = (node.status.conditions if node.status else None) or []
        ready = next((c for c in conditions if c.type == "Ready"), None)
        if ready is None or ready.status != "True":
            why = f"{ready.reason or ready.status}: {ready.message}" if ready else "no Ready condition yet"
            pressure = [c.type for c in conditions if c.type != "Ready" and c.status == "True"]
            not_ready.append(f"{node.metadata.name} ({why}{'; ' + ', '.join(pressure) if pressure else ''})")
    rows = []
    if not_ready:
        rows.append(
            fail(
                "nodes",
                f"{len(not_ready)} of {len(nodes)} nodes not Ready: {'; '.join(not_ready)}",
                "kubectl describe node NAME; a node NotReady for minutes usually means kubelet, CNI or the EC2 instance itself",
            )
        )
    else:
        rows.append(ok("nodes", f"{len(nodes)} nodes Ready"))
    cordoned = [node.metadata.name for node in nodes if node.spec and node.spec.unschedulable]
    if cordoned:
        rows.append(warn("nodes", f"cordoned (no new pods): {', '.join(cordoned)}", "kubectl uncordon NAME once its maintenance is done"))
    return rows


BURN_IN_STUCK_MINUTES = 30
"""A node whose burn-in has not ended after this long is stuck (the checks take minutes)."""


def burn_in(cluster: Cluster, now: datetime | None = None) -> list[Check]:
    """Nodes the burn-in failed (cordoned, kept tainted) and nodes whose burn-in has not ended."""
    now = now or datetime.now(UTC)
    failed, pending, stuck = [], [], []
    for node in cluster.nodes():
        name = node.metadata.name
        if _labels(node).get(BURN_IN_LABEL) == BURN_IN_FAILED:
            failed.append(name)
        elif any(taint.key == BURN_IN_TAINT_KEY for taint in (node.spec.taints if node.spec else None) or []):
            created = node.metadata.creation_timestamp
            old = created is not None and (now - created).total_seconds() > BURN_IN_STUCK_MINUTES * 60
            (stuck if old else pending).append(name)
    rows = []
    if failed:
        rows.append(
            fail(
                "burn-in",
                f"failed on {', '.join(failed)}: cordoned, no workload runs there",
                "read why: kubectl get events -A --field-selector reason=GpuBurnInFailed; "
                "then replace the node: kubectl delete nodeclaim CLAIM "
                "(the NodeClaim whose NODE is the node: kubectl get nodeclaims)",
            )
        )
    if stuck:
        rows.append(
            fail(
                "burn-in",
                f"not finished after {BURN_IN_STUCK_MINUTES} minutes on {', '.join(stuck)}",
                "kubectl -n gpu-burn-in get pods -o wide; kubectl -n gpu-burn-in logs POD --all-containers",
            )
        )
    if pending:
        rows.append(
            warn(
                "burn-in", f"running on {', '.join(pending)} (workloads wait for it)", "nothing to do: the node is released when it passes"
            )
        )
    return rows


def gpu_pools(cluster: Cluster) -> list[Check]:
    by_pool: dict[str, list[Any]] = defaultdict(list)
    for node in cluster.nodes():
        pool = _labels(node).get(POOL_LABEL)
        if pool and pool != SYSTEM_POOL:
            by_pool[pool].append(node)
    idle = [item["name"] for item in cluster.known_nodepools() if item["name"] not in by_pool]
    rows = [skip(f"pool[{name}]", "no nodes running; Karpenter launches them when pods ask for GPUs") for name in idle]
    for pool, nodes in sorted(by_pool.items()):
        gpu_problems, efa_problems, unknown = [], [], []
        for node in nodes:
            labels, allocatable = _labels(node), (node.status.allocatable if node.status else None)
            itype = labels.get(INSTANCE_TYPE_LABEL, "?")
            facts = INSTANCE_TYPES.get(itype)
            if facts is None:
                unknown.append(f"{node.metadata.name} ({itype})")
                continue
            gpus = _count(allocatable, GPU)
            if gpus != facts.gpus:
                gpu_problems.append(f"{node.metadata.name} ({itype}) advertises {gpus} of {facts.gpus} GPUs")
            if labels.get(EFA_LABEL) == "true":
                efa = _count(allocatable, EFA)
                if efa != facts.efa_interfaces:
                    efa_problems.append(f"{node.metadata.name} ({itype}) advertises {efa} of {facts.efa_interfaces} EFA devices")
        name = f"pool[{pool}]"
        if gpu_problems:
            rows.append(
                fail(
                    name,
                    "; ".join(gpu_problems),
                    "check the NVIDIA device plugin and driver on those nodes: kubectl "
                    "-n kube-system get pods -o wide --field-selector spec.nodeName=NODE",
                )
            )
        if efa_problems:
            rows.append(
                fail(
                    name,
                    "; ".join(efa_problems),
                    "check aws-efa-k8s-device-plugin on those nodes and that their "
                    "launch template attaches EFA interfaces on every network card",
                )
            )
        if unknown:
            rows.append(
                warn(
                    name,
                    f"instance types not in the kit's table, not checked: {', '.join(unknown)}",
                    "add them to core/instances.py",
                )
            )
        if not (gpu_problems or efa_problems or unknown):
            what = "all GPUs and EFA devices" if any(_labels(n).get(EFA_LABEL) == "true" for n in nodes) else "all GPUs"
            rows.append(ok(name, f"{what} advertised on {len(nodes)} node{'s' if len(nodes) > 1 else ''}"))
    return rows or [skip("pools", "no GPU node pools and no GPU nodes")]


def karpenter(cluster: Cluster) -> list[Check]:
    namespace, name = KARPENTER
    try:
        deployment = cluster.apps.read_namespaced_deployment(name, namespace, _request_timeout=cluster.timeout)
    except ApiException as exc:
        if exc.status != 404:
            raise
        return [
            fail(
                "karpenter",
                f"no deployment {namespace}/{name}",
                "deploy the cluster stack (it installs the Karpenter chart); kubectl -n kube-system get deploy",
            )
        ]
    wanted = deployment.spec.replicas if deployment.spec and deployment.spec.replicas is not None else 1
    available = (deployment.status.available_replicas if deployment.status else None) or 0
    logs = f"kubectl -n {namespace} describe deploy {name}; kubectl -n {namespace} logs deploy/{name}"
    if available == 0:
        return [fail("karpenter", f"0 of {wanted} replicas available: no GPU node can launch", logs)]
    if available < wanted:
        return [warn("karpenter", f"{available} of {wanted} replicas available", logs)]
    return [ok("karpenter", f"{available} of {wanted} replicas available")]


def _needs(cluster: Cluster) -> dict[str, bool]:
    """Which device plugins the cluster needs, from the NodePools' node labels and the running nodes."""
    labels = [_labels(node) for node in cluster.nodes()] + [item["template_labels"] for item in cluster.known_nodepools()]
    gpu = [lab for lab in labels if lab.get(POOL_LABEL, SYSTEM_POOL) != SYSTEM_POOL]
    return {"al2023": any(lab.get(AMI_FAMILY_LABEL) == "al2023" for lab in gpu), "efa": any(lab.get(EFA_LABEL) == "true" for lab in gpu)}


def device_plugins(cluster: Cluster) -> list[Check]:
    needs = _needs(cluster)
    daemonsets = None
    rows = []
    for prefix, pools, need in DEVICE_PLUGINS:
        name = f"daemonset[{prefix}]"
        if not needs[need]:
            rows.append(
                skip(name, f"no {pools} (Bottlerocket nodes run the NVIDIA plugin themselves)" if need == "al2023" else f"no {pools}")
            )
            continue
        if daemonsets is None:
            daemonsets = cluster.apps.list_namespaced_daemon_set("kube-system", _request_timeout=cluster.timeout).items
        found = next((ds for ds in daemonsets if ds.metadata.name.startswith(prefix)), None)
        if found is None:
            rows.append(
                fail(
                    name,
                    f"the cluster has {pools} but no {prefix} DaemonSet in kube-system",
                    "deploy the cluster stack, which installs the chart; kubectl -n kube-system get ds",
                )
            )
            continue
        desired, ready = found.status.desired_number_scheduled or 0, found.status.number_ready or 0
        if ready < desired:
            rows.append(
                fail(
                    name,
                    f"{found.metadata.name}: {ready} of {desired} pods ready",
                    f"kubectl -n kube-system get pods -o wide | grep {prefix}; describe the pods that are not ready",
                )
            )
        else:
            rows.append(ok(name, f"{found.metadata.name}: {ready} of {desired} pods ready"))
    return rows


def nodepools(cluster: Cluster) -> list[Check]:
    try:
        items = cluster.nodepools()
    except ApiException as exc:
        if exc.status != 404:
            raise
        return [
            fail(
                "nodepools",
                "the API has no karpenter.sh/v1 NodePools: the Karpenter CRDs are missing",
                "deploy the cluster stack, which installs the Karpenter chart and its CRDs",
            )
        ]
    if not items:
        return [warn("nodepools", "no Karpenter NodePools: nothing can launch GPU nodes", "add node_pools to the config and deploy")]
    rows = []
    for item in items:
        name = f"nodepool[{item['name']}]"
        ready = item["ready"]
        if ready and ready.get("status") == "True":
            rows.append(ok(name, "Ready"))
        else:
            why = f"{ready.get('reason')}: {ready.get('message')}" if ready else "no Ready condition yet"
            rows.append(
                fail(
                    name,
                    f"not Ready ({why})",
                    f"kubectl describe nodepool {item['name']}; its EC2NodeClass must be Ready too (kubectl get ec2nodeclasses)",
                )
            )
    return rows
