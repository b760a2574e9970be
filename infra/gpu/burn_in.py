"""A burn-in DaemonSet per pool with burn_in (one per instance type where a pool has several): it runs once on each
new node, while the startup taint keeps workloads off, and ends with the node labelled passed (taint lifted) or
failed (cordoned, taint kept).

Init containers hold every GPU (and, on EFA pools, every EFA interface) of the node while they test it; each
leaves its exit code and output in a shared folder and exits 0, so the verdict always runs:
  dcgm         dcgmi diag -r <level> -j (dcgmi starts an embedded host engine when none listens)
  all-reduce   nccl-tests all_reduce_perf over the node's GPUs (NVLink or PCIe), on multi-GPU nodes
  efa          the same with NCCL's peer-to-peer and shared-memory paths off and NCCL_NET naming the OFI plugin,
               so every byte crosses EFA and a node whose EFA does not work fails instead of using sockets
The verdict (a Python standard-library program) labels, untaints or cordons the node and records an Event; it
alone holds an API token. The DaemonSet selects only nodes without a verdict, so the label ends the pod and frees
the GPUs.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from core import burn_in
from core.burn_in import FAILED, PASSED, RESULT_LABEL
from core.burn_in_thresholds import min_bus_bandwidth, min_efa_bus_bandwidth
from core.instances import InstanceFacts, known
from core.isolation import pod_security_labels
from core.labels import EFA_RESOURCE, GPU_RESOURCE, GPU_TAINT, PART_OF, POOL_LABEL
from core.images import IMAGES
from infra.cluster.rbac import account_with_cluster_role
from infra.gpu import burn_in_verdict, kube_api
from infra.gpu.pool_props import BurnInProps, NodePoolProps

NAMESPACE = "gpu-burn-in"
NAME = "gpu-burn-in"
RESULTS = "/results"
LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": PART_OF}
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
TOKEN_DIR = kube_api.SERVICE_ACCOUNT
EVENTS_NAMESPACE = "default"
"""Where the verdict records its Events (the namespace of events about nodes, as the kubelet records them)."""

# The image is the kit's (images/nccl-tests-efa/Dockerfile): the serving image with nccl-tests built as AWS builds its
# own (awslabs/awsome-distributed-training micro-benchmarks/nccl-tests): MPI=1 against /opt/amazon/openmpi, and its examples
# (kubernetes/nccl-tests.yaml, slurm/nccl-tests-container.sbatch) run one rank per GPU (`-g 1`) under mpirun
# --allow-run-as-root --bind-to none. One node needs no hostfile: mpirun starts every rank itself. The image's ENV
# already sets the Open MPI transport (OMPI_MCA_pml=^ucx, btl=tcp,self). One process per GPU is also how the serving
# engines drive NCCL; a singleton with -g N would test a single process holding all GPUs.
MPIRUN = "/opt/amazon/openmpi/bin/mpirun --allow-run-as-root --bind-to none -np {gpus}"
ALL_REDUCE = "/opt/nccl-tests/build/all_reduce_perf -b 256M -e 4G -f 2 -g 1"
TIMEOUTS_S = {"dcgm": 1800, "all-reduce": 900}
"""A hung check becomes a failure (exit 124) instead of a node stuck in burn-in."""

# Over EFA on one node (NCCL 2.30.7, aws-ofi-nccl 1.21.1, the versions in the image; the plugin's OFI naming and its
# libnccl-net-ofi.so read again at v1.21.1):
#   NCCL_NET=OFI          NCCL assigns a communicator only the network whose name matches (src/plugin/net.cc); the
#                         plugin names itself "OFI" when NCCL_NET says so (src/nccl_ofi_interface_nvidia.cpp). When
#                         EFA does not come up the plugin is disabled and neither IB nor Socket matches, so NCCL
#                         fails ("Failed to initialize any NET plugin") instead of falling back to sockets, which
#                         platform-aws.cpp says it otherwise does.
#   NCCL_NET_PLUGIN=ofi   NCCL opens libnccl-net-ofi.so (src/plugin/plugin_open.cc), which the plugin always installs;
#                         the default libnccl-net.so is only an optional symlink (src/Makefile.am).
#   FI_PROVIDER=efa       libfabric offers the efa provider alone (the plugin's default filter on EC2, made explicit).
#   FI_EFA_USE_HUGE_PAGE=0  the pod requests no hugepages (a node may have none); the plugin's EFA cheat sheet
#                         (doc/efa-env-var.md) lists it as a minor cost.
#   P2P, SHM and NVLS off so no byte takes NVLink or host memory.
# Not set: FI_EFA_USE_DEVICE_RDMA (the cheat sheet: not needed from libfabric 1.18 and plugin 1.7; on p4d, p5, p5e,
# p5en and p6 the plugin itself refuses to run without GPUDirect RDMA, platform-aws.cpp gdr_required).
OVER_EFA = {
    "NCCL_NET": "OFI",
    "NCCL_NET_PLUGIN": "ofi",
    "FI_PROVIDER": "efa",
    "FI_EFA_USE_HUGE_PAGE": "0",
    "NCCL_P2P_DISABLE": "1",
    "NCCL_SHM_DISABLE": "1",
    "NCCL_NVLS_ENABLE": "0",
}


def _all_reduce(name: str, gpus: int, env: dict[str, str] | None = None) -> str:
    """Run all_reduce_perf, keep its output, exit code and average bus bandwidth; exit 0 so the verdict runs."""
    exported = "".join(f" -x {key}={value}" for key, value in (env or {}).items())
    run = f"timeout --kill-after=30 {TIMEOUTS_S['all-reduce']} {MPIRUN.format(gpus=gpus)}{exported} {ALL_REDUCE}"
    bandwidth = f"grep -o 'Avg bus bandwidth *: *[0-9.]*' {name}.log | awk '{{print $NF}}' > {name}.busbw"
    return f"cd {RESULTS}; {run} > {name}.log 2>&1; echo $? > {name}.rc; {bandwidth}; exit 0"


# Root, with every capability dropped. dcgmi diag levels 1-2 need neither: DCGM runs its diagnostic under an
# unprivileged service account where one is configured (hostengine --service-account; modules/diag/DcgmDiagManager.cpp
# needs root only for the EUD tests of levels 3-4), and DCGM reads MIG state only as root (DcgmCacheManager.cpp). The
# one profiling field a level-2 test watches only names a broken P2P link NVLink or PCIe; without CAP_SYS_ADMIN the
# watch fails and the test carries on (nvvs/plugin_src/pcie, DCGM v4.5.3). mpirun refuses root without
# --allow-run-as-root; the image has no other user.
ROOT_WITHOUT_CAPABILITIES = {"runAsUser": 0, "runAsNonRoot": False, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def check_containers(settings: BurnInProps, instance: InstanceFacts, efa: bool) -> list[dict]:
    gpus = instance.gpus
    limits = {GPU_RESOURCE: str(gpus)}
    if efa:
        limits[EFA_RESOURCE] = str(instance.efa_interfaces)
    mounts = [{"name": "results", "mountPath": RESULTS}, {"name": "shm", "mountPath": "/dev/shm"}]
    dcgm_resources = {"requests": {**limits, "cpu": "2", "memory": "8Gi"}, "limits": {**limits, "memory": "16Gi"}}
    # One rank per GPU, each with its CUDA context: the image's MPIJob example gives 8 ranks 32000Mi.
    nccl_resources = {"requests": {**limits, "cpu": "2", "memory": "16Gi"}, "limits": {**limits, "memory": "32Gi"}}
    # -j prints the report on stdout, as JSON for the verdict.
    dcgm_command = (
        f"cd {RESULTS}; timeout --kill-after=30 {TIMEOUTS_S['dcgm']} dcgmi diag -r {settings.dcgm_level} -j > dcgm.json 2> dcgm.log; "
        "echo $? > dcgm.rc; exit 0"
    )
    containers = [
        {
            "name": "dcgm",
            "image": IMAGES["dcgm"].reference,
            "command": ["bash", "-c", dcgm_command],
            "resources": dcgm_resources,
            "volumeMounts": mounts,
            "securityContext": ROOT_WITHOUT_CAPABILITIES,
        }
    ]
    if settings.all_reduce and gpus > 1:
        runs = [("all-reduce", "nvlink", None)] + ([("efa", "efa", OVER_EFA)] if efa else [])
        containers += [
            {
                "name": name,
                "image": IMAGES["nccl-tests-efa"].reference,
                "command": ["bash", "-c", _all_reduce(result, gpus, env)],
                "resources": nccl_resources,
                "volumeMounts": mounts,
                "securityContext": ROOT_WITHOUT_CAPABILITIES,
            }
            for name, result, env in runs
        ]
    return containers


def _token_volume() -> dict:
    """The verdict's API credentials, projected into its container alone (the pod mounts no token otherwise)."""
    return {
        "name": "api-token",
        "projected": {
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
            ]
        },
    }


