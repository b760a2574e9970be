"""The KubeRay operator, installed by the cluster stack while a ray-serve workload is enabled, and what it needs to
reach: the Ray head's dashboard (Serve's REST API, where it submits serveConfigV2 and reads the apps' status) and
the head's Serve proxy (its health decides the head's ray.io/serve label).

Chart values read in ray-project/kuberay v1.7.0 helm-chart/kuberay-operator (values.yaml, templates/deployment.yaml,
role.yaml, multiple_namespaces_role.yaml):
- watchNamespace: the operator's --watch-namespace; its manager caches and reconciles that namespace only
  (ray-operator/main.go DefaultNamespaces).
- singleNamespaceInstall stays false: it would put the operator's Role in the watched namespace, which the kit creates
  later, in the workloads stack (the chart would fail to install). The chart's ClusterRole stays; the rights the
  operator uses are bounded by what it watches.
- The container securityContext of the chart already meets the restricted Pod Security Standard (non-root, no
  privilege escalation, every capability dropped, RuntimeDefault seccomp, read-only root); the pod's is added.
- CRDs (rayclusters, rayjobs, rayservices, raycronjobs) come from the chart's crds/, which Helm applies before the
  templates on install (and never upgrades: a chart bump that changes them needs them applied by hand).
"""

from __future__ import annotations

from typing import Any

from blueprints.ray_serve.serve_config import SERVE_PORT
from core.isolation import namespace_peer
from core.labels import SYSTEM_POOL_LABEL
from core.requirements import ControllerChart, ControllerFlows
from core.versions import KUBERAY

NAMESPACE = "kuberay-system"
NAME_LABEL = {"app.kubernetes.io/name": "kuberay-operator"}
"""The operator pods' label (chart nameOverride: kuberay-operator, templates/deployment.yaml)."""
DASHBOARD_PORT = 8265
HEAD_LABEL = {"ray.io/node-type": "head"}
"""The label KubeRay gives every Ray head pod (ray-operator/controllers/ray/common/pod.go labelPod)."""


def kuberay_controller(watch_namespace: str) -> ControllerChart:
    return ControllerChart(
        name="kuberay",
        chart="kuberay-operator",
        pin=KUBERAY,
        release="kuberay-operator",
        namespace=NAMESPACE,
        values={
            "nodeSelector": dict(SYSTEM_POOL_LABEL),
            "watchNamespace": [watch_namespace],
            "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        },
        crds=("rayservices.ray.io", "rayclusters.ray.io"),
        pod_security="restricted",
        flows=(
            # No webhook; metrics and probes on 8080, scraped by nothing of the kit. The operator calls each Ray head
            # it manages: the dashboard's Serve API and the head's Serve proxy health.
            ControllerFlows(
                read_at="1.7.1",
                pods=dict(NAME_LABEL),
                to_workloads=((HEAD_LABEL, (DASHBOARD_PORT, SERVE_PORT)),),
                evidence="ray-project/kuberay v1.7.0 helm-chart/kuberay-operator (app.kubernetes.io/name: "
                "kuberay-operator); ray-operator utils/constant.go DefaultDashboardPort 8265, rayservice_controller.go "
                "updateHeadPodServeLabel (Serve proxy health on 8000), common/pod.go labelPod (ray.io/node-type: head)",
            ),
        ),
    )


def operator_peer() -> dict[str, Any]:
    """The operator's pods, and no other pod of its namespace."""
    return {**namespace_peer(NAMESPACE), "podSelector": {"matchLabels": dict(NAME_LABEL)}}
