"""NVIDIA Dynamo serving vLLM: one DynamoGraphDeployment, plus a Service and budget for its frontend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from blueprints.common import objects
from blueprints.common.k8s_types import DynamoGraphDeploymentSpec
from blueprints.common.placement import Placement
from blueprints.dynamo import components
from blueprints.dynamo.components import BLUEPRINT, FRONTEND_PORT
from blueprints.dynamo.params import DynamoWorkload

if TYPE_CHECKING:
    import cdk8s
    from constructs import Construct

# The CRD serves v1alpha1 (deprecated, with a warning on every apply) and v1beta1, its storage version.
# v1beta1 is what the operator reconciles without conversion, and what the manifests are validated against.
API_VERSION = "nvidia.com/v1beta1"


def dynamo_chart(scope: Construct, workload: DynamoWorkload, placement: Placement) -> cdk8s.Chart:
    chart = objects.new_chart(scope, workload.name, placement.namespace)
    name = workload.name
    graph = [components.frontend(workload, placement)]
    graph += [components.worker(workload, placement, role) for role in workload.role_replicas()]
    spec: DynamoGraphDeploymentSpec = {"backendFramework": "vllm", "components": graph}
    objects.api_object(
        chart,
        "graph",
        api_version=API_VERSION,
        kind="DynamoGraphDeployment",
        name=name,
        labels_=objects.labels(name, BLUEPRINT),
        body={"spec": spec},
    )
    # The operator creates <name>-frontend too; this Service gives every blueprint the same address: <name>:8000.
    frontend = components.role_selector(name, "frontend")
    objects.service(
        chart, name, BLUEPRINT, frontend, [{"name": "http", "port": FRONTEND_PORT, "targetPort": FRONTEND_PORT}], health_path="/health"
    )
    objects.disruption_budget(chart, name, BLUEPRINT, frontend, workload.frontend_replicas)
    # The operator makes the workers' pods from the templates above, labels included: budget them per role too.
    for role, count in workload.role_replicas().items():
        objects.disruption_budget(chart, name, BLUEPRINT, components.role_selector(name, role), count, suffix=f"-{role}")
    return chart