def daemon_set(pool: NodePoolProps, settings: BurnInProps, instance_type: str, name: str) -> dict:
    capacity = pool.capacity
    instance = known(instance_type)
    if instance is None:  # the config checks refuse unknown types
        raise ValueError(f"no facts for {instance_type} in core/instances.py")
    efa = capacity.efa and instance.efa
    runs = settings.all_reduce and instance.gpus > 1
    nvlink = min_bus_bandwidth(instance.gpu, settings.min_bus_bandwidth_gb_s) if runs else None
    over_efa = min_efa_bus_bandwidth([instance_type], settings.min_efa_bus_bandwidth_gb_s) if runs and efa else None
    tolerations = [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}]
    tolerations += [{"key": taint.key, "operator": "Exists"} for taint in (*capacity.startup_taints, *capacity.extra_taints)]
    selector = {"app.kubernetes.io/name": NAME, "llm-kit/pool": pool.name}
    match = [
        {"key": POOL_LABEL, "operator": "In", "values": [pool.name]},
        # Once judged, the node leaves the DaemonSet and the pod (with its GPUs) goes.
        {"key": RESULT_LABEL, "operator": "NotIn", "values": [PASSED, FAILED]},
    ]
    if len(capacity.instance_types) > 1:  # each type gets the GPUs and EFA interfaces it has
        match.append({"key": INSTANCE_TYPE_LABEL, "operator": "In", "values": [instance_type]})
        selector["llm-kit/instance-type"] = instance_type
    pod = {
        "serviceAccountName": NAME,
        # Only the verdict talks to the API: its container alone mounts a token (the api-token volume).
        "automountServiceAccountToken": False,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "priorityClassName": "system-node-critical",
        "tolerations": tolerations,
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": match}]}}
        },
        "initContainers": check_containers(settings, instance, efa),
        "containers": [
            {
                "name": "verdict",
                "image": IMAGES["python"].reference,
                "command": ["python", "/program/burn_in_verdict.py"],
                "env": [
                    {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "MIN_BUS_BANDWIDTH_NVLINK", "value": "" if nvlink is None else str(nvlink)},
                    {"name": "MIN_BUS_BANDWIDTH_EFA", "value": "" if over_efa is None else str(over_efa)},
                    {"name": "RESULTS", "value": RESULTS},
                    {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
                ],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                "volumeMounts": [
                    {"name": "results", "mountPath": RESULTS, "readOnly": True},
                    {"name": "program", "mountPath": "/program", "readOnly": True},
                    {"name": "api-token", "mountPath": TOKEN_DIR, "readOnly": True},
                ],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": IMAGES["python"].run_as,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": True,
                },
            }
        ],
        "volumes": [
            {"name": "results", "emptyDir": {}},
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
            {"name": "program", "configMap": {"name": NAME}},
            _token_volume(),
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {**LABELS, "llm-kit/pool": pool.name}},
        "spec": {"selector": {"matchLabels": selector}, "template": {"metadata": {"labels": {**LABELS, **selector}}, "spec": pod}},
    }


