"""In-cluster controllers installed only while an enabled workload needs them (pinned Helm charts)."""

from __future__ import annotations

from aws_cdk import aws_eks_v2 as eks
from constructs import Construct, IDependable

from infra.cluster.storage_class import DEFAULT_STORAGE_CLASS
from infra.cluster.system_nodes import SYSTEM_POOL_LABEL
from infra.versions import DYNAMO_PLATFORM, LEADER_WORKER_SET
from infra.cluster.helm import install_chart

def _on_system_nodes() -> dict:
    [(key, value)] = SYSTEM_POOL_LABEL.items()
    term = {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


CONTROLLERS = {
    # LeaderWorkerSet: groups of pods (one leader, N-1 workers) scheduled and restarted as a unit.
    "lws": dict(chart="lws", pin=LEADER_WORKER_SET, release="lws", namespace="lws-system", values={"nodeSelector": SYSTEM_POOL_LABEL}),
    # NVIDIA Dynamo platform: the operator and CRDs behind DynamoGraphDeployment.
    "dynamo": dict(
        chart="dynamo-platform",
        pin=DYNAMO_PLATFORM,
        release="dynamo-platform",
        namespace="dynamo-system",
        values={
            # The operator's Deployment reads affinity (not nodeSelector); keep it on the system nodes.
            "dynamo-operator": {"controllerManager": {"affinity": _on_system_nodes()}},
            "nats": {"config": {"jetstream": {"fileStore": {"pvc": {"storageClassName": DEFAULT_STORAGE_CLASS}}}}},
        },
    ),
}


class Controllers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, cluster: eks.Cluster, names: set[str], after: IDependable) -> None:
        super().__init__(scope, construct_id)
        self.charts: dict[str, eks.HelmChart] = {}
        for name in sorted(names):
            spec = CONTROLLERS[name]
            chart = install_chart(
                cluster, f"Controller-{name}", chart=spec["chart"], pin=spec["pin"], release=spec["release"], namespace=spec["namespace"], wait=True, values=spec["values"]
            )
            chart.node.add_dependency(after)
            self.charts[name] = chart