def daemon_sets(pool: NodePoolProps, settings: BurnInProps) -> list[dict]:
    """One DaemonSet for a pool of one instance type; one per type where a pool has several (p5e and p5en differ
    in EFA interfaces, p5.4xlarge and p5.48xlarge in GPUs)."""
    types = pool.capacity.instance_types
    if len(types) == 1:
        return [daemon_set(pool, settings, types[0], f"{NAME}-{pool.name}")]
    return [daemon_set(pool, settings, kind, f"{NAME}-{pool.name}-{kind.replace('.', '-')}") for kind in types]


def burn_in_objects(pools: Sequence[NodePoolProps]) -> list[dict]:
    """The burn-in of every pool with burn_in: its namespace, account, verdict program and DaemonSets; none without."""
    chosen = [(pool, pool.burn_in) for pool in pools if pool.burn_in is not None]
    if not chosen:
        return []
    # Nodes are cluster-scoped and cannot be named ahead: the verdict may read and patch any node; Events only in the
    # namespace where it records them.
    rules = [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "patch"]}]
    events = [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": NAME, "namespace": EVENTS_NAMESPACE, "labels": LABELS},
            "rules": [{"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": NAME, "namespace": EVENTS_NAMESPACE, "labels": LABELS},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        },
    ]
    program = {
        "burn_in_verdict.py": inspect.getsource(burn_in_verdict),
        "burn_in.py": inspect.getsource(burn_in),
        "kube_api.py": inspect.getsource(kube_api),
    }
    return [
        # Baseline: the checks run as root but without any capability, host path or privilege.
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE, "labels": {**LABELS, **pod_security_labels("baseline")}}},
        *account_with_cluster_role(NAME, NAMESPACE, LABELS, rules),
        *events,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": LABELS}, "data": program},
        *(ds for pool, settings in chosen for ds in daemon_sets(pool, settings)),
    ]
